package sigma

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"syscall"
	"testing"
	"time"

	"github.com/egovsoc/egovsoc/pipeline/event"
	"github.com/egovsoc/egovsoc/rules/sigma/internal/corpus"
)

// sigmaHQ is the SigmaHQ corpus, beside the project (see ../shared/testdata).
var sigmaHQ = filepath.Join("..", "..", "..", "shared", "testdata", "sigma")

// sigmaFiles lists the corpus's rule files, failing clearly when it is absent.
func sigmaFiles(tb testing.TB) []string {
	tb.Helper()
	if _, err := os.Stat(sigmaHQ); err != nil {
		tb.Fatalf("the SigmaHQ corpus is missing (%v): it is expected at ../shared/testdata/sigma beside the project", err)
	}
	var files []string
	filepath.WalkDir(sigmaHQ, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && isRuleFile(p) {
			files = append(files, p)
		}
		return nil
	})
	sort.Strings(files)
	return files
}

// loadSigmaHQ loads every n-th file of the corpus (n=1: all of it), up to max
// loaded rules (0: no bound).
func loadSigmaHQ(tb testing.TB, every, max int) (*RuleSet, *Report) {
	tb.Helper()
	l := NewLoader(LoadOptions{})
	for i, f := range sigmaFiles(tb) {
		if i%every != 0 {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		l.addFile(f, b, Origin{Ruleset: "sigmahq", License: "DRL-1.1"})
		if max > 0 && l.report.Documents >= max {
			break
		}
	}
	return l.Build()
}

// BenchmarkDetect measures detection on one core over realistic ECS events
// (see internal/corpus), beside the bare parse rate of the same events:
//
//	go test -run x -bench Detect -cpu 1 ./rules/sigma
//
// Each op is one event: decoded, routed and examined by the rule set. The
// "parse" case only decodes: the honest ceiling.
func BenchmarkDetect(b *testing.B) {
	docs := corpus.Events(20000, 7)
	var bytes int64
	for _, d := range docs {
		bytes += int64(len(d))
	}
	b.Run("parse", func(b *testing.B) {
		b.SetBytes(bytes / int64(len(docs)))
		b.ReportAllocs()
		cpu := cpuTime()
		for i := 0; b.Loop(); i++ {
			d := docs[i%len(docs)]
			buf := make([]byte, len(d))
			copy(buf, d)
			if _, err := event.Decode(buf); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
		b.ReportMetric(float64(b.N)/(cpuTime()-cpu).Seconds(), "events/cpu-s")
	})
	for _, c := range []struct {
		name       string
		every, max int
	}{{"rules=0", 0, 0}, {"rules=100", 37, 100}, {"rules=1000", 3, 1000}, {"rules=all", 1, 0}} {
		b.Run(c.name, func(b *testing.B) {
			var rs *RuleSet
			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			if c.every == 0 {
				rs, _ = NewLoader(LoadOptions{}).Build()
			} else {
				rs, _ = loadSigmaHQ(b, c.every, c.max)
			}
			runtime.GC()
			runtime.ReadMemStats(&after)
			e := New(rs, Options{})
			const batch = 256
			evs := make([]*event.Event, 0, batch)
			ids := make([]string, batch)
			for i := range ids {
				ids[i] = fmt.Sprint("id-", i)
			}
			// Warm up: the first events of each kind build the merged
			// route groups they need, once per rule set.
			for i := 0; i < len(docs); i += batch {
				var warm []*event.Event
				for _, d := range docs[i:min(i+batch, len(docs))] {
					ev, err := event.Decode(append([]byte(nil), d...))
					if err != nil {
						b.Fatal(err)
					}
					warm = append(warm, ev)
				}
				if _, err := e.Detect(context.Background(), event.Batch{Stream: "warm/0", Org: "mof", Events: warm, IDs: ids[:len(warm)]}); err != nil {
					b.Fatal(err)
				}
			}
			for i := range rs.counts {
				rs.counts[i].evals.Store(0)
				rs.counts[i].hits.Store(0)
			}
			b.SetBytes(bytes / int64(len(docs)))
			b.ReportAllocs()
			alerts := 0
			n := 0
			cpu := cpuTime()
			for b.Loop() {
				d := docs[n%len(docs)]
				n++
				buf := make([]byte, len(d))
				copy(buf, d)
				ev, err := event.Decode(buf)
				if err != nil {
					b.Fatal(err)
				}
				evs = append(evs, ev)
				if len(evs) == batch {
					as, err := e.Detect(context.Background(), event.Batch{Stream: "bench/0", Org: "mof", Events: evs, IDs: ids})
					if err != nil {
						b.Fatal(err)
					}
					alerts += len(as)
					evs = evs[:0]
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
			b.ReportMetric(float64(b.N)/(cpuTime()-cpu).Seconds(), "events/cpu-s")
			b.ReportMetric(float64(rs.Len()), "rules")
			b.ReportMetric(float64(after.HeapAlloc-min(before.HeapAlloc, after.HeapAlloc))/(1<<20), "MiB-ruleset")
			ix, al, _, _ := rs.IndexStats()
			b.ReportMetric(float64(ix), "indexed")
			b.ReportMetric(float64(al), "always")
			var evals int64
			for _, s := range rs.RuleStats() {
				evals += s.Evals
			}
			b.ReportMetric(float64(evals)/float64(max(n, 1)), "evals/event")
			_ = alerts
		})
	}
}

// cpuTime is the CPU time the process has used (user and system, every
// thread: the garbage collector's work counts). On a shared, loaded machine
// wall time measures the neighbours as much as the code; CPU time does not.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// SIGMA_NOMERGE=1 measures with every route group scanned on its own
// instead of merged per combination of routes (an A/B switch for the
// benchmark; see RuleSet.merged).
func init() {
	if os.Getenv("SIGMA_NOMERGE") != "" {
		maxMerges = 0
	}
}

// BenchmarkDetectOnly measures detection alone, on events decoded before
// the clock starts: the cost the rule set adds to the parse.
func BenchmarkDetectOnly(b *testing.B) {
	docs := corpus.Events(20000, 7)
	evs := make([]*event.Event, len(docs))
	for i, d := range docs {
		ev, err := event.Decode(d)
		if err != nil {
			b.Fatal(err)
		}
		evs[i] = ev
	}
	rs, _ := loadSigmaHQ(b, 1, 0)
	e := New(rs, Options{})
	const batch = 256
	ids := make([]string, batch)
	for i := range ids {
		ids[i] = fmt.Sprint("id-", i)
	}
	detect := func(i int) {
		end := min(i+batch, len(evs))
		if _, err := e.Detect(context.Background(), event.Batch{Stream: "bench/0", Org: "mof", Events: evs[i:end], IDs: ids[:end-i]}); err != nil {
			b.Fatal(err)
		}
	}
	for i := 0; i < len(evs); i += batch { // warm up
		detect(i)
	}
	cpu := cpuTime()
	n := 0
	for b.Loop() {
		detect(n % len(evs))
		n += batch
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(n)/(cpuTime()-cpu).Seconds(), "events/cpu-s")
	b.ReportMetric((cpuTime()-cpu).Seconds()*1e9/float64(n), "cpu-ns/event")
}

// BenchmarkDetectVsParse interleaves, batch by batch, a bare parse of 256
// events and the parse plus detection of the same 256 events with the whole
// SigmaHQ set, and reports both rates and their ratio. On a shared machine
// whose speed drifts, the interleaved ratio is steadier than two separate
// benchmarks run minutes apart.
func BenchmarkDetectVsParse(b *testing.B) {
	docs := corpus.Events(20000, 7)
	rs, _ := loadSigmaHQ(b, 1, 0)
	e := New(rs, Options{})
	const batch = 256
	ids := make([]string, batch)
	for i := range ids {
		ids[i] = fmt.Sprint("id-", i)
	}
	decode := func(from int) []*event.Event {
		evs := make([]*event.Event, 0, batch)
		for _, d := range docs[from:min(from+batch, len(docs))] {
			ev, err := event.Decode(append([]byte(nil), d...))
			if err != nil {
				b.Fatal(err)
			}
			evs = append(evs, ev)
		}
		return evs
	}
	detect := func(evs []*event.Event) {
		if _, err := e.Detect(context.Background(), event.Batch{Stream: "bench/0", Org: "mof", Events: evs, IDs: ids[:len(evs)]}); err != nil {
			b.Fatal(err)
		}
	}
	for i := 0; i < len(docs); i += batch { // warm up
		detect(decode(i))
	}
	var parseCPU, fullCPU time.Duration
	n := 0
	for b.Loop() {
		from := n % len(docs)
		t0 := cpuTime()
		evs := decode(from)
		t1 := cpuTime()
		detect(decode(from))
		t2 := cpuTime()
		parseCPU += t1 - t0
		fullCPU += t2 - t1
		n += len(evs)
	}
	parse := float64(n) / parseCPU.Seconds()
	full := float64(n) / fullCPU.Seconds()
	b.ReportMetric(parse, "parse-events/cpu-s")
	b.ReportMetric(full, "detect-events/cpu-s")
	b.ReportMetric(full/parse, "ratio")
}
