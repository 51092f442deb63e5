package event

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"testing"
)

func sampleEvents(tb testing.TB) [][]byte {
	tb.Helper()
	f, err := os.ReadFile("testdata/sample-events.ndjson")
	if err != nil {
		tb.Fatal(err)
	}
	var out [][]byte
	sc := bufio.NewScanner(bytes.NewReader(f))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if len(sc.Bytes()) > 0 {
			out = append(out, bytes.Clone(sc.Bytes()))
		}
	}
	return out
}

// The fields a detection rule set typically reads from every event.
var benchFields = func() []Field {
	var fs []Field
	for _, p := range []string{
		"@timestamp", "event.category", "event.dataset", "event.outcome", "event.action", "host.name",
		"source.ip", "source.port", "destination.ip", "destination.port", "user.name", "process.name",
		"url.original", "url.domain", "http.request.method", "http.response.status_code",
		"user_agent.original", "dns.question.name", "dns.answers.data", "network.transport",
		"message", "process.command_line", "file.path", "winlog.event_id",
	} {
		fs = append(fs, Path(p))
	}
	return fs
}()

func reportRate(b *testing.B, docs [][]byte) {
	var n int
	for _, d := range docs {
		n += len(d)
	}
	b.SetBytes(int64(n / len(docs)))
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkDecodeAndRead decodes each event once and reads 24 fields from
// it, as a rule set does.
func BenchmarkDecodeAndRead(b *testing.B) {
	docs := sampleEvents(b)
	b.ReportAllocs()
	var sink int
	for i := 0; b.Loop(); i++ {
		e, err := Decode(docs[i%len(docs)])
		if err != nil {
			b.Fatal(err)
		}
		for _, f := range benchFields {
			for v := range e.Values(f) {
				sink += len(v.Text())
			}
		}
	}
	_ = sink
	reportRate(b, docs)
}

// BenchmarkDecode is decoding alone.
func BenchmarkDecode(b *testing.B) {
	docs := sampleEvents(b)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := Decode(docs[i%len(docs)]); err != nil {
			b.Fatal(err)
		}
	}
	reportRate(b, docs)
}

// BenchmarkBareParseValid is the floor of any JSON reader: the standard
// library's validating scan of the same events, building nothing.
func BenchmarkBareParseValid(b *testing.B) {
	docs := sampleEvents(b)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if !json.Valid(docs[i%len(docs)]) {
			b.Fatal("invalid")
		}
	}
	reportRate(b, docs)
}

// BenchmarkBareParseMap is what most Go detection code does: unmarshal into
// map[string]any.
func BenchmarkBareParseMap(b *testing.B) {
	docs := sampleEvents(b)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		var m map[string]any
		if err := json.Unmarshal(docs[i%len(docs)], &m); err != nil {
			b.Fatal(err)
		}
	}
	reportRate(b, docs)
}

// BenchmarkAppendJSONWithSets is the cost of stamping an event and writing
// it out for the store.
func BenchmarkAppendJSONWithSets(b *testing.B) {
	docs := sampleEvents(b)
	b.ReportAllocs()
	buf := make([]byte, 0, 4096)
	for i := 0; b.Loop(); i++ {
		e, err := Decode(docs[i%len(docs)])
		if err != nil {
			b.Fatal(err)
		}
		_ = e.Set(FieldOrg, String("hanoi"))
		_ = e.Set(FieldIngested, String("2026-11-22T08:15:04Z"))
		buf = e.AppendJSON(buf[:0])
	}
	reportRate(b, docs)
}
