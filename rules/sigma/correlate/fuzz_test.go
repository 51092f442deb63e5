package correlate

import (
	"bytes"
	"math"
	"strconv"
	"testing"
	"time"
)

// fuzzSpecs exercise every type, both ways of deciding, aliases and a chain.
func fuzzSpecs() []Spec {
	gb := []string{"G"}
	ts := 10 * time.Second
	v := func(t Type, c Condition) Spec {
		c.Field = "V"
		return Spec{Type: t, Rules: []string{"r0", "r1"}, GroupBy: gb, Timespan: ts, Condition: c}
	}
	specs := []Spec{
		{Type: EventCount, Rules: []string{"r0", "r1"}, GroupBy: gb, Timespan: ts, Condition: Condition{GTE: num(3)}},
		{Type: EventCount, Rules: []string{"r0"}, GroupBy: gb, Timespan: ts, Condition: Condition{LT: num(3)}},
		v(ValueCount, Condition{GTE: num(2)}),
		v(ValueCount, Condition{GT: num(1), LTE: num(3)}),
		{Type: Temporal, Rules: []string{"r0", "r1"}, GroupBy: gb, Timespan: ts},
		{Type: TemporalOrdered, Rules: []string{"r0", "r1", "r2"}, GroupBy: gb, Timespan: ts, Condition: Condition{GTE: num(2)}},
		{Type: TemporalOrdered, Rules: []string{"r0", "r1", "r2"}, GroupBy: gb, Timespan: ts, Condition: Condition{EQ: num(2)}},
		v(ValueSum, Condition{GT: num(10)}),
		v(ValueAvg, Condition{GTE: num(5)}),
		v(ValueMin, Condition{LTE: num(3)}),
		v(ValueMax, Condition{GTE: num(200)}),
		v(ValuePercentile, Condition{GTE: num(100), Percentile: 90}),
		v(ValueMedian, Condition{NEQ: num(5)}),
		{Type: Temporal, Rules: []string{"r0", "r2"}, GroupBy: []string{"A"}, Timespan: ts,
			Aliases: map[string]map[string]string{"A": {"r0": "G", "r2": "H"}}},
		{Type: Temporal, Rules: []string{"r0", "r1", "r2"}, GroupBy: gb, Timespan: ts,
			Condition: Condition{Expr: &Expr{And: []Expr{{Rule: "r0"}, {Not: &Expr{Rule: "r2"}}}}}},
		{Type: Temporal, Rules: []string{"r0", "r1", "r2"}, GroupBy: gb, Timespan: ts,
			Condition: Condition{Expr: &Expr{And: []Expr{{Or: []Expr{{Rule: "r0"}, {Rule: "r1"}}}, {Rule: "r2"}}}}},
		{ID: "chain", Type: EventCount, Rules: []string{"s0", "s4"}, GroupBy: gb, Timespan: time.Minute, Condition: Condition{GTE: num(2)}},
		{ID: "chain2", Type: ValueCount, Rules: []string{"chain"}, Timespan: time.Minute, Condition: Condition{Field: "G", LT: num(3)}},
	}
	for i := range specs {
		if specs[i].ID == "" {
			specs[i].ID = "s" + strconv.Itoa(i)
		}
	}
	return specs
}

var fuzzOptions = Options{MaxGroups: 12, MaxValuesPerGroup: 4, MaxEventIDs: 3, Resolution: 4, MaxOccurrences: 2}

// FuzzObserve drives an engine with arbitrary sequences of observations (in
// and out of order, late, with missing and odd values), advances and
// snapshot round trips: it must never panic, and its bounds always hold.
func FuzzObserve(f *testing.F) {
	f.Add([]byte{0, 0, 1, 5, 0, 1, 1, 5, 0, 2, 1, 5, 6, 0, 0, 200})
	f.Add([]byte{1, 1, 2, 9, 2, 0, 2, 250, 3, 2, 2, 3, 7, 0, 0, 0, 4, 1, 3, 1})
	f.Add(bytes.Repeat([]byte{0, 3, 7, 1}, 64))
	f.Fuzz(fuzzBody)
}

func fuzzBody(t *testing.T, data []byte) {
	{
		if len(data) > 1024 {
			return
		}
		opt := fuzzOptions
		if len(data) > 0 {
			opt.AllowedLateness = time.Duration(int(data[0])%4-1) * 3 * time.Second // NoLateness, 0 (default), 3s, 6s
		}
		specs := fuzzSpecs()
		e, err := New(specs, opt)
		if err != nil {
			t.Fatal(err)
		}
		now := base
		for i := 0; i+4 <= len(data); i += 4 {
			op, a, b, c := data[i], data[i+1], data[i+2], data[i+3]
			var rs []Result
			switch op % 8 {
			case 6:
				now = now.Add(time.Duration(c) * 100 * time.Millisecond)
				rs = e.Advance(now)
			case 7:
				var buf bytes.Buffer
				if err := e.Snapshot(&buf); err != nil {
					t.Fatal(err)
				}
				r, _ := New(specs, opt)
				if err := r.Restore(&buf); err != nil {
					t.Fatal(err)
				}
				e = r
			default:
				now = now.Add(time.Duration(int8(c)) * 250 * time.Millisecond)
				rule := "r" + strconv.Itoa(int(a)%3)
				fields := e.Fields(rule)
				vals := make([]string, len(fields))
				for j, f := range fields {
					switch {
					case f == "V" && b%5 == 4:
						vals[j] = "x" + strconv.Itoa(int(b))
					case f == "V":
						vals[j] = strconv.Itoa(int(b))
					case b%7 == 6:
						vals[j] = ""
					default:
						vals[j] = "g" + strconv.Itoa(int(b+a)%4)
					}
				}
				rs = e.Observe(Observation{Rule: rule, Time: now, EventID: "e" + strconv.Itoa(i), Values: vals})
			}
			for _, r := range rs {
				if r.Count < 0 || len(r.EventIDs) > opt.MaxEventIDs || math.IsNaN(r.Value) || r.Last.Before(r.First) {
					t.Fatalf("op %d: bad result %s", i/4, fmtResult(r))
				}
			}
			if err := e.check(); err != nil {
				t.Fatalf("op %d: %v", i/4, err)
			}
		}
	}
}

// TestBoundedMemory feeds one group far more than any per-group bound.
func TestBoundedMemory(t *testing.T) {
	specs := []Spec{
		{ID: "count", Type: EventCount, Rules: []string{"r"}, GroupBy: []string{"G"}, Timespan: 10 * time.Second, Condition: Condition{GTE: num(1e9)}},
		{ID: "distinct", Type: ValueCount, Rules: []string{"r"}, GroupBy: []string{"G"}, Timespan: 10 * time.Second, Condition: Condition{Field: "V", GTE: num(100)}},
		{ID: "pct", Type: ValuePercentile, Rules: []string{"r"}, GroupBy: []string{"G"}, Timespan: time.Hour, Condition: Condition{Field: "N", Percentile: 50, GT: num(1e9)}},
	}
	opt := Options{MaxValuesPerGroup: 100, AllowedLateness: time.Second}
	e, err := New(specs, opt)
	if err != nil {
		t.Fatal(err)
	}
	fields := e.Fields("r")
	vals := make([]string, len(fields))
	for i := range 200_000 {
		for j, f := range fields {
			switch f {
			case "G":
				vals[j] = "g"
			case "V":
				vals[j] = "u" + strconv.Itoa(i%5000)
			case "N":
				vals[j] = strconv.Itoa(i)
			}
		}
		if rs := e.Observe(Observation{Rule: "r", Time: base.Add(time.Duration(i) * time.Millisecond), EventID: strconv.Itoa(i), Values: vals}); len(rs) > 1 {
			t.Fatalf("%d results at once", len(rs))
		}
	}
	if err := e.check(); err != nil {
		t.Fatal(err)
	}
	cs := e.byKey["count"].groups[string(append([]byte{1}, 'g'))].sl.(*cells)
	if n := len(cs.live()); n > 34 {
		t.Errorf("event_count group holds %d cells after 200000 events", n)
	}
	if n := e.byKey["pct"].groups["\x01g"].wins[0]; len(n.Samples) != 100 || n.Seen != 200_000 {
		t.Errorf("percentile window holds %d samples of %d", len(n.Samples), n.Seen)
	}
	if s := e.Stats(); s.ValuesCapped == 0 || s.Results == 0 {
		t.Errorf("stats %+v: want capped values and some value_count results", s)
	}
}
