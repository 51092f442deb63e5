package match

import (
	"slices"
	"strings"

	"github.com/egovsoc/egovsoc/pipeline/event"
)

// tester tests one value of an event.
type tester interface {
	test(v event.Value) bool
}

// valueSet tests a value against string patterns, numbers and bools
// (OR-ed).
type valueSet struct {
	str       *strSet
	ints      []int64   // integral numbers, sorted
	decs      []decimal // other numbers
	boolTrue  bool
	boolFalse bool
}

func (vs *valueSet) addNumber(d decimal) {
	if i, ok := d.integer(); ok {
		vs.ints = append(vs.ints, i)
		return
	}
	vs.decs = append(vs.decs, d)
}

func (vs *valueSet) finish() {
	slices.Sort(vs.ints)
	vs.ints = slices.Compact(vs.ints)
}

func (vs *valueSet) hasNumbers() bool { return len(vs.ints) > 0 || len(vs.decs) > 0 }

// numberEqual reports whether text is a number equal to one of the set's.
func (vs *valueSet) numberEqual(text string) bool {
	if i, ok := parseInt(text); ok {
		_, found := slices.BinarySearch(vs.ints, i)
		return found
	}
	d, ok := parseDecimal(text)
	if !ok {
		return false
	}
	if i, ok := d.integer(); ok {
		_, found := slices.BinarySearch(vs.ints, i)
		return found
	}
	for k := range vs.decs {
		if cmpDecimal(&d, &vs.decs[k]) == 0 {
			return true
		}
	}
	return false
}

func (vs *valueSet) boolEqual(text string) bool {
	return vs.boolTrue && foldEqual2(text, "true") || vs.boolFalse && foldEqual2(text, "false")
}

func (vs *valueSet) test(v event.Value) bool {
	switch v.Kind() {
	case event.KindString:
		t := v.Text()
		return vs.str != nil && vs.str.test(t) ||
			vs.hasNumbers() && vs.numberEqual(t) ||
			(vs.boolTrue || vs.boolFalse) && vs.boolEqual(t)
	case event.KindNumber:
		t := v.Text()
		return vs.str != nil && vs.str.test(t) || vs.hasNumbers() && vs.numberEqual(t)
	case event.KindBool:
		t := v.Text()
		return vs.str != nil && vs.str.test(t) || (vs.boolTrue || vs.boolFalse) && vs.boolEqual(t)
	}
	return false
}

// cidrTester tests whether a value is an IP address in a set of networks.
type cidrTester struct{ set *PrefixSet }

func (t *cidrTester) test(v event.Value) bool {
	return v.Kind() == event.KindString && t.set.ContainsString(v.Text())
}

type cmpOp uint8

const (
	opEq cmpOp = iota
	opLt
	opLte
	opGt
	opGte
)

var cmpOps = map[string]cmpOp{"lt": opLt, "lte": opLte, "gt": opGt, "gte": opGte}

func (op cmpOp) holds(c int) bool {
	switch op {
	case opLt:
		return c < 0
	case opLte:
		return c <= 0
	case opGt:
		return c > 0
	case opGte:
		return c >= 0
	}
	return c == 0
}

// cmpTester compares a number (or a string holding one) with the values.
type cmpTester struct {
	op    cmpOp
	wants []decimal
}

func (t *cmpTester) test(v event.Value) bool {
	if v.Kind() != event.KindNumber && v.Kind() != event.KindString {
		return false
	}
	d, ok := parseDecimal(v.Text())
	if !ok {
		return false
	}
	for i := range t.wants {
		if t.op.holds(cmpDecimal(&d, &t.wants[i])) {
			return true
		}
	}
	return false
}

// timeTester extracts a component of a timestamp and compares it.
type timeTester struct {
	part  timePart
	op    cmpOp
	wants []int64
}

func (t *timeTester) test(v event.Value) bool {
	c, ok := valueClock(v)
	if !ok {
		return false
	}
	x := t.part.of(c)
	for _, w := range t.wants {
		cmp := 0
		if x < w {
			cmp = -1
		} else if x > w {
			cmp = 1
		}
		if t.op.holds(cmp) {
			return true
		}
	}
	return false
}

// fieldMatcher matches when a value of one of its fields passes the
// tester.
type fieldMatcher struct {
	fields []event.Field
	t      tester
	nd     needleInfo
}

func (m *fieldMatcher) Match(e *event.Event) bool {
	for _, f := range m.fields {
		if e.Any(f, m.t.test) {
			return true
		}
	}
	return false
}

func (m *fieldMatcher) needles() needleInfo { return m.nd }

// keywordMatcher matches when a string value of any field passes the
// tester.
type keywordMatcher struct{ t tester }

func (m *keywordMatcher) Match(e *event.Event) bool {
	for v := range e.Scalars() {
		if v.Kind() == event.KindString && m.t.test(v) {
			return true
		}
	}
	return false
}

func (m *keywordMatcher) needles() needleInfo { return needleInfo{} }

func nonNull(v event.Value) bool { return v.IsScalar() }

// nullMatcher matches when none of its fields has a value other than null
// (absent, null, an empty array or an array of nulls).
type nullMatcher struct{ fields []event.Field }

func (m *nullMatcher) Match(e *event.Event) bool {
	for _, f := range m.fields {
		if e.Any(f, nonNull) || e.Get(f).Kind() == event.KindObject {
			return false
		}
	}
	return true
}

func (m *nullMatcher) needles() needleInfo { return needleInfo{} }

// existsMatcher matches when one of its fields is present (even null or
// empty), or, with want false, when none is.
type existsMatcher struct {
	fields []event.Field
	want   bool
}

func (m *existsMatcher) Match(e *event.Event) bool {
	for _, f := range m.fields {
		if e.Has(f) {
			return m.want
		}
	}
	return !m.want
}

func (m *existsMatcher) needles() needleInfo { return needleInfo{} }

// neqMatcher matches when the fields hold a value (not null) and no value
// passes the tester.
type neqMatcher struct {
	fields []event.Field
	t      tester
}

func (m *neqMatcher) Match(e *event.Event) bool {
	present, hit := false, false
	for _, f := range m.fields {
		e.Any(f, func(v event.Value) bool {
			if !v.IsScalar() {
				return false
			}
			present = true
			hit = m.t.test(v)
			return hit
		})
		if hit {
			return false
		}
	}
	return present
}

func (m *neqMatcher) needles() needleInfo { return needleInfo{} }

// relation is how a fieldref compares a value with the referenced one.
type relation uint8

const (
	relEq relation = iota
	relPrefix
	relSuffix
	relContains
	relLt
	relLte
	relGt
	relGte
)

// fieldrefMatcher matches when a value of one of its fields stands in the
// relation to a value of one of the referenced fields; with neq, when both
// hold values and no pair is equal.
type fieldrefMatcher struct {
	fields []event.Field
	refs   []event.Field
	rel    relation
	cased  bool
	neq    bool
}

func (m *fieldrefMatcher) related(a, b event.Value) bool {
	at, bt := a.Text(), b.Text()
	switch m.rel {
	case relEq:
		if a.Kind() == event.KindNumber && b.Kind() == event.KindNumber {
			da, ok1 := parseDecimal(at)
			db, ok2 := parseDecimal(bt)
			if ok1 && ok2 {
				return cmpDecimal(&da, &db) == 0
			}
		}
		if m.cased {
			return at == bt
		}
		return foldEqual2(at, bt)
	case relPrefix:
		if m.cased {
			return strings.HasPrefix(at, bt)
		}
		return foldPrefixLen2(at, bt) >= 0
	case relSuffix:
		if m.cased {
			return strings.HasSuffix(at, bt)
		}
		return foldHasSuffix2(at, bt)
	case relContains:
		if m.cased {
			return strings.Contains(at, bt)
		}
		return foldContains2(at, bt)
	}
	op := opGte
	switch m.rel {
	case relLt:
		op = opLt
	case relLte:
		op = opLte
	case relGt:
		op = opGt
	}
	da, ok1 := parseDecimal(at)
	db, ok2 := parseDecimal(bt)
	if ok1 && ok2 {
		return op.holds(cmpDecimal(&da, &db))
	}
	ca, ok1 := valueClock(a)
	cb, ok2 := valueClock(b)
	if ok1 && ok2 {
		return op.holds(cmpClock(ca, cb))
	}
	return false
}

func (m *fieldrefMatcher) Match(e *event.Event) bool {
	presentA, presentB, hit := false, false, false
	for _, fa := range m.fields {
		e.Any(fa, func(a event.Value) bool {
			if !a.IsScalar() {
				return false
			}
			presentA = true
			for _, fb := range m.refs {
				e.Any(fb, func(b event.Value) bool {
					if !b.IsScalar() {
						return false
					}
					presentB = true
					hit = m.related(a, b)
					return hit
				})
				if hit {
					return true
				}
			}
			return false
		})
		if hit {
			break
		}
	}
	if m.neq {
		return presentA && presentB && !hit
	}
	return hit
}

func (m *fieldrefMatcher) needles() needleInfo { return needleInfo{} }

// allMatcher matches when every part does.
type allMatcher struct {
	parts []Matcher
	nd    needleInfo
}

func (m *allMatcher) Match(e *event.Event) bool {
	for _, p := range m.parts {
		if !p.Match(e) {
			return false
		}
	}
	return true
}

func (m *allMatcher) needles() needleInfo { return m.nd }

// anyMatcher matches when some part does.
type anyMatcher struct {
	parts []Matcher
	nd    needleInfo
}

func (m *anyMatcher) Match(e *event.Event) bool {
	for _, p := range m.parts {
		if p.Match(e) {
			return true
		}
	}
	return false
}

func (m *anyMatcher) needles() needleInfo { return m.nd }

func needlesOf(m Matcher) needleInfo {
	if n, ok := m.(needler); ok {
		return n.needles()
	}
	return needleInfo{}
}

func allOf(parts []Matcher) Matcher {
	if len(parts) == 1 {
		return parts[0]
	}
	m := &allMatcher{parts: parts}
	infos := make([]needleInfo, len(parts))
	for i, p := range parts {
		infos[i] = needlesOf(p)
	}
	m.nd = bestNeedles(infos...)
	return m
}

func anyOf(parts []Matcher) Matcher {
	switch len(parts) {
	case 0:
		return nothing{}
	case 1:
		return parts[0]
	}
	m := &anyMatcher{parts: parts}
	infos := make([]needleInfo, len(parts))
	for i, p := range parts {
		infos[i] = needlesOf(p)
	}
	m.nd = unionNeedles(infos...)
	return m
}

// nothing never matches.
type nothing struct{}

func (nothing) Match(*event.Event) bool { return false }

func (nothing) needles() needleInfo { return needleInfo{} }

// Interface guards.
var (
	_ Matcher = (*fieldMatcher)(nil)
	_ Matcher = (*keywordMatcher)(nil)
	_ Matcher = (*nullMatcher)(nil)
	_ Matcher = (*existsMatcher)(nil)
	_ Matcher = (*neqMatcher)(nil)
	_ Matcher = (*fieldrefMatcher)(nil)
	_ Matcher = (*allMatcher)(nil)
	_ Matcher = (*anyMatcher)(nil)
	_ Matcher = nothing{}
)
