package event

import (
	"math"
	"strconv"
	"unicode/utf8"
)

// Kind is the JSON type of a Value.
type Kind uint8

// The kinds of value. KindNone is the zero Value: the field is absent.
const (
	KindNone Kind = iota
	KindNull
	KindBool
	KindNumber
	KindString
	KindObject // a container; its members are fields of their own
	KindArray  // a container; its elements are values of its own field
)

var kindNames = [...]string{"none", "null", "bool", "number", "string", "object", "array"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Value is one value of a field. It is small and passed by value. For a
// string it holds the unescaped text; for a number, its JSON text; for a bool,
// "true" or "false".
type Value struct {
	kind Kind
	s    string
}

// String makes a string value.
func String(s string) Value { return Value{kind: KindString, s: s} }

// Int makes a number value from an integer.
func Int(i int64) Value { return Value{kind: KindNumber, s: strconv.FormatInt(i, 10)} }

// Float makes a number value. NaN and infinities are not JSON numbers and
// become null.
func Float(f float64) Value {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return Value{kind: KindNull}
	}
	return Value{kind: KindNumber, s: strconv.FormatFloat(f, 'g', -1, 64)}
}

// Bool makes a boolean value.
func Bool(b bool) Value {
	if b {
		return Value{kind: KindBool, s: "true"}
	}
	return Value{kind: KindBool, s: "false"}
}

// Null is the JSON null.
func Null() Value { return Value{kind: KindNull} }

// Kind returns the JSON type of the value, KindNone when the field is absent.
func (v Value) Kind() Kind { return v.kind }

// Exists reports whether the field was present (null counts as present).
func (v Value) Exists() bool { return v.kind != KindNone }

// IsScalar reports whether the value is a string, number or bool.
func (v Value) IsScalar() bool {
	return v.kind == KindString || v.kind == KindNumber || v.kind == KindBool
}

// Text returns the value as text: the string, the number as written, "true"
// or "false"; "" for null, absent and containers.
func (v Value) Text() string { return v.s }

// String implements fmt.Stringer with Text.
func (v Value) String() string { return v.s }

// Float returns a number value, or a string that holds a number, as float64.
func (v Value) Float() (float64, bool) {
	if v.kind != KindNumber && v.kind != KindString {
		return 0, false
	}
	f, err := strconv.ParseFloat(v.s, 64)
	return f, err == nil
}

// Int returns a number value, or a string that holds an integer, as int64.
// A number with a fraction or exponent is accepted when it is integral.
func (v Value) Int() (int64, bool) {
	if v.kind != KindNumber && v.kind != KindString {
		return 0, false
	}
	if i, err := strconv.ParseInt(v.s, 10, 64); err == nil {
		return i, true
	}
	f, err := strconv.ParseFloat(v.s, 64)
	if err != nil || f != math.Trunc(f) || f < math.MinInt64 || f >= math.MaxInt64 {
		return 0, false
	}
	return int64(f), true
}

// Bool returns a bool value.
func (v Value) Bool() (bool, bool) {
	if v.kind != KindBool {
		return false, false
	}
	return v.s == "true", true
}

// appendJSON writes the value as JSON.
func (v Value) appendJSON(dst []byte) []byte {
	switch v.kind {
	case KindString:
		return AppendString(dst, v.s)
	case KindNumber, KindBool:
		return append(dst, v.s...)
	default:
		return append(dst, "null"...)
	}
}

const hexDigits = "0123456789abcdef"

// AppendString appends s as a JSON string (RFC 8259): quotes, backslashes
// and control characters escaped, UTF-8 kept. Invalid UTF-8 is replaced by
// U+FFFD, as encoding/json does, so the output is always valid JSON.
func AppendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < 0x80 {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, "\ufffd"...)
			i++
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
