package match

import (
	"strconv"
	"strings"
)

// Numbers are compared exactly, as decimals, never through float64: 4624,
// 4624.0, 4.624e3 and "04624" are all the same number, 0.1+0.2 is not 0.3,
// and no two different integers compare equal however long they are.

// decimal is a number read from text without copying it: the digits of its
// integer part s[i0:i1] and of its fraction s[f0:f1], then the exponent.
type decimal struct {
	s      string
	neg    bool
	i0, i1 int
	f0, f1 int
	exp    int64
}

// maxExp bounds exponents; larger ones are clamped (the number is then
// compared as if it had that exponent, which keeps it apart from every
// number of sensible size).
const maxExp = 1 << 40

// parseDecimal reads a decimal number: an optional sign, digits, an
// optional fraction (a dot and digits, possibly none) and an optional
// exponent. At least one digit must come before the dot, as in JSON.
// It does not allocate.
func parseDecimal(s string) (decimal, bool) {
	d := decimal{s: s}
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		d.neg = s[i] == '-'
		i++
	}
	d.i0 = i
	for i < len(s) && '0' <= s[i] && s[i] <= '9' {
		i++
	}
	d.i1 = i
	if d.i1 == d.i0 {
		return d, false
	}
	d.f0, d.f1 = i, i
	if i < len(s) && s[i] == '.' {
		i++
		d.f0 = i
		for i < len(s) && '0' <= s[i] && s[i] <= '9' {
			i++
		}
		d.f1 = i
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		neg := false
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			neg = s[i] == '-'
			i++
		}
		start := i
		var e int64
		for i < len(s) && '0' <= s[i] && s[i] <= '9' {
			if e < maxExp {
				e = e*10 + int64(s[i]-'0')
			}
			i++
		}
		if i == start {
			return d, false
		}
		if e > maxExp {
			e = maxExp
		}
		if neg {
			e = -e
		}
		d.exp = e
	}
	return d, i == len(s)
}

// digit returns the k-th digit of the integer part followed by the
// fraction.
func (d *decimal) digit(k int) byte {
	if n := d.i1 - d.i0; k < n {
		return d.s[d.i0+k]
	} else {
		return d.s[d.f0+k-n]
	}
}

// norm returns where the significant digits are (from, to: indexes for
// digit) and the position of the decimal point relative to from: the
// value is 0.d[from]d[from+1]…d[to-1] × 10^point. from == to for zero.
func (d *decimal) norm() (from, to int, point int64) {
	n := (d.i1 - d.i0) + (d.f1 - d.f0)
	from, to = 0, n
	for from < to && d.digit(from) == '0' {
		from++
	}
	for to > from && d.digit(to-1) == '0' {
		to--
	}
	point = int64(d.i1-d.i0) - int64(from) + d.exp
	return from, to, point
}

// cmpDecimal compares two numbers: -1, 0 or +1.
func cmpDecimal(a, b *decimal) int {
	af, at, ap := a.norm()
	bf, bt, bp := b.norm()
	aZero, bZero := af == at, bf == bt
	switch {
	case aZero && bZero:
		return 0
	case aZero:
		if b.neg {
			return 1
		}
		return -1
	case bZero:
		if a.neg {
			return -1
		}
		return 1
	}
	if a.neg != b.neg {
		if a.neg {
			return -1
		}
		return 1
	}
	sign := 1
	if a.neg {
		sign = -1
	}
	if ap != bp {
		if ap < bp {
			return -sign
		}
		return sign
	}
	for i, j := af, bf; ; i, j = i+1, j+1 {
		switch {
		case i == at && j == bt:
			return 0
		case i == at:
			return -sign
		case j == bt:
			return sign
		}
		if x, y := a.digit(i), b.digit(j); x != y {
			if x < y {
				return -sign
			}
			return sign
		}
	}
}

// parseNumberValue reads a Sigma number as YAML may write it: a decimal
// (with exponent), or an integer in hex (0x), octal (0o) or binary (0b),
// with underscores allowed between digits of those. .inf and .nan are not
// numbers that can equal anything and are refused.
func parseNumberValue(raw string) (decimal, bool) {
	s := strings.TrimSpace(raw)
	if d, ok := parseDecimal(s); ok {
		return d, true
	}
	// Lenient forms: .5, 5., +.5e3
	t := s
	sign := ""
	if t != "" && (t[0] == '+' || t[0] == '-') {
		sign, t = t[:1], t[1:]
	}
	if strings.HasPrefix(t, ".") {
		if d, ok := parseDecimal(sign + "0" + t); ok {
			return d, true
		}
	}
	if len(t) > 2 && t[0] == '0' && strings.ContainsRune("xXoObB", rune(t[1])) {
		if i, err := strconv.ParseInt(sign+t, 0, 64); err == nil {
			return parseDecimal(strconv.FormatInt(i, 10))
		}
		if sign != "-" {
			if u, err := strconv.ParseUint(t, 0, 64); err == nil {
				return parseDecimal(strconv.FormatUint(u, 10))
			}
		}
	}
	return decimal{}, false
}

// plainText writes a number without exponent and without sign, as the
// digits any decimal spelling without exponent of it contains: "4624" for
// 4624.0, "0.05" for 5e-2. ok is false when that would be unreasonably
// long.
func (d *decimal) plainText() (string, bool) {
	from, to, point := d.norm()
	if from == to {
		return "0", true
	}
	if point > 40 || point < -40 {
		return "", false
	}
	var b []byte
	if point <= 0 {
		b = append(b, '0', '.')
		for i := point; i < 0; i++ {
			b = append(b, '0')
		}
		for k := from; k < to; k++ {
			b = append(b, d.digit(k))
		}
		return string(b), true
	}
	for k := int64(0); k < point; k++ {
		i := from + int(k)
		if i < to {
			b = append(b, d.digit(i))
		} else {
			b = append(b, '0')
		}
	}
	if int64(to-from) > point {
		b = append(b, '.')
		for k := from + int(point); k < to; k++ {
			b = append(b, d.digit(k))
		}
	}
	return string(b), true
}

// integer returns the number as an int64 when it is integral and fits.
func (d *decimal) integer() (int64, bool) {
	from, to, point := d.norm()
	if from == to {
		return 0, true
	}
	if point < int64(to-from) || point > 18 {
		return 0, false
	}
	var v int64
	for k := int64(0); k < point; k++ {
		v *= 10
		if i := from + int(k); i < to {
			v += int64(d.digit(i) - '0')
		}
	}
	if d.neg {
		v = -v
	}
	return v, true
}
