package match

import (
	"encoding/base64"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// A pattern is a Sigma string value with its wildcards and escapes
// interpreted: literal text, * (any run of characters, possibly none) and ?
// (exactly one character, a Unicode code point).
type pattern []piece

type pieceKind uint8

const (
	pLit pieceKind = iota
	pStar
	pOne
)

type piece struct {
	kind pieceKind
	text string // pLit only
}

// parsePattern interprets a Sigma string: * and ? are wildcards; \* \? and
// \\ stand for the character itself; a backslash before anything else (or
// at the end) is a plain backslash.
func parsePattern(raw string) pattern {
	var p pattern
	var b strings.Builder
	flush := func() {
		if b.Len() > 0 {
			p = append(p, piece{kind: pLit, text: b.String()})
			b.Reset()
		}
	}
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch c {
		case '\\':
			if i+1 < len(raw) && (raw[i+1] == '*' || raw[i+1] == '?' || raw[i+1] == '\\') {
				b.WriteByte(raw[i+1])
				i++
				continue
			}
			b.WriteByte('\\')
		case '*':
			flush()
			if len(p) == 0 || p[len(p)-1].kind != pStar {
				p = append(p, piece{kind: pStar})
			}
		case '?':
			flush()
			p = append(p, piece{kind: pOne})
		default:
			b.WriteByte(c)
		}
	}
	flush()
	return p
}

// wild reports whether the pattern has a wildcard.
func (p pattern) wild() bool {
	for _, x := range p {
		if x.kind != pLit {
			return true
		}
	}
	return false
}

// literal returns the text of a pattern without wildcards.
func (p pattern) literal() string {
	var b strings.Builder
	for _, x := range p {
		b.WriteString(x.text)
	}
	return b.String()
}

// starred puts a * at the start and/or the end, unless one is there.
func (p pattern) starred(front, back bool) pattern {
	out := make(pattern, 0, len(p)+2)
	if front && (len(p) == 0 || p[0].kind != pStar) {
		out = append(out, piece{kind: pStar})
	}
	out = append(out, p...)
	if back && (len(out) == 0 || out[len(out)-1].kind != pStar) {
		out = append(out, piece{kind: pStar})
	}
	return out
}

// longestLiteral returns the longest literal piece, "" when none.
func (p pattern) longestLiteral() string {
	best := ""
	for _, x := range p {
		if x.kind == pLit && len(x.text) > len(best) {
			best = x.text
		}
	}
	return best
}

// dashes are the characters windash makes interchangeable.
var dashes = []string{"-", "/", "\u2013", "\u2014", "\u2015"}

func isDash(r rune) bool {
	return r == '-' || r == '/' || r == '\u2013' || r == '\u2014' || r == '\u2015'
}

// maxDashes bounds the dash characters of a windash value: each multiplies
// its variants by five.
const maxDashes = 5

// windash returns every variant of raw with each dash character replaced by
// each of the five.
func windash(raw string) ([]string, error) {
	var parts []string // text between dashes
	last := 0
	for i, r := range raw {
		if isDash(r) {
			parts = append(parts, raw[last:i])
			last = i + utf8.RuneLen(r)
		}
	}
	parts = append(parts, raw[last:])
	n := len(parts) - 1
	if n > maxDashes {
		return nil, &Error{Feature: "windash", Msg: "value " + quote(raw) + " has more than " + itoa(maxDashes) + " dash characters"}
	}
	variants := 1
	for k := 0; k < n; k++ {
		variants *= len(dashes)
	}
	if variants*(len(raw)+2*n) > maxItemBytes {
		return nil, &Error{Feature: "windash", Msg: "value " + quote(raw) + " expands into more than " + itoa(maxItemBytes) + " bytes"}
	}
	out := []string{parts[0]}
	for k := 1; k <= n; k++ {
		next := make([]string, 0, len(out)*len(dashes))
		for _, o := range out {
			for _, d := range dashes {
				next = append(next, o+d+parts[k])
			}
		}
		out = next
	}
	return out, nil
}

// windashRun returns the longest piece of literal text of raw that has no
// dash character: text every windash variant of raw holds unchanged.
func windashRun(raw string) string {
	best := ""
	for _, x := range parsePattern(raw) {
		if x.kind != pLit {
			continue
		}
		for _, f := range strings.FieldsFunc(x.text, isDash) {
			if len(f) > len(best) {
				best = f
			}
		}
	}
	return best
}

// Bounds on what one item may compile into: how many values one value
// may expand into (placeholders times windash variants), how long a value
// may be, and how many bytes of patterns an item may hold in all.
const (
	maxExpansions = 4096
	maxValueLen   = 64 << 10
	maxItemBytes  = 1 << 20
)

// expandRaw replaces the %name% placeholders of raw by each of their
// values (Sigma strings, wildcards and all). \% is a plain percent sign.
func expandRaw(raw string, ph map[string][]string) ([]string, error) {
	type seg struct {
		text string
		name string
		ph   bool
	}
	var segs []seg
	var b strings.Builder
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch {
		case c == '\\' && i+1 < len(raw) && raw[i+1] == '%':
			b.WriteByte('%')
			i++
		case c == '\\' && i+1 < len(raw) && (raw[i+1] == '*' || raw[i+1] == '?' || raw[i+1] == '\\'):
			b.WriteString(raw[i : i+2])
			i++
		case c == '%':
			j := strings.IndexByte(raw[i+1:], '%')
			if j > 0 && validPlaceholder(raw[i+1:i+1+j]) {
				if b.Len() > 0 {
					segs = append(segs, seg{text: b.String()})
					b.Reset()
				}
				segs = append(segs, seg{name: raw[i+1 : i+1+j], ph: true})
				i += j + 1
				continue
			}
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	if b.Len() > 0 {
		segs = append(segs, seg{text: b.String()})
	}
	out := []string{""}
	for _, s := range segs {
		if !s.ph {
			for i := range out {
				out[i] += s.text
			}
			continue
		}
		vals, ok := ph[s.name]
		if !ok {
			return nil, &Error{Feature: "expand", Msg: "unknown placeholder %" + s.name + "%"}
		}
		if len(out)*len(vals) > maxExpansions {
			return nil, &Error{Feature: "expand", Msg: "value " + quote(raw) + " expands into more than " + itoa(maxExpansions) + " values"}
		}
		next := make([]string, 0, len(out)*len(vals))
		size := 0
		for _, o := range out {
			for _, v := range vals {
				if size += len(o) + len(v); size > maxItemBytes {
					return nil, &Error{Feature: "expand", Msg: "value " + quote(raw) + " expands into more than " + itoa(maxItemBytes) + " bytes"}
				}
				next = append(next, o+v)
			}
		}
		out = next
	}
	return out, nil
}

func validPlaceholder(name string) bool {
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-' || c == '.') {
			return false
		}
	}
	return name != ""
}

// utf16Kind is the UTF-16 encoding a value is transformed to.
type utf16Kind uint8

const (
	utf16None utf16Kind = iota
	utf16LE
	utf16BE
	utf16BOM // little endian with a byte order mark, as the specification's example
)

// encodeUTF16 encodes text as UTF-16.
func encodeUTF16(text string, k utf16Kind) string {
	units := utf16.Encode([]rune(text))
	b := make([]byte, 0, 2*len(units)+2)
	if k == utf16BOM {
		b = append(b, 0xff, 0xfe)
	}
	for _, u := range units {
		if k == utf16BE {
			b = append(b, byte(u>>8), byte(u))
		} else {
			b = append(b, byte(u), byte(u>>8))
		}
	}
	return string(b)
}

// utf16Pattern encodes the literal pieces of a pattern, keeping its
// wildcards; the byte order mark goes first.
func utf16Pattern(p pattern, k utf16Kind) pattern {
	out := make(pattern, 0, len(p)+1)
	if k == utf16BOM {
		out = append(out, piece{kind: pLit, text: "\xff\xfe"})
		k = utf16LE
	}
	for _, x := range p {
		if x.kind == pLit {
			x.text = encodeUTF16(x.text, k)
			if n := len(out); n > 0 && out[n-1].kind == pLit {
				out[n-1].text += x.text
				continue
			}
		}
		out = append(out, x)
	}
	return out
}

// base64Offsets returns the three encodings of text as it would appear in
// Base64 at each of the three possible byte offsets, trimmed to the
// characters that do not depend on the bytes around it. At offset k, k
// bytes precede text in its 3-byte group: the first 0, 2 or 3 characters
// also encode those bytes. At the end, a group holding one byte of text
// gives one clean character, a group holding two gives two.
func base64Offsets(text string) []string {
	out := make([]string, 0, 3)
	for k := 0; k < 3; k++ {
		enc := base64.StdEncoding.EncodeToString([]byte(strings.Repeat("\x00", k) + text))
		start := []int{0, 2, 3}[k]
		end := len(enc)
		switch (k + len(text)) % 3 {
		case 1:
			end -= 3 // "X==": X is clean, the next character is not
		case 2:
			end -= 2 // "XYZ=": XY clean
		}
		if end < start {
			end = start
		}
		out = append(out, enc[start:end])
	}
	return out
}
