package capture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/google/gopacket/layers"
)

func pcapFile(bo binary.AppendByteOrder, nano bool, recs ...[]byte) []byte {
	magic := uint32(pcapMagicMicro)
	if nano {
		magic = pcapMagicNano
	}
	b := bo.AppendUint32(nil, magic)
	b = bo.AppendUint16(b, 2)
	b = bo.AppendUint16(b, 4)
	b = append(b, make([]byte, 8)...)
	b = bo.AppendUint32(b, 65535)
	b = bo.AppendUint32(b, 1)
	for i, r := range recs {
		b = bo.AppendUint32(b, 1700000000+uint32(i))
		b = bo.AppendUint32(b, 123456)
		b = bo.AppendUint32(b, uint32(len(r)))
		b = bo.AppendUint32(b, uint32(len(r)+10))
		b = append(b, r...)
	}
	return b
}

func TestPcap(t *testing.T) {
	for _, bo := range []binary.AppendByteOrder{binary.LittleEndian, binary.BigEndian} {
		for _, nano := range []bool{false, true} {
			s, err := NewReader(bytes.NewReader(pcapFile(bo, nano, []byte("abc"), []byte("defg"))))
			if err != nil {
				t.Fatal(err)
			}
			p, err := s.ReadPacket()
			if err != nil || string(p.Data) != "abc" || p.Info.Length != 13 || p.Info.LinkType != layers.LinkTypeEthernet {
				t.Fatalf("%v %v: %+v %v", bo, nano, p, err)
			}
			want := time.Unix(1700000000, 123456000)
			if nano {
				want = time.Unix(1700000000, 123456)
			}
			if !p.Info.Timestamp.Equal(want) {
				t.Errorf("%v nano=%v: time %v, want %v", bo, nano, p.Info.Timestamp, want)
			}
			if p, err = s.ReadPacket(); string(p.Data) != "defg" {
				t.Fatal(err)
			}
			if _, err = s.ReadPacket(); err != io.EOF {
				t.Fatalf("end: %v", err)
			}
			if st := s.Stats(); st.Packets != 2 || st.Bytes != 7 {
				t.Errorf("stats %+v", st)
			}
		}
	}
}

func TestPcapCorrupt(t *testing.T) {
	good := pcapFile(binary.LittleEndian, false, []byte("abc"))
	huge := append([]byte(nil), good...)
	binary.LittleEndian.PutUint32(huge[24+8:], MaxRecord+1)
	for name, b := range map[string][]byte{
		"no header":       good[:10],
		"bad magic":       append([]byte{1, 2, 3, 4}, good[4:]...),
		"huge record":     huge,
		"truncated data":  good[:len(good)-1],
		"truncated rhead": good[:30],
	} {
		s, err := NewReader(bytes.NewReader(b))
		if err == nil {
			_, err = s.ReadPacket()
		}
		if !errors.Is(err, ErrFormat) {
			t.Errorf("%s: %v, want ErrFormat", name, err)
		}
	}
}

// block writes a pcapng block.
func block(bo binary.AppendByteOrder, typ uint32, body []byte) []byte {
	for len(body)%4 != 0 {
		body = append(body, 0)
	}
	n := uint32(12 + len(body))
	b := bo.AppendUint32(nil, typ)
	b = bo.AppendUint32(b, n)
	b = append(b, body...)
	return bo.AppendUint32(b, n)
}

func TestPcapng(t *testing.T) {
	var f []byte
	for _, bo := range []binary.AppendByteOrder{binary.LittleEndian, binary.BigEndian} { // two sections
		shb := bo.AppendUint32(nil, ngByteOrder)
		shb = bo.AppendUint16(shb, 1)
		shb = bo.AppendUint16(shb, 0)
		shb = append(shb, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)
		f = append(f, block(bo, ngSHB, shb)...)
		idb := bo.AppendUint16(nil, uint16(layers.LinkTypeRaw))
		idb = append(idb, 0, 0, 0, 0, 0, 0)
		idb = bo.AppendUint16(idb, 9) // if_tsresol: nanoseconds
		idb = bo.AppendUint16(idb, 1)
		idb = append(idb, 9, 0, 0, 0)
		f = append(f, block(bo, ngIDB, idb)...)
		ts := uint64(1700000000_000000001)
		epb := bo.AppendUint32(nil, 0)
		epb = bo.AppendUint32(epb, uint32(ts>>32))
		epb = bo.AppendUint32(epb, uint32(ts))
		epb = bo.AppendUint32(epb, 3)
		epb = bo.AppendUint32(epb, 100)
		epb = append(epb, "xyz"...)
		f = append(f, block(bo, ngEPB, epb)...)
		f = append(f, block(bo, 0x0bad, []byte("unknown block"))...)
		spb := bo.AppendUint32(nil, 2)
		spb = append(spb, "ok"...)
		f = append(f, block(bo, ngSPB, spb)...)
	}
	s, err := NewReader(bytes.NewReader(f))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		p, err := s.ReadPacket()
		if err != nil || string(p.Data) != "xyz" || p.Info.Length != 100 || p.Info.LinkType != layers.LinkTypeRaw ||
			!p.Info.Timestamp.Equal(time.Unix(1700000000, 1)) {
			t.Fatalf("section %d EPB: %+v %v", i, p.Info, err)
		}
		if p, err = s.ReadPacket(); err != nil || string(p.Data) != "ok" {
			t.Fatalf("section %d SPB: %q %v", i, p.Data, err)
		}
	}
	if _, err := s.ReadPacket(); err != io.EOF {
		t.Fatalf("end: %v", err)
	}
}

func TestMemorySource(t *testing.T) {
	t0 := time.Unix(100, 0)
	pkts := []Packet{{Data: []byte("a"), Info: CaptureInfo{Timestamp: t0}}, {Data: []byte("b"), Info: CaptureInfo{Timestamp: t0.Add(time.Second)}}}
	m := NewMemorySource(pkts, 2)
	var times []time.Time
	for {
		p, err := m.ReadPacket()
		if err == io.EOF {
			break
		}
		times = append(times, p.Info.Timestamp)
	}
	if len(times) != 4 || !times[2].After(times[1]) {
		t.Fatalf("times %v: the second loop must come later", times)
	}
}
