package match

import (
	"errors"
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"
	"unicode/utf8"
)

// Regular expressions run on Go's regexp package (RE2): matching is linear
// in the text whatever the pattern, so no rule can make the engine
// backtrack catastrophically. The price is that PCRE constructs needing
// backtracking (backreferences, lookaround, atomic groups, possessive
// quantifiers, recursion, conditionals) are refused with an error naming
// the construct. A match is a search: the expression may match anywhere
// in the value unless it anchors itself (^, $, \A, \z).

// maxRegexLen bounds the length of a |re value, maxRegexInst the size of
// its compiled program.
const (
	maxRegexLen  = 32 << 10
	maxRegexInst = 5000
)

type reFlags struct{ i, m, s bool }

// compileRegex compiles a |re value with its sub-modifiers; anchor is
// "startswith" or "endswith" to anchor it at that end of the value.
func compileRegex(raw string, f reFlags, anchor string) (*regexPattern, needleInfo, error) {
	if len(raw) > maxRegexLen {
		return nil, needleInfo{}, &Error{Feature: "re", Msg: "regular expression longer than " + itoa(maxRegexLen) + " bytes"}
	}
	if err := checkRegex(raw); err != nil {
		return nil, needleInfo{}, err
	}
	var flags string
	if f.i {
		flags += "i"
	}
	if f.m {
		flags += "m"
	}
	if f.s {
		flags += "s"
	}
	expr := raw
	switch anchor {
	case "startswith":
		expr = `\A(?:` + expr + `)`
	case "endswith":
		expr = `(?:` + expr + `)\z`
	}
	if flags != "" {
		expr = "(?" + flags + ")" + expr
	}
	tree, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return nil, needleInfo{}, &Error{Feature: "re", Msg: "invalid regular expression " + quote(raw) + ": " + err.Error()}
	}
	// Matching is linear in the text times the size of the program: a
	// counted repetition of a large class can make that constant huge.
	simple := tree.Simplify()
	if prog, err := syntax.Compile(simple); err != nil || len(prog.Inst) > maxRegexInst {
		return nil, needleInfo{}, &Error{Feature: "re", Msg: "regular expression " + quote(raw) + " is too complex (more than " + itoa(maxRegexInst) + " instructions; large counted repetitions?)"}
	}
	re, err := regexp.Compile(expr)
	if err != nil {
		return nil, needleInfo{}, &Error{Feature: "re", Msg: "invalid regular expression " + quote(raw) + ": " + err.Error()}
	}
	rp := &regexPattern{re: re, minLen: minRunes(simple)}
	nd := needleInfo{}
	{
		if req := reqForm(analyzeRegex(simple)); len(req) > 0 {
			nd = needleInfo{list: req, ok: true}
			if len(req) <= 8 {
				for _, n := range req {
					rp.filter = append(rp.filter, newLit(n, false))
				}
			}
		}
	}
	return rp, nd, nil
}

// pcreOnly names the PCRE constructs RE2 lacks, by how they start.
var pcreOnly = []struct{ prefix, name string }{
	{"(?<=", "lookbehind (?<=…)"},
	{"(?<!", "negative lookbehind (?<!…)"},
	{"(?=", "lookahead (?=…)"},
	{"(?!", "negative lookahead (?!…)"},
	{"(?>", "atomic group (?>…)"},
	{"(?(", "conditional (?(…)…)"},
	{"(?R", "recursion (?R)"},
	{"(?&", "subroutine call (?&name)"},
	{"(?P>", "subroutine call (?P>name)"},
	{"(?P=", "named backreference (?P=name)"},
	{"(?|", "branch reset (?|…)"},
	{"(?#", "comment (?#…)"},
	{"(?C", "callout (?C…)"},
	{`\k`, `named backreference \k<name>`},
	{`\g`, `backreference \g`},
	{`\G`, `\G (end of previous match)`},
	{`\K`, `\K (reset match start)`},
	{`\Z`, `\Z (end or before final newline); use \z or $`},
	{`\R`, `\R (any newline)`},
	{`\X`, `\X (extended grapheme)`},
	{`\h`, `\h (horizontal space)`},
	{`\H`, `\H`},
	{`\v`, `\v (vertical space)`},
	{`\V`, `\V`},
	{`\N`, `\N`},
	{`\c`, `\c (control character)`},
	{`\e`, `\e (escape character)`},
	{`\o`, `\o{…} (octal)`},
}

// checkRegex parses the expression as Go would and, when it fails on a
// PCRE construct, says which.
func checkRegex(raw string) error {
	_, err := syntax.Parse(raw, syntax.Perl)
	if err == nil {
		return nil
	}
	var se *syntax.Error
	if errors.As(err, &se) {
		expr := se.Expr
		switch se.Code {
		case syntax.ErrInvalidEscape:
			if len(expr) >= 2 && expr[0] == '\\' && '1' <= expr[1] && expr[1] <= '9' {
				return &Error{Feature: "re", Msg: "backreference " + expr + " is not supported (RE2 matches in linear time and has no backreferences)"}
			}
		case syntax.ErrInvalidRepeatOp, syntax.ErrInvalidRepeatSize:
			if strings.HasSuffix(expr, "+") && len(expr) >= 2 && strings.ContainsRune("*+?}", rune(expr[len(expr)-2])) {
				return &Error{Feature: "re", Msg: "possessive quantifier " + expr + " is not supported by RE2; drop the final +"}
			}
		}
		for _, c := range pcreOnly {
			if strings.HasPrefix(expr, c.prefix) {
				return &Error{Feature: "re", Msg: c.name + " is not supported by RE2 (Go regexp), which matches in linear time; rewrite the expression without it"}
			}
		}
		// Some constructs are reported at the group that holds them.
		for _, c := range pcreOnly[:12] {
			if strings.Contains(raw, c.prefix) {
				return &Error{Feature: "re", Msg: c.name + " is not supported by RE2 (Go regexp), which matches in linear time; rewrite the expression without it"}
			}
		}
	}
	return &Error{Feature: "re", Msg: "invalid regular expression " + quote(raw) + ": " + err.Error()}
}

// reInfo is what a part of an expression says about the text it matches:
// either exactly one of a few strings (exact), or that one of req occurs
// in it (req nil: nothing known). Strings are folded.
type reInfo struct {
	exact   []string
	isExact bool
	req     []string
}

const (
	maxExactSet = 16
	maxReqSet   = 64
	maxClass    = 8
)

var unknownInfo = reInfo{}

func exactInfo(s ...string) reInfo { return reInfo{exact: s, isExact: true} }

// reqForm turns info into a set of needles, nil when there is none.
func reqForm(in reInfo) []string {
	set := in.req
	if in.isExact {
		set = in.exact
	}
	if len(set) == 0 || len(set) > maxReqSet {
		return nil
	}
	for _, s := range set {
		if s == "" {
			return nil
		}
	}
	return minimizeNeedles(set)
}

func analyzeRegex(re *syntax.Regexp) reInfo {
	switch re.Op {
	case syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText,
		syntax.OpEndText, syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return exactInfo("")
	case syntax.OpLiteral:
		s := string(re.Rune)
		if strings.ContainsRune(s, utf8.RuneError) {
			return unknownInfo
		}
		return exactInfo(Fold(s))
	case syntax.OpCharClass:
		var set []string
		n := 0
		for i := 0; i+1 < len(re.Rune); i += 2 {
			lo, hi := re.Rune[i], re.Rune[i+1]
			n += int(hi-lo) + 1
			if n > 4*maxClass || lo <= utf8.RuneError && utf8.RuneError <= hi {
				return unknownInfo
			}
			for r := lo; r <= hi; r++ {
				set = append(set, Fold(string(r)))
			}
		}
		set = dedupe(set)
		if len(set) == 0 || len(set) > maxClass {
			return unknownInfo
		}
		return exactInfo(set...)
	case syntax.OpCapture:
		return analyzeRegex(re.Sub[0])
	case syntax.OpQuest:
		in := analyzeRegex(re.Sub[0])
		if in.isExact && len(in.exact) < maxExactSet {
			return exactInfo(dedupe(append(slices.Clone(in.exact), ""))...)
		}
		return unknownInfo
	case syntax.OpPlus:
		return reInfo{req: reqForm(analyzeRegex(re.Sub[0]))}
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return reInfo{req: reqForm(analyzeRegex(re.Sub[0]))}
		}
		return unknownInfo
	case syntax.OpConcat:
		return analyzeConcat(re.Sub)
	case syntax.OpAlternate:
		infos := make([]reInfo, len(re.Sub))
		allExact := true
		total := 0
		for i, sub := range re.Sub {
			infos[i] = analyzeRegex(sub)
			if !infos[i].isExact {
				allExact = false
			}
			total += len(infos[i].exact)
		}
		if allExact && total <= maxExactSet {
			var set []string
			for _, in := range infos {
				set = append(set, in.exact...)
			}
			return exactInfo(dedupe(set)...)
		}
		var req []string
		for _, in := range infos {
			r := reqForm(in)
			if r == nil {
				return unknownInfo
			}
			req = append(req, r...)
		}
		if len(req) > maxReqSet {
			return unknownInfo
		}
		return reInfo{req: dedupe(req)}
	}
	return unknownInfo // any character, star, no match
}

// analyzeConcat joins exact parts while their product stays small; every
// part that must occur is a candidate, and the best candidate wins.
func analyzeConcat(subs []*syntax.Regexp) reInfo {
	cur := []string{""}
	exact := true
	var cands [][]string
	flush := func() {
		if r := reqForm(exactInfo(cur...)); r != nil {
			cands = append(cands, r)
		}
		cur = []string{""}
	}
	for _, sub := range subs {
		in := analyzeRegex(sub)
		if in.isExact && len(cur)*len(in.exact) <= maxExactSet {
			next := make([]string, 0, len(cur)*len(in.exact))
			for _, a := range cur {
				for _, b := range in.exact {
					next = append(next, a+b)
				}
			}
			cur = dedupe(next)
			continue
		}
		exact = false
		flush()
		if in.isExact {
			cur = in.exact
		} else if in.req != nil {
			cands = append(cands, in.req)
		}
	}
	if exact {
		return exactInfo(cur...)
	}
	flush()
	var best []string
	for _, c := range cands {
		if best == nil || needleCost(c) < needleCost(best) {
			best = c
		}
	}
	return reInfo{req: best}
}

// minRunes is the fewest characters a match of re can have (capped).
func minRunes(re *syntax.Regexp) int {
	const most = 1 << 20
	switch re.Op {
	case syntax.OpLiteral:
		return len(re.Rune)
	case syntax.OpCharClass, syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		return 1
	case syntax.OpCapture, syntax.OpPlus:
		return minRunes(re.Sub[0])
	case syntax.OpRepeat:
		return min(most, re.Min*minRunes(re.Sub[0]))
	case syntax.OpConcat:
		n := 0
		for _, sub := range re.Sub {
			n = min(most, n+minRunes(sub))
		}
		return n
	case syntax.OpAlternate:
		n := most
		for _, sub := range re.Sub {
			n = min(n, minRunes(sub))
		}
		return n
	}
	return 0 // empty width, star, quest, no match
}

func dedupe(s []string) []string {
	slices.Sort(s)
	return slices.Compact(s)
}
