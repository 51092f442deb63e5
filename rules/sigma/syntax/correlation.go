package syntax

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// correlationTypes are the types of specification v2.1.
var correlationTypes = []string{
	"event_count", "value_count", "temporal", "temporal_ordered", "value_sum", "value_avg", "value_percentile",
}

var thresholdOps = []string{"gt", "gte", "lt", "lte", "eq", "neq"}

var correlationKeys = append(slices.Clone(metaKeys), "correlation", "generate")

// article puts "a" or "an" before typ.
func article(typ string) string {
	if strings.ContainsAny(typ[:min(1, len(typ))], "aeiou") {
		return "an " + typ
	}
	return "a " + typ
}

func isTemporal(typ string) bool { return typ == "temporal" || typ == "temporal_ordered" }

// aggregates reports whether typ counts or aggregates the values of a
// field, which its condition then names.
func aggregates(typ string) bool { return strings.HasPrefix(typ, "value_") }

func (p *parser) correlation(root *yaml.Node) Document {
	c := &Correlation{Meta: Meta{Pos: p.pos(root)}}
	p.require(root, present(root), "a correlation rule", "", "title", "correlation")
	var section, generate *yaml.Node
	for _, f := range fields(root) {
		switch {
		case p.meta(&c.Meta, f):
		case f.key.Value == "correlation":
			section = f.val
		case f.key.Value == "generate":
			generate = f.val
		default:
			p.custom(&c.Meta, f, correlationKeys)
		}
	}
	if section == nil || isNull(section) || !p.mapping(section, "correlation", "correlation") {
		return c
	}
	c.SectionPos = p.pos(section)
	var cond, aliases *yaml.Node
	have := present(section)
	for _, f := range fields(section) {
		k, v := f.key.Value, f.val
		if isNull(v) {
			continue // reported as missing where required
		}
		switch k {
		case "type":
			c.TypePos = p.pos(v)
			if s, ok := p.text(v, "correlation.type", "type"); ok {
				c.Type = s
				if !slices.Contains(correlationTypes, s) {
					p.errorf(v, "correlation.type", "correlation type %q is not one of %s", s, strings.Join(correlationTypes, ", "))
				}
			}
		case "rules":
			c.Rules = p.ruleRefs(v, "correlation.rules")
		case "aliases":
			aliases = v
		case "group-by":
			c.GroupBy, _ = p.texts(v, "correlation.group-by", "group-by", true)
		case "timespan":
			c.TimespanPos = p.pos(v)
			if s, ok := p.text(v, "correlation.timespan", "timespan"); ok {
				var ok bool
				if c.Timespan, ok = parseTimespan(s); !ok {
					p.errorf(v, "correlation.timespan", "%s", timespanError(s))
				}
			}
		case "condition":
			cond = v
		case "generate":
			if generate != nil {
				p.errorf(f.key, "correlation.generate", "generate is written both here and at the top level")
			}
			generate = v
		default:
			p.errorf(f.key, "correlation", "the correlation section has no key %q", k)
		}
	}
	p.require(section, have, "the correlation section", "correlation.", "type", "rules", "timespan")
	if generate != nil && !isNull(generate) {
		if generate.Kind == yaml.ScalarNode && generate.ShortTag() == "!!bool" {
			c.Generate = strings.EqualFold(generate.Value, "true")
		} else {
			p.errorf(generate, "correlation.generate", "generate must be true or false, not %s", describeNode(generate))
		}
	}
	if !have["group-by"] {
		p.warnf(section, "correlation.group-by", "the correlation has no group-by: all events form one group")
	}
	if aliases != nil {
		c.Aliases = p.aliases(aliases, c)
	}
	switch {
	case cond != nil:
		c.Condition = p.correlationCondition(cond, c)
	case c.Type != "" && !isTemporal(c.Type):
		p.errorAt(c.SectionPos, "correlation.condition", "%s correlation needs a condition", article(c.Type))
	}
	return c
}

// ruleRefs parses the rules a correlation or filter refers to: a list of ids
// or names, or one of them on its own.
func (p *parser) ruleRefs(n *yaml.Node, feature string) []RuleRef {
	var nodes []*yaml.Node
	switch n.Kind {
	case yaml.SequenceNode:
		if len(n.Content) == 0 {
			p.errorf(n, feature, "rules is an empty list")
		}
		nodes = n.Content
	case yaml.ScalarNode:
		nodes = []*yaml.Node{n}
	default:
		p.errorf(n, feature, "rules must be a list of rule ids or names, not %s", describeNode(n))
		return nil
	}
	refs := make([]RuleRef, 0, len(nodes))
	seen := make(map[string]bool, len(nodes))
	for _, e := range nodes {
		s, ok := p.text(e, feature, "a rule reference")
		if !ok {
			continue
		}
		if s == "" {
			p.errorf(e, feature, "a rule reference is empty")
			continue
		}
		if seen[s] {
			p.errorf(e, feature, "rule %q is listed twice", s)
			continue
		}
		seen[s] = true
		refs = append(refs, RuleRef{Name: s, Pos: p.pos(e)})
	}
	return refs
}

// ruleSet returns the names of the rules of c.
func ruleSet(c *Correlation) map[string]bool {
	set := make(map[string]bool, len(c.Rules))
	for _, r := range c.Rules {
		set[r.Name] = true
	}
	return set
}

func (p *parser) aliases(n *yaml.Node, c *Correlation) map[string]map[string]string {
	const feature = "correlation.aliases"
	if !p.mapping(n, feature, "aliases") {
		return nil
	}
	out := make(map[string]map[string]string, len(n.Content)/2)
	rules := ruleSet(c)
	groupBy := make(map[string]bool, len(c.GroupBy))
	for _, g := range c.GroupBy {
		groupBy[g] = true
	}
	for _, f := range fields(n) {
		alias := f.key.Value
		if alias == "" {
			p.errorf(f.key, feature, "an alias needs a name")
			continue
		}
		if !p.mapping(f.val, feature, "alias "+quote(alias)) {
			continue
		}
		if len(f.val.Content) == 0 {
			p.errorf(f.val, feature, "alias %q maps no rule to a field", alias)
			continue
		}
		m := make(map[string]string, len(f.val.Content)/2)
		for _, rf := range fields(f.val) {
			ref := rf.key.Value
			if len(rules) > 0 && !rules[ref] {
				p.errorf(rf.key, feature, "alias %q names rule %q, which is not one of the correlation's rules", alias, ref)
			}
			if s, ok := p.text(rf.val, feature, "the field of alias "+quote(alias)); ok {
				m[ref] = s
			}
		}
		out[alias] = m
		if !groupBy[alias] {
			p.warnf(f.key, feature, "alias %q is not used in group-by", alias)
		}
	}
	return out
}

func (p *parser) correlationCondition(n *yaml.Node, c *Correlation) CorrelationCondition {
	const feature = "correlation.condition"
	cc := CorrelationCondition{Pos: p.pos(n)}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!str" {
		if c.Type != "" && !isTemporal(c.Type) {
			p.errorf(n, feature, "%s correlation needs a condition map such as {gte: 10}; "+
				"an expression over rules is for temporal and temporal_ordered ones", article(c.Type))
			return cc
		}
		expr, err := parseCond(n.Value, p.locator(n), true)
		if err != nil {
			p.errorAt(err.Pos, err.Feature, "%s", err.Msg)
			return cc
		}
		cc.Expr, cc.Text = expr, n.Value
		p.checkRuleExpr(expr, c)
		return cc
	}
	if !p.mapping(n, feature, "condition") {
		return cc
	}
	errs := len(p.errs)
	counts := c.Type == "event_count" || c.Type == "value_count" || isTemporal(c.Type) // thresholds bound a count
	for _, f := range fields(n) {
		k, v := f.key.Value, f.val
		switch {
		case slices.Contains(thresholdOps, k):
			t := Threshold{Op: k, Raw: v.Value, Pos: p.pos(v)}
			if v.Kind != yaml.ScalarNode || (v.ShortTag() != "!!int" && v.ShortTag() != "!!float") {
				p.errorf(v, feature, "%s must be a number, not %s", k, describeNode(v))
				continue
			}
			// Other spellings (0x10, 010, 1_000) read differently in YAML
			// 1.1 and 1.2.
			var err error
			if !decimalIntRE.MatchString(v.Value) && !decimalFloatRE.MatchString(v.Value) {
				err = strconv.ErrSyntax
			} else {
				t.Value, err = strconv.ParseFloat(v.Value, 64)
			}
			if err != nil {
				p.errorf(v, feature, "%s %q is not a number in decimal", k, v.Value)
				continue
			}
			if counts && (t.Value < 0 || t.Value != math.Trunc(t.Value)) {
				p.errorf(v, feature, "%s %s: a count is a whole number, 0 or more", k, v.Value)
				continue
			}
			cc.Thresholds = append(cc.Thresholds, t)
		case k == "field":
			cc.Fields, _ = p.texts(v, feature, "field", true)
			if !aggregates(c.Type) && c.Type != "" {
				p.errorf(f.key, feature, "%s correlation has no field; field is for value_count, value_sum, value_avg and value_percentile", article(c.Type))
			}
		case k == "percentile":
			if c.Type != "value_percentile" {
				p.errorf(f.key, feature, "percentile is only for value_percentile correlations")
				continue
			}
			i, err := strconv.Atoi(v.Value)
			if v.Kind != yaml.ScalarNode || !decimalIntRE.MatchString(v.Value) || err != nil || i < 0 || i > 100 {
				p.errorf(v, feature, "percentile must be a whole number from 0 to 100, not %s", describeNode(v))
				continue
			}
			cc.Percentile = &i
		default:
			p.errorf(f.key, feature, "the condition has no key %q; it takes %s, field and percentile", k, strings.Join(thresholdOps, ", "))
		}
	}
	if len(cc.Thresholds) == 0 && len(p.errs) == errs {
		p.errorf(n, feature, "the condition needs at least one of %s", strings.Join(thresholdOps, ", "))
	}
	if aggregates(c.Type) && len(cc.Fields) == 0 {
		p.errorf(n, feature, "%s correlation needs the field whose values it aggregates", article(c.Type))
	}
	return cc
}

// checkRuleExpr checks that the rule references of a temporal condition and
// the correlation's rules are the same set.
func (p *parser) checkRuleExpr(expr Cond, c *Correlation) {
	used := make(map[string]bool)
	rules := ruleSet(c)
	walk(expr, func(x Cond) {
		if r, ok := x.(*Ref); ok {
			used[r.Name] = true
			if len(rules) > 0 && !rules[r.Name] {
				p.errorAt(r.Pos, "correlation.condition", "%q is not one of the correlation's rules", r.Name)
			}
		}
	})
	for _, r := range c.Rules {
		if !used[r.Name] {
			p.errorAt(r.Pos, "correlation.condition", "rule %q is not used by the condition", r.Name)
		}
	}
}

// timespanUnits are the units of a timespan: s, m, h and d by the
// specification, and w, which the reference implementation also reads.
var timespanUnits = map[byte]time.Duration{
	's': time.Second,
	'm': time.Minute,
	'h': time.Hour,
	'd': 24 * time.Hour,
	'w': 7 * 24 * time.Hour,
}

// parseTimespan parses a Sigma timespan: a positive whole number and a
// unit, such as 90m.
func parseTimespan(s string) (time.Duration, bool) {
	if len(s) < 2 {
		return 0, false
	}
	unit, ok := timespanUnits[s[len(s)-1]]
	num := s[:len(s)-1]
	if !ok || !isDigits(num) {
		return 0, false
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n <= 0 || n > math.MaxInt64/int64(unit) {
		return 0, false
	}
	return time.Duration(n) * unit, true
}

// timespanError says what is wrong with the timespan s.
func timespanError(s string) string {
	q := quote(s)
	switch {
	case s == "":
		return "timespan is empty; write a number and a unit, e.g. 5m"
	case strings.HasSuffix(s, "M") || strings.HasSuffix(s, "y"):
		return "timespan " + q + ": months and years have no fixed length; write days, e.g. 30d"
	case isDigits(s):
		return "timespan " + q + " has no unit; write s, m, h or d after the number, e.g. " + s + "s"
	}
	if d, ok := timespanUnits[s[len(s)-1]]; ok && isDigits(s[:len(s)-1]) {
		if n, err := strconv.ParseInt(s[:len(s)-1], 10, 64); err == nil && n == 0 {
			return "timespan " + q + " is zero"
		}
		return "timespan " + q + " is longer than " + strconv.FormatInt(math.MaxInt64/int64(d), 10) + s[len(s)-1:]
	}
	return "timespan " + q + " is not a whole number and a unit (s, m, h, d), e.g. 5m"
}
