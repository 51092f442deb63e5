package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/egovsoc/egovsoc/pipeline/event"
)

// MergeAlert folds emitted, an emission of an alert, into stored, the alert
// as the store holds it, the way Write does when an alert's id is already
// stored. A folding detector emits one alert id again and again as more
// events match; each emission carries what it has seen so far. Only what
// grows is merged:
//
//   - Count is the larger of the two;
//   - Time (@timestamp) and LastSeen are the later of the two;
//   - FirstSeen is the earlier of the two, a zero time not counting;
//   - EventIDs are the stored ids followed by the emitted ids not among
//     them, at most event.MaxAlertEvents (the earliest are kept).
//
// Everything else is stored's: the status and whatever else an analyst may
// have changed, and the rule, title, severity, group and matched fields of
// the first emission. Merging is idempotent and order-insensitive in what
// it keeps (an older emission replayed never lowers a count or moves a time
// back). changed reports whether the merged alert differs from stored; when
// it does not, a store writes nothing.
func MergeAlert(stored, emitted *event.Alert) (merged event.Alert, changed bool) {
	m := *stored
	if emitted.Count > m.Count {
		m.Count, changed = emitted.Count, true
	}
	if emitted.Time.After(m.Time) {
		m.Time, changed = emitted.Time, true
	}
	if emitted.LastSeen.After(m.LastSeen) {
		m.LastSeen, changed = emitted.LastSeen, true
	}
	if !emitted.FirstSeen.IsZero() && (m.FirstSeen.IsZero() || emitted.FirstSeen.Before(m.FirstSeen)) {
		m.FirstSeen, changed = emitted.FirstSeen, true
	}
	if ids, ok := mergeIDs(m.EventIDs, emitted.EventIDs); ok {
		m.EventIDs, changed = ids, true
	}
	return m, changed
}

// mergeIDs appends to stored (a copy of it) the ids of emitted it lacks, up
// to event.MaxAlertEvents, and reports whether it added any. Ids already
// stored are never dropped, even beyond the bound.
func mergeIDs(stored, emitted []string) ([]string, bool) {
	if len(emitted) == 0 || len(stored) >= event.MaxAlertEvents {
		return stored, false
	}
	seen := make(map[string]struct{}, len(stored)+len(emitted))
	for _, id := range stored {
		seen[id] = struct{}{}
	}
	var out []string
	for _, id := range emitted {
		if _, ok := seen[id]; ok {
			continue
		}
		if out == nil {
			out = make([]string, len(stored), min(len(stored)+len(emitted), event.MaxAlertEvents))
			copy(out, stored)
		}
		seen[id] = struct{}{}
		out = append(out, id)
		if len(out) == event.MaxAlertEvents {
			break
		}
	}
	if out == nil {
		return stored, false
	}
	return out, true
}

// MergeAlertDoc merges emitted into doc, a stored alert document (the ECS
// JSON of event.Alert), as MergeAlert does, and returns the document to
// store. Only the values of the merged fields are rewritten (@timestamp,
// event.start, event.end, egovsoc.alert.count, egovsoc.alert.event_ids);
// every other byte of the document is kept as stored, including fields this
// build does not know (a triage field added later). When nothing changes,
// doc itself is returned and changed is false.
//
// An alert stored for another organisation than emitted's is never merged:
// the error wraps ErrRejected, as does one for a stored document that is
// not an alert document, or that gives a key the merge reads twice.
func MergeAlertDoc(doc []byte, emitted *event.Alert) (out []byte, changed bool, err error) {
	reject := func(format string, args ...any) ([]byte, bool, error) {
		return nil, false, fmt.Errorf("merge alert %s: the stored document %s: %w", emitted.ID, fmt.Sprintf(format, args...), ErrRejected)
	}
	if !json.Valid(doc) {
		return reject("is not JSON")
	}
	// doc is valid JSON from here on, which the scanner relies on.
	root := span{skipSpace(doc, 0), len(bytes.TrimRight(doc, " \t\r\n"))}
	if doc[root.start] != '{' {
		return reject("is not a JSON object")
	}
	objects := map[string]span{}
	for _, o := range []struct{ name, key, in string }{
		{"organization", "organization", ""}, {"event", "event", ""}, {"egovsoc", "egovsoc", ""}, {"egovsoc.alert", "alert", "egovsoc"},
	} {
		in := root
		if o.in != "" {
			in = objects[o.in]
		}
		sp, n := member(doc, in, o.key)
		switch {
		case n > 1:
			return reject("has the key %s %d times", o.name, n)
		case n == 0 || doc[sp.start] != '{':
			return reject("has no object %s", o.name)
		}
		objects[o.name] = sp
	}
	var stored event.Alert
	fields := []struct {
		in, key string // the field: key in the object in ("" is the root)
		v       any    // where its stored value is read to
	}{
		{"organization", "id", &stored.Org},
		{"", "@timestamp", &stored.Time},
		{"event", "start", &stored.FirstSeen},
		{"event", "end", &stored.LastSeen},
		{"egovsoc.alert", "count", &stored.Count},
		{"egovsoc.alert", "event_ids", &stored.EventIDs},
	}
	for _, f := range fields {
		in := root
		if f.in != "" {
			in = objects[f.in]
		}
		switch sp, n := member(doc, in, f.key); {
		case n > 1:
			return reject("has the key %s %d times", f.key, n)
		case n == 1:
			if err := json.Unmarshal(doc[sp.start:sp.end], f.v); err != nil {
				return reject("has a bad %s: %v", f.key, err)
			}
		}
	}
	if stored.Org != emitted.Org {
		return nil, false, fmt.Errorf("merge alert %s: it is stored for organisation %q, not %q: %w", emitted.ID, stored.Org, emitted.Org, ErrRejected)
	}
	merged, changed := MergeAlert(&stored, emitted)
	if !changed {
		return doc, false, nil
	}
	var p patch
	for _, f := range fields {
		in := root
		if f.in != "" {
			in = objects[f.in]
		}
		var v any
		switch f.key {
		case "@timestamp":
			if !merged.Time.Equal(stored.Time) {
				v = merged.Time.UTC()
			}
		case "start":
			if !merged.FirstSeen.Equal(stored.FirstSeen) {
				v = merged.FirstSeen.UTC()
			}
		case "end":
			if !merged.LastSeen.Equal(stored.LastSeen) {
				v = merged.LastSeen.UTC()
			}
		case "count":
			if merged.Count != stored.Count {
				v = merged.Count
			}
		case "event_ids":
			if len(merged.EventIDs) != len(stored.EventIDs) {
				v = merged.EventIDs
			}
		}
		if v == nil {
			continue
		}
		b, err := json.Marshal(v)
		if err != nil {
			return nil, false, fmt.Errorf("merge alert %s: %s: %w", emitted.ID, f.key, err)
		}
		p.set(doc, in, f.key, b)
	}
	return p.apply(doc), true, nil
}

// A small scanner of JSON that is known to be valid: it finds where the
// value of an object's member lies, so that a value can be replaced without
// decoding and encoding the rest of the document.

// span is a JSON value in a document: doc[start:end].
type span struct{ start, end int }

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// stringEnd returns the index past the string that starts at b[i] ('"').
func stringEnd(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return i
}

// valueEnd returns the index past the value that starts at b[i].
func valueEnd(b []byte, i int) int {
	switch b[i] {
	case '"':
		return stringEnd(b, i)
	case '{', '[':
		depth := 0
		for ; i < len(b); i++ {
			switch b[i] {
			case '"':
				i = stringEnd(b, i) - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
		}
		return i
	}
	for i < len(b) {
		switch b[i] {
		case ',', '}', ']', ' ', '\t', '\r', '\n':
			return i
		}
		i++
	}
	return i
}

// member returns the value of key in the object o, and how often the key is
// there. Keys are matched as encoding/json matches them to the fields of
// event.Alert's wire shape, ignoring case; a key given twice (in any case)
// is read differently by different readers, so a caller refuses it.
func member(b []byte, o span, key string) (v span, n int) {
	i := skipSpace(b, o.start+1)
	for i < o.end && b[i] == '"' {
		ke := stringEnd(b, i)
		k := b[i+1 : ke-1]
		vs := skipSpace(b, skipSpace(b, ke)+1) // past the ':'
		ve := valueEnd(b, vs)
		if bytes.IndexByte(k, '\\') >= 0 {
			k = []byte(unquote(b[i:ke]))
		}
		if bytes.EqualFold(k, []byte(key)) {
			v, n = span{vs, ve}, n+1
		}
		if i = skipSpace(b, ve); i < o.end && b[i] == ',' {
			i = skipSpace(b, i+1)
		}
	}
	return v, n
}

func unquote(s []byte) string {
	var k string
	_ = json.Unmarshal(s, &k)
	return k
}

// patch is a set of edits to a document: values replaced, members added.
type patch struct {
	edits []edit
	added map[int]bool // objects (by start) given a member so far
}

type edit struct {
	start, end int // replaced; start == end inserts
	text       []byte
}

// set gives key the JSON value v in the object o: its value replaced, or a
// member added at the end of the object.
func (p *patch) set(doc []byte, o span, key string, v []byte) {
	if sp, n := member(doc, o, key); n > 0 {
		p.edits = append(p.edits, edit{sp.start, sp.end, v})
		return
	}
	var text []byte
	if p.added[o.start] || skipSpace(doc, o.start+1) < o.end-1 {
		text = append(text, ',')
	}
	k, _ := json.Marshal(key)
	text = append(append(append(text, k...), ':'), v...)
	p.edits = append(p.edits, edit{o.end - 1, o.end - 1, text})
	if p.added == nil {
		p.added = map[int]bool{}
	}
	p.added[o.start] = true
}

// apply returns a copy of doc with the edits made. Edits never overlap:
// each replaces a scalar or array value, or inserts before a '}'.
func (p *patch) apply(doc []byte) []byte {
	slices.SortStableFunc(p.edits, func(a, b edit) int { return a.start - b.start })
	n := len(doc)
	for _, e := range p.edits {
		n += len(e.text) - (e.end - e.start)
	}
	out := make([]byte, 0, n)
	at := 0
	for _, e := range p.edits {
		out = append(append(out, doc[at:e.start]...), e.text...)
		at = e.end
	}
	return append(out, doc[at:]...)
}
