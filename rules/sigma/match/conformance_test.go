package match

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/egovsoc/egovsoc/pipeline/event"
)

// The conformance cases are data: testdata/conformance/*.json, each a list
// of cases. A case is one detection item and events it must and must not
// match, or the error Feature it must be refused with:
//
//	{
//	  "name": "contains ignores case",
//	  "fields": ["process.command_line"],   // default ["f"]; "keyword": true for none
//	  "modifiers": ["contains"],
//	  "values": ["whoami", 4624, true, null, {"kind": "number", "raw": "0x1F"}],
//	  "placeholders": {"admins": ["root", "adm*"]},
//	  "refs": {"ParentImage": ["process.parent.executable"]},
//	  "match": [{"process": {"command_line": "WHOAMI /all"}}],
//	  "nomatch": [{}],
//	  "needles": ["whoami"],                // expected Needles (null: ok false)
//	  "error": "modifier"                   // expected *Error Feature instead
//	}
//
// JSON strings hold the Sigma value as YAML would give it (Raw), so a
// backslash is written "\\".

type conformanceCase struct {
	Name         string              `json:"name"`
	Fields       []string            `json:"fields"`
	Keyword      bool                `json:"keyword"`
	Modifiers    []string            `json:"modifiers"`
	Values       []json.RawMessage   `json:"values"`
	Placeholders map[string][]string `json:"placeholders"`
	Refs         map[string][]string `json:"refs"`
	Match        []json.RawMessage   `json:"match"`
	NoMatch      []json.RawMessage   `json:"nomatch"`
	Needles      json.RawMessage     `json:"needles"`
	Error        string              `json:"error"`
}

func decodeValue(raw json.RawMessage) (Value, error) {
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var x any
	if err := d.Decode(&x); err != nil {
		return Value{}, err
	}
	switch v := x.(type) {
	case nil:
		return Value{Kind: Null}, nil
	case string:
		return Value{Kind: String, Raw: v}, nil
	case bool:
		return Value{Kind: Bool, Raw: fmt.Sprint(v)}, nil
	case json.Number:
		return Value{Kind: Number, Raw: v.String()}, nil
	case map[string]any:
		kinds := map[string]Kind{"string": String, "number": Number, "bool": Bool, "null": Null}
		k, ok := kinds[fmt.Sprint(v["kind"])]
		if !ok {
			return Value{}, fmt.Errorf("unknown kind %v", v["kind"])
		}
		return Value{Kind: k, Raw: fmt.Sprint(v["raw"])}, nil
	}
	return Value{}, fmt.Errorf("unsupported value %s", raw)
}

func (c *conformanceCase) spec() (Spec, error) {
	s := Spec{Fields: c.Fields, Modifiers: c.Modifiers, Placeholders: c.Placeholders}
	if c.Keyword {
		s.Fields = nil
	} else if len(s.Fields) == 0 {
		s.Fields = []string{"f"}
	}
	if c.Refs != nil {
		refs := c.Refs
		s.RefFields = func(name string) []string {
			if p, ok := refs[name]; ok {
				return p
			}
			return []string{name}
		}
	}
	for _, r := range c.Values {
		v, err := decodeValue(r)
		if err != nil {
			return s, err
		}
		s.Values = append(s.Values, v)
	}
	return s, nil
}

func loadConformance(t testing.TB) map[string][]conformanceCase {
	files, err := filepath.Glob("testdata/conformance/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no conformance files: %v", err)
	}
	out := map[string][]conformanceCase{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var cases []conformanceCase
		d := json.NewDecoder(bytes.NewReader(b))
		d.DisallowUnknownFields()
		if err := d.Decode(&cases); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out[strings.TrimSuffix(filepath.Base(f), ".json")] = cases
	}
	return out
}

func mustEvent(t testing.TB, raw []byte) *event.Event {
	t.Helper()
	e, err := event.Decode(slices.Clone(raw))
	if err != nil {
		t.Fatalf("event %s: %v", raw, err)
	}
	return e
}

func TestConformance(t *testing.T) {
	for file, cases := range loadConformance(t) {
		for i, c := range cases {
			name := fmt.Sprintf("%s/%d_%s", file, i, c.Name)
			t.Run(name, func(t *testing.T) {
				s, err := c.spec()
				if err != nil {
					t.Fatal(err)
				}
				m, err := Compile(s)
				if c.Error != "" {
					var me *Error
					if !errors.As(err, &me) {
						t.Fatalf("Compile(%+v) = %v, want an *Error of feature %q", s, err, c.Error)
					}
					if me.Feature != c.Error {
						t.Fatalf("error feature %q (%v), want %q", me.Feature, err, c.Error)
					}
					return
				}
				if err != nil {
					t.Fatalf("Compile(%+v): %v", s, err)
				}
				if len(c.Match)+len(c.NoMatch) == 0 && c.Needles == nil {
					t.Fatal("a case needs events or needles")
				}
				for _, raw := range c.Match {
					if !m.Match(mustEvent(t, raw)) {
						t.Errorf("does not match %s", raw)
					}
				}
				for _, raw := range c.NoMatch {
					if m.Match(mustEvent(t, raw)) {
						t.Errorf("matches %s", raw)
					}
				}
				nd, ok := Needles(m)
				if c.Needles != nil {
					var want []string
					if err := json.Unmarshal(c.Needles, &want); err != nil {
						t.Fatal(err)
					}
					if want == nil && ok {
						t.Errorf("Needles = %q, want none", nd)
					} else if want != nil && (!ok || !slices.Equal(nd, want)) {
						t.Errorf("Needles = %q %v, want %q", nd, ok, want)
					}
				}
				// Whatever the case says of needles, they must hold for every
				// event it matches.
				if ok {
					for _, raw := range c.Match {
						if !needleOccurs(mustEvent(t, raw), s.Fields, nd) {
							t.Errorf("matches %s but holds none of the needles %q", raw, nd)
						}
					}
				}
			})
		}
	}
}

// needleOccurs is the index's view: does a needle occur, ignoring case, in
// a scalar value of one of the fields.
func needleOccurs(e *event.Event, fields []string, needles []string) bool {
	ac := NewAutomaton(needles)
	for _, f := range fields {
		if e.Any(event.Path(f), func(v event.Value) bool { return v.IsScalar() && ac.Contains(v.Text()) }) {
			return true
		}
	}
	return false
}
