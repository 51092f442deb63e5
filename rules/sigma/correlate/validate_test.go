package correlate

import (
	"strings"
	"testing"
	"time"
)

func TestNewErrors(t *testing.T) {
	ok := func() Spec {
		return Spec{ID: "c1", Type: EventCount, Rules: []string{"r1"}, GroupBy: []string{"User"}, Timespan: time.Minute, Condition: Condition{GTE: num(2)}}
	}
	with := func(f func(*Spec)) []Spec { s := ok(); f(&s); return []Spec{s} }
	for _, tc := range []struct {
		name  string
		specs []Spec
		opt   Options
		want  string
	}{
		{"no identity", with(func(s *Spec) { s.ID = "" }), Options{}, "correlation #0: needs an id or a name"},
		{"unknown type", with(func(s *Spec) { s.Type = "value_mode" }), Options{}, `correlation c1: unknown type "value_mode"`},
		{"no timespan", with(func(s *Spec) { s.Timespan = 0 }), Options{}, "timespan 0s must be positive"},
		{"no rules", with(func(s *Spec) { s.Rules = nil }), Options{}, "at least one rule"},
		{"rule twice", with(func(s *Spec) { s.Rules = []string{"r1", "r1"} }), Options{}, `"r1" is listed twice`},
		{"too many rules", with(func(s *Spec) {
			s.Rules = nil
			for i := range 65 {
				s.Rules = append(s.Rules, "r"+itoa(i))
			}
		}), Options{}, "65 rules, at most 64"},
		{"group-by twice", with(func(s *Spec) { s.GroupBy = []string{"User", "User"} }), Options{}, `group-by: "User" is listed twice`},
		{"no condition", with(func(s *Spec) { s.Condition = Condition{} }), Options{}, "condition needs one of"},
		{"gt and gte", with(func(s *Spec) { s.Condition = Condition{GT: num(1), GTE: num(2)} }), Options{}, "condition gt+gte"},
		{"eq in a range", with(func(s *Spec) { s.Condition = Condition{EQ: num(1), LT: num(2)} }), Options{}, "condition lt+eq"},
		{"empty range", with(func(s *Spec) { s.Condition = Condition{GT: num(5), LT: num(5)} }), Options{}, "range gt 5 and lt 5 is empty"},
		{"inverted range", with(func(s *Spec) { s.Condition = Condition{GTE: num(6), LTE: num(5)} }), Options{}, "is empty"},
		{"field on event_count", with(func(s *Spec) { s.Condition.Field = "x" }), Options{}, "only value_* correlations aggregate a field"},
		{"value_count without field", with(func(s *Spec) { s.Type = ValueCount }), Options{}, "a value_count correlation needs condition.field"},
		{"percentile without percentile", with(func(s *Spec) { s.Type = ValuePercentile; s.Condition.Field = "x" }), Options{}, "needs condition.percentile in (0, 100]"},
		{"percentile out of range", with(func(s *Spec) { s.Type = ValuePercentile; s.Condition.Field = "x"; s.Condition.Percentile = 101 }), Options{}, "not 101"},
		{"percentile on event_count", with(func(s *Spec) { s.Condition.Percentile = 50 }), Options{}, "only value_percentile takes a percentile"},
		{"temporal can never hold", with(func(s *Spec) { s.Type = Temporal; s.Rules = []string{"a", "b"}; s.Condition = Condition{GT: num(2)} }), Options{}, "can never hold: the correlation refers to 2 rules"},
		{"value_count beyond MaxValuesPerGroup", with(func(s *Spec) { s.Type = ValueCount; s.Condition = Condition{Field: "x", GTE: num(11)} }),
			Options{MaxValuesPerGroup: 10}, "needs 11 distinct values per group, more than Options.MaxValuesPerGroup (10)"},
		{"alias of an unknown rule", with(func(s *Spec) { s.Aliases = map[string]map[string]string{"ip": {"r9": "src"}} }), Options{}, `alias "ip" maps rule "r9"`},
		{"unknown rule", with(func(s *Spec) { s.Rules = []string{"r1", "nope"} }), Options{IsRule: func(k string) bool { return k == "r1" }},
			`rule "nope" is neither a known rule nor a correlation`},
		{"duplicate id", []Spec{ok(), ok()}, Options{}, `"c1" is already the id or name of correlation c1`},
		{"cycle", []Spec{
			{ID: "a", Type: EventCount, Rules: []string{"b"}, Timespan: time.Minute, Condition: Condition{GT: num(1)}},
			{ID: "b", Type: EventCount, Rules: []string{"c"}, Timespan: time.Minute, Condition: Condition{GT: num(1)}},
			{ID: "c", Type: EventCount, Rules: []string{"a", "r1"}, Timespan: time.Minute, Condition: Condition{GT: num(1)}},
		}, Options{}, "cycle: a → b → c → a"},
		{"self reference", with(func(s *Spec) { s.Rules = []string{"c1"} }), Options{}, "cycle: c1 → c1"},
		{"chained group-by not in the inner correlation", []Spec{
			ok(),
			{ID: "outer", Type: EventCount, Rules: []string{"c1"}, GroupBy: []string{"Host"}, Timespan: time.Minute, Condition: Condition{GT: num(1)}},
		}, Options{}, `correlation outer: group-by "Host" is field "Host" of correlation c1, which does not group by it`},
		{"bad resolution", []Spec{ok()}, Options{Resolution: 5000}, "Options.Resolution 5000"},
		{"expression on event_count", with(func(s *Spec) { s.Condition = Condition{Expr: &Expr{Rule: "r1"}} }), Options{}, "only for temporal correlations"},
		{"expression and thresholds", with(func(s *Spec) { s.Type = Temporal; s.Condition.Expr = &Expr{Rule: "r1"} }), Options{}, "an expression or thresholds, not both"},
		{"expression of an unknown rule", with(func(s *Spec) { s.Type = Temporal; s.Condition = Condition{Expr: &Expr{Not: &Expr{Rule: "r2"}}} }), Options{}, `"r2" is not one of the correlation's rules`},
		{"malformed expression", with(func(s *Spec) {
			s.Type = Temporal
			s.Condition = Condition{Expr: &Expr{Rule: "r1", Not: &Expr{Rule: "r1"}}}
		}), Options{}, "exactly one of"},
		{"NaN threshold", with(func(s *Spec) { s.Condition = Condition{GT: num(nan())} }), Options{}, "not a finite number"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.specs, tc.opt)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("New: %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func nan() float64 { z := 0.0; return z / z }

// TestSpecExamples compiles the correlations of the specification and of
// its test files, as the engine would build them.
func TestSpecExamples(t *testing.T) {
	specs := []Spec{
		{ID: "0e95725d-7320-415d-80f7-004da920fc11", Type: EventCount, Rules: []string{"5638f7c0-ac70-491d-8465-2a65075e0d86"},
			GroupBy: []string{"ComputerName"}, Timespan: time.Hour, Condition: Condition{GTE: num(100)}},
		{ID: "0e95725d-7320-415d-80f7-004da920fc12", Type: ValueCount, Rules: []string{"5638f7c0-ac70-491d-8465-2a65075e0d86"},
			GroupBy: []string{"ComputerName", "WorkstationName"}, Timespan: 24 * time.Hour, Condition: Condition{Field: "User", GTE: num(100)}},
		{Name: "recon", Type: Temporal, Rules: []string{"recon_cmd_a", "recon_cmd_b", "recon_cmd_c"},
			GroupBy: []string{"ComputerName", "User"}, Timespan: 5 * time.Minute},
		{Name: "exfil", Type: ValueSum, Rules: []string{"website_access"}, GroupBy: []string{"SourceIP", "User"},
			Timespan: time.Hour, Condition: Condition{Field: "bytes_sent", GT: num(1000000)}},
		{Name: "avg", Type: ValueAvg, Rules: []string{"rule_a_id"}, GroupBy: []string{"SourceIP", "User"},
			Timespan: 24 * time.Hour, Condition: Condition{Field: "BytesOut", GT: num(500)}},
		{Name: "max", Type: ValueMax, Rules: []string{"rule_a_id"}, GroupBy: []string{"field1", "field2"},
			Timespan: 30 * time.Minute, Condition: Condition{Field: "numeric_value", GTE: num(100)}},
		{Name: "c2", Type: ValueMin, Rules: []string{"request_to_website"}, GroupBy: []string{"domainName", "Username"},
			Timespan: 24 * time.Hour, Condition: Condition{Field: "BytesOut", LTE: num(400)}},
		{Name: "p95", Type: ValuePercentile, Rules: []string{"process_creation"}, GroupBy: []string{"ComputerName"},
			Timespan: 24 * time.Hour, Condition: Condition{Field: "image", LTE: num(1), Percentile: 95}},
	}
	e, err := New(append(specs, chainSpecs()...), Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"0e95725d-7320-415d-80f7-004da920fc11": true, "recon": true, "exfil": true, "max": true, "c2": true,
		"0e95725d-7320-415d-80f7-004da920fc12": true, "avg": false, "p95": false, "b180ead8": true}
	for _, c := range e.corrs {
		if w, ok := want[c.key]; ok && c.eager != w {
			t.Errorf("%s: eager %t, want %t", c.key, c.eager, w)
		}
	}
}
