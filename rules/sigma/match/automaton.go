package match

import (
	"slices"
	"unicode/utf8"
)

// Automaton finds which of many patterns occur in a text, ignoring case, in
// one pass over the text (Aho–Corasick). It is a dense deterministic
// automaton: a flat table with one row per trie state and one column per
// byte class (the bytes the patterns use, ASCII letters of both cases
// sharing one), so each byte of text costs one table read and no branch on
// the patterns. It is immutable after NewAutomaton and safe for concurrent
// use; matching does not allocate.
//
// Case is ignored as Fold defines it: the text is folded as it is read
// (ASCII by table, other runes by decoding them), so patterns and text may
// hold any Unicode. Bytes that are not valid UTF-8 match only themselves.
//
// Memory is about 4 bytes × states × classes: some 20 bytes × total pattern
// length × classes for patterns sharing few prefixes (1,000 patterns of 20
// bytes over 40 classes take about 3 MB).
type Automaton struct {
	n      int
	nc     uint32      // byte classes (columns)
	cls    [256]uint16 // class of each byte as read (ASCII uppercase as lowercase), or slowByte
	raw    [256]uint16 // class of a byte taken as is (for invalid UTF-8)
	delta  []uint32    // next state, premultiplied by nc, with outBit when it has outputs
	own    []int32     // patterns ending at each state, grouped by state
	ownOff []uint32    // state → own[ownOff[s]:ownOff[s+1]]
	dict   []int32     // state → nearest state on its failure chain with own patterns, or -1
	empty  []int32     // patterns that are the empty string
	maxLen int         // longest folded pattern, in bytes
}

const (
	outBit   = 1 << 31
	slowByte = 0xffff
)

// NewAutomaton builds an automaton for patterns, which it folds with Fold
// (lowercased patterns are fine as they are). Pattern i is reported as i;
// duplicates are each reported. An empty pattern occurs in every text.
func NewAutomaton(patterns []string) *Automaton {
	initFold()
	a := &Automaton{n: len(patterns)}
	folded := make([]string, len(patterns))
	var used [256]bool
	nonASCII, ks := false, false
	for i, p := range patterns {
		f := Fold(p)
		folded[i] = f
		for j := 0; j < len(f); j++ {
			used[f[j]] = true
			if f[j] >= utf8.RuneSelf {
				nonASCII = true
			}
		}
	}
	ks = used['k'] || used['s']
	nc := uint32(1) // class 0: bytes no pattern uses
	var classOf [256]uint16
	for b := 0; b < 256; b++ {
		if used[b] {
			classOf[b] = uint16(nc)
			nc++
		}
	}
	a.nc = nc
	for b := 0; b < 256; b++ {
		a.raw[b] = classOf[b]
		a.cls[b] = classOf[lowerASCII[b]]
		if b >= utf8.RuneSelf && (nonASCII || ks && foldToASCII[b]) {
			a.cls[b] = slowByte
		}
	}

	// Distinct folded patterns, sorted: the trie then has
	// 1 + Σ(len − common prefix with the previous) states, allocated at
	// once, and is built one depth at a time so that states are numbered
	// breadth first: the shallow states, where matching spends its time,
	// share cache lines.
	byText := map[string][]int32{}
	var uniq []string
	for i, f := range folded {
		if f == "" {
			a.empty = append(a.empty, int32(i))
			continue
		}
		if _, ok := byText[f]; !ok {
			uniq = append(uniq, f)
		}
		byText[f] = append(byText[f], int32(i))
	}
	slices.Sort(uniq)
	states, maxLen := 1, 0
	for i, f := range uniq {
		lcp := 0
		if i > 0 {
			prev := uniq[i-1]
			for lcp < len(prev) && lcp < len(f) && prev[lcp] == f[lcp] {
				lcp++
			}
		}
		states += len(f) - lcp
		maxLen = max(maxLen, len(f))
	}
	a.maxLen = maxLen
	// The trie, in the table: 0 means no edge (the root is never a child).
	delta := make([]uint32, states*int(nc))
	cur := make([]uint32, len(uniq)) // each pattern's state at the current depth
	term := make([]uint32, len(uniq))
	next := uint32(1)
	for d := 0; d < maxLen; d++ {
		for i, f := range uniq {
			if d >= len(f) {
				continue
			}
			idx := cur[i]*nc + uint32(classOf[f[d]])
			if delta[idx] == 0 {
				delta[idx] = next
				next++
			}
			cur[i] = delta[idx]
			if d == len(f)-1 {
				term[i] = cur[i]
			}
		}
	}
	a.ownOff = make([]uint32, states+1)
	for i, f := range uniq {
		a.ownOff[term[i]+1] = uint32(len(byText[f]))
	}
	for s := 1; s <= states; s++ {
		a.ownOff[s] += a.ownOff[s-1]
	}
	a.own = make([]int32, a.ownOff[states])
	for i, f := range uniq {
		copy(a.own[a.ownOff[term[i]]:], byText[f])
	}
	hasOwn := func(s uint32) bool { return a.ownOff[s+1] > a.ownOff[s] }

	// Failure links: states in number order are in breadth-first order, so
	// when a state's row is completed (its missing edges replaced by its
	// failure state's transitions), that shallower state's row is complete
	// already.
	fail := make([]uint32, states)
	a.dict = make([]int32, states)
	for s := uint32(0); s < uint32(states); s++ {
		row := s * nc
		frow := fail[s] * nc
		if s == 0 {
			a.dict[0] = -1
		}
		for c := uint32(0); c < nc; c++ {
			t := delta[row+c]
			if t == 0 {
				// No edge: take the failure state's transition (at the
				// root, stay there).
				if s != 0 {
					delta[row+c] = delta[frow+c]
				}
				continue
			}
			f := uint32(0)
			if s != 0 {
				f = delta[frow+c]
			}
			fail[t] = f
			if hasOwn(f) {
				a.dict[t] = int32(f)
			} else {
				a.dict[t] = a.dict[f]
			}
		}
	}

	// Premultiply and flag the states that report.
	for i, t := range delta {
		v := t * nc
		if hasOwn(t) || a.dict[t] >= 0 {
			v |= outBit
		}
		delta[i] = v
	}
	a.delta = delta
	return a
}

// Len returns how many patterns the automaton was built with.
func (a *Automaton) Len() int {
	if a == nil {
		return 0
	}
	return a.n
}

// report calls fn for every pattern ending in the state st (premultiplied,
// without outBit).
func (a *Automaton) report(st uint32, fn func(pattern int)) {
	for s := int32(st / a.nc); s >= 0; s = a.dict[s] {
		for _, p := range a.own[a.ownOff[s]:a.ownOff[s+1]] {
			fn(int(p))
		}
	}
}

// scan runs the automaton from state st over s from byte i until it
// reaches end (finishing the rune it is in). It reports the patterns that
// end at a rune starting in [lo, hi): to fn, or, when fn is nil, by
// returning at once with hit set. It returns the state and where it
// stopped.
func (a *Automaton) scan(st uint32, s string, i, end int, fn func(int), lo, hi int) (uint32, int, bool) {
	delta := a.delta
	cls := &a.cls
	for i < end {
		c := cls[s[i]]
		if c != slowByte {
			st = delta[st+uint32(c)]
			if st&outBit != 0 {
				st &^= outBit
				if lo <= i && i < hi {
					if fn == nil {
						return st, i + 1, true
					}
					a.report(st, fn)
				}
			}
			i++
			continue
		}
		// A rune to decode and fold.
		r, n := decode(s[i:])
		var buf [utf8.UTFMax]byte
		enc := buf[:1]
		if r >= invalidBase {
			buf[0] = s[i]
		} else {
			enc = utf8.AppendRune(buf[:0], canon(r))
		}
		for _, b := range enc {
			st = delta[st+uint32(a.raw[b])]
			if st&outBit != 0 {
				st &^= outBit
				if lo <= i && i < hi {
					if fn == nil {
						return st, i + n, true
					}
					a.report(st, fn)
				}
			}
		}
		i += n
	}
	return st, i, false
}

// interleaveMin is the shortest text scanned as two halves at once.
const interleaveMin = 256

// split picks how to scan s as two independent halves, whose dependent
// table reads the processor then overlaps: the first half [0, mid), the
// second from p, early enough that every occurrence ending at mid or
// later starts after it (a folded pattern of n bytes covers at most 3n
// bytes of text) and on an ASCII byte (a rune boundary however the text
// decodes). ok is false when s is too short to gain.
func (a *Automaton) split(s string) (mid, p int, ok bool) {
	if len(s) < interleaveMin || len(s) < 8*a.maxLen {
		return 0, 0, false
	}
	mid = len(s) / 2
	p = mid - 3*a.maxLen
	for stop := max(p-64, 0); p > stop && s[p] >= utf8.RuneSelf; p-- {
	}
	return mid, p, s[p] < utf8.RuneSelf
}

// Match calls fn for each occurrence of each pattern in s (a pattern
// occurring twice is reported twice; the caller dedupes). fn must not
// retain s.
func (a *Automaton) Match(s string, fn func(pattern int)) {
	if a == nil || len(a.delta) == 0 {
		return
	}
	for _, p := range a.empty {
		fn(int(p))
	}
	mid, p, two := a.split(s)
	if !two {
		a.scan(0, s, 0, len(s), fn, 0, len(s))
		return
	}
	// Both halves in lockstep while the bytes are plain, then each on its
	// own. The first half reports what ends before mid, the second the
	// rest.
	delta := a.delta
	cls := &a.cls
	var s1, s2 uint32
	i, j := 0, p
	for i < mid {
		c1, c2 := cls[s[i]], cls[s[j]]
		if c1 == slowByte || c2 == slowByte {
			break
		}
		s1 = delta[s1+uint32(c1)]
		s2 = delta[s2+uint32(c2)]
		if (s1|s2)&outBit != 0 {
			if s1&outBit != 0 {
				s1 &^= outBit
				a.report(s1, fn)
			}
			if s2&outBit != 0 {
				s2 &^= outBit
				if j >= mid {
					a.report(s2, fn)
				}
			}
		}
		i++
		j++
	}
	a.scan(s1, s, i, mid, fn, 0, mid)
	a.scan(s2, s, j, len(s), fn, mid, len(s))
}

// Contains reports whether any pattern occurs in s. It stops at the first
// occurrence.
func (a *Automaton) Contains(s string) bool {
	if a == nil || len(a.delta) == 0 {
		return false
	}
	if len(a.empty) > 0 {
		return true
	}
	mid, p, two := a.split(s)
	if !two {
		_, _, hit := a.scan(0, s, 0, len(s), nil, 0, len(s))
		return hit
	}
	delta := a.delta
	cls := &a.cls
	var s1, s2 uint32
	i, j := 0, p
	for i < mid {
		c1, c2 := cls[s[i]], cls[s[j]]
		if c1 == slowByte || c2 == slowByte {
			break
		}
		s1 = delta[s1+uint32(c1)]
		s2 = delta[s2+uint32(c2)]
		if (s1|s2)&outBit != 0 {
			return true
		}
		i++
		j++
	}
	if _, _, hit := a.scan(s1, s, i, mid, nil, 0, len(s)); hit {
		return true
	}
	_, _, hit := a.scan(s2, s, j, len(s), nil, 0, len(s))
	return hit
}
