package syntax

import (
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

var filterKeys = append(slices.Clone(metaKeys), "logsource", "filter")

func (p *parser) filter(root *yaml.Node) Document {
	fl := &Filter{Meta: Meta{Pos: p.pos(root)}}
	p.require(root, present(root), "a filter", "", "title", "logsource", "filter")
	var section *yaml.Node
	for _, f := range fields(root) {
		switch {
		case p.meta(&fl.Meta, f):
		case f.key.Value == "logsource":
			fl.LogSource = p.logSource(f.val)
		case f.key.Value == "filter":
			section = f.val
		default:
			p.custom(&fl.Meta, f, filterKeys)
		}
	}
	if section == nil || isNull(section) || !p.mapping(section, "filter", "filter") {
		return fl
	}
	d := &fl.Detection
	d.Pos = p.pos(section)
	var rules, cond *yaml.Node
	for _, f := range fields(section) {
		switch f.key.Value {
		case "rules":
			rules = f.val
		case "condition":
			cond = f.val
		default:
			p.addSelection(d, f)
		}
	}
	switch {
	case rules == nil || isNull(rules):
		p.errorAt(d.Pos, "filter.rules", "the filter section has no rules; list the rules it applies to")
	case rules.Kind == yaml.ScalarNode && strings.EqualFold(rules.Value, "any"):
		fl.AnyRule, fl.RulesPos = true, p.pos(rules)
	default:
		fl.RulesPos = p.pos(rules)
		fl.Rules = p.ruleRefs(rules, "filter.rules")
	}
	if cond == nil || isNull(cond) {
		p.errorAt(d.Pos, "condition", "the filter section has no condition")
	} else {
		d.Conditions = p.conditions(cond, false)
	}
	if len(d.Order) == 0 {
		p.errorAt(d.Pos, "filter", "the filter section has no search identifier")
	}
	p.resolve(d)
	return fl
}
