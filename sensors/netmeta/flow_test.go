package netmeta

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/egovsoc/egovsoc/pipeline/event"
	"github.com/egovsoc/egovsoc/sensors/capture"
)

// Community ID test vectors of the specification's reference
// implementations (corelight/community-id-spec and its ports).
func TestCommunityID(t *testing.T) {
	for _, c := range []struct {
		src, dst     string
		sport, dport uint16
		proto        uint8
		want         string
	}{
		{"128.232.110.120", "66.35.250.204", 34855, 80, protoTCP, "1:LQU9qZlK+B5F3KDmev6m5PMibrg="},
		{"66.35.250.204", "128.232.110.120", 80, 34855, protoTCP, "1:LQU9qZlK+B5F3KDmev6m5PMibrg="},
		{"192.168.1.52", "8.8.8.8", 54585, 53, protoUDP, "1:d/FP5EW3wiY1vCndhwleRRKHowQ="},
		{"8.8.8.8", "192.168.1.52", 53, 54585, protoUDP, "1:d/FP5EW3wiY1vCndhwleRRKHowQ="},
		{"192.168.0.89", "192.168.0.1", 8, 0, protoICMP, "1:X0snYXpgwiv9TZtqg64sgzUn6Dk="}, // echo request
		{"192.168.0.1", "192.168.0.89", 0, 0, protoICMP, "1:X0snYXpgwiv9TZtqg64sgzUn6Dk="}, // its reply
		{"fe80::260:97ff:fe07:69ea", "ff02::1", 134, 0, protoICMPv6, "1:pkvHqCL88/tg1k4cPigmZXUtL00="},
	} {
		sport, dport, oneWay := c.sport, c.dport, false
		if c.proto == protoICMP || c.proto == protoICMPv6 {
			sport, dport, oneWay = icmpPorts(c.proto, uint8(c.sport), uint8(c.dport))
		}
		got := communityID(netip.MustParseAddr(c.src), netip.MustParseAddr(c.dst), sport, dport, c.proto, oneWay)
		if got != c.want {
			t.Errorf("%s:%d > %s:%d/%d: %s, want %s", c.src, c.sport, c.dst, c.dport, c.proto, got, c.want)
		}
	}
}

func TestRegisteredDomain(t *testing.T) {
	for name, want := range map[string][3]string{
		"dichvucong.gov.vn":        {"dichvucong.gov.vn", "gov.vn", ""},
		"www.dichvucong.gov.vn.":   {"dichvucong.gov.vn", "gov.vn", "www"},
		"mail.hanoi.gov.vn":        {"hanoi.gov.vn", "gov.vn", "mail"},
		"a.b.example.com":          {"example.com", "com", "a.b"},
		"WWW.Example.CO.UK":        {"example.co.uk", "co.uk", "www"},
		"x.y.github.io":            {"y.github.io", "github.io", "x"},
		"gov.vn":                   {"", "", ""},
		"localhost":                {"", "", ""},
		"7.2.0.10.in-addr.arpa":    {"", "", ""},
		"192.168.1.1":              {"", "", ""},
		`txtpadding_32\000.x.com`:  {"", "", ""},
		"_ipp._tcp.local":          {"_tcp.local", "local", "_ipp"},
		"portal.thanhhoa.vn":       {"portal.thanhhoa.vn", "thanhhoa.vn", ""},
		"sub.portal.tphcm.gov.vn":  {"tphcm.gov.vn", "gov.vn", "sub.portal"},
		"congdichvu.edu.vn":        {"congdichvu.edu.vn", "edu.vn", ""},
		"a.b.c.d.e.f.g.h.i.com.vn": {"i.com.vn", "com.vn", "a.b.c.d.e.f.g.h"},
	} {
		r, s, sub := registeredDomain(name)
		if got := [3]string{r, s, sub}; got != want {
			t.Errorf("registeredDomain(%q) = %q, want %q", name, got, want)
		}
	}
}

// packetSource feeds hand-built frames.
type packetSource struct {
	pkts []capture.Packet
	i    int
}

func (s *packetSource) ReadPacket() (capture.Packet, error) {
	if s.i >= len(s.pkts) {
		return capture.Packet{}, capture.ErrClosed
	}
	s.i++
	return s.pkts[s.i-1], nil
}
func (s *packetSource) Stats() capture.Stats { return capture.Stats{} }
func (s *packetSource) Close() error         { return nil }

// TestFlowTableBounded fills a small table: the least recent flows are
// evicted and counted, never more than MaxFlows are held, and every flow
// still gets its record.
func TestFlowTableBounded(t *testing.T) {
	syn := newSynthetic(5000)
	var pkts []capture.Packet
	for {
		p, err := syn.ReadPacket()
		if err != nil {
			break
		}
		p.Data = append([]byte(nil), p.Data...)
		pkts = append(pkts, p)
	}
	p, err := New(Options{Observer: "t", MaxFlows: 1000})
	if err != nil {
		t.Fatal(err)
	}
	records, evicted := 0, 0
	err = p.Run(context.Background(), &packetSource{pkts: pkts}, func(_, doc []byte) error {
		e, err := event.Decode(append([]byte(nil), doc...))
		if err != nil {
			t.Fatal(err)
		}
		records++
		if e.Text(event.Path("egovsoc.flow.reason")) == reasonEvicted {
			evicted++
		}
		if e.Text(event.Path("egovsoc.flow.state")) != "S0" {
			t.Errorf("a lone SYN is S0: %s", e.Raw())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	st := p.Stats()
	if records != 5000 || evicted != 4000 || st.FlowsEvicted != 4000 || st.FlowsCreated != 5000 {
		t.Fatalf("records %d, evicted %d, stats %+v", records, evicted, st)
	}
	if n := len(p.workers[0].tab.m); n != 0 {
		t.Fatalf("%d flows left in the table", n)
	}
}

// TestFlowTimeouts: an idle flow ends when packet time moves past its
// timeout; a long flow gets interim records covering consecutive intervals.
func TestFlowTimeouts(t *testing.T) {
	syn := newSynthetic(3)
	var pkts []capture.Packet
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	add := func(i int, at time.Duration) {
		syn.i = i
		p, _ := syn.ReadPacket()
		p.Data = append([]byte(nil), p.Data...)
		p.Info.Timestamp = base.Add(at)
		pkts = append(pkts, p)
	}
	add(0, 0)           // flow A: a SYN, then nothing
	add(1, time.Second) // flow B: SYNs every 20 s for 3 minutes
	for s := 20; s <= 180; s += 20 {
		add(1, time.Duration(s)*time.Second)
	}
	p, _ := New(Options{Observer: "t", FlowTimeouts: FlowTimeouts{TCPHandshake: 30 * time.Second, Active: time.Minute}})
	var reasons []string
	var total int64
	p.Run(context.Background(), &packetSource{pkts: pkts}, func(_, doc []byte) error {
		e, _ := event.Decode(append([]byte(nil), doc...))
		reasons = append(reasons, e.Text(event.Path("egovsoc.flow.reason")))
		n, _ := e.Get(event.Path("network.packets")).Int()
		total += n
		return nil
	})
	want := []string{reasonIdle, reasonActive, reasonActive, reasonEnd} // interim at 80 s and 140 s
	if len(reasons) != len(want) {
		t.Fatalf("reasons %q, want %q", reasons, want)
	}
	for i := range want {
		if reasons[i] != want[i] {
			t.Fatalf("reasons %q, want %q", reasons, want)
		}
	}
	if total != int64(len(pkts)) {
		t.Fatalf("records count %d packets, %d were sent", total, len(pkts))
	}
}

// TestWorkersAgree: two workers fed by the dispatcher write the same
// events as one.
func TestWorkersAgree(t *testing.T) {
	root, files := corpusFiles(t)
	for _, f := range files[:40] {
		ids := func(workers int) map[string]int {
			evs, _ := replay(t, root+"/"+f, Options{Workers: workers})
			m := map[string]int{}
			for _, e := range evs {
				m[e.Text(event.FieldID)]++
			}
			return m
		}
		one, two := ids(1), ids(2)
		if len(one) != len(two) {
			t.Errorf("%s: %d events with one worker, %d with two", f, len(one), len(two))
			continue
		}
		for id := range one {
			if two[id] != one[id] {
				t.Errorf("%s: event %s differs", f, id)
			}
		}
	}
}
