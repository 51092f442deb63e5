package sigma

import (
	"encoding/binary"
	"slices"

	"github.com/egovsoc/egovsoc/pipeline/event"
	"github.com/egovsoc/egovsoc/rules/sigma/mapping"
)

// The router finds the rule groups an event belongs to. A route is a small
// boolean formula over a handful of metadata fields (event.category,
// event.dataset, winlog.channel…), and few distinct combinations of those
// fields' values occur in a stream: each worker remembers the groups of the
// combinations it has seen, so an event costs one hash lookup, not one
// evaluation per route.

type router struct {
	routes []mapping.Route // per group
	fields []routeField    // every field some route looks at, sorted
}

type routeField struct {
	path   string
	field  event.Field
	values bool // some route compares its values; else only presence matters
}

func newRouter(routes []mapping.Route) router {
	r := router{routes: routes}
	seen := map[string]int{}
	for _, rt := range routes {
		for _, conj := range rt.Any {
			for _, t := range conj {
				i, ok := seen[t.Field]
				if !ok {
					i = len(r.fields)
					seen[t.Field] = i
					r.fields = append(r.fields, routeField{path: t.Field, field: event.Path(t.Field)})
				}
				if !t.Exists {
					r.fields[i].values = true
				}
			}
		}
	}
	slices.SortFunc(r.fields, func(a, b routeField) int {
		if a.path < b.path {
			return -1
		}
		if a.path > b.path {
			return 1
		}
		return 0
	})
	return r
}

// maxRouteCache bounds a worker's memory of routing signatures. Routing
// fields are metadata with few values, but process.name (a route of Linux
// rules) is not: past the bound the memory starts afresh.
const maxRouteCache = 4096

// groupsOf returns the groups e is routed to: usually one group, merged
// from the rules of every route e takes (see RuleSet.merged), so that each
// field of the event is scanned once. The slice is owned by the worker's
// cache: read it, don't keep it.
func (r *router) groupsOf(e *event.Event, w *worker, rs *RuleSet) []*group {
	sig := w.sig[:0]
	for i := range r.fields {
		f := &r.fields[i]
		if !e.MayHave(f.field) {
			sig = append(sig, 0)
			continue
		}
		if !f.values {
			if e.Has(f.field) {
				sig = append(sig, 1)
			} else {
				sig = append(sig, 0)
			}
			continue
		}
		// Each value length-prefixed, so no value can pass for two.
		for v := range e.Values(f.field) {
			t := v.Text()
			sig = binary.AppendUvarint(append(sig, 1), uint64(len(t)))
			sig = appendLower(sig, t)
		}
		sig = append(sig, 0)
	}
	w.sig = sig
	if gs, ok := w.routes[string(sig)]; ok {
		return gs
	}
	var idx []int32
	for i, rt := range r.routes {
		if rt.Match(e) {
			idx = append(idx, int32(i))
		}
	}
	gs := rs.merged(idx)
	if len(w.routes) >= maxRouteCache {
		clear(w.routes)
	}
	w.routes[string(sig)] = gs
	return gs
}

// appendLower appends s with ASCII letters lowercased (routes compare case
// insensitively; the signature only has to tell apart what routes tell
// apart, and non-ASCII routing values are kept as they are).
func appendLower(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}
