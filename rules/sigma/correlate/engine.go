package correlate

import (
	"container/heap"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Defaults for the zero Options.
const (
	DefaultMaxGroups         = 100_000
	DefaultMaxValuesPerGroup = 1000
	DefaultMaxEventIDs       = 20
	DefaultAllowedLateness   = time.Minute
	DefaultResolution        = 30
	DefaultMaxOccurrences    = 8
)

// NoLateness is an AllowedLateness that accepts no observation older than
// the newest one seen (any negative value does the same).
const NoLateness time.Duration = -1

// Options bound the state of an Engine. The zero value is usable: every
// zero field takes its default.
type Options struct {
	// MaxGroups bounds the groups held, over all correlations. When a new
	// group would exceed it, the group whose state expires first (the one
	// quiet the longest, relative to its timespan) is evicted and counted
	// in Stats.Evicted; a window it had open is lost undecided.
	MaxGroups int

	// MaxValuesPerGroup bounds the distinct values a value_count group
	// holds and the samples a value_percentile/value_median window holds.
	// A value_count condition that needs more distinct values than this is
	// an error in New; percentile samples beyond it are a uniform
	// reservoir (the percentile becomes an estimate), counted in
	// Stats.ValuesCapped.
	MaxValuesPerGroup int

	// MaxEventIDs bounds Result.EventIDs and the event ids a group keeps
	// (the newest). Negative: keep none.
	MaxEventIDs int

	// AllowedLateness is how far behind the newest event time an
	// observation may be and still count: the watermark is the newest event
	// time seen minus AllowedLateness. Zero selects the default; negative
	// (NoLateness) accepts no lateness at all.
	AllowedLateness time.Duration

	// Resolution is the number of slots a timespan is divided into by the
	// sliding windows of event_count, value_sum, value_min and value_max:
	// their memory per group is bounded by about Resolution slots, and a
	// sliding window is exact to one slot (see the package doc). 1 to 1024.
	Resolution int

	// MaxOccurrences bounds, per referenced rule and group, the occurrence
	// times a temporal or temporal_ordered correlation keeps (the newest).
	// 1 to 255.
	MaxOccurrences int

	// IsRule, when set, tells New which rule keys exist: a key in
	// Spec.Rules that is neither a correlation nor a rule is an error. When
	// nil, every key that is not a correlation is taken for a base rule.
	IsRule func(key string) bool
}

func (o Options) normalize() (Options, error) {
	if o.MaxGroups <= 0 {
		o.MaxGroups = DefaultMaxGroups
	}
	if o.MaxValuesPerGroup <= 0 {
		o.MaxValuesPerGroup = DefaultMaxValuesPerGroup
	}
	switch {
	case o.MaxEventIDs == 0:
		o.MaxEventIDs = DefaultMaxEventIDs
	case o.MaxEventIDs < 0:
		o.MaxEventIDs = 0
	}
	switch {
	case o.AllowedLateness == 0:
		o.AllowedLateness = DefaultAllowedLateness
	case o.AllowedLateness < 0:
		o.AllowedLateness = 0
	case o.AllowedLateness > maxSpan:
		return o, fmt.Errorf("correlate: Options.AllowedLateness %v is longer than %v", o.AllowedLateness, maxSpan)
	}
	switch {
	case o.Resolution == 0:
		o.Resolution = DefaultResolution
	case o.Resolution < 0 || o.Resolution > 1024:
		return o, fmt.Errorf("correlate: Options.Resolution %d is not in 1..1024", o.Resolution)
	}
	switch {
	case o.MaxOccurrences == 0:
		o.MaxOccurrences = DefaultMaxOccurrences
	case o.MaxOccurrences < 0 || o.MaxOccurrences > 255:
		return o, fmt.Errorf("correlate: Options.MaxOccurrences %d is not in 1..255", o.MaxOccurrences)
	}
	return o, nil
}

// Observation is a match of a base rule, reduced to what the correlations
// that refer to the rule need.
type Observation struct {
	Rule    string    // canonical key of the base rule that matched
	Time    time.Time // the event's time (event time, not arrival time)
	EventID string    // kept for Result.EventIDs; may be empty

	// Values are the event's values of Engine.Fields(Rule), in that order;
	// "" for a field the event does not have. Missing trailing values count
	// as "". The engine copies the values it keeps and does not retain the
	// slice; it keeps EventID as given.
	Values []string
}

// Result is a correlation that matched for one group.
type Result struct {
	Spec  *Spec // the engine's copy of the correlation; do not modify
	Index int   // Spec's position in the specs given to New

	// Group maps each Spec.GroupBy name (alias names as written) to the
	// group's value.
	Group map[string]string

	// First and Last are the times of the earliest and latest event that
	// contributed; At is the event time at which the match was decided: the
	// last event's time for a correlation decided eagerly, the last instant
	// of the window (window end minus 1ns) for one decided when its window
	// closes. A chained correlation sees this result as an event at At.
	First, Last, At time.Time

	// Count is the number of contributing events (for value_count: distinct
	// values). Value is the aggregate the condition held for: event count,
	// distinct values, matched rules (temporal), longest ordered chain
	// (temporal_ordered), sum, mean, minimum, maximum or percentile.
	Count int
	Value float64

	// EventIDs are ids of contributing events (the newest, at most
	// Options.MaxEventIDs), oldest first. For a chained correlation they are
	// those of the results it consumed.
	EventIDs []string

	// Rules are the referenced rules (keys as in Spec.Rules) that
	// contributed, in Spec.Rules order.
	Rules []string

	// Emit reports whether the result is to be raised as an alert: false
	// for an intermediate correlation that other correlations refer to,
	// unless one of them sets Generate.
	Emit bool
}

// Stats are an Engine's counters since New (Restore does not reset them).
type Stats struct {
	Groups         int       // groups held now
	Observed       uint64    // observations accepted
	Late           uint64    // observations dropped: older than the watermark
	Unmatched      uint64    // observations dropped: no correlation refers to the rule
	MissingGroup   uint64    // (observation, correlation) pairs dropped: a group-by value absent
	MissingValue   uint64    // (observation, correlation) pairs dropped: value field absent or not a number
	Consumed       uint64    // (observation, correlation) pairs dropped: older than the group's last match
	Evicted        uint64    // groups dropped because MaxGroups was reached
	Expired        uint64    // groups removed when nothing they hold can match any more
	ValuesCapped   uint64    // values, samples or occurrences not kept because of a per-group bound
	Suppressed     uint64    // windows that matched within a timespan after their group's last match
	Results        uint64    // results produced, intermediate ones included
	RestoreSkipped uint64    // snapshot groups not restored: their correlation is gone or changed
	Watermark      time.Time // newest event time seen minus AllowedLateness; zero before any
}

type counters struct {
	observed, late, unmatched, missingGroup, missingValue, consumed     uint64
	evicted, expired, valuesCapped, suppressed, results, restoreSkipped uint64
}

// Event times are clamped to ±2^62 ns (about ±146 years around 1970) so that
// adding timespans and lateness never overflows.
const (
	minNanos = -1 << 62
	maxNanos = 1 << 62
)

func nanos(t time.Time) int64 {
	s := t.Unix()
	switch {
	case s <= minNanos/int64(time.Second):
		return minNanos
	case s >= maxNanos/int64(time.Second):
		return maxNanos
	}
	return t.UnixNano()
}

// Engine is the correlation state of one stream (for example one Kafka
// partition): observations must come from that stream only. An Engine is
// not safe for concurrent use; each stream has its own.
type Engine struct {
	opt   Options
	late  int64
	specs []Spec
	corrs []*corr
	byKey map[string]*corr
	base  map[string]*source
	alone map[string]bool

	hasMax  bool
	maxTime int64
	h       groupHeap
	ngroups int
	seq     uint64
	st      counters

	kb   []byte
	ends []int64
	pts  []occPoint
	dp   []chainLink
	out  []Result
}

// corr is a compiled Spec.
type corr struct {
	idx     int
	spec    *Spec
	key     string
	hash    [32]byte
	span    int64 // timespan, ns
	slot    int64 // cell width, ns
	cond    cond
	expr    *compiled // extended temporal condition, instead of cond
	eager   bool
	pct     float64
	need    int // value_count: distinct values a window must be able to hold
	depth   int // 1 + the depth of the deepest correlation referred to
	emit    bool
	inner   []*corr // per Spec.Rules entry: the correlation referred to, or nil
	parents []consumer
	groups  map[string]*group
}

// holds reports whether a window's aggregate satisfies the condition.
func (c *corr) holds(a aggregate) bool {
	if c.expr != nil {
		return c.expr.eval(a.rules)
	}
	return c.cond.eval(a.value)
}

// consumer is one correlation's use of one source (base rule or
// correlation): where its group-by and value fields are in the source's
// values.
type consumer struct {
	c    *corr
	rule int
	pos  []int
	vpos int
}

// source is a base rule: the fields its observations carry and the
// correlations that consume them.
type source struct {
	fields []string
	cons   []consumer
}

func (s *source) field(f string) int {
	if i := slices.Index(s.fields, f); i >= 0 {
		return i
	}
	s.fields = append(s.fields, f)
	return len(s.fields) - 1
}

// New validates and compiles specs. Errors name the correlation: an unknown
// type or rule reference, a cycle of correlations referring to each other,
// a missing field, a bad condition, a chained correlation grouping by a
// field the correlation it refers to does not group by.
func New(specs []Spec, opt Options) (*Engine, error) {
	o, err := opt.normalize()
	if err != nil {
		return nil, err
	}
	e := &Engine{
		opt:   o,
		late:  int64(o.AllowedLateness),
		specs: make([]Spec, len(specs)),
		byKey: map[string]*corr{},
		base:  map[string]*source{},
		alone: map[string]bool{},
	}
	for i := range specs {
		e.specs[i] = specs[i].clone()
	}
	for i := range e.specs {
		s := &e.specs[i]
		if s.ID == "" && s.Name == "" {
			return nil, fmt.Errorf("correlate: correlation #%d: needs an id or a name", i)
		}
		k, err := s.validate(&o)
		if err != nil {
			return nil, fmt.Errorf("correlate: %s: %w", s.label(), err)
		}
		span := int64(s.Timespan)
		c := &corr{
			idx: i, spec: s, key: s.key(), hash: s.hash(), span: span,
			slot: max(span/int64(o.Resolution), 1), cond: k, eager: eager(s.Type, k),
			pct: s.Condition.Percentile, groups: map[string]*group{},
		}
		if s.Type == ValueMedian {
			c.pct = 50
		}
		if x := s.Condition.Expr; x != nil {
			k, monotone, _ := compileExpr(x, s.Rules, 0)
			c.expr, c.eager = &k, monotone
		}
		if s.Type == ValueCount {
			c.need = max(distinctNeed(k, c.eager), 1)
		}
		for _, key := range []string{s.ID, s.Name} {
			if key == "" {
				continue
			}
			if prev := e.byKey[key]; prev != nil && prev != c {
				return nil, fmt.Errorf("correlate: %s: %q is already the id or name of %s", s.label(), key, prev.spec.label())
			}
			e.byKey[key] = c
		}
		e.corrs = append(e.corrs, c)
	}
	for _, c := range e.corrs {
		c.inner = make([]*corr, len(c.spec.Rules))
		for i, r := range c.spec.Rules {
			if in := e.byKey[r]; in != nil {
				c.inner[i] = in
			} else if o.IsRule != nil && !o.IsRule(r) {
				return nil, fmt.Errorf("correlate: %s: rule %q is neither a known rule nor a correlation", c.spec.label(), r)
			}
		}
	}
	if err := e.checkCycles(); err != nil {
		return nil, err
	}
	referrers := map[string][]*corr{} // key as written → correlations referring to it
	for _, c := range e.corrs {
		s := c.spec
		for i, r := range s.Rules {
			referrers[r] = append(referrers[r], c)
			if in := c.inner[i]; in != nil {
				cs := consumer{c: c, rule: i, vpos: -1}
				for _, g := range s.GroupBy {
					f := s.field(g, r)
					j := slices.Index(in.spec.GroupBy, f)
					if j < 0 {
						return nil, fmt.Errorf("correlate: %s: group-by %q is field %q of %s, which does not group by it", s.label(), g, f, in.spec.label())
					}
					cs.pos = append(cs.pos, j)
				}
				if s.Type.valueType() {
					f := s.field(s.Condition.Field, r)
					j := slices.Index(in.spec.GroupBy, f)
					if j < 0 {
						return nil, fmt.Errorf("correlate: %s: condition.field %q is field %q of %s, which does not group by it", s.label(), s.Condition.Field, f, in.spec.label())
					}
					cs.vpos = j
				}
				in.parents = append(in.parents, cs)
				continue
			}
			src := e.base[r]
			if src == nil {
				src = &source{}
				e.base[r] = src
			}
			cs := consumer{c: c, rule: i, vpos: -1}
			for _, g := range s.GroupBy {
				cs.pos = append(cs.pos, src.field(s.field(g, r)))
			}
			if s.Type.valueType() {
				cs.vpos = src.field(s.field(s.Condition.Field, r))
			}
			src.cons = append(src.cons, cs)
		}
	}
	generate := func(key string) bool {
		for _, c := range referrers[key] {
			if c.spec.Generate {
				return true
			}
		}
		return false
	}
	for _, c := range e.corrs {
		s := c.spec
		c.emit = true
		for _, key := range []string{s.ID, s.Name} {
			if key != "" && len(referrers[key]) > 0 {
				c.emit = false
			}
		}
		if !c.emit {
			c.emit = (s.ID != "" && generate(s.ID)) || (s.Name != "" && generate(s.Name))
		}
	}
	for r := range e.base {
		e.alone[r] = generate(r)
	}
	return e, nil
}

// checkCycles rejects correlations that refer to themselves through a chain,
// and computes each correlation's depth.
func (e *Engine) checkCycles() error {
	const (
		white = iota
		grey
		black
	)
	color := make([]int, len(e.corrs))
	var visit func(c *corr, path []string) error
	visit = func(c *corr, path []string) error {
		path = append(path, c.key)
		switch color[c.idx] {
		case grey:
			return fmt.Errorf("correlate: %s: correlations refer to each other in a cycle: %s", c.spec.label(), strings.Join(path, " → "))
		case black:
			return nil
		}
		color[c.idx] = grey
		c.depth = 1
		for _, in := range c.inner {
			if in == nil {
				continue
			}
			if err := visit(in, path); err != nil {
				return err
			}
			c.depth = max(c.depth, in.depth+1)
		}
		color[c.idx] = black
		return nil
	}
	for _, c := range e.corrs {
		if err := visit(c, nil); err != nil {
			return err
		}
	}
	return nil
}

// Fields returns the fields, resolved through aliases, whose values
// observations of base rule rule must carry, in this order: for each
// correlation referring to the rule (in the order of the specs), its
// group-by fields and then its value field, each field once. Nil when no
// correlation refers to rule directly.
func (e *Engine) Fields(rule string) []string {
	if s := e.base[rule]; s != nil {
		return slices.Clone(s.fields)
	}
	return nil
}

// Rules returns the base rules some correlation refers to, sorted: the rules
// whose matches the caller passes to Observe.
func (e *Engine) Rules() []string {
	out := make([]string, 0, len(e.base))
	for r := range e.base {
		out = append(out, r)
	}
	slices.Sort(out)
	return out
}

// Standalone reports whether matches of base rule rule are alerts of their
// own: true unless a correlation refers to the rule and none of those that
// do sets Generate. (pySigma disables a rule's output as soon as one
// referring correlation lacks generate; here any one that sets it wins.)
func (e *Engine) Standalone(rule string) bool {
	g, ok := e.alone[rule]
	return !ok || g
}

// Stats returns the engine's counters.
func (e *Engine) Stats() Stats {
	s := Stats{
		Groups: e.ngroups, Observed: e.st.observed, Late: e.st.late, Unmatched: e.st.unmatched,
		MissingGroup: e.st.missingGroup, MissingValue: e.st.missingValue, Consumed: e.st.consumed,
		Evicted: e.st.evicted, Expired: e.st.expired, ValuesCapped: e.st.valuesCapped,
		Suppressed: e.st.suppressed, Results: e.st.results, RestoreSkipped: e.st.restoreSkipped,
	}
	if e.hasMax {
		s.Watermark = time.Unix(0, e.watermark()).UTC()
	}
	return s
}

func (e *Engine) watermark() int64 {
	if !e.hasMax {
		return minNanos
	}
	return e.maxTime - e.late
}

// Observe feeds one base-rule match. An observation older than the watermark
// is late: it is dropped and counted in Stats.Late. Observe returns the
// results it caused, in order: windows the advancing watermark closed, then
// correlations the observation completed, each followed by the chained
// correlations that result completed.
func (e *Engine) Observe(o Observation) []Result {
	e.out = nil
	t := nanos(o.Time)
	if e.hasMax && t < e.watermark() {
		e.st.late++
		return nil
	}
	if !e.hasMax || t > e.maxTime {
		e.hasMax, e.maxTime = true, t
		e.closeDue()
	}
	src := e.base[o.Rule]
	if src == nil {
		e.st.unmatched++
		return e.take()
	}
	e.st.observed++
	for i := range src.cons {
		e.feed(&src.cons[i], o.Values, datum{t: t, id: o.EventID})
	}
	return e.take()
}

// Advance moves event time to now when now is past the newest event time
// seen (a stream that is idle, or caught up, still has its windows closed):
// windows that end at or before the new watermark are decided and groups
// that can no longer match are dropped. now is event time: pass the time
// the stream is known to have reached, for example the partition's newest
// record time, or the wall clock when event times are known to track it.
func (e *Engine) Advance(now time.Time) []Result {
	e.out = nil
	if t := nanos(now); !e.hasMax || t > e.maxTime {
		e.hasMax, e.maxTime = true, t
	}
	e.closeDue()
	return e.take()
}

func (e *Engine) take() []Result {
	out := e.out
	e.out = nil
	return out
}

func at(vals []string, i int) string {
	if i < len(vals) {
		return vals[i]
	}
	return ""
}

func parseNum(s string) (float64, bool) {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

// feed gives d, from a source whose values are vals, to one consumer.
func (e *Engine) feed(cs *consumer, vals []string, d datum) {
	c := cs.c
	kb := e.kb[:0]
	for _, p := range cs.pos {
		v := at(vals, p)
		if v == "" {
			e.st.missingGroup++
			return
		}
		kb = binary.AppendUvarint(kb, uint64(len(v)))
		kb = append(kb, v...)
	}
	e.kb = kb
	if cs.vpos >= 0 {
		v := at(vals, cs.vpos)
		if c.spec.Type == ValueCount {
			if v == "" {
				e.st.missingValue++
				return
			}
			d.str = v
		} else {
			f, ok := parseNum(v)
			if !ok {
				e.st.missingValue++
				return
			}
			d.num = f
		}
	}
	d.rule = cs.rule
	g := c.groups[string(kb)]
	if g == nil {
		g = e.newGroup(c, string(kb))
	}
	e.add(g, &d)
}

// group is the state of one correlation for one combination of group-by
// values.
type group struct {
	c        *corr
	key      string // group-by values, each length-prefixed
	seq      uint64
	hidx     int   // index in the heap
	hkey     int64 // heap key: a deadline no later than the real one
	deadline int64 // event time at which the group needs attention
	fired    bool  // eager: matched at least once
	consumed int64 // eager: the end of the last matching window
	ids      idRing
	sl       slider    // eager correlations
	wins     []*window // correlations decided at window close, by K
}

func (g *group) values() []string {
	return decodeKey(g.key, len(g.c.spec.GroupBy))
}

// decodeKey splits a group key into its values; nil when key is malformed.
func decodeKey(key string, n int) []string {
	vals := make([]string, 0, n)
	for len(key) > 0 {
		var l uint64
		var shift uint
		i := 0
		for ; i < len(key) && i < binary.MaxVarintLen64; i++ {
			b := key[i]
			l |= uint64(b&0x7f) << shift
			shift += 7
			if b < 0x80 {
				break
			}
		}
		if i >= len(key) || i == binary.MaxVarintLen64 || l > uint64(len(key)-i-1) {
			return nil
		}
		key = key[i+1:]
		vals = append(vals, key[:l])
		key = key[l:]
	}
	return vals
}

// due is the event time at which the group must be looked at again: an
// eager group when nothing it holds can be in a future window (the newest
// datum, or last match, plus the timespan); otherwise when its first open
// window closes.
func (g *group) due() int64 {
	c := g.c
	if c.eager {
		t := g.sl.newest()
		if g.fired {
			t = max(t, g.consumed)
		}
		return t + c.span + 1
	}
	if len(g.wins) == 0 {
		return minNanos
	}
	return g.wins[0].end(c.span)
}

func (e *Engine) newGroup(c *corr, key string) *group {
	for e.ngroups >= e.opt.MaxGroups && len(e.h) > 0 {
		v := e.h[0]
		if v.hkey < v.deadline {
			v.hkey = v.deadline
			heap.Fix(&e.h, 0)
			continue
		}
		e.remove(v)
		e.st.evicted++
	}
	e.seq++
	g := &group{c: c, key: key, seq: e.seq, hidx: -1}
	if c.eager {
		switch c.spec.Type {
		case ValueCount:
			g.sl = newDistinct(c.need)
		case Temporal, TemporalOrdered:
			g.sl = newOccs(c, e.opt.MaxOccurrences)
		default:
			g.sl = newCells(c)
		}
	}
	c.groups[key] = g
	e.ngroups++
	return g
}

func (e *Engine) remove(g *group) {
	delete(g.c.groups, g.key)
	if g.hidx >= 0 {
		heap.Remove(&e.h, g.hidx)
	}
	e.ngroups--
}

// schedule puts g in the heap, or moves it up when its deadline came closer.
// A later deadline is left for closeDue to find (the heap key stays a lower
// bound), which keeps the common path free of heap work.
func (e *Engine) schedule(g *group) {
	d := g.due()
	g.deadline = d
	if g.hidx < 0 {
		g.hkey = d
		heap.Push(&e.h, g)
	} else if d < g.hkey {
		g.hkey = d
		heap.Fix(&e.h, g.hidx)
	}
}

// add records d in g and decides what can be decided.
func (e *Engine) add(g *group, d *datum) {
	c := g.c
	if !c.eager {
		k := floorDiv(d.t, c.span)
		i, found := slices.BinarySearchFunc(g.wins, k, func(w *window, k int64) int {
			switch {
			case w.K < k:
				return -1
			case w.K > k:
				return 1
			}
			return 0
		})
		if !found {
			g.wins = slices.Insert(g.wins, i, &window{K: k})
		}
		g.wins[i].add(c, d, e)
		g.addIDs(d, e.opt.MaxEventIDs)
		e.schedule(g)
		return
	}
	if g.fired && d.t <= g.consumed {
		e.st.consumed++
		return
	}
	g.sl.prune(e.watermark() - c.span)
	g.sl.add(*d, e)
	g.addIDs(d, e.opt.MaxEventIDs)
	a, lo, end, ok := e.evalEager(g, d.t)
	if !ok {
		e.schedule(g)
		return
	}
	g.fired, g.consumed = true, end
	g.sl.prune(end + 1)
	e.schedule(g)
	e.emit(g, a, lo, end, end)
}

func (g *group) addIDs(d *datum, max int) {
	if d.id != "" {
		g.ids.add(d.t, d.id, max)
	}
	for _, id := range d.ids {
		g.ids.add(d.t, id, max)
	}
}

// evalEager checks the sliding windows that end at a datum time in
// [t, t+span], oldest first: for an observation in order only the window
// ending at t. A window covers [end-span, end], minus what an earlier match
// of the group consumed.
func (e *Engine) evalEager(g *group, t int64) (aggregate, int64, int64, bool) {
	c := g.c
	e.ends = g.sl.ends(t, t+c.span, e.ends[:0])
	for _, end := range e.ends {
		lo := end - c.span
		if g.fired && lo <= g.consumed {
			lo = g.consumed + 1
		}
		a := g.sl.agg(lo, end, false, e)
		if a.n == 0 || !c.holds(a) {
			continue
		}
		if g.fired && end < g.consumed+c.span {
			e.st.suppressed++
			continue
		}
		return g.sl.agg(lo, end, true, e), lo, end, true
	}
	return aggregate{}, 0, 0, false
}

// closeDue handles every group whose deadline the watermark has reached:
// eager groups are dropped, windows that ended are decided. Groups at equal
// deadlines go in order of depth, so that a correlation's results reach the
// correlations referring to it before their own windows close.
func (e *Engine) closeDue() {
	wm := e.watermark()
	type pending struct {
		a           aggregate
		lo, hi, end int64
	}
	var rs []pending
	for len(e.h) > 0 {
		g := e.h[0]
		if g.hkey > wm {
			return
		}
		if g.deadline > wm {
			g.hkey = g.deadline
			heap.Fix(&e.h, 0)
			continue
		}
		c := g.c
		if c.eager {
			e.remove(g)
			e.st.expired++
			continue
		}
		rs = rs[:0]
		for len(g.wins) > 0 && g.wins[0].end(c.span) <= wm {
			w := g.wins[0]
			g.wins[0] = nil
			g.wins = g.wins[1:]
			a := w.value(c)
			if c.holds(a) {
				start := w.K * c.span
				rs = append(rs, pending{a: a, lo: start, hi: w.end(c.span) - 1, end: w.end(c.span) - 1})
			}
		}
		if len(g.wins) == 0 {
			e.remove(g)
			e.st.expired++
		} else {
			g.wins = slices.Clip(g.wins)
			g.deadline = g.due()
			g.hkey = g.deadline
			heap.Fix(&e.h, g.hidx)
		}
		for _, p := range rs {
			e.emit(g, p.a, p.lo, p.hi, p.end)
		}
	}
}

// emit appends a result of g for aggregate a over [lo, hi], decided at
// event time at, and feeds it to the correlations that refer to g's.
func (e *Engine) emit(g *group, a aggregate, lo, hi, atT int64) {
	c := g.c
	vals := g.values()
	grp := make(map[string]string, len(vals))
	for i, name := range c.spec.GroupBy {
		if i < len(vals) {
			grp[name] = vals[i]
		}
	}
	var rules []string
	for i, r := range c.spec.Rules {
		if a.rules&(1<<uint(i)) != 0 {
			rules = append(rules, r)
		}
	}
	r := Result{
		Spec: c.spec, Index: c.idx, Group: grp,
		First: time.Unix(0, a.first).UTC(), Last: time.Unix(0, a.last).UTC(), At: time.Unix(0, atT).UTC(),
		Count: a.n, Value: a.value, EventIDs: g.ids.between(max(lo, a.first), min(hi, a.last)), Rules: rules, Emit: c.emit,
	}
	e.out = append(e.out, r)
	e.st.results++
	for i := range c.parents {
		e.feed(&c.parents[i], vals, datum{t: atT, ids: r.EventIDs})
	}
}

// idRing keeps the newest event ids of a group with their times.
type idRing struct {
	buf  []idEntry
	next int // oldest entry once the ring is full
}

type idEntry struct {
	T  int64
	ID string
}

func (r *idRing) add(t int64, id string, max int) {
	if max <= 0 {
		return
	}
	if len(r.buf) < max {
		r.buf = append(r.buf, idEntry{T: t, ID: id})
		return
	}
	r.buf[r.next] = idEntry{T: t, ID: id}
	r.next = (r.next + 1) % len(r.buf)
}

// ordered returns the entries oldest first.
func (r *idRing) ordered() []idEntry {
	out := make([]idEntry, 0, len(r.buf))
	out = append(out, r.buf[r.next:]...)
	out = append(out, r.buf[:r.next]...)
	slices.SortStableFunc(out, func(a, b idEntry) int {
		switch {
		case a.T < b.T:
			return -1
		case a.T > b.T:
			return 1
		}
		return 0
	})
	return out
}

func (r *idRing) between(lo, hi int64) []string {
	var ids []string
	for _, en := range r.ordered() {
		if en.T >= lo && en.T <= hi {
			ids = append(ids, en.ID)
		}
	}
	return ids
}

// groupHeap orders groups by (heap key, depth, creation).
type groupHeap []*group

func (h groupHeap) Len() int { return len(h) }
func (h groupHeap) Less(i, j int) bool {
	a, b := h[i], h[j]
	if a.hkey != b.hkey {
		return a.hkey < b.hkey
	}
	if a.c.depth != b.c.depth {
		return a.c.depth < b.c.depth
	}
	return a.seq < b.seq
}
func (h groupHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].hidx = i
	h[j].hidx = j
}
func (h *groupHeap) Push(x any) {
	g := x.(*group)
	g.hidx = len(*h)
	*h = append(*h, g)
}
func (h *groupHeap) Pop() any {
	old := *h
	g := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	g.hidx = -1
	return g
}
