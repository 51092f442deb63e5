package match

import (
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// Case-insensitive matching compares canonical runes: every rune stands for
// its simple case-folding orbit (the runes unicode.SimpleFold cycles
// through, the equivalence strings.EqualFold uses), represented by the
// orbit's lowercase member. ASCII letters fold to their lowercase, and so do
// the two non-ASCII runes whose orbit holds an ASCII letter: the Kelvin sign
// (K, U+212A) folds to k and the long s (ſ, U+017F) to s. Bytes that are not
// valid UTF-8 are kept as they are and compare only with themselves.
//
// Text is never copied to be folded: comparisons decode and fold as they go,
// with a plain byte loop while both sides are ASCII.

// foldTabSize covers Latin, Greek, Cyrillic, Armenian, Georgian and Latin
// Extended Additional (Vietnamese): the runes log text folds most.
const foldTabSize = 0x2000

var (
	foldOnce sync.Once
	foldTab  []rune // canonical rune of every rune below foldTabSize
	// foldToASCII marks the lead bytes of the non-ASCII runes that fold to
	// an ASCII letter (the Kelvin sign and the long s).
	foldToASCII [256]bool
)

// lowerASCII maps a byte to its ASCII lowercase; other bytes map to
// themselves.
var lowerASCII = func() (t [256]byte) {
	for i := range t {
		t[i] = byte(i)
		if 'A' <= i && i <= 'Z' {
			t[i] = byte(i + 'a' - 'A')
		}
	}
	return t
}()

// initFold builds the fold tables. Everything that creates a matcher or an
// automaton calls it first, so the comparison loops can read foldTab freely.
func initFold() {
	foldOnce.Do(func() {
		t := make([]rune, foldTabSize)
		for r := range t {
			t[r] = canonSlow(rune(r))
		}
		foldTab = t
		var buf [utf8.UTFMax]byte
		for _, r := range []rune{'\u017f', '\u212a'} {
			utf8.EncodeRune(buf[:], r)
			foldToASCII[buf[0]] = true
		}
	})
}

// canonSlow computes the canonical member of r's case orbit.
func canonSlow(r rune) rune {
	if r < utf8.RuneSelf {
		return rune(lowerASCII[r])
	}
	least := r
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		if f < least {
			least = f
		}
	}
	if least < utf8.RuneSelf {
		return rune(lowerASCII[least])
	}
	low := unicode.ToLower(least)
	if low == least {
		return least
	}
	for f := unicode.SimpleFold(least); f != least; f = unicode.SimpleFold(f) {
		if f == low {
			return low
		}
	}
	return least
}

// invalidBase marks a byte that is not valid UTF-8 in a decoded rune code:
// such a byte decodes to invalidBase+b, which no real rune equals.
const invalidBase = 0x110000

// decode returns the rune code at the start of s and its size in bytes.
// Invalid UTF-8 gives invalidBase plus the byte, size 1. s must not be
// empty.
func decode(s string) (rune, int) {
	c := s[0]
	if c < utf8.RuneSelf {
		return rune(c), 1
	}
	r, n := utf8.DecodeRuneInString(s)
	if r == utf8.RuneError && n == 1 {
		return invalidBase + rune(c), 1
	}
	return r, n
}

// canon returns the canonical member of the case orbit of a rune code.
// Codes of invalid bytes are their own canon.
func canon(r rune) rune {
	if r < utf8.RuneSelf {
		return rune(lowerASCII[r])
	}
	if r < foldTabSize {
		return foldTab[r]
	}
	if r >= invalidBase {
		return r
	}
	return canonSlow(r)
}

// appendCode appends a rune code: a rune as UTF-8, an invalid byte as
// itself.
func appendCode(dst []byte, r rune) []byte {
	if r >= invalidBase {
		return append(dst, byte(r-invalidBase))
	}
	return utf8.AppendRune(dst, r)
}

// Fold returns s case-folded the way every case-insensitive comparison of
// this package sees it: each rune replaced by the canonical member of its
// simple case-folding orbit (lowercase for ASCII), invalid UTF-8 bytes kept.
// Two strings are equal ignoring case (as strings.EqualFold defines it) if
// and only if their Folds are equal, and a needle occurs in a text ignoring
// case if and only if Fold(needle) occurs in Fold(text). Needles returns
// folded strings, and NewAutomaton folds its patterns with it.
func Fold(s string) string {
	initFold()
	i := 0
	for i < len(s) && s[i] < utf8.RuneSelf && lowerASCII[s[i]] == s[i] {
		i++
	}
	if i == len(s) {
		return s
	}
	b := make([]byte, 0, len(s)+4)
	b = append(b, s[:i]...)
	for i < len(s) {
		r, n := decode(s[i:])
		b = appendCode(b, canon(r))
		i += n
	}
	return string(b)
}

// isASCII reports whether s has no byte above 0x7f, eight bytes at a time.
func isASCII(s string) bool {
	i := 0
	for ; i+8 <= len(s); i += 8 {
		w := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
			uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
		if w&0x8080808080808080 != 0 {
			return false
		}
	}
	for ; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// text is a string being matched, remembering whether it is ASCII once
// some literal has needed to know.
type text struct {
	s     string
	ascii int8 // 0 not known yet, 1 ASCII, -1 not
}

func (t *text) isASCII() bool {
	if t.ascii == 0 {
		t.ascii = -1
		if isASCII(t.s) {
			t.ascii = 1
		}
	}
	return t.ascii > 0
}

// hasFoldKS reports whether a folded ASCII pattern holds k or s, the letters
// a non-ASCII rune folds to: only then can a match cover non-ASCII text.
func hasFoldKS(p string) bool {
	return strings.IndexByte(p, 'k') >= 0 || strings.IndexByte(p, 's') >= 0
}

// foldPrefixLen reports whether the folded pattern p matches a prefix of s
// ignoring case, and returns how many bytes of s it covers (-1 when it
// does not match).
func foldPrefixLen(s, p string) int {
	i, j := 0, 0
	for j < len(p) {
		if i >= len(s) {
			return -1
		}
		a, b := s[i], p[j]
		if a < utf8.RuneSelf && b < utf8.RuneSelf {
			if lowerASCII[a] != b {
				return -1
			}
			i++
			j++
			continue
		}
		ra, na := decode(s[i:])
		rb, nb := decode(p[j:])
		if canon(ra) != rb {
			return -1
		}
		i += na
		j += nb
	}
	return i
}

// foldPrefixLen2 is foldPrefixLen for a pattern t that is not folded.
func foldPrefixLen2(s, t string) int {
	i, j := 0, 0
	for j < len(t) {
		if i >= len(s) {
			return -1
		}
		a, b := s[i], t[j]
		if a < utf8.RuneSelf && b < utf8.RuneSelf {
			if lowerASCII[a] != lowerASCII[b] {
				return -1
			}
			i++
			j++
			continue
		}
		ra, na := decode(s[i:])
		rb, nb := decode(t[j:])
		if canon(ra) != canon(rb) {
			return -1
		}
		i += na
		j += nb
	}
	return i
}

// foldEqual2 reports whether s and t are equal ignoring case; neither need
// be folded.
func foldEqual2(s, t string) bool {
	return foldPrefixLen2(s, t) == len(s)
}

// foldContains2 reports whether t occurs in s ignoring case; neither need be
// folded. It is the slow general search, for values compared at match time
// (field references).
func foldContains2(s, t string) bool {
	if t == "" {
		return true
	}
	for i := 0; i < len(s); {
		if foldPrefixLen2(s[i:], t) >= 0 {
			return true
		}
		_, n := decode(s[i:])
		i += n
	}
	return false
}

// foldHasSuffix2 reports whether s ends with t ignoring case; neither need
// be folded.
func foldHasSuffix2(s, t string) bool {
	if t == "" {
		return true
	}
	for i := 0; i < len(s); {
		if foldPrefixLen2(s[i:], t) == len(s)-i {
			return true
		}
		_, n := decode(s[i:])
		i += n
	}
	return false
}

// lit is a literal compiled for matching: p is the literal folded (or as
// written when cased), with facts about it that pick the fast paths.
type lit struct {
	p      string
	cased  bool
	ascii  bool // p has only ASCII bytes
	ks     bool // p is ASCII and holds k or s
	anchor int  // index in p of the byte searched first (ASCII p)
	// leads are the bytes a match of a non-ASCII p can start with: the
	// first bytes of the runes its first rune folds with (nil when p
	// starts with a byte that is not valid UTF-8).
	leads []byte
}

func newLit(s string, cased bool) lit {
	initFold()
	l := lit{cased: cased}
	if cased {
		l.p = s
	} else {
		l.p = Fold(s)
	}
	l.ascii = isASCII(l.p)
	l.ks = l.ascii && !cased && hasFoldKS(l.p)
	l.anchor = pickAnchor(l.p, cased)
	if !cased && !l.ascii {
		if r, _ := decode(l.p); r < invalidBase {
			var buf [utf8.UTFMax]byte
			add := func(x rune) {
				utf8.EncodeRune(buf[:], x)
				if !slices.Contains(l.leads, buf[0]) {
					l.leads = append(l.leads, buf[0])
				}
			}
			add(r)
			for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
				add(f)
			}
		}
	}
	return l
}

// byteRank estimates how common a byte is in log text (higher = more
// common); the search anchors on the rarest byte of a literal.
func byteRank(c byte, cased bool) int {
	switch {
	case c == ' ':
		return 90
	case 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z':
		r := 40
		if strings.IndexByte("etaoinsrhl", lowerASCII[c]) >= 0 {
			r = 60
		}
		if !cased {
			r += 20 // two bytes to look for
		}
		return r
	case '0' <= c && c <= '9':
		return 50
	case c == '\\' || c == '/' || c == '.' || c == '-' || c == '_' || c == ':':
		return 55
	}
	return 20
}

func pickAnchor(p string, cased bool) int {
	best, rank := 0, 1<<30
	for i := 0; i < len(p); i++ {
		if r := byteRank(p[i], cased); r < rank {
			best, rank = i, r
		}
	}
	return best
}

// equal reports whether s equals the literal.
func (l *lit) equal(s string) bool {
	if l.cased {
		return s == l.p
	}
	if l.ascii {
		if len(s) == len(l.p) {
			return asciiFoldEq(s, l.p)
		}
		if len(s) < len(l.p) || !l.ks {
			return false
		}
	}
	return foldPrefixLen(s, l.p) == len(s)
}

// asciiFoldEq compares s with the ASCII folded p of the same length.
func asciiFoldEq(s, p string) bool {
	for i := 0; i < len(p); i++ {
		if lowerASCII[s[i]] != p[i] {
			return false
		}
	}
	return true
}

// prefix reports whether s starts with the literal.
func (l *lit) prefix(s string) bool {
	if l.cased {
		return strings.HasPrefix(s, l.p)
	}
	if l.ascii && len(s) >= len(l.p) && asciiFoldEq(s[:len(l.p)], l.p) {
		return true
	}
	if l.ascii && !l.ks {
		return false
	}
	return foldPrefixLen(s, l.p) >= 0
}

// suffix reports whether s ends with the literal.
func (l *lit) suffix(s string) bool {
	t := text{s: s}
	return l.suffixT(&t)
}

func (l *lit) suffixT(t *text) bool {
	s := t.s
	if l.cased {
		return strings.HasSuffix(s, l.p)
	}
	if l.ascii {
		if len(s) >= len(l.p) && asciiFoldEq(s[len(s)-len(l.p):], l.p) {
			return true
		}
		if !l.ks || t.isASCII() {
			return false
		}
	} else {
		// Folded, p has a rune no ASCII character folds to.
		if t.isASCII() {
			return false
		}
		if len(s) >= len(l.p) && foldPrefixLen(s[len(s)-len(l.p):], l.p) == len(l.p) {
			return true
		}
	}
	return l.slowSuffix(s)
}

func (l *lit) slowSuffix(s string) bool {
	for i := 0; i < len(s); {
		if foldPrefixLen(s[i:], l.p) == len(s)-i {
			return true
		}
		_, n := decode(s[i:])
		i += n
	}
	return l.p == ""
}

// contains reports whether the literal occurs in s.
func (l *lit) contains(s string) bool {
	t := text{s: s}
	return l.containsT(&t)
}

func (l *lit) containsT(t *text) bool {
	s := t.s
	if l.cased {
		return strings.Contains(s, l.p)
	}
	if l.p == "" {
		return true
	}
	if l.ascii {
		if i := asciiFoldIndex(s, l.p, l.anchor); i >= 0 || !l.ks || t.isASCII() {
			return i >= 0
		}
		return slowFoldIndex(s, l.p) >= 0
	}
	// Folded, p has a rune no ASCII character folds to.
	if t.isASCII() {
		return false
	}
	if l.leads == nil {
		return slowFoldIndex(s, l.p) >= 0
	}
	// Every match starts with one of the lead bytes, and a lead byte (ASCII
	// or the first byte of a UTF-8 sequence) always starts a rune.
	for _, b := range l.leads {
		for i := 0; i < len(s); {
			k := strings.IndexByte(s[i:], b)
			if k < 0 {
				break
			}
			if foldPrefixLen(s[i+k:], l.p) >= 0 {
				return true
			}
			i += k + 1
		}
	}
	return false
}

// slowFoldIndex finds the folded pattern p in s rune by rune.
func slowFoldIndex(s, p string) int {
	first, _ := decode(p)
	for i := 0; i < len(s); {
		r, n := decode(s[i:])
		if canon(r) == first && foldPrefixLen(s[i:], p) >= 0 {
			return i
		}
		i += n
	}
	return -1
}

// asciiFoldIndex finds the ASCII folded p in s, comparing ASCII bytes only:
// it finds every match that covers ASCII bytes of s alone. It looks for
// p[anchor] with strings.IndexByte (vectorised) and checks around each hit.
func asciiFoldIndex(s, p string, anchor int) int {
	n := len(p)
	if n > len(s) {
		return -1
	}
	c := p[anchor]
	lastStart := len(s) - n
	if c < 'a' || c > 'z' {
		for i := anchor; i <= lastStart+anchor; {
			k := strings.IndexByte(s[i:lastStart+anchor+1], c)
			if k < 0 {
				return -1
			}
			start := i + k - anchor
			if asciiFoldEq(s[start:start+n], p) {
				return start
			}
			i += k + 1
		}
		return -1
	}
	// A letter: follow both cases, each with its own cursor.
	up := c - ('a' - 'A')
	end := lastStart + anchor + 1
	nextLo, nextUp := -2, -2 // -2: not searched yet; -1: none left
	for i := anchor; i < end; {
		if nextLo != -1 && nextLo < i {
			if k := strings.IndexByte(s[i:end], c); k >= 0 {
				nextLo = i + k
			} else {
				nextLo = -1
			}
		}
		if nextUp != -1 && nextUp < i {
			if k := strings.IndexByte(s[i:end], up); k >= 0 {
				nextUp = i + k
			} else {
				nextUp = -1
			}
		}
		var at int
		switch {
		case nextLo < 0 && nextUp < 0:
			return -1
		case nextLo < 0:
			at = nextUp
		case nextUp < 0:
			at = nextLo
		default:
			at = min(nextLo, nextUp)
		}
		start := at - anchor
		if asciiFoldEq(s[start:start+n], p) {
			return start
		}
		i = at + 1
	}
	return -1
}
