package correlate

import (
	"runtime"
	"strconv"
	"testing"
	"time"
)

const benchGroups = 10_000

func benchKeys(prefix string, n int) []string {
	keys := make([]string, n)
	for i := range keys {
		keys[i] = prefix + strconv.Itoa(i)
	}
	return keys
}

// benchObserve feeds observations round-robin over benchGroups groups, one
// every step of event time, with conditions that never hold so that state
// only grows to its bounds.
func benchObserve(b *testing.B, spec Spec, step time.Duration, fill func(i int, vals []string)) {
	e, err := New([]Spec{spec}, Options{})
	if err != nil {
		b.Fatal(err)
	}
	vals := make([]string, len(e.Fields("r")))
	ids := benchKeys("e", 1024)
	// Warm up: every group exists and holds a full window.
	warm := int(spec.Timespan / step)
	for i := range warm {
		fill(i, vals)
		e.Observe(Observation{Rule: "r", Time: base.Add(time.Duration(i) * step), EventID: ids[i%len(ids)], Values: vals})
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		j := warm + i
		fill(j, vals)
		e.Observe(Observation{Rule: "r", Time: base.Add(time.Duration(j) * step), EventID: ids[j%len(ids)], Values: vals})
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "obs/s")
	b.ReportMetric(float64(e.Stats().Groups), "groups")
}

// BenchmarkObserveEventCount: event_count over 10k active groups, each
// receiving an event every 10s of a 5m sliding window (30 per window).
func BenchmarkObserveEventCount(b *testing.B) {
	keys := benchKeys("host-", benchGroups)
	spec := Spec{ID: "c", Type: EventCount, Rules: []string{"r"}, GroupBy: []string{"host"}, Timespan: 5 * time.Minute, Condition: Condition{GTE: num(1e9)}}
	benchObserve(b, spec, time.Millisecond, func(i int, vals []string) { vals[0] = keys[i%benchGroups] })
}

// BenchmarkObserveValueCount: value_count of users over 10k active groups,
// 50 distinct users per group.
func BenchmarkObserveValueCount(b *testing.B) {
	keys := benchKeys("host-", benchGroups)
	users := benchKeys("user-", 50)
	spec := Spec{ID: "c", Type: ValueCount, Rules: []string{"r"}, GroupBy: []string{"host"}, Timespan: 5 * time.Minute, Condition: Condition{Field: "user", GTE: num(1000)}}
	benchObserve(b, spec, time.Millisecond, func(i int, vals []string) {
		vals[0] = keys[i%benchGroups]
		vals[1] = users[(i/benchGroups)%len(users)]
	})
}

// BenchmarkObserveTemporalOrdered: a three-step sequence over 10k groups.
func BenchmarkObserveTemporalOrdered(b *testing.B) {
	keys := benchKeys("host-", benchGroups)
	spec := Spec{ID: "c", Type: TemporalOrdered, Rules: []string{"r", "q", "p"}, GroupBy: []string{"host"}, Timespan: 5 * time.Minute}
	benchObserve(b, spec, time.Millisecond, func(i int, vals []string) { vals[0] = keys[i%benchGroups] })
}

// BenchmarkBytesPerGroup reports the heap one group holds, over 10k groups,
// sparse (one event each) and dense (a full sliding window: 300 events in
// 5m, or 50 distinct values), with the default Options (20 event ids).
func BenchmarkBytesPerGroup(b *testing.B) {
	keys := benchKeys("host-", benchGroups)
	users := benchKeys("user-", 50)
	ids := benchKeys("event-id-", 1024)
	for _, tc := range []struct {
		name   string
		spec   Spec
		events int
	}{
		{"event_count/sparse", Spec{ID: "c", Type: EventCount, Rules: []string{"r"}, GroupBy: []string{"host"}, Timespan: 5 * time.Minute, Condition: Condition{GTE: num(1e9)}}, 1},
		{"event_count/dense", Spec{ID: "c", Type: EventCount, Rules: []string{"r"}, GroupBy: []string{"host"}, Timespan: 5 * time.Minute, Condition: Condition{GTE: num(1e9)}}, 300},
		{"value_count/dense", Spec{ID: "c", Type: ValueCount, Rules: []string{"r"}, GroupBy: []string{"host"}, Timespan: 5 * time.Minute, Condition: Condition{Field: "user", GTE: num(1000)}}, 300},
		{"temporal/dense", Spec{ID: "c", Type: Temporal, Rules: []string{"r", "q", "p"}, GroupBy: []string{"host"}, Timespan: 5 * time.Minute}, 300},
		{"event_count_lt/dense", Spec{ID: "c", Type: EventCount, Rules: []string{"r"}, GroupBy: []string{"host"}, Timespan: 5 * time.Minute, Condition: Condition{LT: num(10)}}, 300},
	} {
		b.Run(tc.name, func(b *testing.B) {
			// One measurement: the loop only satisfies the benchmark harness.
			per := bytesPerGroup(b, tc.spec, tc.events, keys, users, ids)
			for range b.N {
			}
			b.ReportMetric(per, "B/group")
		})
	}
}

func bytesPerGroup(b *testing.B, spec Spec, events int, keys, users, ids []string) float64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	e, err := New([]Spec{spec}, Options{})
	if err != nil {
		b.Fatal(err)
	}
	vals := make([]string, len(e.Fields("r")))
	step := spec.Timespan / time.Duration(events*benchGroups)
	for i := range events * benchGroups {
		vals[0] = keys[i%benchGroups]
		if len(vals) > 1 {
			vals[1] = users[(i/benchGroups)%len(users)]
		}
		e.Observe(Observation{Rule: "r", Time: base.Add(time.Duration(i) * step), EventID: ids[i%len(ids)], Values: vals})
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	if n := e.Stats().Groups; n != benchGroups {
		b.Fatalf("%d groups", n)
	}
	runtime.KeepAlive(e)
	return float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / benchGroups
}
