package sigma

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/egovsoc/egovsoc/pipeline/event"
	"github.com/egovsoc/egovsoc/rules/sigma/mapping"
)

// Rule tests, in the spirit of `promtool test rules`: beside a rule file
// x.yml lives x.test.yaml with events that must raise an alert, events that
// must not, and sequences with the alerts they must raise:
//
//	match:     # each event on its own raises an alert of a detection rule of x.yml
//	  - {event: {category: [web]}, url: {original: "/?id=1 UNION SELECT …"}}
//	no_match:  # each event on its own raises no alert of x.yml
//	  - {…}
//	cases:     # events in order; expect: alerts per rule (id or title) over the case;
//	  - name: twelve failures then a success    # a rule of x.yml not listed must raise none
//	    events: [{…}, …]
//	    expect: {<rule id>: 1}
//
// Events are ECS documents as YAML maps. An event without @timestamp is
// stamped 2026-11-22T08:00:00Z plus its position in seconds. Cases run with
// suppression off, so an expected count is a count of matches (or of
// correlation windows), and at the end of a case every correlation window
// is closed.

// TestFileSuffix names the test file of a rule file.
const TestFileSuffix = ".test.yaml"

// TestFailure is one expectation that did not hold.
type TestFailure struct {
	File string // the test file
	Case string // "match[2]", "no_match[0]", or the case's name
	Diff string // what was expected and what happened
}

func (f TestFailure) String() string { return fmt.Sprintf("%s: %s:\n%s", f.File, f.Case, f.Diff) }

// TestReport is the outcome of running the tests of a tree of rules.
type TestReport struct {
	Files    int      // rule files with a test file
	Cases    int      // expectations checked
	Untested []string // rule files without a test file
	Failures []TestFailure
}

type testFile struct {
	Match   []map[string]any `yaml:"match"`
	NoMatch []map[string]any `yaml:"no_match"`
	Cases   []struct {
		Name   string           `yaml:"name"`
		Events []map[string]any `yaml:"events"`
		Expect map[string]int   `yaml:"expect"`
	} `yaml:"cases"`
}

var testEpoch = time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)

// RunTests runs the test file beside every rule file under root in fsys.
func RunTests(fsys fs.FS, root string, m *mapping.Mapping, placeholders map[string][]string) (*TestReport, error) {
	rep := &TestReport{}
	err := fs.WalkDir(fsys, root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !isRuleFile(p) {
			return nil
		}
		tp := strings.TrimSuffix(strings.TrimSuffix(p, ".yml"), ".yaml") + TestFileSuffix
		tb, err := fs.ReadFile(fsys, tp)
		if errors.Is(err, fs.ErrNotExist) {
			rep.Untested = append(rep.Untested, p)
			return nil
		}
		if err != nil {
			return err
		}
		rb, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		rep.Files++
		runTestFile(rep, p, rb, tp, tb, m, placeholders)
		return nil
	})
	return rep, err
}

func runTestFile(rep *TestReport, rulePath string, rb []byte, testPath string, tb []byte, m *mapping.Mapping, placeholders map[string][]string) {
	fail := func(c, format string, args ...any) {
		rep.Failures = append(rep.Failures, TestFailure{File: testPath, Case: c, Diff: fmt.Sprintf(format, args...)})
	}
	var tf testFile
	dec := yaml.NewDecoder(strings.NewReader(string(tb)))
	dec.KnownFields(true)
	if err := dec.Decode(&tf); err != nil {
		fail("file", "  cannot read: %v", err)
		return
	}
	l := NewLoader(LoadOptions{Mapping: m, Placeholders: placeholders})
	l.AddFile(rulePath, rb)
	rs, lr := l.Build()
	if len(lr.Rejected) > 0 {
		for _, r := range lr.Rejected {
			fail("load", "  %s", r)
		}
		return
	}
	names := map[string]string{} // id → title, to print
	var detection []string
	for _, r := range rs.Rules() {
		names[r.ID] = r.Title
		if !r.Correlation {
			detection = append(detection, r.ID)
		}
	}
	resolve := func(k string) string {
		for _, r := range rs.Rules() {
			if r.ID == k || r.Title == k || (r.Name != "" && r.Name == k) {
				return r.ID
			}
		}
		return k
	}
	run := func(c string, docs []map[string]any) (map[string]int, bool) {
		evs := make([]*event.Event, 0, len(docs))
		for i, d := range docs {
			ev, err := caseEvent(d, i)
			if err != nil {
				fail(c, "  event %d: %v", i, err)
				return nil, false
			}
			evs = append(evs, ev)
		}
		return alertsOf(rs, evs), true
	}
	for i, d := range tf.Match {
		c := fmt.Sprintf("match[%d]", i)
		rep.Cases++
		got, ok := run(c, []map[string]any{d})
		if !ok {
			continue
		}
		hit := false
		for _, id := range detection {
			hit = hit || got[id] > 0
		}
		if !hit {
			fail(c, "  - expected: an alert of %s\n  + got:      %s\n    event: %s", strings.Join(titles(detection, names), " | "), describe(got, names), oneLine(d))
		}
	}
	for i, d := range tf.NoMatch {
		c := fmt.Sprintf("no_match[%d]", i)
		rep.Cases++
		got, ok := run(c, []map[string]any{d})
		if ok && len(got) > 0 {
			fail(c, "  - expected: no alert\n  + got:      %s\n    event: %s", describe(got, names), oneLine(d))
		}
	}
	for i, tc := range tf.Cases {
		c := tc.Name
		if c == "" {
			c = fmt.Sprintf("cases[%d]", i)
		}
		rep.Cases++
		got, ok := run(c, tc.Events)
		if !ok {
			continue
		}
		want := map[string]int{}
		for k, n := range tc.Expect {
			id := resolve(k)
			if _, known := names[id]; !known {
				fail(c, "  expect names %q, which is no rule of %s", k, rulePath)
				continue
			}
			want[id] = n
		}
		var diff []string
		ids := make([]string, 0, len(names))
		for id := range names {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		for _, id := range ids {
			if got[id] != want[id] {
				diff = append(diff, fmt.Sprintf("  - %s: %d alerts\n  + %s: %d alerts", names[id], want[id], names[id], got[id]))
			}
		}
		if len(diff) > 0 {
			fail(c, "%s", strings.Join(diff, "\n"))
		}
	}
}

// alertsOf runs events through a fresh engine on rs, one batch per event,
// closes every window, and counts the alerts per rule id.
func alertsOf(rs *RuleSet, evs []*event.Event) map[string]int {
	e := New(rs, Options{Suppress: -1, Now: func() time.Time { return testEpoch }})
	got := map[string]int{}
	seen := map[string]bool{}
	count := func(as []event.Alert) {
		for _, a := range as {
			if !seen[a.ID] {
				seen[a.ID] = true
				got[a.Rule.ID]++
			}
		}
	}
	var last time.Time
	for i, ev := range evs {
		if t, err := ev.Time(); err == nil && t.After(last) {
			last = t
		}
		as, _ := e.Detect(context.Background(), event.Batch{Stream: "test/0", Org: "test", Events: []*event.Event{ev}, IDs: []string{fmt.Sprintf("evt-%d", i)}})
		count(as)
	}
	count(e.Flush("test/0", "test", last.Add(366*24*time.Hour)))
	return got
}

// caseEvent turns a YAML map into an event, stamping @timestamp if absent.
func caseEvent(d map[string]any, i int) (*event.Event, error) {
	if _, ok := d["@timestamp"]; !ok {
		d = maps(d)
		d["@timestamp"] = testEpoch.Add(time.Duration(i) * time.Second).Format(time.RFC3339Nano)
	}
	b, err := json.Marshal(jsonable(d))
	if err != nil {
		return nil, err
	}
	return event.Decode(b)
}

func maps(d map[string]any) map[string]any {
	out := make(map[string]any, len(d)+1)
	for k, v := range d {
		out[k] = v
	}
	return out
}

// jsonable turns what yaml.v3 decodes into what encoding/json writes
// (times as RFC 3339).
func jsonable(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[k] = jsonable(x)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = jsonable(x)
		}
		return out
	case time.Time:
		return v.UTC().Format(time.RFC3339Nano)
	}
	return v
}

func titles(ids []string, names map[string]string) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = names[id]
	}
	return out
}

func describe(got map[string]int, names map[string]string) string {
	if len(got) == 0 {
		return "no alert"
	}
	var parts []string
	for id, n := range got {
		parts = append(parts, fmt.Sprintf("%s ×%d", names[id], n))
	}
	slices.Sort(parts)
	return strings.Join(parts, ", ")
}

func oneLine(d map[string]any) string {
	b, _ := json.Marshal(jsonable(d))
	return string(b)
}

// isRuleFile reports whether a path names a rule file: .yml or .yaml, not
// a test file.
func isRuleFile(p string) bool {
	if strings.HasSuffix(p, TestFileSuffix) {
		return false
	}
	ext := path.Ext(p)
	return ext == ".yml" || ext == ".yaml"
}
