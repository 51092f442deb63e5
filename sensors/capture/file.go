package capture

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"sync/atomic"
	"time"

	"github.com/google/gopacket/layers"
)

// Limits on what a capture file may claim. A record beyond them is not a
// packet anyone captured: the file is corrupt, and reading stops with
// ErrFormat instead of allocating what it asks for.
const (
	// MaxRecord is the largest packet record accepted (jumbo frames,
	// reassembled LRO/GRO segments as some captures hold them).
	MaxRecord = 256 << 10
	// maxBlock is the largest pcapng block accepted.
	maxBlock = MaxRecord + 64<<10
	// maxInterfaces bounds pcapng interface descriptions per section.
	maxInterfaces = 1024
)

const (
	pcapMagicMicro = 0xa1b2c3d4
	pcapMagicNano  = 0xa1b23c4d
	ngSHB          = 0x0a0d0d0a
	ngByteOrder    = 0x1a2b3c4d
	ngIDB          = 0x00000001
	ngOPB          = 0x00000002 // obsolete packet block
	ngSPB          = 0x00000003
	ngISB          = 0x00000005
	ngEPB          = 0x00000006
)

// FileSource reads a pcap or pcapng capture. It implements Source.
type FileSource struct {
	r      *bufio.Reader
	closer io.Closer
	ng     bool
	bo     binary.ByteOrder
	buf    []byte

	// pcap
	nano     bool
	linkType layers.LinkType

	// pcapng: interfaces of the current section
	ifaces []ngInterface

	packets, bytes, skipped, drops atomic.Uint64
	closed                         atomic.Bool
}

type ngInterface struct {
	linkType layers.LinkType
	// timestamp resolution: units per second as a power (10^n or 2^n)
	tsDiv  uint64 // units per second
	offset int64  // seconds added to every timestamp
	drops  uint64 // last isb_ifdrop seen
}

var _ Source = (*FileSource)(nil)

// OpenFile opens a pcap or pcapng file; the format is told by its first bytes.
func OpenFile(path string) (*FileSource, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open capture: %w", err)
	}
	s, err := NewReader(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("open capture %s: %w", path, err)
	}
	s.closer = f
	return s, nil
}

// NewReader reads a pcap or pcapng stream. Close does not close r.
func NewReader(r io.Reader) (*FileSource, error) {
	s := &FileSource{r: bufio.NewReaderSize(r, 256<<10), buf: make([]byte, 0, 64<<10)}
	head, err := s.r.Peek(4)
	if err != nil {
		return nil, fmt.Errorf("%w: no file header: %v", ErrFormat, err)
	}
	switch {
	case binary.LittleEndian.Uint32(head) == ngSHB:
		s.ng = true
		s.bo = binary.LittleEndian // fixed by the first section header
		return s, nil
	case binary.LittleEndian.Uint32(head) == pcapMagicMicro:
		s.bo = binary.LittleEndian
	case binary.BigEndian.Uint32(head) == pcapMagicMicro:
		s.bo = binary.BigEndian
	case binary.LittleEndian.Uint32(head) == pcapMagicNano:
		s.bo, s.nano = binary.LittleEndian, true
	case binary.BigEndian.Uint32(head) == pcapMagicNano:
		s.bo, s.nano = binary.BigEndian, true
	default:
		return nil, fmt.Errorf("%w: unknown magic %x", ErrFormat, head)
	}
	var hdr [24]byte
	if _, err := io.ReadFull(s.r, hdr[:]); err != nil {
		return nil, fmt.Errorf("%w: short pcap header: %v", ErrFormat, err)
	}
	// The upper bits of the link type carry FCS information (pcap-linktype(7)).
	s.linkType = layers.LinkType(s.bo.Uint32(hdr[20:24]) & 0x0fffffff)
	return s, nil
}

// LinkType returns the link type of a pcap file, or of the first interface
// of a pcapng file once a packet was read (0 before).
func (s *FileSource) LinkType() layers.LinkType {
	if s.ng {
		if len(s.ifaces) > 0 {
			return s.ifaces[0].linkType
		}
		return 0
	}
	return s.linkType
}

// ReadPacket implements Source.
func (s *FileSource) ReadPacket() (Packet, error) {
	if s.closed.Load() {
		return Packet{}, ErrClosed
	}
	var (
		p   Packet
		err error
	)
	if s.ng {
		p, err = s.readNg()
	} else {
		p, err = s.readPcap()
	}
	if err == nil {
		s.packets.Add(1)
		s.bytes.Add(uint64(len(p.Data)))
	}
	return p, err
}

func (s *FileSource) readPcap() (Packet, error) {
	var hdr [16]byte
	if _, err := io.ReadFull(s.r, hdr[:]); err != nil {
		if err == io.EOF {
			return Packet{}, io.EOF
		}
		return Packet{}, fmt.Errorf("%w: short record header: %v", ErrFormat, err)
	}
	sec := int64(s.bo.Uint32(hdr[0:4]))
	frac := int64(s.bo.Uint32(hdr[4:8]))
	caplen := s.bo.Uint32(hdr[8:12])
	wirelen := s.bo.Uint32(hdr[12:16])
	if caplen > MaxRecord {
		return Packet{}, fmt.Errorf("%w: record of %d bytes", ErrFormat, caplen)
	}
	data, err := s.read(int(caplen))
	if err != nil {
		return Packet{}, err
	}
	var ts time.Time
	if s.nano {
		ts = time.Unix(sec, frac%1e9)
	} else {
		ts = time.Unix(sec, (frac%1e6)*1000)
	}
	if wirelen < caplen {
		wirelen = caplen
	}
	return Packet{Data: data, Info: CaptureInfo{
		Timestamp: ts, CaptureLength: int(caplen), Length: int(wirelen), LinkType: s.linkType,
	}}, nil
}

// read reads n bytes into the reused buffer.
func (s *FileSource) read(n int) ([]byte, error) {
	if cap(s.buf) < n {
		s.buf = make([]byte, n, n+n/4)
	}
	b := s.buf[:n]
	if _, err := io.ReadFull(s.r, b); err != nil {
		return nil, fmt.Errorf("%w: truncated record: %v", ErrFormat, err)
	}
	return b, nil
}

func (s *FileSource) readNg() (Packet, error) {
	for {
		var hdr [8]byte
		if _, err := io.ReadFull(s.r, hdr[:]); err != nil {
			if err == io.EOF {
				return Packet{}, io.EOF
			}
			return Packet{}, fmt.Errorf("%w: short block header: %v", ErrFormat, err)
		}
		typ := s.bo.Uint32(hdr[0:4])
		if typ == ngSHB {
			// A new section may switch byte order: read the byte-order magic first.
			var bom [4]byte
			if _, err := io.ReadFull(s.r, bom[:]); err != nil {
				return Packet{}, fmt.Errorf("%w: short section header: %v", ErrFormat, err)
			}
			switch {
			case binary.LittleEndian.Uint32(bom[:]) == ngByteOrder:
				s.bo = binary.LittleEndian
			case binary.BigEndian.Uint32(bom[:]) == ngByteOrder:
				s.bo = binary.BigEndian
			default:
				return Packet{}, fmt.Errorf("%w: bad pcapng byte-order magic %x", ErrFormat, bom)
			}
			blen := s.bo.Uint32(hdr[4:8])
			if blen < 28 || blen > maxBlock || blen%4 != 0 {
				return Packet{}, fmt.Errorf("%w: section header of %d bytes", ErrFormat, blen)
			}
			if _, err := s.read(int(blen) - 12); err != nil {
				return Packet{}, err
			}
			s.ifaces = s.ifaces[:0]
			continue
		}
		blen := s.bo.Uint32(hdr[4:8])
		if blen < 12 || blen > maxBlock || blen%4 != 0 {
			return Packet{}, fmt.Errorf("%w: block of %d bytes", ErrFormat, blen)
		}
		body, err := s.read(int(blen) - 8)
		if err != nil {
			return Packet{}, err
		}
		body = body[:len(body)-4] // trailing length
		switch typ {
		case ngIDB:
			if err := s.addInterface(body); err != nil {
				return Packet{}, err
			}
		case ngEPB, ngOPB:
			p, ok := s.enhanced(typ, body)
			if !ok {
				s.skipped.Add(1)
				continue
			}
			return p, nil
		case ngSPB:
			if len(body) < 4 || len(s.ifaces) == 0 {
				s.skipped.Add(1)
				continue
			}
			wire := s.bo.Uint32(body[0:4])
			data := body[4:]
			if uint32(len(data)) > wire {
				data = data[:wire]
			}
			return Packet{Data: data, Info: CaptureInfo{
				CaptureLength: len(data), Length: int(wire), LinkType: s.ifaces[0].linkType,
			}}, nil
		case ngISB:
			s.interfaceStats(body)
		}
	}
}

func (s *FileSource) addInterface(body []byte) error {
	if len(body) < 8 {
		return fmt.Errorf("%w: interface description of %d bytes", ErrFormat, len(body))
	}
	if len(s.ifaces) >= maxInterfaces {
		return fmt.Errorf("%w: more than %d interfaces", ErrFormat, maxInterfaces)
	}
	in := ngInterface{linkType: layers.LinkType(s.bo.Uint16(body[0:2])), tsDiv: 1e6}
	s.options(body[8:], func(code uint16, v []byte) {
		switch code {
		case 9: // if_tsresol
			if len(v) < 1 {
				return
			}
			r := v[0]
			var div uint64 = 1
			if r&0x80 != 0 {
				if r&0x7f > 63 {
					return
				}
				div = 1 << (r & 0x7f)
			} else {
				if r > 19 {
					return
				}
				for range r {
					div *= 10
				}
			}
			in.tsDiv = div
		case 14: // if_tsoffset
			if len(v) >= 8 {
				in.offset = int64(s.bo.Uint64(v))
			}
		}
	})
	s.ifaces = append(s.ifaces, in)
	return nil
}

// options walks a pcapng option list.
func (s *FileSource) options(b []byte, f func(code uint16, v []byte)) {
	for len(b) >= 4 {
		code, n := s.bo.Uint16(b[0:2]), int(s.bo.Uint16(b[2:4]))
		if code == 0 {
			return
		}
		b = b[4:]
		if n > len(b) {
			return
		}
		f(code, b[:n])
		n = (n + 3) &^ 3
		if n > len(b) {
			return
		}
		b = b[n:]
	}
}

func (s *FileSource) enhanced(typ uint32, body []byte) (Packet, bool) {
	var (
		iface           int
		hi, lo          uint32
		caplen, wirelen uint32
		data            []byte
	)
	if typ == ngEPB {
		if len(body) < 20 {
			return Packet{}, false
		}
		iface = int(s.bo.Uint32(body[0:4]))
		hi, lo = s.bo.Uint32(body[4:8]), s.bo.Uint32(body[8:12])
		caplen, wirelen = s.bo.Uint32(body[12:16]), s.bo.Uint32(body[16:20])
		data = body[20:]
	} else {
		if len(body) < 20 {
			return Packet{}, false
		}
		iface = int(s.bo.Uint16(body[0:2]))
		hi, lo = s.bo.Uint32(body[4:8]), s.bo.Uint32(body[8:12])
		caplen, wirelen = s.bo.Uint32(body[12:16]), s.bo.Uint32(body[16:20])
		data = body[20:]
	}
	if iface >= len(s.ifaces) || uint64(caplen) > uint64(len(data)) {
		return Packet{}, false
	}
	in := s.ifaces[iface]
	data = data[:caplen]
	units := uint64(hi)<<32 | uint64(lo)
	sec := units / in.tsDiv
	rem := units % in.tsDiv
	nsec := rem * 1e9 / in.tsDiv
	if in.tsDiv > 1e9 { // finer than a nanosecond: avoid overflow of rem*1e9
		nsec = rem / (in.tsDiv / 1e9)
	}
	if sec > math.MaxInt64/2 {
		sec = 0
	}
	if wirelen < caplen {
		wirelen = caplen
	}
	return Packet{Data: data, Info: CaptureInfo{
		Timestamp:      time.Unix(int64(sec)+in.offset, int64(nsec)),
		CaptureLength:  int(caplen),
		Length:         int(wirelen),
		InterfaceIndex: iface,
		LinkType:       in.linkType,
	}}, true
}

func (s *FileSource) interfaceStats(body []byte) {
	if len(body) < 12 {
		return
	}
	iface := int(s.bo.Uint32(body[0:4]))
	if iface >= len(s.ifaces) {
		return
	}
	s.options(body[12:], func(code uint16, v []byte) {
		if code == 5 && len(v) >= 8 { // isb_ifdrop: cumulative
			d := s.bo.Uint64(v)
			if d > s.ifaces[iface].drops {
				s.drops.Add(d - s.ifaces[iface].drops)
				s.ifaces[iface].drops = d
			}
		}
	})
}

// Stats implements Source.
func (s *FileSource) Stats() Stats {
	return Stats{
		Packets:     s.packets.Load(),
		Bytes:       s.bytes.Load(),
		KernelDrops: s.drops.Load(),
		Skipped:     s.skipped.Load(),
	}
}

// Close implements Source. It closes the file opened by OpenFile.
func (s *FileSource) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	if s.closer != nil {
		return s.closer.Close()
	}
	return nil
}

// ReadAll reads every packet of a capture file into memory (copies), for
// benchmarks, tests and looping demos. It stops at the first malformed
// record and returns what it read with the error.
func ReadAll(path string) ([]Packet, error) {
	s, err := OpenFile(path)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	var out []Packet
	for {
		p, err := s.ReadPacket()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		p.Data = append([]byte(nil), p.Data...)
		out = append(out, p)
	}
}
