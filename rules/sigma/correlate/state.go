package correlate

import (
	"math"
	"math/bits"
	"slices"
	"strings"
)

// datum is one thing a group counts: a base rule's observation, or the
// result of a correlation this one refers to.
type datum struct {
	t    int64 // event time, Unix nanoseconds
	rule int   // index in Spec.Rules
	str  string
	num  float64
	id   string   // event id of an observation
	ids  []string // event ids behind a chained result
}

// aggregate is what a window holds: its condition is checked against value.
type aggregate struct {
	n           int // events (distinct values for value_count) in the window
	value       float64
	first, last int64
	rules       uint64 // bit i: Spec.Rules[i] contributed
}

// slider is the state of one group of an eagerly decided correlation: enough
// of the recent past to aggregate any window [lo, hi] that ends at or after
// the watermark minus the timespan.
type slider interface {
	add(d datum, e *Engine)
	// newest is the time of the newest datum held (minNanos when empty).
	newest() int64
	// ends appends to buf, ascending and unique, the times in [from, to] at
	// which a window may end: the data times there.
	ends(from, to int64, buf []int64) []int64
	// agg aggregates the data in [lo, hi]. Unless full, only n and value
	// are computed (the cheap check done for every observation).
	agg(lo, hi int64, full bool, e *Engine) aggregate
	// prune drops data older than before.
	prune(before int64)
}

// ---- cells: event_count, value_sum, value_min, value_max ----

// cell aggregates the data of one slot (Timespan/Resolution wide, aligned
// to the Unix epoch) with the exact times of its first and last datum.
type cell struct {
	First, Last int64
	N           uint32
	Agg         float64 // sum, min or max of the values, per type
	Rules       uint64
}

// cells is an ascending run of cells (by slot): buf[off:]. Pruning only
// moves off; the dead prefix is reclaimed when the buffer fills.
type cells struct {
	typ   Type
	width int64
	buf   []cell
	off   int
	total int64 // events in the live cells
}

func newCells(c *corr) *cells { return &cells{typ: c.spec.Type, width: c.slot} }

func (s *cells) live() []cell { return s.buf[s.off:] }

// set replaces the cells (ascending, one per slot).
func (s *cells) set(cs []cell) {
	s.buf, s.off, s.total = cs, 0, 0
	for i := range cs {
		s.total += int64(cs[i].N)
	}
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func (s *cells) combine(a, v float64) float64 {
	switch s.typ {
	case ValueMin:
		return math.Min(a, v)
	case ValueMax:
		return math.Max(a, v)
	}
	return a + v
}

func (s *cells) add(d datum, _ *Engine) {
	slot := floorDiv(d.t, s.width)
	bit := uint64(1) << uint(d.rule)
	v := d.num
	if s.typ == EventCount {
		v = 0
	}
	cs := s.live()
	i := len(cs)
	for i > 0 && floorDiv(cs[i-1].First, s.width) > slot {
		i--
	}
	s.total++
	if i > 0 && floorDiv(cs[i-1].First, s.width) == slot {
		c := &cs[i-1]
		c.First = min(c.First, d.t)
		c.Last = max(c.Last, d.t)
		if c.N < math.MaxUint32 {
			c.N++
		} else {
			s.total--
		}
		c.Agg = s.combine(c.Agg, v)
		c.Rules |= bit
		return
	}
	if len(s.buf) == cap(s.buf) && s.off > 0 {
		n := copy(s.buf, cs)
		clear(s.buf[n:])
		s.buf, s.off = s.buf[:n], 0
		cs = s.buf
	}
	s.buf = slices.Insert(s.buf, s.off+i, cell{First: d.t, Last: d.t, N: 1, Agg: v, Rules: bit})
}

func (s *cells) newest() int64 {
	cs := s.live()
	if len(cs) == 0 {
		return minNanos
	}
	return cs[len(cs)-1].Last
}

func (s *cells) ends(from, to int64, buf []int64) []int64 {
	cs := s.live()
	i := len(cs)
	for i > 0 && cs[i-1].Last >= from {
		i--
	}
	for ; i < len(cs); i++ {
		if l := cs[i].Last; l <= to {
			buf = append(buf, l)
		}
	}
	return buf
}

// agg counts a cell whole when it lies inside [lo, hi]. Of a cell that
// straddles a bound only its first or last datum is known to be inside: it
// counts as one event and adds no value (a window never holds more than it
// can prove). An event_count check that is not full counts from the running
// total, visiting only the cells outside the window.
func (s *cells) agg(lo, hi int64, full bool, _ *Engine) aggregate {
	cs := s.live()
	if !full && s.typ == EventCount {
		n := s.total
		for i := 0; i < len(cs) && cs[i].First < lo; i++ {
			n -= int64(cs[i].N)
			if cs[i].Last >= lo && cs[i].Last <= hi {
				n++
			}
		}
		for i := len(cs) - 1; i >= 0 && cs[i].Last > hi; i-- {
			if cs[i].First < lo {
				break // counted above
			}
			n -= int64(cs[i].N)
			if cs[i].First <= hi {
				n++
			}
		}
		return aggregate{n: int(n), value: float64(n)}
	}
	a := aggregate{first: math.MaxInt64, last: math.MinInt64}
	has := false
	for i := len(cs) - 1; i >= 0; i-- {
		c := &cs[i]
		if c.Last < lo {
			break
		}
		if c.First > hi {
			continue
		}
		if c.First >= lo && c.Last <= hi {
			a.n += int(c.N)
			a.first = min(a.first, c.First)
			a.last = max(a.last, c.Last)
			a.rules |= c.Rules
			if s.typ != EventCount {
				if !has {
					a.value = c.Agg
					has = true
				} else {
					a.value = s.combine(a.value, c.Agg)
				}
			}
			continue
		}
		for _, t := range []int64{c.First, c.Last} {
			if t >= lo && t <= hi {
				a.n++
				a.first = min(a.first, t)
				a.last = max(a.last, t)
			}
		}
	}
	if s.typ == EventCount {
		a.value = float64(a.n)
	} else if !has {
		a.n = 0 // no value known inside: nothing to decide on
	}
	return a
}

func (s *cells) prune(before int64) {
	cs := s.live()
	i := 0
	for i < len(cs) && cs[i].Last < before {
		s.total -= int64(cs[i].N)
		i++
	}
	if i == 0 {
		return
	}
	clear(cs[:i])
	s.off += i
	if s.off == len(s.buf) {
		s.buf, s.off = s.buf[:0], 0
	}
}

// ---- distinct: value_count ----

// distinct holds the distinct values of a group with the time each was last
// seen, as a list ordered by that time (oldest first) over a slice.
type distinct struct {
	idx        map[string]int32
	nodes      []dnode
	head, tail int32 // oldest, newest; -1 when empty
	free       int32 // free list through next; -1 when none
	max        int
}

type dnode struct {
	val        string
	first      int64 // earliest occurrence held
	last       int64
	rules      uint64
	prev, next int32
}

func newDistinct(max int) *distinct {
	return &distinct{idx: map[string]int32{}, head: -1, tail: -1, free: -1, max: max}
}

func (s *distinct) unlink(i int32) {
	n := &s.nodes[i]
	if n.prev >= 0 {
		s.nodes[n.prev].next = n.next
	} else {
		s.head = n.next
	}
	if n.next >= 0 {
		s.nodes[n.next].prev = n.prev
	} else {
		s.tail = n.prev
	}
	n.prev, n.next = -1, -1
}

// link places node i by its time, searching from the newest end.
func (s *distinct) link(i int32) {
	t := s.nodes[i].last
	after := s.tail
	for after >= 0 && s.nodes[after].last > t {
		after = s.nodes[after].prev
	}
	n := &s.nodes[i]
	n.prev = after
	if after >= 0 {
		n.next = s.nodes[after].next
		s.nodes[after].next = i
	} else {
		n.next = s.head
		s.head = i
	}
	if n.next >= 0 {
		s.nodes[n.next].prev = i
	} else {
		s.tail = i
	}
}

func (s *distinct) drop(i int32) {
	s.unlink(i)
	delete(s.idx, s.nodes[i].val)
	s.nodes[i] = dnode{prev: -1, next: s.free}
	s.free = i
}

func (s *distinct) put(val string, first, t int64, rules uint64) bool {
	if i, ok := s.idx[val]; ok {
		n := &s.nodes[i]
		n.rules |= rules
		n.first = min(n.first, first)
		if t > n.last {
			n.last = t
			s.unlink(i)
			s.link(i)
		}
		return true
	}
	if len(s.idx) >= s.max {
		if s.head < 0 || s.nodes[s.head].last > t {
			return false // older than everything held
		}
		s.drop(s.head)
	}
	var i int32
	if s.free >= 0 {
		i = s.free
		s.free = s.nodes[i].next
	} else {
		s.nodes = append(s.nodes, dnode{})
		i = int32(len(s.nodes) - 1)
	}
	s.nodes[i] = dnode{val: val, first: min(first, t), last: t, rules: rules, prev: -1, next: -1}
	s.idx[val] = i
	s.link(i)
	return true
}

func (s *distinct) add(d datum, e *Engine) {
	val := d.str
	if _, known := s.idx[val]; !known {
		if len(s.idx) >= s.max && e != nil {
			e.st.valuesCapped++ // the oldest value (or this one) is not kept
		}
		val = strings.Clone(val)
	}
	s.put(val, d.t, d.t, uint64(1)<<uint(d.rule))
}

func (s *distinct) newest() int64 {
	if s.tail < 0 {
		return minNanos
	}
	return s.nodes[s.tail].last
}

func (s *distinct) ends(from, to int64, buf []int64) []int64 {
	start := len(buf)
	for i := s.tail; i >= 0; i = s.nodes[i].prev {
		t := s.nodes[i].last
		if t < from {
			break
		}
		if t <= to && (len(buf) == start || buf[len(buf)-1] != t) {
			buf = append(buf, t)
		}
	}
	slices.Reverse(buf[start:])
	return buf
}

func (s *distinct) agg(lo, hi int64, full bool, _ *Engine) aggregate {
	a := aggregate{first: math.MaxInt64, last: math.MinInt64}
	if !full {
		// The list is ordered by last: count what lies outside [lo, hi]
		// from both ends, which for observations in order is little.
		out := 0
		for i := s.head; i >= 0 && s.nodes[i].last < lo; i = s.nodes[i].next {
			out++
		}
		for i := s.tail; i >= 0 && s.nodes[i].last > hi; i = s.nodes[i].prev {
			out++
		}
		a.n = max(len(s.idx)-out, 0)
		a.value = float64(a.n)
		return a
	}
	for i := s.tail; i >= 0; i = s.nodes[i].prev {
		n := &s.nodes[i]
		if n.last < lo {
			break
		}
		if n.last > hi {
			continue
		}
		a.n++
		// The value's earliest occurrence in the window is known when the
		// earliest one held is inside it; otherwise only its last is.
		if n.first >= lo {
			a.first = min(a.first, n.first)
		} else {
			a.first = min(a.first, n.last)
		}
		a.last = max(a.last, n.last)
		a.rules |= n.rules
	}
	a.value = float64(a.n)
	return a
}

func (s *distinct) prune(before int64) {
	for s.head >= 0 && s.nodes[s.head].last < before {
		s.drop(s.head)
	}
	if len(s.idx) == 0 {
		s.nodes, s.free = s.nodes[:0], -1
	}
}

// ---- occurrences: temporal, temporal_ordered ----

// occs holds, per referenced rule, the times of its newest occurrences
// (at most k, ascending).
type occs struct {
	ordered bool
	k       int
	times   []int64 // rule r uses times[r*k : r*k+cnt[r]]
	cnt     []uint8
}

func newOccs(c *corr, k int) *occs {
	n := len(c.spec.Rules)
	return &occs{ordered: c.spec.Type == TemporalOrdered, k: k, times: make([]int64, n*k), cnt: make([]uint8, n)}
}

func (s *occs) of(r int) []int64 { return s.times[r*s.k : r*s.k+int(s.cnt[r])] }

// put records an occurrence; false when it was older than the k kept.
func (s *occs) put(r int, t int64) bool {
	seg := s.times[r*s.k : r*s.k+s.k]
	n := int(s.cnt[r])
	if n == s.k {
		if t <= seg[0] {
			return false
		}
		copy(seg, seg[1:])
		n--
	}
	i := n
	for i > 0 && seg[i-1] > t {
		seg[i] = seg[i-1]
		i--
	}
	seg[i] = t
	s.cnt[r] = uint8(n + 1)
	return true
}

func (s *occs) add(d datum, e *Engine) {
	if !s.put(d.rule, d.t) && e != nil {
		e.st.valuesCapped++
	}
}

func (s *occs) newest() int64 {
	m := int64(minNanos)
	for r := range s.cnt {
		if o := s.of(r); len(o) > 0 {
			m = max(m, o[len(o)-1])
		}
	}
	return m
}

func (s *occs) ends(from, to int64, buf []int64) []int64 {
	start := len(buf)
	for r := range s.cnt {
		for _, t := range s.of(r) {
			if t >= from && t <= to {
				buf = append(buf, t)
			}
		}
	}
	slices.Sort(buf[start:])
	return append(buf[:start], slices.Compact(buf[start:])...)
}

func (s *occs) agg(lo, hi int64, _ bool, e *Engine) aggregate {
	if s.ordered {
		pts := e.pts[:0]
		for r := range s.cnt {
			for _, t := range s.of(r) {
				if t >= lo && t <= hi {
					pts = append(pts, occPoint{T: t, R: r})
				}
			}
		}
		e.pts = pts
		return longestChain(pts, &e.dp)
	}
	a := aggregate{first: math.MaxInt64, last: math.MinInt64}
	for r := range s.cnt {
		for _, t := range s.of(r) {
			if t >= lo && t <= hi {
				a.n++
				a.rules |= 1 << uint(r)
				a.first = min(a.first, t)
				a.last = max(a.last, t)
			}
		}
	}
	a.value = float64(bits.OnesCount64(a.rules))
	return a
}

func (s *occs) prune(before int64) {
	for r := range s.cnt {
		seg := s.of(r)
		i := 0
		for i < len(seg) && seg[i] < before {
			i++
		}
		if i > 0 {
			copy(seg, seg[i:])
			s.cnt[r] -= uint8(i)
		}
	}
}

// chainLink is the best chain ending at one point.
type chainLink struct {
	n     int
	start int64
	rules uint64
}

// occPoint is one occurrence of referenced rule R at time T.
type occPoint struct {
	T int64
	R int
}

// longestChain finds the longest sequence of points whose rules ascend in
// the order of Spec.Rules and whose times do not decrease: the matched
// subsequence of a temporal_ordered correlation. Among chains of equal
// length it prefers the one that starts latest. a.first and a.last span the
// chain; a.n counts the points within that span.
func longestChain(pts []occPoint, scratch *[]chainLink) aggregate {
	a := aggregate{n: len(pts)}
	if len(pts) == 0 {
		return a
	}
	slices.SortFunc(pts, func(x, y occPoint) int {
		if x.T != y.T {
			if x.T < y.T {
				return -1
			}
			return 1
		}
		return x.R - y.R
	})
	dp := slices.Grow((*scratch)[:0], len(pts))[:len(pts)]
	*scratch = dp
	top := -1
	for i, p := range pts {
		b := chainLink{n: 1, start: p.T, rules: 1 << uint(p.R)}
		for j := range i {
			q := pts[j]
			if q.R >= p.R {
				continue
			}
			if c := dp[j]; c.n+1 > b.n || (c.n+1 == b.n && c.start > b.start) {
				b = chainLink{n: c.n + 1, start: c.start, rules: c.rules | 1<<uint(p.R)}
			}
		}
		dp[i] = b
		if top < 0 || b.n > dp[top].n || (b.n == dp[top].n && b.start >= dp[top].start) {
			top = i
		}
	}
	a.value = float64(dp[top].n)
	a.rules = dp[top].rules
	a.first = dp[top].start
	a.last = pts[top].T
	a.n = 0
	for _, p := range pts {
		if p.T >= a.first && p.T <= a.last {
			a.n++
		}
	}
	return a
}

// ---- windows: every correlation decided when its window closes ----

// window is one tumbling window [K*Timespan, (K+1)*Timespan) of a group.
type window struct {
	K           int64
	N           int // events
	First, Last int64
	Rules       uint64
	Sum         float64
	Min, Max    float64
	Set         map[string]struct{} // value_count, up to corr.need values
	Sat         bool                // value_count: Set reached corr.need
	Samples     []float64           // value_percentile, value_median: a reservoir
	Seen        int64               // values offered to the reservoir
	Occ         []occPoint          // temporal_ordered: up to k per rule
}

func (w *window) end(span int64) int64 { return (w.K + 1) * span }

func (w *window) add(c *corr, d *datum, e *Engine) {
	if w.N == 0 {
		w.First, w.Last = d.t, d.t
		w.Min, w.Max = math.Inf(1), math.Inf(-1)
	}
	w.N++
	w.First = min(w.First, d.t)
	w.Last = max(w.Last, d.t)
	w.Rules |= 1 << uint(d.rule)
	switch c.spec.Type {
	case ValueCount:
		if w.Sat {
			return
		}
		if _, ok := w.Set[d.str]; ok {
			return
		}
		if w.Set == nil {
			w.Set = map[string]struct{}{}
		}
		w.Set[strings.Clone(d.str)] = struct{}{}
		if len(w.Set) >= c.need {
			w.Sat = true
		}
	case ValueSum, ValueAvg:
		w.Sum += d.num
	case ValueMin, ValueMax:
		w.Min = math.Min(w.Min, d.num)
		w.Max = math.Max(w.Max, d.num)
	case ValuePercentile, ValueMedian:
		w.Seen++
		m := e.opt.MaxValuesPerGroup
		if len(w.Samples) < m {
			w.Samples = append(w.Samples, d.num)
			return
		}
		e.st.valuesCapped++
		// Algorithm R with a deterministic generator, so that a replay
		// (or a restore) decides the same way.
		if j := splitmix(uint64(w.Seen)^uint64(w.K)*0x9E3779B97F4A7C15) % uint64(w.Seen); j < uint64(m) {
			w.Samples[j] = d.num
		}
	case TemporalOrdered:
		n := 0
		for _, p := range w.Occ {
			if p.R == d.rule {
				n++
			}
		}
		if n >= e.opt.MaxOccurrences {
			e.st.valuesCapped++
			return
		}
		w.Occ = append(w.Occ, occPoint{T: d.t, R: d.rule})
	}
}

// value is the window's aggregate when it closes.
func (w *window) value(c *corr) aggregate {
	a := aggregate{n: w.N, first: w.First, last: w.Last, rules: w.Rules}
	switch c.spec.Type {
	case EventCount:
		a.value = float64(w.N)
	case ValueCount:
		a.value = float64(len(w.Set))
	case Temporal:
		a.value = float64(bits.OnesCount64(w.Rules))
	case TemporalOrdered:
		ch := longestChain(slices.Clone(w.Occ), new([]chainLink))
		a.value, a.rules, a.first, a.last = ch.value, ch.rules, ch.first, ch.last
	case ValueSum:
		a.value = w.Sum
	case ValueAvg:
		a.value = w.Sum / float64(w.N)
	case ValueMin:
		a.value = w.Min
	case ValueMax:
		a.value = w.Max
	case ValuePercentile, ValueMedian:
		a.value = percentile(w.Samples, c.pct)
	}
	return a
}

// percentile interpolates linearly between the closest ranks (the method of
// numpy's default and of Excel's PERCENTILE.INC): p=50 is the median.
func percentile(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	pos := p / 100 * float64(len(s)-1)
	i := int(math.Floor(pos))
	if i >= len(s)-1 {
		return s[len(s)-1]
	}
	f := pos - float64(i)
	return s[i] + f*(s[i+1]-s[i])
}

func splitmix(x uint64) uint64 {
	x += 0x9E3779B97F4A7C15
	x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9
	x = (x ^ (x >> 27)) * 0x94D049BB133111EB
	return x ^ (x >> 31)
}
