package estest

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

type component struct {
	raw      json.RawMessage
	settings map[string]string
	mappings []map[string]any // as put, merged in order when composed
}

type indexTemplate struct {
	raw           json.RawMessage
	patterns      []string
	composedOf    []string
	ignoreMissing []string
	priority      int64
	dataStream    bool
	own           *component // the template's own "template" section
}

// index is a data stream (with one backing index) or a regular index.
type index struct {
	name       string
	backing    string // the concrete index name replies show
	dataStream bool
	mapping    *mapping
	settings   map[string]string
	docs       []*doc
	byID       map[string]*doc
}

var validName = regexp.MustCompile(`^[a-z0-9][a-z0-9._@+-]*$`)

func checkName(kind, name string) *esError {
	if !validName.MatchString(name) || len(name) > 255 {
		return badRequest("invalid_"+kind+"_name_exception", "Invalid %s name [%s], must be lowercase and must not contain the characters [ , \", *, \\, <, |, ,, >, /, ?, #, :]", kind, name)
	}
	return nil
}

func strictDecode(b []byte) (map[string]any, *esError) {
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil || m == nil {
		return nil, badRequest("x_content_parse_exception", "[1:1] the body is not a JSON object")
	}
	return m, nil
}

func unknownKey(where, key string) *esError {
	return badRequest("x_content_parse_exception", "[1:2] [%s] unknown field [%s]", where, key)
}

// timeValue parses an Elasticsearch time value ("30d", "0ms").
func timeValue(v any) (time.Duration, bool) {
	s, ok := v.(string)
	if !ok {
		return 0, false
	}
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 {
		return 0, false
	}
	n, err := strconv.ParseInt(s[:i], 10, 64)
	if err != nil {
		return 0, false
	}
	unit := map[string]time.Duration{"nanos": time.Nanosecond, "micros": time.Microsecond, "ms": time.Millisecond, "s": time.Second, "m": time.Minute, "h": time.Hour, "d": 24 * time.Hour}[s[i:]]
	if unit == 0 || n > math.MaxInt64/int64(unit) {
		return 0, false
	}
	return time.Duration(n) * unit, true
}

func byteSize(v any) bool {
	s, ok := v.(string)
	if !ok {
		return false
	}
	i := 0
	for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '.') {
		i++
	}
	return i > 0 && slices.Contains([]string{"b", "kb", "mb", "gb", "tb", "pb"}, strings.ToLower(s[i:]))
}

var phaseActions = map[string][]string{
	"hot":    {"set_priority", "unfollow", "rollover", "readonly", "shrink", "forcemerge", "searchable_snapshot", "downsample"},
	"warm":   {"set_priority", "unfollow", "readonly", "allocate", "migrate", "shrink", "forcemerge", "downsample"},
	"cold":   {"set_priority", "unfollow", "readonly", "searchable_snapshot", "allocate", "migrate", "downsample"},
	"frozen": {"unfollow", "searchable_snapshot"},
	"delete": {"wait_for_snapshot", "delete"},
}

var phaseOrder = []string{"hot", "warm", "cold", "frozen", "delete"}

func (s *Server) putPolicy(name string, body []byte) (int, any, *esError) {
	if err := checkName("policy", name); err != nil {
		return 0, nil, err
	}
	root, err := strictDecode(body)
	if err != nil {
		return 0, nil, err
	}
	for k := range root {
		if k != "policy" {
			return 0, nil, unknownKey("put_lifecycle_request", k)
		}
	}
	pol, ok := root["policy"].(map[string]any)
	if !ok {
		return 0, nil, badRequest("x_content_parse_exception", "[1:2] [put_lifecycle_request] policy must be an object")
	}
	for k := range pol {
		if k != "phases" && k != "_meta" {
			return 0, nil, unknownKey("lifecycle_policy", k)
		}
	}
	phases, ok := pol["phases"].(map[string]any)
	if !ok {
		return 0, nil, badRequest("x_content_parse_exception", "[lifecycle_policy] phases must be an object")
	}
	prev, prevName := time.Duration(0), ""
	for _, pn := range phaseOrder {
		pv, ok := phases[pn]
		if !ok {
			continue
		}
		ph, ok := pv.(map[string]any)
		if !ok {
			return 0, nil, badRequest("x_content_parse_exception", "[phase] %s must be an object", pn)
		}
		age := time.Duration(0)
		for k, v := range ph {
			switch k {
			case "min_age":
				d, ok := timeValue(v)
				if !ok {
					return 0, nil, badRequest("illegal_argument_exception", "failed to parse setting [min_age] with value [%v] as a time value", v)
				}
				age = d
			case "actions":
				acts, ok := v.(map[string]any)
				if !ok {
					return 0, nil, badRequest("x_content_parse_exception", "[phase] actions must be an object")
				}
				for an, av := range acts {
					if !slices.Contains(phaseActions[pn], an) {
						return 0, nil, badRequest("illegal_argument_exception", "invalid action [%s] defined in phase [%s]", an, pn)
					}
					if an == "rollover" {
						if err := checkRollover(av); err != nil {
							return 0, nil, err
						}
					}
				}
			default:
				return 0, nil, unknownKey("phase", k)
			}
		}
		if age < prev {
			return 0, nil, badRequest("illegal_argument_exception", "Your policy is configured to run the %s phase (min_age: %v) before the %s phase (min_age: %v). You should change the phase timing so that the phases will execute in the order of hot, warm, then cold.", pn, age, prevName, prev)
		}
		prev, prevName = age, pn
	}
	for pn := range phases {
		if _, ok := phaseActions[pn]; !ok {
			return 0, nil, badRequest("illegal_argument_exception", "Timeseries lifecycle does not support phase [%s]", pn)
		}
	}
	s.policies[name] = slices.Clone(json.RawMessage(body))
	return 200, map[string]any{"acknowledged": true}, nil
}

func checkRollover(v any) *esError {
	r, ok := v.(map[string]any)
	if !ok {
		return badRequest("x_content_parse_exception", "[rollover] must be an object")
	}
	max := 0
	for k, cv := range r {
		switch k {
		case "max_age", "min_age":
			if _, ok := timeValue(cv); !ok {
				return badRequest("illegal_argument_exception", "failed to parse [%s] with value [%v] as a time value", k, cv)
			}
		case "max_size", "max_primary_shard_size", "min_size", "min_primary_shard_size":
			if !byteSize(cv) {
				return badRequest("illegal_argument_exception", "failed to parse [%s] with value [%v] as a size in bytes", k, cv)
			}
		case "max_docs", "max_primary_shard_docs", "min_docs", "min_primary_shard_docs":
			if _, ok := cv.(float64); !ok {
				return badRequest("illegal_argument_exception", "[%s] must be a number", k)
			}
		default:
			return unknownKey("rollover", k)
		}
		if strings.HasPrefix(k, "max_") {
			max++
		}
	}
	if max == 0 {
		return badRequest("action_request_validation_exception", "Validation Failed: 1: at least one max_* rollover condition must be set when using min_* conditions;")
	}
	return nil
}

// knownSettings are the index settings the double accepts (after the
// "index." prefix is added), with a check of the value.
var knownSettings = map[string]func(string) bool{
	"index.number_of_shards":   intIn(1, 1024),
	"index.number_of_replicas": intIn(0, 1<<20),
	"index.codec": func(v string) bool {
		return v == "default" || v == "best_compression"
	},
	"index.lifecycle.name":                                   func(v string) bool { return v != "" },
	"index.lifecycle.parse_origination_date":                 isBool,
	"index.lifecycle.origination_date":                       intIn(0, math.MaxInt64),
	"index.lifecycle.rollover_alias":                         func(v string) bool { return true },
	"index.mapping.total_fields.limit":                       intIn(1, 1<<30),
	"index.mapping.total_fields.ignore_dynamic_beyond_limit": isBool,
	"index.refresh_interval": func(v string) bool {
		_, ok := timeValue(v)
		return ok || v == "-1"
	},
	"index.hidden": isBool,
}

func isBool(v string) bool { return v == "true" || v == "false" }

func intIn(lo, hi int64) func(string) bool {
	return func(v string) bool {
		n, err := strconv.ParseInt(v, 10, 64)
		return err == nil && n >= lo && n <= hi
	}
}

// flattenSettings turns nested and dotted settings into "index.x.y" keys.
func flattenSettings(prefix string, v any, out map[string]string) *esError {
	switch x := v.(type) {
	case map[string]any:
		for k, sv := range x {
			p := k
			if prefix != "" {
				p = prefix + "." + k
			}
			if err := flattenSettings(p, sv, out); err != nil {
				return err
			}
		}
		return nil
	case string:
		out[prefix] = x
	case float64:
		out[prefix] = strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		out[prefix] = strconv.FormatBool(x)
	default:
		return badRequest("settings_exception", "setting [%s] has a value of type %T", prefix, v)
	}
	return nil
}

func parseSettings(v any) (map[string]string, *esError) {
	flat := map[string]string{}
	if err := flattenSettings("", v, flat); err != nil {
		return nil, err
	}
	out := map[string]string{}
	for k, val := range flat {
		if !strings.HasPrefix(k, "index.") {
			k = "index." + k
		}
		check, ok := knownSettings[k]
		if !ok {
			return nil, badRequest("illegal_argument_exception", "unknown setting [%s] please check that any required plugins are installed, or check the breaking changes documentation for removed settings (estest knows only some settings)", k)
		}
		if !check(val) {
			return nil, badRequest("illegal_argument_exception", "Failed to parse value [%s] for setting [%s]", val, k)
		}
		out[k] = val
	}
	return out, nil
}

// parseTemplateSection reads the "template" object of a component or index
// template.
func parseTemplateSection(v any) (*component, *esError) {
	sec, ok := v.(map[string]any)
	if !ok {
		return nil, badRequest("x_content_parse_exception", "[template] must be an object")
	}
	c := &component{settings: map[string]string{}}
	for k, sv := range sec {
		switch k {
		case "settings":
			st, err := parseSettings(sv)
			if err != nil {
				return nil, err
			}
			c.settings = st
		case "mappings":
			mm, ok := sv.(map[string]any)
			if !ok {
				return nil, mapperError("[mappings] must be an object")
			}
			if err := newMapping().parse(mm); err != nil {
				return nil, err
			}
			c.mappings = append(c.mappings, mm)
		case "aliases", "lifecycle", "data_stream_options":
			return nil, notImplemented("[template.%s]", k)
		default:
			return nil, unknownKey("template", k)
		}
	}
	return c, nil
}

func (s *Server) putComponent(name string, body []byte, create bool) (int, any, *esError) {
	if err := checkName("component_template", name); err != nil {
		return 0, nil, err
	}
	if _, exists := s.components[name]; exists && create {
		return 0, nil, badRequest("illegal_argument_exception", "component template [%s] already exists", name)
	}
	root, err := strictDecode(body)
	if err != nil {
		return 0, nil, err
	}
	var c *component
	for k, v := range root {
		switch k {
		case "template":
			if c, err = parseTemplateSection(v); err != nil {
				return 0, nil, err
			}
		case "version", "_meta", "deprecated":
		default:
			return 0, nil, unknownKey("component_template", k)
		}
	}
	if c == nil {
		return 0, nil, badRequest("x_content_parse_exception", "[component_template] Required [template]")
	}
	c.raw = slices.Clone(json.RawMessage(body))
	// Index templates that use it must still compose.
	old, had := s.components[name]
	s.components[name] = c
	for tn, t := range s.templates {
		if _, err := s.compose(t); err != nil {
			if had {
				s.components[name] = old
			} else {
				delete(s.components, name)
			}
			return 0, nil, badRequest("illegal_argument_exception", "updating component template [%s] results in invalid composable template [%s]: %s", name, tn, err.Reason)
		}
	}
	return 200, map[string]any{"acknowledged": true}, nil
}

func stringList(v any) ([]string, bool) {
	switch x := v.(type) {
	case string:
		return []string{x}, true
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			s, ok := e.(string)
			if !ok {
				return nil, false
			}
			out = append(out, s)
		}
		return out, true
	}
	return nil, false
}

func (s *Server) putIndexTemplate(name string, body []byte, create bool) (int, any, *esError) {
	if err := checkName("index_template", name); err != nil {
		return 0, nil, err
	}
	if _, exists := s.templates[name]; exists && create {
		return 0, nil, badRequest("illegal_argument_exception", "index template [%s] already exists", name)
	}
	root, err := strictDecode(body)
	if err != nil {
		return 0, nil, err
	}
	t := &indexTemplate{raw: slices.Clone(json.RawMessage(body)), own: &component{settings: map[string]string{}}}
	for k, v := range root {
		var ok bool
		switch k {
		case "index_patterns":
			if t.patterns, ok = stringList(v); !ok || len(t.patterns) == 0 {
				return 0, nil, badRequest("x_content_parse_exception", "[index_template] index_patterns must be a string or strings")
			}
		case "composed_of":
			if t.composedOf, ok = stringList(v); !ok {
				return 0, nil, badRequest("x_content_parse_exception", "[index_template] composed_of must be strings")
			}
		case "ignore_missing_component_templates":
			if t.ignoreMissing, ok = stringList(v); !ok {
				return 0, nil, badRequest("x_content_parse_exception", "[index_template] ignore_missing_component_templates must be strings")
			}
		case "priority":
			f, ok := v.(float64)
			if !ok || f < 0 || f != math.Trunc(f) {
				return 0, nil, badRequest("action_request_validation_exception", "Validation Failed: 1: index template priority must be >= 0;")
			}
			t.priority = int64(f)
		case "data_stream":
			ds, ok := v.(map[string]any)
			if !ok {
				return 0, nil, badRequest("x_content_parse_exception", "[data_stream] must be an object")
			}
			for dk := range ds {
				if dk != "hidden" && dk != "allow_custom_routing" {
					return 0, nil, unknownKey("data_stream_template", dk)
				}
			}
			t.dataStream = true
		case "template":
			c, err := parseTemplateSection(v)
			if err != nil {
				return 0, nil, err
			}
			t.own = c
		case "version", "_meta", "deprecated", "allow_auto_create":
		default:
			return 0, nil, unknownKey("index_template", k)
		}
	}
	if len(t.patterns) == 0 {
		return 0, nil, badRequest("action_request_validation_exception", "Validation Failed: 1: index patterns are missing;")
	}
	for _, p := range t.patterns {
		if strings.ContainsAny(p, " ,\"\\<>|/?#") || p != strings.ToLower(p) {
			return 0, nil, badRequest("invalid_index_template_exception", "index_template [%s] invalid, cause [index_pattern [%s] must not contain a space, a comma, uppercase or any of [\\, /, *, ?, \", <, >, |, #]]", name, p)
		}
	}
	for _, c := range t.composedOf {
		if _, ok := s.components[c]; !ok && !slices.Contains(t.ignoreMissing, c) {
			return 0, nil, badRequest("invalid_index_template_exception", "index_template [%s] invalid, cause [index template [%s] specifies component templates [%s] that do not exist]", name, name, c)
		}
	}
	// Same priority, overlapping patterns: Elasticsearch cannot choose.
	others := make([]string, 0, len(s.templates))
	for on := range s.templates {
		others = append(others, on)
	}
	sort.Strings(others)
	for _, on := range others {
		o := s.templates[on]
		if on == name || o.priority != t.priority {
			continue
		}
		for _, a := range t.patterns {
			for _, b := range o.patterns {
				if overlap(a, b) {
					return 0, nil, badRequest("illegal_argument_exception", "index template [%s] has index patterns %v matching patterns from existing templates [%s] with patterns (%s => %v) that have the same priority [%d], multiple index templates may not match during index creation, please use a different priority", name, t.patterns, on, on, o.patterns, t.priority)
				}
			}
		}
	}
	m, err := s.compose(t)
	if err != nil {
		return 0, nil, badRequest("illegal_argument_exception", "composable template [%s] template after composition is invalid: %s", name, err.Reason)
	}
	if t.dataStream {
		if ft, ok := m.fields["@timestamp"]; ok && ft.typ != "date" && ft.typ != "date_nanos" {
			return 0, nil, badRequest("illegal_argument_exception", "composable template [%s] template after composition with component templates %v is invalid: data stream timestamp field [@timestamp] is of type [%s], but [date,date_nanos] is expected", name, t.composedOf, ft.typ)
		}
	}
	s.templates[name] = t
	return 200, map[string]any{"acknowledged": true}, nil
}

// overlap reports whether two index patterns can match one name: a cheap
// stand-in for Elasticsearch's automaton intersection, exact for patterns
// with at most one '*' each at the end, which is what templates use.
func overlap(a, b string) bool {
	return glob(a, strings.ReplaceAll(b, "*", "")) || glob(b, strings.ReplaceAll(a, "*", "")) ||
		glob(a, strings.ReplaceAll(b, "*", "x")) || glob(b, strings.ReplaceAll(a, "*", "x"))
}

// compose merges a template's components, in order, then its own section.
func (s *Server) compose(t *indexTemplate) (*mapping, *esError) {
	m := newMapping()
	for _, c := range t.composedOf {
		comp, ok := s.components[c]
		if !ok {
			continue // listed in ignore_missing_component_templates
		}
		for _, mm := range comp.mappings {
			if err := m.parse(mm); err != nil {
				return nil, err
			}
		}
	}
	for _, mm := range t.own.mappings {
		if err := m.parse(mm); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (s *Server) composeSettings(t *indexTemplate) map[string]string {
	out := map[string]string{}
	for _, c := range t.composedOf {
		if comp, ok := s.components[c]; ok {
			for k, v := range comp.settings {
				out[k] = v
			}
		}
	}
	for k, v := range t.own.settings {
		out[k] = v
	}
	return out
}

// matchTemplate finds the index template of highest priority whose
// patterns match name.
func (s *Server) matchTemplate(name string) (string, *indexTemplate) {
	var best *indexTemplate
	bestName := ""
	for tn, t := range s.templates {
		for _, p := range t.patterns {
			if glob(p, name) && (best == nil || t.priority > best.priority) {
				best, bestName = t, tn
			}
		}
	}
	return bestName, best
}

var originationName = regexp.MustCompile(`^.*-(\d{4}.\d{2}.\d{2})(-[\d]+)?$`)

// autoCreate creates the data stream or index a write names, from its
// template, as Elasticsearch does on the first write. createOp says whether
// the write is a "create".
func (s *Server) autoCreate(name string, createOp bool) (*index, *esError) {
	if err := checkName("index", name); err != nil {
		return nil, err
	}
	if strings.HasPrefix(name, ".ds-") {
		return nil, badRequest("illegal_argument_exception", "index name [%s] is reserved for data stream backing indices", name)
	}
	tn, t := s.matchTemplate(name)
	if t == nil {
		return nil, &esError{Status: 404, Type: "index_not_found_exception", Reason: fmt.Sprintf("no such index [%s] (estest: no index template matches it, and the double does not create untemplated indices)", name)}
	}
	m, err := s.compose(t)
	if err != nil {
		return nil, err
	}
	settings := s.composeSettings(t)
	ix := &index{name: name, backing: name, mapping: m, settings: settings, byID: map[string]*doc{}}
	if t.dataStream {
		if !createOp {
			return nil, badRequest("illegal_argument_exception", "only write ops with an op_type of create are allowed in data streams")
		}
		if _, ok := m.fields["@timestamp"]; !ok {
			m.fields["@timestamp"] = &fieldType{typ: "date", index: true, docValues: true}
		}
		ix.dataStream = true
		s.dataStreamGen[name]++
		ix.backing = fmt.Sprintf(".ds-%s-%s-%06d", name, time.Now().UTC().Format("2006.01.02"), s.dataStreamGen[name])
	}
	if settings["index.lifecycle.parse_origination_date"] == "true" {
		sm := originationName.FindStringSubmatch(name)
		if sm == nil {
			return nil, badRequest("illegal_argument_exception", "index name [%s] does not match pattern '^.*-\\d{4}.\\d{2}.\\d{2}(-\\d+)?$' (index.lifecycle.parse_origination_date is set by template [%s])", name, tn)
		}
		if _, err := time.Parse("2006.01.02", sm[1]); err != nil {
			return nil, badRequest("illegal_argument_exception", "index name [%s] contains date [%s] which couldn't be parsed using 'yyyy.MM.dd'", name, sm[1])
		}
	}
	s.indices[name] = ix
	return ix, nil
}
