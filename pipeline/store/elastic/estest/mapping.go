package estest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// A mapping as Elasticsearch keeps it, reduced to what the double checks:
// the type of every leaf field by its full dotted path, the object paths,
// the dynamic templates and the detection switches.
type mapping struct {
	fields           map[string]*fieldType
	objects          map[string]bool
	dynamicTemplates []dynamicTemplate
	dateDetection    bool
	dynamic          string            // "true", "false", "strict": the root's setting
	objectDynamic    map[string]string // an object's own setting, by path
}

type fieldType struct {
	typ         string
	ignoreAbove int
	copyTo      []string
	fields      map[string]*fieldType // multi-fields, by sub-name
	index       bool
	docValues   bool
}

type dynamicTemplate struct {
	name             string
	matchMappingType string
	match, unmatch   string
	pathMatch        string
	pathUnmatch      string
	mapping          map[string]any
}

func newMapping() *mapping {
	return &mapping{fields: map[string]*fieldType{}, objects: map[string]bool{}, objectDynamic: map[string]string{}, dateDetection: true, dynamic: "true"}
}

func (m *mapping) clone() *mapping {
	c := &mapping{
		fields:           make(map[string]*fieldType, len(m.fields)),
		objects:          make(map[string]bool, len(m.objects)),
		dynamicTemplates: slices.Clone(m.dynamicTemplates),
		dateDetection:    m.dateDetection,
		dynamic:          m.dynamic,
		objectDynamic:    make(map[string]string, len(m.objectDynamic)),
	}
	for k, v := range m.objectDynamic {
		c.objectDynamic[k] = v
	}
	for k, v := range m.fields {
		c.fields[k] = v
	}
	for k := range m.objects {
		c.objects[k] = true
	}
	return c
}

// The parameters each field type accepts, beyond "type". Anything else is
// refused, as Elasticsearch refuses an unknown parameter.
var typeParams = map[string][]string{
	"keyword":          {"ignore_above", "copy_to", "fields", "index", "doc_values", "null_value", "store", "normalizer", "meta", "eager_global_ordinals", "time_series_dimension"},
	"wildcard":         {"ignore_above", "copy_to", "fields", "null_value", "meta"},
	"constant_keyword": {"value", "meta"},
	"match_only_text":  {"copy_to", "fields", "meta"},
	"text":             {"copy_to", "fields", "index", "analyzer", "search_analyzer", "norms", "store", "meta", "index_options"},
	"date":             {"format", "copy_to", "fields", "index", "doc_values", "ignore_malformed", "null_value", "store", "meta"},
	"date_nanos":       {"format", "copy_to", "fields", "index", "doc_values", "ignore_malformed", "null_value", "store", "meta"},
	"ip":               {"copy_to", "fields", "index", "doc_values", "ignore_malformed", "null_value", "store", "meta"},
	"long":             {"copy_to", "fields", "index", "doc_values", "ignore_malformed", "null_value", "store", "meta", "coerce"},
	"integer":          {"copy_to", "fields", "index", "doc_values", "ignore_malformed", "null_value", "store", "meta", "coerce"},
	"short":            {"copy_to", "fields", "index", "doc_values", "ignore_malformed", "null_value", "store", "meta", "coerce"},
	"byte":             {"copy_to", "fields", "index", "doc_values", "ignore_malformed", "null_value", "store", "meta", "coerce"},
	"double":           {"copy_to", "fields", "index", "doc_values", "ignore_malformed", "null_value", "store", "meta", "coerce"},
	"float":            {"copy_to", "fields", "index", "doc_values", "ignore_malformed", "null_value", "store", "meta", "coerce"},
	"half_float":       {"copy_to", "fields", "index", "doc_values", "ignore_malformed", "null_value", "store", "meta", "coerce"},
	"boolean":          {"copy_to", "fields", "index", "doc_values", "null_value", "store", "meta"},
	"flattened":        {"ignore_above", "index", "doc_values", "depth_limit", "meta"},
}

// mapperError is a 400 mapper_parsing_exception, as a mapping that does not
// parse gets.
func mapperError(format string, args ...any) *esError {
	return &esError{Status: 400, Type: "mapper_parsing_exception", Reason: fmt.Sprintf(format, args...)}
}

// parseMappings merges a "mappings" object into m.
func (m *mapping) parse(raw map[string]any) *esError {
	for k, v := range raw {
		switch k {
		case "properties":
			props, ok := v.(map[string]any)
			if !ok {
				return mapperError("[properties] must be an object")
			}
			if err := m.parseProperties("", props); err != nil {
				return err
			}
		case "dynamic_templates":
			list, ok := v.([]any)
			if !ok {
				return mapperError("[dynamic_templates] must be an array")
			}
			for _, e := range list {
				dt, err := parseDynamicTemplate(e)
				if err != nil {
					return err
				}
				if i := slices.IndexFunc(m.dynamicTemplates, func(d dynamicTemplate) bool { return d.name == dt.name }); i >= 0 {
					m.dynamicTemplates[i] = dt
				} else {
					m.dynamicTemplates = append(m.dynamicTemplates, dt)
				}
			}
		case "date_detection":
			b, ok := v.(bool)
			if !ok {
				return mapperError("[date_detection] must be a boolean")
			}
			m.dateDetection = b
		case "numeric_detection":
			if b, ok := v.(bool); !ok || b {
				return mapperError("estest: numeric_detection other than false is not supported by the double")
			}
		case "dynamic":
			switch d := fmt.Sprint(v); d {
			case "true", "false", "strict":
				m.dynamic = d
			default:
				return mapperError("estest: dynamic [%s] is not supported by the double", d)
			}
		case "_meta":
		case "_source":
			return mapperError("estest: _source options are not supported by the double")
		default:
			return mapperError("Root mapping definition has unsupported parameters:  [%s : %v]", k, v)
		}
	}
	return nil
}

func (m *mapping) parseProperties(prefix string, props map[string]any) *esError {
	for name, v := range props {
		if name == "" || strings.HasPrefix(name, ".") || strings.HasSuffix(name, ".") || strings.Contains(name, "..") {
			return mapperError("field name [%s] is invalid", name)
		}
		full := name
		if prefix != "" {
			full = prefix + "." + name
		}
		def, ok := v.(map[string]any)
		if !ok {
			return mapperError("Expected map for property [fields] on field [%s] but got a class %T", full, v)
		}
		// A dotted name in properties is a path of objects.
		if i := strings.LastIndexByte(full, '.'); i >= 0 {
			for p := full[:i]; ; {
				if _, leaf := m.fields[p]; leaf {
					return mapperError("can't merge a non object mapping [%s] with an object mapping", p)
				}
				m.objects[p] = true
				j := strings.LastIndexByte(p, '.')
				if j < 0 {
					break
				}
				p = p[:j]
			}
		}
		typ, _ := def["type"].(string)
		if typ == "" || typ == "object" {
			if _, leaf := m.fields[full]; leaf {
				return mapperError("can't merge a non object mapping [%s] with an object mapping", full)
			}
			m.objects[full] = true
			for k, pv := range def {
				switch k {
				case "type":
				case "dynamic":
					switch d := fmt.Sprint(pv); d {
					case "true", "false", "strict":
						m.objectDynamic[full] = d
					default:
						return mapperError("estest: dynamic [%s] on [%s] is not supported by the double", d, full)
					}
				case "enabled":
					return mapperError("estest: [enabled] on [%s] is not supported by the double", full)
				case "properties":
					sub, ok := pv.(map[string]any)
					if !ok {
						return mapperError("[properties] of [%s] must be an object", full)
					}
					if err := m.parseProperties(full, sub); err != nil {
						return err
					}
				default:
					return mapperError("unknown parameter [%s] on mapper [%s] of type [object]", k, full)
				}
			}
			continue
		}
		if m.objects[full] {
			return mapperError("can't merge a non object mapping [%s] with an object mapping", full)
		}
		ft, err := parseFieldType(full, def)
		if err != nil {
			return err
		}
		m.fields[full] = ft
	}
	return nil
}

func parseFieldType(full string, def map[string]any) (*fieldType, *esError) {
	typ, _ := def["type"].(string)
	if typ == "nested" {
		return nil, mapperError("estest: nested fields are not supported by the double")
	}
	allowed, ok := typeParams[typ]
	if !ok {
		return nil, mapperError("No handler for type [%s] declared on field [%s]", typ, full)
	}
	ft := &fieldType{typ: typ, index: true, docValues: true}
	for k, v := range def {
		if k == "type" {
			continue
		}
		if !slices.Contains(allowed, k) {
			return nil, mapperError("unknown parameter [%s] on mapper [%s] of type [%s]", k, full, typ)
		}
		switch k {
		case "ignore_above":
			n, ok := v.(float64)
			if !ok || n < 0 || n != math.Trunc(n) {
				return nil, mapperError("[ignore_above] on [%s] must be a non-negative integer", full)
			}
			ft.ignoreAbove = int(n)
		case "copy_to":
			switch c := v.(type) {
			case string:
				ft.copyTo = []string{c}
			case []any:
				for _, e := range c {
					s, ok := e.(string)
					if !ok {
						return nil, mapperError("[copy_to] on [%s] must be strings", full)
					}
					ft.copyTo = append(ft.copyTo, s)
				}
			default:
				return nil, mapperError("[copy_to] on [%s] must be a string or an array", full)
			}
		case "fields":
			sub, ok := v.(map[string]any)
			if !ok {
				return nil, mapperError("[fields] on [%s] must be an object", full)
			}
			ft.fields = map[string]*fieldType{}
			for name, sv := range sub {
				sd, ok := sv.(map[string]any)
				if !ok {
					return nil, mapperError("multi-field [%s.%s] must be an object", full, name)
				}
				sft, err := parseFieldType(full+"."+name, sd)
				if err != nil {
					return nil, err
				}
				if len(sft.copyTo) > 0 {
					return nil, mapperError("[copy_to] may not be used to copy from a multi-field: [%s.%s]", full, name)
				}
				ft.fields[name] = sft
			}
		case "index":
			b, ok := v.(bool)
			if !ok {
				return nil, mapperError("[index] on [%s] must be a boolean", full)
			}
			ft.index = b
		case "doc_values":
			b, ok := v.(bool)
			if !ok {
				return nil, mapperError("[doc_values] on [%s] must be a boolean", full)
			}
			ft.docValues = b
		case "format":
			f, _ := v.(string)
			for _, p := range strings.Split(f, "||") {
				if !slices.Contains([]string{"strict_date_optional_time", "strict_date_optional_time_nanos", "date_optional_time", "epoch_millis"}, p) {
					return nil, mapperError("estest: date format [%s] on [%s] is not supported by the double", p, full)
				}
			}
		case "normalizer", "analyzer", "search_analyzer", "null_value":
			return nil, mapperError("estest: [%s] on [%s] is not supported by the double", k, full)
		}
	}
	switch typ {
	case "match_only_text", "text":
		ft.docValues = false
	}
	return ft, nil
}

func parseDynamicTemplate(e any) (dynamicTemplate, *esError) {
	obj, ok := e.(map[string]any)
	if !ok || len(obj) != 1 {
		return dynamicTemplate{}, mapperError("a dynamic template must be an object with one named template")
	}
	var dt dynamicTemplate
	for name, v := range obj {
		dt.name = name
		def, ok := v.(map[string]any)
		if !ok {
			return dt, mapperError("dynamic template [%s] must be an object", name)
		}
		for k, pv := range def {
			s, _ := pv.(string)
			switch k {
			case "match_mapping_type":
				switch s {
				case "string", "long", "double", "boolean", "object", "date", "*":
				default:
					return dt, mapperError("No field type matched on [%s], possible values are [object, string, long, double, boolean, date, binary]", s)
				}
				dt.matchMappingType = s
			case "match":
				dt.match = s
			case "unmatch":
				dt.unmatch = s
			case "path_match":
				dt.pathMatch = s
			case "path_unmatch":
				dt.pathUnmatch = s
			case "mapping":
				m, ok := pv.(map[string]any)
				if !ok {
					return dt, mapperError("dynamic template [%s]: [mapping] must be an object", name)
				}
				if _, err := parseFieldType("<"+name+">", m); err != nil {
					return dt, err
				}
				dt.mapping = m
			default:
				return dt, mapperError("Illegal dynamic template parameter: [%s]", k)
			}
		}
		if dt.mapping == nil {
			return dt, mapperError("dynamic template [%s] has no mapping", name)
		}
	}
	return dt, nil
}

// dynamicAt is the dynamic setting that applies to a new field: that of
// its nearest object that has one, else the root's.
func (m *mapping) dynamicAt(full string) string {
	for i := len(full) - 1; i > 0; i-- {
		if full[i] == '.' {
			if d, ok := m.objectDynamic[full[:i]]; ok {
				return d
			}
		}
	}
	return m.dynamic
}

// dynamicType is the mapping Elasticsearch gives a new field from its first
// JSON value: a dynamic template that matches, else the defaults.
func (m *mapping) dynamicType(full string, v any) (*fieldType, *esError) {
	mt := ""
	switch x := v.(type) {
	case string:
		mt = "string"
		if m.dateDetection {
			if _, err := parseDate(x, false); err == nil {
				mt = "date"
			}
		}
	case json.Number:
		mt = "double"
		if _, err := strconv.ParseInt(string(x), 10, 64); err == nil {
			mt = "long"
		}
	case bool:
		mt = "boolean"
	}
	leaf := full[strings.LastIndexByte(full, '.')+1:]
	for _, dt := range m.dynamicTemplates {
		if dt.matchMappingType != "" && dt.matchMappingType != "*" && dt.matchMappingType != mt {
			continue
		}
		if dt.match != "" && !glob(dt.match, leaf) || dt.unmatch != "" && glob(dt.unmatch, leaf) {
			continue
		}
		if dt.pathMatch != "" && !glob(dt.pathMatch, full) || dt.pathUnmatch != "" && glob(dt.pathUnmatch, full) {
			continue
		}
		return parseFieldType(full, dt.mapping)
	}
	switch mt {
	case "string":
		return &fieldType{typ: "text", index: true, fields: map[string]*fieldType{
			"keyword": {typ: "keyword", ignoreAbove: 256, index: true, docValues: true},
		}}, nil
	case "date":
		return &fieldType{typ: "date", index: true, docValues: true}, nil
	case "long":
		return &fieldType{typ: "long", index: true, docValues: true}, nil
	case "double":
		return &fieldType{typ: "float", index: true, docValues: true}, nil
	case "boolean":
		return &fieldType{typ: "boolean", index: true, docValues: true}, nil
	}
	return nil, mapperError("cannot map field [%s]", full)
}

// glob matches Elasticsearch's simple patterns: '*' is any run of
// characters, everything else is itself.
func glob(p, s string) bool {
	if p == "" {
		return s == ""
	}
	if p[0] == '*' {
		for i := 0; i <= len(s); i++ {
			if glob(p[1:], s[i:]) {
				return true
			}
		}
		return false
	}
	return s != "" && p[0] == s[0] && glob(p[1:], s[1:])
}

// value is one indexed value of a field.
type value struct {
	s  string     // keyword and text tokens; the key of a keyword
	n  int64      // long, boolean (0/1), and dates in nanoseconds
	f  float64    // float
	ip netip.Addr // ip
}

// doc is a stored document with its indexed fields. A document indexed over
// an older one replaces it at once for a GET (which is real-time) but not for
// a search: until the new version is visible (refreshed), searches see prev,
// the version that was visible when it was written, if any.
type doc struct {
	id        string
	source    json.RawMessage
	fields    map[string][]value
	seqNo     int64 // _seq_no; _primary_term is always 1
	version   int64 // _version
	visibleAt time.Time
	prev      *doc
}

// primaryTerm is the _primary_term of every document: the double's shards
// never fail over.
const primaryTerm = 1

// searchable returns the version of d a search sees at now, or nil.
func (d *doc) searchable(now time.Time) *doc {
	switch {
	case !d.visibleAt.After(now):
		return d
	case d.prev != nil && !d.prev.visibleAt.After(now):
		return d.prev
	}
	return nil
}

// indexDoc parses a source against the mapping, extending the mapping with
// dynamic fields as Elasticsearch does, and returns the indexed values. It
// fails as Elasticsearch fails: a 400 document_parsing_exception naming the
// field (Elasticsearch 8.8 and later; earlier 8.x said
// mapper_parsing_exception).
func (m *mapping) indexDoc(id string, src []byte) (map[string][]value, *esError) {
	dec := json.NewDecoder(bytes.NewReader(src))
	dec.UseNumber()
	var root any
	if err := dec.Decode(&root); err != nil {
		return nil, docError("failed to parse: %v", err)
	}
	if dec.More() {
		return nil, docError("failed to parse: more than one JSON value in the source")
	}
	obj, ok := root.(map[string]any)
	if !ok {
		return nil, docError("failed to parse: the source is not a JSON object")
	}
	out := map[string][]value{}
	ix := indexer{m: m, id: id, out: out}
	if err := ix.object("", obj); err != nil {
		return nil, err
	}
	return out, nil
}

func docError(format string, args ...any) *esError {
	return &esError{Status: 400, Type: "document_parsing_exception", Reason: fmt.Sprintf(format, args...)}
}

// metadataFields cannot appear in a document's source.
var metadataFields = []string{"_id", "_index", "_source", "_routing", "_seq_no", "_primary_term", "_version", "_ignored", "_field_names", "_doc_count", "_data_stream_timestamp", "_tier", "_nested_path", "_feature", "_ignored_source"}

type indexer struct {
	m   *mapping
	id  string
	out map[string][]value
}

func (ix *indexer) object(prefix string, obj map[string]any) *esError {
	for k, v := range obj {
		if k == "" || strings.HasPrefix(k, ".") || strings.HasSuffix(k, ".") || strings.Contains(k, "..") {
			return docError("field name cannot contain only whitespace or dots: [%s]", k)
		}
		full := k
		if prefix != "" {
			full = prefix + "." + k
		}
		if prefix == "" && slices.Contains(metadataFields, full) {
			return docError("Field [%s] is a metadata field and cannot be added inside a document. Use the index API request parameters.", full)
		}
		if err := ix.value(full, v); err != nil {
			return err
		}
	}
	return nil
}

func (ix *indexer) value(full string, v any) *esError {
	switch x := v.(type) {
	case nil:
		return nil
	case []any:
		for _, e := range x {
			if err := ix.value(full, e); err != nil {
				return err
			}
		}
		return nil
	case map[string]any:
		if ft, ok := ix.m.fields[full]; ok {
			if ft.typ == "flattened" {
				return nil
			}
			return docError("[1:1] failed to parse field [%s] of type [%s] in document with id '%s'. Preview of field's value: '%v'", full, ft.typ, ix.id, preview(x))
		}
		if !ix.m.objects[full] {
			if err := ix.newField(full, nil); err != nil {
				return err
			}
			ix.m.objects[full] = true
		}
		return ix.object(full, x)
	}
	if ix.m.objects[full] {
		return docError("object mapping for [%s] tried to parse field [%s] as object, but found a concrete value", full, full)
	}
	ft, ok := ix.m.fields[full]
	if !ok {
		if err := ix.newField(full, v); err != nil {
			return err
		}
		ft = ix.m.fields[full]
		if ft == nil { // dynamic false: not indexed
			return nil
		}
	}
	return ix.leaf(full, ft, v)
}

// newField maps a field seen for the first time (v nil for an object).
func (ix *indexer) newField(full string, v any) *esError {
	// The parents must be objects (mapped as they are created).
	for i := 0; i < len(full); i++ {
		if full[i] == '.' {
			p := full[:i]
			if _, leaf := ix.m.fields[p]; leaf {
				return docError("Could not dynamically add mapping for field [%s]. Existing mapping for [%s] must be of type object but found [%s].", full, p, ix.m.fields[p].typ)
			}
		}
	}
	switch ix.m.dynamicAt(full) {
	case "strict":
		return &esError{Status: 400, Type: "strict_dynamic_mapping_exception", Reason: fmt.Sprintf("[1:1] mapping set to strict, dynamic introduction of [%s] within [_doc] is not allowed", full)}
	case "false":
		return nil
	}
	for i := 0; i < len(full); i++ {
		if full[i] == '.' {
			ix.m.objects[full[:i]] = true
		}
	}
	if v == nil {
		return nil
	}
	ft, err := ix.m.dynamicType(full, v)
	if err != nil {
		return err
	}
	ix.m.fields[full] = ft
	return nil
}

// leaf indexes one scalar value of a mapped field, with its multi-fields
// and copies.
func (ix *indexer) leaf(full string, ft *fieldType, v any) *esError {
	vals, err := convert(ft, v)
	if err != nil {
		return docError("[1:1] failed to parse field [%s] of type [%s] in document with id '%s'. Preview of field's value: '%v'", full, ft.typ, ix.id, preview(v)).
			causedBy("illegal_argument_exception", err.Error())
	}
	if ft.index || ft.docValues {
		ix.out[full] = append(ix.out[full], vals...)
	}
	for name, sub := range ft.fields {
		sv, err := convert(sub, v)
		if err != nil {
			return docError("[1:1] failed to parse field [%s.%s] of type [%s] in document with id '%s'", full, name, sub.typ, ix.id).
				causedBy("illegal_argument_exception", err.Error())
		}
		ix.out[full+"."+name] = append(ix.out[full+"."+name], sv...)
	}
	for _, target := range ft.copyTo {
		tft, ok := ix.m.fields[target]
		if !ok {
			if err := ix.newField(target, v); err != nil {
				return err
			}
			if tft = ix.m.fields[target]; tft == nil {
				continue
			}
		}
		tv, err := convert(tft, v)
		if err != nil {
			return docError("[1:1] failed to parse field [%s] of type [%s] in document with id '%s' (copied from [%s])", target, tft.typ, ix.id, full).
				causedBy("illegal_argument_exception", err.Error())
		}
		ix.out[target] = append(ix.out[target], tv...)
	}
	return nil
}

func preview(v any) string {
	b, _ := json.Marshal(v)
	if len(b) > 100 {
		b = b[:100]
	}
	return string(b)
}

// convert turns a JSON scalar into the values a field of type ft indexes,
// or says why Elasticsearch would refuse it.
func convert(ft *fieldType, v any) ([]value, error) {
	text := ""
	switch x := v.(type) {
	case string:
		text = x
	case json.Number:
		text = string(x)
	case bool:
		text = strconv.FormatBool(x)
	default:
		return nil, fmt.Errorf("cannot parse a %T", v)
	}
	switch ft.typ {
	case "keyword", "wildcard", "constant_keyword":
		if ft.ignoreAbove > 0 && utf8.RuneCountInString(text) > ft.ignoreAbove {
			return nil, nil
		}
		return []value{{s: text}}, nil
	case "match_only_text", "text":
		var out []value
		for _, t := range analyze(text) {
			out = append(out, value{s: t})
		}
		return out, nil
	case "ip":
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("'%s' is not an IP string literal.", text)
		}
		a, err := netip.ParseAddr(s)
		if err != nil || a.Zone() != "" {
			return nil, fmt.Errorf("'%s' is not an IP string literal.", s)
		}
		return []value{{ip: a.Unmap(), s: a.Unmap().String()}}, nil
	case "long", "integer", "short", "byte":
		if _, isBool := v.(bool); isBool {
			return nil, fmt.Errorf("Current token (VALUE_TRUE) not numeric, can not use numeric value accessors")
		}
		n, err := parseLong(text, ft.typ)
		if err != nil {
			return nil, err
		}
		return []value{{n: n}}, nil
	case "float", "double", "half_float":
		if _, isBool := v.(bool); isBool {
			return nil, fmt.Errorf("Current token (VALUE_TRUE) not numeric, can not use numeric value accessors")
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(text), 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return nil, fmt.Errorf("For input string: \"%s\"", text)
		}
		return []value{{f: f}}, nil
	case "boolean":
		switch text {
		case "true":
			return []value{{n: 1}}, nil
		case "false", "":
			return []value{{n: 0}}, nil
		}
		return nil, fmt.Errorf("Failed to parse value [%s] as only [true] or [false] are allowed.", text)
	case "date", "date_nanos":
		if _, isBool := v.(bool); isBool {
			return nil, fmt.Errorf("failed to parse date field [%s]", text)
		}
		ns, err := parseDate(text, ft.typ == "date_nanos")
		if err != nil {
			return nil, err
		}
		return []value{{n: ns}}, nil
	}
	return nil, fmt.Errorf("estest: type [%s] is not supported by the double", ft.typ)
}

// parseLong accepts what Elasticsearch's long accepts with coerce on: an
// integer, or a decimal (truncated), as a number or a string.
func parseLong(text, typ string) (int64, error) {
	t := strings.TrimSpace(text)
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil {
		f, ferr := strconv.ParseFloat(t, 64)
		if ferr != nil || math.IsInf(f, 0) || math.IsNaN(f) || f >= math.MaxInt64 || f < math.MinInt64 {
			return 0, fmt.Errorf("For input string: \"%s\"", text)
		}
		n = int64(f)
	}
	lim := map[string]int64{"integer": math.MaxInt32, "short": math.MaxInt16, "byte": math.MaxInt8}[typ]
	if lim != 0 && (n > lim || n < -lim-1) {
		return 0, fmt.Errorf("Value [%s] is out of range for %s", text, typ)
	}
	return n, nil
}

// parseDate reads strict_date_optional_time(_nanos)||epoch_millis, the
// default format, into nanoseconds since the epoch. A date field keeps
// milliseconds (the rest is dropped, as Elasticsearch does); a date_nanos
// field keeps nanoseconds and refuses what is before 1970 or after 2262.
func parseDate(text string, nanos bool) (int64, error) {
	fail := fmt.Errorf("failed to parse date field [%s] with format [strict_date_optional_time||epoch_millis]", text)
	if text == "" {
		return 0, fail
	}
	// The formats are tried in order: a date first (so "2025" is a
	// year), then epoch milliseconds.
	t, err := parseISODate(text)
	if err != nil {
		ms, merr := strconv.ParseInt(text, 10, 64)
		if merr != nil {
			return 0, fail
		}
		t = time.UnixMilli(ms)
	}
	if nanos {
		if t.Before(time.Unix(0, 0)) || t.After(time.Unix(0, math.MaxInt64)) {
			return 0, fmt.Errorf("date[%s] is before the epoch in 1970 or after 2262 and cannot be stored in nanosecond resolution", text)
		}
		return t.UnixNano(), nil
	}
	// Milliseconds, floor, as a long; beyond int64 nanoseconds the double
	// keeps milliseconds scaled, which is all it compares.
	ms := t.UnixMilli()
	if ms > math.MaxInt64/1_000_000 || ms < math.MinInt64/1_000_000 {
		return 0, fmt.Errorf("estest: date [%s] is out of the range the double compares", text)
	}
	return ms * 1e6, nil
}

// parseISODate reads the strict_date_optional_time forms: a date, or a date
// and time with optional fraction and zone (UTC when absent).
func parseISODate(s string) (time.Time, error) {
	for _, layout := range []string{
		time.RFC3339Nano,
		"2006-01-02T15:04:05.999999999",
		"2006-01-02T15:04:05Z0700",
		"2006-01-02T15:04:05.999999999Z0700",
		"2006-01-02T15:04Z07:00",
		"2006-01-02T15:04",
		"2006-01-02T15Z07:00",
		"2006-01-02T15",
		"2006-01-02",
		"2006-01",
		"2006",
	} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("not a date: %q", s)
}

// analyze is the standard analyzer, closely enough: words are runs of
// letters, digits and marks (Unicode), joined across '_', across '.' and
// '\” between letters or between digits, across ':' between letters and
// across ',' and ';' between digits (the word-break rules of UAX #29);
// lowercased; at most 255 characters each.
func analyze(s string) []string {
	rs := []rune(s)
	word := func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r) || r == '_' }
	var out []string
	for i := 0; i < len(rs); {
		if !word(rs[i]) {
			i++
			continue
		}
		j := i
		for j < len(rs) {
			if word(rs[j]) {
				j++
				continue
			}
			if j+1 < len(rs) && j > i {
				a, b := rs[j-1], rs[j+1]
				letters := unicode.IsLetter(a) && unicode.IsLetter(b)
				digits := unicode.IsDigit(a) && unicode.IsDigit(b)
				switch rs[j] {
				case '.', '\'':
					if letters || digits {
						j++
						continue
					}
				case ':':
					if letters {
						j++
						continue
					}
				case ',', ';':
					if digits {
						j++
						continue
					}
				}
			}
			break
		}
		w := []rune(strings.ToLower(string(rs[i:j])))
		for len(w) > 255 {
			out = append(out, string(w[:255]))
			w = w[255:]
		}
		out = append(out, string(w))
		i = j
	}
	return out
}
