package mapping

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/egovsoc/egovsoc/pipeline/event"
)

// logSourceYAML reads {product: …, category: …, service: …}, keys in any case.
type logSourceYAML map[string]string

func (l logSourceYAML) logSource(tb testing.TB) LogSource {
	tb.Helper()
	var ls LogSource
	for k, v := range l {
		switch strings.ToLower(k) {
		case "product":
			ls.Product = v
		case "category":
			ls.Category = v
		case "service":
			ls.Service = v
		default:
			tb.Fatalf("logsource key %q", k)
		}
	}
	return ls
}

func decodeStrict(tb testing.TB, name string, data []byte, v any) {
	tb.Helper()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		tb.Fatalf("%s: %v", name, err)
	}
}

func decodeEvent(tb testing.TB, name, doc string) *event.Event {
	tb.Helper()
	e, err := event.Decode([]byte(doc))
	if err != nil {
		tb.Fatalf("%s: event: %v", name, err)
	}
	return e
}

// TestRouteCases runs testdata/route/*.yaml: an event, the log sources it
// must be routed to and those it must not.
func TestRouteCases(t *testing.T) {
	files, err := filepath.Glob("testdata/route/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no route cases: %v", err)
	}
	m := Default()
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".yaml"), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var c struct {
				Event  string          `yaml:"event"`
				Routes []logSourceYAML `yaml:"routes"`
				Not    []logSourceYAML `yaml:"not"`
			}
			decodeStrict(t, file, data, &c)
			e := decodeEvent(t, file, c.Event)
			check := func(l logSourceYAML, want bool) {
				ls := l.logSource(t)
				r, err := m.Route(ls)
				if err != nil {
					t.Errorf("Route(%s): %v", ls, err)
					return
				}
				if got := r.Match(e); got != want {
					t.Errorf("Route(%s) = %s: Match = %v, want %v", ls, r.Key(), got, want)
				}
			}
			for _, l := range c.Routes {
				check(l, true)
			}
			for _, l := range c.Not {
				check(l, false)
			}
		})
	}
}

// TestFieldCases runs testdata/fields.yaml.
func TestFieldCases(t *testing.T) {
	data, err := os.ReadFile("testdata/fields.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var cases []struct {
		LogSource logSourceYAML `yaml:"logsource"`
		Field     string        `yaml:"field"`
		Want      []string      `yaml:"want"`
		Value     string        `yaml:"value"`
		Match     []string      `yaml:"match"`
		NoMatch   []string      `yaml:"nomatch"`
	}
	decodeStrict(t, "fields.yaml", data, &cases)
	m := Default()
	for _, c := range cases {
		ls := c.LogSource.logSource(t)
		t.Run(ls.String()+"/"+c.Field, func(t *testing.T) {
			got := m.Fields(ls, c.Field)
			if c.Want != nil && !slices.Equal(got, c.Want) {
				t.Errorf("Fields(%s, %q) = %q, want %q", ls, c.Field, got, c.Want)
			}
			if len(c.Match)+len(c.NoMatch) > 0 && c.Value == "" {
				t.Fatal("case has events but no value")
			}
			ts := m.Targets(ls, c.Field)
			for _, doc := range c.Match {
				if !equalsAny(decodeEvent(t, c.Field, doc), ts, c.Value) {
					t.Errorf("%s %q = %q does not match %s (targets %v)", ls, c.Field, c.Value, doc, ts)
				}
			}
			for _, doc := range c.NoMatch {
				if equalsAny(decodeEvent(t, c.Field, doc), ts, c.Value) {
					t.Errorf("%s %q = %q matches %s (targets %v)", ls, c.Field, c.Value, doc, ts)
				}
			}
		})
	}
}

// equalsAny is the reference meaning of a plain Sigma value (no modifier)
// over a field's targets: some target holds it, case-insensitively, after
// the target's translation.
func equalsAny(e *event.Event, ts []Target, value string) bool {
	for _, t := range ts {
		want := []string{value}
		switch {
		case t.Values != nil:
			want = t.Values[strings.ToLower(value)]
		case t.Prefix != "":
			if len(value) < len(t.Prefix) || !strings.EqualFold(value[:len(t.Prefix)], t.Prefix) {
				continue
			}
			want = []string{value[len(t.Prefix):]}
		}
		for v := range e.Values(event.Path(t.Field)) {
			for _, w := range want {
				if v.IsScalar() && strings.EqualFold(v.Text(), w) {
					return true
				}
			}
		}
	}
	return false
}
