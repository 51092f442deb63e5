package syntax

import (
	"bytes"
	"regexp"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// detection parses a rule's detection section.
func (p *parser) detection(n *yaml.Node) Detection {
	d := Detection{Pos: p.pos(n)}
	if !p.mapping(n, "detection", "detection") {
		return d
	}
	var cond *yaml.Node
	for _, f := range fields(n) {
		switch f.key.Value {
		case "condition":
			cond = f.val
		case "timeframe":
			p.warnf(f.key, "timeframe", "timeframe is deprecated: it belonged to the Sigma v1 aggregations; correlation rules have a timespan")
			if s, ok := p.text(f.val, "timeframe", "timeframe"); ok {
				d.Timeframe, ok = parseTimespan(s)
				if !ok {
					p.errorf(f.val, "timeframe", "%s", timespanError(s))
				}
			}
		default:
			p.addSelection(&d, f)
		}
	}
	if cond == nil || isNull(cond) {
		p.errorAt(d.Pos, "condition", "detection has no condition")
	} else {
		d.Conditions = p.conditions(cond, true)
	}
	if len(d.Order) == 0 {
		p.errorAt(d.Pos, "detection", "detection has no search identifier")
	}
	return d
}

func (p *parser) addSelection(d *Detection, f field) {
	s := p.selection(f.key, f.val)
	if d.Selections == nil {
		d.Selections = make(map[string]*Selection)
	}
	d.Selections[s.Name] = s
	d.Order = append(d.Order, s.Name)
}

// selection parses one search identifier.
func (p *parser) selection(k, v *yaml.Node) *Selection {
	s := &Selection{Name: k.Value, Pos: p.pos(k)}
	if s.Name == "" {
		p.errorf(k, "detection", "a search identifier needs a name")
	}
	switch v.Kind {
	case yaml.MappingNode:
		if len(v.Content) == 0 {
			p.errorf(v, "detection", "search identifier %q is an empty map", s.Name)
			return s
		}
		s.Alternatives = [][]Item{p.items(v)}
	case yaml.SequenceNode:
		if len(v.Content) == 0 {
			p.errorf(v, "detection", "search identifier %q is an empty list", s.Name)
			return s
		}
		var keywords []Value
		flush := func() {
			if keywords != nil {
				s.Alternatives = append(s.Alternatives, []Item{{Values: keywords, Pos: keywords[0].Pos}})
				keywords = nil
			}
		}
		for _, e := range v.Content {
			switch e.Kind {
			case yaml.MappingNode:
				flush()
				if len(e.Content) == 0 {
					p.errorf(e, "detection", "search identifier %q has an empty map in its list", s.Name)
					continue
				}
				s.Alternatives = append(s.Alternatives, p.items(e))
			case yaml.ScalarNode:
				if isNull(e) {
					p.errorf(e, "detection", "search identifier %q has a null keyword; keywords are text", s.Name)
					continue
				}
				keywords = append(keywords, p.value(e))
			default:
				p.errorf(e, "detection", "search identifier %q has a list in its list; write its entries as maps or plain values", s.Name)
			}
		}
		flush()
	default:
		if isNull(v) {
			p.errorf(v, "detection", "search identifier %q has no definition", s.Name)
			return s
		}
		// One plain value: a keyword search for it (specification v2.2).
		val := p.value(v)
		s.Alternatives = [][]Item{{{Values: []Value{val}, Pos: val.Pos}}}
	}
	return s
}

// items parses a selection map into one AND-group of items.
func (p *parser) items(m *yaml.Node) []Item {
	fs := fields(m)
	items := make([]Item, 0, len(fs))
	for _, f := range fs {
		it := Item{Pos: p.pos(f.key)}
		it.Field, it.Modifiers = p.splitKey(f.key)
		switch v := f.val; v.Kind {
		case yaml.ScalarNode:
			it.Values = []Value{p.value(v)}
		case yaml.SequenceNode:
			it.Values = make([]Value, 0, len(v.Content))
			for _, e := range v.Content {
				if e.Kind != yaml.ScalarNode {
					p.errorf(e, "detection", "the values of %q must be plain values, not %s", f.key.Value, describeNode(e))
					continue
				}
				if isNull(e) && len(v.Content) > 1 {
					p.errorf(e, "detection",
						"null cannot be one of several values of %q; match it in a selection of its own", f.key.Value)
					continue
				}
				it.Values = append(it.Values, p.value(e))
			}
		default:
			p.errorf(v, "detection", "the value of %q must be a plain value or a list of them, not %s", f.key.Value, describeNode(v))
		}
		items = append(items, it)
	}
	return items
}

var modifierRE = regexp.MustCompile(`^[A-Za-z0-9_/-]+$`)

// splitKey splits a selection key "field|mod1|mod2" into the field and the
// modifiers in order, reporting modifiers that are not names.
func (p *parser) splitKey(k *yaml.Node) (string, []string) {
	parts := strings.Split(k.Value, "|")
	if len(parts) == 1 {
		return parts[0], nil
	}
	for _, m := range parts[1:] {
		if !modifierRE.MatchString(m) {
			if m == "" {
				p.errorf(k, "modifier", "empty modifier in %q", k.Value)
			} else {
				p.errorf(k, "modifier", "modifier %q in %q is not a name", m, k.Value)
			}
		}
	}
	return parts[0], parts[1:]
}

var (
	decimalIntRE   = regexp.MustCompile(`^[-+]?(0|[1-9][0-9]*)$`)
	decimalFloatRE = regexp.MustCompile(`^[-+]?(0|[1-9][0-9]*)\.[0-9]+([eE][-+]?[0-9]+)?$`)
)

// value converts a checked scalar into a Value.
func (p *parser) value(n *yaml.Node) Value {
	v := Value{Raw: n.Value, Pos: p.pos(n)}
	switch n.ShortTag() {
	case "!!null":
		v.Kind = Null
	case "!!bool":
		v.Kind = Bool
	case "!!int", "!!float":
		if decimalIntRE.MatchString(n.Value) || decimalFloatRE.MatchString(n.Value) {
			v.Kind = Number
		}
	}
	return v
}

// conditions parses a condition: one string, or with list set a list of
// them.
func (p *parser) conditions(n *yaml.Node, list bool) []Condition {
	var nodes []*yaml.Node
	switch {
	case n.Kind == yaml.SequenceNode && list:
		if len(n.Content) == 0 {
			p.errorf(n, "condition", "the list of conditions is empty")
		}
		nodes = n.Content
	case n.Kind == yaml.ScalarNode && n.ShortTag() == "!!str":
		nodes = []*yaml.Node{n}
	default:
		what := "a string"
		if list {
			what = "a string or a list of strings"
		}
		p.errorf(n, "condition", "condition must be %s, not %s", what, describeNode(n))
		return nil
	}
	out := make([]Condition, 0, len(nodes))
	for _, c := range nodes {
		if c.Kind != yaml.ScalarNode || c.ShortTag() != "!!str" {
			p.errorf(c, "condition", "each condition must be a string, not %s", describeNode(c))
			continue
		}
		expr, err := parseCond(c.Value, p.locator(c), false)
		if err != nil {
			p.errorAt(err.Pos, err.Feature, "%s", err.Msg)
			continue
		}
		out = append(out, Condition{Text: c.Value, Expr: expr, Pos: p.pos(c)})
	}
	return out
}

// locator maps offsets of the scalar n's text onto the file when its
// characters are the file's one to one: when the source line, from the
// scalar on, is its text, quoted or not. A scalar over several lines, or
// with escapes, is located at its start only.
func (p *parser) locator(n *yaml.Node) locator {
	l := locator{base: p.pos(n), text: n.Value}
	var quote string
	switch n.Style {
	case 0, yaml.TaggedStyle:
	case yaml.SingleQuotedStyle:
		quote, l.prefix = "'", 1
	case yaml.DoubleQuotedStyle:
		quote, l.prefix = `"`, 1
	default:
		return l
	}
	// A plain scalar over several lines has a longer text than its first
	// line holds, so the prefix test fails for it too.
	line := p.sourceLine(n)
	l.exact = !strings.ContainsAny(n.Value, "\n\r") && bytes.HasPrefix(line, []byte(quote+n.Value+quote))
	return l
}

// sourceLine returns the source of the line of n from n's column on, or
// nil if the source does not have it.
func (p *parser) sourceLine(n *yaml.Node) []byte {
	if p.lines == nil {
		p.lines = []int{0}
		for i, c := range p.src {
			if c == '\n' {
				p.lines = append(p.lines, i+1)
			}
		}
	}
	if n.Line < 1 || n.Line > len(p.lines) {
		return nil
	}
	src := p.src[p.lines[n.Line-1]:]
	if i := bytes.IndexByte(src, '\n'); i >= 0 {
		src = src[:i]
	}
	for range n.Column - 1 {
		_, size := utf8.DecodeRune(src)
		if size == 0 {
			return nil
		}
		src = src[size:]
	}
	return src
}

// patternWork bounds the matching of x-of patterns against search
// identifiers in one document, in characters of pattern times characters
// of name: matching is not linear, and a hostile file could otherwise ask
// for billions of steps.
const patternWork = 50_000_000

// resolve checks that every search identifier the conditions of d name
// exists, fills in the names each x-of pattern matches, and warns of search
// identifiers no condition uses.
func (p *parser) resolve(d *Detection) {
	if len(d.Order) == 0 {
		return // reported: every name would be unknown
	}
	used := make(map[string]bool, len(d.Order))
	var folded map[string]string // lower-cased names, for a hint; made on first need
	for _, c := range d.Conditions {
		walk(c.Expr, func(x Cond) {
			if len(p.errs) > maxErrors {
				return
			}
			switch x := x.(type) {
			case *Ref:
				if _, ok := d.Selections[x.Name]; ok {
					used[x.Name] = true
					return
				}
				if folded == nil {
					folded = make(map[string]string, len(d.Order))
					for _, name := range d.Order {
						if l := strings.ToLower(name); folded[l] == "" {
							folded[l] = name
						}
					}
				}
				msg := "unknown search identifier %q"
				if name, ok := folded[strings.ToLower(x.Name)]; ok {
					msg += " (search identifiers are case-sensitive: did you mean " + quote(name) + "?)"
				}
				p.errorAt(x.Pos, "condition", msg, x.Name)
			case *Of:
				x.Names = p.match(x, d.Order)
				for _, name := range x.Names {
					used[name] = true
				}
			}
		})
	}
	if len(p.errs) > 0 {
		return // the warnings would not be seen
	}
	for _, name := range d.Order {
		if !used[name] {
			p.warnAt(d.Selections[name].Pos, "detection", "search identifier %q is not used by any condition", name)
		}
	}
}

// match returns the names the pattern of x matches, in order, reporting
// when there is none.
func (p *parser) match(x *Of, names []string) []string {
	if p.work > patternWork {
		return nil // reported
	}
	var out []string
	for _, name := range names {
		if x.Pattern == "them" {
			if !strings.HasPrefix(name, "_") {
				out = append(out, name)
			}
			continue
		}
		if p.work += (len(name) + 1) * (len(x.Pattern) + 1); p.work > patternWork {
			p.errorAt(x.Pos, "limit", "matching the x-of patterns of the conditions against %d search identifiers is too much work", len(names))
			return nil
		}
		if matchPattern(x.Pattern, name) {
			out = append(out, name)
		}
	}
	if len(out) == 0 && p.work <= patternWork {
		if x.Pattern == "them" {
			p.errorAt(x.Pos, "condition", "'them' matches no search identifier: all start with '_'")
		} else {
			p.errorAt(x.Pos, "condition", "pattern %q matches no search identifier", x.Pattern)
		}
	}
	return out
}

// walk calls fn on c and every node below it.
func walk(c Cond, fn func(Cond)) {
	if c == nil {
		return
	}
	fn(c)
	switch c := c.(type) {
	case *And:
		for _, t := range c.Terms {
			walk(t, fn)
		}
	case *Or:
		for _, t := range c.Terms {
			walk(t, fn)
		}
	case *Not:
		walk(c.X, fn)
	}
}
