package syntax

import (
	"errors"
	"strings"
	"testing"
)

// TestParseCondition checks the grammar: each condition parses to the tree
// its canonical text shows (every and/or below the top in parentheses).
func TestParseCondition(t *testing.T) {
	cases := []struct{ in, want string }{
		{"sel", "sel"},
		{"  sel  ", "sel"},
		{"a and b", "a and b"},
		{"a or b", "a or b"},
		{"a and b and c", "a and b and c"},
		{"a or b or c", "a or b or c"},
		{"a and b or c", "(a and b) or c"},
		{"a or b and c", "a or (b and c)"},
		{"not a and b", "not a and b"}, // (not a) and b: see TestConditionPrecedence
		{"not a or b", "not a or b"},
		{"not (a or b)", "not (a or b)"},
		{"not not a", "not not a"},
		{"(a)", "a"},
		{"((a))", "a"},
		{"(a and b) and c", "(a and b) and c"},
		{"a and (b or c)", "a and (b or c)"},
		{"a AND b OR NOT c", "(a and b) or not c"},
		{"1 of sel*", "1 of sel*"},
		{"any of sel*", "1 of sel*"},
		{"ALL OF sel_*", "all of sel_*"},
		{"1 of them", "1 of them"},
		{"all of THEM", "all of them"},
		{"1 of *", "1 of *"},
		{"1 of *_filter", "1 of *_filter"},
		{"sel and not 1 of filter*", "sel and not 1 of filter*"},
		{"1 of sel* and not all of filter_*", "1 of sel* and not all of filter_*"},
		{"sel-1 and sel.2 and sel_3", "sel-1 and sel.2 and sel_3"},
		{"Auswahl_ä and 選択", "Auswahl_ä and 選択"},
		{"1", "1"},     // a search identifier named 1
		{"all", "all"}, // and one named all
		{"sel\n  and\tfilter", "sel and filter"},
		{"selection_parent and\n(\n1 of x*\n)", "selection_parent and 1 of x*"},
		{"a and(b)", "a and b"},
		{"(a)and(b)", "a and b"},
	}
	for _, c := range cases {
		got, err := ParseCondition(c.in)
		if err != nil {
			t.Errorf("ParseCondition(%q): %v", c.in, err)
			continue
		}
		if got.String() != c.want {
			t.Errorf("ParseCondition(%q) = %s, want %s", c.in, got, c.want)
		}
	}
}

func TestParseConditionErrors(t *testing.T) {
	cases := []struct{ in, want string }{
		{"", ":1:1: condition is empty (condition)"},
		{"   ", ":1:1: condition is empty (condition)"},
		{"a and", ":1:6: unexpected end of condition; expected a search identifier, 'not', '1 of', 'all of' or '(' (condition)"},
		{"a b", `:1:3: unexpected "b"; expected 'and', 'or' or the end (condition)`},
		{"and a", `:1:1: unexpected keyword "and"; expected a search identifier, 'not', '1 of', 'all of' or '(' (condition)`},
		{"a or or b", `:1:6: unexpected keyword "or"; expected a search identifier, 'not', '1 of', 'all of' or '(' (condition)`},
		{"not", ":1:4: unexpected end of condition; expected a search identifier, 'not', '1 of', 'all of' or '(' (condition)"},
		{"(a", ":1:3: expected ')' to close the '(' at offset 0, found end of condition (condition)"},
		{"a)", ":1:2: unexpected ')'; expected 'and', 'or' or the end (condition)"},
		{"()", ":1:2: unexpected ')'; expected a search identifier, 'not', '1 of', 'all of' or '(' (condition)"},
		{"sel*", `:1:1: wildcard in "sel*": patterns are only allowed after '1 of' or 'all of' (condition)`},
		{"1 of", ":1:5: expected a pattern or 'them' after 'of', found end of condition (condition)"},
		{"1 of (a)", ":1:6: expected a pattern or 'them' after 'of', found '(' (condition)"},
		{"1 of and", `:1:6: unexpected keyword "and"; expected a pattern or 'them' after 'of' (condition)`},
		{"2 of x*", ":1:1: '2 of' is not Sigma; only '1 of' (or 'any of') and 'all of' are (condition)"},
		{"some of x*", `:1:1: unexpected "some" before 'of'; expected '1', 'any' or 'all' (condition)`},
		{"of x", `:1:1: unexpected keyword "of"; expected a search identifier, 'not', '1 of', 'all of' or '(' (condition)`},
		{"them", `:1:1: unexpected keyword "them"; expected a search identifier, 'not', '1 of', 'all of' or '(' (condition)`},
		{"a && b", `:1:3: unexpected character '&' (condition)`},
		{"a = b", `:1:3: unexpected character '=' (condition)`},
		{"'a'", `:1:1: unexpected character '\'' (condition)`},
		{"a and\n  b,", `:2:4: unexpected character ',' (condition)`},
		{"a | count() > 5", ":1:3: the Sigma v1 aggregation '| count() > 5' is obsolete; write an event_count or value_count correlation rule instead (aggregation)"},
		{"a | count(x) by y, z >= 3", ":1:3: the Sigma v1 aggregation '| count(x) by y, z >= 3' is obsolete; write an event_count or value_count correlation rule instead (aggregation)"},
		{"a | near b and c", ":1:3: the Sigma v1 'near' aggregation is obsolete; write a temporal correlation rule instead (aggregation)"},
		{"a\xffb", ":1:2: condition is not valid UTF-8 (condition)"},
		{"a " + strings.Repeat("b", 1000), `:1:3: unexpected "` + strings.Repeat("b", 79) + `…"; expected 'and', 'or' or the end (condition)`},
		{strings.Repeat("(", MaxConditionDepth+1) + "a" + strings.Repeat(")", MaxConditionDepth+1),
			":1:65: condition nests parentheses and 'not' deeper than 64 (limit)"},
		{strings.Repeat("not ", MaxConditionDepth+1) + "a", ":1:257: condition nests parentheses and 'not' deeper than 64 (limit)"},
		{strings.Repeat("a ", MaxConditionLength/2+1), ":1:1: condition is 16386 bytes long; the limit is 16384 (limit)"},
	}
	for _, c := range cases {
		_, err := ParseCondition(c.in)
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("ParseCondition(%q) = %v, want an *Error", c.in, err)
			continue
		}
		if err.Error() != c.want {
			t.Errorf("ParseCondition(%q):\n  got  %s\n  want %s", c.in, err, c.want)
		}
	}
	// At the limits themselves, conditions still parse.
	deep := strings.Repeat("(", MaxConditionDepth) + "a" + strings.Repeat(")", MaxConditionDepth)
	long := strings.Repeat("a or ", (MaxConditionLength-1)/5) + "a"
	for _, in := range []string{deep, long, strings.Repeat("not ", MaxConditionDepth) + "a"} {
		if _, err := ParseCondition(in); err != nil {
			t.Errorf("at the limit: %v", err)
		}
	}
}

// TestConditionPrecedence checks that not binds tighter than and, and and
// tighter than or, on the trees themselves.
func TestConditionPrecedence(t *testing.T) {
	c, err := ParseCondition("not a and b or c")
	if err != nil {
		t.Fatal(err)
	}
	or, ok := c.(*Or)
	if !ok || len(or.Terms) != 2 {
		t.Fatalf("top is %T %s, want an or of two terms", c, c)
	}
	and, ok := or.Terms[0].(*And)
	if !ok || len(and.Terms) != 2 {
		t.Fatalf("first term is %T %s, want an and of two terms", or.Terms[0], or.Terms[0])
	}
	if not, ok := and.Terms[0].(*Not); !ok || not.X.(*Ref).Name != "a" {
		t.Errorf("first term of the and is %T %s, want not a", and.Terms[0], and.Terms[0])
	}
}

// TestConditionLocations checks the offsets and positions of the nodes.
func TestConditionLocations(t *testing.T) {
	c, err := ParseCondition("sel and\n  not 1 of f*")
	if err != nil {
		t.Fatal(err)
	}
	and := c.(*And)
	not := and.Terms[1].(*Not)
	of := not.X.(*Of)
	for _, x := range []struct {
		node      Cond
		off, l, c int
	}{{and, 0, 1, 1}, {and.Terms[0], 0, 1, 1}, {not, 10, 2, 3}, {of, 14, 2, 7}} {
		l := x.node.Where()
		if l.Offset != x.off || l.Pos.Line != x.l || l.Pos.Col != x.c {
			t.Errorf("%s at %+v, want offset %d line %d col %d", x.node, l, x.off, x.l, x.c)
		}
	}
}

func TestMatchPattern(t *testing.T) {
	cases := []struct {
		pattern, name string
		want          bool
	}{
		{"sel*", "sel", true},
		{"sel*", "selection_1", true},
		{"sel*", "xsel", false},
		{"*sel", "my_sel", true},
		{"*sel", "sel_x", false},
		{"*", "", true},
		{"*", "anything", true},
		{"a*b*c", "abc", true},
		{"a*b*c", "aXbYc", true},
		{"a*b*c", "aXbYcZ", false},
		{"a*b*c", "acb", false},
		{"sel", "sel", true},
		{"sel", "sel2", false},
		{"**", "x", true},
		{"*a*a*a*a*b", strings.Repeat("a", 200), false},
	}
	for _, c := range cases {
		if got := matchPattern(c.pattern, c.name); got != c.want {
			t.Errorf("matchPattern(%q, %q) = %v, want %v", c.pattern, c.name, got, c.want)
		}
	}
}
