// Package threshold is a stateful detector for rules of the form "at least N
// matching events (or N distinct values of a field) from the same group
// within a time window": brute force, scanning, tunnelling, injection bursts.
// It is one of the detectors behind ingest's Detector interface; the Sigma
// engine and the plugins are others.
//
// Windows run on event time (@timestamp), per stream (bus partition), so a
// replay of the same records raises the same alerts with the same ids. State
// is bounded: groups that have been quiet for longer than their window are
// evicted, and past MaxGroups per stream the stalest go first.
//
// It imports only the standard library and pipeline/event.
package threshold

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/egovsoc/egovsoc/pipeline/event"
)

// Cond is one condition on a field; a rule matches an event when all its
// conditions hold. Exactly one of Equals, Contains or MinLen is set.
type Cond struct {
	Field string
	// Equals: some value of the field equals one of these (exact text;
	// numbers compare by their JSON text, e.g. "404").
	Equals []string
	// Contains: some value of the field contains one of these, ignoring
	// ASCII case.
	Contains []string
	// MinLen: some value of the field is at least this many bytes long.
	MinLen int
}

// Rule is one threshold rule.
type Rule struct {
	ID          string
	Name        string
	Description string
	Author      string
	Severity    event.Severity
	Tags        []string // ATT&CK techniques and tactics, e.g. attack.t1110
	Where       []Cond
	GroupBy     []string      // fields whose values form the group; all must be present
	Distinct    string        // if set, count distinct values of this field instead of events
	Threshold   int           // how many events (or distinct values) raise the alert
	Window      time.Duration // within this much event time
}

// MaxGroups bounds the groups one rule tracks per stream.
const MaxGroups = 50_000

// maxDistinct bounds the distinct values remembered per group.
const maxDistinct = 10_000

type compiledCond struct {
	f        event.Field
	equals   []string
	contains []string // lower-cased
	minLen   int
}

type compiledRule struct {
	Rule
	where    []compiledCond
	groupBy  []event.Field
	distinct event.Field
}

func compile(r Rule) (compiledRule, error) {
	c := compiledRule{Rule: r}
	switch {
	case r.ID == "" || r.Name == "":
		return c, errors.New("id and name are required")
	case r.Severity.Rank() == 0:
		return c, fmt.Errorf("unknown severity %q", r.Severity)
	case r.Threshold < 1:
		return c, errors.New("threshold must be at least 1")
	case r.Window <= 0:
		return c, errors.New("window must be positive")
	case len(r.GroupBy) == 0:
		return c, errors.New("group_by: at least one field is required")
	case len(r.Where) == 0:
		return c, errors.New("where: at least one condition is required")
	}
	for i, w := range r.Where {
		set := 0
		if len(w.Equals) > 0 {
			set++
		}
		if len(w.Contains) > 0 {
			set++
		}
		if w.MinLen > 0 {
			set++
		}
		if w.Field == "" || set != 1 {
			return c, fmt.Errorf("where[%d]: a field and exactly one of equals, contains, min_len", i)
		}
		cc := compiledCond{f: event.Path(w.Field), equals: w.Equals, minLen: w.MinLen}
		for _, s := range w.Contains {
			cc.contains = append(cc.contains, strings.ToLower(s))
		}
		c.where = append(c.where, cc)
	}
	for _, g := range r.GroupBy {
		c.groupBy = append(c.groupBy, event.Path(g))
	}
	if r.Distinct != "" {
		c.distinct = event.Path(r.Distinct)
	}
	return c, nil
}

func (cc *compiledCond) match(e *event.Event) bool {
	return e.Any(cc.f, func(v event.Value) bool {
		if !v.IsScalar() {
			return false
		}
		s := v.Text()
		switch {
		case cc.minLen > 0:
			return len(s) >= cc.minLen
		case len(cc.equals) > 0:
			return slices.Contains(cc.equals, s)
		default:
			for _, sub := range cc.contains {
				if containsFold(s, sub) {
					return true
				}
			}
			return false
		}
	})
}

// containsFold reports whether s contains the lower-case ASCII sub, ignoring
// ASCII case in s, without allocating.
func containsFold(s, sub string) bool {
	n := len(sub)
	if n == 0 {
		return true
	}
	for i := 0; i+n <= len(s); i++ {
		j := 0
		for j < n {
			c := s[i+j]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c != sub[j] {
				break
			}
			j++
		}
		if j == n {
			return true
		}
	}
	return false
}

// Detector evaluates a set of threshold rules.
type Detector struct {
	rules []compiledRule

	mu      sync.Mutex
	streams map[string]*streamState
}

type streamState struct {
	mu     sync.Mutex
	groups []map[string]*group // per rule
	mark   time.Time           // latest event time seen: the stream's clock
}

type group struct {
	times    []time.Time // event times in the window (count rules)
	distinct map[string]time.Time
	ids      []string  // event ids of the current episode, bounded
	start    time.Time // first event of the current episode
	last     time.Time
	fired    bool // an alert was raised for this episode
	count    int
	vals     map[string]string
}

// New compiles the rules. An invalid rule is an error naming it.
func New(rules []Rule) (*Detector, error) {
	d := &Detector{streams: map[string]*streamState{}}
	seen := map[string]bool{}
	for _, r := range rules {
		c, err := compile(r)
		if err != nil {
			return nil, fmt.Errorf("threshold rule %q: %w", r.ID, err)
		}
		if seen[r.ID] {
			return nil, fmt.Errorf("threshold rule %q: id used twice", r.ID)
		}
		seen[r.ID] = true
		d.rules = append(d.rules, c)
	}
	return d, nil
}

// Name implements ingest.Detector.
func (d *Detector) Name() string { return "threshold" }

// Rules returns the rules, as given.
func (d *Detector) Rules() []Rule {
	out := make([]Rule, len(d.rules))
	for i, r := range d.rules {
		out[i] = r.Rule
	}
	return out
}

func (d *Detector) stream(name string) *streamState {
	d.mu.Lock()
	defer d.mu.Unlock()
	s := d.streams[name]
	if s == nil {
		s = &streamState{groups: make([]map[string]*group, len(d.rules))}
		for i := range s.groups {
			s.groups[i] = map[string]*group{}
		}
		d.streams[name] = s
	}
	return s
}

// Detect implements ingest.Detector.
func (d *Detector) Detect(ctx context.Context, b event.Batch) ([]event.Alert, error) {
	s := d.stream(b.Stream)
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []event.Alert
	var key strings.Builder
	for i, e := range b.Events {
		t, err := e.Time()
		if err != nil {
			continue
		}
		if t.After(s.mark) {
			s.mark = t
		}
		for ri := range d.rules {
			r := &d.rules[ri]
			if !matchAll(r, e) {
				continue
			}
			key.Reset()
			complete := true
			for gi, f := range r.groupBy {
				v := e.Get(f)
				if !v.IsScalar() {
					complete = false
					break
				}
				if gi > 0 {
					key.WriteByte(0)
				}
				key.WriteString(v.Text())
			}
			if !complete {
				continue
			}
			var dv string
			if r.Distinct != "" {
				v := e.Get(r.distinct)
				if !v.IsScalar() {
					continue
				}
				dv = v.Text()
			}
			groups := s.groups[ri]
			g := groups[key.String()]
			if g == nil {
				if len(groups) >= MaxGroups {
					evict(groups, s.mark, r.Window)
				}
				g = &group{vals: map[string]string{}}
				for gi, f := range r.groupBy {
					g.vals[r.GroupBy[gi]] = e.Get(f).Text()
				}
				groups[key.String()] = g
			}
			if a, ok := g.add(r, t, dv, b.IDs[i], b.Org); ok {
				out = append(out, a)
			}
		}
	}
	if len(out) > 0 || len(b.Events) > 0 {
		for ri := range d.rules {
			if len(s.groups[ri]) > MaxGroups/2 {
				evict(s.groups[ri], s.mark, d.rules[ri].Window)
			}
		}
	}
	return out, ctx.Err()
}

func matchAll(r *compiledRule, e *event.Event) bool {
	for i := range r.where {
		if !r.where[i].match(e) {
			return false
		}
	}
	return true
}

// add counts one event into the group and returns an alert when the group
// crosses the threshold for the first time in this episode. An episode ends
// when the group has been quiet for a whole window.
func (g *group) add(r *compiledRule, t time.Time, dv, id, org string) (event.Alert, bool) {
	if !g.last.IsZero() && t.Sub(g.last) > r.Window {
		// Quiet for a window: a new episode.
		g.times, g.distinct, g.ids, g.fired, g.count = g.times[:0], nil, g.ids[:0], false, 0
		g.start = time.Time{}
	}
	if g.start.IsZero() || t.Before(g.start) {
		g.start = t
	}
	if t.After(g.last) {
		g.last = t
	}
	g.count++
	if len(g.ids) < event.MaxAlertEvents {
		g.ids = append(g.ids, id)
	}
	if g.fired {
		return event.Alert{}, false
	}
	lo := t.Add(-r.Window)
	var n int
	if r.Distinct != "" {
		if g.distinct == nil {
			g.distinct = map[string]time.Time{}
		}
		if prev, ok := g.distinct[dv]; ok || len(g.distinct) < maxDistinct {
			if t.After(prev) {
				g.distinct[dv] = t
			}
		}
		// Values older than the window are forgotten, but only when they
		// could make a difference, so a busy group costs O(1) per event.
		if len(g.distinct) >= r.Threshold {
			for v, seen := range g.distinct {
				if seen.Before(lo) {
					delete(g.distinct, v)
				}
			}
		}
		n = len(g.distinct)
	} else {
		// Only the latest Threshold times can decide.
		if len(g.times) >= r.Threshold {
			g.times = append(g.times[:0], g.times[len(g.times)-r.Threshold+1:]...)
		}
		g.times = append(g.times, t)
		k := 0
		for _, x := range g.times {
			if !x.Before(lo) {
				g.times[k] = x
				k++
			}
		}
		g.times = g.times[:k]
		n = len(g.times)
	}
	if n < r.Threshold {
		return event.Alert{}, false
	}
	g.fired = true
	what := "events"
	if r.Distinct != "" {
		what = "distinct " + r.Distinct
	}
	groupDesc := make([]string, 0, len(r.GroupBy))
	for _, f := range r.GroupBy {
		groupDesc = append(groupDesc, f+"="+g.vals[f])
	}
	keyParts := append([]string{"threshold", r.ID, org, g.start.UTC().Format(time.RFC3339Nano)}, groupDesc...)
	return event.Alert{
		ID:        event.ID(keyParts...),
		Time:      t,
		Org:       org,
		Detector:  "threshold",
		Rule:      event.Rule{ID: r.ID, Name: r.Name, Description: r.Description, Author: r.Author, Ruleset: "egovsoc-threshold", Tags: r.Tags},
		Severity:  r.Severity,
		Title:     fmt.Sprintf("%s: %d %s within %s (%s)", r.Name, n, what, r.Window, strings.Join(groupDesc, ", ")),
		Status:    event.StatusOpen,
		Group:     cloneMap(g.vals),
		Count:     g.count,
		EventIDs:  slices.Clone(g.ids),
		FirstSeen: g.start,
		LastSeen:  t,
	}, true
}

func cloneMap(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// evict drops the groups quiet for longer than the window and, if that is
// not enough, the stalest quarter.
func evict(groups map[string]*group, mark time.Time, window time.Duration) {
	lo := mark.Add(-window)
	for k, g := range groups {
		if g.last.Before(lo) {
			delete(groups, k)
		}
	}
	if len(groups) < MaxGroups {
		return
	}
	type kv struct {
		k string
		t time.Time
	}
	all := make([]kv, 0, len(groups))
	for k, g := range groups {
		all = append(all, kv{k, g.last})
	}
	slices.SortFunc(all, func(a, b kv) int { return a.t.Compare(b.t) })
	for _, x := range all[:len(all)/4] {
		delete(groups, x.k)
	}
}
