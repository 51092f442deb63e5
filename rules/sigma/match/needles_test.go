package match

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/egovsoc/egovsoc/pipeline/event"
)

// The index drops every event in which no needle of an item occurs, so a
// needle that a matching event lacks silently loses detections. This
// property test generates items and events built to match them and checks,
// for every match, that a needle occurs.

var needleChains = [][]string{
	nil, {"contains"}, {"startswith"}, {"endswith"}, {"contains", "all"}, {"all"}, {"cased"}, {"contains", "cased"},
	{"windash"}, {"contains", "windash"}, {"windash", "endswith"}, {"windash", "contains", "all"},
	{"base64"}, {"base64", "contains"}, {"base64offset", "contains"}, {"wide", "base64offset", "contains"},
	{"utf16be", "base64offset", "contains"}, {"utf16", "base64", "contains"}, {"wide", "contains"},
	{"expand"}, {"expand", "contains"}, {"expand", "windash", "startswith"},
	{"re"}, {"re", "i"}, {"re", "contains"}, {"re", "all"},
}

func randRaw(r *rand.Rand) string {
	alpha := []string{"a", "B", "k", "s", "đ", "Ậ", "ς", "-", "/", "\u2014", " ", ".", "\\", "*", "?", "\\*", "\\\\", "x", "1", "%p%"}
	var b strings.Builder
	for n := r.IntN(6); n >= 0; n-- {
		b.WriteString(alpha[r.IntN(len(alpha))])
	}
	return b.String()
}

func randRegex(r *rand.Rand) string {
	atoms := []string{"a", "b", "k", "đ", "[ab]", "[a-c]", "[^x]", ".", `\.`, `\d`, "(a|bc)", "(?:k|s)", "x", "ab", "Ậ", `\s`}
	var b strings.Builder
	for n := 1 + r.IntN(5); n > 0; n-- {
		b.WriteString(atoms[r.IntN(len(atoms))])
		switch r.IntN(6) {
		case 0:
			b.WriteString("*")
		case 1:
			b.WriteString("+")
		case 2:
			b.WriteString("?")
		case 3:
			b.WriteString("{1,2}")
		}
	}
	if r.IntN(4) == 0 {
		return b.String() + "|" + randRegex(r)
	}
	return b.String()
}

// sampleFrom produces text a pattern-like raw value plausibly matches:
// wildcards filled, escapes resolved, case and dashes swapped.
func sampleFrom(r *rand.Rand, raw string) string {
	var b strings.Builder
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch {
		case c == '\\' && i+1 < len(raw) && strings.IndexByte("*?\\", raw[i+1]) >= 0:
			b.WriteByte(raw[i+1])
			i++
		case c == '*':
			b.WriteString(randText(r, r.IntN(3), true))
		case c == '?':
			b.WriteString([]string{"x", "đ", "-"}[r.IntN(3)])
		case c == '%':
			b.WriteString([]string{"root", "adm", "%"}[r.IntN(3)])
		case c == '-' || c == '/':
			b.WriteString(dashes[r.IntN(len(dashes))])
		default:
			b.WriteByte(c)
		}
	}
	return swapCase(r, b.String())
}

func encodeSample(r *rand.Rand, chain []string, text string) string {
	has := func(m string) bool {
		for _, c := range chain {
			if c == m {
				return true
			}
		}
		return false
	}
	b := []byte(text)
	switch {
	case has("wide"):
		b = utf16Bytes(text, false, false)
	case has("utf16be"):
		b = utf16Bytes(text, true, false)
	case has("utf16"):
		b = utf16Bytes(text, false, true)
	}
	if has("base64") || has("base64offset") {
		pre := strings.Repeat("q", r.IntN(3))
		return base64.StdEncoding.EncodeToString(append([]byte(pre), append(b, "zz"...)...))
	}
	return string(b)
}

func utf16Bytes(s string, be, bom bool) []byte {
	var out []byte
	if bom {
		out = append(out, 0xff, 0xfe)
	}
	for _, u := range utf16.Encode([]rune(s)) {
		if be {
			out = append(out, byte(u>>8), byte(u))
		} else {
			out = append(out, byte(u), byte(u>>8))
		}
	}
	return out
}

func eventWith(t testing.TB, fields map[string]any) *event.Event {
	b, err := json.Marshal(fields)
	if err != nil {
		t.Fatal(err)
	}
	return mustEvent(t, b)
}

func TestNeedlesAreNecessary(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	placeholders := map[string][]string{"p": {"root", "adm*", "Quản-trị"}}
	specs, withNeedles, matched := 0, 0, 0
	for round := 0; round < 6000; round++ {
		chain := needleChains[r.IntN(len(needleChains))]
		isRe := len(chain) > 0 && chain[0] == "re"
		var vals []Value
		for n := 1 + r.IntN(3); n > 0; n-- {
			if isRe {
				vals = append(vals, Value{Raw: randRegex(r)})
			} else {
				vals = append(vals, Value{Raw: randRaw(r)})
			}
		}
		s := Spec{Fields: []string{"a", "b"}, Modifiers: chain, Values: vals, Placeholders: placeholders}
		m, err := Compile(s)
		if err != nil {
			continue // wildcards under base64 and the like
		}
		specs++
		needles, ok := Needles(m)
		if !ok {
			continue
		}
		withNeedles++
		for _, n := range needles {
			if n == "" || n != Fold(n) {
				t.Fatalf("%+v: needle %q is empty or not folded", s, n)
			}
		}
		for k := 0; k < 30; k++ {
			var texts []any
			for n := 1 + r.IntN(2); n > 0; n-- {
				v := vals[r.IntN(len(vals))].Raw
				var text string
				if isRe {
					text = randText(r, r.IntN(3), true) + sampleFrom(r, strings.NewReplacer("[", "", "]", "", "(", "", ")", "", "|", "", "+", "", "{1,2}", "").Replace(v)) + randText(r, r.IntN(3), true)
				} else {
					text = randText(r, r.IntN(2), true) + sampleFrom(r, v) + randText(r, r.IntN(2), true)
				}
				texts = append(texts, encodeSample(r, chain, text))
			}
			field := []string{"a", "b"}[r.IntN(2)]
			var e *event.Event
			if len(texts) == 1 {
				e = eventWith(t, map[string]any{field: texts[0]})
			} else {
				e = eventWith(t, map[string]any{field: texts})
			}
			if !m.Match(e) {
				continue
			}
			matched++
			if !needleOccurs(e, s.Fields, needles) {
				t.Fatalf("item %+v matches %s but holds none of its needles %q", s, e.Raw(), needles)
			}
		}
	}
	t.Logf("%d items compiled, %d with needles, %d matches checked", specs, withNeedles, matched)
	if matched < 2000 {
		t.Errorf("only %d matches checked: the generator needs work", matched)
	}
}

// TestNumberNeedles: numbers equal to a value, however JSON writes them,
// hold its plain digits or an exponent.
func TestNumberNeedles(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for i := 0; i < 3000; i++ {
		mant := r.Int64N(200000) - 100000
		exp := r.IntN(9) - 4
		raw := strconv.FormatInt(mant, 10)
		if exp != 0 {
			raw += "e" + strconv.Itoa(exp)
		}
		m, err := Compile(Spec{Fields: []string{"n"}, Values: []Value{{Kind: Number, Raw: raw}}})
		if err != nil {
			t.Fatal(err)
		}
		needles, ok := Needles(m)
		if !ok {
			t.Fatalf("%s: no needles", raw)
		}
		d, _ := parseDecimal(raw)
		plain, _ := d.plainText()
		sign := ""
		if mant < 0 {
			sign = "-"
		}
		// Ways to write the number: plain, with trailing zeros, leading
		// zeros (as a string), with an exponent.
		from, to, point := d.norm()
		var digits strings.Builder
		for k := from; k < to; k++ {
			digits.WriteByte(d.digit(k))
		}
		forms := []string{sign + plain, sign + plain + func() string {
			if strings.Contains(plain, ".") {
				return "000"
			}
			return ".000"
		}()}
		if digits.Len() > 0 {
			forms = append(forms, fmt.Sprintf("%s0.%se%d", sign, digits.String(), point), fmt.Sprintf("%s%sE%d", sign, digits.String(), point-int64(digits.Len())))
		}
		for _, f := range forms {
			for _, ev := range []string{`{"n":` + f + `}`, `{"n":"0` + strings.TrimPrefix(f, "-") + `"}`} {
				e, err := event.Decode([]byte(ev))
				if err != nil {
					continue // a leading zero is no JSON number
				}
				if !m.Match(e) {
					if strings.HasPrefix(f, "-") && strings.Contains(ev, `"0`) {
						continue // the string form dropped the sign
					}
					t.Fatalf("%s does not match %s", raw, ev)
				}
				if !needleOccurs(e, []string{"n"}, needles) {
					t.Fatalf("%s matches %s without its needles %q", raw, ev, needles)
				}
			}
		}
	}
}
