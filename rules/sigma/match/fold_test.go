package match

import (
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestFoldAgreesWithEqualFold(t *testing.T) {
	initFold()
	// Every rune of the Basic Multilingual Plane and beyond against the
	// members of its case orbit.
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if r >= 0xd800 && r < 0xe000 {
			continue
		}
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			if canon(r) != canon(f) {
				t.Fatalf("%U and %U are one orbit but fold to %U and %U", r, f, canon(r), canon(f))
			}
		}
		if canon(r) != canonSlow(r) {
			t.Fatalf("table and slow fold disagree on %U", r)
		}
	}
	words := []string{"ĐĂNG NHẬP", "đăng nhập", "Đăng Nhập", "dang nhap", "KELVIN", "\u212aelvin", "ſtraße", "STRASSE",
		"οδος", "ΟΔΟΣ", "İstanbul", "istanbul", "ǅ", "ǆ", "Ǆ", "ß", "ẞ", "a\xffb", "A\xffB", "a\xfeb"}
	for _, a := range words {
		for _, b := range words {
			if !utf8.ValidString(a) || !utf8.ValidString(b) {
				continue
			}
			if got, want := Fold(a) == Fold(b), strings.EqualFold(a, b); got != want {
				t.Errorf("Fold(%q)==Fold(%q) is %v, EqualFold %v", a, b, got, want)
			}
			if got, want := foldEqual2(a, b), strings.EqualFold(a, b); got != want {
				t.Errorf("foldEqual2(%q, %q) = %v, EqualFold %v", a, b, got, want)
			}
		}
	}
	if Fold("A\xffB") != "a\xffb" || foldEqual2("a\xffb", "a\xfeb") {
		t.Error("invalid bytes must be kept and compared as themselves")
	}
	if Fold("ĐĂNG NHẬP") != "đăng nhập" {
		t.Errorf("Fold = %q", Fold("ĐĂNG NHẬP"))
	}
}

// randText draws text from an alphabet rich in case pairs, multi-byte
// folds, k and s, wildcard-looking characters and invalid bytes.
func randText(r *rand.Rand, n int, valid bool) string {
	alpha := []string{"a", "A", "b", "k", "K", "\u212a", "s", "S", "\u017f", "đ", "Đ", "ă", "Ậ", "ậ", "ς", "Σ", "σ",
		"-", "/", "\u2013", " ", ".", "\\", "*", "?", "e", "x", "1", "0"}
	if !valid {
		alpha = append(alpha, "\xff", "\xc3", "\x80")
	}
	var b strings.Builder
	for i := 0; i < n; i++ {
		b.WriteString(alpha[r.IntN(len(alpha))])
	}
	return b.String()
}

// litReference answers the literal operations on folded text.
func TestLitAgainstReference(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	for i := 0; i < 20000; i++ {
		p := randText(r, r.IntN(4), true)
		s := randText(r, r.IntN(12), true)
		if r.IntN(3) == 0 { // make hits likely
			s = randText(r, r.IntN(3), true) + swapCase(r, p) + randText(r, r.IntN(3), true)
		}
		l := newLit(p, false)
		fs, fp := Fold(s), Fold(p)
		if got, want := l.equal(s), fs == fp; got != want {
			t.Fatalf("equal(%q, %q) = %v", s, p, got)
		}
		if got, want := l.prefix(s), strings.HasPrefix(fs, fp); got != want {
			t.Fatalf("prefix(%q, %q) = %v", s, p, got)
		}
		if got, want := l.suffix(s), strings.HasSuffix(fs, fp); got != want {
			t.Fatalf("suffix(%q, %q) = %v", s, p, got)
		}
		if got, want := l.contains(s), strings.Contains(fs, fp); got != want {
			t.Fatalf("contains(%q, %q) = %v", s, p, got)
		}
		if got, want := foldContains2(s, p), strings.Contains(fs, fp); got != want {
			t.Fatalf("foldContains2(%q, %q) = %v", s, p, got)
		}
		if got, want := foldHasSuffix2(s, p), strings.HasSuffix(fs, fp); got != want {
			t.Fatalf("foldHasSuffix2(%q, %q) = %v", s, p, got)
		}
		if got, want := foldPrefixLen2(s, p) >= 0, strings.HasPrefix(fs, fp); got != want {
			t.Fatalf("foldPrefixLen2(%q, %q) = %v", s, p, got)
		}
		c := newLit(p, true)
		if c.equal(s) != (s == p) || c.contains(s) != strings.Contains(s, p) || c.prefix(s) != strings.HasPrefix(s, p) || c.suffix(s) != strings.HasSuffix(s, p) {
			t.Fatalf("cased literal %q on %q", p, s)
		}
	}
}

// TestLitNeverPanics runs the literal operations on invalid UTF-8.
func TestLitNeverPanics(t *testing.T) {
	r := rand.New(rand.NewPCG(2, 2))
	for i := 0; i < 20000; i++ {
		p := randText(r, r.IntN(4), false)
		s := randText(r, r.IntN(12), false)
		l := newLit(p, false)
		l.equal(s)
		l.prefix(s)
		l.suffix(s)
		l.contains(s)
		newGlob(parsePattern(p+"*"+p), false).match(&text{s: s})
		foldContains2(s, p)
		foldHasSuffix2(s, p)
	}
}

func swapCase(r *rand.Rand, s string) string {
	var b strings.Builder
	for _, c := range s {
		if r.IntN(2) == 0 {
			c = unicode.SimpleFold(c)
		}
		b.WriteRune(c)
	}
	return b.String()
}

// globRegexp is the reference for globs: Go regexp, whose (?i) folds as
// strings.EqualFold does.
func globRegexp(p pattern, cased bool) *regexp.Regexp {
	var b strings.Builder
	b.WriteString("^")
	if !cased {
		b.WriteString("(?i)")
	}
	b.WriteString("(?s)")
	for _, x := range p {
		switch x.kind {
		case pStar:
			b.WriteString(".*")
		case pOne:
			b.WriteString(".")
		default:
			b.WriteString(regexp.QuoteMeta(x.text))
		}
	}
	b.WriteString("$")
	return regexp.MustCompile(b.String())
}

func TestGlobAgainstRegexp(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	for i := 0; i < 20000; i++ {
		raw := randText(r, r.IntN(7), true)
		p := parsePattern(raw)
		if len(p) == 0 {
			continue
		}
		s := randText(r, r.IntN(10), true)
		if r.IntN(2) == 0 {
			s = strings.NewReplacer("*", randText(r, r.IntN(3), true), "?", "x", "\\", "").Replace(swapCase(r, raw))
		}
		for _, cased := range []bool{false, true} {
			set := &strSet{cased: cased}
			set.add(p)
			set.finish()
			if got, want := set.test(s), globRegexp(p, cased).MatchString(s); got != want {
				t.Fatalf("pattern %q (cased %v) on %q: %v, want %v", raw, cased, s, got, want)
			}
		}
	}
}

// TestAffixListsAgainstReference checks long prefix and suffix lists (held
// in tries) and short ones against folded HasPrefix and HasSuffix.
func TestAffixListsAgainstReference(t *testing.T) {
	r := rand.New(rand.NewPCG(6, 6))
	for round := 0; round < 3000; round++ {
		n := 1 + r.IntN(12)
		var lits []string
		for i := 0; i < n; i++ {
			lits = append(lits, randText(r, r.IntN(4), true))
		}
		cased := r.IntN(4) == 0
		suffix := r.IntN(2) == 0
		set := &strSet{cased: cased}
		for _, l := range lits {
			if suffix {
				set.add(pattern{{kind: pStar}, {kind: pLit, text: l}})
			} else {
				set.add(pattern{{kind: pLit, text: l}, {kind: pStar}})
			}
		}
		set.finish()
		for k := 0; k < 20; k++ {
			s := randText(r, r.IntN(8), true)
			if k%2 == 0 {
				l := swapCase(r, lits[r.IntN(n)])
				if suffix {
					s = randText(r, r.IntN(3), true) + l
				} else {
					s = l + randText(r, r.IntN(3), true)
				}
			}
			want := false
			for _, l := range lits {
				a, b := Fold(s), Fold(l)
				if cased {
					a, b = s, l
				}
				if suffix && strings.HasSuffix(a, b) || !suffix && strings.HasPrefix(a, b) {
					want = true
				}
			}
			if got := set.test(s); got != want {
				t.Fatalf("literals %q (suffix %v, cased %v) on %q: %v, want %v", lits, suffix, cased, s, got, want)
			}
		}
	}
}

// TestEqualMapFoldsLongText: text longer than every key may still fold to
// one (the Kelvin sign is three bytes, k one).
func TestEqualMapFoldsLongText(t *testing.T) {
	set := &strSet{}
	for _, v := range []string{"a", "b", "c", strings.Repeat("k", 100), strings.Repeat("x", 200)} {
		set.add(pattern{{kind: pLit, text: v}})
	}
	set.finish()
	if set.eqMap == nil {
		t.Fatal("no map")
	}
	for s, want := range map[string]bool{
		strings.Repeat("\u212a", 100): true, strings.Repeat("K", 100): true, strings.Repeat("X", 200): true,
		strings.Repeat("\u212a", 101): false, "B": true, "d": false, strings.Repeat("ậ", 300): false,
	} {
		if got := set.test(s); got != want {
			t.Errorf("%.20q…: %v", s, got)
		}
	}
}
