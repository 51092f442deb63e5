package netmeta

import (
	"context"
	"encoding/binary"
	"io"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/google/gopacket/layers"

	"github.com/egovsoc/egovsoc/sensors/capture"
)

// corpusPackets reads every capture of the corpus into memory, one after
// the other in time (each file's timestamps are moved to follow the last),
// as a sensor on a busy link would see them.
func corpusPackets(tb testing.TB) []capture.Packet {
	tb.Helper()
	root, files := corpusFiles(tb)
	var out []capture.Packet
	next := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, f := range files {
		pkts, err := capture.ReadAll(filepath.Join(root, f))
		if err != nil && len(pkts) == 0 {
			tb.Fatalf("%s: %v", f, err)
		}
		if len(pkts) == 0 {
			continue
		}
		first := pkts[0].Info.Timestamp
		var last time.Time
		for i := range pkts {
			d := pkts[i].Info.Timestamp.Sub(first)
			if d < 0 {
				d = 0
			}
			pkts[i].Info.Timestamp = next.Add(d)
			if pkts[i].Info.Timestamp.After(last) {
				last = pkts[i].Info.Timestamp
			}
		}
		out = append(out, pkts...)
		next = last.Add(10 * time.Minute) // past every idle timeout
	}
	return out
}

// limited ends a source after n packets.
type limited struct {
	capture.Source
	n int
}

func (l *limited) ReadPacket() (capture.Packet, error) {
	if l.n <= 0 {
		return capture.Packet{}, io.EOF
	}
	l.n--
	return l.Source.ReadPacket()
}

// BenchmarkPipeline replays the whole corpus from memory through decode,
// IP reassembly, flow tracking, TCP reassembly, DNS/HTTP/TLS/SSH parsing and
// ECS encoding, on one worker (one core). The corpus is dense in protocol
// events: 13k packets make about 850 documents.
func BenchmarkPipeline(b *testing.B) {
	pkts := corpusPackets(b)
	b.ReportAllocs()
	b.ResetTimer()
	src := &limited{Source: capture.NewMemorySource(pkts, 0), n: b.N}
	p, err := New(Options{Observer: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	docs, bytes := 0, 0
	start, cpu0 := time.Now(), cpuSeconds()
	if err := p.Run(context.Background(), src, func(key, doc []byte) error {
		docs++
		bytes += len(doc)
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	el, cpu := time.Since(start), cpuSeconds()-cpu0
	b.ReportMetric(float64(b.N)/el.Seconds(), "packets/s")
	b.ReportMetric(float64(docs)/el.Seconds(), "events/s")
	if cpu > 0 {
		b.ReportMetric(float64(b.N)/cpu, "packets/cpu-s")
	}
	if st := p.Stats(); st.Panics != 0 {
		b.Fatalf("%d panics", st.Panics)
	}
}

// BenchmarkDecode is the ceiling the pipeline is measured against: the bare
// gopacket decode of the same packets, nothing else.
func BenchmarkDecode(b *testing.B) {
	pkts := corpusPackets(b)
	d := newDecoder()
	var p packet
	b.ReportAllocs()
	b.ResetTimer()
	start, cpu0 := time.Now(), cpuSeconds()
	for i := 0; i < b.N; i++ {
		cp := &pkts[i%len(pkts)]
		p = packet{}
		d.decode(cp.Info.LinkType, cp.Data, &p)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "packets/s")
	if cpu := cpuSeconds() - cpu0; cpu > 0 {
		b.ReportMetric(float64(b.N)/cpu, "packets/cpu-s")
	}
}

// synthetic writes TCP SYNs of distinct flows into one frame buffer: each
// read is a new flow (client 10.x.y.z:port to 192.0.2.1:443).
type synthetic struct {
	frame []byte
	i, n  int
	ts    time.Time
}

func newSynthetic(n int) *synthetic {
	f := make([]byte, 14+20+20)
	binary.BigEndian.PutUint16(f[12:], 0x0800)
	ip := f[14:]
	ip[0] = 0x45
	binary.BigEndian.PutUint16(ip[2:], 40)
	ip[8], ip[9] = 64, 6
	copy(ip[16:20], []byte{192, 0, 2, 1})
	tcp := ip[20:]
	binary.BigEndian.PutUint16(tcp[2:], 443)
	tcp[12] = 5 << 4
	tcp[13] = 0x02 // SYN
	return &synthetic{frame: f, n: n, ts: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
}

func (s *synthetic) ReadPacket() (capture.Packet, error) {
	if s.i >= s.n {
		return capture.Packet{}, io.EOF
	}
	ip := s.frame[14:]
	v := uint32(s.i)
	ip[12], ip[13], ip[14], ip[15] = 10, byte(v>>16), byte(v>>8), byte(v)
	binary.BigEndian.PutUint16(ip[20:], uint16(1024+s.i%50000))
	s.i++
	s.ts = s.ts.Add(time.Microsecond)
	return capture.Packet{Data: s.frame, Info: capture.CaptureInfo{
		Timestamp: s.ts, CaptureLength: len(s.frame), Length: len(s.frame), LinkType: layers.LinkTypeEthernet,
	}}, nil
}
func (s *synthetic) Stats() capture.Stats { return capture.Stats{} }
func (s *synthetic) Close() error         { return nil }

// pauseAt stops a source after n packets until released, so the flow table
// can be measured while full.
type pauseAt struct {
	capture.Source
	n       int
	reached chan struct{}
	release chan struct{}
}

func (p *pauseAt) ReadPacket() (capture.Packet, error) {
	if p.n == 0 {
		close(p.reached)
		<-p.release
	}
	p.n--
	return p.Source.ReadPacket()
}

// BenchmarkFlows1M holds 1,000,000 concurrent flows in one worker and
// reports the heap they take, per flow, and the rate of new flows.
func BenchmarkFlows1M(b *testing.B) {
	const flows = 1_000_000
	for i := 0; i < b.N; i++ {
		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		p, err := New(Options{Observer: "bench", MaxFlows: flows, NoFlows: true})
		if err != nil {
			b.Fatal(err)
		}
		src := &pauseAt{Source: newSynthetic(flows + 1), n: flows, reached: make(chan struct{}), release: make(chan struct{})}
		done := make(chan error)
		start := time.Now()
		go func() { done <- p.Run(context.Background(), src, func(_, _ []byte) error { return nil }) }()
		<-src.reached
		el := time.Since(start)
		runtime.GC()
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		if n := p.workers[0].tab.n; n != flows {
			b.Fatalf("%d flows in the table, want %d", n, flows)
		}
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/flows, "B/flow")
		b.ReportMetric(flows/el.Seconds(), "newflows/s")
		close(src.release)
		if err := <-done; err != nil {
			b.Fatal(err)
		}
	}
}
