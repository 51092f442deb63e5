package match

import (
	"encoding/base64"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/egovsoc/egovsoc/pipeline/event"
)

// Kind is the type of a Sigma value as YAML wrote it.
type Kind uint8

// The kinds of value. String is the zero Kind.
const (
	String Kind = iota // text, quoted or plain, including '' (empty)
	Number             // a plain number (3389, -1, 2.5)
	Bool               // true or false
	Null               // null, ~ or nothing
)

// Value is one value of a detection item. Raw is the YAML scalar as
// written, after YAML unquoting only: Sigma wildcards and backslash escapes
// are interpreted by Compile, and a |re value is the expression itself.
type Value struct {
	Kind Kind
	Raw  string
}

// Spec is one detection item: a field with its modifiers and values.
type Spec struct {
	// Fields are the ECS paths the Sigma field maps to; a value in any of
	// them may satisfy the item. Empty means a keyword search: the values
	// are looked for in every string value of every field of the event.
	Fields []string
	// Modifiers are the modifier names in rule order, such as
	// ["contains", "all"], ["base64offset", "contains"] or ["re", "i"].
	Modifiers []string
	// Values are OR-ed, unless the all modifier is given. At least one is
	// needed.
	Values []Value
	// Placeholders give the values of each %name% for the expand modifier.
	// Each value is a Sigma string (wildcards work). A placeholder missing
	// from the map is an error; one mapped to no values makes the value
	// that uses it match nothing.
	Placeholders map[string][]string
	// RefFields maps the Sigma field a |fieldref value names to ECS paths.
	// Nil means the name is the path.
	RefFields func(name string) []string
}

// Matcher is a compiled detection item. Match reports whether the event
// satisfies it. Matchers are immutable and safe for concurrent use; Match
// never panics, whatever the event holds, and does not retain the event or
// any string from it. For the common items (string patterns, numbers, cidr,
// comparisons on fields) it does not allocate.
type Matcher interface {
	Match(e *event.Event) bool
}

// Error is a detection item Compile refuses. Feature names what is at
// fault, short and stable for callers that count or filter errors:
// "modifier" (unknown modifier, contradictory or unordered chain), "value"
// (a value the modifiers cannot take), "re", "cidr", "expand", "windash",
// "base64", "base64offset", "fieldref", "exists".
type Error struct {
	Feature string
	Msg     string
}

// Error returns the message; Feature is for callers that classify errors.
func (e *Error) Error() string { return e.Msg }

func quote(s string) string { return strconv.Quote(s) }

func itoa(i int) string { return strconv.Itoa(i) }

func valueErr(msg string) error { return &Error{Feature: "value", Msg: msg} }

// Compile compiles a detection item. The work of matching is done here
// once: patterns are classified (equality, prefix, suffix, substring, glob),
// folded, and gathered into maps and automata, and fields are compiled with
// event.Path. Errors are *Error.
func Compile(s Spec) (Matcher, error) {
	initFold()
	keyword := len(s.Fields) == 0
	ms, err := parseModifiers(s.Modifiers, keyword)
	if err != nil {
		return nil, err
	}
	if len(s.Values) == 0 {
		return nil, valueErr("no values")
	}
	c := &compiler{spec: s, m: ms, keyword: keyword}
	seen := map[string]bool{}
	for _, f := range s.Fields {
		if !seen[f] {
			seen[f] = true
			c.fields = append(c.fields, event.Path(f))
		}
	}
	return c.compile()
}

type compiler struct {
	spec    Spec
	m       modSet
	keyword bool
	fields  []event.Field
	size    int // bytes of patterns compiled so far
}

// grow accounts for n more bytes of patterns.
func (c *compiler) grow(n int) error {
	if c.size += n; c.size > maxItemBytes {
		return valueErr("the item compiles into more than " + itoa(maxItemBytes) + " bytes of patterns")
	}
	return nil
}

func (c *compiler) compile() (Matcher, error) {
	m := &c.m
	for _, v := range c.spec.Values {
		if len(v.Raw) > maxValueLen {
			return nil, valueErr("a value is longer than " + itoa(maxValueLen) + " bytes")
		}
	}
	switch {
	case m.exists:
		return c.compileExists()
	case m.fieldref:
		return c.compileFieldref()
	}
	var vals []Value
	hasNull := false
	for _, v := range c.spec.Values {
		if v.Kind != Null {
			vals = append(vals, v)
			continue
		}
		if c.keyword {
			return nil, valueErr("null is not a keyword")
		}
		for _, n := range m.order {
			if n != "all" {
				return nil, valueErr("null takes no modifier (found " + quote(n) + "); to test presence use exists")
			}
		}
		hasNull = true
	}
	leaf := func(t tester, nd needleInfo) Matcher {
		if c.keyword {
			return &keywordMatcher{t: t}
		}
		return &fieldMatcher{fields: c.fields, t: t, nd: nd}
	}

	if m.neq {
		if m.all {
			t, _, err := c.build(vals)
			if err != nil {
				return nil, err
			}
			return &neqMatcher{fields: c.fields, t: t}, nil
		}
		var parts []Matcher
		for _, v := range vals {
			t, _, err := c.build([]Value{v})
			if err != nil {
				return nil, err
			}
			parts = append(parts, &neqMatcher{fields: c.fields, t: t})
		}
		return anyOf(parts), nil
	}

	var parts []Matcher
	if m.all {
		for _, v := range vals {
			t, nd, err := c.build([]Value{v})
			if err != nil {
				return nil, err
			}
			parts = append(parts, leaf(t, nd))
		}
		if hasNull {
			parts = append(parts, &nullMatcher{fields: c.fields})
		}
		return allOf(parts), nil
	}
	if len(vals) > 0 {
		t, nd, err := c.build(vals)
		if err != nil {
			return nil, err
		}
		parts = append(parts, leaf(t, nd))
	}
	if hasNull {
		parts = append(parts, &nullMatcher{fields: c.fields})
	}
	return anyOf(parts), nil
}

// build compiles values (OR-ed) into one tester of event values.
func (c *compiler) build(vals []Value) (tester, needleInfo, error) {
	m := &c.m
	switch {
	case m.cidr:
		return c.buildCIDR(vals)
	case m.part != 0:
		return c.buildTime(vals)
	case m.cmp != "":
		return c.buildCompare(vals)
	}
	return c.buildValues(vals)
}

func (c *compiler) buildCIDR(vals []Value) (tester, needleInfo, error) {
	var ps []netip.Prefix
	for _, v := range vals {
		p, err := parseCIDR(v.Raw)
		if err != nil {
			return nil, needleInfo{}, &Error{Feature: "cidr", Msg: "invalid network " + quote(v.Raw) + " (want an address or a prefix such as 10.0.0.0/8 or fe80::/10)"}
		}
		ps = append(ps, p)
	}
	return &cidrTester{set: NewPrefixSet(ps)}, needleInfo{}, nil
}

// numberOf reads a value the numeric modifiers compare with.
func numberOf(v Value, what string) (decimal, error) {
	if v.Kind == Number || v.Kind == String {
		if d, ok := parseNumberValue(v.Raw); ok {
			return d, nil
		}
	}
	return decimal{}, valueErr(what + " needs a number, not " + quote(v.Raw))
}

func (c *compiler) buildCompare(vals []Value) (tester, needleInfo, error) {
	t := &cmpTester{op: cmpOps[c.m.cmp]}
	for _, v := range vals {
		d, err := numberOf(v, c.m.cmp)
		if err != nil {
			return nil, needleInfo{}, err
		}
		t.wants = append(t.wants, d)
	}
	return t, needleInfo{}, nil
}

func (c *compiler) buildTime(vals []Value) (tester, needleInfo, error) {
	t := &timeTester{part: c.m.part, op: opEq}
	if c.m.cmp != "" {
		t.op = cmpOps[c.m.cmp]
	}
	for _, v := range vals {
		d, err := numberOf(v, "a time modifier")
		if err != nil {
			return nil, needleInfo{}, err
		}
		i, ok := d.integer()
		if !ok {
			return nil, needleInfo{}, valueErr("a time modifier needs a whole number, not " + quote(v.Raw))
		}
		t.wants = append(t.wants, i)
	}
	return t, needleInfo{}, nil
}

// stringModified reports whether the chain treats values as strings even
// when YAML wrote a number or a bool.
func (m *modSet) stringModified() bool {
	return m.re || m.anchor != "" || m.windash || m.expand || m.base64 || m.base64off || m.utf16 != utf16None
}

// buildValues compiles string patterns, numbers and bools.
func (c *compiler) buildValues(vals []Value) (tester, needleInfo, error) {
	m := &c.m
	vs := &valueSet{}
	set := &strSet{cased: m.cased || m.base64 || m.base64off}
	var infos []needleInfo
	asString := m.stringModified() || c.keyword
	for _, v := range vals {
		switch {
		case v.Kind == Number && !asString:
			d, ok := parseNumberValue(v.Raw)
			if !ok {
				return nil, needleInfo{}, valueErr("not a number: " + quote(v.Raw))
			}
			vs.addNumber(d)
			infos = append(infos, numberNeedles(&d))
		case v.Kind == Bool && !asString:
			switch strings.ToLower(strings.TrimSpace(v.Raw)) {
			case "true":
				vs.boolTrue = true
				infos = append(infos, needleInfo{list: []string{"true"}, ok: true})
			case "false":
				vs.boolFalse = true
				infos = append(infos, needleInfo{list: []string{"false"}, ok: true})
			default:
				return nil, needleInfo{}, valueErr("not a bool: " + quote(v.Raw))
			}
		case m.re:
			anchor := m.anchor
			if anchor == "contains" {
				anchor = ""
			}
			rp, nd, err := compileRegex(v.Raw, m.reFlags, anchor)
			if err != nil {
				return nil, needleInfo{}, err
			}
			if err := c.grow(len(v.Raw)); err != nil {
				return nil, needleInfo{}, err
			}
			set.res = append(set.res, rp)
			infos = append(infos, nd)
		default:
			nd, err := c.addString(set, v.Raw)
			if err != nil {
				return nil, needleInfo{}, err
			}
			infos = append(infos, nd)
		}
	}
	set.finish()
	if !set.empty() {
		vs.str = set
	}
	vs.finish()
	if c.keyword {
		return vs, needleInfo{}, nil
	}
	return vs, unionNeedles(infos...), nil
}

// addString compiles one Sigma string value through the transformation
// modifiers (expand, windash, utf16, base64, base64offset) and the
// position modifiers into set, and returns its needles.
func (c *compiler) addString(set *strSet, raw string) (needleInfo, error) {
	m := &c.m
	raws := []string{raw}
	if m.expand {
		var err error
		if raws, err = expandRaw(raw, c.spec.Placeholders); err != nil {
			return needleInfo{}, err
		}
		if len(raws) == 0 {
			return needleInfo{}, nil // a placeholder with no values: matches nothing
		}
	}
	var infos []needleInfo
	for _, r := range raws {
		variants := []string{r}
		if m.windash {
			var err error
			if variants, err = windash(r); err != nil {
				return needleInfo{}, err
			}
			if len(raws)*len(variants) > maxExpansions {
				return needleInfo{}, &Error{Feature: "windash", Msg: "value " + quote(raw) + " expands into more than " + itoa(maxExpansions) + " values"}
			}
		}
		var vInfos []needleInfo
		for _, w := range variants {
			pats, err := c.transform(w)
			if err != nil {
				return needleInfo{}, err
			}
			for _, p := range pats {
				n := len(p)
				for _, x := range p {
					n += len(x.text)
				}
				if err := c.grow(n); err != nil {
					return needleInfo{}, err
				}
				set.add(p)
				if n, ok := literalNeedle(p); ok {
					vInfos = append(vInfos, needleInfo{list: []string{n}, ok: true})
				} else {
					vInfos = append(vInfos, needleInfo{})
				}
			}
		}
		nd := unionNeedles(vInfos...)
		if m.windash && !m.base64 && !m.base64off && m.utf16 == utf16None {
			// Every variant holds r's longest dash-free literal unchanged:
			// one needle instead of one per variant, when that is cheaper.
			if run := windashRun(r); run != "" {
				alt := needleInfo{list: []string{Fold(run)}, ok: true}
				if !nd.ok || needleCost(alt.list) < needleCost(nd.list) {
					nd = alt
				}
			}
		}
		infos = append(infos, nd)
	}
	return unionNeedles(infos...), nil
}

// transform turns one raw string (placeholders and dashes already
// expanded) into the patterns to match: encoded, then anchored.
func (c *compiler) transform(raw string) ([]pattern, error) {
	m := &c.m
	p := parsePattern(raw)
	if m.utf16 != utf16None {
		p = utf16Pattern(p, m.utf16)
	}
	pats := []pattern{p}
	if m.base64 || m.base64off {
		name := "base64"
		if m.base64off {
			name = "base64offset"
		}
		if p.wild() {
			return nil, &Error{Feature: name, Msg: "cannot encode wildcards in " + quote(raw) + " (escape * and ? with a backslash to mean them literally)"}
		}
		text := p.literal()
		if text == "" {
			return nil, &Error{Feature: name, Msg: "cannot encode an empty value"}
		}
		if m.base64 {
			pats = []pattern{{{kind: pLit, text: base64.StdEncoding.EncodeToString([]byte(text))}}}
		} else {
			pats = pats[:0]
			for _, e := range base64Offsets(text) {
				if e == "" {
					return nil, &Error{Feature: name, Msg: "value " + quote(raw) + " is too short to be found at every offset in Base64 (it needs at least 2 bytes)"}
				}
				pats = append(pats, pattern{{kind: pLit, text: e}})
			}
		}
	}
	anchor := m.anchor
	if anchor == "" && c.keyword {
		anchor = "contains"
	}
	for i := range pats {
		switch anchor {
		case "contains":
			pats[i] = pats[i].starred(true, true)
		case "startswith":
			pats[i] = pats[i].starred(false, true)
		case "endswith":
			pats[i] = pats[i].starred(true, false)
		}
	}
	return pats, nil
}

// numberNeedles: a number equal to d, written without exponent, holds d's
// plain digits; written with one, it holds an e.
func numberNeedles(d *decimal) needleInfo {
	plain, ok := d.plainText()
	if !ok {
		return needleInfo{}
	}
	return needleInfo{list: minimizeNeedles([]string{plain, "e"}), ok: true}
}

func (c *compiler) compileExists() (Matcher, error) {
	if len(c.spec.Values) != 1 {
		return nil, &Error{Feature: "exists", Msg: "exists takes one value, true or false"}
	}
	v := c.spec.Values[0]
	var want bool
	switch strings.ToLower(strings.TrimSpace(v.Raw)) {
	case "true":
		want = true
	case "false":
	default:
		return nil, &Error{Feature: "exists", Msg: "exists takes true or false, not " + quote(v.Raw)}
	}
	return &existsMatcher{fields: c.fields, want: want}, nil
}

func (c *compiler) compileFieldref() (Matcher, error) {
	m := &c.m
	rel := relEq
	switch {
	case m.cmp != "":
		rel = map[string]relation{"lt": relLt, "lte": relLte, "gt": relGt, "gte": relGte}[m.cmp]
	case m.anchor == "contains":
		rel = relContains
	case m.anchor == "startswith":
		rel = relPrefix
	case m.anchor == "endswith":
		rel = relSuffix
	}
	var parts []Matcher
	for _, v := range c.spec.Values {
		if v.Kind == Null {
			return nil, &Error{Feature: "fieldref", Msg: "fieldref needs a field name, not null"}
		}
		name := strings.TrimSpace(v.Raw)
		if name == "" || strings.ContainsAny(name, "*?") {
			return nil, &Error{Feature: "fieldref", Msg: "invalid field name " + quote(v.Raw) + " (field references take no wildcards)"}
		}
		paths := []string{name}
		if c.spec.RefFields != nil {
			paths = c.spec.RefFields(name)
		}
		if len(paths) == 0 {
			return nil, &Error{Feature: "fieldref", Msg: "field " + quote(name) + " maps to no event field"}
		}
		fm := &fieldrefMatcher{fields: c.fields, rel: rel, cased: m.cased, neq: m.neq}
		for _, p := range dedupe(slices.Clone(paths)) {
			fm.refs = append(fm.refs, event.Path(p))
		}
		parts = append(parts, fm)
	}
	if m.all {
		return allOf(parts), nil
	}
	return anyOf(parts), nil
}
