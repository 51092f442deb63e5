package sigma

import (
	"slices"

	"github.com/egovsoc/egovsoc/pipeline/event"
	"github.com/egovsoc/egovsoc/rules/sigma/match"
)

// The index is what lets most rules go unevaluated for most events. For each
// rule the compiler finds literal strings, at least one of which must occur
// in one of a few fields for the rule to match (its atoms, see atomsOf). All
// the atoms of a route's rules on one field become one automaton; an event
// runs each field's automaton over the field's values once, and only the
// rules an automaton names — plus the few that have no atoms — are
// evaluated.

// atom is a literal that must occur, lowercased, in one of fields.
type atom struct {
	fields []string
	needle string
}

// atomSet is a disjunction of atoms: when the rule matches, one holds.
type atomSet []atom

// cost ranks atom sets by the chance that an event triggers the rule's
// evaluation: the sum over needles of how likely a value holds it. A short
// needle ("get", ".exe") is in most values of its field; a field of few
// values (http.request.method, network.transport) makes any needle likely.
func (s atomSet) cost() float64 {
	c := 0.0
	for _, a := range s {
		p := needleChance[min(len(a.needle), len(needleChance)-1)]
		if commonNeedles[a.needle] {
			p = max(p, 0.5)
		}
		for _, f := range a.fields {
			switch {
			case lowCardinality[f]:
				p = 1
			case f == keywordField: // any field of the event may hold it
				p = min(1, p*3)
			}
		}
		c += p
	}
	return c + 0.001*float64(len(s))
}

// needleChance is a rough chance, by length, that a value holds a needle.
var needleChance = []float64{1, 0.9, 0.8, 0.5, 0.2, 0.1, 0.05, 0.03, 0.02, 0.01}

// lowCardinality lists fields whose few values make any needle on them a
// poor filter.
var lowCardinality = map[string]bool{
	"http.request.method": true, "network.transport": true, "network.protocol": true, "network.direction": true,
	"event.outcome": true, "event.type": true, "event.action": true, "event.category": true, "event.code": true,
	"dns.question.type": true, "dns.response_code": true, "http.response.status_code": true, "http.version": true,
	"winlog.event_id": true, "winlog.channel": true, "winlog.provider_name": true, "tls.version": true, "user_agent.original": false,
}

// commonNeedles are literals most values of their fields hold (paths of
// Windows binaries, browsers' user agents): long, but no filter at all.
var commonNeedles = map[string]bool{
	".exe": true, ".dll": true, "\\windows\\": true, "c:\\windows\\": true, "\\system32\\": true, "c:\\windows\\system32\\": true,
	"\\syswow64\\": true, "\\program files\\": true, "c:\\program files\\": true, "c:\\program files (x86)\\": true,
	"\\appdata\\": true, "\\users\\": true, "c:\\users\\": true, "\\svchost.exe": true, "svchost.exe": true,
	"microsoft": true, "microsoft corporation": true, "windows": true, "mozilla": true, "mozilla/": true, "mozilla/5.0": true,
	"http": true, "http://": true, "https://": true, "/api/": true, ".php": true, ".js": true, ".html": true, ".com": true, "www.": true,
}

// keywordField stands for every field: the atoms of a keyword search.
const keywordField = "*"

// atomsOf finds the atoms of a condition: up to two sets, each of which
// must hold for the rule to match (conjuncts: "the image is rundll32" and
// "the parent is svchost"), so that an event must hit both before the rule
// is evaluated. None when there is no sound set (a negation, a comparison,
// a regex without a literal…).
func atomsOf(n node, r *rule) []atomSet {
	switch n := n.(type) {
	case selRef:
		return selectionAtoms(&r.sels[int(n)])
	case andNode:
		var all []atomSet
		for _, c := range n {
			all = append(all, atomsOf(c, r)...)
		}
		return bestTwo(all)
	case orNode:
		var union atomSet
		for _, c := range n {
			sets := atomsOf(c, r)
			if len(sets) == 0 {
				return nil
			}
			union = append(union, sets[0]...) // the cheapest of each branch
		}
		return []atomSet{union}
	}
	return nil
}

// bestTwo keeps the two cheapest sets, cheapest first.
func bestTwo(sets []atomSet) []atomSet {
	slices.SortStableFunc(sets, func(a, b atomSet) int {
		ca, cb := a.cost(), b.cost()
		switch {
		case ca < cb:
			return -1
		case ca > cb:
			return 1
		}
		return 0
	})
	if len(sets) > 2 {
		sets = sets[:2]
	}
	return sets
}

// selectionAtoms: any alternative may match, so each must contribute (its
// cheapest item's needles); a selection of one alternative yields its two
// cheapest items, both necessary.
func selectionAtoms(s *selection) []atomSet {
	if len(s.alts) == 1 {
		var sets []atomSet
		for i := range s.alts[0] {
			if set, ok := itemAtoms(&s.alts[0][i]); ok {
				sets = append(sets, set)
			}
		}
		return bestTwo(sets)
	}
	var all atomSet
	for _, alt := range s.alts {
		var best atomSet
		found := false
		for i := range alt {
			set, ok := itemAtoms(&alt[i])
			if !ok {
				continue
			}
			if !found || set.cost() < best.cost() {
				best, found = set, true
			}
		}
		if !found {
			return nil
		}
		all = append(all, best...)
	}
	if len(all) == 0 {
		return nil
	}
	return []atomSet{all}
}

// itemAtoms: a keyword's needles may be in any field; a field's needles in
// one of its targets (all targets must have needles).
func itemAtoms(it *item) (atomSet, bool) {
	if it.field == "" {
		if len(it.kwNeedles) == 0 {
			return nil, false
		}
		set := make(atomSet, 0, len(it.kwNeedles))
		for _, nd := range it.kwNeedles {
			if nd == "" {
				return nil, false
			}
			set = append(set, atom{fields: []string{keywordField}, needle: nd})
		}
		return set, true
	}
	var set atomSet
	for _, sub := range it.subs {
		if len(sub.paths) == 0 {
			return nil, false
		}
		needles, ok := match.Needles(sub.m)
		if !ok || len(needles) == 0 {
			return nil, false
		}
		for _, nd := range needles {
			if nd == "" {
				return nil, false
			}
			set = append(set, atom{fields: sub.paths, needle: nd})
		}
	}
	return set, len(set) > 0
}

// group is the rules of one route, indexed.
type group struct {
	rules  []*rule      // every rule of the route
	need   []uint8      // per rule: how many atom sets must hit (0: always evaluated)
	always []int32      // rules (indexes into rules) evaluated for every routed event
	fields []fieldIndex // per ECS field: the automaton over its atoms
}

// fieldIndex runs one automaton over one field's values.
type fieldIndex struct {
	path  string
	field event.Field
	all   bool // the keyword index: every scalar of the event
	set   *gramSet
	hits  [][]int32 // per pattern: rule×2+set (rule indexes into group.rules) it names
}

// buildGroup indexes the rules of one route.
func buildGroup(rules []*rule) *group {
	g := &group{rules: rules}
	type fieldAtoms struct {
		patterns []string
		at       map[string]int
		hits     [][]int32
	}
	byField := map[string]*fieldAtoms{}
	var order []string
	g.need = make([]uint8, len(rules))
	for i, r := range rules {
		if len(r.atoms) == 0 {
			g.always = append(g.always, int32(i))
			continue
		}
		g.need[i] = uint8(len(r.atoms))
		for slot, set := range r.atoms {
			code := int32(i*2 + slot)
			for _, a := range set {
				for _, f := range a.fields {
					fa := byField[f]
					if fa == nil {
						fa = &fieldAtoms{at: map[string]int{}}
						byField[f] = fa
						order = append(order, f)
					}
					p, seen := fa.at[a.needle]
					if !seen {
						p = len(fa.patterns)
						fa.at[a.needle] = p
						fa.patterns = append(fa.patterns, a.needle)
						fa.hits = append(fa.hits, nil)
					}
					if h := fa.hits[p]; len(h) == 0 || h[len(h)-1] != code {
						fa.hits[p] = append(h, code)
					}
				}
			}
		}
	}
	slices.Sort(order)
	for _, f := range order {
		fa := byField[f]
		g.fields = append(g.fields, fieldIndex{path: f, field: event.Path(f), all: f == keywordField, set: newGramSet(fa.patterns), hits: fa.hits})
	}
	return g
}

// candidates calls fn for each rule of the group that may match e: the
// rules whose atom sets the event hit (each rule once, when its last set
// hits), then the unindexed ones.
func (g *group) candidates(e *event.Event, w *worker, fn func(r *rule)) {
	w.stamp++
	if w.stamp == 0 { // wrapped: forget every old mark
		clear(w.marks)
		w.stamp = 1
	}
	if len(w.marks) < 2*len(g.rules) {
		w.marks = make([]uint32, 3*len(g.rules))
	}
	stamp := w.stamp
	for fi := range g.fields {
		fx := &g.fields[fi]
		pats := w.pats[:0]
		if fx.all {
			for v := range e.Scalars() {
				if v.Kind() == event.KindString { // keywords are looked for in text
					pats = fx.set.match(v.Text(), pats)
				}
			}
		} else if e.MayHave(fx.field) {
			for v := range e.Values(fx.field) {
				if v.IsScalar() {
					pats = fx.set.match(v.Text(), pats)
				}
			}
		}
		w.pats = pats
		for _, p := range pats {
			for _, code := range fx.hits[p] {
				if w.marks[code] == stamp {
					continue
				}
				w.marks[code] = stamp
				// Evaluate once every set of the rule has hit: on the
				// hit that completes them.
				ri := code >> 1
				if g.need[ri] == 1 || w.marks[code^1] == stamp {
					fn(g.rules[ri])
				}
			}
		}
	}
	for _, ri := range g.always {
		fn(g.rules[ri])
	}
}

// all calls fn for every rule of the group (no index).
func (g *group) all(_ *event.Event, _ *worker, fn func(r *rule)) {
	for _, r := range g.rules {
		fn(r)
	}
}
