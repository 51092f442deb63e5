package sigma

import (
	"context"
	"fmt"
	"os"
	"sort"
	"testing"
	"time"

	"github.com/egovsoc/egovsoc/pipeline/event"
	"github.com/egovsoc/egovsoc/rules/sigma/internal/corpus"
)

// Debugging aids for the index, opt-in with SIGMA_DEBUG=1: which rules are
// evaluated most, and what they cost.

func TestDebugEvals(t *testing.T) {
	if os.Getenv("SIGMA_DEBUG") == "" {
		t.Skip("SIGMA_DEBUG not set")
	}
	rs, _ := loadSigmaHQ(t, 1, 0)
	e := New(rs, Options{})
	docs := corpus.Events(20000, 7)
	var evs []*event.Event
	for _, d := range docs {
		ev, _ := event.Decode(d)
		evs = append(evs, ev)
	}
	for i := 0; i < len(evs); i += 256 {
		e.Detect(context.Background(), event.Batch{Stream: "s", Org: "x", Events: evs[i:min(i+256, len(evs))]})
	}
	st := rs.RuleStats()
	sort.Slice(st, func(i, j int) bool { return st[i].Evals > st[j].Evals })
	for _, s := range st[:40] {
		r := rs.byKey[s.ID]
		var needles []string
		for k, set := range r.atoms {
			for _, a := range set {
				needles = append(needles, fmt.Sprint(k, a.fields, ":", a.needle))
			}
		}
		if len(needles) > 4 {
			needles = needles[:4]
		}
		fmt.Printf("%6d %5d idx=%v %s %s %v\n", s.Evals, s.Hits, s.Indexed, s.Title, r.route.Key(), needles)
	}
}

func TestDebugCost(t *testing.T) {
	if os.Getenv("SIGMA_DEBUG") == "" {
		t.Skip("SIGMA_DEBUG not set")
	}
	rs, _ := loadSigmaHQ(t, 1, 0)
	e := New(rs, Options{})
	docs := corpus.Events(20000, 7)
	var evs []*event.Event
	for _, d := range docs {
		ev, _ := event.Decode(d)
		evs = append(evs, ev)
	}
	for i := 0; i < len(evs); i += 256 {
		e.Detect(context.Background(), event.Batch{Stream: "s", Org: "x", Events: evs[i:min(i+256, len(evs))]})
	}
	type cost struct {
		title string
		evals int64
		per   time.Duration
	}
	var out []cost
	w := newWorker()
	for _, s := range rs.RuleStats() {
		if s.Evals == 0 {
			continue
		}
		r := rs.byKey[s.ID]
		var routed []*event.Event
		for _, ev := range evs[:2000] {
			if r.route.Match(ev) {
				routed = append(routed, ev)
			}
		}
		start := time.Now()
		n := 0
		for _, ev := range routed {
			w.x.reset(r, ev)
			r.cond.eval(&w.x)
			n++
		}
		if n == 0 {
			continue
		}
		out = append(out, cost{s.Title, s.Evals, time.Since(start) / time.Duration(n)})
	}
	sort.Slice(out, func(i, j int) bool { return int64(out[i].per)*out[i].evals > int64(out[j].per)*out[j].evals })
	for _, c := range out[:25] {
		fmt.Printf("%8.1fms total %6d evals %8v/eval  %s\n", float64(c.per)*float64(c.evals)/1e6, c.evals, c.per, c.title)
	}
}
