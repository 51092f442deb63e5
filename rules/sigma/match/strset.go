package match

import (
	"regexp"
	"unicode/utf8"
)

// strSet tests a string against many compiled string patterns (OR): each
// kind of pattern in the structure that checks it fastest.
type strSet struct {
	cased    bool
	any      bool  // a pattern of stars only: every string matches
	eq       []lit // equality (when few)
	eqMap    map[string]struct{}
	eqLong   []lit // equality literals too long for the folded-key lookup
	prefix   []lit
	suffix   []lit
	preTrie  *affixTrie      // many prefixes
	sufTrie  *affixTrie      // many suffixes
	contains []lit           // substring (when few, or cased)
	ac       *Automaton      // substring, many literals, ignoring case
	globs    []*glob         // other wildcard patterns
	res      []*regexPattern // regular expressions
}

// Thresholds above which lists become a map or an automaton.
const (
	eqMapMin = 4
	acMin    = 16
	eqKeyMax = 160 // longest key of eqMap (folded into a stack buffer)
)

// add compiles one pattern into the set.
func (s *strSet) add(p pattern) {
	starOnly := len(p) > 0
	for _, x := range p {
		if x.kind != pStar {
			starOnly = false
		}
	}
	switch {
	case starOnly:
		s.any = true
	case !p.wild():
		s.eq = append(s.eq, newLit(p.literal(), s.cased))
	case len(p) == 2 && p[0].kind == pLit && p[1].kind == pStar:
		s.prefix = append(s.prefix, newLit(p[0].text, s.cased))
	case len(p) == 2 && p[0].kind == pStar && p[1].kind == pLit:
		s.suffix = append(s.suffix, newLit(p[1].text, s.cased))
	case len(p) == 3 && p[0].kind == pStar && p[1].kind == pLit && p[2].kind == pStar:
		s.contains = append(s.contains, newLit(p[1].text, s.cased))
	default:
		s.globs = append(s.globs, newGlob(p, s.cased))
	}
}

// finish builds the lookup structures once every pattern is in.
func (s *strSet) finish() {
	if !s.cased && len(s.eq) >= eqMapMin {
		s.eqMap = make(map[string]struct{}, len(s.eq))
		for _, l := range s.eq {
			if len(l.p) <= eqKeyMax {
				s.eqMap[l.p] = struct{}{}
			} else {
				s.eqLong = append(s.eqLong, l)
			}
		}
		s.eq = nil
	}
	s.prefix, s.preTrie = trieOf(s.prefix, false, s.cased)
	s.suffix, s.sufTrie = trieOf(s.suffix, true, s.cased)
	if !s.cased && len(s.contains) >= acMin {
		var pats []string
		var rest []lit
		for _, l := range s.contains {
			if utf8.ValidString(l.p) {
				pats = append(pats, l.p)
			} else {
				rest = append(rest, l)
			}
		}
		if len(pats) >= acMin {
			s.ac = NewAutomaton(pats)
			s.contains = rest
		}
	}
}

// trieOf moves the literals a trie can hold into one, when there are
// enough of them; it returns the rest.
func trieOf(lits []lit, suffix, cased bool) ([]lit, *affixTrie) {
	var in, rest []lit
	for _, l := range lits {
		if trieable(&l) {
			in = append(in, l)
		} else {
			rest = append(rest, l)
		}
	}
	if len(in) < trieMin {
		return lits, nil
	}
	return rest, newAffixTrie(in, suffix, cased)
}

// empty reports whether the set holds no pattern.
func (s *strSet) empty() bool {
	return !s.any && len(s.eq) == 0 && s.eqMap == nil && len(s.prefix) == 0 && len(s.suffix) == 0 &&
		s.preTrie == nil && s.sufTrie == nil &&
		len(s.contains) == 0 && s.ac == nil && len(s.globs) == 0 && len(s.res) == 0
}

// test reports whether x matches one of the patterns.
func (s *strSet) test(x string) bool {
	if s.any {
		return true
	}
	for i := range s.eq {
		if s.eq[i].equal(x) {
			return true
		}
	}
	if s.eqMap != nil && s.eqLookup(x) {
		return true
	}
	t := text{s: x}
	if s.sufTrie != nil && s.sufTrie.match(&t) || s.preTrie != nil && s.preTrie.match(&t) {
		return true
	}
	for i := range s.suffix {
		if s.suffix[i].suffixT(&t) {
			return true
		}
	}
	for i := range s.prefix {
		if s.prefix[i].prefix(x) {
			return true
		}
	}
	for i := range s.contains {
		if s.contains[i].containsT(&t) {
			return true
		}
	}
	if s.ac != nil && s.ac.Contains(x) {
		return true
	}
	for _, g := range s.globs {
		if g.match(&t) {
			return true
		}
	}
	for _, r := range s.res {
		if r.match(&t) {
			return true
		}
	}
	return false
}

// eqLookup folds x into a stack buffer and looks it up in eqMap. Once the
// folded text is longer than any key it cannot be one.
func (s *strSet) eqLookup(x string) bool {
	for i := range s.eqLong {
		if s.eqLong[i].equal(x) {
			return true
		}
	}
	var buf [eqKeyMax + utf8.UTFMax]byte
	n := 0
	for i := 0; i < len(x); {
		if n > eqKeyMax {
			return false
		}
		c := x[i]
		if c < utf8.RuneSelf {
			buf[n] = lowerASCII[c]
			n++
			i++
			continue
		}
		r, size := decode(x[i:])
		r = canon(r)
		if r >= invalidBase {
			buf[n] = byte(r - invalidBase)
			n++
		} else {
			n += utf8.EncodeRune(buf[n:], r)
		}
		i += size
	}
	_, ok := s.eqMap[string(buf[:n])]
	return ok
}

// glob is a pattern with wildcards other than a plain prefix, suffix or
// substring. It matches rune by rune, backtracking to the last * only,
// which is linear in practice and O(len(text)×len(pattern)) at worst.
type glob struct {
	toks  []rune // rune codes (folded unless cased), tokStar, tokOne
	cased bool
	// Necessary conditions, checked first: the literal before the first
	// wildcard, after the last, and the longest one.
	pre, suf, mid *lit
}

const (
	tokStar rune = -1
	tokOne  rune = -2
)

func newGlob(p pattern, cased bool) *glob {
	g := &glob{cased: cased}
	for _, x := range p {
		switch x.kind {
		case pStar:
			g.toks = append(g.toks, tokStar)
		case pOne:
			g.toks = append(g.toks, tokOne)
		default:
			for i := 0; i < len(x.text); {
				r, n := decode(x.text[i:])
				if !cased {
					r = canon(r)
				}
				g.toks = append(g.toks, r)
				i += n
			}
		}
	}
	if p[0].kind == pLit {
		l := newLit(p[0].text, cased)
		g.pre = &l
	}
	if last := p[len(p)-1]; last.kind == pLit {
		l := newLit(last.text, cased)
		g.suf = &l
	}
	if m := p.longestLiteral(); m != "" {
		l := newLit(m, cased)
		g.mid = &l
	}
	return g
}

func (g *glob) match(t *text) bool {
	s := t.s
	if g.pre != nil && !g.pre.prefix(s) || g.suf != nil && !g.suf.suffixT(t) || g.mid != nil && !g.mid.containsT(t) {
		return false
	}
	p := g.toks
	pi, si := 0, 0
	starP, starS := -1, 0
	for si < len(s) {
		if pi < len(p) {
			switch t := p[pi]; t {
			case tokStar:
				starP, starS = pi, si
				pi++
				continue
			case tokOne:
				_, n := decode(s[si:])
				si += n
				pi++
				continue
			default:
				r, n := decode(s[si:])
				if !g.cased {
					r = canon(r)
				}
				if r == t {
					si += n
					pi++
					continue
				}
			}
		}
		if starP < 0 {
			return false
		}
		_, n := decode(s[starS:])
		starS += n
		si = starS
		pi = starP + 1
	}
	for pi < len(p) && p[pi] == tokStar {
		pi++
	}
	return pi == len(p)
}

// regexPattern is a compiled |re value, with literals one of which must
// occur for it to match (checked first, much faster than the regexp).
type regexPattern struct {
	re     *regexp.Regexp
	filter []lit
	minLen int // no text of fewer bytes than this matches
}

func (r *regexPattern) match(t *text) bool {
	s := t.s
	if len(s) < r.minLen {
		return false
	}
	if len(r.filter) > 0 {
		found := false
		for i := range r.filter {
			if r.filter[i].containsT(t) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return r.re.MatchString(s)
}
