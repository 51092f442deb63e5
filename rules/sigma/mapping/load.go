package mapping

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

// LoadError is one problem of a mapping file, at a line of it. Load joins
// every problem it finds (errors.Join), so errors.As finds the first.
type LoadError struct {
	Line int
	Msg  string
}

func (e *LoadError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

// maxLoadErrors bounds the problems Load reports at once.
const maxLoadErrors = 50

var (
	versionRE = regexp.MustCompile(`^[0-9]{4}\.[0-9]{1,2}\.[0-9]+$`)
	pathRE    = regexp.MustCompile(`^[A-Za-z0-9_@-]+(\.[A-Za-z0-9_@-]+)*$`)
)

// Load parses a mapping file (the format of ecs.yaml, described in doc.go)
// strictly: unknown keys, duplicate entries, fields and values, malformed
// ECS paths and empty routes are errors that name their line.
func Load(data []byte) (*Mapping, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("mapping: empty file")
		}
		return nil, fmt.Errorf("mapping: %w", err)
	}
	var more yaml.Node
	if err := dec.Decode(&more); !errors.Is(err, io.EOF) {
		return nil, errors.New("mapping: more than one YAML document")
	}
	p := &parser{seen: map[LogSource]int{}}
	m := p.file(&doc)
	if len(p.errs) > 0 {
		return nil, fmt.Errorf("mapping: %w", errors.Join(p.errs...))
	}
	return m, nil
}

type parser struct {
	errs []error
	seen map[LogSource]int // log source → line of its entry
}

func (p *parser) errorf(n *yaml.Node, format string, args ...any) {
	if len(p.errs) >= maxLoadErrors {
		if len(p.errs) == maxLoadErrors {
			p.errs = append(p.errs, &LoadError{Line: n.Line, Msg: "too many errors"})
		}
		return
	}
	p.errs = append(p.errs, &LoadError{Line: n.Line, Msg: fmt.Sprintf(format, args...)})
}

// deref follows aliases (&anchor / *alias) to the node they name.
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 16; i++ {
		n = n.Alias
	}
	return n
}

type field struct {
	key *yaml.Node
	val *yaml.Node
}

// mapping returns the pairs of a mapping node, reporting duplicate keys and
// keys not in allowed (when allowed is not nil). It reports whether n is a
// mapping.
func (p *parser) mapping(n *yaml.Node, what string, allowed ...string) ([]field, bool) {
	n = deref(n)
	if n.Kind != yaml.MappingNode {
		p.errorf(n, "%s must be a mapping", what)
		return nil, false
	}
	var out []field
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), deref(n.Content[i+1])
		if k.Kind != yaml.ScalarNode {
			p.errorf(k, "%s: keys must be scalars", what)
			continue
		}
		if line, dup := seen[k.Value]; dup {
			p.errorf(k, "%s: %q given twice (first at line %d)", what, k.Value, line)
			continue
		}
		seen[k.Value] = k.Line
		if allowed != nil && !contains(allowed, k.Value) {
			p.errorf(k, "%s: unknown key %q (want %s)", what, k.Value, strings.Join(allowed, ", "))
			continue
		}
		out = append(out, field{k, v})
	}
	return out, true
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

// scalar returns a non-empty scalar's text.
func (p *parser) scalar(n *yaml.Node, what string) (string, bool) {
	n = deref(n)
	if n.Kind != yaml.ScalarNode {
		p.errorf(n, "%s must be a single value", what)
		return "", false
	}
	if n.Tag == "!!null" || n.Value == "" {
		p.errorf(n, "%s is empty", what)
		return "", false
	}
	return n.Value, true
}

// scalars returns a scalar, or a non-empty sequence of scalars, as a list.
func (p *parser) scalars(n *yaml.Node, what string) ([]string, bool) {
	n = deref(n)
	if n.Kind != yaml.SequenceNode {
		s, ok := p.scalar(n, what)
		return []string{s}, ok
	}
	if len(n.Content) == 0 {
		p.errorf(n, "%s is an empty list", what)
		return nil, false
	}
	var out []string
	seen := map[string]bool{}
	ok := true
	for _, c := range n.Content {
		s, good := p.scalar(c, what)
		if !good {
			ok = false
			continue
		}
		if seen[strings.ToLower(s)] {
			p.errorf(c, "%s: %q given twice", what, s)
			ok = false
			continue
		}
		seen[strings.ToLower(s)] = true
		out = append(out, s)
	}
	return out, ok
}

// path returns a well-formed ECS field path.
func (p *parser) path(n *yaml.Node, what string) (string, bool) {
	s, ok := p.scalar(n, what)
	if !ok {
		return "", false
	}
	if !pathRE.MatchString(s) {
		p.errorf(n, "%s: %q is not a field path (dot-separated names of letters, digits, _, @ and -)", what, s)
		return "", false
	}
	return s, true
}

func (p *parser) file(doc *yaml.Node) *Mapping {
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		p.errorf(doc, "not a YAML document")
		return nil
	}
	fs, ok := p.mapping(doc.Content[0], "mapping file", "version", "logsources")
	if !ok {
		return nil
	}
	m := &Mapping{}
	var haveVersion, haveSources bool
	for _, f := range fs {
		switch f.key.Value {
		case "version":
			haveVersion = true
			if v, ok := p.scalar(f.val, "version"); ok {
				if !versionRE.MatchString(v) {
					p.errorf(f.val, "version %q is not of the form YYYY.MM.N", v)
				}
				m.version = v
			}
		case "logsources":
			haveSources = true
			n := deref(f.val)
			if n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
				p.errorf(n, "logsources must be a non-empty list")
				continue
			}
			for _, c := range n.Content {
				if e := p.entry(c); e != nil {
					m.entries = append(m.entries, e)
				}
			}
		}
	}
	if !haveVersion {
		p.errorf(doc.Content[0], "no version")
	}
	if !haveSources {
		p.errorf(doc.Content[0], "no logsources")
	}
	return m
}

func (p *parser) entry(n *yaml.Node) *entry {
	fs, ok := p.mapping(n, "logsource entry", "logsource", "description", "route", "fields", "unmapped")
	if !ok {
		return nil
	}
	e := &entry{line: deref(n).Line}
	var haveLS, haveRoute bool
	good := true
	for _, f := range fs {
		switch f.key.Value {
		case "logsource":
			haveLS = true
			ls, ok := p.logSource(f.val)
			if !ok {
				good = false
				continue
			}
			e.ls = ls
			if line, dup := p.seen[ls]; dup {
				p.errorf(f.val, "logsource %s given twice (first at line %d)", ls, line)
				good = false
				continue
			}
			p.seen[ls] = f.val.Line
		case "description":
			e.desc, _ = p.scalar(f.val, "description")
		case "route":
			haveRoute = true
			r, ok := p.route(f.val)
			good = good && ok
			e.route = r
		case "fields":
			ok := p.fields(f.val, e)
			good = good && ok
		case "unmapped":
			s, ok := p.scalar(f.val, "unmapped")
			if !ok {
				good = false
				continue
			}
			if !strings.HasSuffix(s, ".") || !pathRE.MatchString(strings.TrimSuffix(s, ".")) {
				p.errorf(f.val, "unmapped: %q is not a field path prefix ending in a dot", s)
				good = false
				continue
			}
			e.unmapped = s
		}
	}
	if !haveLS {
		p.errorf(n, "entry has no logsource")
		good = false
	}
	if !haveRoute {
		p.errorf(n, "entry has no route")
		good = false
	}
	if !good {
		return nil
	}
	return e
}

func (p *parser) logSource(n *yaml.Node) (LogSource, bool) {
	fs, ok := p.mapping(n, "logsource", "product", "category", "service")
	if !ok {
		return LogSource{}, false
	}
	var ls LogSource
	good := true
	for _, f := range fs {
		s, ok := p.scalar(f.val, "logsource "+f.key.Value)
		if !ok {
			good = false
			continue
		}
		if strings.TrimSpace(s) != s || strings.ContainsAny(s, " \t\n") {
			p.errorf(f.val, "logsource %s %q has white space", f.key.Value, s)
			good = false
			continue
		}
		s = strings.ToLower(s)
		switch f.key.Value {
		case "product":
			ls.Product = s
		case "category":
			ls.Category = s
		case "service":
			ls.Service = s
		}
	}
	if good && ls.IsZero() {
		p.errorf(n, "logsource names no product, category or service")
		good = false
	}
	return ls, good
}

func (p *parser) route(n *yaml.Node) (Route, bool) {
	n = deref(n)
	if n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
		p.errorf(n, "route must be a non-empty list of conjunctions")
		return Route{}, false
	}
	var r Route
	good := true
	for _, c := range n.Content {
		fs, ok := p.mapping(c, "route conjunction")
		if !ok {
			good = false
			continue
		}
		if len(fs) == 0 {
			p.errorf(deref(c), "route conjunction is empty (it would route every event)")
			good = false
			continue
		}
		var conj Conjunction
		for _, f := range fs {
			path, ok := p.path(f.key, "route field")
			if !ok {
				good = false
				continue
			}
			if deref(f.val).Kind == yaml.MappingNode {
				ok := p.exists(f.val, path)
				good = good && ok
				conj = append(conj, Term{Field: path, Exists: true})
				continue
			}
			vals, ok := p.scalars(f.val, "route "+path)
			if !ok {
				good = false
				continue
			}
			conj = append(conj, Term{Field: path, Values: vals})
		}
		r.Any = append(r.Any, conj)
	}
	return r, good
}

// exists checks the {exists: true} condition.
func (p *parser) exists(n *yaml.Node, path string) bool {
	fs, ok := p.mapping(n, "route "+path, "exists")
	if !ok {
		return false
	}
	if len(fs) != 1 {
		p.errorf(deref(n), "route %s: want {exists: true}", path)
		return false
	}
	v := deref(fs[0].val)
	if v.Kind != yaml.ScalarNode || v.Tag != "!!bool" || v.Value != "true" {
		p.errorf(v, "route %s: exists must be true (a route cannot require a field to be absent)", path)
		return false
	}
	return true
}

func (p *parser) fields(n *yaml.Node, e *entry) bool {
	fs, ok := p.mapping(n, "fields")
	if !ok {
		return false
	}
	e.fields = make(map[string][]Target, len(fs))
	e.fold = make(map[string]string, len(fs))
	lines := map[string]int{}
	good := true
	for _, f := range fs {
		name := f.key.Value
		if name == "" || strings.ContainsAny(name, "| \t\n") {
			p.errorf(f.key, "fields: %q is not a Sigma field name", name)
			good = false
			continue
		}
		lower := strings.ToLower(name)
		if other, dup := e.fold[lower]; dup {
			p.errorf(f.key, "fields: %q differs from %q (line %d) only in case", name, other, lines[other])
			good = false
			continue
		}
		ts, ok := p.targets(f.val, name)
		if !ok {
			good = false
			continue
		}
		e.fields[name] = ts
		e.fold[lower] = name
		lines[name] = f.key.Line
	}
	return good
}

func (p *parser) targets(n *yaml.Node, name string) ([]Target, bool) {
	n = deref(n)
	items := []*yaml.Node{n}
	if n.Kind == yaml.SequenceNode {
		if len(n.Content) == 0 {
			p.errorf(n, "field %s maps to nothing", name)
			return nil, false
		}
		items = n.Content
	}
	var out []Target
	seen := map[string]bool{}
	good := true
	for _, it := range items {
		t, ok := p.target(it, name)
		if !ok {
			good = false
			continue
		}
		if seen[t.Field] {
			p.errorf(it, "field %s: target %s given twice", name, t.Field)
			good = false
			continue
		}
		seen[t.Field] = true
		out = append(out, t)
	}
	return out, good
}

func (p *parser) target(n *yaml.Node, name string) (Target, bool) {
	n = deref(n)
	if n.Kind != yaml.MappingNode {
		path, ok := p.path(n, "field "+name)
		return Target{Field: path}, ok
	}
	fs, ok := p.mapping(n, "field "+name+" target", "field", "values", "prefix")
	if !ok {
		return Target{}, false
	}
	var t Target
	good := true
	for _, f := range fs {
		switch f.key.Value {
		case "field":
			path, ok := p.path(f.val, "field "+name)
			good = good && ok
			t.Field = path
		case "prefix":
			s, ok := p.scalar(f.val, "field "+name+" prefix")
			good = good && ok
			t.Prefix = s
		case "values":
			vs, ok := p.valueMap(f.val, name)
			good = good && ok
			t.Values = vs
		}
	}
	if good && t.Field == "" {
		p.errorf(n, "field %s: target has no field", name)
		good = false
	}
	if good && t.Prefix == "" && t.Values == nil {
		p.errorf(n, "field %s: a target written as a mapping needs values or prefix; write a plain path otherwise", name)
		good = false
	}
	if good && t.Prefix != "" && t.Values != nil {
		p.errorf(n, "field %s: a target has values or prefix, not both", name)
		good = false
	}
	return t, good
}

func (p *parser) valueMap(n *yaml.Node, name string) (map[string][]string, bool) {
	fs, ok := p.mapping(n, "field "+name+" values")
	if !ok {
		return nil, false
	}
	if len(fs) == 0 {
		p.errorf(deref(n), "field %s: values is empty", name)
		return nil, false
	}
	out := make(map[string][]string, len(fs))
	good := true
	for _, f := range fs {
		k := strings.ToLower(f.key.Value)
		if k == "" {
			p.errorf(f.key, "field %s: empty rule value", name)
			good = false
			continue
		}
		if _, dup := out[k]; dup {
			p.errorf(f.key, "field %s: rule value %q given twice (values compare ignoring case)", name, f.key.Value)
			good = false
			continue
		}
		vs, ok := p.scalars(f.val, "field "+name+" value "+f.key.Value)
		if !ok {
			good = false
			continue
		}
		out[k] = vs
	}
	return out, good
}
