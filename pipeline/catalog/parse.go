package catalog

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Error is one problem found in a catalogue file. Parse reports every problem
// it finds as an *Error, joined with errors.Join.
type Error struct {
	File string // the name given to Parse, or the path given to Load
	Line int    // 1-based; 0 when no single line is to blame
	Msg  string
}

// Error formats the problem as "file:line: message".
func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return e.File + ": " + e.Msg
}

// maxErrors bounds how many problems one Parse reports.
const maxErrors = 100

// codeRE is the syntax of organisation codes and service ids: valid inside a
// Kafka topic name (soc.events.<code>) with room to spare under its 249 bytes.
var codeRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,47}$`)

// allowedParents lists, for each organisation kind, the kinds its parent may have.
var allowedParents = map[string][]string{
	KindNation:   nil,
	KindMinistry: {KindNation},
	KindProvince: {KindNation},
	KindAgency:   {KindMinistry, KindProvince, KindAgency},
}

var serviceKinds = []string{
	ServicePortal, ServicePublicServicePortal, ServiceDocumentExchange,
	ServiceMail, ServiceDNS, ServiceOther,
}

// Parse reads a catalogue from YAML. name is used in error messages, normally
// the file name. The document is checked strictly: unknown keys, duplicate
// codes and ids, bad syntax, unknown kinds, out-of-range levels and targets,
// bad URLs and host names, missing fields and misplaced organisations are all
// errors. Parse reports every problem it finds (up to 100), each an *Error
// naming the file and line, joined with errors.Join.
func Parse(data []byte, name string) (*Catalog, error) {
	p := &parser{file: name}
	var c *Catalog
	if root := p.document(data); root != nil {
		if raws, ok := p.top(root); ok {
			c = p.build(raws)
		}
	}
	if len(p.errs) > 0 {
		return nil, p.err()
	}
	if c == nil { // every path to here reports why; this guards the contract
		return nil, &Error{File: name, Msg: "no catalogue"}
	}
	return c, nil
}

// rawOrg is an organisation as read, with the lines later checks point at.
type rawOrg struct {
	org        *Org
	given      string // the code as written, kept when it was rejected
	line       int    // the org's mapping
	codeLine   int
	parentLine int
	services   []*rawService
}

// rawService is a service as read, with the lines later checks point at.
type rawService struct {
	svc          *Service
	idLine       int
	operatorLine int
}

type parser struct {
	file string
	errs []*Error
	full bool // more than maxErrors
}

func (p *parser) errorf(line int, format string, args ...any) {
	if len(p.errs) >= maxErrors {
		p.full = true
		return
	}
	p.errs = append(p.errs, &Error{File: p.file, Line: line, Msg: fmt.Sprintf(format, args...)})
}

// err joins the errors in line order, those about the whole file first.
func (p *parser) err() error {
	slices.SortStableFunc(p.errs, func(a, b *Error) int { return a.Line - b.Line })
	errs := make([]error, 0, len(p.errs)+1)
	for _, e := range p.errs {
		errs = append(errs, e)
	}
	if p.full {
		errs = append(errs, &Error{File: p.file, Msg: fmt.Sprintf("too many errors; stopped after %d", maxErrors)})
	}
	return errors.Join(errs...)
}

// yamlLineRE splits yaml.v3's "yaml: line N: message".
var yamlLineRE = regexp.MustCompile(`(?s)^yaml: line (\d+): (.*)$`)

// yamlParserErrors are the messages for which yaml.v3 reports the 0-based
// line of the construct being parsed (its scanner errors are 1-based).
var yamlParserErrors = []string{
	"did not find expected ',' or ']'",
	"did not find expected ',' or '}'",
	"did not find expected '-' indicator",
	"did not find expected key",
	"did not find expected node content",
	"found undefined tag handle",
}

func (p *parser) yamlError(err error) {
	msg := err.Error()
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		if slices.Contains(yamlParserErrors, m[2]) {
			line++
		}
		p.errorf(line, "YAML syntax: %s", m[2])
		return
	}
	p.errorf(0, "YAML syntax: %s", strings.TrimPrefix(msg, "yaml: "))
}

// document parses data as exactly one YAML document without aliases and
// returns its root node, or nil after reporting why not.
func (p *parser) document(data []byte) *yaml.Node {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if err == io.EOF {
			p.errorf(0, "empty catalogue")
		} else {
			p.yamlError(err)
		}
		return nil
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case err == io.EOF:
	case err != nil:
		p.yamlError(err)
		return nil
	default:
		p.errorf(next.Line, "a second YAML document; a catalogue is one document")
		return nil
	}
	if len(doc.Content) == 0 || isNull(doc.Content[0]) {
		p.errorf(doc.Line, "empty catalogue")
		return nil
	}
	p.noAliases(doc.Content[0])
	if len(p.errs) > 0 {
		return nil
	}
	return doc.Content[0]
}

// noAliases reports every alias: a catalogue spells each value out, which
// keeps it readable and keeps alias expansion out of the parser's way.
func (p *parser) noAliases(n *yaml.Node) {
	if n.Kind == yaml.AliasNode {
		p.errorf(n.Line, "alias *%s: aliases are not supported; write the value out", n.Value)
		return
	}
	for _, c := range n.Content {
		p.noAliases(c)
	}
}

// top reads the top-level mapping. ok is false when its shape is so wrong
// that checks across organisations would only repeat the problem.
func (p *parser) top(n *yaml.Node) (raws []*rawOrg, ok bool) {
	f := p.fields(n, "catalogue", "version", "orgs")
	if f == nil {
		return nil, false
	}
	if v := f["version"]; v == nil || isNull(v) {
		p.errorf(n.Line, "catalogue: version is required (version: 1)")
	} else if ver, ok := p.integer(v, "catalogue", "version"); ok && ver != 1 {
		p.errorf(v.Line, "catalogue: version %d not supported (want 1)", ver)
	}
	list := f["orgs"]
	if list == nil || isNull(list) {
		p.errorf(n.Line, "catalogue: orgs is required")
		return nil, false
	}
	if list.Kind != yaml.SequenceNode {
		p.errorf(list.Line, "catalogue: orgs: want a list, got %s", describe(list))
		return nil, false
	}
	for _, item := range list.Content {
		if r := p.org(item); r != nil {
			raws = append(raws, r)
		}
	}
	return raws, true
}

// org reads one organisation and checks what can be checked on its own.
func (p *parser) org(n *yaml.Node) *rawOrg {
	what := label(n, "code", "org")
	f := p.fields(n, what, "code", "kind", "parent", "name_vi", "name_en", "city", "domain", "services")
	if f == nil {
		return nil
	}
	o := &Org{}
	r := &rawOrg{org: o, line: n.Line}

	o.Code, r.codeLine = p.required(n, f, what, "code")
	r.given = o.Code
	if o.Code != "" && !codeRE.MatchString(o.Code) {
		p.errorf(r.codeLine, "%s: code must match %s (it names Kafka topics)", what, codeRE)
		o.Code = ""
	}
	var kindLine int
	o.Kind, kindLine = p.required(n, f, what, "kind")
	if _, known := allowedParents[o.Kind]; o.Kind != "" && !known {
		p.errorf(kindLine, "%s: unknown kind %q (want nation, ministry, province or agency)", what, o.Kind)
		o.Kind = ""
	}
	o.NameVI, _ = p.required(n, f, what, "name_vi")
	o.NameEN, _ = p.required(n, f, what, "name_en")
	o.Parent, r.parentLine = p.optional(f, what, "parent")
	if v := f["city"]; v != nil && !isNull(v) {
		if city, ok := p.boolean(v, what, "city"); ok {
			if city && o.Kind != "" && o.Kind != KindProvince {
				p.errorf(v.Line, "%s: city is only for kind province, not %s", what, o.Kind)
			}
			o.City = city
		}
	}
	if d, line := p.optional(f, what, "domain"); d != "" {
		if !validDomain(d) {
			p.errorf(line, "%s: domain %q is not a valid lower-case DNS name", what, d)
		} else {
			o.Domain = d
		}
	}
	if list := f["services"]; list != nil && !isNull(list) {
		if list.Kind != yaml.SequenceNode {
			p.errorf(list.Line, "%s: services: want a list, got %s", what, describe(list))
		} else {
			for _, item := range list.Content {
				if s := p.service(item, o); s != nil {
					r.services = append(r.services, s)
					o.Services = append(o.Services, s.svc)
				}
			}
		}
	}
	return r
}

// service reads one service of owner and checks what can be checked on its own.
func (p *parser) service(n *yaml.Node, owner *Org) *rawService {
	what := label(n, "id", "service")
	f := p.fields(n, what, "id", "kind", "name_vi", "name_en", "url", "host", "zone", "level", "target", "operator")
	if f == nil {
		return nil
	}
	s := &Service{Org: owner.Code}
	r := &rawService{svc: s}

	s.ID, r.idLine = p.required(n, f, what, "id")
	if s.ID != "" && !codeRE.MatchString(s.ID) {
		p.errorf(r.idLine, "%s: id must match %s", what, codeRE)
		s.ID = ""
	}
	var kindLine int
	s.Kind, kindLine = p.required(n, f, what, "kind")
	if s.Kind != "" && !slices.Contains(serviceKinds, s.Kind) {
		p.errorf(kindLine, "%s: unknown kind %q (want portal, public-service-portal, document-exchange, mail, dns or other)", what, s.Kind)
		s.Kind = ""
	}
	s.NameVI, _ = p.required(n, f, what, "name_vi")
	s.NameEN, _ = p.required(n, f, what, "name_en")

	if v := f["level"]; v == nil || isNull(v) {
		p.errorf(n.Line, "%s: level is required (cấp độ 1–5)", what)
	} else if lvl, ok := p.integer(v, what, "level"); ok {
		if lvl < 1 || lvl > 5 {
			p.errorf(v.Line, "%s: level %d outside 1..5", what, lvl)
		}
		s.Level = lvl
	}
	if v := f["target"]; v == nil || isNull(v) {
		p.errorf(n.Line, "%s: target is required (availability in percent, e.g. 99.5)", what)
	} else if t, ok := p.number(v, what, "target"); ok {
		if !(t > 0 && t <= 100) { // also rejects NaN
			p.errorf(v.Line, "%s: target %g outside (0,100]", what, t)
		}
		s.Target = t
	}

	var u *url.URL
	raw, urlLine := p.optional(f, what, "url")
	if raw != "" {
		var why string
		if u, why = checkURL(raw); u == nil {
			p.errorf(urlLine, "%s: bad url %q: %s", what, raw, why)
		} else {
			s.URL = raw
		}
	}
	host, hostLine := p.optional(f, what, "host")
	if host != "" {
		if validHost(host) {
			s.Host = host
		} else {
			p.errorf(hostLine, "%s: host %q is not a valid lower-case host name or IP address", what, host)
		}
	}
	zone, zoneLine := p.optional(f, what, "zone")
	if zone != "" {
		if validDomain(zone) {
			s.Zone = zone
		} else {
			p.errorf(zoneLine, "%s: zone %q is not a valid lower-case DNS name", what, zone)
		}
	}
	s.Operator, r.operatorLine = p.optional(f, what, "operator")

	// What each kind needs. raw, host and zone hold what was given, even if bad.
	switch s.Kind {
	case ServicePortal, ServicePublicServicePortal:
		if raw == "" {
			p.errorf(n.Line, "%s: url is required for kind %s", what, s.Kind)
		}
		if host != "" {
			p.errorf(hostLine, "%s: host is not used by kind %s (the url names the host)", what, s.Kind)
		}
	case ServiceMail:
		if raw != "" {
			p.errorf(urlLine, "%s: url is not used by kind mail; give host (the mail server)", what)
		}
		if host == "" {
			p.errorf(n.Line, "%s: host is required for kind mail", what)
		}
	case ServiceDNS:
		if raw != "" {
			p.errorf(urlLine, "%s: url is not used by kind dns; give host (a name server) or zone", what)
		}
		if host == "" && zone == "" && owner.Domain == "" {
			p.errorf(n.Line, "%s: kind dns needs zone or host (the org has no domain to default to)", what)
		}
	case ServiceDocumentExchange, ServiceOther:
		if raw != "" && host != "" {
			p.errorf(hostLine, "%s: give url or host, not both", what)
		}
	}
	if zone != "" && s.Kind != "" && s.Kind != ServiceDNS {
		p.errorf(zoneLine, "%s: zone is only for kind dns, not %s", what, s.Kind)
	}

	if u != nil && s.Host == "" {
		s.Host = u.Hostname()
	}
	if s.Kind == ServiceDNS && s.Zone == "" {
		s.Zone = owner.Domain
	}
	return r
}

// build checks what spans organisations (unique codes and ids, parents,
// loops, operators) and assembles the Catalog. It returns nil if anything was
// wrong, here or before.
func (p *parser) build(raws []*rawOrg) *Catalog {
	byCode := make(map[string]*rawOrg, len(raws))
	var orgs []*rawOrg            // the first org of each code, in file order
	rejected := map[string]bool{} // codes reported as bad: no cascade of "not defined"
	nations := 0
	for _, r := range raws {
		if r.org.Kind == KindNation {
			nations++
		}
		code := r.org.Code
		if code == "" {
			rejected[r.given] = true
			continue // reported
		}
		if first, dup := byCode[code]; dup {
			p.errorf(r.codeLine, "org %q: duplicate code (first at line %d)", code, first.codeLine)
			continue
		}
		byCode[code] = r
		orgs = append(orgs, r)
	}

	byID := make(map[string]*rawService)
	for _, r := range raws {
		for _, s := range r.services {
			id := s.svc.ID
			if id == "" {
				continue // reported
			}
			if first, dup := byID[id]; dup {
				p.errorf(s.idLine, "service %q: duplicate id (first at line %d)", id, first.idLine)
				continue
			}
			byID[id] = s
			if op := s.svc.Operator; op != "" && byCode[op] == nil && !rejected[op] {
				p.errorf(s.operatorLine, "service %q: operator %q is not defined", id, op)
			}
		}
	}

	// Roots and parent links.
	var root *rawOrg
	linked := make(map[*rawOrg]bool, len(orgs))
	for _, r := range orgs {
		o := r.org
		if o.Kind == KindNation {
			if o.Parent != "" {
				p.errorf(r.parentLine, "org %q: a nation has no parent", o.Code)
			}
			if root != nil {
				p.errorf(r.codeLine, "org %q: a second nation (the first is %q at line %d)", o.Code, root.org.Code, root.codeLine)
				continue
			}
			root = r
			continue
		}
		if o.Parent == "" {
			if o.Kind != "" {
				p.errorf(r.line, "org %q: parent is required for kind %s", o.Code, o.Kind)
			}
			continue
		}
		pr := byCode[o.Parent]
		if pr == nil && rejected[o.Parent] {
			continue // its parent's code was reported
		}
		if pr == nil {
			p.errorf(r.parentLine, "org %q: parent %q is not defined", o.Code, o.Parent)
			continue
		}
		if o.Kind == "" || pr.org.Kind == "" {
			continue // reported
		}
		if want := allowedParents[o.Kind]; !slices.Contains(want, pr.org.Kind) {
			p.errorf(r.parentLine, "org %q: kind %s is not allowed under %s %q (allowed parents: %s)",
				o.Code, o.Kind, pr.org.Kind, pr.org.Code, strings.Join(want, ", "))
			continue
		}
		linked[r] = true
		pr.org.Children = append(pr.org.Children, o)
	}
	if nations == 0 {
		p.errorf(0, "catalogue: no org of kind nation; the tree needs one root")
	}
	if root == nil {
		return nil
	}

	// Tree order from the root; what it cannot reach hangs off a loop.
	c := &Catalog{
		root:   root.org,
		byCode: make(map[string]*Org, len(orgs)),
		byID:   make(map[string]*Service, len(byID)),
	}
	var walk func(*Org)
	walk = func(o *Org) {
		c.orgs = append(c.orgs, o)
		c.byCode[o.Code] = o
		for _, s := range o.Services {
			c.services = append(c.services, s)
			c.byID[s.ID] = s
		}
		for _, ch := range o.Children {
			walk(ch)
		}
	}
	walk(root.org)
	p.loops(orgs, byCode, linked, c.byCode)

	if len(p.errs) > 0 {
		return nil
	}
	return c
}

// loops reports each cycle of parent links once. reached holds the codes the
// walk from the root reached; an org it did not reach either has a broken
// link up its chain (already reported) or sits in or under a loop.
func (p *parser) loops(orgs []*rawOrg, byCode map[string]*rawOrg, linked map[*rawOrg]bool, reached map[string]*Org) {
	done := make(map[*rawOrg]bool)
	for _, r := range orgs {
		if !linked[r] || done[r] || reached[r.org.Code] != nil {
			continue
		}
		seen := make(map[*rawOrg]int)
		var path []*rawOrg
		for cur := r; linked[cur] && !done[cur] && reached[cur.org.Code] == nil; cur = byCode[cur.org.Parent] {
			if i, again := seen[cur]; again {
				loop := path[i:]
				codes := make([]string, 0, len(loop)+1)
				for _, l := range loop {
					codes = append(codes, l.org.Code)
				}
				codes = append(codes, loop[0].org.Code)
				p.errorf(loop[0].parentLine, "org %q: parent chain is a loop: %s", loop[0].org.Code, strings.Join(codes, " → "))
				break
			}
			seen[cur] = len(path)
			path = append(path, cur)
		}
		for _, l := range path {
			done[l] = true
		}
	}
}

// fields checks that n is a mapping whose keys are known and unique, and
// returns the value node of each key present; nil if n is no mapping.
func (p *parser) fields(n *yaml.Node, what string, known ...string) map[string]*yaml.Node {
	if n.Kind != yaml.MappingNode {
		p.errorf(n.Line, "%s: want a mapping, got %s", what, describe(n))
		return nil
	}
	out := make(map[string]*yaml.Node, len(n.Content)/2)
	keyLine := make(map[string]int, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			p.errorf(k.Line, "%s: keys must be plain names, got %s", what, describe(k))
			continue
		}
		if first, dup := keyLine[k.Value]; dup {
			p.errorf(k.Line, "%s: key %q repeated (first at line %d)", what, k.Value, first)
			continue
		}
		keyLine[k.Value] = k.Line
		if !slices.Contains(known, k.Value) {
			p.errorf(k.Line, "%s: unknown key %q (known: %s)", what, k.Value, strings.Join(known, ", "))
			continue
		}
		out[k.Value] = v
	}
	return out
}

// required returns the text of a required field and its line, reporting it
// (at the mapping's line) when missing or blank.
func (p *parser) required(n *yaml.Node, f map[string]*yaml.Node, what, key string) (string, int) {
	v := f[key]
	if v == nil || isNull(v) {
		p.errorf(n.Line, "%s: %s is required", what, key)
		return "", n.Line
	}
	s, ok := p.text(v, what, key)
	if ok && strings.TrimSpace(s) == "" {
		p.errorf(v.Line, "%s: %s is required (it is blank)", what, key)
	}
	return s, v.Line
}

// optional returns the text of an optional field ("" when absent) and its line.
func (p *parser) optional(f map[string]*yaml.Node, what, key string) (string, int) {
	v := f[key]
	if v == nil || isNull(v) {
		return "", 0
	}
	s, _ := p.text(v, what, key)
	return s, v.Line
}

func (p *parser) text(v *yaml.Node, what, key string) (string, bool) {
	if v.Kind != yaml.ScalarNode {
		p.errorf(v.Line, "%s: %s: want text, got %s", what, key, describe(v))
		return "", false
	}
	return v.Value, true
}

func (p *parser) integer(v *yaml.Node, what, key string) (int, bool) {
	var i int
	if v.Kind != yaml.ScalarNode || v.ShortTag() != "!!int" || v.Decode(&i) != nil {
		p.errorf(v.Line, "%s: %s: want a whole number, got %s", what, key, describe(v))
		return 0, false
	}
	return i, true
}

func (p *parser) number(v *yaml.Node, what, key string) (float64, bool) {
	var x float64
	tag := v.ShortTag()
	if v.Kind != yaml.ScalarNode || (tag != "!!int" && tag != "!!float") || v.Decode(&x) != nil {
		p.errorf(v.Line, "%s: %s: want a number, got %s", what, key, describe(v))
		return 0, false
	}
	return x, true
}

func (p *parser) boolean(v *yaml.Node, what, key string) (bool, bool) {
	var b bool
	if v.Kind != yaml.ScalarNode || v.ShortTag() != "!!bool" || v.Decode(&b) != nil {
		p.errorf(v.Line, "%s: %s: want true or false, got %s", what, key, describe(v))
		return false, false
	}
	return b, true
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// label names a mapping in messages by its code or id, e.g. `org "hanoi"`.
func label(n *yaml.Node, key, noun string) string {
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Kind == yaml.ScalarNode && k.Value == key && v.Kind == yaml.ScalarNode && v.Value != "" && !isNull(v) {
				return fmt.Sprintf("%s %q", noun, v.Value)
			}
		}
	}
	return noun
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	case yaml.DocumentNode:
		return "a document"
	}
	if isNull(n) {
		return "nothing"
	}
	return strconv.Quote(n.Value)
}

// checkURL returns the parsed URL, or nil and the reason it is unusable.
func checkURL(s string) (*url.URL, string) {
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return nil, "not a URL"
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, "want an absolute http or https URL"
	case u.Opaque != "" || u.Host == "":
		return nil, "want an absolute http or https URL with a host"
	case u.User != nil:
		return nil, "must not carry a user name or password"
	case !validHost(u.Hostname()):
		return nil, fmt.Sprintf("host %q is not a valid lower-case host name or IP address", u.Hostname())
	}
	if port := u.Port(); port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return nil, fmt.Sprintf("port %q outside 1..65535", port)
		}
	}
	return u, ""
}

// validHost reports whether s is an IP address or a lower-case DNS name.
func validHost(s string) bool {
	if _, err := netip.ParseAddr(s); err == nil {
		return true
	}
	return validDomain(s)
}

// validDomain reports whether s is a lower-case DNS name without a trailing
// dot: labels of 1–63 letters, digits and inner hyphens, 253 bytes at most.
func validDomain(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for _, label := range strings.Split(s, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}
