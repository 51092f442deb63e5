package correlate

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// Type is a Sigma correlation type: the correlation.type attribute.
type Type string

// The correlation types of the Sigma correlation specification v2.1, plus
// value_median, which pySigma and its backends accept as the 50th percentile.
const (
	EventCount      Type = "event_count"      // events per group
	ValueCount      Type = "value_count"      // distinct values of Condition.Field per group
	Temporal        Type = "temporal"         // distinct referenced rules that matched, any order
	TemporalOrdered Type = "temporal_ordered" // referenced rules that matched in the order of Rules
	ValueSum        Type = "value_sum"        // sum of the numeric Condition.Field
	ValueAvg        Type = "value_avg"        // mean of the numeric Condition.Field
	ValueMin        Type = "value_min"        // minimum of the numeric Condition.Field
	ValueMax        Type = "value_max"        // maximum of the numeric Condition.Field
	ValuePercentile Type = "value_percentile" // Condition.Percentile-th percentile of Condition.Field
	ValueMedian     Type = "value_median"     // median (50th percentile) of Condition.Field
)

// Types lists every correlation type the package implements.
var Types = []Type{EventCount, ValueCount, Temporal, TemporalOrdered, ValueSum, ValueAvg, ValueMin, ValueMax, ValuePercentile, ValueMedian}

// valueType reports whether t aggregates the values of Condition.Field.
func (t Type) valueType() bool { return strings.HasPrefix(string(t), "value_") }

// numeric reports whether t aggregates numbers (every value_* type but value_count).
func (t Type) numeric() bool { return t.valueType() && t != ValueCount }

func (t Type) temporal() bool { return t == Temporal || t == TemporalOrdered }

// Condition is the correlation.condition map. Each threshold is nil when the
// rule does not write it. A condition is exactly one of: one threshold (gt,
// gte, lt, lte, eq or neq), or a range of one lower (gt or gte) and one upper
// (lt or lte) threshold, which must both hold. Thresholds may be fractional
// (metric types); for counts they compare with the integer count.
//
// A temporal or temporal_ordered correlation without thresholds gets the
// specification's default: gte the number of rules (all of them matched).
type Condition struct {
	GT, GTE, LT, LTE, EQ, NEQ *float64

	// Field is the field whose values a value_* type aggregates (condition.field).
	// It may be an alias name. It must be empty for the other types.
	Field string

	// Percentile is the percentile a value_percentile correlation computes,
	// in (0, 100] (condition.percentile, as pySigma and its backends write
	// it). value_median implies 50; other types leave it 0.
	Percentile float64

	// Expr is an extended condition of a temporal correlation (specification
	// v2.2, pySigma): a boolean expression over the referenced rules that
	// matched in the window, instead of thresholds. Only for Temporal.
	Expr *Expr
}

// Expr is a boolean expression over referenced rules: exactly one of Rule
// (that rule matched in the window), Not, And or Or is set.
type Expr struct {
	Rule string
	Not  *Expr
	And  []Expr
	Or   []Expr
}

// compiled is an Expr with rules resolved to their index in Spec.Rules.
type compiled struct {
	op   byte // 'r', '!', '&', '|'
	rule int
	args []compiled
}

func (x *compiled) eval(rules uint64) bool {
	switch x.op {
	case 'r':
		return rules&(1<<uint(x.rule)) != 0
	case '!':
		return !x.args[0].eval(rules)
	case '&':
		for i := range x.args {
			if !x.args[i].eval(rules) {
				return false
			}
		}
		return true
	}
	for i := range x.args {
		if x.args[i].eval(rules) {
			return true
		}
	}
	return false
}

// compileExpr resolves x against rules; monotone reports that it has no Not
// (more matched rules can only make it true).
func compileExpr(x *Expr, rules []string, depth int) (k compiled, monotone bool, err error) {
	if depth > 64 {
		return k, false, errors.New("condition expression nests deeper than 64")
	}
	set := 0
	for _, b := range []bool{x.Rule != "", x.Not != nil, len(x.And) > 0, len(x.Or) > 0} {
		if b {
			set++
		}
	}
	if set != 1 {
		return k, false, errors.New("condition expression: each node is exactly one of a rule, not, and, or")
	}
	switch {
	case x.Rule != "":
		i := slices.Index(rules, x.Rule)
		if i < 0 {
			return k, false, fmt.Errorf("condition expression: %q is not one of the correlation's rules", x.Rule)
		}
		return compiled{op: 'r', rule: i}, true, nil
	case x.Not != nil:
		a, _, err := compileExpr(x.Not, rules, depth+1)
		return compiled{op: '!', args: []compiled{a}}, false, err
	}
	k.op, monotone = '&', true
	args := x.And
	if len(x.Or) > 0 {
		k.op, args = '|', x.Or
	}
	for i := range args {
		a, m, err := compileExpr(&args[i], rules, depth+1)
		if err != nil {
			return k, false, err
		}
		k.args = append(k.args, a)
		monotone = monotone && m
	}
	return k, monotone, nil
}

func (x *Expr) String() string {
	switch {
	case x == nil:
		return ""
	case x.Rule != "":
		return x.Rule
	case x.Not != nil:
		return "not " + x.Not.String()
	}
	op, args := " and ", x.And
	if len(x.Or) > 0 {
		op, args = " or ", x.Or
	}
	parts := make([]string, len(args))
	for i := range args {
		parts[i] = args[i].String()
	}
	return "(" + strings.Join(parts, op) + ")"
}

func (x *Expr) clone() *Expr {
	if x == nil {
		return nil
	}
	c := &Expr{Rule: x.Rule, Not: x.Not.clone()}
	for i := range x.And {
		c.And = append(c.And, *x.And[i].clone())
	}
	for i := range x.Or {
		c.Or = append(c.Or, *x.Or[i].clone())
	}
	return c
}

// Spec is one Sigma correlation rule, resolved by the caller: rule references
// are canonical keys, the timespan a duration.
type Spec struct {
	// ID and Name identify the correlation; at least one is required and
	// both are unique among the specs given to New. Another correlation may
	// refer to this one by either. Snapshots identify a correlation by ID,
	// or by Name when it has no ID.
	ID, Name string

	Type Type

	// Rules are the rules the correlation refers to, in order (the order
	// matters for temporal_ordered): canonical keys of base rules — the
	// strings the caller passes as Observation.Rule — or the ID or Name of
	// another correlation (chaining); a key that is a correlation's ID or
	// Name always means that correlation. At most 64, no duplicates.
	Rules []string

	// GroupBy are the group-by fields as the rule writes them; any of them
	// may be an alias name. Empty: all events form one group.
	GroupBy []string

	// Aliases maps an alias name to, per referenced rule key (as written in
	// Rules), that rule's field. A rule an alias does not map uses the alias
	// name itself as its field.
	Aliases map[string]map[string]string

	// Timespan is the correlation's time frame; positive.
	Timespan time.Duration

	Condition Condition

	// Generate is the generate attribute: the rules this correlation refers
	// to also alert on their own. See Engine.Standalone and Result.Emit.
	Generate bool
}

// key is the identity of a spec in snapshots and errors.
func (s *Spec) key() string {
	if s.ID != "" {
		return s.ID
	}
	return s.Name
}

func (s *Spec) label() string {
	switch {
	case s.ID != "" && s.Name != "":
		return fmt.Sprintf("correlation %s (%s)", s.Name, s.ID)
	default:
		return "correlation " + s.key()
	}
}

// clone deep-copies s so that callers may reuse what they passed to New.
func (s Spec) clone() Spec {
	s.Rules = slices.Clone(s.Rules)
	s.GroupBy = slices.Clone(s.GroupBy)
	if s.Aliases != nil {
		a := make(map[string]map[string]string, len(s.Aliases))
		for k, m := range s.Aliases {
			mm := make(map[string]string, len(m))
			for r, f := range m {
				mm[r] = f
			}
			a[k] = mm
		}
		s.Aliases = a
	}
	c := &s.Condition
	c.Expr = c.Expr.clone()
	for _, p := range []**float64{&c.GT, &c.GTE, &c.LT, &c.LTE, &c.EQ, &c.NEQ} {
		if *p != nil {
			v := **p
			*p = &v
		}
	}
	return s
}

// field resolves a group-by or value field name for the referenced rule
// ruleKey through the aliases.
func (s *Spec) field(name, ruleKey string) string {
	if m, ok := s.Aliases[name]; ok {
		if f, ok := m[ruleKey]; ok && f != "" {
			return f
		}
	}
	return name
}

// maxSpan bounds timespans and lateness so that event-time arithmetic in
// nanoseconds never overflows.
const maxSpan = 10 * 366 * 24 * time.Hour

// cond is a compiled Condition: value must lie in [lo, hi] (bounds open or
// closed, either may be absent), or differ from neq.
type cond struct {
	hasLo, loIncl bool
	lo            float64
	hasHi, hiIncl bool
	hi            float64
	hasNeq        bool
	neq           float64
}

func (c *cond) eval(v float64) bool {
	if c.hasNeq {
		return v != c.neq
	}
	if c.hasLo && (v < c.lo || (!c.loIncl && v == c.lo)) {
		return false
	}
	if c.hasHi && (v > c.hi || (!c.hiIncl && v == c.hi)) {
		return false
	}
	return true
}

func (c *cond) String() string {
	var parts []string
	if c.hasNeq {
		return fmt.Sprintf("neq %g", c.neq)
	}
	if c.hasLo && c.hasHi && c.lo == c.hi && c.loIncl && c.hiIncl {
		return fmt.Sprintf("eq %g", c.lo)
	}
	if c.hasLo {
		op := "gt"
		if c.loIncl {
			op = "gte"
		}
		parts = append(parts, fmt.Sprintf("%s %g", op, c.lo))
	}
	if c.hasHi {
		op := "lt"
		if c.hiIncl {
			op = "lte"
		}
		parts = append(parts, fmt.Sprintf("%s %g", op, c.hi))
	}
	return strings.Join(parts, " and ")
}

// compileCondition checks the threshold combination of s and compiles it.
func compileCondition(s *Spec) (cond, error) {
	c := s.Condition
	var set []string
	for _, t := range []struct {
		name string
		v    *float64
	}{{"gt", c.GT}, {"gte", c.GTE}, {"lt", c.LT}, {"lte", c.LTE}, {"eq", c.EQ}, {"neq", c.NEQ}} {
		if t.v == nil {
			continue
		}
		if math.IsNaN(*t.v) || math.IsInf(*t.v, 0) {
			return cond{}, fmt.Errorf("condition %s: %v is not a finite number", t.name, *t.v)
		}
		set = append(set, t.name)
	}
	if len(set) == 0 {
		if s.Type.temporal() {
			n := float64(len(s.Rules))
			return cond{hasLo: true, loIncl: true, lo: n}, nil
		}
		return cond{}, errors.New("condition needs one of gt, gte, lt, lte, eq, neq")
	}
	var k cond
	switch {
	case len(set) == 1 && c.EQ != nil:
		k = cond{hasLo: true, loIncl: true, lo: *c.EQ, hasHi: true, hiIncl: true, hi: *c.EQ}
	case len(set) == 1 && c.NEQ != nil:
		k = cond{hasNeq: true, neq: *c.NEQ}
	case len(set) <= 2 && c.EQ == nil && c.NEQ == nil && !(c.GT != nil && c.GTE != nil) && !(c.LT != nil && c.LTE != nil):
		if c.GT != nil {
			k.hasLo, k.lo = true, *c.GT
		}
		if c.GTE != nil {
			k.hasLo, k.loIncl, k.lo = true, true, *c.GTE
		}
		if c.LT != nil {
			k.hasHi, k.hi = true, *c.LT
		}
		if c.LTE != nil {
			k.hasHi, k.hiIncl, k.hi = true, true, *c.LTE
		}
		if k.hasLo && k.hasHi && (k.lo > k.hi || (k.lo == k.hi && !(k.loIncl && k.hiIncl))) {
			return cond{}, fmt.Errorf("condition range %s is empty", k.String())
		}
	default:
		return cond{}, fmt.Errorf("condition %s: use one threshold, or one of gt/gte with one of lt/lte for a range", strings.Join(set, "+"))
	}
	return k, nil
}

// validate checks one spec on its own (references are checked by New).
func (s *Spec) validate(opt *Options) (cond, error) {
	if !slices.Contains(Types, s.Type) {
		return cond{}, fmt.Errorf("unknown type %q", s.Type)
	}
	if s.Timespan <= 0 {
		return cond{}, fmt.Errorf("timespan %v must be positive", s.Timespan)
	}
	if s.Timespan > maxSpan {
		return cond{}, fmt.Errorf("timespan %v is longer than %v", s.Timespan, maxSpan)
	}
	if len(s.Rules) == 0 {
		return cond{}, errors.New("rules: at least one rule is required")
	}
	if len(s.Rules) > 64 {
		return cond{}, fmt.Errorf("rules: %d rules, at most 64", len(s.Rules))
	}
	seen := map[string]bool{}
	for _, r := range s.Rules {
		if r == "" {
			return cond{}, errors.New("rules: an empty rule key")
		}
		if seen[r] {
			return cond{}, fmt.Errorf("rules: %q is listed twice", r)
		}
		seen[r] = true
	}
	gb := map[string]bool{}
	for _, g := range s.GroupBy {
		if g == "" {
			return cond{}, errors.New("group-by: an empty field name")
		}
		if gb[g] {
			return cond{}, fmt.Errorf("group-by: %q is listed twice", g)
		}
		gb[g] = true
	}
	for alias, m := range s.Aliases {
		if alias == "" {
			return cond{}, errors.New("aliases: an empty alias name")
		}
		for r, f := range m {
			if !seen[r] {
				return cond{}, fmt.Errorf("aliases: alias %q maps rule %q, which the correlation does not refer to", alias, r)
			}
			if f == "" {
				return cond{}, fmt.Errorf("aliases: alias %q maps rule %q to an empty field", alias, r)
			}
		}
	}
	switch {
	case s.Type.valueType() && s.Condition.Field == "":
		return cond{}, fmt.Errorf("a %s correlation needs condition.field", s.Type)
	case !s.Type.valueType() && s.Condition.Field != "":
		return cond{}, fmt.Errorf("condition.field %q: only value_* correlations aggregate a field", s.Condition.Field)
	}
	p := s.Condition.Percentile
	switch s.Type {
	case ValuePercentile:
		if !(p > 0 && p <= 100) {
			return cond{}, fmt.Errorf("a value_percentile correlation needs condition.percentile in (0, 100], not %v", p)
		}
	case ValueMedian:
		if p != 0 && p != 50 {
			return cond{}, fmt.Errorf("condition.percentile %v: value_median is the 50th percentile", p)
		}
	default:
		if p != 0 {
			return cond{}, fmt.Errorf("condition.percentile %v: only value_percentile takes a percentile", p)
		}
	}
	if s.Condition.Expr != nil {
		c := s.Condition
		if s.Type != Temporal {
			return cond{}, fmt.Errorf("a condition expression is only for temporal correlations, not %s", s.Type)
		}
		if c.GT != nil || c.GTE != nil || c.LT != nil || c.LTE != nil || c.EQ != nil || c.NEQ != nil {
			return cond{}, errors.New("condition: an expression or thresholds, not both")
		}
		if _, _, err := compileExpr(c.Expr, s.Rules, 0); err != nil {
			return cond{}, err
		}
		return cond{hasLo: true, loIncl: true, lo: 1}, nil
	}
	k, err := compileCondition(s)
	if err != nil {
		return cond{}, err
	}
	if s.Type.temporal() && k.hasLo && (k.lo > float64(len(s.Rules)) || (!k.loIncl && k.lo == float64(len(s.Rules)))) {
		return cond{}, fmt.Errorf("condition %s can never hold: the correlation refers to %d rules", k.String(), len(s.Rules))
	}
	if s.Type == ValueCount {
		if need := distinctNeed(k, eager(s.Type, k)); need > opt.MaxValuesPerGroup {
			return cond{}, fmt.Errorf("condition %s needs %d distinct values per group, more than Options.MaxValuesPerGroup (%d)", k.String(), need, opt.MaxValuesPerGroup)
		}
	}
	return k, nil
}

// eager reports whether a correlation of type t with condition k is decided
// as soon as it holds (sliding windows), rather than when a window closes.
// That is when the condition is monotone in the events added to a window:
// once it holds, more events cannot make it false.
func eager(t Type, k cond) bool {
	if k.hasNeq {
		return false
	}
	switch t {
	case EventCount, ValueCount, Temporal, TemporalOrdered, ValueSum, ValueMax:
		return k.hasLo && !k.hasHi
	case ValueMin:
		return k.hasHi && !k.hasLo
	}
	return false
}

// distinctNeed is how many distinct values a value_count group must be able
// to hold for its condition to be decided exactly.
func distinctNeed(k cond, eager bool) int {
	need := func(x float64, strict bool) int {
		if x < 0 {
			return 0
		}
		if x >= math.MaxInt32 {
			return math.MaxInt32
		}
		n := int(math.Floor(x))
		if strict || float64(n) != x {
			n++
		}
		return n
	}
	if eager {
		return need(k.lo, !k.loIncl)
	}
	m := 0
	if k.hasNeq {
		m = max(m, need(k.neq, true))
	}
	if k.hasHi {
		m = max(m, need(k.hi, true))
	}
	if k.hasLo {
		m = max(m, need(k.lo, true))
	}
	return m
}

// stateVersion changes whenever the meaning of a correlation's saved state
// changes; it is part of every spec hash.
const stateVersion = 1

// hash identifies the semantics of a spec for snapshots: a restored group is
// kept only when its correlation's hash is unchanged.
func (s *Spec) hash() [32]byte {
	h := sha256.New()
	var b []byte
	str := func(v string) {
		b = binary.AppendUvarint(b, uint64(len(v)))
		b = append(b, v...)
	}
	num := func(p *float64) {
		if p == nil {
			b = append(b, 0)
			return
		}
		b = append(b, 1)
		b = binary.BigEndian.AppendUint64(b, math.Float64bits(*p))
	}
	b = binary.AppendUvarint(b, stateVersion)
	str(s.ID)
	str(s.Name)
	str(string(s.Type))
	b = binary.AppendUvarint(b, uint64(len(s.Rules)))
	for _, r := range s.Rules {
		str(r)
	}
	b = binary.AppendUvarint(b, uint64(len(s.GroupBy)))
	for _, g := range s.GroupBy {
		str(g)
	}
	aliases := make([]string, 0, len(s.Aliases))
	for a := range s.Aliases {
		aliases = append(aliases, a)
	}
	slices.Sort(aliases)
	b = binary.AppendUvarint(b, uint64(len(aliases)))
	for _, a := range aliases {
		str(a)
		m := s.Aliases[a]
		rules := make([]string, 0, len(m))
		for r := range m {
			rules = append(rules, r)
		}
		slices.Sort(rules)
		b = binary.AppendUvarint(b, uint64(len(rules)))
		for _, r := range rules {
			str(r)
			str(m[r])
		}
	}
	b = binary.AppendVarint(b, int64(s.Timespan))
	c := s.Condition
	for _, p := range []*float64{c.GT, c.GTE, c.LT, c.LTE, c.EQ, c.NEQ} {
		num(p)
	}
	str(c.Field)
	pct := c.Percentile
	num(&pct)
	str(c.Expr.String())
	h.Write(b)
	var out [32]byte
	h.Sum(out[:0])
	return out
}
