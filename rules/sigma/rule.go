package sigma

import (
	"fmt"

	"github.com/egovsoc/egovsoc/pipeline/event"
	"github.com/egovsoc/egovsoc/rules/sigma/mapping"
)

// rule is a compiled detection rule.
type rule struct {
	idx   int    // in RuleSet.rules
	key   string // canonical key: the rule's id
	name  string // its Sigma name, by which correlations may refer to it
	title string
	src   Source // where it was read

	logsource mapping.LogSource
	route     mapping.Route
	sels      []selection
	cond      node

	meta alertMeta
	// alert is whether a match raises an alert of its own: false for the
	// base rule of correlations that do not ask for it (generate).
	alert bool
	// corr lists, for each value a correlation needs from a matching event,
	// the ECS fields it may be found in (aligned with correlate's Fields).
	corr     [][]event.Field
	corrUsed bool

	atoms   []atomSet // each must hit for the rule to be evaluated (see index.go)
	indexed bool
}

// alertMeta is what every alert of a rule carries.
type alertMeta struct {
	rule     event.Rule
	severity event.Severity
	threat   event.Threat
	refs     []string
	fps      []string
}

// Source is where a rule was read: file and line.
type Source struct {
	File string
	Line int
}

func (s Source) String() string {
	if s.Line == 0 {
		return s.File
	}
	return fmt.Sprintf("%s:%d", s.File, s.Line)
}

// severityOf maps a Sigma level to an alert severity. An unknown level is a
// load error; none at all is medium, pySigma's default.
func severityOf(level string) (event.Severity, error) {
	if level == "" {
		return event.SeverityMedium, nil
	}
	return event.ParseSeverity(level)
}
