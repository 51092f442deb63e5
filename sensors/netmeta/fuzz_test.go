package netmeta

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/google/gopacket/layers"

	"github.com/egovsoc/egovsoc/pipeline/event"
	"github.com/egovsoc/egovsoc/sensors/capture"
)

// fuzzLinkTypes are the link types a fuzz input's first byte picks from.
var fuzzLinkTypes = []layers.LinkType{
	layers.LinkTypeEthernet, layers.LinkTypeRaw, layers.LinkTypeLinuxSLL, layers.LinkTypeNull, layers.LinkTypeIPv4,
}

// encodeFrames writes frames in the FuzzPacket input format: a link type
// index, then each frame with a 2-byte length.
func encodeFrames(lt layers.LinkType, frames [][]byte) []byte {
	idx := byte(0)
	for i, l := range fuzzLinkTypes {
		if l == lt {
			idx = byte(i)
		}
	}
	out := []byte{idx}
	for _, f := range frames {
		if len(f) > 0xffff {
			f = f[:0xffff]
		}
		out = binary.BigEndian.AppendUint16(out, uint16(len(f)))
		out = append(out, f...)
	}
	return out
}

// FuzzPacket runs arbitrary frames through the whole per-packet path —
// decode, reassembly, flows, protocol parsers, ECS encoding — and flushes
// the flows. No packet may make a worker panic (a recovered panic counts
// as a failure here), and every document written must decode and validate.
// Seeds are the first frames of each real capture.
func FuzzPacket(f *testing.F) {
	f.Add(encodeFrames(layers.LinkTypeEthernet, [][]byte{make([]byte, 60)}))
	p, err := New(Options{Observer: "fuzz", MaxFlows: 4096, MaxBuffered: 8 << 20})
	if err != nil {
		f.Fatal(err)
	}
	var bad error
	var badDoc []byte
	p.emit = func(_, doc []byte) error {
		e, err := event.Decode(append([]byte(nil), doc...))
		if err == nil {
			err = e.Validate()
		}
		if err != nil && bad == nil {
			bad, badDoc = err, append([]byte(nil), doc...)
		}
		return nil
	}
	w := p.workers[0]
	ts := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) < 1 {
			return
		}
		lt := fuzzLinkTypes[int(data[0])%len(fuzzLinkTypes)]
		data = data[1:]
		for len(data) >= 2 {
			n := int(binary.BigEndian.Uint16(data))
			data = data[2:]
			if n > len(data) {
				n = len(data)
			}
			ts = ts.Add(time.Millisecond)
			w.packet(capture.Packet{Data: data[:n], Info: capture.CaptureInfo{
				Timestamp: ts, CaptureLength: n, Length: n, LinkType: lt,
			}})
			data = data[n:]
		}
		w.flushAll()
		if w.st.Panics != 0 {
			t.Fatalf("a packet made the worker panic")
		}
		if bad != nil {
			t.Fatalf("invalid document: %v\n%s", bad, badDoc)
		}
		if w.mem < 0 || w.mem > w.memMax+1<<20 {
			t.Fatalf("buffered bytes %d", w.mem)
		}
	})
}
