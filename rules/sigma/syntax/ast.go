package syntax

import (
	"fmt"
	"strconv"
	"time"
)

// Pos is a position in a file. Line and Col are 1-based; Col counts
// characters as YAML does. A zero Line means the whole file, a zero Col the
// whole line.
type Pos struct {
	File      string
	Line, Col int
}

// String formats p as file:line:col, leaving out what is zero.
func (p Pos) String() string {
	switch {
	case p.Line == 0:
		return p.File
	case p.Col == 0:
		return p.File + ":" + strconv.Itoa(p.Line)
	}
	return p.File + ":" + strconv.Itoa(p.Line) + ":" + strconv.Itoa(p.Col)
}

// Error is a problem in a Sigma file: where, which Sigma feature (see the
// package documentation for the names) and what. ParseFile returns only
// *Error values; Meta.Warnings holds findings of the same type that do not
// stop a document from being used.
type Error struct {
	Pos     Pos
	Feature string
	Msg     string
}

// Error formats e as "file:line:col: msg (feature)".
func (e *Error) Error() string {
	return fmt.Sprintf("%s: %s (%s)", e.Pos, e.Msg, e.Feature)
}

// Document is one YAML document of a Sigma file: a *Rule, a *Correlation or
// a *Filter.
type Document interface {
	// Metadata returns the metadata the three kinds share.
	Metadata() *Meta
	document()
}

var (
	_ Document = (*Rule)(nil)
	_ Document = (*Correlation)(nil)
	_ Document = (*Filter)(nil)
)

// Meta is the metadata common to rules, correlations and filters. Strings
// are as written; absent keys are empty.
type Meta struct {
	Title       string
	ID          string // a UUID by the specification; other text is kept, with a warning
	Name        string // a unique name correlations may refer to instead of the ID
	Related     []Related
	Taxonomy    string
	Status      string // stable, test, experimental, deprecated or unsupported
	Description string
	License     string
	Author      string
	Date        string // YYYY-MM-DD by the specification; other text is kept, with a warning
	Modified    string
	References  []string
	Tags        []string
	// FalsePositives may be written as one string or a list.
	FalsePositives []string
	Level          string // informational, low, medium, high or critical
	Fields         []string
	Scope          []string
	// Custom holds the top-level keys the specification does not define, as
	// Sigma allows: strings, int64, float64, bool, nil, []any and
	// map[string]any.
	Custom map[string]any
	// Warnings are findings that do not stop the document from being used:
	// an id that is not a UUID, a date not in YYYY-MM-DD, a search
	// identifier no condition uses.
	Warnings []*Error
	// Pos is where the document's first key is.
	Pos Pos
}

// Metadata returns m.
func (m *Meta) Metadata() *Meta { return m }

// Related is one entry of the related list: another rule and how this one
// relates to it (derived, obsolete, merged, renamed, similar, correlation).
type Related struct {
	ID   string
	Type string
	Pos  Pos
}

// LogSource selects the events a rule or filter applies to.
type LogSource struct {
	Category   string
	Product    string
	Service    string
	Definition string            // prose for people; no converter evaluates it
	Custom     map[string]string // other keys, which Sigma allows
	Pos        Pos
}

// Rule is a detection rule.
type Rule struct {
	Meta
	LogSource LogSource
	Detection Detection
}

func (*Rule) document() {}

// Detection is the detection section of a rule, or the filter section of a
// filter.
type Detection struct {
	// Selections are the search identifiers by name, Order their names as
	// written.
	Selections map[string]*Selection
	Order      []string
	// Conditions has one entry per condition. A rule may write a list of
	// conditions: it matches when any of them does. A filter has exactly one.
	Conditions []Condition
	// Timeframe is the deprecated Sigma v1 detection timeframe, zero when
	// absent. It meant a window for the v1 aggregations, which this package
	// rejects; it is kept so the compiler can say why it ignores or refuses
	// it.
	Timeframe time.Duration
	Pos       Pos
}

// Condition is one condition: its text as written, and the parsed
// expression with every search identifier it names checked and every x-of
// pattern resolved.
type Condition struct {
	Text string
	Expr Cond
	Pos  Pos
}

// Selection is one search identifier. It matches an event when any of its
// Alternatives does; an alternative matches when all its items do.
//
// A YAML map is one alternative with an item per key. A list of maps is one
// alternative per map. A list of plain values, or one plain value, is a
// keyword search: one alternative with one item whose Field is empty, its
// values OR-ed. In a list mixing maps and plain values, each run of plain
// values is one such keyword alternative.
type Selection struct {
	Name         string
	Pos          Pos
	Alternatives [][]Item
}

// Item is one key of a selection map and its values, or a keyword search.
// An event matches when the field matches any of the values, or all of them
// with the all modifier.
type Item struct {
	// Field is the field name, empty for a keyword search (a plain list, or a
	// key like '|all' with modifiers but no field).
	Field string
	// Modifiers are the names after the field, split at '|', in order and
	// unchecked: the match package knows which exist.
	Modifiers []string
	// Values are as written. A YAML list gives several values, an empty list
	// none (which no matcher accepts: the compiler reports it at Pos).
	Values []Value
	Pos    Pos
}

// Kind is the type of a Value as YAML wrote it.
type Kind uint8

// The kinds of value.
const (
	String Kind = iota // quoted or plain text, including '' (empty)
	Number             // a plain decimal integer or decimal fraction
	Bool               // plain true or false
	Null               // plain null or ~, or nothing at all
)

// String names k.
func (k Kind) String() string {
	switch k {
	case String:
		return "string"
	case Number:
		return "number"
	case Bool:
		return "bool"
	case Null:
		return "null"
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Value is one value of a selection. Raw is the text after YAML unquoting,
// nothing more: Sigma wildcards (* and ?) and backslash escapes are not
// interpreted, nor are modifiers applied.
//
// Only plain decimal literals such as 3389, -1 or 2.5 are Numbers. Other
// spellings YAML may read as numbers (0x1F, 0o17, 00000429, 1_000, 1e3,
// .inf) are Strings: YAML 1.1, which the reference implementation reads,
// and YAML 1.2 disagree on them, and Sigma compares values as text. Likewise
// only true and false are Bools; yes, no, on and off are Strings.
type Value struct {
	Kind Kind
	Raw  string
	Pos  Pos
}

// Correlation is a correlation rule: it matches when the rules it refers to
// matched in a certain way within Timespan, per group of GroupBy values.
type Correlation struct {
	Meta
	// Type is event_count, value_count, temporal, temporal_ordered,
	// value_sum, value_avg or value_percentile.
	Type    string
	TypePos Pos
	// Rules are the referred rules or correlations, by id or name, in order
	// (which matters to temporal_ordered).
	Rules []RuleRef
	// Aliases maps an alias name, usable in GroupBy, to the field it stands
	// for in the events of each referred rule: alias → rule reference →
	// field. Every rule reference in it is one of Rules.
	Aliases     map[string]map[string]string
	GroupBy     []string
	Timespan    time.Duration
	TimespanPos Pos
	Condition   CorrelationCondition
	// Generate asks for the referred rules to also be used on their own.
	Generate bool
	// SectionPos is where the correlation section is; Meta.Pos is where the
	// document is.
	SectionPos Pos
}

func (*Correlation) document() {}

// RuleRef names a rule or correlation by its id or name.
type RuleRef struct {
	Name string
	Pos  Pos
}

// CorrelationCondition says when a correlation matches. Either Thresholds
// or Expr is set, or neither:
//
//   - Thresholds all hold for the number of events (event_count), of
//     distinct values of Fields (value_count), for the sum, average or
//     percentile of Fields (value_sum, value_avg, value_percentile), or, for
//     temporal types, for the number of distinct referred rules that
//     matched.
//   - Expr (temporal types only) says which referred rules must match.
//   - Neither: a temporal correlation without condition, which matches when
//     all referred rules do.
type CorrelationCondition struct {
	Thresholds []Threshold
	// Fields is the field whose values are counted (value_count) or
	// aggregated (value_sum, value_avg, value_percentile). The specification
	// allows a list.
	Fields []string
	// Percentile is the percentile for value_percentile, nil when absent.
	Percentile *int
	// Expr is a boolean expression over rule references (and, or, not and
	// parentheses; no x-of), for temporal types. Every reference is one of
	// the correlation's Rules.
	Expr Cond
	Text string
	Pos  Pos
}

// Threshold is one comparison of the count or aggregated value: Op is gt,
// gte, lt, lte, eq or neq, Value the number it is compared with (an integer
// for counts), Raw the number as written.
type Threshold struct {
	Op    string
	Value float64
	Raw   string
	Pos   Pos
}

// Filter is a meta filter, for tuning rules to an environment: it applies
// to the rules it names whose log source its own log source covers. The
// specification leaves open how its condition joins theirs; the reference
// implementation (pySigma) makes each condition C of such a rule
// "(C) and (F)" for the filter's condition F, so filters are written with
// "not", as in "condition: not selection".
type Filter struct {
	Meta
	LogSource LogSource
	// Rules are the rules the filter applies to. AnyRule is set instead when
	// the filter says rules: any (specification v2.2): every rule of the log
	// source.
	Rules    []RuleRef
	AnyRule  bool
	RulesPos Pos
	// Detection holds the filter's selections and its one condition.
	Detection Detection
}

func (*Filter) document() {}
