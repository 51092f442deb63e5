package netmeta

import (
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/egovsoc/egovsoc/pipeline/event"
)

// values returns every value of a field as text.
func values(e *event.Event, field string) []string {
	var out []string
	for v := range e.Values(event.Path(field)) {
		out = append(out, v.Text())
	}
	return out
}

// checkShape checks the ECS fields the detection rules rely on (the shapes
// of issue #5) on one event.
func checkShape(t *testing.T, name string, e *event.Event) {
	t.Helper()
	fail := func(format string, args ...any) {
		t.Helper()
		t.Errorf("%s: "+format+"\n%s", append(append([]any{name}, args...), e.Raw())...)
	}
	want := func(field, value string) {
		t.Helper()
		if got := e.Text(event.Path(field)); got != value {
			fail("%s = %q, want %q", field, got, value)
		}
	}
	has := func(fields ...string) {
		t.Helper()
		for _, f := range fields {
			if !e.Has(event.Path(f)) {
				fail("missing %s", f)
			}
		}
	}
	list := func(field string, want ...string) {
		t.Helper()
		if got := values(e, field); !slices.Equal(got, want) {
			fail("%s = %q, want %q", field, got, want)
		}
	}
	ts := e.Text(event.FieldTimestamp)
	if _, err := time.Parse(time.RFC3339Nano, ts); err != nil || len(ts) < len("2006-01-02T15:04:05.0Z") {
		fail("@timestamp %q is not RFC 3339 with fractional seconds", ts)
	}
	want("event.kind", "event")
	want("event.module", "netmeta")
	want("observer.type", "sensor")
	has("event.id", "observer.name", "source.ip", "destination.ip", "network.transport", "network.type",
		"network.community_id", "related.ip")
	switch tr := e.Text(event.Path("network.transport")); tr {
	case "tcp", "udp":
		has("source.port", "destination.port")
	case "icmp", "ipv6-icmp":
	default:
		if e.Text(fDataset) != DatasetFlow {
			fail("network.transport %q on a protocol event", tr)
		}
	}
	if nt := e.Text(event.Path("network.type")); nt != "ipv4" && nt != "ipv6" {
		fail("network.type %q", nt)
	}
	rel := values(e, "related.ip")
	for _, f := range []string{"source.ip", "destination.ip"} {
		if !slices.Contains(rel, e.Text(event.Path(f))) {
			fail("related.ip %q lacks %s", rel, f)
		}
	}
	switch ds := e.Text(fDataset); ds {
	case DatasetFlow:
		list("event.category", "network")
		if ty := values(e, "event.type"); !slices.Equal(ty, []string{"connection", "end"}) && !slices.Equal(ty, []string{"connection", "start"}) {
			fail("event.type %q", ty)
		}
		want("event.action", "network_flow")
		has("event.start", "event.end", "event.duration", "source.bytes", "source.packets",
			"destination.bytes", "destination.packets", "network.bytes", "network.packets", "egovsoc.flow.reason")
		if e.Text(event.Path("network.transport")) == "tcp" {
			has("egovsoc.flow.state")
		}
		switch r := e.Text(event.Path("egovsoc.flow.reason")); r {
		case reasonIdle, reasonActive, reasonFIN, reasonRST, reasonEvicted, reasonEnd:
		default:
			fail("egovsoc.flow.reason %q", r)
		}
	case DatasetDNS:
		list("event.category", "network")
		list("event.type", "protocol")
		want("network.protocol", "dns")
		has("dns.id", "dns.type")
		if ty := e.Text(event.Path("dns.type")); ty != "query" && ty != "answer" {
			fail("dns.type %q", ty)
		}
		if e.Has(event.Path("dns.question")) {
			has("dns.question.name", "dns.question.type", "dns.question.class")
		}
		if e.Text(event.Path("dns.type")) == "answer" {
			has("dns.response_code")
		}
	case DatasetHTTP:
		list("event.category", "network", "web")
		list("event.type", "protocol", "access")
		want("network.protocol", "http")
		if !e.Has(event.Path("http.request.method")) && !e.Has(event.Path("http.response.status_code")) {
			fail("neither request nor response")
		}
		if e.Has(event.Path("http.request.method")) {
			has("url.original", "http.request.body.bytes")
		}
	case DatasetTLS:
		list("event.category", "network")
		if p := e.Text(event.Path("network.protocol")); p != "tls" && p != "dtls" {
			fail("network.protocol %q", p)
		}
		has("tls.established")
		if e.Has(event.Path("tls.client")) {
			has("tls.client.ja3", "tls.client.ja4", "tls.client.supported_ciphers")
		}
		if e.Has(event.Path("tls.version")) {
			has("tls.version_protocol", "tls.cipher", "tls.server.ja3s")
		}
	case DatasetSSH:
		list("event.category", "network")
		want("network.protocol", "ssh")
	default:
		fail("event.dataset %q", ds)
	}
}

// TestCorpusEventShapes replays every capture of the corpus: every event
// must decode, validate and have the shape the rules rely on, and no
// packet may make the pipeline panic.
func TestCorpusEventShapes(t *testing.T) {
	root, files := corpusFiles(t)
	total := map[string]int{}
	for _, f := range files {
		evs, st := replay(t, filepath.Join(root, f), Options{})
		if st.Panics != 0 {
			t.Errorf("%s: %d panics", f, st.Panics)
		}
		if st.Packets != st.Source.Packets {
			t.Errorf("%s: workers read %d packets, the source delivered %d", f, st.Packets, st.Source.Packets)
		}
		for _, e := range evs {
			checkShape(t, f, e)
			total[e.Text(fDataset)]++
		}
	}
	t.Logf("events over %d captures: %v", len(files), total)
	for _, ds := range []string{DatasetFlow, DatasetDNS, DatasetHTTP, DatasetTLS, DatasetSSH} {
		if total[ds] == 0 {
			t.Errorf("no %s events from the whole corpus", ds)
		}
	}
}
