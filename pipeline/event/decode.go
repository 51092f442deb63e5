package event

import (
	"errors"
	"fmt"
	"strconv"
	"sync"
	"unicode/utf16"
	"unicode/utf8"
)

// MaxDepth is how deeply objects and arrays may nest in an event.
const MaxDepth = 64

// ErrSyntax is wrapped by every decoding error, so a caller can tell a
// malformed document from other failures with errors.Is.
var ErrSyntax = errors.New("malformed event")

// SyntaxError says what is wrong with a document and where.
type SyntaxError struct {
	Offset int    // byte offset in the document
	Msg    string // what was wrong
}

func (e *SyntaxError) Error() string {
	return "malformed event at byte " + strconv.Itoa(e.Offset) + ": " + e.Msg
}

// Unwrap lets errors.Is(err, ErrSyntax) hold.
func (e *SyntaxError) Unwrap() error { return ErrSyntax }

// decoder holds the scratch state of one Decode call; pooled.
type decoder struct {
	data    []byte
	pos     int
	cur     []byte // the dotted path of the key being read
	ev      *Event
	owners  int32
	scratch []byte
}

var decoderPool = sync.Pool{New: func() any { return &decoder{cur: make([]byte, 0, 128)} }}

// Decode indexes a JSON object as an event. The event takes ownership of
// data: the caller must not modify it afterwards. A document that is not a
// single well-formed JSON object (RFC 8259, UTF-8), that nests deeper than
// MaxDepth or that names one field twice is rejected with a *SyntaxError.
func Decode(data []byte) (*Event, error) {
	e := &Event{}
	if err := e.decode(data); err != nil {
		return nil, err
	}
	return e, nil
}

func (e *Event) decode(data []byte) error {
	guess := len(data)/24 + 8
	e.raw = data
	e.fields = make([]fieldEntry, 0, guess)
	e.leaves = make([]leaf, 0, guess)
	e.table = make([]int32, tableSize(guess))
	e.paths = make([]byte, 0, len(data)/2+16)
	e.compact = true

	d := decoderPool.Get().(*decoder)
	d.data, d.pos, d.cur, d.ev, d.owners = data, 0, d.cur[:0], e, 0
	err := d.document()
	d.data, d.ev = nil, nil
	decoderPool.Put(d)
	return err
}

func tableSize(n int) int {
	s := 16
	for s < 2*n {
		s <<= 1
	}
	return s
}

func (d *decoder) fail(msg string) error {
	return &SyntaxError{Offset: d.pos, Msg: msg}
}

func (d *decoder) failf(format string, args ...any) error {
	return &SyntaxError{Offset: d.pos, Msg: fmt.Sprintf(format, args...)}
}

func (d *decoder) ws() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.ev.compact = false
			d.pos++
		default:
			return
		}
	}
}

func (d *decoder) document() error {
	d.ws()
	if d.pos >= len(d.data) {
		return d.fail("empty document")
	}
	if d.data[d.pos] != '{' {
		return d.fail("an event must be a JSON object")
	}
	if err := d.object(0, 0, fnvOffset); err != nil {
		return err
	}
	d.ws()
	if d.pos != len(d.data) {
		return d.fail("data after the end of the object")
	}
	return nil
}

// object reads an object whose path is d.cur (hash h). ctx is the owner id
// of the outermost array the object is inside, or 0.
func (d *decoder) object(ctx int32, depth int, h uint64) error {
	if depth >= MaxDepth {
		return d.fail("nested too deeply")
	}
	d.pos++ // '{'
	d.ws()
	if d.pos < len(d.data) && d.data[d.pos] == '}' {
		d.pos++
		return nil
	}
	base := len(d.cur)
	for {
		d.ws()
		if d.pos >= len(d.data) || d.data[d.pos] != '"' {
			return d.fail("expected a string key")
		}
		start, end, esc, err := d.str()
		if err != nil {
			return err
		}
		kh := h
		if base > 0 {
			d.cur = append(d.cur, '.')
			kh = (kh ^ '.') * fnvPrime
		}
		if esc {
			d.scratch = unescape(d.scratch[:0], d.data[start:end])
			d.cur = append(d.cur, d.scratch...)
			kh = hashBytes(kh, d.scratch)
		} else {
			d.cur = append(d.cur, d.data[start:end]...)
			kh = hashBytes(kh, d.data[start:end])
		}
		d.ws()
		if d.pos >= len(d.data) || d.data[d.pos] != ':' {
			return d.fail("expected ':' after a key")
		}
		d.pos++
		d.ws()
		owner := ctx
		if owner == 0 {
			d.owners++
			owner = d.owners
		}
		fi, err := d.register(kh, owner)
		if err != nil {
			return err
		}
		if err := d.value(fi, ctx, owner, depth+1, kh); err != nil {
			return err
		}
		d.cur = d.cur[:base]
		d.ws()
		if d.pos >= len(d.data) {
			return d.fail("unterminated object")
		}
		switch d.data[d.pos] {
		case ',':
			d.pos++
		case '}':
			d.pos++
			return nil
		default:
			return d.fail("expected ',' or '}' in an object")
		}
	}
}

// register finds or adds the field d.cur for a key occurrence. A second
// occurrence of a path from a different owner is a duplicate key.
func (d *decoder) register(h uint64, owner int32) (int32, error) {
	e := d.ev
	if fi := e.lookupBytes(h, d.cur); fi >= 0 {
		if e.fields[fi].owner != owner {
			return 0, d.failf("field %q appears twice", d.cur)
		}
		return fi, nil
	}
	off := int32(len(e.paths))
	e.paths = append(e.paths, d.cur...)
	return e.insert(fieldEntry{hash: h, poff: off, plen: int32(len(d.cur)), first: -1, last: -1, owner: owner}), nil
}

// value reads the value of field fi, held by the key occurrence owner. arr is
// the owner of the outermost array the value is inside, or 0.
func (d *decoder) value(fi, arr, owner int32, depth int, h uint64) error {
	if d.pos >= len(d.data) {
		return d.fail("expected a value")
	}
	e := d.ev
	switch c := d.data[d.pos]; c {
	case '{':
		if e.fields[fi].container == KindNone {
			e.fields[fi].container = KindObject
		}
		return d.object(arr, depth, h)
	case '[':
		if depth >= MaxDepth {
			return d.fail("nested too deeply")
		}
		e.fields[fi].container = KindArray
		d.pos++
		d.ws()
		if d.pos < len(d.data) && d.data[d.pos] == ']' {
			d.pos++
			return nil
		}
		inner := arr
		if inner == 0 {
			inner = owner
		}
		for {
			d.ws()
			if err := d.value(fi, inner, owner, depth+1, h); err != nil {
				return err
			}
			d.ws()
			if d.pos >= len(d.data) {
				return d.fail("unterminated array")
			}
			switch d.data[d.pos] {
			case ',':
				d.pos++
			case ']':
				d.pos++
				return nil
			default:
				return d.fail("expected ',' or ']' in an array")
			}
		}
	case '"':
		start, end, esc, err := d.str()
		if err != nil {
			return err
		}
		if esc {
			n := len(e.arena)
			e.arena = unescape(e.arena, d.data[start:end])
			e.addLeaf(fi, leaf{off: int32(n), n: int32(len(e.arena) - n), kind: KindString, src: srcArena})
		} else {
			e.addLeaf(fi, leaf{off: int32(start), n: int32(end - start), kind: KindString})
		}
		return nil
	case 't':
		return d.literal(fi, "true", KindBool)
	case 'f':
		return d.literal(fi, "false", KindBool)
	case 'n':
		return d.literal(fi, "null", KindNull)
	default:
		if c == '-' || (c >= '0' && c <= '9') {
			start := d.pos
			if err := d.number(); err != nil {
				return err
			}
			e.addLeaf(fi, leaf{off: int32(start), n: int32(d.pos - start), kind: KindNumber})
			return nil
		}
		return d.failf("unexpected character %q", c)
	}
}

func (d *decoder) literal(fi int32, word string, k Kind) error {
	if len(d.data)-d.pos < len(word) || string(d.data[d.pos:d.pos+len(word)]) != word {
		return d.fail("invalid literal")
	}
	l := leaf{off: int32(d.pos), n: int32(len(word)), kind: k}
	if k == KindNull {
		l.n = 0
	}
	d.pos += len(word)
	d.ev.addLeaf(fi, l)
	return nil
}

func (d *decoder) number() error {
	p := d.pos
	data := d.data
	if data[p] == '-' {
		p++
	}
	if p >= len(data) {
		d.pos = p
		return d.fail("invalid number")
	}
	switch {
	case data[p] == '0':
		p++
	case data[p] >= '1' && data[p] <= '9':
		for p < len(data) && data[p] >= '0' && data[p] <= '9' {
			p++
		}
	default:
		d.pos = p
		return d.fail("invalid number")
	}
	if p < len(data) && data[p] == '.' {
		p++
		q := p
		for p < len(data) && data[p] >= '0' && data[p] <= '9' {
			p++
		}
		if p == q {
			d.pos = p
			return d.fail("invalid number: no digits after '.'")
		}
	}
	if p < len(data) && (data[p] == 'e' || data[p] == 'E') {
		p++
		if p < len(data) && (data[p] == '+' || data[p] == '-') {
			p++
		}
		q := p
		for p < len(data) && data[p] >= '0' && data[p] <= '9' {
			p++
		}
		if p == q {
			d.pos = p
			return d.fail("invalid number: no digits in exponent")
		}
	}
	d.pos = p
	return nil
}

// str reads a string starting at the opening quote and returns the bounds of
// its raw contents and whether it holds escapes. It validates escapes, control
// characters and UTF-8.
func (d *decoder) str() (start, end int, esc bool, err error) {
	data := d.data
	p := d.pos + 1
	start = p
	utf := false
	for p < len(data) {
		c := data[p]
		switch {
		case c == '"':
			end = p
			d.pos = p + 1
			if utf && !utf8.Valid(data[start:end]) {
				d.pos = start
				return 0, 0, false, d.fail("string is not valid UTF-8")
			}
			return start, end, esc, nil
		case c == '\\':
			esc = true
			if p+1 >= len(data) {
				d.pos = p
				return 0, 0, false, d.fail("unterminated string")
			}
			switch data[p+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				p += 2
			case 'u':
				if p+6 > len(data) || !isHex4(data[p+2:p+6]) {
					d.pos = p
					return 0, 0, false, d.fail("invalid \\u escape")
				}
				p += 6
			default:
				d.pos = p
				return 0, 0, false, d.fail("invalid escape")
			}
		case c < 0x20:
			d.pos = p
			return 0, 0, false, d.fail("control character in string")
		default:
			if c >= 0x80 {
				utf = true
			}
			p++
		}
	}
	d.pos = p
	return 0, 0, false, d.fail("unterminated string")
}

func isHex4(b []byte) bool {
	for _, c := range b {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

func hex4(b []byte) rune {
	var r rune
	for _, c := range b {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		default:
			r |= rune(c - 'A' + 10)
		}
	}
	return r
}

// unescape appends the unescaped form of a validated string body to dst.
// Unpaired surrogates become U+FFFD, as in encoding/json.
func unescape(dst, s []byte) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c != '\\' {
			dst = append(dst, c)
			i++
			continue
		}
		switch s[i+1] {
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r := hex4(s[i+2 : i+6])
			i += 6
			if utf16.IsSurrogate(r) {
				if i+6 <= len(s) && s[i] == '\\' && s[i+1] == 'u' {
					if r2 := utf16.DecodeRune(r, hex4(s[i+2:i+6])); r2 != utf8.RuneError {
						i += 6
						dst = utf8.AppendRune(dst, r2)
						continue
					}
				}
				r = utf8.RuneError
			}
			dst = utf8.AppendRune(dst, r)
			continue
		default: // '"', '\\', '/'
			dst = append(dst, s[i+1])
		}
		i += 2
	}
	return dst
}
