package sigma

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/egovsoc/egovsoc/rules/sigma/match"
)

// TestGramSetAgreesWithSearch checks the index's needle finder against a
// plain search of the folded strings, on ASCII and non-ASCII text (Vietnamese,
// the Kelvin sign that folds to k).
func TestGramSetAgreesWithSearch(t *testing.T) {
	needles := []string{"union select", "đăng nhập", "\\\\cmd.exe", "abc", "e", "kill", "/etc/passwd", "ĐĂNG", "x"}
	g := newGramSet(needles)
	r := rand.New(rand.NewPCG(1, 2))
	pieces := []string{"UNION SELECT", "Đăng Nhập", "\\\\CMD.EXE", "ABC", "\u212Aill", "/ETC/passwd", "zz", " ", "é", "🙂", "x"}
	for range 5000 {
		var b strings.Builder
		for range r.IntN(6) {
			b.WriteString(pieces[r.IntN(len(pieces))])
		}
		s := b.String()
		var want []int32
		fs := match.Fold(s)
		for i, n := range needles {
			if strings.Contains(fs, match.Fold(n)) {
				want = append(want, int32(i))
			}
		}
		got := g.match(s, nil)
		slices.Sort(got)
		got = slices.Compact(got)
		if !slices.Equal(got, want) {
			t.Fatalf("%q: found %v, want %v", s, got, want)
		}
	}
}
