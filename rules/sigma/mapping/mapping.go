package mapping

import (
	_ "embed"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
)

//go:embed ecs.yaml
var ecsYAML []byte

// ErrUnknownLogSource is wrapped by Route's error when no entry routes a
// rule's log source: the compiler rejects such a rule, saying why.
var ErrUnknownLogSource = errors.New("unknown log source")

// LogSource is a Sigma rule's logsource: the keys Sigma defines for choosing
// events. An empty key is not named. Values compare case-insensitively.
type LogSource struct{ Product, Category, Service string }

// String writes the log source as Sigma does: {product: windows, category: process_creation}.
func (ls LogSource) String() string {
	var parts []string
	if ls.Product != "" {
		parts = append(parts, "product: "+ls.Product)
	}
	if ls.Category != "" {
		parts = append(parts, "category: "+ls.Category)
	}
	if ls.Service != "" {
		parts = append(parts, "service: "+ls.Service)
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// IsZero reports whether the log source names nothing.
func (ls LogSource) IsZero() bool { return ls == LogSource{} }

// Target is one ECS field a Sigma field maps to, with how a rule's value
// reaches it. A target with neither Values nor Prefix takes the rule's value
// as written, whatever its modifiers.
type Target struct {
	Field string
	// Values, when not nil, says that the ECS field holds the rule's value
	// under other names: a rule value v (a plain value, compared
	// case-insensitively) is looked for as any of Values[lower(v)]. A rule
	// value not in the map, or one with a modifier that is not plain
	// equality, cannot match this target. Keys are lower case.
	Values map[string][]string
	// Prefix, when not empty, says that the ECS field holds one part of a
	// composite raw value: only rule values that start with Prefix
	// (case-insensitively) apply to this target, with the prefix cut off and
	// the modifiers kept (Hashes|contains: 'SHA256=AB…' looks for 'AB…' in
	// process.hash.sha256). Other rule values cannot match this target.
	Prefix string
}

// Mapping routes Sigma log sources to ECS events and maps Sigma field names
// to ECS paths. It is immutable after Load and safe for concurrent use.
type Mapping struct {
	version string
	entries []*entry

	cache sync.Map // LogSource (lower case) → []*entry, most specific first
}

// entry is one logsources item of the YAML file.
type entry struct {
	ls       LogSource // lower case
	line     int
	desc     string
	route    Route
	fields   map[string][]Target
	fold     map[string]string // lower(field) → field
	unmapped string
}

// keys reports how many keys the entry names.
func (e *entry) keys() int {
	n := 0
	for _, s := range []string{e.ls.Product, e.ls.Category, e.ls.Service} {
		if s != "" {
			n++
		}
	}
	return n
}

// rank orders entries by specificity: more keys first; between as many
// keys, category before service before product.
func (e *entry) rank() int {
	r := e.keys() << 3
	if e.ls.Category != "" {
		r |= 4
	}
	if e.ls.Service != "" {
		r |= 2
	}
	if e.ls.Product != "" {
		r |= 1
	}
	return r
}

// productOnly reports whether the entry names a product and nothing else.
func (e *entry) productOnly() bool {
	return e.ls.Product != "" && e.ls.Category == "" && e.ls.Service == ""
}

// matches reports whether every key the entry names equals ls's (ls is lower case).
func (e *entry) matches(ls LogSource) bool {
	eq := func(want, got string) bool { return want == "" || want == got }
	return eq(e.ls.Product, ls.Product) && eq(e.ls.Category, ls.Category) && eq(e.ls.Service, ls.Service)
}

var (
	defaultOnce sync.Once
	defaultMap  *Mapping
)

// Default returns the mapping embedded in the binary (ecs.yaml), parsed once.
// It panics only if the embedded file is broken, which TestDefault rules out.
func Default() *Mapping {
	defaultOnce.Do(func() {
		m, err := Load(ecsYAML)
		if err != nil {
			panic("rules/sigma/mapping: embedded ecs.yaml: " + err.Error())
		}
		defaultMap = m
	})
	return defaultMap
}

// Version is the version the mapping file declares. The compiled rule set and
// its alerts report it.
func (m *Mapping) Version() string { return m.version }

// LogSources returns the log source of every entry, sorted by product,
// category and service.
func (m *Mapping) LogSources() []LogSource {
	out := make([]LogSource, 0, len(m.entries))
	for _, e := range m.entries {
		out = append(out, e.ls)
	}
	slices.SortFunc(out, func(a, b LogSource) int {
		if c := strings.Compare(a.Product, b.Product); c != 0 {
			return c
		}
		if c := strings.Compare(a.Category, b.Category); c != 0 {
			return c
		}
		return strings.Compare(a.Service, b.Service)
	})
	return out
}

// Route returns the condition an event must satisfy to reach rules of log
// source ls: the route of the most specific entry that matches ls. An entry
// naming only a product routes only log sources that name no category and no
// service. The error wraps ErrUnknownLogSource when no entry routes ls.
func (m *Mapping) Route(ls LogSource) (Route, error) {
	if ls.IsZero() {
		return Route{}, fmt.Errorf("logsource names no product, category or service: %w", ErrUnknownLogSource)
	}
	for _, e := range m.cascade(ls) {
		if e.productOnly() && (ls.Category != "" || ls.Service != "") {
			continue
		}
		return e.route.clone(), nil
	}
	return Route{}, fmt.Errorf("no entry of mapping %s routes logsource %s: %w", m.version, ls, ErrUnknownLogSource)
}

// Fields returns the ECS paths a Sigma field of log source ls maps to, in the
// order the mapping gives them: at least one for a non-empty field, nil for
// the empty one (keywords). A rule's value matches the field when it
// matches any of them. Targets carrying a value translation (Values, Prefix)
// are included; a caller that ignores Targets compares untranslated values
// there, which never wrongly matches but can miss. See Targets.
func (m *Mapping) Fields(ls LogSource, sigmaField string) []string {
	ts, _ := m.lookup(ls, sigmaField)
	if ts == nil {
		return nil
	}
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.Field
	}
	return out
}

// Targets is Fields with the value translations some targets need.
func (m *Mapping) Targets(ls LogSource, sigmaField string) []Target {
	ts, _ := m.lookup(ls, sigmaField)
	if ts == nil {
		return nil
	}
	out := make([]Target, len(ts))
	for i, t := range ts {
		out[i] = t.clone()
	}
	return out
}

// lookup resolves a Sigma field. explicit reports whether an entry maps it
// (as opposed to the fallback). The returned targets are shared: copy them
// before handing them out.
func (m *Mapping) lookup(ls LogSource, field string) (ts []Target, explicit bool) {
	if field == "" {
		return nil, false
	}
	es := m.cascade(ls)
	for _, e := range es {
		if ts, ok := e.fields[field]; ok {
			return ts, true
		}
	}
	lf := strings.ToLower(field)
	for _, e := range es {
		if name, ok := e.fold[lf]; ok {
			return e.fields[name], true
		}
	}
	if !strings.Contains(field, ".") {
		for _, e := range es {
			if e.unmapped != "" {
				return []Target{{Field: e.unmapped + field}, {Field: field}}, false
			}
		}
	}
	return []Target{{Field: field}}, false
}

// cascade returns the entries matching ls, most specific first.
func (m *Mapping) cascade(ls LogSource) []*entry {
	key := LogSource{strings.ToLower(ls.Product), strings.ToLower(ls.Category), strings.ToLower(ls.Service)}
	if v, ok := m.cache.Load(key); ok {
		return v.([]*entry)
	}
	var es []*entry
	for _, e := range m.entries {
		if e.matches(key) {
			es = append(es, e)
		}
	}
	// Stable: entries of equal rank (impossible between distinct entries,
	// which differ in some named key) keep file order.
	slices.SortStableFunc(es, func(a, b *entry) int { return b.rank() - a.rank() })
	m.cache.Store(key, es)
	return es
}

func (t Target) clone() Target {
	if t.Values == nil {
		return t
	}
	vs := make(map[string][]string, len(t.Values))
	for k, v := range t.Values {
		vs[k] = slices.Clone(v)
	}
	t.Values = vs
	return t
}
