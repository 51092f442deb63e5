package sigma

import (
	"github.com/egovsoc/egovsoc/pipeline/event"
	"github.com/egovsoc/egovsoc/rules/sigma/match"
)

// A node is a compiled condition. Conditions are small trees (SigmaHQ's
// deepest has a handful of levels), evaluated with short-circuiting; a
// selection referred to twice is evaluated once per event (memo).
type node interface {
	eval(x *evalCtx) bool
}

// evalCtx is what evaluating one rule on one event needs. It belongs to one
// worker and is reused, so evaluation does not allocate.
type evalCtx struct {
	e    *event.Event
	r    *rule
	memo []uint8 // per selection of r: 0 not yet, 1 false, 2 true
}

const (
	memoFalse = 1
	memoTrue  = 2
)

func (x *evalCtx) reset(r *rule, e *event.Event) {
	x.r, x.e = r, e
	if cap(x.memo) < len(r.sels) {
		x.memo = make([]uint8, len(r.sels))
	}
	x.memo = x.memo[:len(r.sels)]
	clear(x.memo)
}

// selection evaluates selection i of the current rule, once.
func (x *evalCtx) selection(i int) bool {
	switch x.memo[i] {
	case memoTrue:
		return true
	case memoFalse:
		return false
	}
	ok := x.r.sels[i].match(x.e)
	if ok {
		x.memo[i] = memoTrue
	} else {
		x.memo[i] = memoFalse
	}
	return ok
}

// selection is a named detection: any of its alternatives, each of which is
// all of its items.
type selection struct {
	name string
	alts [][]item
}

func (s *selection) match(e *event.Event) bool {
	for _, alt := range s.alts {
		if allMatch(alt, e) {
			return true
		}
	}
	return false
}

func allMatch(items []item, e *event.Event) bool {
	for i := range items {
		if !items[i].m.Match(e) {
			return false
		}
	}
	return true
}

// item is one field with its modifiers and values, compiled.
type item struct {
	field string        // as the rule wrote it; "" for a keyword search
	ecs   []event.Field // where the field is found in ECS
	paths []string      // the same, as text
	m     match.Matcher
	// kwNeedles are, for a keyword search, literals one of which some
	// value of the event holds when it matches (see index.go).
	kwNeedles []string
	// subs are the targets the field maps to, each with its matcher; one
	// unless the mapping translates values (see compileItem).
	subs []subItem
}

type subItem struct {
	paths []string
	m     match.Matcher
}

type selRef int

func (n selRef) eval(x *evalCtx) bool { return x.selection(int(n)) }

type andNode []node

func (n andNode) eval(x *evalCtx) bool {
	for _, c := range n {
		if !c.eval(x) {
			return false
		}
	}
	return true
}

type orNode []node

func (n orNode) eval(x *evalCtx) bool {
	for _, c := range n {
		if c.eval(x) {
			return true
		}
	}
	return false
}

type notNode struct{ x node }

func (n notNode) eval(x *evalCtx) bool { return !n.x.eval(x) }

// constNode is a condition known at compile time ("1 of" over nothing
// cannot happen: the parser rejects patterns that match no selection).
type constNode bool

func (n constNode) eval(*evalCtx) bool { return bool(n) }
