package match

import (
	"slices"
	"strings"
	"unicode/utf8"
)

// needleInfo is what a compiled matcher tells the rule index: when the
// matcher matches, one of list occurs, ignoring case, in a value of one of
// its fields. ok is false when no such list is known.
type needleInfo struct {
	list []string
	ok   bool
}

// needler is implemented by every matcher Compile returns.
type needler interface {
	needles() needleInfo
}

// Needles returns literal strings, folded (see Fold), such that whenever m
// matches an event, at least one of them occurs — ignoring case — in a
// value (its text: a string, a number as written, true or false) of one of
// the fields of m's Spec. ok is false when there is no such set: negations
// (neq), exists, null, comparisons, time parts, cidr, field references,
// keyword searches, a value that is only wildcards, a regular expression
// without a literal every match must contain. No needle is empty.
//
// Needles are necessary, not sufficient: an event holding one still needs
// Match. The set is small and minimal: a needle that contains another is
// dropped (the shorter one occurs whenever it does).
func Needles(m Matcher) (needles []string, ok bool) {
	n, isNeedler := m.(needler)
	if !isNeedler {
		return nil, false
	}
	info := n.needles()
	if !info.ok || len(info.list) == 0 {
		return nil, false
	}
	return slices.Clone(info.list), true
}

// needleCost ranks needle sets: the index pays for every needle, and a
// short needle names many events. It is the measure the compiler's index
// uses, so choices here agree with it.
func needleCost(set []string) float64 {
	c := 0.0
	for _, s := range set {
		n := len(s)
		if n > 12 {
			n = 12
		}
		if n < 1 {
			n = 1
		}
		c += 16 / float64(n*n)
	}
	return c
}

// minimizeNeedles sorts and dedupes a set and drops every needle that
// contains another one.
func minimizeNeedles(set []string) []string {
	set = dedupe(slices.Clone(set))
	if len(set) > 512 {
		return set
	}
	slices.SortStableFunc(set, func(a, b string) int { return len(a) - len(b) })
	out := set[:0]
	for _, s := range set {
		redundant := false
		for _, t := range out {
			if strings.Contains(s, t) {
				redundant = true
				break
			}
		}
		if !redundant {
			out = append(out, s)
		}
	}
	out = slices.Clip(out)
	slices.Sort(out)
	return out
}

// unionNeedles joins needle sets of alternatives: ok only when each is.
func unionNeedles(infos ...needleInfo) needleInfo {
	var list []string
	for _, in := range infos {
		if !in.ok || len(in.list) == 0 {
			return needleInfo{}
		}
		list = append(list, in.list...)
	}
	if len(list) == 0 {
		return needleInfo{}
	}
	return needleInfo{list: minimizeNeedles(list), ok: true}
}

// bestNeedles picks, among conditions that must all hold, the needle set
// that is cheapest for the index.
func bestNeedles(infos ...needleInfo) needleInfo {
	var best needleInfo
	for _, in := range infos {
		if in.ok && len(in.list) > 0 && (!best.ok || needleCost(in.list) < needleCost(best.list)) {
			best = in
		}
	}
	return best
}

// literalNeedle is the needle of a pattern: its longest literal piece,
// folded. ok is false when the pattern has no literal, or when that
// literal is not valid UTF-8 (the index folds text rune by rune, so only
// valid UTF-8 is sure to be found as it was written).
func literalNeedle(p pattern) (string, bool) {
	l := p.longestLiteral()
	if l == "" || !utf8.ValidString(l) {
		return "", false
	}
	return Fold(l), true
}
