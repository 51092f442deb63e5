package sigma

import (
	"unicode/utf8"

	"github.com/egovsoc/egovsoc/rules/sigma/match"
)

// gramSet finds which of many needles occur in a value, ignoring case, for
// the rule index. A dense automaton over tens of thousands of needles (the
// Windows process rules) takes hundreds of megabytes and misses the cache
// on every byte; here each needle is keyed by one four-byte window of it,
// its anchor, and a bit set of the anchors (a few kilobytes to 128 KiB)
// rejects almost every position of a value with one probe. Only positions
// whose four bytes are some needle's anchor compare those needles. The
// anchor of a needle is its window the fewest needles share: needles that
// all begin with "\windows\" are anchored on what tells them apart, so a
// Windows path does not wake hundreds of them at every backslash. Needles
// shorter than four bytes go to a small automaton.
//
// Matching follows match.Fold: an ASCII value is folded byte by byte as it
// is read, any other value is folded whole first (it allocates; values are
// mostly ASCII), and needles are folded when the set is built.
type gramSet struct {
	long     []string              // folded needles of four bytes or more
	longIDs  []int32               // their pattern numbers
	byGram   map[uint32][]anchored // anchor (four bytes) → the needles holding it
	bits     []uint64              // bit set of hashed grams
	shift    uint32                // 32 − log2(len(bits)·64)
	short    *match.Automaton      // needles shorter than four bytes
	shortIDs []int32
}

// anchored is a needle (index into long) and where its anchor starts in it.
type anchored struct {
	needle int32
	at     int32
}

func gramAt(s string, i int) uint32 {
	return uint32(s[i])<<24 | uint32(s[i+1])<<16 | uint32(s[i+2])<<8 | uint32(s[i+3])
}

func newGramSet(patterns []string) *gramSet {
	g := &gramSet{byGram: map[uint32][]anchored{}}
	var short []string
	for i, p := range patterns {
		f := match.Fold(p)
		if len(f) < 4 {
			short = append(short, f)
			g.shortIDs = append(g.shortIDs, int32(i))
			continue
		}
		g.long = append(g.long, f)
		g.longIDs = append(g.longIDs, int32(i))
	}
	// How many needles hold each window, then each needle's rarest window
	// (the first among equals, so a set is built the same way every time).
	freq := map[uint32]int32{}
	for _, f := range g.long {
		for k := 0; k+4 <= len(f); k++ {
			freq[gramAt(f, k)]++
		}
	}
	for li, f := range g.long {
		best, at := int32(1<<30), 0
		for k := 0; k+4 <= len(f); k++ {
			if n := freq[gramAt(f, k)]; n < best {
				best, at = n, k
			}
		}
		gram := gramAt(f, at)
		g.byGram[gram] = append(g.byGram[gram], anchored{needle: int32(li), at: int32(at)})
	}
	if len(short) > 0 {
		g.short = match.NewAutomaton(short)
	}
	// About 32 bits per gram keeps false positives near 3%.
	bits := 4096
	for bits < 32*len(g.byGram) && bits < 1<<20 {
		bits <<= 1
	}
	g.bits = make([]uint64, bits/64)
	g.shift = 32 - uint32(log2(bits))
	for gram := range g.byGram {
		h := (gram * 0x9E3779B1) >> g.shift
		g.bits[h>>6] |= 1 << (h & 63)
	}
	return g
}

func log2(n int) int {
	k := 0
	for n > 1 {
		n >>= 1
		k++
	}
	return k
}

// match appends to dst the pattern number of every needle in s (a needle
// may be reported more than once).
func (g *gramSet) match(s string, dst []int32) []int32 {
	if len(g.long) > 0 && len(s) >= 4 {
		mark := len(dst)
		var h uint32
		for i := 0; i < len(s); i++ {
			c := s[i]
			if c >= utf8.RuneSelf {
				// Not ASCII: fold the whole value (it allocates; values
				// are mostly ASCII) and start again.
				return g.matchFolded(match.Fold(s), dst[:mark])
			}
			h = h<<8 | uint32(lowerByte[c])
			if i < 3 {
				continue
			}
			x := (h * 0x9E3779B1) >> g.shift
			if g.bits[x>>6]&(1<<(x&63)) == 0 {
				continue
			}
			for _, a := range g.byGram[h] {
				start := i - 3 - int(a.at)
				if n := g.long[a.needle]; start >= 0 && start+len(n) <= len(s) && equalFoldASCII(s[start:start+len(n)], n, int(a.at)) {
					dst = append(dst, g.longIDs[a.needle])
				}
			}
		}
	} else if !asciiOnly(s) {
		s = match.Fold(s)
	}
	if g.short != nil {
		g.short.Match(s, func(p int) { dst = append(dst, g.shortIDs[p]) })
	}
	return dst
}

// matchFolded is match on a value already folded.
func (g *gramSet) matchFolded(s string, dst []int32) []int32 {
	var h uint32
	for i := 0; i < len(s); i++ {
		h = h<<8 | uint32(lowerByte[s[i]])
		if i < 3 {
			continue
		}
		x := (h * 0x9E3779B1) >> g.shift
		if g.bits[x>>6]&(1<<(x&63)) == 0 {
			continue
		}
		for _, a := range g.byGram[h] {
			start := i - 3 - int(a.at)
			if n := g.long[a.needle]; start >= 0 && start+len(n) <= len(s) && equalFoldASCII(s[start:start+len(n)], n, int(a.at)) {
				dst = append(dst, g.longIDs[a.needle])
			}
		}
	}
	if g.short != nil {
		g.short.Match(s, func(p int) { dst = append(dst, g.shortIDs[p]) })
	}
	return dst
}

// equalFoldASCII reports whether s, its ASCII letters folded, is the folded
// needle n; the four bytes at skip matched already.
func equalFoldASCII(s, n string, skip int) bool {
	for i := 0; i < len(n); i++ {
		if i == skip {
			i += 3
			continue
		}
		if lowerByte[s[i]] != n[i] {
			return false
		}
	}
	return true
}

var lowerByte = func() (t [256]byte) {
	for i := range t {
		t[i] = byte(i)
	}
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = byte(c + 'a' - 'A')
	}
	return t
}()

func asciiOnly(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// size estimates the set's memory, for the rule set's report.
func (g *gramSet) size() int {
	n := len(g.bits)*8 + len(g.longIDs)*4 + len(g.byGram)*56
	for _, s := range g.long {
		n += len(s) + 16
	}
	return n
}
