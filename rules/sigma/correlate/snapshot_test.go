package correlate

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

func snapshotOf(t *testing.T, e *Engine) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := e.Snapshot(&buf); err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	return buf.Bytes()
}

func restored(t *testing.T, specs []Spec, opt Options, snap []byte) *Engine {
	t.Helper()
	e, err := New(specs, opt)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Restore(bytes.NewReader(snap)); err != nil {
		t.Fatalf("Restore: %v", err)
	}
	if err := e.check(); err != nil {
		t.Fatalf("after Restore: %v", err)
	}
	return e
}

// Every kind of state is cut mid-window, restored into a new engine, and the
// window completed there: it matches exactly once.
func TestSnapshotMidWindow(t *testing.T) {
	for _, tc := range []struct {
		name         string
		spec         Spec
		before       []step
		after        []step
		snapshotTwin bool
	}{
		{
			name: "event_count sliding",
			spec: eventCount([]string{"User"}, "5m", Condition{GTE: num(3)}),
			before: []step{
				ob("0s", "r1", "e1", "User=a"), ob("1m", "r1", "e2", "User=a"), ob("1m", "r1", "x1", "User=b"),
			},
			after: []step{
				ob("2m", "r1", "e3", "User=a").wants("c1{a} n=3 v=3 0s..2m @2m ids=e1,e2,e3 rules=r1"),
				ob("3m", "r1", "e4", "User=a"),
				ob("4m", "r1", "e5", "User=a"),
				adv("1h"),
			},
		},
		{
			name: "event_count lt at close",
			spec: eventCount([]string{"User"}, "5m", Condition{LT: num(3)}),
			before: []step{
				ob("0s", "r1", "e1", "User=a"),
			},
			after: []step{
				ob("1m", "r1", "e2", "User=a"),
				adv("5m").wants("c1{a} n=2 v=2 0s..1m @4m59.999999999s ids=e1,e2 rules=r1"),
				adv("1h"),
			},
		},
		{
			name: "value_count",
			spec: Spec{ID: "c1", Type: ValueCount, Rules: []string{"r1"}, GroupBy: []string{"Host"}, Timespan: dur("10m"), Condition: Condition{Field: "User", GTE: num(3)}},
			before: []step{
				ob("0s", "r1", "e1", "Host=h", "User=a"), ob("1s", "r1", "e2", "Host=h", "User=b"),
			},
			after: []step{
				ob("2s", "r1", "e3", "Host=h", "User=b"),
				ob("3s", "r1", "e4", "Host=h", "User=c").wants("c1{h} n=3 v=3 0s..3s @3s ids=e1,e2,e3,e4 rules=r1"),
				ob("4s", "r1", "e5", "Host=h", "User=d"),
			},
		},
		{
			name: "temporal_ordered",
			spec: Spec{ID: "c1", Type: TemporalOrdered, Rules: []string{"A", "B"}, GroupBy: []string{"Host"}, Timespan: dur("5m")},
			before: []step{
				ob("0s", "A", "e1", "Host=h"),
			},
			after: []step{
				ob("1m", "B", "e2", "Host=h").wants("c1{h} n=2 v=2 0s..1m @1m ids=e1,e2 rules=A,B"),
				ob("2m", "B", "e3", "Host=h"),
			},
		},
		{
			name: "value_percentile",
			spec: Spec{ID: "c1", Type: ValuePercentile, Rules: []string{"r1"}, GroupBy: []string{"Host"}, Timespan: dur("1h"), Condition: Condition{Field: "ms", Percentile: 50, GT: num(15)}},
			before: []step{
				ob("0s", "r1", "e1", "Host=h", "ms=10"), ob("1s", "r1", "e2", "Host=h", "ms=30"),
			},
			after: []step{
				ob("2s", "r1", "e3", "Host=h", "ms=20"),
				adv("1h").wants("c1{h} n=3 v=20 0s..2s @59m59.999999999s ids=e1,e2,e3 rules=r1"),
			},
		},
		{
			name: "value_sum",
			spec: Spec{ID: "c1", Type: ValueSum, Rules: []string{"r1"}, GroupBy: []string{"Host"}, Timespan: dur("1h"), Condition: Condition{Field: "b", GT: num(100)}},
			before: []step{
				ob("0s", "r1", "e1", "Host=h", "b=60"),
			},
			after: []step{
				ob("1s", "r1", "e2", "Host=h", "b=50").wants("c1{h} n=2 v=110 0s..1s @1s ids=e1,e2 rules=r1"),
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opt := strict
			e, err := New([]Spec{tc.spec}, opt)
			if err != nil {
				t.Fatal(err)
			}
			runSteps(t, e, tc.before)
			snap := snapshotOf(t, e)
			again := snapshotOf(t, e)
			if !bytes.Equal(snap, again) {
				t.Errorf("two snapshots of the same state differ")
			}
			r := restored(t, []Spec{tc.spec}, opt, snap)
			if g, w := r.Stats().Groups, e.Stats().Groups; g != w {
				t.Errorf("restored %d groups, snapshot had %d", g, w)
			}
			runSteps(t, r, tc.after)
			// The original engine, continued, agrees with the restored one.
			runSteps(t, e, tc.after)
		})
	}
}

func TestRestoreChangedSpecs(t *testing.T) {
	a := eventCount([]string{"User"}, "5m", Condition{GTE: num(2)})
	b := eventCount([]string{"User"}, "5m", Condition{GTE: num(2)})
	b.ID = "c2"
	e, _ := New([]Spec{a, b}, strict)
	runSteps(t, e, []step{ob("0s", "r1", "e1", "User=u")})
	snap := snapshotOf(t, e)

	changed := a
	changed.Condition = Condition{GTE: num(3)}
	added := eventCount([]string{"User"}, "5m", Condition{GTE: num(1)})
	added.ID = "c3"
	r := restored(t, []Spec{changed, b, added}, strict, snap)
	if s := r.Stats(); s.Groups != 1 || s.RestoreSkipped != 1 {
		t.Errorf("stats %+v: want c2's group restored, c1's skipped", s)
	}
	runSteps(t, r, []step{
		// c1 starts over (needs 3 now); c2 completes; c3 is new.
		ob("1m", "r1", "e2", "User=u").wants(
			"c2{u} n=2 v=2 0s..1m @1m ids=e1,e2 rules=r1",
			"c3{u} n=1 v=1 1m..1m @1m ids=e2 rules=r1"),
		ob("2m", "r1", "e3", "User=u"),
		ob("3m", "r1", "e4", "User=u").wants("c1{u} n=3 v=3 1m..3m @3m ids=e2,e3,e4 rules=r1"),
	})
}

func TestRestoreErrors(t *testing.T) {
	spec := eventCount([]string{"User"}, "5m", Condition{GTE: num(3)})
	e, _ := New([]Spec{spec}, strict)
	runSteps(t, e, []step{ob("0s", "r1", "e1", "User=u"), ob("1s", "r1", "e2", "User=u")})
	snap := snapshotOf(t, e)

	flip := bytes.Clone(snap)
	flip[len(flip)-3] ^= 0x40
	version := bytes.Clone(snap)
	version[11] = 9
	for name, data := range map[string][]byte{
		"empty":     nil,
		"not ours":  []byte("definitely not a snapshot of anything at all"),
		"truncated": snap[:len(snap)-5],
		"checksum":  flip,
		"version":   version,
	} {
		t.Run(name, func(t *testing.T) {
			r, _ := New([]Spec{spec}, strict)
			runSteps(t, r, []step{ob("10s", "r1", "k", "User=keep")})
			err := r.Restore(bytes.NewReader(data))
			if !errors.Is(err, ErrSnapshot) {
				t.Fatalf("Restore: %v, want ErrSnapshot", err)
			}
			if s := r.Stats(); s.Groups != 1 {
				t.Errorf("a failed Restore changed the state: %+v", s)
			}
		})
	}
}

// A snapshot keeps the watermark: what was late before is late after.
func TestRestoreWatermark(t *testing.T) {
	spec := eventCount([]string{"User"}, "5m", Condition{GTE: num(3)})
	opt := Options{AllowedLateness: time.Minute}
	e, _ := New([]Spec{spec}, opt)
	runSteps(t, e, []step{ob("10m", "r1", "e1", "User=u")})
	r := restored(t, []Spec{spec}, opt, snapshotOf(t, e))
	r.Observe(Observation{Rule: "r1", Time: base.Add(8 * time.Minute), Values: []string{"u"}})
	if s := r.Stats(); s.Late != 1 || !s.Watermark.Equal(base.Add(9*time.Minute)) {
		t.Errorf("stats %+v: want the observation at 8m late, watermark 9m", s)
	}
}
