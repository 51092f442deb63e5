package match

import (
	"errors"
	"math/big"
	"math/rand/v2"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/egovsoc/egovsoc/pipeline/event"
)

func TestRegexErrorsNameTheConstruct(t *testing.T) {
	cases := map[string]string{
		`a(?=b)`:        "lookahead",
		`a(?!b)`:        "negative lookahead",
		`(?<=a)b`:       "lookbehind",
		`(?<!a)b`:       "negative lookbehind",
		`(a)\1`:         "backreference",
		`(?P<x>a)\k<x>`: "named backreference",
		`(?>a+)b`:       "atomic group",
		`a++`:           "possessive",
		`a*+`:           "possessive",
		`(?(1)a|b)`:     "conditional",
		`a\Z`:           `\Z`,
		`(?R)`:          "recursion",
		`x(?#note)y`:    "comment",
	}
	for expr, want := range cases {
		_, err := Compile(Spec{Fields: []string{"f"}, Modifiers: []string{"re"}, Values: []Value{{Raw: expr}}})
		var me *Error
		if !errors.As(err, &me) || me.Feature != "re" {
			t.Errorf("%s: %v, want an re error", expr, err)
			continue
		}
		if !strings.Contains(me.Msg, want) {
			t.Errorf("%s: %q does not name %q", expr, me.Msg, want)
		}
	}
	long := strings.Repeat("a", maxRegexLen+1)
	if _, err := Compile(Spec{Fields: []string{"f"}, Modifiers: []string{"re"}, Values: []Value{{Raw: long}}}); err == nil {
		t.Error("an over-long expression was accepted")
	}
	if _, err := Compile(Spec{Fields: []string{"f"}, Modifiers: []string{"re"}, Values: []Value{{Raw: strings.Repeat(`[\p{L}\d]{1000}`, 6)}}}); err == nil {
		t.Error("a huge program was accepted")
	}
}

func TestRegexMinimumLength(t *testing.T) {
	m, err := Compile(Spec{Fields: []string{"f"}, Modifiers: []string{"re"}, Values: []Value{{Raw: `(.){20,}`}}})
	if err != nil {
		t.Fatal(err)
	}
	short := eventWith(t, map[string]any{"f": strings.Repeat("ậ", 19)})
	long := eventWith(t, map[string]any{"f": strings.Repeat("ậ", 20)})
	if m.Match(short) || !m.Match(long) {
		t.Error("minimum length")
	}
}

func TestDecimalAgainstBigRat(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	gen := func() string {
		var b strings.Builder
		if r.IntN(3) == 0 {
			b.WriteByte("+-"[r.IntN(2)])
		}
		for n := 1 + r.IntN(4); n > 0; n-- {
			b.WriteByte("0123456789"[r.IntN(10)])
		}
		if r.IntN(2) == 0 {
			b.WriteByte('.')
			for n := r.IntN(4); n > 0; n-- {
				b.WriteByte("0123450"[r.IntN(7)])
			}
		}
		if r.IntN(3) == 0 {
			b.WriteString([]string{"e", "E", "e+", "e-"}[r.IntN(4)])
			b.WriteString(strconv.Itoa(r.IntN(6)))
		}
		return b.String()
	}
	for i := 0; i < 50000; i++ {
		a, b := gen(), gen()
		da, ok1 := parseDecimal(a)
		db, ok2 := parseDecimal(b)
		ra, okA := new(big.Rat).SetString(strings.TrimPrefix(strings.TrimSuffix(a, "."), "+"))
		rb, okB := new(big.Rat).SetString(strings.TrimPrefix(strings.TrimSuffix(b, "."), "+"))
		if ok1 != okA || ok2 != okB {
			t.Fatalf("parse %q %v/%v, %q %v/%v", a, ok1, okA, b, ok2, okB)
		}
		if !ok1 || !ok2 {
			continue
		}
		if got, want := cmpDecimal(&da, &db), ra.Cmp(rb); got != want {
			t.Fatalf("cmp(%s, %s) = %d, want %d", a, b, got, want)
		}
		if plain, ok := da.plainText(); ok {
			if rp, _ := new(big.Rat).SetString(plain); rp.Cmp(new(big.Rat).Abs(ra)) != 0 {
				t.Fatalf("plainText(%s) = %s", a, plain)
			}
		}
		if n, ok := da.integer(); ok && (!ra.IsInt() || ra.Num().Int64() != n) {
			t.Fatalf("integer(%s) = %d", a, n)
		}
	}
	for _, bad := range []string{"", "-", ".5", "1e", "1e+", "0x10", "1_000", " 1", "1 ", "NaN", "Inf", "1..2"} {
		if _, ok := parseDecimal(bad); ok {
			t.Errorf("parseDecimal(%q) accepted", bad)
		}
	}
	for raw, want := range map[string]string{"0x1F": "31", "0o17": "15", "0b101": "5", "-0x10": "-16", ".5": "0.5", "1e3": "1000", "18446744073709551615": "18446744073709551615", "0xFFFFFFFFFFFFFFFF": "18446744073709551615"} {
		d, ok := parseNumberValue(raw)
		w, _ := parseDecimal(want)
		if !ok || cmpDecimal(&d, &w) != 0 {
			t.Errorf("parseNumberValue(%q) = %v %v, want %s", raw, d, ok, want)
		}
	}
	for _, bad := range []string{".inf", ".nan", "abc", "", "0x"} {
		if _, ok := parseNumberValue(bad); ok {
			t.Errorf("parseNumberValue(%q) accepted", bad)
		}
	}
}

func TestPrefixSetAgainstNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 4))
	for round := 0; round < 200; round++ {
		var prefixes []netip.Prefix
		for n := r.IntN(20); n >= 0; n-- {
			if r.IntN(2) == 0 {
				a := netip.AddrFrom4([4]byte{byte(r.IntN(4)), byte(r.IntN(256)), byte(r.IntN(256)), byte(r.IntN(256))})
				prefixes = append(prefixes, netip.PrefixFrom(a, r.IntN(33)))
			} else {
				var b [16]byte
				b[0], b[1], b[15] = 0xfe, byte(r.IntN(4)), byte(r.IntN(256))
				prefixes = append(prefixes, netip.PrefixFrom(netip.AddrFrom16(b), r.IntN(129)))
			}
		}
		set := NewPrefixSet(prefixes)
		for k := 0; k < 200; k++ {
			var a netip.Addr
			if r.IntN(2) == 0 {
				a = netip.AddrFrom4([4]byte{byte(r.IntN(4)), byte(r.IntN(256)), byte(r.IntN(256)), byte(r.IntN(256))})
			} else {
				var b [16]byte
				b[0], b[1], b[15] = 0xfe, byte(r.IntN(4)), byte(r.IntN(256))
				a = netip.AddrFrom16(b)
			}
			want := false
			for _, p := range prefixes {
				if p.Masked().Contains(a) {
					want = true
				}
			}
			if got := set.Contains(a); got != want {
				t.Fatalf("prefixes %v: Contains(%v) = %v", prefixes, a, got)
			}
			if got := set.ContainsString(a.String()); got != want {
				t.Fatalf("prefixes %v: ContainsString(%v) = %v", prefixes, a, got)
			}
		}
	}
	all := NewPrefixSet([]netip.Prefix{netip.MustParsePrefix("::/0"), netip.MustParsePrefix("0.0.0.0/0")})
	if !all.ContainsString("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff") || !all.ContainsString("255.255.255.255") || all.Len() != 2 {
		t.Error("full ranges")
	}
}

func TestParseIPv4(t *testing.T) {
	for _, s := range []string{"1.2.3.4", "0.0.0.0", "255.255.255.255", "10.0.0.1"} {
		x, ok := parseIPv4(s)
		a := netip.MustParseAddr(s).As4()
		if !ok || x != uint32(a[0])<<24|uint32(a[1])<<16|uint32(a[2])<<8|uint32(a[3]) {
			t.Errorf("parseIPv4(%q)", s)
		}
	}
	for _, s := range []string{"1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", "1..3.4", "1.2.3.4 ", "a.b.c.d", "1.2.3.-4", ""} {
		if _, ok := parseIPv4(s); ok {
			t.Errorf("parseIPv4(%q) accepted", s)
		}
	}
}

func TestParseRFC3339(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	for i := 0; i < 5000; i++ {
		tm := time.Unix(r.Int64N(4e9)-1e9, r.Int64N(1e9)).In(time.FixedZone("", (r.IntN(49)-24)*1800))
		s := tm.Format(time.RFC3339Nano)
		c, ok := parseRFC3339(s)
		if !ok {
			t.Fatalf("%s not parsed", s)
		}
		if c.unix != tm.Unix() || c.nano != tm.Nanosecond() || c.hour != tm.Hour() || c.day != tm.Day() || c.year != tm.Year() {
			t.Fatalf("%s: %+v", s, c)
		}
	}
	for _, bad := range []string{"2024-02-30T00:00:00Z", "2024-01-01T24:00:00Z", "2024-01-01T00:00:00", "2024-01-01", "2024-01-01T00:00:00+0700", "2024-01-01T00:00:00.Z", "x024-01-01T00:00:00Z"} {
		if _, ok := parseRFC3339(bad); ok {
			t.Errorf("%q accepted", bad)
		}
	}
}

type foreignMatcher struct{}

func (foreignMatcher) Match(*event.Event) bool { return true }

func TestNeedlesOfForeignMatcher(t *testing.T) {
	if n, ok := Needles(foreignMatcher{}); ok || n != nil {
		t.Error("a matcher of another package has no needles")
	}
}

func TestErrorIsTyped(t *testing.T) {
	_, err := Compile(Spec{Fields: []string{"f"}, Modifiers: []string{"bogus"}, Values: []Value{{Raw: "x"}}})
	var me *Error
	if !errors.As(err, &me) || me.Feature != "modifier" || !strings.Contains(err.Error(), `"bogus"`) {
		t.Errorf("%v", err)
	}
}
