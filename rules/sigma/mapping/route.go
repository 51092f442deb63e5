package mapping

import (
	"cmp"
	"slices"
	"strconv"
	"strings"

	"github.com/egovsoc/egovsoc/pipeline/event"
)

// Route is the condition an event must satisfy to be examined by the rules
// of a log source: a disjunction of conjunctions of terms.
type Route struct{ Any []Conjunction }

// Conjunction holds when every one of its terms holds.
type Conjunction []Term

// Term is a condition on one ECS field. With Exists, the field must be
// present (with any value, null included) and Values is ignored. Otherwise
// some value of the field must equal one of Values, compared
// case-insensitively (strings.EqualFold); on an array field any element
// will do. Values are never empty in a Route from a Mapping.
type Term struct {
	Field  string
	Values []string
	Exists bool
}

// Match reports whether the event satisfies the route. It is the reference
// evaluation: a compiler may evaluate routes its own way, but must agree
// with it.
func (r Route) Match(e *event.Event) bool {
	for _, c := range r.Any {
		if c.match(e) {
			return true
		}
	}
	return false
}

func (c Conjunction) match(e *event.Event) bool {
	for _, t := range c {
		if !t.match(e) {
			return false
		}
	}
	return true
}

func (t Term) match(e *event.Event) bool {
	f := event.Path(t.Field)
	if t.Exists {
		return e.Has(f)
	}
	for v := range e.Values(f) {
		if !v.IsScalar() {
			continue
		}
		s := v.Text()
		for _, want := range t.Values {
			if strings.EqualFold(s, want) {
				return true
			}
		}
	}
	return false
}

// Key is a canonical text of the route: two routes that differ only in
// the order of their conjunctions, terms or values, in the case of values,
// or in repeated parts have the same key. The compiler groups rules by it
// and evaluates each route once per event.
//
// The form is readable: conjunctions joined by " OR ", terms by " AND ",
// a term as field:* (exists) or field:["a","b"] (lower-case values).
func (r Route) Key() string {
	c := r.canonical()
	var b strings.Builder
	for i, conj := range c.Any {
		if i > 0 {
			b.WriteString(" OR ")
		}
		for j, t := range conj {
			if j > 0 {
				b.WriteString(" AND ")
			}
			b.WriteString(t.key())
		}
	}
	return b.String()
}

func (t Term) key() string {
	if t.Exists {
		return t.Field + ":*"
	}
	var b strings.Builder
	b.WriteString(t.Field)
	b.WriteString(":[")
	for i, v := range t.Values {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Quote(v))
	}
	b.WriteByte(']')
	return b.String()
}

// canonical returns the route with values lower-cased, sorted and unique,
// terms sorted and unique within a conjunction, and conjunctions sorted
// and unique. It shares nothing with r.
func (r Route) canonical() Route {
	conjs := make([]Conjunction, 0, len(r.Any))
	keys := make([]string, 0, len(r.Any))
	for _, c := range r.Any {
		terms := make(Conjunction, 0, len(c))
		for _, t := range c {
			nt := Term{Field: t.Field, Exists: t.Exists}
			if !t.Exists {
				for _, v := range t.Values {
					nt.Values = append(nt.Values, strings.ToLower(v))
				}
				slices.Sort(nt.Values)
				nt.Values = slices.Compact(nt.Values)
			}
			terms = append(terms, nt)
		}
		slices.SortFunc(terms, func(a, b Term) int { return cmp.Compare(a.key(), b.key()) })
		terms = slices.CompactFunc(terms, func(a, b Term) bool { return a.key() == b.key() })
		var kb strings.Builder
		for j, t := range terms {
			if j > 0 {
				kb.WriteString(" AND ")
			}
			kb.WriteString(t.key())
		}
		conjs = append(conjs, terms)
		keys = append(keys, kb.String())
	}
	idx := make([]int, len(conjs))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int { return cmp.Compare(keys[a], keys[b]) })
	out := Route{Any: make([]Conjunction, 0, len(conjs))}
	for n, i := range idx {
		if n > 0 && keys[i] == keys[idx[n-1]] {
			continue
		}
		out.Any = append(out.Any, conjs[i])
	}
	return out
}

// clone returns a deep copy, so a caller can not change the Mapping's route.
func (r Route) clone() Route {
	out := Route{Any: make([]Conjunction, len(r.Any))}
	for i, c := range r.Any {
		nc := make(Conjunction, len(c))
		for j, t := range c {
			nc[j] = Term{Field: t.Field, Values: slices.Clone(t.Values), Exists: t.Exists}
		}
		out.Any[i] = nc
	}
	return out
}
