package event

import (
	"bytes"
	"errors"
	"fmt"
	"iter"
	"strings"
	"time"
	"unsafe"
)

// Event is one decoded ECS document. Reads are safe from many goroutines at
// once; Set is not, and must not run concurrently with reads.
type Event struct {
	raw     []byte
	compact bool // raw has no whitespace outside strings
	fields  []fieldEntry
	leaves  []leaf
	table   []int32 // open addressing: index+1 into fields, 0 empty
	paths   []byte  // arena for the dotted paths of fields
	arena   []byte  // arena for unescaped strings
	sets    []setEntry
	summary [2]uint64 // a bit per field, by hash: see MayHave
}

// fieldEntry and leaf hold no pointers, so the garbage collector never
// scans them: strings are offsets into raw, arena or paths.
type fieldEntry struct {
	hash      uint64
	poff      int32 // the dotted path is paths[poff:poff+plen]
	plen      int32
	first     int32 // first leaf, -1 when none
	last      int32
	n         int32
	owner     int32 // which key occurrence (or outermost array) holds the field
	container Kind  // KindObject or KindArray when the field holds one
}

type leaf struct {
	off  int32 // the text is raw[off:off+n] (srcRaw), arena[off:off+n] (srcArena), or sets[off].v (srcSet)
	n    int32
	next int32
	kind Kind
	src  uint8
}

const (
	srcRaw uint8 = iota
	srcArena
	srcSet
)

func (e *Event) value(li int32) Value {
	l := &e.leaves[li]
	var s string
	switch l.src {
	case srcRaw:
		if l.n > 0 {
			s = unsafe.String(&e.raw[l.off], int(l.n))
		}
	case srcArena:
		if l.n > 0 {
			s = unsafe.String(&e.arena[l.off], int(l.n))
		}
	case srcSet:
		return e.sets[l.off].v
	}
	return Value{kind: l.kind, s: s}
}

func (e *Event) path(fe *fieldEntry) string {
	if fe.plen == 0 {
		return ""
	}
	return unsafe.String(&e.paths[fe.poff], int(fe.plen))
}

type setEntry struct {
	f Field
	v Value
}

func (e *Event) lookupBytes(h uint64, path []byte) int32 {
	mask := uint64(len(e.table) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		idx := e.table[i]
		if idx == 0 {
			return -1
		}
		if fe := &e.fields[idx-1]; fe.hash == h && string(e.paths[fe.poff:fe.poff+fe.plen]) == string(path) {
			return idx - 1
		}
	}
}

func (e *Event) lookup(f Field) int32 {
	if len(e.table) == 0 {
		return -1
	}
	mask := uint64(len(e.table) - 1)
	for i := f.hash & mask; ; i = (i + 1) & mask {
		idx := e.table[i]
		if idx == 0 {
			return -1
		}
		if fe := &e.fields[idx-1]; fe.hash == f.hash && string(e.paths[fe.poff:fe.poff+fe.plen]) == f.path {
			return idx - 1
		}
	}
}

func (e *Event) insert(fe fieldEntry) int32 {
	b := fe.hash >> 57
	e.summary[b>>6] |= 1 << (b & 63)
	if 2*(len(e.fields)+1) > len(e.table) {
		e.grow()
	}
	e.fields = append(e.fields, fe)
	idx := int32(len(e.fields))
	mask := uint64(len(e.table) - 1)
	i := fe.hash & mask
	for e.table[i] != 0 {
		i = (i + 1) & mask
	}
	e.table[i] = idx
	return idx - 1
}

func (e *Event) grow() {
	n := len(e.table) * 2
	if n < 16 {
		n = 16
	}
	e.table = make([]int32, n)
	mask := uint64(n - 1)
	for j := range e.fields {
		i := e.fields[j].hash & mask
		for e.table[i] != 0 {
			i = (i + 1) & mask
		}
		e.table[i] = int32(j + 1)
	}
}

func (e *Event) addLeaf(fi int32, l leaf) {
	li := int32(len(e.leaves))
	l.next = -1
	e.leaves = append(e.leaves, l)
	fe := &e.fields[fi]
	if fe.first < 0 {
		fe.first = li
	} else {
		e.leaves[fe.last].next = li
	}
	fe.last = li
	fe.n++
}

// Get returns the first value of a field; the zero Value when it is absent.
// A field that holds an object, or an empty array, returns a Value of
// KindObject or KindArray with no text.
func (e *Event) Get(f Field) Value {
	fi := e.lookup(f)
	if fi < 0 {
		return Value{}
	}
	fe := &e.fields[fi]
	if fe.first >= 0 {
		return e.value(fe.first)
	}
	return Value{kind: fe.container}
}

// Text returns the first value of a field as text ("" when absent).
func (e *Event) Text(f Field) string { return e.Get(f).s }

// newField adds a field entry for path, copying the path into the arena.
func (e *Event) newField(h uint64, path string, owner int32, container Kind) int32 {
	off := int32(len(e.paths))
	e.paths = append(e.paths, path...)
	return e.insert(fieldEntry{hash: h, poff: off, plen: int32(len(path)), first: -1, last: -1, owner: owner, container: container})
}

// MayHave reports whether the field may be present. False means it is
// absent, known from a 128-bit summary of the event's fields without a
// probe of its table: a detector that asks after many fields an event
// mostly lacks skips most probes.
func (e *Event) MayHave(f Field) bool {
	b := f.hash >> 57
	return e.summary[b>>6]&(1<<(b&63)) != 0
}

// Has reports whether the field is present.
func (e *Event) Has(f Field) bool { return e.lookup(f) >= 0 }

// Count returns how many scalar or null values a field has.
func (e *Event) Count(f Field) int {
	fi := e.lookup(f)
	if fi < 0 {
		return 0
	}
	return int(e.fields[fi].n)
}

// Values yields every scalar or null value of a field, in document order.
func (e *Event) Values(f Field) iter.Seq[Value] {
	return func(yield func(Value) bool) {
		fi := e.lookup(f)
		if fi < 0 {
			return
		}
		for li := e.fields[fi].first; li >= 0; li = e.leaves[li].next {
			if !yield(e.value(li)) {
				return
			}
		}
	}
}

// Any reports whether some value of the field satisfies match.
func (e *Event) Any(f Field, match func(Value) bool) bool {
	fi := e.lookup(f)
	if fi < 0 {
		return false
	}
	for li := e.fields[fi].first; li >= 0; li = e.leaves[li].next {
		if match(e.value(li)) {
			return true
		}
	}
	return false
}

// Fields yields every field that holds values, with its values, in the order
// the fields first appear in the document.
func (e *Event) Fields() iter.Seq2[string, []Value] {
	return func(yield func(string, []Value) bool) {
		var vs []Value
		for i := range e.fields {
			fe := &e.fields[i]
			if fe.first < 0 {
				continue
			}
			vs = vs[:0]
			for li := fe.first; li >= 0; li = e.leaves[li].next {
				vs = append(vs, e.value(li))
			}
			if !yield(e.path(fe), vs) {
				return
			}
		}
	}
}

// Scalars yields every scalar value (string, number, bool) of every field,
// the fields in the order they first appear: what a field-less search looks
// through. Unlike Fields it builds no paths and allocates nothing.
func (e *Event) Scalars() iter.Seq[Value] {
	return func(yield func(Value) bool) {
		for i := range e.fields {
			for li := e.fields[i].first; li >= 0; li = e.leaves[li].next {
				if v := e.value(li); v.IsScalar() && !yield(v) {
					return
				}
			}
		}
	}
}

// Raw returns the document as it was decoded, without later Sets.
func (e *Event) Raw() []byte { return e.raw }

// Time returns @timestamp. ECS writes it as RFC 3339 (with or without
// fractional seconds) or as milliseconds since the epoch.
func (e *Event) Time() (time.Time, error) {
	return parseTime(e.Get(FieldTimestamp))
}

func parseTime(v Value) (time.Time, error) {
	switch v.kind {
	case KindString:
		t, err := time.Parse(time.RFC3339Nano, v.s)
		if err != nil {
			return time.Time{}, fmt.Errorf("@timestamp %q is not an RFC 3339 time", v.s)
		}
		return t, nil
	case KindNumber:
		ms, ok := v.Int()
		if !ok {
			return time.Time{}, fmt.Errorf("@timestamp %s is not epoch milliseconds", v.s)
		}
		return time.UnixMilli(ms).UTC(), nil
	case KindNone:
		return time.Time{}, errors.New("@timestamp is missing")
	default:
		return time.Time{}, fmt.Errorf("@timestamp is a %s", v.kind)
	}
}

// ErrNotSettable is returned by Set for a path that runs through an array or
// a scalar, or that names an object.
var ErrNotSettable = errors.New("field cannot be set")

// Set gives a field a single value, replacing any it had. Reads see the new
// value at once and AppendJSON writes it. It is how the pipeline stamps what
// it knows better than the sender (organization.id from the topic,
// event.ingested). A field inside an array, or one that holds an object, can
// not be set.
func (e *Event) Set(f Field, v Value) error {
	if f.path == "" || !v.Exists() || v.kind == KindObject || v.kind == KindArray {
		return fmt.Errorf("set %q: %w", f.path, ErrNotSettable)
	}
	// Every proper prefix must be an object or absent.
	for i := 0; i < len(f.path); i++ {
		if f.path[i] != '.' {
			continue
		}
		p := Path(f.path[:i])
		fi := e.lookup(p)
		if fi < 0 {
			e.newField(p.hash, p.path, -1, KindObject)
			continue
		}
		if fe := &e.fields[fi]; fe.container != KindObject || fe.first >= 0 {
			return fmt.Errorf("set %q: %q is not an object: %w", f.path, p.path, ErrNotSettable)
		}
	}
	fi := e.lookup(f)
	if fi >= 0 && e.fields[fi].container != KindNone {
		return fmt.Errorf("set %q: it holds a %s: %w", f.path, e.fields[fi].container, ErrNotSettable)
	}
	if fi < 0 {
		fi = e.newField(f.hash, f.path, -1, KindNone)
	}
	si := -1
	for i := range e.sets {
		if e.sets[i].f.path == f.path {
			e.sets[i].v = v
			si = i
		}
	}
	if si < 0 {
		si = len(e.sets)
		e.sets = append(e.sets, setEntry{f: f, v: v})
	}
	fe := &e.fields[fi]
	fe.first, fe.last, fe.n = -1, -1, 0
	e.addLeaf(fi, leaf{off: int32(si), kind: v.kind, src: srcSet})
	return nil
}

// AppendJSON appends the event as compact JSON (no newline in it, so it fits
// NDJSON), with every Set applied.
func (e *Event) AppendJSON(dst []byte) []byte {
	if len(e.sets) == 0 && e.compact {
		return append(dst, e.raw...)
	}
	p := 0
	for p < len(e.raw) && isSpace(e.raw[p]) {
		p++
	}
	var used [8]bool
	var path [128]byte
	w := writer{raw: e.raw, sets: e.sets, used: used[:0], dst: dst, path: path[:0]}
	if len(e.sets) <= len(used) {
		w.used = used[:len(e.sets)]
	} else {
		w.used = make([]bool, len(e.sets))
	}
	w.object(p)
	return w.dst
}

// MarshalJSON implements json.Marshaler.
func (e *Event) MarshalJSON() ([]byte, error) { return e.AppendJSON(nil), nil }

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// writer re-emits a validated document compactly, applying sets.
type writer struct {
	raw  []byte
	sets []setEntry
	used []bool
	dst  []byte
	path []byte
}

func (w *writer) skipSpace(p int) int {
	for p < len(w.raw) && isSpace(w.raw[p]) {
		p++
	}
	return p
}

// strEnd returns the index just past the closing quote of the string at p.
func (w *writer) strEnd(p int) int {
	p++
	for w.raw[p] != '"' {
		if w.raw[p] == '\\' {
			p++
		}
		p++
	}
	return p + 1
}

// copyValue copies the value at p compactly and returns the index past it.
func (w *writer) copyValue(p int) int {
	switch w.raw[p] {
	case '"':
		end := w.strEnd(p)
		w.dst = append(w.dst, w.raw[p:end]...)
		return end
	case '{', '[':
		depth := 0
		for {
			c := w.raw[p]
			switch {
			case c == '"':
				end := w.strEnd(p)
				w.dst = append(w.dst, w.raw[p:end]...)
				p = end
				continue
			case isSpace(c):
				p++
				continue
			case c == '{' || c == '[':
				depth++
			case c == '}' || c == ']':
				depth--
			}
			w.dst = append(w.dst, c)
			p++
			if depth == 0 {
				return p
			}
		}
	default: // a number or a literal
		start := p
		for p < len(w.raw) && isScalarByte(w.raw[p]) {
			p++
		}
		w.dst = append(w.dst, w.raw[start:p]...)
		return p
	}
}

func isScalarByte(c byte) bool {
	return c != ',' && c != '}' && c != ']' && !isSpace(c)
}

// object writes the object at p; w.path holds its dotted path. It returns
// the index past the object.
func (w *writer) object(p int) int {
	w.dst = append(w.dst, '{')
	p++ // '{'
	n := 0
	base := len(w.path)
	for {
		p = w.skipSpace(p)
		if w.raw[p] == '}' {
			p++
			break
		}
		if w.raw[p] == ',' {
			p++
			continue
		}
		kend := w.strEnd(p)
		keyRaw := w.raw[p:kend]
		if base > 0 {
			w.path = append(w.path, '.')
		}
		if body := keyRaw[1 : len(keyRaw)-1]; bytes.IndexByte(body, '\\') >= 0 {
			w.path = unescape(w.path, body)
		} else {
			w.path = append(w.path, body...)
		}
		p = w.skipSpace(kend)
		p = w.skipSpace(p + 1) // ':'
		if n > 0 {
			w.dst = append(w.dst, ',')
		}
		n++
		w.dst = append(w.dst, keyRaw...)
		w.dst = append(w.dst, ':')
		switch i := w.exact(w.path); {
		case i >= 0:
			w.used[i] = true
			w.dst = w.sets[i].v.appendJSON(w.dst)
			mark := len(w.dst)
			p = w.copyValue(p)
			w.dst = w.dst[:mark]
		case w.raw[p] == '{' && w.under(w.path):
			p = w.object(p)
		default:
			p = w.copyValue(p)
		}
		w.path = w.path[:base]
	}
	if w.under(w.path) || (base == 0 && w.unused()) {
		w.appendMissing(string(w.path), n)
	}
	w.dst = append(w.dst, '}')
	return p
}

func (w *writer) exact(path []byte) int {
	for i := range w.sets {
		if !w.used[i] && w.sets[i].f.path == string(path) {
			return i
		}
	}
	return -1
}

// under reports whether an unused set lies strictly below prefix.
func (w *writer) under(prefix []byte) bool {
	for i := range w.sets {
		sp := w.sets[i].f.path
		if !w.used[i] && len(sp) > len(prefix) && sp[len(prefix)] == '.' && sp[:len(prefix)] == string(prefix) {
			return true
		}
	}
	return false
}

func (w *writer) unused() bool {
	for _, u := range w.used {
		if !u {
			return true
		}
	}
	return false
}

// appendMissing writes the sets below prefix that the document did not hold,
// nesting them as objects. n is how many members were written already.
func (w *writer) appendMissing(prefix string, n int) {
	for i := range w.sets {
		if w.used[i] {
			continue
		}
		rest, ok := strings.CutPrefix(w.sets[i].f.path, prefix)
		if prefix != "" {
			if !ok || !strings.HasPrefix(rest, ".") {
				continue
			}
			rest = rest[1:]
		}
		if n > 0 {
			w.dst = append(w.dst, ',')
		}
		n++
		seg, _, nested := strings.Cut(rest, ".")
		w.dst = AppendString(w.dst, seg)
		w.dst = append(w.dst, ':')
		if !nested {
			w.used[i] = true
			w.dst = w.sets[i].v.appendJSON(w.dst)
			continue
		}
		w.dst = append(w.dst, '{')
		if prefix == "" {
			w.appendMissing(seg, 0)
		} else {
			w.appendMissing(prefix+"."+seg, 0)
		}
		w.dst = append(w.dst, '}')
	}
}
