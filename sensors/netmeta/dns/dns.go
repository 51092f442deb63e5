// Package dns parses DNS messages (RFC 1035 and its successors) as they cross
// the wire, for the network sensor's dns events.
//
// Parse reads one message into a caller-owned Message, reusing its storage,
// so a sensor parses millions of messages without allocating. Everything a
// message claims is bounded: names are at most 255 bytes, compression pointers
// must point backwards and are followed at most MaxPointers times, and at most
// MaxQuestions questions and MaxAnswers answers are kept (the counts say how
// many the message claimed). A malformed message returns an error wrapping
// ErrMalformed; what was read before the fault stays in the Message.
//
// This package imports only the standard library.
package dns

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"net/netip"
	"strconv"
)

// Bounds on what Parse keeps.
const (
	MaxQuestions = 16
	MaxAnswers   = 64
	MaxPointers  = 64  // compression pointers followed per name
	maxName      = 255 // RFC 1035 2.3.4
	maxData      = 512 // bytes of rendered answer data kept per answer
)

// ErrMalformed is wrapped by every parse error.
var ErrMalformed = errors.New("dns: malformed message")

// Question is one entry of the question section.
type Question struct {
	Name  string
	Type  uint16
	Class uint16
}

// Answer is one resource record of the answer section.
type Answer struct {
	Name  string
	Type  uint16
	Class uint16
	TTL   uint32
	Data  string     // rendered rdata ("" when the type is not rendered)
	IP    netip.Addr // for A and AAAA
}

// Message is a parsed DNS message. Strings point into an arena owned by the
// Message and stay valid until the next Parse into it.
type Message struct {
	ID       uint16
	Response bool
	Opcode   uint8
	Flags    uint16 // the 16-bit flags word as sent
	Rcode    uint8  // header rcode (extended rcodes are not merged)

	QDCount, ANCount, NSCount, ARCount uint16

	Questions []Question
	Answers   []Answer

	arena []byte
	names []byte // scratch for one name
}

// Header flag bits.
const (
	FlagAA = 1 << 10
	FlagTC = 1 << 9
	FlagRD = 1 << 8
	FlagRA = 1 << 7
	FlagAD = 1 << 5
	FlagCD = 1 << 4
)

func malformed(what string) error { return &parseError{what} }

type parseError struct{ what string }

func (e *parseError) Error() string { return "dns: malformed message: " + e.what }
func (e *parseError) Unwrap() error { return ErrMalformed }

// Errors are preallocated: a flood of garbage must not allocate.
var (
	errShort     = malformed("shorter than its header")
	errName      = malformed("bad name")
	errPointer   = malformed("bad compression pointer")
	errLong      = malformed("name longer than 255 bytes")
	errTruncated = malformed("record runs past the end")
	errLabel     = malformed("reserved label type")
)

// Parse parses msg into m, replacing what m held. mdns reports that the
// message came over multicast DNS, where the top bit of a class is a flag.
func Parse(msg []byte, m *Message, mdns bool) error {
	m.Questions = m.Questions[:0]
	m.Answers = m.Answers[:0]
	m.arena = m.arena[:0]
	if len(msg) < 12 {
		return errShort
	}
	m.ID = binary.BigEndian.Uint16(msg[0:2])
	m.Flags = binary.BigEndian.Uint16(msg[2:4])
	m.Response = m.Flags&0x8000 != 0
	m.Opcode = uint8(m.Flags>>11) & 0xf
	m.Rcode = uint8(m.Flags & 0xf)
	m.QDCount = binary.BigEndian.Uint16(msg[4:6])
	m.ANCount = binary.BigEndian.Uint16(msg[6:8])
	m.NSCount = binary.BigEndian.Uint16(msg[8:10])
	m.ARCount = binary.BigEndian.Uint16(msg[10:12])
	// Reserve the arena once so that strings handed out are never moved by
	// a later append (they point into it).
	if cap(m.arena) < 4096 {
		m.arena = make([]byte, 0, 4096)
	}
	classMask := uint16(0xffff)
	if mdns {
		classMask = 0x7fff
	}
	off := 12
	for i := 0; i < int(m.QDCount); i++ {
		name, n, err := m.readName(msg, off)
		if err != nil {
			return err
		}
		off = n
		if off+4 > len(msg) {
			return errTruncated
		}
		q := Question{
			Name:  name,
			Type:  binary.BigEndian.Uint16(msg[off:]),
			Class: binary.BigEndian.Uint16(msg[off+2:]) & classMask,
		}
		off += 4
		if len(m.Questions) < MaxQuestions {
			m.Questions = append(m.Questions, q)
		}
	}
	for i := 0; i < int(m.ANCount); i++ {
		name, n, err := m.readName(msg, off)
		if err != nil {
			return err
		}
		off = n
		if off+10 > len(msg) {
			return errTruncated
		}
		a := Answer{
			Name:  name,
			Type:  binary.BigEndian.Uint16(msg[off:]),
			Class: binary.BigEndian.Uint16(msg[off+2:]) & classMask,
			TTL:   binary.BigEndian.Uint32(msg[off+4:]),
		}
		rdlen := int(binary.BigEndian.Uint16(msg[off+8:]))
		off += 10
		if off+rdlen > len(msg) {
			return errTruncated
		}
		if len(m.Answers) < MaxAnswers {
			m.render(&a, msg, off, rdlen)
			m.Answers = append(m.Answers, a)
		}
		off += rdlen
	}
	return nil
}

// intern copies b into the arena and returns it as a string that lives as
// long as the arena is not reset. When the arena is full the string is
// allocated on its own.
func (m *Message) intern(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if len(m.arena)+len(b) > cap(m.arena) {
		return string(b)
	}
	start := len(m.arena)
	m.arena = append(m.arena, b...)
	return unsafeString(m.arena[start:])
}

// readName reads a possibly compressed name at off and returns it in
// presentation form and the offset after it in the message.
func (m *Message) readName(msg []byte, off int) (string, int, error) {
	b := m.names[:0]
	end := -1 // offset after the name where it was first met
	ptrs := 0
	wire := 0 // wire length of the uncompressed name
	lowest := off
	for {
		if off >= len(msg) {
			return "", 0, errTruncated
		}
		c := int(msg[off])
		switch c & 0xc0 {
		case 0x00:
			if c == 0 {
				if end < 0 {
					end = off + 1
				}
				if len(b) == 0 {
					b = append(b, '.')
				}
				m.names = b
				return m.intern(b), end, nil
			}
			if off+1+c > len(msg) {
				return "", 0, errTruncated
			}
			wire += c + 1
			if wire > maxName {
				return "", 0, errLong
			}
			if len(b) > 0 {
				b = append(b, '.')
			}
			b = appendLabel(b, msg[off+1:off+1+c])
			off += 1 + c
		case 0xc0:
			if off+2 > len(msg) {
				return "", 0, errTruncated
			}
			ptr := int(binary.BigEndian.Uint16(msg[off:]) & 0x3fff)
			if end < 0 {
				end = off + 2
			}
			// A pointer must point before every label read so far, which
			// rules out loops; MaxPointers bounds the work.
			if ptr >= lowest || ptrs >= MaxPointers {
				return "", 0, errPointer
			}
			ptrs++
			lowest = ptr
			off = ptr
		default:
			return "", 0, errLabel
		}
	}
}

// appendLabel writes a label in presentation form: dots and backslashes in
// it escaped, bytes that are not printable ASCII as \DDD (RFC 4343).
func appendLabel(b, label []byte) []byte {
	for _, c := range label {
		switch {
		case c == '.' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x21 || c > 0x7e:
			b = append(b, '\\', '0'+c/100, '0'+c/10%10, '0'+c%10)
		default:
			b = append(b, c)
		}
	}
	return b
}

// render fills a.Data (and a.IP) from the rdata of common types.
func (m *Message) render(a *Answer, msg []byte, off, n int) {
	rd := msg[off : off+n]
	switch a.Type {
	case TypeA:
		if n == 4 {
			a.IP = netip.AddrFrom4([4]byte(rd))
			a.Data = m.internAddr(a.IP)
		}
	case TypeAAAA:
		if n == 16 {
			a.IP = netip.AddrFrom16([16]byte(rd))
			a.Data = m.internAddr(a.IP)
		}
	case TypeCNAME, TypeNS, TypePTR, TypeDNAME, TypeMB, TypeMD, TypeMF, TypeMG, TypeMR:
		if name, _, err := m.readName(msg, off); err == nil {
			a.Data = name
		}
	case TypeMX, TypeKX, TypeAFSDB, TypeRT:
		if n >= 3 {
			if name, _, err := m.readName(msg, off+2); err == nil {
				var buf [64]byte
				b := strconv.AppendUint(buf[:0], uint64(binary.BigEndian.Uint16(rd)), 10)
				b = append(b, ' ')
				a.Data = m.concat(b, name)
			}
		}
	case TypeSRV:
		if n >= 7 {
			if name, _, err := m.readName(msg, off+6); err == nil {
				var buf [64]byte
				b := strconv.AppendUint(buf[:0], uint64(binary.BigEndian.Uint16(rd)), 10)
				b = append(b, ' ')
				b = strconv.AppendUint(b, uint64(binary.BigEndian.Uint16(rd[2:])), 10)
				b = append(b, ' ')
				b = strconv.AppendUint(b, uint64(binary.BigEndian.Uint16(rd[4:])), 10)
				b = append(b, ' ')
				a.Data = m.concat(b, name)
			}
		}
	case TypeSOA:
		mname, p, err := m.readName(msg, off)
		if err != nil || p > off+n {
			return
		}
		rname, p2, err := m.readName(msg, p)
		if err != nil || p2+20 > off+n {
			return
		}
		b := make([]byte, 0, len(mname)+len(rname)+60)
		b = append(b, mname...)
		b = append(b, ' ')
		b = append(b, rname...)
		for i := 0; i < 5; i++ {
			b = append(b, ' ')
			b = strconv.AppendUint(b, uint64(binary.BigEndian.Uint32(msg[p2+4*i:])), 10)
		}
		a.Data = m.intern(b)
	case TypeTXT, TypeSPF:
		// character-strings, each quoted, as in a zone file
		b := m.names[:0]
		for len(rd) > 0 && len(b) < maxData {
			l := int(rd[0])
			if 1+l > len(rd) {
				break
			}
			if len(b) > 0 {
				b = append(b, ' ')
			}
			b = append(b, '"')
			for _, c := range rd[1 : 1+l] {
				switch {
				case c == '"' || c == '\\':
					b = append(b, '\\', c)
				case c < 0x20 || c > 0x7e:
					b = append(b, '\\', '0'+c/100, '0'+c/10%10, '0'+c%10)
				default:
					b = append(b, c)
				}
			}
			b = append(b, '"')
			rd = rd[1+l:]
		}
		m.names = b
		a.Data = m.intern(b)
	default:
		// RFC 3597 generic form, cut at maxData
		if n > maxData/2 {
			rd = rd[:maxData/2]
		}
		b := m.names[:0]
		b = append(b, `\# `...)
		b = strconv.AppendInt(b, int64(n), 10)
		if len(rd) > 0 {
			b = append(b, ' ')
			b = hex.AppendEncode(b, rd)
		}
		m.names = b
		a.Data = m.intern(b)
	}
}

func (m *Message) internAddr(ip netip.Addr) string {
	var buf [48]byte
	return m.intern(ip.AppendTo(buf[:0]))
}

func (m *Message) concat(prefix []byte, s string) string {
	b := append(prefix, s...)
	return m.intern(b)
}
