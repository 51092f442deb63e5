package correlate

import (
	"fmt"
	"math/bits"
	"slices"
	"strings"
	"testing"
	"time"
)

// base is the origin of test time: midnight, so tumbling windows of minutes
// and hours start at round offsets.
var base = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

func num(v float64) *float64 { return &v }

func dur(s string) time.Duration {
	d, err := time.ParseDuration(s)
	if err != nil {
		panic(err)
	}
	return d
}

// off formats t as an offset from base: "2m", "1h30m", "4m59.999999999s".
func off(t time.Time) string {
	s := t.Sub(base).String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

// fmtResult renders a result compactly for comparison:
//
//	key{group values} n=Count v=Value First..Last @At ids=… rules=… [hidden]
func fmtResult(r Result) string {
	var g []string
	for _, name := range r.Spec.GroupBy {
		g = append(g, r.Group[name])
	}
	s := fmt.Sprintf("%s{%s} n=%d v=%g %s..%s @%s ids=%s rules=%s", r.Spec.key(), strings.Join(g, ","), r.Count, r.Value,
		off(r.First), off(r.Last), off(r.At), strings.Join(r.EventIDs, ","), strings.Join(r.Rules, ","))
	if !r.Emit {
		s += " hidden"
	}
	return s
}

// step is one call in a scenario: an observation, or Advance, with the
// results it must return.
type step struct {
	adv  bool
	at   string
	rule string
	id   string
	vals []string // "field=value"
	want []string
}

// ob observes rule at offset at with event id id and fields "name=value".
func ob(at, rule, id string, vals ...string) step {
	return step{at: at, rule: rule, id: id, vals: vals}
}

// adv advances event time to offset at.
func adv(at string) step { return step{adv: true, at: at} }

func (s step) wants(w ...string) step { s.want = w; return s }

func (s step) observation(e *Engine) Observation {
	fields := e.Fields(s.rule)
	vals := make([]string, len(fields))
	for _, kv := range s.vals {
		k, v, _ := strings.Cut(kv, "=")
		i := slices.Index(fields, k)
		if i < 0 {
			panic(fmt.Sprintf("rule %s has no field %s (fields %v)", s.rule, k, fields))
		}
		vals[i] = v
	}
	return Observation{Rule: s.rule, Time: base.Add(dur(s.at)), EventID: s.id, Values: vals}
}

type scenario struct {
	name  string
	specs []Spec
	opt   Options
	steps []step
	check func(t *testing.T, e *Engine)
}

// strict are options without lateness, so that scenarios decide windows as
// soon as event time passes them.
var strict = Options{AllowedLateness: NoLateness}

func runScenario(t *testing.T, sc scenario) *Engine {
	t.Helper()
	e, err := New(sc.specs, sc.opt)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	runSteps(t, e, sc.steps)
	if sc.check != nil {
		sc.check(t, e)
	}
	return e
}

func runSteps(t *testing.T, e *Engine, steps []step) {
	t.Helper()
	for i, s := range steps {
		var rs []Result
		if s.adv {
			rs = e.Advance(base.Add(dur(s.at)))
		} else {
			rs = e.Observe(s.observation(e))
		}
		var got []string
		for _, r := range rs {
			got = append(got, fmtResult(r))
		}
		if !slices.Equal(got, s.want) {
			what := fmt.Sprintf("observe %s %s %v", s.at, s.rule, s.vals)
			if s.adv {
				what = "advance " + s.at
			}
			t.Errorf("step %d (%s):\n got  %q\n want %q", i, what, got, s.want)
		}
		if err := e.check(); err != nil {
			t.Fatalf("step %d: invariant: %v", i, err)
		}
	}
}

// check verifies the engine's internal invariants: the bounds it promises
// and the consistency of its heap and maps.
func (e *Engine) check() error {
	n := 0
	for _, c := range e.corrs {
		n += len(c.groups)
		for key, g := range c.groups {
			if g.key != key || g.c != c {
				return fmt.Errorf("%s: group %q filed under %q", c.key, g.key, key)
			}
			if g.hidx < 0 || g.hidx >= len(e.h) || e.h[g.hidx] != g {
				return fmt.Errorf("%s: group %q not in the heap", c.key, key)
			}
			if g.hkey > g.deadline {
				return fmt.Errorf("%s: group %q heap key %d after its deadline %d", c.key, key, g.hkey, g.deadline)
			}
			if len(g.ids.buf) > e.opt.MaxEventIDs {
				return fmt.Errorf("%s: group %q holds %d event ids", c.key, key, len(g.ids.buf))
			}
			if err := g.checkState(e); err != nil {
				return fmt.Errorf("%s: group %q: %w", c.key, key, err)
			}
		}
	}
	if n != e.ngroups || n != len(e.h) {
		return fmt.Errorf("%d groups in maps, %d counted, %d in the heap", n, e.ngroups, len(e.h))
	}
	if n > e.opt.MaxGroups {
		return fmt.Errorf("%d groups, MaxGroups %d", n, e.opt.MaxGroups)
	}
	for i := range e.h {
		if e.h[i].hidx != i {
			return fmt.Errorf("heap index %d holds a group that thinks it is at %d", i, e.h[i].hidx)
		}
		if l, r := 2*i+1, 2*i+2; (l < len(e.h) && e.h.Less(l, i)) || (r < len(e.h) && e.h.Less(r, i)) {
			return fmt.Errorf("heap order broken at %d", i)
		}
	}
	return nil
}

func (g *group) checkState(e *Engine) error {
	c := g.c
	if c.eager != (g.sl != nil) || (!c.eager && len(g.wins) == 0) {
		return fmt.Errorf("state does not fit the correlation (eager %t, slider %t, %d windows)", c.eager, g.sl != nil, len(g.wins))
	}
	if c.eager {
		// Slots between the watermark minus the timespan and the newest
		// event time, plus the one the newest datum may open.
		wm := e.watermark()
		switch st := g.sl.(type) {
		case *cells:
			cs := st.live()
			var total int64
			for _, x := range cs {
				total += int64(x.N)
			}
			if total != st.total {
				return fmt.Errorf("cells total %d, counted %d", st.total, total)
			}
			for i := 1; i < len(cs); i++ {
				a, b := cs[i-1], cs[i]
				if floorDiv(a.First, st.width) >= floorDiv(b.First, st.width) || a.Last >= b.First {
					return fmt.Errorf("cells out of order: %+v, %+v", a, b)
				}
			}
			for _, x := range cs {
				if floorDiv(x.First, st.width) != floorDiv(x.Last, st.width) || x.N == 0 {
					return fmt.Errorf("bad cell %+v", x)
				}
				// The quick count agrees with the full one on the windows
				// that end at, or start inside, this cell.
				for _, w := range [][2]int64{{x.Last - c.span, x.Last}, {x.First + 1, x.First + 1 + c.span}, {x.First - c.span/2, x.Last - 1}} {
					q, f := st.agg(w[0], w[1], false, e), st.agg(w[0], w[1], true, e)
					if q.n != f.n || q.value != f.value {
						return fmt.Errorf("window [%d, %d]: quick %d/%g, full %d/%g", w[0], w[1], q.n, q.value, f.n, f.value)
					}
				}
			}
			if len(cs) > 0 && wm > minNanos {
				span := e.maxTime - (wm - c.span)
				limit := int(span/st.width) + 3
				if len(cs) > limit {
					return fmt.Errorf("%d cells, bound %d", len(cs), limit)
				}
			}
		case *distinct:
			for i := st.head; i >= 0; i = st.nodes[i].next {
				t := st.nodes[i].last
				for _, w := range [][2]int64{{t - c.span, t}, {t, t + c.span}, {t - 1, t - 1}} {
					q, f := st.agg(w[0], w[1], false, e), st.agg(w[0], w[1], true, e)
					if q.n != f.n {
						return fmt.Errorf("window [%d, %d]: quick %d, full %d distinct", w[0], w[1], q.n, f.n)
					}
				}
			}
			if len(st.idx) > c.need {
				return fmt.Errorf("%d distinct values, bound %d", len(st.idx), c.need)
			}
			k := 0
			prev := int64(minNanos)
			for i := st.head; i >= 0; i = st.nodes[i].next {
				if st.nodes[i].last < prev {
					return fmt.Errorf("distinct list out of order")
				}
				prev = st.nodes[i].last
				k++
			}
			if k != len(st.idx) {
				return fmt.Errorf("distinct list holds %d nodes, index %d", k, len(st.idx))
			}
		case *occs:
			for r := range st.cnt {
				o := st.of(r)
				if len(o) > e.opt.MaxOccurrences || !slices.IsSorted(o) {
					return fmt.Errorf("rule %d occurrences %v", r, o)
				}
			}
		}
		return nil
	}
	for i, w := range g.wins {
		if i > 0 && g.wins[i-1].K >= w.K {
			return fmt.Errorf("windows out of order")
		}
		if len(w.Set) > c.need || len(w.Samples) > e.opt.MaxValuesPerGroup {
			return fmt.Errorf("window %d holds %d values, %d samples", w.K, len(w.Set), len(w.Samples))
		}
		per := map[int]int{}
		for _, p := range w.Occ {
			per[p.R]++
			if per[p.R] > e.opt.MaxOccurrences {
				return fmt.Errorf("window %d holds %d occurrences of rule %d", w.K, per[p.R], p.R)
			}
		}
		if bits.Len64(w.Rules) > len(c.spec.Rules) {
			return fmt.Errorf("window %d rule mask %b", w.K, w.Rules)
		}
	}
	return nil
}
