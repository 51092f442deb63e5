package syntax

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata/cases")

// TestCases parses each testdata/cases/*.yml and compares a dump of the
// documents, warnings and errors with the .golden file beside it. A new case
// is a new .yml file; go test -run TestCases -update writes its golden file,
// which is then read and committed.
func TestCases(t *testing.T) {
	inputs, err := filepath.Glob(filepath.Join("testdata", "cases", "*.yml"))
	if err != nil || len(inputs) == 0 {
		t.Fatalf("no test cases in testdata/cases: %v", err)
	}
	for _, in := range inputs {
		name := strings.TrimSuffix(filepath.Base(in), ".yml")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			docs, errs := ParseFile(filepath.Base(in), data)
			got := dump(docs, errs)
			golden := strings.TrimSuffix(in, ".yml") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -run TestCases -update to write it)", err)
			}
			if got != string(want) {
				t.Errorf("dump differs from %s:\n%s", golden, lineDiff(string(want), got))
			}
		})
	}
}

// lineDiff shows the first lines where want and got differ.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	shown := 0
	for i := 0; i < max(len(w), len(g)) && shown < 10; i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			fmt.Fprintf(&b, "line %d:\n  want %q\n  got  %q\n", i+1, wl, gl)
			shown++
		}
	}
	return b.String()
}

// dump renders documents and errors as text for golden files.
func dump(docs []Document, errs []error) string {
	var b strings.Builder
	for _, d := range docs {
		switch d := d.(type) {
		case *Rule:
			fmt.Fprintf(&b, "rule at %s\n", short(d.Pos))
			dumpMeta(&b, &d.Meta)
			dumpLogSource(&b, &d.LogSource)
			fmt.Fprintf(&b, "  detection at %s\n", short(d.Detection.Pos))
			dumpDetection(&b, &d.Detection)
		case *Correlation:
			fmt.Fprintf(&b, "correlation at %s, section at %s\n", short(d.Pos), short(d.SectionPos))
			dumpMeta(&b, &d.Meta)
			fmt.Fprintf(&b, "  type %s at %s\n", d.Type, short(d.TypePos))
			for _, r := range d.Rules {
				fmt.Fprintf(&b, "  rule %q at %s\n", r.Name, short(r.Pos))
			}
			for _, alias := range sortedKeys(d.Aliases) {
				fmt.Fprintf(&b, "  alias %s:", alias)
				for _, ref := range sortedKeys(d.Aliases[alias]) {
					fmt.Fprintf(&b, " %s=%s", ref, d.Aliases[alias][ref])
				}
				b.WriteString("\n")
			}
			if d.GroupBy != nil {
				fmt.Fprintf(&b, "  group-by %q\n", d.GroupBy)
			}
			fmt.Fprintf(&b, "  timespan %s at %s\n", d.Timespan, short(d.TimespanPos))
			c := d.Condition
			if c.Pos.Line != 0 {
				fmt.Fprintf(&b, "  condition at %s\n", short(c.Pos))
			}
			for _, th := range c.Thresholds {
				fmt.Fprintf(&b, "    %s %v (%q) at %s\n", th.Op, th.Value, th.Raw, short(th.Pos))
			}
			if c.Fields != nil {
				fmt.Fprintf(&b, "    field %q\n", c.Fields)
			}
			if c.Percentile != nil {
				fmt.Fprintf(&b, "    percentile %d\n", *c.Percentile)
			}
			if c.Expr != nil {
				fmt.Fprintf(&b, "    expr %q\n", c.Text)
				dumpCond(&b, c.Expr, "      ")
			}
			if d.Generate {
				b.WriteString("  generate\n")
			}
		case *Filter:
			fmt.Fprintf(&b, "filter at %s\n", short(d.Pos))
			dumpMeta(&b, &d.Meta)
			dumpLogSource(&b, &d.LogSource)
			if d.AnyRule {
				fmt.Fprintf(&b, "  rules: any at %s\n", short(d.RulesPos))
			}
			for _, r := range d.Rules {
				fmt.Fprintf(&b, "  rule %q at %s\n", r.Name, short(r.Pos))
			}
			fmt.Fprintf(&b, "  filter at %s\n", short(d.Detection.Pos))
			dumpDetection(&b, &d.Detection)
		}
	}
	for _, err := range errs {
		var e *Error
		if !errors.As(err, &e) {
			fmt.Fprintf(&b, "error of type %T: %v\n", err, err)
			continue
		}
		fmt.Fprintf(&b, "error %v\n", err)
	}
	return b.String()
}

// short leaves the file name out of a position: the golden file is beside
// the only file it is about.
func short(p Pos) string {
	return fmt.Sprintf("%d:%d", p.Line, p.Col)
}

func dumpMeta(b *strings.Builder, m *Meta) {
	str := func(k, v string) {
		if v != "" {
			fmt.Fprintf(b, "  %s %q\n", k, v)
		}
	}
	list := func(k string, v []string) {
		if v != nil {
			fmt.Fprintf(b, "  %s %q\n", k, v)
		}
	}
	str("title", m.Title)
	str("id", m.ID)
	str("name", m.Name)
	for _, r := range m.Related {
		fmt.Fprintf(b, "  related %s %s at %s\n", r.Type, r.ID, short(r.Pos))
	}
	str("taxonomy", m.Taxonomy)
	str("status", m.Status)
	str("description", m.Description)
	str("license", m.License)
	str("author", m.Author)
	str("date", m.Date)
	str("modified", m.Modified)
	list("references", m.References)
	list("tags", m.Tags)
	list("falsepositives", m.FalsePositives)
	str("level", m.Level)
	list("fields", m.Fields)
	list("scope", m.Scope)
	for _, k := range sortedKeys(m.Custom) {
		fmt.Fprintf(b, "  custom %s = %#v\n", k, m.Custom[k])
	}
	for _, w := range m.Warnings {
		fmt.Fprintf(b, "  warning %v\n", w)
	}
}

func dumpLogSource(b *strings.Builder, ls *LogSource) {
	fmt.Fprintf(b, "  logsource at %s: category=%q product=%q service=%q", short(ls.Pos), ls.Category, ls.Product, ls.Service)
	if ls.Definition != "" {
		fmt.Fprintf(b, " definition=%q", ls.Definition)
	}
	for _, k := range sortedKeys(ls.Custom) {
		fmt.Fprintf(b, " %s=%q", k, ls.Custom[k])
	}
	b.WriteString("\n")
}

func dumpDetection(b *strings.Builder, d *Detection) {
	for _, name := range d.Order {
		s := d.Selections[name]
		fmt.Fprintf(b, "    selection %q at %s\n", s.Name, short(s.Pos))
		for i, alt := range s.Alternatives {
			fmt.Fprintf(b, "      alternative %d\n", i+1)
			for _, it := range alt {
				fmt.Fprintf(b, "        item field=%q mods=%q at %s:", it.Field, it.Modifiers, short(it.Pos))
				if len(it.Values) == 0 {
					b.WriteString(" (no values)")
				}
				for _, v := range it.Values {
					fmt.Fprintf(b, " %s:%q@%s", v.Kind, v.Raw, short(v.Pos))
				}
				b.WriteString("\n")
			}
		}
	}
	for _, c := range d.Conditions {
		fmt.Fprintf(b, "    condition %q at %s\n", c.Text, short(c.Pos))
		dumpCond(b, c.Expr, "      ")
	}
	if d.Timeframe != 0 {
		fmt.Fprintf(b, "    timeframe %s\n", d.Timeframe)
	}
}

// dumpCond writes the tree c, one node a line with its location.
func dumpCond(b *strings.Builder, c Cond, indent string) {
	l := c.Where()
	at := fmt.Sprintf("@%d %s", l.Offset, short(l.Pos))
	switch c := c.(type) {
	case *And:
		fmt.Fprintf(b, "%sand %s\n", indent, at)
		for _, t := range c.Terms {
			dumpCond(b, t, indent+"  ")
		}
	case *Or:
		fmt.Fprintf(b, "%sor %s\n", indent, at)
		for _, t := range c.Terms {
			dumpCond(b, t, indent+"  ")
		}
	case *Not:
		fmt.Fprintf(b, "%snot %s\n", indent, at)
		dumpCond(b, c.X, indent+"  ")
	case *Ref:
		fmt.Fprintf(b, "%sref %s %s\n", indent, c.Name, at)
	case *Of:
		fmt.Fprintf(b, "%s%s %s names=%q\n", indent, c, at, c.Names)
	}
}

// TestErrors checks each error path: the document, and the one error it
// gives, printed as ParseFile's callers print it.
func TestErrors(t *testing.T) {
	const rule = "title: t\nlogsource:\n    product: windows\n"
	cases := []struct {
		name, yaml, want string
	}{
		// YAML and limits.
		{"syntax", "title: [a\n", "e.yml:2: did not find expected ',' or ']' (yaml)"},
		{"alias", rule + "detection:\n    sel: &a {x: 1}\n    sel2: *a\n    condition: sel\n",
			"e.yml:6:11: YAML alias *a: aliases are not supported in Sigma files; write the value out (yaml)"},
		{"merge key", rule + "detection:\n    sel:\n        <<: {x: 1}\n    condition: sel\n",
			"e.yml:6:9: YAML merge keys (<<) are not supported in Sigma files (yaml)"},
		{"custom tag", rule + "detection:\n    sel:\n        x: !foo 1\n    condition: sel\n",
			"e.yml:6:12: YAML tag !foo is not supported in Sigma files (yaml)"},
		{"binary tag", rule + "detection:\n    sel:\n        x: !!binary aGVsbG8=\n    condition: sel\n",
			"e.yml:6:12: YAML tag !!binary is not supported in Sigma files (yaml)"},
		{"duplicate key", rule + "detection:\n    sel:\n        x: 1\n        x: 2\n    condition: sel\n",
			`e.yml:7:9: duplicate key "x" (first at line 6) (yaml)`},
		{"long key quoted short", rule + "detection:\n    sel:\n        " + strings.Repeat("k", 200) + ": 1\n        " + strings.Repeat("k", 200) + ": 2\n    condition: sel\n",
			`e.yml:7:9: duplicate key "` + strings.Repeat("k", 79) + `…" (first at line 6) (yaml)`},
		{"complex key", rule + "detection:\n    sel:\n        ? [a, b]\n        : 1\n    condition: sel\n",
			"e.yml:6:11: a map key must be plain text, not a list (yaml)"},
		{"depth", "title: t\nx: " + strings.Repeat("[", 70) + strings.Repeat("]", 70) + "\n",
			"e.yml:2:67: YAML nests deeper than 64 levels (limit)"},
		{"not a map", "- a\n- b\n", "e.yml:1:1: a Sigma document is a YAML map of keys such as title and detection, not a list (document)"},
		{"empty file", "# nothing\n", "e.yml: no Sigma document in the file (document)"},
		{"collection", "action: global\ntitle: t\n",
			"e.yml:1:9: 'action: global' rule collections are Sigma v1 and not part of the v2 specification; write each rule out in full (collection)"},
		{"correlation and detection", "title: t\ncorrelation: {}\ndetection: {}\n",
			"e.yml:3:1: a correlation rule has no detection section; put the detection in a rule of its own and refer to it (document)"},
		{"correlation and filter", "title: t\ncorrelation: {}\nfilter: {}\n",
			"e.yml:3:1: a document has either a correlation or a filter section, not both (document)"},
		{"filter and detection", "title: t\nfilter: {}\ndetection: {}\n",
			"e.yml:3:1: a filter has no detection section; its selections and condition go in the filter section (document)"},
		{"correlation and logsource", "title: t\ncorrelation: {}\nlogsource: {}\n",
			"e.yml:3:1: a correlation rule has no logsource; the rules it refers to have theirs (document)"},
		{"upper-case key", "Title: t\n" + rule[len("title: t\n"):] + "detection:\n    sel: a\n    condition: sel\n",
			`e.yml:1:1: key "Title" must be written "title" (document)`},

		// Metadata.
		{"no title", "logsource:\n    product: windows\ndetection:\n    sel: a\n    condition: sel\n",
			"e.yml:1:1: a rule has no title (title)"},
		{"null title", "title:\nlogsource:\n    product: windows\ndetection:\n    sel: a\n    condition: sel\n",
			"e.yml:1:1: a rule has no title (title)"},
		{"title list", "title: [a]\nlogsource:\n    product: windows\ndetection:\n    sel: a\n    condition: sel\n",
			"e.yml:1:8: title must be text, not a list (title)"},
		{"empty title", "title: ' '\nlogsource:\n    product: windows\ndetection:\n    sel: a\n    condition: sel\n",
			"e.yml:1:8: title is empty (title)"},
		{"long title", "title: " + strings.Repeat("x", 257) + "\nlogsource:\n    product: windows\ndetection:\n    sel: a\n    condition: sel\n",
			"e.yml:1:8: title is 257 characters long; the limit is 256 (title)"},
		{"level", rule + "level: severe\ndetection:\n    sel: a\n    condition: sel\n",
			`e.yml:4:8: level "severe" is not one of informational, low, medium, high, critical (level)`},
		{"status", rule + "status: beta\ndetection:\n    sel: a\n    condition: sel\n",
			`e.yml:4:9: status "beta" is not one of stable, test, experimental, deprecated, unsupported (status)`},
		{"tags not a list", rule + "tags: attack.t1234\ndetection:\n    sel: a\n    condition: sel\n",
			`e.yml:4:7: tags must be a list of text, not "attack.t1234" (tags)`},
		{"references entry", rule + "references:\n    - {a: b}\ndetection:\n    sel: a\n    condition: sel\n",
			"e.yml:5:7: each entry of references must be text, not a map (references)"},
		{"related without type", rule + "related:\n    - id: 929a690e-bef0-4204-a928-ef5e620d6fcc\ndetection:\n    sel: a\n    condition: sel\n",
			"e.yml:5:7: each entry of related needs an id and a type (related)"},
		{"author bool", rule + "author: true\ndetection:\n    sel: a\n    condition: sel\n",
			"e.yml:4:9: author must be text, not \"true\" (author)"},

		// Log source.
		{"no logsource", "title: t\ndetection:\n    sel: a\n    condition: sel\n", "e.yml:1:1: a rule has no logsource (logsource)"},
		{"logsource list", "title: t\nlogsource: [a]\ndetection:\n    sel: a\n    condition: sel\n",
			"e.yml:2:12: logsource must be a map, not a list (logsource)"},
		{"logsource null value", "title: t\nlogsource:\n    product:\ndetection:\n    sel: a\n    condition: sel\n",
			"e.yml:3:13: logsource product has no value (logsource)"},
		{"logsource key case", "title: t\nlogsource:\n    Product: windows\ndetection:\n    sel: a\n    condition: sel\n",
			`e.yml:3:5: key "Product" must be written "product" (logsource)`},
		{"logsource nested", "title: t\nlogsource:\n    product: {a: b}\ndetection:\n    sel: a\n    condition: sel\n",
			"e.yml:3:14: logsource product must be text, not a map (logsource)"},

		// Detection.
		{"no detection", rule, "e.yml:1:1: a rule has no detection (detection)"},
		{"detection list", rule + "detection: [a]\n", "e.yml:4:12: detection must be a map, not a list (detection)"},
		{"no condition", rule + "detection:\n    sel: a\n", "e.yml:5:5: detection has no condition (condition)"},
		{"no search identifier", rule + "detection:\n    condition: sel\n", "e.yml:5:5: detection has no search identifier (detection)"},
		{"null selection", rule + "detection:\n    sel:\n    condition: sel\n",
			`e.yml:5:9: search identifier "sel" has no definition (detection)`},
		{"empty map selection", rule + "detection:\n    sel: {}\n    condition: sel\n",
			`e.yml:5:10: search identifier "sel" is an empty map (detection)`},
		{"empty list selection", rule + "detection:\n    sel: []\n    condition: sel\n",
			`e.yml:5:10: search identifier "sel" is an empty list (detection)`},
		{"nested list", rule + "detection:\n    sel:\n        - [a]\n    condition: sel\n",
			`e.yml:6:11: search identifier "sel" has a list in its list; write its entries as maps or plain values (detection)`},
		{"null keyword", rule + "detection:\n    sel:\n        - a\n        - null\n    condition: sel\n",
			`e.yml:7:11: search identifier "sel" has a null keyword; keywords are text (detection)`},
		{"map value", rule + "detection:\n    sel:\n        x: {a: b}\n    condition: sel\n",
			`e.yml:6:12: the value of "x" must be a plain value or a list of them, not a map (detection)`},
		{"map in values", rule + "detection:\n    sel:\n        x:\n            - a\n            - {b: c}\n    condition: sel\n",
			`e.yml:8:15: the values of "x" must be plain values, not a map (detection)`},
		{"null among values", rule + "detection:\n    sel:\n        x:\n            - ''\n            - null\n    condition: sel\n",
			`e.yml:8:15: null cannot be one of several values of "x"; match it in a selection of its own (detection)`},
		{"empty modifier", rule + "detection:\n    sel:\n        x||contains: a\n    condition: sel\n",
			`e.yml:6:9: empty modifier in "x||contains" (modifier)`},
		{"trailing pipe", rule + "detection:\n    sel:\n        x|: a\n    condition: sel\n",
			`e.yml:6:9: empty modifier in "x|" (modifier)`},
		{"bad modifier", rule + "detection:\n    sel:\n        x|con tains: a\n    condition: sel\n",
			`e.yml:6:9: modifier "con tains" in "x|con tains" is not a name (modifier)`},
		{"timeframe", rule + "detection:\n    sel: a\n    timeframe: 1 hour\n    condition: sel\n",
			`e.yml:6:16: timespan "1 hour" is not a whole number and a unit (s, m, h, d), e.g. 5m (timeframe)`},

		// Conditions.
		{"condition map", rule + "detection:\n    sel: a\n    condition: {a: b}\n",
			"e.yml:6:16: condition must be a string or a list of strings, not a map (condition)"},
		{"condition number", rule + "detection:\n    sel: a\n    condition: 1\n",
			`e.yml:6:16: condition must be a string or a list of strings, not "1" (condition)`},
		{"condition empty list", rule + "detection:\n    sel: a\n    condition: []\n",
			"e.yml:6:16: the list of conditions is empty (condition)"},
		{"condition empty", rule + "detection:\n    sel: a\n    condition: ''\n", "e.yml:6:17: condition is empty (condition)"},
		{"unknown identifier", rule + "detection:\n    sel: a\n    condition: sel and filter\n",
			`e.yml:6:24: unknown search identifier "filter" (condition)`},
		{"identifier case", rule + "detection:\n    sel: a\n    condition: Sel\n",
			`e.yml:6:16: unknown search identifier "Sel" (search identifiers are case-sensitive: did you mean "sel"?) (condition)`},
		{"quoted position", rule + "detection:\n    sel: a\n    condition: 'sel and filter'\n",
			`e.yml:6:25: unknown search identifier "filter" (condition)`},
		{"double-quoted position", rule + "detection:\n    sel: a\n    condition: \"sel and filter\"\n",
			`e.yml:6:25: unknown search identifier "filter" (condition)`},
		{"multi-line position", rule + "detection:\n    sel: a\n    condition: sel and\n        filter\n",
			`e.yml:6:16: unknown search identifier "filter" (condition)`},
		{"escaped position", rule + "detection:\n    sel: a\n    condition: \"sel and\\tfilter\"\n",
			`e.yml:6:16: unknown search identifier "filter" (condition)`},
		{"in a list", rule + "detection:\n    sel: a\n    condition:\n        - sel\n        - sel or x\n",
			`e.yml:8:18: unknown search identifier "x" (condition)`},
		{"pattern matches nothing", rule + "detection:\n    sel: a\n    condition: 1 of filter*\n",
			`e.yml:6:16: pattern "filter*" matches no search identifier (condition)`},
		{"them matches nothing", rule + "detection:\n    _sel: a\n    condition: all of them\n",
			"e.yml:6:16: 'them' matches no search identifier: all start with '_' (condition)"},
		{"aggregation", rule + "detection:\n    sel: a\n    condition: sel | count() by host > 5\n",
			"e.yml:6:20: the Sigma v1 aggregation '| count() by host > 5' is obsolete; write an event_count or value_count correlation rule instead (aggregation)"},
		{"near", rule + "detection:\n    sel: a\n    condition: sel | near sel2\n",
			"e.yml:6:20: the Sigma v1 'near' aggregation is obsolete; write a temporal correlation rule instead (aggregation)"},
		{"2 of", rule + "detection:\n    sel: a\n    condition: 2 of sel*\n",
			"e.yml:6:16: '2 of' is not Sigma; only '1 of' (or 'any of') and 'all of' are (condition)"},
		{"condition syntax", rule + "detection:\n    sel: a\n    condition: sel and\n",
			"e.yml:6:23: unexpected end of condition; expected a search identifier, 'not', '1 of', 'all of' or '(' (condition)"},

		// Correlations.
		{"correlation no type", "title: t\ncorrelation:\n    rules: [a]\n    timespan: 5m\n    group-by: [x]\n    condition: {gte: 1}\n",
			"e.yml:3:5: the correlation section has no type (correlation.type)"},
		{"correlation type", "title: t\ncorrelation:\n    type: event_sum\n    rules: [a]\n    timespan: 5m\n    group-by: [x]\n    condition: {gte: 1}\n",
			`e.yml:3:11: correlation type "event_sum" is not one of event_count, value_count, temporal, temporal_ordered, value_sum, value_avg, value_percentile (correlation.type)`},
		{"correlation rules map", "title: t\ncorrelation:\n    type: temporal\n    rules: {a: b}\n    timespan: 5m\n    group-by: [x]\n",
			"e.yml:4:12: rules must be a list of rule ids or names, not a map (correlation.rules)"},
		{"correlation rules twice", "title: t\ncorrelation:\n    type: temporal\n    rules: [a, a]\n    timespan: 5m\n    group-by: [x]\n",
			`e.yml:4:16: rule "a" is listed twice (correlation.rules)`},
		{"correlation empty rules", "title: t\ncorrelation:\n    type: temporal\n    rules: []\n    timespan: 5m\n    group-by: [x]\n",
			"e.yml:4:12: rules is an empty list (correlation.rules)"},
		{"timespan unit", "title: t\ncorrelation:\n    type: temporal\n    rules: [a]\n    timespan: 5\n    group-by: [x]\n",
			`e.yml:5:15: timespan "5" has no unit; write s, m, h or d after the number, e.g. 5s (correlation.timespan)`},
		{"timespan month", "title: t\ncorrelation:\n    type: temporal\n    rules: [a]\n    timespan: 1M\n    group-by: [x]\n",
			`e.yml:5:15: timespan "1M": months and years have no fixed length; write days, e.g. 30d (correlation.timespan)`},
		{"timespan zero", "title: t\ncorrelation:\n    type: temporal\n    rules: [a]\n    timespan: 0s\n    group-by: [x]\n",
			`e.yml:5:15: timespan "0s" is zero (correlation.timespan)`},
		{"timespan overflow", "title: t\ncorrelation:\n    type: temporal\n    rules: [a]\n    timespan: 999999999999d\n    group-by: [x]\n",
			`e.yml:5:15: timespan "999999999999d" is longer than 106751d (correlation.timespan)`},
		{"timespan missing", "title: t\ncorrelation:\n    type: temporal\n    rules: [a]\n    group-by: [x]\n",
			"e.yml:3:5: the correlation section has no timespan (correlation.timespan)"},
		{"correlation unknown key", "title: t\ncorrelation:\n    type: temporal\n    rules: [a]\n    timespan: 5m\n    group-by: [x]\n    ordered: true\n",
			`e.yml:7:5: the correlation section has no key "ordered" (correlation)`},
		{"count no condition", "title: t\ncorrelation:\n    type: event_count\n    rules: [a]\n    timespan: 5m\n    group-by: [x]\n",
			"e.yml:3:5: an event_count correlation needs a condition (correlation.condition)"},
		{"count fraction", "title: t\ncorrelation:\n    type: event_count\n    rules: [a]\n    timespan: 5m\n    group-by: [x]\n    condition: {gte: 1.5}\n",
			"e.yml:7:22: gte 1.5: a count is a whole number, 0 or more (correlation.condition)"},
		{"threshold text", "title: t\ncorrelation:\n    type: event_count\n    rules: [a]\n    timespan: 5m\n    group-by: [x]\n    condition: {gte: many}\n",
			`e.yml:7:22: gte must be a number, not "many" (correlation.condition)`},
		{"threshold hex", "title: t\ncorrelation:\n    type: event_count\n    rules: [a]\n    timespan: 5m\n    group-by: [x]\n    condition: {gte: 010}\n",
			`e.yml:7:22: gte "010" is not a number in decimal (correlation.condition)`},
		{"no threshold", "title: t\ncorrelation:\n    type: value_count\n    rules: [a]\n    timespan: 5m\n    group-by: [x]\n    condition: {field: User}\n",
			"e.yml:7:16: the condition needs at least one of gt, gte, lt, lte, eq, neq (correlation.condition)"},
		{"value_count no field", "title: t\ncorrelation:\n    type: value_count\n    rules: [a]\n    timespan: 5m\n    group-by: [x]\n    condition: {gt: 10}\n",
			"e.yml:7:16: a value_count correlation needs the field whose values it aggregates (correlation.condition)"},
		{"event_count field", "title: t\ncorrelation:\n    type: event_count\n    rules: [a]\n    timespan: 5m\n    group-by: [x]\n    condition: {gt: 10, field: User}\n",
			"e.yml:7:25: an event_count correlation has no field; field is for value_count, value_sum, value_avg and value_percentile (correlation.condition)"},
		{"unknown condition key", "title: t\ncorrelation:\n    type: event_count\n    rules: [a]\n    timespan: 5m\n    group-by: [x]\n    condition: {more: 10}\n",
			`e.yml:7:17: the condition has no key "more"; it takes gt, gte, lt, lte, eq, neq, field and percentile (correlation.condition)`},
		{"percentile elsewhere", "title: t\ncorrelation:\n    type: value_avg\n    rules: [a]\n    timespan: 5m\n    group-by: [x]\n    condition: {gt: 10, field: b, percentile: 5}\n",
			"e.yml:7:35: percentile is only for value_percentile correlations (correlation.condition)"},
		{"percentile range", "title: t\ncorrelation:\n    type: value_percentile\n    rules: [a]\n    timespan: 5m\n    group-by: [x]\n    condition: {lt: 1, field: b, percentile: 101}\n",
			`e.yml:7:46: percentile must be a whole number from 0 to 100, not "101" (correlation.condition)`},
		{"string condition on count", "title: t\ncorrelation:\n    type: event_count\n    rules: [a]\n    timespan: 5m\n    group-by: [x]\n    condition: a\n",
			"e.yml:7:16: an event_count correlation needs a condition map such as {gte: 10}; an expression over rules is for temporal and temporal_ordered ones (correlation.condition)"},
		{"temporal condition unknown rule", "title: t\ncorrelation:\n    type: temporal\n    rules: [a, b]\n    timespan: 5m\n    group-by: [x]\n    condition: a and b and c\n",
			`e.yml:7:28: "c" is not one of the correlation's rules (correlation.condition)`},
		{"temporal condition unused rule", "title: t\ncorrelation:\n    type: temporal\n    rules: [a, b]\n    timespan: 5m\n    group-by: [x]\n    condition: a\n",
			`e.yml:4:16: rule "b" is not used by the condition (correlation.condition)`},
		{"temporal condition of", "title: t\ncorrelation:\n    type: temporal\n    rules: [a, b]\n    timespan: 5m\n    group-by: [x]\n    condition: 1 of them\n",
			"e.yml:7:16: '1 of' is not allowed in a correlation condition; name the rules (correlation.condition)"},
		{"alias unknown rule", "title: t\ncorrelation:\n    type: temporal\n    rules: [a, b]\n    timespan: 5m\n    group-by: [ip]\n    aliases:\n        ip:\n            a: src\n            c: dst\n",
			`e.yml:10:13: alias "ip" names rule "c", which is not one of the correlation's rules (correlation.aliases)`},
		{"alias not a map", "title: t\ncorrelation:\n    type: temporal\n    rules: [a, b]\n    timespan: 5m\n    group-by: [ip]\n    aliases:\n        ip: src\n",
			`e.yml:8:13: alias "ip" must be a map, not "src" (correlation.aliases)`},
		{"generate text", "title: t\ncorrelation:\n    type: temporal\n    rules: [a, b]\n    timespan: 5m\n    group-by: [ip]\n    generate: yes\n",
			`e.yml:7:15: generate must be true or false, not "yes" (correlation.generate)`},
		{"generate twice", "title: t\ngenerate: true\ncorrelation:\n    type: temporal\n    rules: [a, b]\n    timespan: 5m\n    group-by: [ip]\n    generate: true\n",
			"e.yml:8:5: generate is written both here and at the top level (correlation.generate)"},

		// Filters.
		{"filter no rules", "title: t\nlogsource: {product: windows}\nfilter:\n    selection: {User: a}\n    condition: not selection\n",
			"e.yml:4:5: the filter section has no rules; list the rules it applies to (filter.rules)"},
		{"filter no condition", "title: t\nlogsource: {product: windows}\nfilter:\n    rules: [a]\n    selection: {User: a}\n",
			"e.yml:4:5: the filter section has no condition (condition)"},
		{"filter condition list", "title: t\nlogsource: {product: windows}\nfilter:\n    rules: [a]\n    selection: {User: a}\n    condition: [selection]\n",
			"e.yml:6:16: condition must be a string, not a list (condition)"},
		{"filter no selection", "title: t\nlogsource: {product: windows}\nfilter:\n    rules: [a]\n    condition: selection\n",
			"e.yml:4:5: the filter section has no search identifier (filter)"},
		{"filter unknown identifier", "title: t\nlogsource: {product: windows}\nfilter:\n    rules: [a]\n    selection: {User: a}\n    condition: not sel\n",
			`e.yml:6:20: unknown search identifier "sel" (condition)`},
		{"filter no logsource", "title: t\nfilter:\n    rules: [a]\n    selection: {User: a}\n    condition: not selection\n",
			"e.yml:1:1: a filter has no logsource (logsource)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			docs, errs := ParseFile("e.yml", []byte(c.yaml))
			if len(docs) != 0 {
				t.Errorf("got %d documents, want none", len(docs))
			}
			var got []string
			for _, err := range errs {
				var e *Error
				if !errors.As(err, &e) {
					t.Errorf("error of type %T: %v", err, err)
				}
				got = append(got, err.Error())
			}
			if len(got) != 1 || got[0] != c.want {
				t.Errorf("errors:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), c.want)
			}
		})
	}
}

// TestValues checks how scalars become values.
func TestValues(t *testing.T) {
	src := `title: t
logsource: {product: windows}
detection:
    sel:
        a: 3389
        b: '3389'
        c: -1.5
        d: 0x1F
        e: 00000429
        f: 1_000
        g: 1e3
        h: true
        i: yes
        j:
        k: ~
        l: ''
        m: []
        n: 2020-01-02
        o: 'C:\Windows\*'
        p: "a\tb"
        q: .inf
        r: [null]
        s: !!str 12
    condition: sel
`
	docs, errs := ParseFile("v.yml", []byte(src))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	items := docs[0].(*Rule).Detection.Selections["sel"].Alternatives[0]
	want := map[string][]Value{
		"a": {{Number, "3389", Pos{}}},
		"b": {{String, "3389", Pos{}}},
		"c": {{Number, "-1.5", Pos{}}},
		"d": {{String, "0x1F", Pos{}}},
		"e": {{String, "00000429", Pos{}}},
		"f": {{String, "1_000", Pos{}}},
		"g": {{String, "1e3", Pos{}}},
		"h": {{Bool, "true", Pos{}}},
		"i": {{String, "yes", Pos{}}},
		"j": {{Null, "", Pos{}}},
		"k": {{Null, "~", Pos{}}},
		"l": {{String, "", Pos{}}},
		"m": {},
		"n": {{String, "2020-01-02", Pos{}}},
		"o": {{String, `C:\Windows\*`, Pos{}}},
		"p": {{String, "a\tb", Pos{}}},
		"q": {{String, ".inf", Pos{}}},
		"r": {{Null, "null", Pos{}}},
		"s": {{String, "12", Pos{}}},
	}
	if len(items) != len(want) {
		t.Fatalf("%d items, want %d", len(items), len(want))
	}
	for _, it := range items {
		var got []Value
		for _, v := range it.Values {
			v.Pos = Pos{}
			got = append(got, v)
		}
		if w := want[it.Field]; !slices.Equal(got, w) {
			t.Errorf("%s: got %v, want %v", it.Field, got, w)
		}
	}
}

func TestTimespan(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"30s": 30 * time.Second, "5m": 5 * time.Minute, "90m": 90 * time.Minute, "1h": time.Hour,
		"1d": 24 * time.Hour, "2w": 14 * 24 * time.Hour, "0010m": 10 * time.Minute,
	} {
		if got, ok := parseTimespan(in); !ok || got != want {
			t.Errorf("parseTimespan(%q) = %v, %v; want %v", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "m", "5", "-5m", "+5m", "5 m", "5M", "1y", "1.5h", "0m", "5ms", "5H", "99999999999999999999s"} {
		if got, ok := parseTimespan(in); ok {
			t.Errorf("parseTimespan(%q) = %v; want an error", in, got)
		}
	}
}

func TestPosString(t *testing.T) {
	for p, want := range map[Pos]string{
		{File: "f"}:                   "f",
		{File: "f", Line: 3}:          "f:3",
		{File: "f", Line: 3, Col: 7}:  "f:3:7",
		{File: "", Line: 1, Col: 2}:   ":1:2",
		{File: "a/b.yml", Line: 12}:   "a/b.yml:12",
		{File: "x", Line: 1, Col: 1}:  "x:1:1",
		{File: "x", Line: 10, Col: 0}: "x:10",
	} {
		if got := p.String(); got != want {
			t.Errorf("%#v.String() = %q, want %q", p, got, want)
		}
	}
}

func TestLimits(t *testing.T) {
	t.Run("file size", func(t *testing.T) {
		_, errs := ParseFile("big.yml", make([]byte, MaxFileSize+1))
		if len(errs) != 1 || !strings.Contains(errs[0].Error(), "(limit)") {
			t.Errorf("errors %v, want one limit error", errs)
		}
	})
	t.Run("documents", func(t *testing.T) {
		doc := "title: t\nlogsource: {product: p}\ndetection: {sel: a, condition: sel}\n"
		data := strings.Repeat("---\n"+doc, MaxDocuments+5)
		docs, errs := ParseFile("many.yml", []byte(data))
		if len(docs) != MaxDocuments || len(errs) != 1 {
			t.Fatalf("%d documents and errors %v; want %d and one error", len(docs), errs, MaxDocuments)
		}
		want := fmt.Sprintf("many.yml:%d: more than %d documents in the file; the rest is not read (limit)", MaxDocuments*4+2, MaxDocuments)
		if errs[0].Error() != want {
			t.Errorf("error %q, want %q", errs[0], want)
		}
	})
	t.Run("errors per document", func(t *testing.T) {
		var b strings.Builder
		b.WriteString("title: t\nlogsource: {product: p}\ndetection:\n    sel: a\n    condition: sel\n")
		for i := range 2 * maxErrors {
			fmt.Fprintf(&b, "    x%d: {a: {b: c}}\n", i)
		}
		_, errs := ParseFile("e.yml", []byte(b.String()))
		if len(errs) != maxErrors+1 || !strings.Contains(errs[maxErrors].Error(), "more than 50 errors") {
			t.Errorf("%d errors, the last %v; want %d, the last saying there are more", len(errs), errs[len(errs)-1], maxErrors+1)
		}
	})
	t.Run("alias bomb", func(t *testing.T) {
		var b strings.Builder
		b.WriteString("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n")
		for i := 1; i < 30; i++ {
			fmt.Fprintf(&b, "a%d: &a%d [*a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d]\n", i, i, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1)
		}
		start := time.Now()
		docs, errs := ParseFile("bomb.yml", []byte(b.String()))
		if len(docs) != 0 || len(errs) == 0 || !strings.Contains(errs[0].Error(), "alias") {
			t.Errorf("documents %v, errors %v; want an alias error", docs, errs)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("took %v", d)
		}
	})
	t.Run("deep flow", func(t *testing.T) {
		data := "title: " + strings.Repeat("[", 20000)
		_, errs := ParseFile("deep.yml", []byte(data))
		if len(errs) == 0 {
			t.Error("no error")
		}
	})
}

// TestMultiDocument checks that a document with an error, even a YAML
// syntax error, does not lose the others, and that lines count from the
// start of the file.
func TestMultiDocument(t *testing.T) {
	src := `# a comment
%YAML 1.1
---
title: one
logsource: {product: p}
detection: {sel: a, condition: sel}
---
title: [broken
---

---
title: three
logsource: {product: p}
detection: {sel: a, condition: nope}
--- # four
title: four
logsource: {product: p}
detection: {sel: a, condition: sel}
...
`
	docs, errs := ParseFile("m.yml", []byte(src))
	var titles []string
	for _, d := range docs {
		titles = append(titles, d.Metadata().Title)
	}
	if !slices.Equal(titles, []string{"one", "four"}) {
		t.Errorf("titles %q, want one and four", titles)
	}
	var got []string
	for _, e := range errs {
		got = append(got, e.Error())
	}
	want := []string{
		"m.yml:8: did not find expected ',' or ']' (yaml)",
		`m.yml:14:32: unknown search identifier "nope" (condition)`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("errors\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
	if len(docs) == 2 && docs[1].Metadata().Pos.Line != 16 {
		t.Errorf("fourth document at %v, want line 16", docs[1].Metadata().Pos)
	}
}
