package sigma

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/egovsoc/egovsoc/pipeline/event"
	"github.com/egovsoc/egovsoc/rules/sigma/correlate"
	"github.com/egovsoc/egovsoc/rules/sigma/mapping"
	"github.com/egovsoc/egovsoc/rules/sigma/match"
	"github.com/egovsoc/egovsoc/rules/sigma/syntax"
)

// LoadOptions configure a Loader.
type LoadOptions struct {
	// Mapping maps Sigma's taxonomy onto ECS and routes log sources;
	// mapping.Default() when nil.
	Mapping *mapping.Mapping
	// Placeholders are the values of %name% in rules using |expand.
	Placeholders map[string][]string
	// MaxGroups and Lateness bound correlation state (see Options).
	Correlate correlate.Options
}

// Origin says where a set of rules comes from, for alerts: rule.ruleset,
// and rule.license when the rules do not name their own (SigmaHQ's are under
// the Detection Rule License 1.1, whose terms require showing the author).
type Origin struct {
	Ruleset string
	License string
}

// Loader reads Sigma files and compiles them into a RuleSet. Every document
// that cannot be evaluated exactly is rejected with its reason — never
// skipped in silence, never half-evaluated — and the rest still load.
type Loader struct {
	opt    LoadOptions
	files  int
	docs   []loadedDoc
	report Report
	digest []byte
}

type loadedDoc struct {
	doc    syntax.Document
	origin Origin
}

// Report is what a load found.
type Report struct {
	Files        int
	Documents    int
	Rules        int // detection rules loaded
	Correlations int
	Filters      int
	Rejected     []Rejection
}

// Rejection is a document (or a whole file) that did not load, and why.
type Rejection struct {
	Pos     syntax.Pos
	ID      string
	Title   string
	Feature string // the Sigma feature at fault: modifier, condition, logsource…
	Err     error
}

func (r Rejection) String() string {
	what := r.Title
	if what == "" {
		what = r.ID
	}
	if what != "" {
		what = " " + strconvQuote(what)
	}
	msg := r.Err.Error()
	var se *syntax.Error
	if errors.As(r.Err, &se) && se.Pos == r.Pos {
		msg = fmt.Sprintf("%s (%s)", se.Msg, se.Feature) // the position is said once
	}
	return fmt.Sprintf("%s:%s rejected: %s", r.Pos, what, msg)
}

func strconvQuote(s string) string { return fmt.Sprintf("%q", s) }

// NewLoader starts a load.
func NewLoader(opt LoadOptions) *Loader {
	if opt.Mapping == nil {
		opt.Mapping = mapping.Default()
	}
	return &Loader{opt: opt}
}

// AddFile parses one file's documents.
func (l *Loader) AddFile(name string, data []byte) { l.addFile(name, data, Origin{}) }

func (l *Loader) addFile(name string, data []byte, o Origin) {
	l.report.Files++
	sum := sha256.Sum256(data)
	l.digest = append(l.digest, sum[:8]...)
	docs, errs := syntax.ParseFile(name, data)
	for _, err := range errs {
		l.reject(err, nil)
	}
	for _, d := range docs {
		l.docs = append(l.docs, loadedDoc{doc: d, origin: o})
	}
	l.report.Documents += len(docs) + len(errs)
}

// AddFS reads every rule file under root (*.yml, *.yaml; not test files).
func (l *Loader) AddFS(fsys fs.FS, root string, o Origin) error {
	return fs.WalkDir(fsys, root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !isRuleFile(p) {
			return nil
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		l.addFile(p, b, o)
		return nil
	})
}

// AddDir reads every rule file under a directory of the file system.
func (l *Loader) AddDir(dir string, o Origin) error {
	if _, err := os.Stat(dir); err != nil {
		return err
	}
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !isRuleFile(p) {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		l.addFile(p, b, o)
		return nil
	})
}

func (l *Loader) reject(err error, d syntax.Document) {
	r := Rejection{Err: err, Feature: "rule"}
	var se *syntax.Error
	if errors.As(err, &se) {
		r.Pos, r.Feature = se.Pos, se.Feature
	}
	var me *match.Error
	if errors.As(err, &me) {
		r.Feature = me.Feature
	}
	if d != nil {
		m := d.Metadata()
		r.ID, r.Title = m.ID, m.Title
		if r.Pos.File == "" {
			r.Pos = m.Pos
		}
	}
	l.report.Rejected = append(l.report.Rejected, r)
}

// errAt is a load error at a position, about a feature.
func errAt(pos syntax.Pos, feature, format string, args ...any) error {
	return &syntax.Error{Pos: pos, Feature: feature, Msg: fmt.Sprintf(format, args...)}
}

// Build compiles what was read. The report lists every rejected document;
// the set holds the rest.
func (l *Loader) Build() (*RuleSet, *Report) {
	m := l.opt.Mapping
	var filters []*syntax.Filter
	var corrDocs []loadedDoc
	var rules []*rule
	ids := map[string]syntax.Pos{}
	claim := func(d syntax.Document) bool {
		md := d.Metadata()
		for _, k := range []string{md.ID, md.Name} {
			if k == "" {
				continue
			}
			if p, dup := ids[k]; dup {
				l.reject(errAt(md.Pos, "id", "id or name %q is already used at %s", k, p), d)
				return false
			}
		}
		if md.ID == "" {
			l.reject(errAt(md.Pos, "id", "a rule needs an id to raise alerts with"), d)
			return false
		}
		for _, k := range []string{md.ID, md.Name} {
			if k != "" {
				ids[k] = md.Pos
			}
		}
		return true
	}
	for _, ld := range l.docs {
		switch d := ld.doc.(type) {
		case *syntax.Filter:
			filters = append(filters, d)
		case *syntax.Correlation:
			if claim(d) {
				corrDocs = append(corrDocs, ld)
			}
		case *syntax.Rule:
			if !claim(d) {
				continue
			}
			r, err := l.compileRule(d, ld.origin)
			if err != nil {
				l.reject(err, d)
				delete(ids, d.ID)
				if d.Name != "" {
					delete(ids, d.Name)
				}
				continue
			}
			rules = append(rules, r)
		}
	}
	// Filters narrow the rules they name (by id or name, or every rule of
	// their log source), compiled in the rule's own taxonomy.
	for _, f := range filters {
		if err := l.applyFilter(f, rules); err != nil {
			l.reject(err, f)
			continue
		}
		l.report.Filters++
	}
	for _, r := range rules {
		r.atoms = atomsOf(r.cond, r)
		r.indexed = len(r.atoms) > 0
	}
	corrs, specs := l.compileCorrelations(corrDocs, rules)
	l.report.Rules = len(rules)
	l.report.Correlations = len(specs)
	rs := newRuleSet(m, rules, corrs, specs, l.digest, &l.report)
	rs.corrOpts = l.opt.Correlate
	return rs, &l.report
}

// compileRule compiles a detection rule.
func (l *Loader) compileRule(d *syntax.Rule, o Origin) (*rule, error) {
	ls := logSource(d.LogSource)
	rt, err := l.opt.Mapping.Route(ls)
	if err != nil {
		return nil, errAt(d.LogSource.Pos, "logsource", "%v", err)
	}
	if d.Detection.Timeframe != 0 {
		return nil, errAt(d.Detection.Pos, "timeframe", "timeframe belongs to Sigma 1 aggregations; write a correlation rule")
	}
	meta, err := metaOf(&d.Meta, o, ls)
	if err != nil {
		return nil, err
	}
	r := &rule{key: d.ID, name: d.Name, title: d.Title, src: Source{File: d.Pos.File, Line: d.Pos.Line},
		logsource: ls, route: rt, meta: meta, alert: true}
	index := map[string]int{}
	for _, name := range d.Detection.Order {
		sel, err := l.compileSelection(d.Detection.Selections[name], ls)
		if err != nil {
			return nil, err
		}
		index[name] = len(r.sels)
		r.sels = append(r.sels, sel)
	}
	var alts orNode
	for _, c := range d.Detection.Conditions {
		n, err := compileCond(c.Expr, index, c.Pos)
		if err != nil {
			return nil, err
		}
		alts = append(alts, n)
	}
	switch len(alts) {
	case 0:
		return nil, errAt(d.Detection.Pos, "condition", "no condition")
	case 1:
		r.cond = alts[0]
	default:
		r.cond = alts
	}
	return r, nil
}

// compileSelection compiles a selection's items in the taxonomy of ls.
func (l *Loader) compileSelection(s *syntax.Selection, ls mapping.LogSource) (selection, error) {
	out := selection{name: s.Name}
	for _, alt := range s.Alternatives {
		var items []item
		for _, it := range alt {
			ci, err := l.compileItem(it, ls)
			if err != nil {
				return selection{}, err
			}
			items = append(items, ci)
		}
		out.alts = append(out.alts, items)
	}
	return out, nil
}

func (l *Loader) compileItem(it syntax.Item, ls mapping.LogSource) (item, error) {
	vals := make([]match.Value, len(it.Values))
	for i, v := range it.Values {
		vals[i] = match.Value{Kind: matchKind(v.Kind), Raw: v.Raw}
	}
	fail := func(err error) (item, error) {
		feature := "modifier"
		var me *match.Error
		if errors.As(err, &me) {
			feature = me.Feature
		}
		what := it.Field
		if what == "" {
			what = "keywords"
		}
		return item{}, errAt(it.Pos, feature, "%s: %v", what, err)
	}
	refFields := func(name string) []string { return l.opt.Mapping.Fields(ls, name) }
	compile := func(paths []string, vals []match.Value) (match.Matcher, error) {
		return match.Compile(match.Spec{Fields: paths, Modifiers: it.Modifiers, Values: vals, Placeholders: l.opt.Placeholders, RefFields: refFields})
	}
	if it.Field == "" {
		m, err := compile(nil, vals)
		if err != nil {
			return fail(err)
		}
		ci := item{m: m}
		// The literals a keyword needs are those the same values need in
		// any one field.
		if shadow, err := compile([]string{keywordField}, vals); err == nil {
			if n, ok := match.Needles(shadow); ok {
				ci.kwNeedles = n
			}
		}
		return ci, nil
	}
	targets := l.opt.Mapping.Targets(ls, it.Field)
	var plain []string
	translated := false
	for _, t := range targets {
		if t.Values == nil && t.Prefix == "" {
			plain = append(plain, t.Field)
		} else {
			translated = true
		}
	}
	ci := item{field: it.Field}
	if !translated || !translatable(it, vals) {
		for _, t := range targets {
			ci.paths = append(ci.paths, t.Field)
		}
		m, err := compile(ci.paths, vals)
		if err != nil {
			return fail(err)
		}
		ci.m = m
		ci.subs = []subItem{{paths: ci.paths, m: m}}
	} else {
		// Some targets hold the value under other names (Initiated 'true'
		// as network.direction egress) or a part of it (Hashes
		// 'SHA256=…' as process.hash.sha256): the item matches when any
		// target does, each with the values that reach it.
		if len(plain) > 0 {
			m, err := compile(plain, vals)
			if err != nil {
				return fail(err)
			}
			ci.subs = append(ci.subs, subItem{paths: plain, m: m})
		}
		for _, t := range targets {
			if t.Values == nil && t.Prefix == "" {
				continue
			}
			tv := translate(t, it.Modifiers, vals)
			if len(tv) == 0 {
				continue
			}
			m, err := compile([]string{t.Field}, tv)
			if err != nil {
				return fail(err)
			}
			ci.subs = append(ci.subs, subItem{paths: []string{t.Field}, m: m})
		}
		if len(ci.subs) == 0 { // no value reaches any field: still a valid rule, never true
			m, err := compile(plain, vals)
			if err != nil {
				return fail(err)
			}
			ci.subs = []subItem{{paths: plain, m: m}}
		}
		for _, sub := range ci.subs {
			ci.paths = append(ci.paths, sub.paths...)
		}
		ci.m = anyMatcher(ci.subs)
	}
	for _, p := range ci.paths {
		ci.ecs = append(ci.ecs, event.Path(p))
	}
	return ci, nil
}

// translatable reports whether value translation applies to an item: not
// to null values or to exists, which ask about the field, not a value.
func translatable(it syntax.Item, vals []match.Value) bool {
	for _, m := range it.Modifiers {
		if m == "exists" || m == "fieldref" {
			return false
		}
	}
	for _, v := range vals {
		if v.Kind == match.Null {
			return false
		}
	}
	return true
}

// translate gives the values of an item that reach a translating target.
func translate(t mapping.Target, mods []string, vals []match.Value) []match.Value {
	var out []match.Value
	for _, v := range vals {
		switch {
		case t.Values != nil:
			if len(mods) > 0 {
				continue // only plain equality translates
			}
			for _, x := range t.Values[strings.ToLower(v.Raw)] {
				out = append(out, match.Value{Kind: match.String, Raw: x})
			}
		case len(v.Raw) >= len(t.Prefix) && strings.EqualFold(v.Raw[:len(t.Prefix)], t.Prefix):
			out = append(out, match.Value{Kind: match.String, Raw: v.Raw[len(t.Prefix):]})
		}
	}
	return out
}

// anyMatcher matches when any of its targets does.
type anyMatcher []subItem

func (a anyMatcher) Match(e *event.Event) bool {
	for i := range a {
		if a[i].m.Match(e) {
			return true
		}
	}
	return false
}

func matchKind(k syntax.Kind) match.Kind {
	switch k {
	case syntax.Number:
		return match.Number
	case syntax.Bool:
		return match.Bool
	case syntax.Null:
		return match.Null
	}
	return match.String
}

func logSource(ls syntax.LogSource) mapping.LogSource {
	return mapping.LogSource{Product: ls.Product, Category: ls.Category, Service: ls.Service}
}

// metaOf is what alerts of a rule carry.
func metaOf(md *syntax.Meta, o Origin, ls mapping.LogSource) (alertMeta, error) {
	sev, err := severityOf(md.Level)
	if err != nil {
		return alertMeta{}, errAt(md.Pos, "level", "%v", err)
	}
	version := md.Modified
	if version == "" {
		version = md.Date
	}
	license := md.License
	if license == "" {
		license = o.License
	}
	ruleset := o.Ruleset
	if ruleset == "" {
		ruleset = "sigma"
	}
	category := ls.Category
	if category == "" {
		category = ls.Service
	}
	r := event.Rule{ID: md.ID, Name: md.Title, Version: version, Author: md.Author, Description: md.Description,
		Category: category, Ruleset: ruleset, License: license, Tags: md.Tags}
	if len(md.References) > 0 {
		r.Reference = md.References[0]
	}
	return alertMeta{rule: r, severity: sev, threat: threatOf(md.Tags), refs: md.References, fps: md.FalsePositives}, nil
}

// compileCond compiles a condition over the selections in index.
func compileCond(c syntax.Cond, index map[string]int, pos syntax.Pos) (node, error) {
	const maxDepth = 64
	var walk func(c syntax.Cond, depth int) (node, error)
	walk = func(c syntax.Cond, depth int) (node, error) {
		if depth > maxDepth {
			return nil, errAt(pos, "condition", "nested deeper than %d", maxDepth)
		}
		switch c := c.(type) {
		case *syntax.Ref:
			i, ok := index[c.Name]
			if !ok {
				return nil, errAt(pos, "condition", "no selection named %q", c.Name)
			}
			return selRef(i), nil
		case *syntax.Not:
			x, err := walk(c.X, depth+1)
			if err != nil {
				return nil, err
			}
			return notNode{x}, nil
		case *syntax.And:
			var out andNode
			for _, t := range c.Terms {
				x, err := walk(t, depth+1)
				if err != nil {
					return nil, err
				}
				out = append(out, x)
			}
			return out, nil
		case *syntax.Or:
			var out orNode
			for _, t := range c.Terms {
				x, err := walk(t, depth+1)
				if err != nil {
					return nil, err
				}
				out = append(out, x)
			}
			return out, nil
		case *syntax.Of:
			var refs []node
			for _, name := range c.Names {
				i, ok := index[name]
				if !ok {
					return nil, errAt(pos, "condition", "no selection named %q", name)
				}
				refs = append(refs, selRef(i))
			}
			if len(refs) == 0 {
				return nil, errAt(pos, "condition", "%q names no selection", c.Pattern)
			}
			if c.All {
				return andNode(refs), nil
			}
			return orNode(refs), nil
		}
		return nil, errAt(pos, "condition", "unsupported condition %T", c)
	}
	return walk(c, 0)
}

// applyFilter adds a filter's condition to the rules it names.
func (l *Loader) applyFilter(f *syntax.Filter, rules []*rule) error {
	fls := logSource(f.LogSource)
	var targets []*rule
	for _, r := range rules {
		if !f.AnyRule && !slices.ContainsFunc(f.Rules, func(ref syntax.RuleRef) bool { return ref.Name == r.key || (r.name != "" && ref.Name == r.name) }) {
			continue
		}
		if !logSourceCovers(fls, r.logsource) {
			continue
		}
		targets = append(targets, r)
	}
	for _, r := range targets {
		index := map[string]int{}
		base := len(r.sels)
		sels := slices.Clone(r.sels)
		for _, name := range f.Detection.Order {
			sel, err := l.compileSelection(f.Detection.Selections[name], r.logsource)
			if err != nil {
				return err
			}
			index[name] = len(sels)
			sels = append(sels, sel)
		}
		_ = base
		if len(f.Detection.Conditions) != 1 {
			return errAt(f.Detection.Pos, "filter", "a filter has exactly one condition")
		}
		c, err := compileCond(f.Detection.Conditions[0].Expr, index, f.Detection.Conditions[0].Pos)
		if err != nil {
			return err
		}
		r.sels = sels
		r.cond = andNode{r.cond, c}
	}
	return nil
}

// logSourceCovers reports whether a filter's log source covers a rule's:
// every key the filter names is the rule's.
func logSourceCovers(f, r mapping.LogSource) bool {
	eq := func(a, b string) bool { return a == "" || strings.EqualFold(a, b) }
	return eq(f.Product, r.Product) && eq(f.Category, r.Category) && eq(f.Service, r.Service)
}

// compileCorrelations resolves the correlation rules' references to
// canonical keys and validates them, rejecting each one that cannot be
// evaluated (and those that refer to it). It tells the base rules what to
// extract for the correlations and whether they still alert on their own.
func (l *Loader) compileCorrelations(docs []loadedDoc, rules []*rule) ([]*corrRule, []correlate.Spec) {
	if len(docs) == 0 {
		return nil, nil
	}
	base := map[string]*rule{}
	for _, r := range rules {
		base[r.key] = r
		if r.name != "" {
			base[r.name] = r
		}
	}
	corrKey := map[string]string{} // id or name of a correlation → its id
	for _, ld := range docs {
		d := ld.doc.(*syntax.Correlation)
		corrKey[d.ID] = d.ID
		if d.Name != "" {
			corrKey[d.Name] = d.ID
		}
	}
	resolve := func(ref string) (string, bool) {
		if r, ok := base[ref]; ok {
			return r.key, true
		}
		k, ok := corrKey[ref]
		return k, ok
	}
	type candidate struct {
		doc  *syntax.Correlation
		spec correlate.Spec
		meta alertMeta
	}
	var cands []*candidate
	for _, ld := range docs {
		d := ld.doc.(*syntax.Correlation)
		spec, err := correlationSpec(d, resolve)
		if err != nil {
			l.reject(err, d)
			delete(corrKey, d.ID)
			delete(corrKey, d.Name)
			continue
		}
		meta, err := metaOf(&d.Meta, ld.origin, mapping.LogSource{})
		if err != nil {
			l.reject(err, d)
			delete(corrKey, d.ID)
			delete(corrKey, d.Name)
			continue
		}
		cands = append(cands, &candidate{doc: d, spec: spec, meta: meta})
	}
	isRule := func(k string) bool { _, ok := base[k]; return ok }
	opt := l.opt.Correlate
	opt.IsRule = isRule
	// Validate each with the correlations it refers to; a rejection may
	// invalidate others, so go on until nothing changes.
	for changed := true; changed; {
		changed = false
		alive := map[string]*candidate{}
		for _, c := range cands {
			alive[c.spec.ID] = c
		}
		var keep []*candidate
		for _, c := range cands {
			closure := []correlate.Spec{}
			seen := map[string]bool{}
			var add func(c *candidate) bool
			add = func(c *candidate) bool {
				if seen[c.spec.ID] {
					return true
				}
				seen[c.spec.ID] = true
				closure = append(closure, c.spec)
				for _, k := range c.spec.Rules {
					if isRule(k) {
						continue
					}
					dep, ok := alive[k]
					if !ok || !add(dep) {
						return false
					}
				}
				return true
			}
			if !add(c) {
				l.reject(errAt(c.doc.Pos, "correlation.rules", "refers to a correlation that was rejected"), c.doc)
				changed = true
				continue
			}
			if _, err := correlate.New(closure, opt); err != nil {
				l.reject(errAt(c.doc.Pos, "correlation", "%v", err), c.doc)
				changed = true
				continue
			}
			keep = append(keep, c)
		}
		cands = keep
	}
	if len(cands) == 0 {
		return nil, nil
	}
	specs := make([]correlate.Spec, len(cands))
	corrs := make([]*corrRule, len(cands))
	for i, c := range cands {
		specs[i] = c.spec
		corrs[i] = &corrRule{key: c.spec.ID, name: c.doc.Name, title: c.doc.Title, typ: c.spec.Type, meta: c.meta,
			src: Source{File: c.doc.Pos.File, Line: c.doc.Pos.Line}}
	}
	for _, c := range corrs {
		referred, generate := false, false
		for _, s := range specs {
			if slices.Contains(s.Rules, c.key) || (c.name != "" && slices.Contains(s.Rules, c.name)) {
				referred, generate = true, generate || s.Generate
			}
		}
		c.alert = !referred || generate
	}
	eng, err := correlate.New(specs, opt)
	if err != nil { // each was valid with its closure; together they are too
		l.reject(fmt.Errorf("correlations: %w", err), nil)
		return nil, nil
	}
	for _, r := range rules {
		fields := eng.Fields(r.key)
		if fields == nil {
			continue
		}
		r.corrUsed = true
		r.alert = eng.Standalone(r.key)
		r.corr = make([][]event.Field, len(fields))
		for i, f := range fields {
			for _, p := range l.opt.Mapping.Fields(r.logsource, f) {
				r.corr[i] = append(r.corr[i], event.Path(p))
			}
		}
	}
	return corrs, specs
}

// correlationSpec turns a parsed correlation into what package correlate
// runs, every rule reference resolved to a canonical key.
func correlationSpec(d *syntax.Correlation, resolve func(string) (string, bool)) (correlate.Spec, error) {
	s := correlate.Spec{ID: d.ID, Name: d.Name, Type: correlate.Type(d.Type), GroupBy: d.GroupBy, Timespan: d.Timespan, Generate: d.Generate}
	if !slices.Contains(correlate.Types, s.Type) {
		return s, errAt(d.TypePos, "correlation.type", "unknown correlation type %q", d.Type)
	}
	written := map[string]string{}
	for _, ref := range d.Rules {
		k, ok := resolve(ref.Name)
		if !ok {
			return s, errAt(ref.Pos, "correlation.rules", "no rule or correlation with id or name %q", ref.Name)
		}
		written[ref.Name] = k
		s.Rules = append(s.Rules, k)
	}
	if len(d.Aliases) > 0 {
		s.Aliases = map[string]map[string]string{}
		for alias, byRule := range d.Aliases {
			m := map[string]string{}
			for ref, field := range byRule {
				k, ok := written[ref]
				if !ok {
					if k, ok = resolve(ref); !ok {
						return s, errAt(d.Pos, "correlation.aliases", "alias %q names %q, which is not among the rules", alias, ref)
					}
				}
				m[k] = field
			}
			s.Aliases[alias] = m
		}
	}
	cc := d.Condition
	if cc.Expr != nil {
		x, err := corrExpr(cc.Expr, written)
		if err != nil {
			return s, errAt(cc.Pos, "correlation.condition", "%v", err)
		}
		s.Condition.Expr = x
	}
	switch len(cc.Fields) {
	case 0:
	case 1:
		s.Condition.Field = cc.Fields[0]
	default:
		return s, errAt(cc.Pos, "correlation.condition", "a condition over %d fields: one field is supported", len(cc.Fields))
	}
	if cc.Percentile != nil {
		s.Condition.Percentile = float64(*cc.Percentile)
	}
	for _, th := range cc.Thresholds {
		v := th.Value
		switch th.Op {
		case "gt":
			s.Condition.GT = &v
		case "gte":
			s.Condition.GTE = &v
		case "lt":
			s.Condition.LT = &v
		case "lte":
			s.Condition.LTE = &v
		case "eq":
			s.Condition.EQ = &v
		case "neq":
			s.Condition.NEQ = &v
		default:
			return s, errAt(th.Pos, "correlation.condition", "unknown operator %q", th.Op)
		}
	}
	return s, nil
}

// corrExpr converts a temporal correlation's boolean condition, its rule
// references resolved as the correlation's rules are.
func corrExpr(c syntax.Cond, written map[string]string) (*correlate.Expr, error) {
	switch c := c.(type) {
	case *syntax.Ref:
		k, ok := written[c.Name]
		if !ok {
			return nil, fmt.Errorf("%q is not among the correlation's rules", c.Name)
		}
		return &correlate.Expr{Rule: k}, nil
	case *syntax.Not:
		x, err := corrExpr(c.X, written)
		if err != nil {
			return nil, err
		}
		return &correlate.Expr{Not: x}, nil
	case *syntax.And, *syntax.Or:
		var terms []syntax.Cond
		and := false
		if a, ok := c.(*syntax.And); ok {
			terms, and = a.Terms, true
		} else {
			terms = c.(*syntax.Or).Terms
		}
		var out []correlate.Expr
		for _, t := range terms {
			x, err := corrExpr(t, written)
			if err != nil {
				return nil, err
			}
			out = append(out, *x)
		}
		if and {
			return &correlate.Expr{And: out}, nil
		}
		return &correlate.Expr{Or: out}, nil
	}
	return nil, fmt.Errorf("%s: not allowed in a correlation condition", c)
}
