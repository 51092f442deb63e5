package match

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// naiveMatches lists, for each pattern, how many times it occurs in the
// folded text: the reference the automaton must agree with.
func naiveMatches(patterns []string, text string) []int {
	ft := Fold(text)
	out := make([]int, len(patterns))
	for i, p := range patterns {
		fp := Fold(p)
		if fp == "" {
			out[i] = 1
			continue
		}
		for k := 0; k+len(fp) <= len(ft); k++ {
			if ft[k:k+len(fp)] == fp {
				out[i]++
			}
		}
	}
	return out
}

func automatonMatches(a *Automaton, text string) []int {
	out := make([]int, a.Len())
	a.Match(text, func(p int) { out[p]++ })
	return out
}

func TestAutomatonExamples(t *testing.T) {
	pats := []string{"he", "she", "his", "hers", "HERS", "", "đăng", "k", "s", "\xff"}
	cases := map[string][]int{
		"ushers":          {1, 1, 0, 1, 1, 1, 0, 0, 2, 0},
		"USHERS":          {1, 1, 0, 1, 1, 1, 0, 0, 2, 0},
		"ĐĂNG nhập":       {0, 0, 0, 0, 0, 1, 1, 0, 0, 0},
		"\u212a\u017f":    {0, 0, 0, 0, 0, 1, 0, 1, 1, 0},
		"a\xffb\xff":      {0, 0, 0, 0, 0, 1, 0, 0, 0, 2},
		"":                {0, 0, 0, 0, 0, 1, 0, 0, 0, 0},
		"hishehers hhers": {3, 1, 1, 2, 2, 1, 0, 0, 3, 0},
	}
	a := NewAutomaton(pats)
	for text, want := range cases {
		if got := automatonMatches(a, text); !slices.Equal(got, want) {
			t.Errorf("%q: got %v, want %v", text, got, want)
		}
		if got := naiveMatches(pats, text); !slices.Equal(got, want) {
			t.Errorf("%q: reference got %v, want %v", text, got, want)
		}
	}
}

func TestAutomatonRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	alphabets := []string{"ab", "abcAB", "aK\u212as\u017fS", "đĐăĂa", "ab\xff\xc3", "xyz-/\\. "}
	for round := 0; round < 400; round++ {
		alpha := []rune(alphabets[round%len(alphabets)])
		if round%len(alphabets) == 4 {
			alpha = []rune("ab\uFFFD")
		}
		gen := func(n int) string {
			var b strings.Builder
			for i := 0; i < n; i++ {
				c := alpha[r.IntN(len(alpha))]
				if c == '\uFFFD' {
					b.WriteByte([]byte{0xff, 0xc3, 0x80}[r.IntN(3)])
				} else {
					b.WriteRune(c)
				}
			}
			return b.String()
		}
		var pats []string
		for i := r.IntN(12); i >= 0; i-- {
			pats = append(pats, gen(r.IntN(5)))
		}
		a := NewAutomaton(pats)
		for k := 0; k < 20; k++ {
			text := gen(r.IntN(40))
			if k%4 == 0 {
				text = gen(200 + r.IntN(800)) // long enough to be scanned in two halves
			}
			want := naiveMatches(pats, text)
			if got := automatonMatches(a, text); !slices.Equal(got, want) {
				t.Fatalf("patterns %q text %q: got %v, want %v", pats, text, got, want)
			}
			any := slices.ContainsFunc(want, func(n int) bool { return n > 0 })
			if a.Contains(text) != any {
				t.Fatalf("patterns %q text %q: Contains = %v", pats, text, !any)
			}
		}
	}
}

func TestAutomatonEmpty(t *testing.T) {
	var nilA *Automaton
	if nilA.Contains("x") || nilA.Len() != 0 {
		t.Error("nil automaton")
	}
	nilA.Match("x", func(int) { t.Error("nil automaton reported") })
	a := NewAutomaton(nil)
	if a.Contains("abc") {
		t.Error("empty automaton contains")
	}
	a.Match("abc", func(int) { t.Error("empty automaton reported") })
}

func TestAutomatonDoesNotAllocate(t *testing.T) {
	a := NewAutomaton(automatonPatterns(100))
	text := automatonText(4096) + "đăng nhập \u212a"
	n := 0
	if allocs := testing.AllocsPerRun(50, func() {
		a.Match(text, func(int) { n++ })
		a.Contains(text)
	}); allocs != 0 {
		t.Errorf("%v allocations", allocs)
	}
}
