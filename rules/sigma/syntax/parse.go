package syntax

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// Limits on what ParseFile reads. A file over a limit is reported, not
// truncated.
const (
	MaxFileSize  = 4 << 20 // bytes in a file
	MaxDocuments = 1000    // YAML documents in a file
	MaxDepth     = 64      // nesting of YAML maps and lists in a document
)

// maxErrors bounds the errors reported for one document, maxMessage the
// characters of a message (which may quote a long value).
const (
	maxErrors  = 50
	maxMessage = 400
)

// quoted formats with %q as quote does, so that a name or value from the
// file, which messages quote, cannot make a message long.
type quoted string

func (s quoted) Format(f fmt.State, verb rune) {
	if verb == 'q' {
		io.WriteString(f, quote(string(s)))
		return
	}
	io.WriteString(f, string(s))
}

// quote quotes s for a message, shortened to 80 characters.
func quote(s string) string { return strconv.Quote(clip(s, 80)) }

// clip shortens s to at most n characters, marking the cut with "…".
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := 0
	for j := range s {
		if i == n-1 {
			return s[:j] + "…"
		}
		i++
	}
	return s
}

// ParseFile parses every YAML document of a Sigma file. name is used in
// positions only. It returns the documents that parsed without error, in
// file order, and the errors of the others (each an *Error); a document with
// an error is left out whole, and the documents around it are still parsed.
// The warnings of a document are in its Metadata().Warnings.
//
// A document is a Correlation if it has a correlation key, a Filter if it has
// a filter key, and a Rule otherwise. ParseFile never panics, whatever data
// holds.
func ParseFile(name string, data []byte) ([]Document, []error) {
	if len(data) > MaxFileSize {
		return nil, []error{&Error{Pos: Pos{File: name}, Feature: "limit",
			Msg: fmt.Sprintf("file is %d bytes; the limit is %d", len(data), MaxFileSize)}}
	}
	var (
		docs            []Document
		errs            []error
		count, nonEmpty int
	)
	chunks, rest := splitDocuments(data, MaxDocuments+1)
	tooMany := func(line int) {
		errs = append(errs, &Error{Pos: Pos{File: name, Line: line}, Feature: "limit",
			Msg: fmt.Sprintf("more than %d documents in the file; the rest is not read", MaxDocuments)})
	}
chunks:
	for _, ch := range chunks {
		roots, err := decodeAll(ch.data)
		for _, root := range roots {
			// Empty documents count too: each costs a decoder.
			if count++; count > MaxDocuments {
				tooMany(contentLine(root) + ch.line - 1)
				rest = 0 // reported
				break chunks
			}
			if isEmptyDocument(root) {
				continue
			}
			nonEmpty++
			p := &parser{file: name, src: ch.data, lineOffset: ch.line - 1}
			doc := p.document(root)
			sortByPos(p.errs)
			sortByPos(p.warns)
			for _, e := range p.errs {
				errs = append(errs, e)
			}
			if len(p.errs) == 0 && doc != nil {
				doc.Metadata().Warnings = p.warns
				docs = append(docs, doc)
			}
		}
		if err != nil {
			errs = append(errs, yamlError(name, ch.line-1, err))
		}
	}
	if rest > 0 {
		tooMany(rest)
	}
	if nonEmpty == 0 && len(errs) == 0 {
		errs = append(errs, &Error{Pos: Pos{File: name}, Feature: "document", Msg: "no Sigma document in the file"})
	}
	return docs, errs
}

// sortByPos sorts errors by position, keeping the order of those at the
// same place.
func sortByPos(errs []*Error) {
	slices.SortStableFunc(errs, func(a, b *Error) int {
		if a.Pos.Line != b.Pos.Line {
			return a.Pos.Line - b.Pos.Line
		}
		return a.Pos.Col - b.Pos.Col
	})
}

// chunk is a run of lines holding one YAML document, or none.
type chunk struct {
	data []byte
	line int // 1-based line of its first line in the file
}

// splitDocuments cuts data before each '---' document marker, so that a
// YAML syntax error in one document does not lose the others. YAML forbids
// such a marker inside any scalar, so the cut never splits a value. Leading
// lines without content (comments, blank lines, directives) stay with the
// document that follows them. It stops after limit chunks; rest is then the
// line where the unread data starts.
func splitDocuments(data []byte, limit int) (chunks []chunk, rest int) {
	start, startLine := 0, 1
	content := false // the current chunk has content or a marker
	line := 1
	for i := 0; i < len(data); {
		end := bytes.IndexByte(data[i:], '\n')
		if end < 0 {
			end = len(data)
		} else {
			end += i + 1
		}
		l := data[i:end]
		if isMarker(l) {
			if content {
				chunks = append(chunks, chunk{data: data[start:i], line: startLine})
				start, startLine = i, line
				if len(chunks) == limit {
					return chunks, line
				}
			}
			content = true
		} else if !content && !isInsignificant(l) {
			content = true
		}
		i = end
		line++
	}
	if start < len(data) || len(chunks) == 0 {
		chunks = append(chunks, chunk{data: data[start:], line: startLine})
	}
	return chunks, 0
}

func isMarker(l []byte) bool {
	return bytes.HasPrefix(l, []byte("---")) && (len(l) == 3 || l[3] == ' ' || l[3] == '\t' || l[3] == '\r' || l[3] == '\n')
}

// isInsignificant reports whether a line holds no document content.
func isInsignificant(l []byte) bool {
	t := bytes.TrimLeft(l, " \t\r\n\ufeff")
	return len(t) == 0 || t[0] == '#' || t[0] == '%' || bytes.HasPrefix(t, []byte("..."))
}

// decodeAll decodes the YAML documents of data into nodes, stopping at the
// first syntax error. Decoding into yaml.Node expands no aliases. A panic
// in the YAML library is turned into an error: a hostile file must not stop
// the process.
func decodeAll(data []byte) (roots []*yaml.Node, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("yaml: the YAML parser failed: %v", r)
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var n yaml.Node
		switch err := dec.Decode(&n); {
		case errors.Is(err, io.EOF):
			return roots, nil
		case err != nil:
			return roots, err
		}
		roots = append(roots, &n)
	}
}

// contentLine is the line where the document's content starts.
func contentLine(n *yaml.Node) int {
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		return n.Content[0].Line
	}
	return n.Line
}

func isEmptyDocument(n *yaml.Node) bool {
	if n.Kind == yaml.DocumentNode {
		if len(n.Content) == 0 {
			return true
		}
		n = n.Content[0]
	}
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" && n.Value == "" && n.Style == 0
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

func yamlError(file string, lineOffset int, err error) *Error {
	msg := err.Error()
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		if slices.Contains(yamlParserErrors, m[2]) {
			line++
		}
		return &Error{Pos: Pos{File: file, Line: line + lineOffset}, Feature: "yaml", Msg: m[2]}
	}
	return &Error{Pos: Pos{File: file, Line: lineOffset + 1}, Feature: "yaml", Msg: strings.TrimPrefix(msg, "yaml: ")}
}

// parser parses one document.
type parser struct {
	file       string
	src        []byte // the chunk of the file the document is in
	lineOffset int    // lines of the file before the chunk
	errs       []*Error
	warns      []*Error
	aliased    bool // an alias was reported
	work       int  // spent on matching x-of patterns, see patternWork
	lines      []int
}

func (p *parser) pos(n *yaml.Node) Pos {
	return Pos{File: p.file, Line: n.Line + p.lineOffset, Col: n.Column}
}

func (p *parser) errorAt(pos Pos, feature, format string, args ...any) {
	add(&p.errs, "errors", pos, feature, format, args...)
}

func (p *parser) warnAt(pos Pos, feature, format string, args ...any) {
	add(&p.warns, "warnings", pos, feature, format, args...)
}

// add appends an error to list, up to maxErrors and a note that there are
// more.
func add(list *[]*Error, what string, pos Pos, feature, format string, args ...any) {
	switch n := len(*list); {
	case n < maxErrors:
		for i, a := range args {
			if s, ok := a.(string); ok {
				args[i] = quoted(s)
			}
		}
		*list = append(*list, &Error{Pos: pos, Feature: feature, Msg: clip(fmt.Sprintf(format, args...), maxMessage)})
	case n == maxErrors:
		*list = append(*list, &Error{Pos: pos, Feature: "limit",
			Msg: fmt.Sprintf("more than %d %s in the document; the rest are not reported", maxErrors, what)})
	}
}

func (p *parser) errorf(n *yaml.Node, feature, format string, args ...any) {
	p.errorAt(p.pos(n), feature, format, args...)
}

func (p *parser) warnf(n *yaml.Node, feature, format string, args ...any) {
	p.warnAt(p.pos(n), feature, format, args...)
}

// document checks the YAML of one document and parses it by kind.
func (p *parser) document(root *yaml.Node) Document {
	if root.Kind == yaml.DocumentNode {
		root = root.Content[0]
	}
	if !p.check(root, 1) {
		return nil
	}
	if root.Kind != yaml.MappingNode {
		p.errorf(root, "document", "a Sigma document is a YAML map of keys such as title and detection, not %s", describeNode(root))
		return nil
	}
	var correlation, filter, detection, logsource, action *yaml.Node
	for i := 0; i < len(root.Content); i += 2 {
		switch k := root.Content[i]; k.Value {
		case "correlation":
			correlation = k
		case "filter":
			filter = k
		case "detection":
			detection = k
		case "logsource":
			logsource = k
		case "action":
			action = root.Content[i+1]
		}
	}
	if action != nil && action.Kind == yaml.ScalarNode {
		switch action.Value {
		case "global", "reset", "repeat":
			p.errorf(action, "collection",
				"'action: %s' rule collections are Sigma v1 and not part of the v2 specification; write each rule out in full", action.Value)
			return nil
		}
	}
	switch {
	case correlation != nil && filter != nil:
		p.errorf(filter, "document", "a document has either a correlation or a filter section, not both")
	case correlation != nil && detection != nil:
		p.errorf(detection, "document", "a correlation rule has no detection section; put the detection in a rule of its own and refer to it")
	case correlation != nil && logsource != nil:
		p.errorf(logsource, "document", "a correlation rule has no logsource; the rules it refers to have theirs")
	case filter != nil && detection != nil:
		p.errorf(detection, "document", "a filter has no detection section; its selections and condition go in the filter section")
	case correlation != nil:
		return p.correlation(root)
	case filter != nil:
		return p.filter(root)
	default:
		return p.rule(root)
	}
	return nil
}

// check walks the document once for what no part of Sigma allows: nesting
// over MaxDepth, aliases, merge keys, tags other than YAML's standard ones,
// keys that are not scalars and duplicate keys. It reports whether the
// document can be parsed further.
func (p *parser) check(n *yaml.Node, depth int) bool {
	if depth > MaxDepth {
		p.errorf(n, "limit", "YAML nests deeper than %d levels", MaxDepth)
		return false
	}
	ok := true
	switch n.Kind {
	case yaml.AliasNode:
		if !p.aliased { // one is enough: a hostile file has thousands
			p.errorf(n, "yaml", "YAML alias *%s: aliases are not supported in Sigma files; write the value out", n.Value)
			p.aliased = true
		}
		return false
	case yaml.ScalarNode:
		switch tag := n.ShortTag(); tag {
		case "!!str", "!!int", "!!float", "!!bool", "!!null", "!!timestamp":
		default:
			p.errorf(n, "yaml", "YAML tag %s is not supported in Sigma files", tag)
			ok = false
		}
	case yaml.SequenceNode:
		if tag := n.ShortTag(); tag != "!!seq" {
			p.errorf(n, "yaml", "YAML tag %s is not supported in Sigma files", tag)
			ok = false
		}
		for _, c := range n.Content {
			ok = p.check(c, depth+1) && ok
		}
	case yaml.MappingNode:
		if tag := n.ShortTag(); tag != "!!map" {
			p.errorf(n, "yaml", "YAML tag %s is not supported in Sigma files", tag)
			ok = false
		}
		seen := make(map[string]*yaml.Node, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			switch {
			case k.Kind != yaml.ScalarNode:
				p.errorf(k, "yaml", "a map key must be plain text, not %s", describeNode(k))
				ok = false
				continue
			case k.ShortTag() == "!!merge":
				p.errorf(k, "yaml", "YAML merge keys (<<) are not supported in Sigma files")
				ok = false
				continue
			}
			if first, dup := seen[k.Value]; dup {
				p.errorf(k, "yaml", "duplicate key %q (first at line %d)", k.Value, first.Line+p.lineOffset)
				ok = false
			} else {
				seen[k.Value] = k
			}
			ok = p.check(k, depth+1) && ok
			ok = p.check(n.Content[i+1], depth+1) && ok
		}
	}
	return ok
}

func describeNode(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a map"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if isNull(n) {
			return "nothing (null)"
		}
		return quote(n.Value)
	}
	return "an alias"
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// field is one key of a map and its value.
type field struct {
	key, val *yaml.Node
}

// fields returns the key-value pairs of the map n in order.
func fields(n *yaml.Node) []field {
	fs := make([]field, 0, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		fs = append(fs, field{n.Content[i], n.Content[i+1]})
	}
	return fs
}

// mapping reports whether n is a map, reporting it if not.
func (p *parser) mapping(n *yaml.Node, feature, what string) bool {
	if n.Kind != yaml.MappingNode {
		p.errorf(n, feature, "%s must be a map, not %s", what, describeNode(n))
		return false
	}
	return true
}

// text returns the scalar n as text. Strings, numbers and dates are text as
// written; null, booleans, lists and maps are not.
func (p *parser) text(n *yaml.Node, feature, what string) (string, bool) {
	if n.Kind == yaml.ScalarNode {
		switch n.ShortTag() {
		case "!!str", "!!int", "!!float", "!!timestamp":
			return n.Value, true
		}
	}
	p.errorf(n, feature, "%s must be text, not %s", what, describeNode(n))
	return "", false
}

// texts returns the list of scalars n as texts. With one set, a single
// scalar is taken as a list of one.
func (p *parser) texts(n *yaml.Node, feature, what string, one bool) ([]string, bool) {
	if one && n.Kind == yaml.ScalarNode && !isNull(n) {
		s, ok := p.text(n, feature, what)
		return []string{s}, ok
	}
	if n.Kind != yaml.SequenceNode {
		p.errorf(n, feature, "%s must be a list of text, not %s", what, describeNode(n))
		return nil, false
	}
	out := make([]string, 0, len(n.Content))
	ok := true
	for _, c := range n.Content {
		s, cok := p.text(c, feature, "each entry of "+what)
		ok = ok && cok
		out = append(out, s)
	}
	return out, ok
}

var (
	uuidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	dateRE = regexp.MustCompile(`^\d{4}-(0[1-9]|1[012])-(0[1-9]|[12][0-9]|3[01])$`)
	tagRE  = regexp.MustCompile(`^[a-z0-9_-]+\.[a-z0-9._-]+$`)
)

var (
	statuses     = []string{"stable", "test", "experimental", "deprecated", "unsupported"}
	levels       = []string{"informational", "low", "medium", "high", "critical"}
	relatedTypes = []string{"derived", "obsolete", "merged", "renamed", "similar", "correlation"}
)

// metaKeys are the metadata keys every kind of document has.
var metaKeys = []string{
	"title", "id", "name", "related", "taxonomy", "status", "description", "license", "author",
	"date", "modified", "references", "tags", "falsepositives", "level", "fields", "scope",
}

// meta parses the metadata key f into m, reporting whether f is one.
func (p *parser) meta(m *Meta, f field) bool {
	k, v := f.key.Value, f.val
	if !slices.Contains(metaKeys, k) {
		return false
	}
	if isNull(v) {
		// A key with nothing after it says nothing; title is then missing.
		return true
	}
	switch k {
	case "title":
		s, ok := p.text(v, k, k)
		switch n := utf8.RuneCountInString(s); {
		case ok && strings.TrimSpace(s) == "":
			p.errorf(v, k, "title is empty")
		case n > 256:
			p.errorf(v, k, "title is %d characters long; the limit is 256", n)
		}
		m.Title = s
	case "id":
		m.ID, _ = p.text(v, k, k)
		if !uuidRE.MatchString(m.ID) {
			p.warnf(v, k, "id %q is not a UUID", m.ID)
		}
	case "name":
		m.Name, _ = p.text(v, k, k)
	case "related":
		m.Related = p.related(v)
	case "taxonomy":
		m.Taxonomy, _ = p.text(v, k, k)
	case "status":
		if s, ok := p.text(v, k, k); ok {
			m.Status = s
			if !slices.Contains(statuses, s) {
				p.errorf(v, k, "status %q is not one of %s", s, strings.Join(statuses, ", "))
			}
		}
	case "description":
		m.Description, _ = p.text(v, k, k)
		if len(m.Description) > 65535 {
			p.errorf(v, k, "description is %d bytes long; the limit is 65535", len(m.Description))
		}
	case "license":
		m.License, _ = p.text(v, k, k)
	case "author":
		m.Author, _ = p.text(v, k, k)
	case "date", "modified":
		s, ok := p.text(v, k, k)
		if ok && !dateRE.MatchString(s) {
			p.warnf(v, k, "%s %q is not a date in the form YYYY-MM-DD", k, s)
		}
		if k == "date" {
			m.Date = s
		} else {
			m.Modified = s
		}
	case "references":
		m.References, _ = p.texts(v, k, k, false)
	case "tags":
		m.Tags, _ = p.texts(v, k, k, false)
		for i, t := range m.Tags {
			if t != "" && !tagRE.MatchString(t) {
				p.warnf(v.Content[i], k, "tag %q is not of the form namespace.name in lower case", t)
			}
		}
	case "falsepositives":
		m.FalsePositives, _ = p.texts(v, k, k, true)
	case "level":
		if s, ok := p.text(v, k, k); ok {
			m.Level = s
			if !slices.Contains(levels, s) {
				p.errorf(v, k, "level %q is not one of %s", s, strings.Join(levels, ", "))
			}
		}
	case "fields":
		m.Fields, _ = p.texts(v, k, k, false)
	case "scope":
		m.Scope, _ = p.texts(v, k, k, false)
	}
	return true
}

func (p *parser) related(n *yaml.Node) []Related {
	if n.Kind != yaml.SequenceNode {
		p.errorf(n, "related", "related must be a list of maps with id and type, not %s", describeNode(n))
		return nil
	}
	var out []Related
	for _, e := range n.Content {
		if !p.mapping(e, "related", "each entry of related") {
			continue
		}
		r := Related{Pos: p.pos(e)}
		for _, f := range fields(e) {
			switch f.key.Value {
			case "id":
				r.ID, _ = p.text(f.val, "related", "related id")
			case "type":
				r.Type, _ = p.text(f.val, "related", "related type")
				if r.Type != "" && !slices.Contains(relatedTypes, r.Type) {
					p.warnf(f.val, "related", "related type %q is not one of %s", r.Type, strings.Join(relatedTypes, ", "))
				}
			default:
				p.warnf(f.key, "related", "related has no key %q; it is ignored", f.key.Value)
			}
		}
		if r.ID == "" || r.Type == "" {
			p.errorf(e, "related", "each entry of related needs an id and a type")
		}
		out = append(out, r)
	}
	return out
}

// custom keeps the unknown top-level key f in m.Custom. A known key in the
// wrong case is reported: the specification wants lower-case keys, and
// taking it for a custom one would drop what it says.
func (p *parser) custom(m *Meta, f field, known []string) {
	k := f.key.Value
	for _, kk := range known {
		if strings.EqualFold(k, kk) {
			p.errorf(f.key, "document", "key %q must be written %q", k, kk)
			return
		}
	}
	if m.Custom == nil {
		m.Custom = make(map[string]any)
	}
	m.Custom[k] = toAny(f.val)
}

// toAny converts a checked node (no aliases, standard tags) into plain Go
// values.
func toAny(n *yaml.Node) any {
	switch n.Kind {
	case yaml.SequenceNode:
		out := make([]any, len(n.Content))
		for i, c := range n.Content {
			out[i] = toAny(c)
		}
		return out
	case yaml.MappingNode:
		out := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			out[n.Content[i].Value] = toAny(n.Content[i+1])
		}
		return out
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return nil
		case "!!bool":
			return strings.EqualFold(n.Value, "true")
		case "!!int":
			if i, err := strconv.ParseInt(strings.ReplaceAll(n.Value, "_", ""), 0, 64); err == nil {
				return i
			}
		case "!!float":
			if f, err := strconv.ParseFloat(n.Value, 64); err == nil {
				return f
			}
		}
		return n.Value
	}
	return nil
}

// require reports each key of keys the map root lacks; the feature of the
// error is prefix and the key.
func (p *parser) require(root *yaml.Node, have map[string]bool, kind, prefix string, keys ...string) {
next:
	for _, k := range keys {
		if have[k] {
			continue
		}
		for h := range have {
			if strings.EqualFold(h, k) {
				continue next // reported as a key in the wrong case
			}
		}
		p.errorAt(p.pos(root), prefix+k, "%s has no %s", kind, k)
	}
}

// present returns the keys of the map n whose values are not null.
func present(n *yaml.Node) map[string]bool {
	have := make(map[string]bool, len(n.Content)/2)
	for _, f := range fields(n) {
		if !isNull(f.val) {
			have[f.key.Value] = true
		}
	}
	return have
}

var ruleKeys = append(slices.Clone(metaKeys), "logsource", "detection")

func (p *parser) rule(root *yaml.Node) Document {
	r := &Rule{Meta: Meta{Pos: p.pos(root)}}
	p.require(root, present(root), "a rule", "", "title", "logsource", "detection")
	for _, f := range fields(root) {
		switch {
		case p.meta(&r.Meta, f):
		case f.key.Value == "logsource":
			r.LogSource = p.logSource(f.val)
		case f.key.Value == "detection":
			if !isNull(f.val) {
				r.Detection = p.detection(f.val)
			}
		default:
			p.custom(&r.Meta, f, ruleKeys)
		}
	}
	p.resolve(&r.Detection)
	return r
}

func (p *parser) logSource(n *yaml.Node) LogSource {
	ls := LogSource{Pos: p.pos(n)}
	if isNull(n) || !p.mapping(n, "logsource", "logsource") {
		return ls
	}
	for _, f := range fields(n) {
		k := f.key.Value
		if isNull(f.val) {
			p.errorf(f.val, "logsource", "logsource %s has no value", k)
			continue
		}
		for _, kk := range []string{"category", "product", "service", "definition"} {
			if k != kk && strings.EqualFold(k, kk) {
				p.errorf(f.key, "logsource", "key %q must be written %q", k, kk)
			}
		}
		s, _ := p.text(f.val, "logsource", "logsource "+k)
		switch k {
		case "category":
			ls.Category = s
		case "product":
			ls.Product = s
		case "service":
			ls.Service = s
		case "definition":
			ls.Definition = s
		default:
			if ls.Custom == nil {
				ls.Custom = make(map[string]string)
			}
			ls.Custom[k] = s
		}
	}
	if ls.Category == "" && ls.Product == "" && ls.Service == "" {
		p.warnf(n, "logsource", "logsource has no category, product or service")
	}
	return ls
}
