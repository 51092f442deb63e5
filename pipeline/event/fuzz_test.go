package event

import (
	"encoding/json"
	"errors"
	"testing"
)

// FuzzDecode checks that no input makes Decode panic, that it accepts only
// valid JSON (RFC 8259), and that what it accepts survives
// a Set and a re-encode as valid JSON with the same fields.
func FuzzDecode(f *testing.F) {
	for _, d := range sampleEvents(f) {
		f.Add(d)
	}
	for _, s := range []string{`{}`, `{"a":[{"b":[1,{"c":null}]}],"d.e":"\u00e9"}`, `{"a":"\ud800"}`, `{"a":1e999}`, `{"a":{"b":{}}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := Decode(append([]byte(nil), data...))
		if err != nil {
			if !errors.Is(err, ErrSyntax) {
				t.Fatalf("error %v is not ErrSyntax", err)
			}
			return
		}
		if !json.Valid(data) {
			t.Fatalf("Decode accepted invalid JSON: %q", data)
		}
		_ = e.Validate()
		for p, vs := range e.Fields() {
			if len(vs) == 0 || e.Count(Path(p)) != len(vs) {
				t.Fatalf("field %q: %d values, Count %d", p, len(vs), e.Count(Path(p)))
			}
		}
		_ = e.Set(Path("organization.id"), String("x"))
		out := e.AppendJSON(nil)
		if !json.Valid(out) {
			t.Fatalf("AppendJSON wrote invalid JSON %q from %q", out, data)
		}
		e2, err := Decode(out)
		if err != nil {
			t.Fatalf("re-encoded event does not decode: %v\n%q", err, out)
		}
		for p, vs := range e.Fields() {
			if got := e2.Count(Path(p)); got != len(vs) {
				t.Fatalf("field %q: %d values before, %d after re-encoding %q", p, len(vs), got, out)
			}
		}
	})
}
