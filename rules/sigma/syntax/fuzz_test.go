package syntax

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParseFile feeds ParseFile arbitrary files. Seeds are the test cases
// of testdata/cases and the files of testdata/fuzz/FuzzParseFile (where go
// test -fuzz also writes what fails). Beyond not panicking, every error must
// be an *Error of this file, and every document returned must be whole.
func FuzzParseFile(f *testing.F) {
	cases, _ := filepath.Glob(filepath.Join("testdata", "cases", "*.yml"))
	for _, c := range cases {
		data, err := os.ReadFile(c)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		docs, errs := ParseFile("f.yml", data)
		for _, err := range errs {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error of type %T: %v", err, err)
			}
			if e.Pos.File != "f.yml" || e.Feature == "" || e.Msg == "" || e.Pos.Line < 0 || e.Pos.Col < 0 {
				t.Fatalf("malformed error %#v", e)
			}
		}
		for _, d := range docs {
			m := d.Metadata()
			if m.Title == "" {
				t.Fatalf("document without title: %#v", d)
			}
			switch d := d.(type) {
			case *Rule:
				checkDetection(t, &d.Detection)
			case *Filter:
				checkDetection(t, &d.Detection)
				if len(d.Detection.Conditions) != 1 || (len(d.Rules) == 0) == !d.AnyRule {
					t.Fatalf("filter with %d conditions, %d rules, any %v", len(d.Detection.Conditions), len(d.Rules), d.AnyRule)
				}
			case *Correlation:
				if d.Type == "" || len(d.Rules) == 0 || d.Timespan <= 0 {
					t.Fatalf("correlation without type, rules or timespan: %#v", d)
				}
				if c := d.Condition; c.Expr != nil && len(c.Thresholds) > 0 {
					t.Fatalf("correlation condition with both an expression and thresholds: %#v", c)
				}
			}
		}
	})
}

func checkDetection(t *testing.T, d *Detection) {
	t.Helper()
	if len(d.Conditions) == 0 || len(d.Order) == 0 || len(d.Order) != len(d.Selections) {
		t.Fatalf("detection with %d conditions, %d names, %d selections", len(d.Conditions), len(d.Order), len(d.Selections))
	}
	for _, c := range d.Conditions {
		walk(c.Expr, func(x Cond) {
			switch x := x.(type) {
			case *Ref:
				if d.Selections[x.Name] == nil {
					t.Fatalf("condition %q names unknown %q", c.Text, x.Name)
				}
			case *Of:
				if len(x.Names) == 0 {
					t.Fatalf("condition %q: %s matches nothing", c.Text, x)
				}
			}
		})
	}
	for _, name := range d.Order {
		if len(d.Selections[name].Alternatives) == 0 {
			t.Fatalf("selection %q without alternatives", name)
		}
	}
}

// FuzzCondition feeds ParseCondition arbitrary text. What parses must print
// as text that parses to the same tree, with offsets inside the text.
func FuzzCondition(f *testing.F) {
	for _, s := range []string{
		"selection", "a and b or c", "not a and not (b or c)", "1 of selection_* and not 1 of filter_*",
		"all of them", "any of x*", "a AND b OR NOT c", "((a))", "sel | count() by host > 5",
		"a and\n  (b or\n   c)", "2 of x", "a && b", "Auswahl_ä or 選択",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseCondition(s)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Pos.Line < 1 || e.Pos.Col < 1 || e.Feature == "" || e.Msg == "" {
				t.Fatalf("ParseCondition(%q): malformed error %#v", s, err)
			}
			return
		}
		walk(c, func(x Cond) {
			if l := x.Where(); l.Offset < 0 || l.Offset >= len(s) || l.Pos.Line < 1 || l.Pos.Col < 1 {
				t.Fatalf("ParseCondition(%q): node %s at %+v", s, x, l)
			}
		})
		text := c.String()
		c2, err := ParseCondition(text)
		if err != nil {
			t.Fatalf("ParseCondition(%q) = %s, which does not parse: %v", s, text, err)
		}
		if c2.String() != text {
			t.Fatalf("ParseCondition(%q) = %s, which parses to %s", s, text, c2)
		}
	})
}
