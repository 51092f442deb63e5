package correlate

import (
	"testing"
	"time"
)

// The conformance suite for Sigma correlations: one scenario per behaviour,
// each a sequence of Observe/Advance calls with the results every call must
// return. Results read key{group} n=Count v=Value First..Last @At ids rules.

func eventCount(gb []string, span string, c Condition) Spec {
	return Spec{ID: "c1", Type: EventCount, Rules: []string{"r1"}, GroupBy: gb, Timespan: dur(span), Condition: c}
}

func TestEventCount(t *testing.T) {
	gte3 := eventCount([]string{"User"}, "5m", Condition{GTE: num(3)})
	for _, sc := range []scenario{
		{
			name: "reaches threshold", specs: []Spec{gte3}, opt: strict,
			steps: []step{
				ob("0s", "r1", "e1", "User=alice"),
				ob("1m", "r1", "e2", "User=alice"),
				ob("2m", "r1", "e3", "User=alice").wants("c1{alice} n=3 v=3 0s..2m @2m ids=e1,e2,e3 rules=r1"),
			},
		},
		{
			name: "below threshold", specs: []Spec{gte3}, opt: strict,
			steps: []step{
				ob("0s", "r1", "e1", "User=alice"),
				ob("1m", "r1", "e2", "User=alice"),
				adv("1h"),
			},
			check: func(t *testing.T, e *Engine) {
				if s := e.Stats(); s.Groups != 0 || s.Expired != 1 {
					t.Errorf("stats %+v: want the group expired", s)
				}
			},
		},
		{
			name: "outside timespan", specs: []Spec{gte3}, opt: strict,
			steps: []step{
				ob("0s", "r1", "e1", "User=alice"),
				ob("3m", "r1", "e2", "User=alice"),
				ob("6m", "r1", "e3", "User=alice"),
				ob("9m", "r1", "e4", "User=alice"),
			},
		},
		{
			name: "exactly one timespan apart is within", specs: []Spec{gte3}, opt: strict,
			steps: []step{
				ob("0s", "r1", "e1", "User=alice"),
				ob("2m", "r1", "e2", "User=alice"),
				ob("5m", "r1", "e3", "User=alice").wants("c1{alice} n=3 v=3 0s..5m @5m ids=e1,e2,e3 rules=r1"),
			},
		},
		{
			name: "sliding window is not bound to clock boundaries", specs: []Spec{gte3}, opt: strict,
			steps: []step{
				ob("4m", "r1", "e1", "User=alice"),
				ob("4m30s", "r1", "e2", "User=alice"),
				ob("5m10s", "r1", "e3", "User=alice").wants("c1{alice} n=3 v=3 4m..5m10s @5m10s ids=e1,e2,e3 rules=r1"),
			},
		},
		{
			name: "groups do not mix", specs: []Spec{gte3}, opt: strict,
			steps: []step{
				ob("0s", "r1", "a1", "User=alice"),
				ob("10s", "r1", "b1", "User=bob"),
				ob("20s", "r1", "a2", "User=alice"),
				ob("30s", "r1", "b2", "User=bob"),
				ob("40s", "r1", "a3", "User=alice").wants("c1{alice} n=3 v=3 0s..40s @40s ids=a1,a2,a3 rules=r1"),
			},
		},
		{
			name: "two group-by fields", specs: []Spec{eventCount([]string{"User", "Host"}, "5m", Condition{GTE: num(2)})}, opt: strict,
			steps: []step{
				ob("0s", "r1", "e1", "User=alice", "Host=h1"),
				ob("10s", "r1", "e2", "User=alice", "Host=h2"),
				ob("20s", "r1", "e3", "User=alice", "Host=h1").wants("c1{alice,h1} n=2 v=2 0s..20s @20s ids=e1,e3 rules=r1"),
			},
		},
		{
			name: "missing group-by value is not a group", specs: []Spec{gte3}, opt: strict,
			steps: []step{
				ob("0s", "r1", "e1"), ob("1s", "r1", "e2"), ob("2s", "r1", "e3"),
			},
			check: func(t *testing.T, e *Engine) {
				if s := e.Stats(); s.MissingGroup != 3 || s.Groups != 0 {
					t.Errorf("stats %+v: want 3 MissingGroup, no group", s)
				}
			},
		},
		{
			name: "no group-by: one group", specs: []Spec{eventCount(nil, "5m", Condition{GT: num(1)})}, opt: strict,
			steps: []step{
				ob("0s", "r1", "e1"),
				ob("1s", "r1", "e2").wants("c1{} n=2 v=2 0s..1s @1s ids=e1,e2 rules=r1"),
			},
		},
		{
			name: "re-arm: one match per timespan, events consumed", specs: []Spec{eventCount([]string{"User"}, "5m", Condition{GTE: num(2)})}, opt: strict,
			steps: []step{
				ob("0s", "r1", "e1", "User=alice"),
				ob("1m", "r1", "e2", "User=alice").wants("c1{alice} n=2 v=2 0s..1m @1m ids=e1,e2 rules=r1"),
				ob("2m", "r1", "e3", "User=alice"),
				ob("3m", "r1", "e4", "User=alice"), // holds, but within 5m of the match: suppressed
				ob("5m", "r1", "e5", "User=alice"),
				ob("6m30s", "r1", "e6", "User=alice").wants("c1{alice} n=4 v=4 2m..6m30s @6m30s ids=e3,e4,e5,e6 rules=r1"),
				ob("7m", "r1", "e7", "User=alice"),
			},
			check: func(t *testing.T, e *Engine) {
				if s := e.Stats(); s.Suppressed != 2 || s.Results != 2 {
					t.Errorf("stats %+v: want 2 suppressed, 2 results", s)
				}
			},
		},
		{
			name: "lt decided when the window closes", specs: []Spec{eventCount([]string{"User"}, "5m", Condition{LT: num(3)})}, opt: strict,
			steps: []step{
				ob("1m", "r1", "a1", "User=alice"),
				ob("1m", "r1", "b1", "User=bob"),
				ob("2m", "r1", "a2", "User=alice"),
				ob("2m", "r1", "b2", "User=bob"),
				ob("3m", "r1", "b3", "User=bob"),
				ob("4m59s", "r1", "c1", "User=carol"),
				// The observation at 5m moves the watermark to the window's end.
				ob("5m", "r1", "c2", "User=carol").wants(
					"c1{alice} n=2 v=2 1m..2m @4m59.999999999s ids=a1,a2 rules=r1",
					"c1{carol} n=1 v=1 4m59s..4m59s @4m59.999999999s ids=c1 rules=r1"),
				adv("10m").wants("c1{carol} n=1 v=1 5m..5m @9m59.999999999s ids=c2 rules=r1"),
			},
		},
		{
			name: "lte", specs: []Spec{eventCount([]string{"User"}, "1h", Condition{LTE: num(1)})}, opt: strict,
			steps: []step{
				ob("10m", "r1", "a1", "User=alice"),
				ob("20m", "r1", "b1", "User=bob"),
				ob("30m", "r1", "b2", "User=bob"),
				adv("1h").wants("c1{alice} n=1 v=1 10m..10m @59m59.999999999s ids=a1 rules=r1"),
			},
		},
		{
			name: "range gt and lte", specs: []Spec{eventCount([]string{"User"}, "10m", Condition{GT: num(1), LTE: num(3)})}, opt: strict,
			steps: []step{
				ob("0s", "r1", "a1", "User=alice"),
				ob("0s", "r1", "b1", "User=bob"),
				ob("0s", "r1", "c1", "User=carol"),
				ob("1s", "r1", "b2", "User=bob"),
				ob("1s", "r1", "c2", "User=carol"), ob("2s", "r1", "c3", "User=carol"), ob("3s", "r1", "c4", "User=carol"),
				adv("10m").wants("c1{bob} n=2 v=2 0s..1s @9m59.999999999s ids=b1,b2 rules=r1"),
			},
		},
		{
			name: "eq", specs: []Spec{eventCount([]string{"User"}, "10m", Condition{EQ: num(2)})}, opt: strict,
			steps: []step{
				ob("0s", "r1", "a1", "User=alice"),
				ob("0s", "r1", "b1", "User=bob"), ob("1s", "r1", "b2", "User=bob"),
				adv("10m").wants("c1{bob} n=2 v=2 0s..1s @9m59.999999999s ids=b1,b2 rules=r1"),
			},
		},
		{
			name: "neq", specs: []Spec{eventCount([]string{"User"}, "10m", Condition{NEQ: num(2)})}, opt: strict,
			steps: []step{
				ob("0s", "r1", "a1", "User=alice"),
				ob("0s", "r1", "b1", "User=bob"), ob("1s", "r1", "b2", "User=bob"),
				adv("10m").wants("c1{alice} n=1 v=1 0s..0s @9m59.999999999s ids=a1 rules=r1"),
			},
		},
		{
			name: "several rules", specs: []Spec{{ID: "c1", Type: EventCount, Rules: []string{"r1", "r2"}, GroupBy: []string{"User"}, Timespan: dur("5m"), Condition: Condition{GTE: num(3)}}}, opt: strict,
			steps: []step{
				ob("0s", "r1", "e1", "User=alice"),
				ob("1s", "r2", "e2", "User=alice"),
				ob("2s", "r2", "e3", "User=alice").wants("c1{alice} n=3 v=3 0s..2s @2s ids=e1,e2,e3 rules=r1,r2"),
			},
		},
	} {
		t.Run(sc.name, func(t *testing.T) { runScenario(t, sc) })
	}
}

func TestValueCount(t *testing.T) {
	vc := func(c Condition) Spec {
		c.Field = "User"
		return Spec{ID: "c1", Type: ValueCount, Rules: []string{"r1"}, GroupBy: []string{"Host"}, Timespan: dur("10m"), Condition: c}
	}
	for _, sc := range []scenario{
		{
			name: "distinct values reach threshold", specs: []Spec{vc(Condition{GTE: num(3)})}, opt: strict,
			steps: []step{
				ob("0s", "r1", "e1", "Host=h1", "User=a"),
				ob("1m", "r1", "e2", "Host=h1", "User=b"),
				ob("2m", "r1", "e3", "Host=h1", "User=a"),
				ob("3m", "r1", "e4", "Host=h1", "User=b"),
				ob("4m", "r1", "e5", "Host=h1", "User=c").wants("c1{h1} n=3 v=3 0s..4m @4m ids=e1,e2,e3,e4,e5 rules=r1"),
			},
		},
		{
			name: "repeated value is one", specs: []Spec{vc(Condition{GT: num(1)})}, opt: strict,
			steps: []step{
				ob("0s", "r1", "e1", "Host=h1", "User=a"),
				ob("1s", "r1", "e2", "Host=h1", "User=a"),
				ob("2s", "r1", "e3", "Host=h1", "User=a"),
			},
		},
		{
			name: "values outside timespan", specs: []Spec{vc(Condition{GTE: num(2)})}, opt: strict,
			steps: []step{
				ob("0s", "r1", "e1", "Host=h1", "User=a"),
				ob("10m1s", "r1", "e2", "Host=h1", "User=b"),
				ob("10m2s", "r1", "e3", "Host=h1", "User=b"),
				ob("10m3s", "r1", "e4", "Host=h1", "User=a").wants("c1{h1} n=2 v=2 10m1s..10m3s @10m3s ids=e2,e3,e4 rules=r1"),
			},
		},
		{
			name: "empty value is no value", specs: []Spec{vc(Condition{GTE: num(2)})}, opt: strict,
			steps: []step{
				ob("0s", "r1", "e1", "Host=h1", "User=a"),
				ob("1s", "r1", "e2", "Host=h1"),
			},
			check: func(t *testing.T, e *Engine) {
				if s := e.Stats(); s.MissingValue != 1 {
					t.Errorf("MissingValue %d, want 1", s.MissingValue)
				}
			},
		},
		{
			name: "lt decided at window close", specs: []Spec{vc(Condition{LT: num(2)})}, opt: strict,
			steps: []step{
				ob("0s", "r1", "e1", "Host=h1", "User=a"),
				ob("1s", "r1", "e2", "Host=h1", "User=a"),
				ob("2s", "r1", "e3", "Host=h2", "User=a"),
				ob("3s", "r1", "e4", "Host=h2", "User=b"),
				ob("4s", "r1", "e5", "Host=h2", "User=c"),
				adv("10m").wants("c1{h1} n=2 v=1 0s..1s @9m59.999999999s ids=e1,e2 rules=r1"),
			},
		},
	} {
		t.Run(sc.name, func(t *testing.T) { runScenario(t, sc) })
	}
}

func TestTemporal(t *testing.T) {
	tmp := func(typ Type, c Condition) Spec {
		return Spec{ID: "c1", Type: typ, Rules: []string{"A", "B", "C"}, GroupBy: []string{"Host"}, Timespan: dur("5m"), Condition: c}
	}
	for _, sc := range []scenario{
		{
			name: "all rules any order", specs: []Spec{tmp(Temporal, Condition{})}, opt: strict,
			steps: []step{
				ob("0s", "C", "e1", "Host=h1"),
				ob("1m", "A", "e2", "Host=h1"),
				ob("1m", "A", "e3", "Host=h1"),
				ob("2m", "B", "e4", "Host=h1").wants("c1{h1} n=4 v=3 0s..2m @2m ids=e1,e2,e3,e4 rules=A,B,C"),
			},
		},
		{
			name: "a rule missing", specs: []Spec{tmp(Temporal, Condition{})}, opt: strict,
			steps: []step{
				ob("0s", "A", "e1", "Host=h1"), ob("1m", "B", "e2", "Host=h1"), ob("2m", "B", "e3", "Host=h1"),
				ob("3m", "C", "e4", "Host=h2"),
			},
		},
		{
			name: "outside timespan", specs: []Spec{tmp(Temporal, Condition{})}, opt: strict,
			steps: []step{
				ob("0s", "A", "e1", "Host=h1"), ob("3m", "B", "e2", "Host=h1"), ob("5m1s", "C", "e3", "Host=h1"),
			},
		},
		{
			name: "two of three", specs: []Spec{tmp(Temporal, Condition{GTE: num(2)})}, opt: strict,
			steps: []step{
				ob("0s", "A", "e1", "Host=h1"),
				ob("1s", "A", "e2", "Host=h1"),
				ob("2s", "C", "e3", "Host=h1").wants("c1{h1} n=3 v=2 0s..2s @2s ids=e1,e2,e3 rules=A,C"),
			},
		},
		{
			name: "ordered in order", specs: []Spec{tmp(TemporalOrdered, Condition{})}, opt: strict,
			steps: []step{
				ob("0s", "A", "e1", "Host=h1"),
				ob("1m", "B", "e2", "Host=h1"),
				ob("2m", "C", "e3", "Host=h1").wants("c1{h1} n=3 v=3 0s..2m @2m ids=e1,e2,e3 rules=A,B,C"),
			},
		},
		{
			name: "ordered wrong order", specs: []Spec{tmp(TemporalOrdered, Condition{})}, opt: strict,
			steps: []step{
				ob("0s", "B", "e1", "Host=h1"), ob("1m", "A", "e2", "Host=h1"), ob("2m", "C", "e3", "Host=h1"),
			},
		},
		{
			name: "ordered finds the earlier occurrence", specs: []Spec{tmp(TemporalOrdered, Condition{})}, opt: strict,
			steps: []step{
				ob("0s", "A", "e1", "Host=h1"), ob("1m", "B", "e2", "Host=h1"), ob("2m", "A", "e3", "Host=h1"),
				ob("3m", "C", "e4", "Host=h1").wants("c1{h1} n=4 v=3 0s..3m @3m ids=e1,e2,e3,e4 rules=A,B,C"),
			},
		},
		{
			name: "ordered equal times count as in order", specs: []Spec{tmp(TemporalOrdered, Condition{})}, opt: strict,
			steps: []step{
				ob("0s", "C", "e1", "Host=h1"), ob("0s", "B", "e2", "Host=h1"),
				ob("0s", "A", "e3", "Host=h1").wants("c1{h1} n=3 v=3 0s..0s @0s ids=e1,e2,e3 rules=A,B,C"),
			},
		},
		{
			name: "ordered two of three in order", specs: []Spec{tmp(TemporalOrdered, Condition{GTE: num(2)})}, opt: strict,
			steps: []step{
				ob("0s", "C", "e1", "Host=h1"),
				ob("1s", "A", "e2", "Host=h1"),
				ob("2s", "C", "e3", "Host=h1").wants("c1{h1} n=2 v=2 1s..2s @2s ids=e2,e3 rules=A,C"),
			},
		},
		{
			name: "ordered out of order arrival within lateness", specs: []Spec{tmp(TemporalOrdered, Condition{GTE: num(2)})},
			opt: Options{AllowedLateness: time.Minute},
			steps: []step{
				ob("1m", "B", "e1", "Host=h1"),
				// A happened before B but arrives after it.
				ob("30s", "A", "e2", "Host=h1").wants("c1{h1} n=2 v=2 30s..1m @1m ids=e2,e1 rules=A,B"),
			},
		},
		{
			name: "temporal lt decided at close", specs: []Spec{tmp(Temporal, Condition{LT: num(2)})}, opt: strict,
			steps: []step{
				ob("0s", "A", "e1", "Host=h1"), ob("0s", "A", "e3", "Host=h2"),
				ob("1s", "A", "e2", "Host=h1"), ob("1s", "B", "e4", "Host=h2"),
				adv("5m").wants("c1{h1} n=2 v=1 0s..1s @4m59.999999999s ids=e1,e2 rules=A"),
			},
		},
		{
			name: "ordered eq decided at close", specs: []Spec{tmp(TemporalOrdered, Condition{EQ: num(2)})}, opt: strict,
			steps: []step{
				ob("0s", "B", "e1", "Host=h1"), ob("0s", "A", "e3", "Host=h2"),
				ob("1s", "C", "e2", "Host=h1"), ob("1s", "B", "e4", "Host=h2"), ob("2s", "C", "e5", "Host=h2"),
				adv("5m").wants("c1{h1} n=2 v=2 0s..1s @4m59.999999999s ids=e1,e2 rules=B,C"),
			},
		},
		{
			name: "expression without not: eager", specs: []Spec{tmp(Temporal, Condition{Expr: &Expr{And: []Expr{{Or: []Expr{{Rule: "A"}, {Rule: "B"}}}, {Rule: "C"}}}})}, opt: strict,
			steps: []step{
				ob("0s", "C", "e1", "Host=h1"),
				ob("1m", "B", "e2", "Host=h1").wants("c1{h1} n=2 v=2 0s..1m @1m ids=e1,e2 rules=B,C"),
				ob("2m", "C", "e3", "Host=h2"),
			},
		},
		{
			name: "expression with not: decided at close", specs: []Spec{tmp(Temporal, Condition{Expr: &Expr{And: []Expr{{Rule: "A"}, {Not: &Expr{Rule: "B"}}}}})}, opt: strict,
			steps: []step{
				ob("0s", "A", "e1", "Host=h1"), ob("0s", "A", "e2", "Host=h2"),
				ob("1m", "C", "e3", "Host=h1"), ob("1m", "B", "e4", "Host=h2"),
				ob("4m", "B", "e5", "Host=h3"),
				adv("5m").wants("c1{h1} n=2 v=2 0s..1m @4m59.999999999s ids=e1,e3 rules=A,C"),
			},
		},
	} {
		t.Run(sc.name, func(t *testing.T) { runScenario(t, sc) })
	}
}

func TestAliases(t *testing.T) {
	// The specification's example: an internal error and a new connection
	// between the same two addresses, seen from opposite ends.
	spec := Spec{
		ID: "c1", Type: Temporal, Rules: []string{"internal_error", "new_network_connection"},
		GroupBy: []string{"internal_ip", "remote_ip"}, Timespan: dur("10s"),
		Aliases: map[string]map[string]string{
			"internal_ip": {"internal_error": "destination.ip", "new_network_connection": "source.ip"},
			"remote_ip":   {"internal_error": "source.ip", "new_network_connection": "destination.ip"},
		},
	}
	sc := scenario{
		name: "aliases", specs: []Spec{spec}, opt: strict,
		steps: []step{
			ob("0s", "internal_error", "e1", "destination.ip=10.0.0.5", "source.ip=1.2.3.4"),
			// Same addresses, but not the aliased way round: another group.
			ob("1s", "new_network_connection", "e2", "source.ip=1.2.3.4", "destination.ip=10.0.0.5"),
			ob("2s", "new_network_connection", "e3", "source.ip=10.0.0.5", "destination.ip=1.2.3.4").
				wants("c1{10.0.0.5,1.2.3.4} n=2 v=2 0s..2s @2s ids=e1,e3 rules=internal_error,new_network_connection"),
		},
	}
	e := runScenario(t, sc)
	if f := e.Fields("internal_error"); len(f) != 2 || f[0] != "destination.ip" || f[1] != "source.ip" {
		t.Errorf("Fields(internal_error) = %v", f)
	}
	if f := e.Fields("new_network_connection"); len(f) != 2 || f[0] != "source.ip" || f[1] != "destination.ip" {
		t.Errorf("Fields(new_network_connection) = %v", f)
	}
}

func TestMetrics(t *testing.T) {
	metric := func(typ Type, c Condition) Spec {
		c.Field = "bytes"
		return Spec{ID: "c1", Type: typ, Rules: []string{"r1"}, GroupBy: []string{"User"}, Timespan: dur("1h"), Condition: c}
	}
	pct := func(p float64, c Condition) Spec {
		c.Percentile = p
		return metric(ValuePercentile, c)
	}
	for _, sc := range []scenario{
		{
			name: "value_sum gt fires as soon as it holds", specs: []Spec{metric(ValueSum, Condition{GT: num(1000)})}, opt: strict,
			steps: []step{
				ob("0s", "r1", "e1", "User=a", "bytes=600"),
				ob("1m", "r1", "e2", "User=a", "bytes=400"),
				ob("2m", "r1", "e3", "User=a", "bytes=1.5").wants("c1{a} n=3 v=1001.5 0s..2m @2m ids=e1,e2,e3 rules=r1"),
			},
		},
		{
			name: "value_sum outside timespan", specs: []Spec{metric(ValueSum, Condition{GT: num(1000)})}, opt: strict,
			steps: []step{
				ob("0s", "r1", "e1", "User=a", "bytes=600"),
				ob("1h1m", "r1", "e2", "User=a", "bytes=600"),
			},
		},
		{
			name: "value_sum lte decided at close", specs: []Spec{metric(ValueSum, Condition{LTE: num(10)})}, opt: strict,
			steps: []step{
				ob("0s", "r1", "e1", "User=a", "bytes=6"), ob("0s", "r1", "e3", "User=b", "bytes=11"),
				ob("1s", "r1", "e2", "User=a", "bytes=4"),
				adv("1h").wants("c1{a} n=2 v=10 0s..1s @59m59.999999999s ids=e1,e2 rules=r1"),
			},
		},
		{
			name: "value_max gte", specs: []Spec{metric(ValueMax, Condition{GTE: num(100)})}, opt: strict,
			steps: []step{
				ob("0s", "r1", "e1", "User=a", "bytes=50"),
				ob("1s", "r1", "e2", "User=a", "bytes=150").wants("c1{a} n=2 v=150 0s..1s @1s ids=e1,e2 rules=r1"),
			},
		},
		{
			name: "value_min lte", specs: []Spec{metric(ValueMin, Condition{LTE: num(400)})}, opt: strict,
			steps: []step{
				ob("0s", "r1", "e1", "User=a", "bytes=500"),
				ob("1s", "r1", "e2", "User=a", "bytes=300").wants("c1{a} n=2 v=300 0s..1s @1s ids=e1,e2 rules=r1"),
			},
		},
		{
			name: "value_min gt decided at close", specs: []Spec{metric(ValueMin, Condition{GT: num(100)})}, opt: strict,
			steps: []step{
				ob("0s", "r1", "e1", "User=a", "bytes=150"), ob("0s", "r1", "e3", "User=b", "bytes=150"),
				ob("1s", "r1", "e2", "User=a", "bytes=200"), ob("1s", "r1", "e4", "User=b", "bytes=50"),
				adv("1h").wants("c1{a} n=2 v=150 0s..1s @59m59.999999999s ids=e1,e2 rules=r1"),
			},
		},
		{
			name: "value_avg gt decided at close", specs: []Spec{metric(ValueAvg, Condition{GT: num(500)})}, opt: strict,
			steps: []step{
				ob("0s", "r1", "e1", "User=a", "bytes=600"), ob("0s", "r1", "e3", "User=b", "bytes=600"),
				ob("1s", "r1", "e2", "User=a", "bytes=300"), ob("1s", "r1", "e4", "User=b", "bytes=700"),
				adv("1h").wants("c1{b} n=2 v=650 0s..1s @59m59.999999999s ids=e3,e4 rules=r1"),
			},
		},
		{
			name: "value_percentile p95", specs: []Spec{pct(95, Condition{GTE: num(95)})}, opt: strict,
			steps: func() []step {
				var s []step
				for i := 1; i <= 100; i++ {
					s = append(s, ob("1s", "r1", "", "User=a", "bytes="+itoa(i)))
				}
				return append(s, adv("1h").wants("c1{a} n=100 v=95.05 1s..1s @59m59.999999999s ids= rules=r1"))
			}(),
		},
		{
			name: "value_median", specs: []Spec{{ID: "c1", Type: ValueMedian, Rules: []string{"r1"}, GroupBy: []string{"User"}, Timespan: dur("1h"), Condition: Condition{Field: "bytes", EQ: num(2.5)}}}, opt: strict,
			steps: []step{
				ob("0s", "r1", "e1", "User=a", "bytes=4"), ob("1s", "r1", "e2", "User=a", "bytes=1"),
				ob("2s", "r1", "e3", "User=a", "bytes=3"), ob("3s", "r1", "e4", "User=a", "bytes=2"),
				adv("1h").wants("c1{a} n=4 v=2.5 0s..3s @59m59.999999999s ids=e1,e2,e3,e4 rules=r1"),
			},
		},
		{
			name: "not a number is ignored", specs: []Spec{metric(ValueSum, Condition{GTE: num(2)})}, opt: strict,
			steps: []step{
				ob("0s", "r1", "e1", "User=a", "bytes=1"),
				ob("1s", "r1", "e2", "User=a", "bytes=lots"),
				ob("2s", "r1", "e3", "User=a"),
				ob("3s", "r1", "e4", "User=a", "bytes= 1 ").wants("c1{a} n=2 v=2 0s..3s @3s ids=e1,e4 rules=r1"),
			},
			check: func(t *testing.T, e *Engine) {
				if s := e.Stats(); s.MissingValue != 2 {
					t.Errorf("MissingValue %d, want 2", s.MissingValue)
				}
			},
		},
	} {
		t.Run(sc.name, func(t *testing.T) { runScenario(t, sc) })
	}
}

func itoa(i int) string {
	const digits = "0123456789"
	if i < 10 {
		return digits[i : i+1]
	}
	return itoa(i/10) + digits[i%10:i%10+1]
}

// The specification's example: multiple failed logins followed by a
// successful login, plus a third level counting those per user.
func chainSpecs() []Spec {
	return []Spec{
		{
			ID: "b180ead8", Type: TemporalOrdered, Rules: []string{"multiple_failed_login", "successful_login"},
			GroupBy: []string{"User"}, Timespan: dur("10m"),
		},
		{
			ID: "a8418a5a", Name: "multiple_failed_login", Type: EventCount, Rules: []string{"failed_login"},
			GroupBy: []string{"User", "Host"}, Timespan: dur("10m"), Condition: Condition{GTE: num(3)},
		},
		{
			ID: "repeat", Type: EventCount, Rules: []string{"b180ead8"},
			GroupBy: []string{"User"}, Timespan: dur("1h"), Condition: Condition{GTE: num(2)},
		},
	}
}

func TestChaining(t *testing.T) {
	sc := scenario{
		name: "two levels", specs: chainSpecs(), opt: strict,
		steps: []step{
			ob("0s", "failed_login", "f1", "User=alice", "Host=h1"),
			ob("1m", "failed_login", "f2", "User=alice", "Host=h1"),
			ob("1m", "successful_login", "s0", "User=alice"), // before the failures completed
			ob("2m", "failed_login", "f3", "User=alice", "Host=h1").wants(
				"a8418a5a{alice,h1} n=3 v=3 0s..2m @2m ids=f1,f2,f3 rules=failed_login hidden"),
			ob("3m", "successful_login", "s1", "User=bob"),
			ob("4m", "successful_login", "s2", "User=alice").wants(
				"b180ead8{alice} n=2 v=2 2m..4m @4m ids=f1,f2,f3,s2 rules=multiple_failed_login,successful_login hidden"),
			// A second round, a timespan later: the third level sees two.
			ob("20m", "failed_login", "f4", "User=alice", "Host=h2"),
			ob("20m", "failed_login", "f5", "User=alice", "Host=h2"),
			ob("21m", "failed_login", "f6", "User=alice", "Host=h2").wants(
				"a8418a5a{alice,h2} n=3 v=3 20m..21m @21m ids=f4,f5,f6 rules=failed_login hidden"),
			ob("22m", "successful_login", "s3", "User=alice").wants(
				"b180ead8{alice} n=2 v=2 21m..22m @22m ids=f4,f5,f6,s3 rules=multiple_failed_login,successful_login hidden",
				"repeat{alice} n=2 v=2 4m..22m @22m ids=f1,f2,f3,s2,f4,f5,f6,s3 rules=b180ead8"),
		},
	}
	runScenario(t, sc)
}

func TestChainingWindowClose(t *testing.T) {
	// An inner correlation decided at window close feeds an outer one whose
	// window closes at the same watermark: the outer sees it first.
	specs := []Spec{
		{ID: "quiet", Type: EventCount, Rules: []string{"hb"}, GroupBy: []string{"Host"}, Timespan: dur("5m"), Condition: Condition{LT: num(2)}},
		{ID: "many", Type: EventCount, Rules: []string{"quiet"}, Timespan: dur("5m"), Condition: Condition{GTE: num(2)}, GroupBy: nil},
		{ID: "few", Type: EventCount, Rules: []string{"quiet"}, Timespan: dur("5m"), Condition: Condition{LTE: num(2)}, GroupBy: nil, Generate: true},
	}
	runScenario(t, scenario{
		name: "close order", specs: specs, opt: strict,
		steps: []step{
			ob("0s", "hb", "a", "Host=h1"),
			ob("1s", "hb", "b", "Host=h2"),
			ob("2s", "hb", "c", "Host=h3"), ob("3s", "hb", "d", "Host=h3"),
			adv("5m").wants(
				"quiet{h1} n=1 v=1 0s..0s @4m59.999999999s ids=a rules=hb",
				"quiet{h2} n=1 v=1 1s..1s @4m59.999999999s ids=b rules=hb",
				"many{} n=2 v=2 4m59.999999999s..4m59.999999999s @4m59.999999999s ids=a,b rules=quiet",
				"few{} n=2 v=2 4m59.999999999s..4m59.999999999s @4m59.999999999s ids=a,b rules=quiet"),
		},
	})
}

func TestLateness(t *testing.T) {
	spec := eventCount([]string{"User"}, "5m", Condition{GTE: num(3)})
	runScenario(t, scenario{
		name: "late", specs: []Spec{spec}, opt: Options{AllowedLateness: time.Minute},
		steps: []step{
			ob("10m", "r1", "e1", "User=a"),
			ob("8m59s", "r1", "e2", "User=a"), // watermark is 9m: late
			ob("9m", "r1", "e3", "User=a"),    // at the watermark: accepted
			ob("9m30s", "r1", "e4", "User=a").wants("c1{a} n=3 v=3 9m..10m @10m ids=e3,e4,e1 rules=r1"),
		},
		check: func(t *testing.T, e *Engine) {
			s := e.Stats()
			if s.Late != 1 || s.Observed != 3 {
				t.Errorf("stats %+v: want 1 late, 3 observed", s)
			}
			if !s.Watermark.Equal(base.Add(9 * time.Minute)) {
				t.Errorf("watermark %v", s.Watermark)
			}
		},
	})
	runScenario(t, scenario{
		name: "window closes only after lateness", specs: []Spec{eventCount([]string{"User"}, "5m", Condition{LT: num(5)})},
		opt: Options{AllowedLateness: time.Minute},
		steps: []step{
			ob("4m", "r1", "e1", "User=a"),
			ob("5m30s", "r1", "e2", "User=b"),
			ob("4m40s", "r1", "e3", "User=a"), // late for the clock, not for the window
			ob("6m", "r1", "e4", "User=b").wants("c1{a} n=2 v=2 4m..4m40s @4m59.999999999s ids=e1,e3 rules=r1"),
		},
	})
}

func TestOutOfOrderWithinLateness(t *testing.T) {
	runScenario(t, scenario{
		name: "event_count", specs: []Spec{eventCount([]string{"User"}, "5m", Condition{GTE: num(3)})},
		opt: Options{AllowedLateness: 10 * time.Minute},
		steps: []step{
			ob("0s", "r1", "e1", "User=a"),
			ob("2m", "r1", "e2", "User=a"),
			ob("8m", "r1", "e3", "User=a"),
			ob("1m", "r1", "e4", "User=a").wants("c1{a} n=3 v=3 0s..2m @2m ids=e1,e4,e2 rules=r1"),
			ob("7m", "r1", "e5", "User=a"), // after the match, within the hold
		},
	})
}

func TestEviction(t *testing.T) {
	spec := eventCount([]string{"User"}, "5m", Condition{GTE: num(2)})
	runScenario(t, scenario{
		name: "max groups", specs: []Spec{spec}, opt: Options{AllowedLateness: NoLateness, MaxGroups: 2},
		steps: []step{
			ob("0s", "r1", "a1", "User=a"),
			ob("1s", "r1", "b1", "User=b"),
			ob("2s", "r1", "c1", "User=c"), // evicts a, the stalest
			ob("3s", "r1", "a2", "User=a"), // a starts over, evicting b
			ob("4s", "r1", "c2", "User=c").wants("c1{c} n=2 v=2 2s..4s @4s ids=c1,c2 rules=r1"),
		},
		check: func(t *testing.T, e *Engine) {
			if s := e.Stats(); s.Evicted != 2 || s.Groups != 2 {
				t.Errorf("stats %+v: want 2 evicted, 2 groups", s)
			}
		},
	})
}

func TestGenerate(t *testing.T) {
	specs := chainSpecs()
	e, err := New(specs, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for rule, want := range map[string]bool{"failed_login": false, "successful_login": false, "unrelated": true} {
		if got := e.Standalone(rule); got != want {
			t.Errorf("Standalone(%s) = %t, want %t", rule, got, want)
		}
	}
	specs[0].Generate = true
	e, _ = New(specs, Options{})
	if !e.Standalone("successful_login") || e.Standalone("failed_login") {
		t.Errorf("generate on the outer correlation: successful_login should stand alone, failed_login not")
	}
	if got := e.Rules(); len(got) != 2 || got[0] != "failed_login" || got[1] != "successful_login" {
		t.Errorf("Rules() = %v", got)
	}
}

func TestFields(t *testing.T) {
	specs := []Spec{
		{ID: "c1", Type: ValueCount, Rules: []string{"r1", "r2"}, GroupBy: []string{"ip", "Host"}, Timespan: time.Minute,
			Aliases: map[string]map[string]string{"ip": {"r1": "src", "r2": "dst"}}, Condition: Condition{Field: "user", GT: num(1)}},
		{ID: "c2", Type: EventCount, Rules: []string{"r1"}, GroupBy: []string{"Host", "zone"}, Timespan: time.Minute, Condition: Condition{GT: num(1)}},
	}
	e, err := New(specs, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for rule, want := range map[string][]string{"r1": {"src", "Host", "user", "zone"}, "r2": {"dst", "Host", "user"}, "r3": nil} {
		got := e.Fields(rule)
		if len(got) != len(want) {
			t.Errorf("Fields(%s) = %v, want %v", rule, got, want)
			continue
		}
		for i := range got {
			if got[i] != want[i] {
				t.Errorf("Fields(%s) = %v, want %v", rule, got, want)
			}
		}
	}
}
