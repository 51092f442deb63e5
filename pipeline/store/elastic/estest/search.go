package estest

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/netip"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// search evaluates a _search: the query DSL subset below, sort with
// search_after, from/size, track_total_hits, and date_histogram and terms
// aggregations. Anything else in the body is refused with a 400
// parsing_exception.
func (s *Server) search(r *http.Request, target string, body []byte) (int, any, *esError) {
	q := r.URL.Query()
	boolParam := func(name string, def bool) (bool, *esError) {
		v, ok := q[name]
		if !ok {
			return def, nil
		}
		switch v[0] {
		case "true", "":
			return true, nil
		case "false":
			return false, nil
		}
		return false, badRequest("illegal_argument_exception", "Failed to parse value [%s] as only [true] or [false] are allowed.", v[0])
	}
	ignoreUnavailable, err := boolParam("ignore_unavailable", false)
	if err != nil {
		return 0, nil, err
	}
	allowNoIndices, err := boolParam("allow_no_indices", true)
	if err != nil {
		return 0, nil, err
	}
	if _, err := boolParam("allow_partial_search_results", true); err != nil {
		return 0, nil, err
	}
	indices, err := s.resolve(target, ignoreUnavailable, allowNoIndices)
	if err != nil {
		return 0, nil, err
	}
	req := map[string]any{}
	if len(body) > 0 {
		if req, err = decodeObject(body); err != nil {
			return 0, nil, err
		}
	}
	var (
		qry         query = matchAll{}
		size, from        = int64(10), int64(0)
		sortKeys    []sortKey
		after       []any
		hasAfter    bool
		trackTotal  = int64(10000)
		aggs        map[string]agg
		withSource  = true
		excludes    []string
		sortPresent bool
	)
	for k, v := range req {
		switch k {
		case "query":
			if qry, err = parseQuery(v); err != nil {
				return 0, nil, err
			}
		case "size", "from":
			n, ok := intValue(v)
			if !ok || n < 0 {
				return 0, nil, badRequest("parsing_exception", "[%s] must be a non-negative integer", k)
			}
			if k == "size" {
				size = n
			} else {
				from = n
			}
		case "sort":
			if sortKeys, err = parseSort(v); err != nil {
				return 0, nil, err
			}
			sortPresent = true
		case "search_after":
			a, ok := v.([]any)
			if !ok {
				return 0, nil, badRequest("parsing_exception", "[search_after] must be an array")
			}
			after, hasAfter = a, true
		case "track_total_hits":
			switch x := v.(type) {
			case bool:
				trackTotal = -1
				if !x {
					trackTotal = 0
				}
			default:
				n, ok := intValue(v)
				if !ok || n < 0 {
					return 0, nil, badRequest("parsing_exception", "[track_total_hits] must be a boolean or a non-negative integer")
				}
				trackTotal = n
			}
		case "aggs", "aggregations":
			if aggs, err = parseAggs(v); err != nil {
				return 0, nil, err
			}
		case "_source":
			switch x := v.(type) {
			case bool:
				withSource = x
			case map[string]any:
				for sk, sv := range x {
					list, ok := stringList(sv)
					if sk != "excludes" || !ok {
						return 0, nil, notImplemented("[_source.%s]", sk)
					}
					excludes = append(excludes, list...)
				}
			default:
				return 0, nil, notImplemented("[_source] other than a boolean or {\"excludes\": [...]}")
			}
		default:
			return 0, nil, badRequest("parsing_exception", "Unknown key for a %s in [%s].", tokenName(v), k)
		}
	}
	if from+size > 10000 {
		return 0, nil, badRequest("illegal_argument_exception", "Result window is too large, from + size must be less than or equal to: [10000] but was [%d]. See the scroll api for a more efficient way to request large data sets.", from+size)
	}
	if hasAfter {
		if !sortPresent {
			return 0, nil, badRequest("illegal_argument_exception", "Sort must contain at least one field.")
		}
		if from > 0 {
			return 0, nil, badRequest("illegal_argument_exception", "`from` parameter must be set to 0 when `search_after` is used.")
		}
		if len(after) != len(sortKeys) {
			return 0, nil, badRequest("illegal_argument_exception", "search_after has %d value(s) but sort has %d.", len(after), len(sortKeys))
		}
	}

	now := time.Now()
	type hit struct {
		ix   *index
		d    *doc
		sort []sortValue
	}
	var hits []hit
	var matched []match
	for _, ix := range indices {
		for _, sk := range sortKeys {
			if err := sk.check(ix); err != nil {
				return 0, nil, err
			}
		}
		for _, d := range ix.docs {
			if d = d.searchable(now); d == nil {
				continue
			}
			ok, err := qry.match(ix, d)
			if err != nil {
				return 0, nil, shardError(err)
			}
			if !ok {
				continue
			}
			matched = append(matched, match{ix, d})
			h := hit{ix: ix, d: d}
			for _, sk := range sortKeys {
				h.sort = append(h.sort, sk.value(ix, d))
			}
			hits = append(hits, h)
		}
	}
	total := int64(len(hits))
	if len(sortKeys) > 0 {
		sort.SliceStable(hits, func(i, j int) bool {
			return compareSort(sortKeys, hits[i].sort, hits[j].sort) < 0
		})
	}
	if hasAfter {
		afterVals := make([]sortValue, len(after))
		for i, sk := range sortKeys {
			v, err := sk.parseAfter(after[i])
			if err != nil {
				return 0, nil, err
			}
			afterVals[i] = v
		}
		i := 0
		for i < len(hits) && compareSort(sortKeys, hits[i].sort, afterVals) <= 0 {
			i++
		}
		hits = hits[i:]
	}
	if from < int64(len(hits)) {
		hits = hits[from:]
	} else {
		hits = nil
	}
	if int64(len(hits)) > size {
		hits = hits[:size]
	}
	outHits := make([]any, 0, len(hits))
	for _, h := range hits {
		o := map[string]any{"_index": h.ix.backing, "_id": h.d.id}
		if sortPresent {
			o["_score"] = nil
			vals := make([]any, len(h.sort))
			for i, v := range h.sort {
				vals[i] = v.json()
			}
			o["sort"] = vals
		} else {
			o["_score"] = 0.0
		}
		if withSource {
			src, err := filterSource(h.d.source, excludes)
			if err != nil {
				return 0, nil, err
			}
			o["_source"] = src
		}
		outHits = append(outHits, o)
	}
	hitsObj := map[string]any{"max_score": nil, "hits": outHits}
	switch {
	case trackTotal < 0:
		hitsObj["total"] = map[string]any{"value": total, "relation": "eq"}
	case trackTotal > 0 && total > trackTotal:
		hitsObj["total"] = map[string]any{"value": trackTotal, "relation": "gte"}
	case trackTotal > 0:
		hitsObj["total"] = map[string]any{"value": total, "relation": "eq"}
	}
	reply := map[string]any{
		"took":      1,
		"timed_out": false,
		"_shards":   map[string]any{"total": len(indices), "successful": len(indices), "skipped": 0, "failed": 0},
		"hits":      hitsObj,
	}
	if aggs != nil {
		out := map[string]any{}
		for name, a := range aggs {
			res, err := a.run(matched)
			if err != nil {
				return 0, nil, err
			}
			out[name] = res
		}
		reply["aggregations"] = out
	}
	return 200, reply, nil
}

// filterSource leaves the excluded fields (exact dotted paths) out of a
// source, as source filtering does. The result is re-encoded, so key order
// may differ from what was stored; the JSON is the same otherwise.
func filterSource(src json.RawMessage, excludes []string) (json.RawMessage, *esError) {
	if len(excludes) == 0 {
		return src, nil
	}
	m, err := decodeObject(src)
	if err != nil {
		return nil, &esError{Status: 500, Type: "exception", Reason: "estest: a stored source does not decode"}
	}
	for _, ex := range excludes {
		if strings.Contains(ex, "*") {
			return nil, notImplemented("wildcards in [_source.excludes]")
		}
		removePath(m, ex)
	}
	b, _ := json.Marshal(m)
	return b, nil
}

// removePath deletes a dotted path, whether the source nests it in objects
// or writes it as a dotted key.
func removePath(m map[string]any, path string) {
	delete(m, path)
	for i := 0; i < len(path); i++ {
		if path[i] == '.' {
			if sub, ok := m[path[:i]].(map[string]any); ok {
				removePath(sub, path[i+1:])
			}
		}
	}
}

type match struct {
	ix *index
	d  *doc
}

// shardError wraps a failure to run a query on a shard the way
// Elasticsearch reports it.
func shardError(e *esError) *esError {
	return &esError{Status: 400, Type: "search_phase_execution_exception", Reason: "all shards failed", Cause: e}
}

func tokenName(v any) string {
	switch v.(type) {
	case map[string]any:
		return "START_OBJECT"
	case []any:
		return "START_ARRAY"
	case string:
		return "VALUE_STRING"
	case bool:
		return "VALUE_BOOLEAN"
	}
	return "VALUE_NUMBER"
}

func intValue(v any) (int64, bool) {
	switch x := v.(type) {
	case json.Number:
		n, err := strconv.ParseInt(string(x), 10, 64)
		return n, err == nil
	case string:
		n, err := strconv.ParseInt(x, 10, 64)
		return n, err == nil
	}
	return 0, false
}

// resolve turns an index expression into data streams and indices.
func (s *Server) resolve(target string, ignoreUnavailable, allowNoIndices bool) ([]*index, *esError) {
	var out []*index
	seen := map[*index]bool{}
	add := func(ix *index) {
		if !seen[ix] {
			seen[ix] = true
			out = append(out, ix)
		}
	}
	names := make([]string, 0, len(s.indices))
	for n := range s.indices {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, expr := range strings.Split(target, ",") {
		switch {
		case expr == "":
			return nil, badRequest("invalid_index_name_exception", "Invalid index name [], must not be empty")
		case strings.HasPrefix(expr, "-"), strings.HasPrefix(expr, "<"), strings.Contains(expr, ":"):
			return nil, notImplemented("index expression [%s]", expr)
		case expr == "_all" || strings.Contains(expr, "*"):
			if expr == "_all" {
				expr = "*"
			}
			n := 0
			for _, name := range names {
				if glob(expr, name) {
					add(s.indices[name])
					n++
				}
			}
			if n == 0 && !allowNoIndices {
				return nil, &esError{Status: 404, Type: "index_not_found_exception", Reason: "no such index [" + expr + "]"}
			}
		default:
			ix, ok := s.indices[expr]
			if !ok {
				if ignoreUnavailable {
					continue
				}
				return nil, &esError{Status: 404, Type: "index_not_found_exception", Reason: "no such index [" + expr + "]"}
			}
			add(ix)
		}
	}
	if len(out) == 0 && !allowNoIndices {
		return nil, &esError{Status: 404, Type: "index_not_found_exception", Reason: "no such index [" + target + "]"}
	}
	return out, nil
}

// --- queries ---

type query interface {
	match(ix *index, d *doc) (bool, *esError)
}

type matchAll struct{}

func (matchAll) match(*index, *doc) (bool, *esError) { return true, nil }

type matchNone struct{}

func (matchNone) match(*index, *doc) (bool, *esError) { return false, nil }

type boolQ struct {
	filter, must, should, mustNot []query
	minShould                     int64
	minShouldSet                  bool
}

func (b *boolQ) match(ix *index, d *doc) (bool, *esError) {
	for _, qs := range [][]query{b.filter, b.must} {
		for _, q := range qs {
			ok, err := q.match(ix, d)
			if err != nil || !ok {
				return false, err
			}
		}
	}
	for _, q := range b.mustNot {
		ok, err := q.match(ix, d)
		if err != nil || ok {
			return false, err
		}
	}
	min := b.minShould
	if !b.minShouldSet {
		min = 0
		if len(b.filter) == 0 && len(b.must) == 0 && len(b.should) > 0 {
			min = 1
		}
	}
	n := int64(0)
	for _, q := range b.should {
		ok, err := q.match(ix, d)
		if err != nil {
			return false, err
		}
		if ok {
			n++
		}
	}
	return n >= min, nil
}

type termQ struct {
	field  string
	values []any
}

func (t *termQ) match(ix *index, d *doc) (bool, *esError) {
	ft, ok := ix.mapping.fields[t.field]
	if !ok {
		ft, ok = subField(ix, t.field)
		if !ok {
			return false, nil
		}
	}
	for _, want := range t.values {
		for _, have := range d.fields[t.field] {
			eq, err := equalValue(t.field, ft, have, want)
			if err != nil {
				return false, err
			}
			if eq {
				return true, nil
			}
		}
		if len(d.fields[t.field]) == 0 {
			// Check the value even with nothing to compare, as
			// Elasticsearch builds the query before it looks at documents.
			if _, err := equalValue(t.field, ft, value{}, want); err != nil {
				return false, err
			}
		}
	}
	return false, nil
}

// subField finds a multi-field such as rule.name.text.
func subField(ix *index, field string) (*fieldType, bool) {
	i := strings.LastIndexByte(field, '.')
	if i < 0 {
		return nil, false
	}
	parent, ok := ix.mapping.fields[field[:i]]
	if !ok {
		return nil, false
	}
	ft, ok := parent.fields[field[i+1:]]
	return ft, ok
}

func scalarText(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case json.Number:
		return string(x), true
	case bool:
		return strconv.FormatBool(x), true
	}
	return "", false
}

func queryError(format string, args ...any) *esError {
	return &esError{Status: 400, Type: "query_shard_exception", Reason: fmt.Sprintf("failed to create query: "+format, args...)}
}

// equalValue compares an indexed value with a query value, by the field's
// type.
func equalValue(field string, ft *fieldType, have value, want any) (bool, *esError) {
	text, ok := scalarText(want)
	if !ok {
		return false, badRequest("parsing_exception", "[term] query on [%s] does not support a %T value", field, want)
	}
	if !ft.index && !ft.docValues {
		return false, queryError("Cannot search on field [%s] since it is not indexed.", field)
	}
	switch ft.typ {
	case "keyword", "wildcard", "constant_keyword", "text", "match_only_text":
		return have.s == text, nil
	case "ip":
		if p, err := netip.ParsePrefix(text); err == nil {
			return have.ip.IsValid() && p.Contains(have.ip), nil
		}
		a, err := netip.ParseAddr(text)
		if err != nil {
			return false, queryError("'%s' is not an IP string literal.", text)
		}
		return have.ip == a.Unmap(), nil
	case "long", "integer", "short", "byte":
		n, err := strconv.ParseInt(text, 10, 64)
		if err != nil {
			return false, queryError("For input string: \"%s\"", text)
		}
		return have.n == n, nil
	case "float", "double", "half_float":
		f, err := strconv.ParseFloat(text, 64)
		if err != nil {
			return false, queryError("For input string: \"%s\"", text)
		}
		return have.f == f, nil
	case "boolean":
		switch text {
		case "true":
			return have.n == 1, nil
		case "false":
			return have.n == 0, nil
		}
		return false, queryError("Can't parse boolean value [%s], expected [true] or [false]", text)
	case "date", "date_nanos":
		ns, err := parseDate(text, ft.typ == "date_nanos")
		if err != nil {
			return false, queryError("%s", err.Error())
		}
		return have.n == ns, nil
	}
	return false, notImplemented("term query on a field of type [%s]", ft.typ)
}

type rangeQ struct {
	field        string
	gt, gte      any
	lt, lte      any
	formats      []string
	hasLo, hasHi bool
}

func (q *rangeQ) match(ix *index, d *doc) (bool, *esError) {
	ft, ok := ix.mapping.fields[q.field]
	if !ok {
		return false, nil
	}
	cmpTo := func(have value, bound any) (int, *esError) {
		text, ok := scalarText(bound)
		if !ok {
			return 0, badRequest("parsing_exception", "[range] query bound of type %T", bound)
		}
		switch ft.typ {
		case "date", "date_nanos":
			ns, err := q.parseDateBound(text, ft.typ == "date_nanos")
			if err != nil {
				return 0, err
			}
			return cmp.Compare(have.n, ns), nil
		case "long", "integer", "short", "byte", "boolean":
			n, err := strconv.ParseInt(text, 10, 64)
			if err != nil {
				return 0, queryError("For input string: \"%s\"", text)
			}
			return cmp.Compare(have.n, n), nil
		case "float", "double", "half_float":
			f, err := strconv.ParseFloat(text, 64)
			if err != nil {
				return 0, queryError("For input string: \"%s\"", text)
			}
			return cmp.Compare(have.f, f), nil
		case "keyword", "wildcard":
			return strings.Compare(have.s, text), nil
		case "ip":
			a, err := netip.ParseAddr(text)
			if err != nil {
				return 0, queryError("'%s' is not an IP string literal.", text)
			}
			return have.ip.Compare(a.Unmap()), nil
		}
		return 0, notImplemented("range query on a field of type [%s]", ft.typ)
	}
	vals := d.fields[q.field]
	if len(vals) == 0 {
		// Parse the bounds anyway: a bad bound fails the query.
		for _, b := range []any{q.gt, q.gte, q.lt, q.lte} {
			if b != nil {
				if _, err := cmpTo(value{}, b); err != nil {
					return false, err
				}
			}
		}
		return false, nil
	}
	for _, v := range vals {
		ok := true
		for _, c := range []struct {
			bound any
			test  func(int) bool
		}{
			{q.gt, func(c int) bool { return c > 0 }},
			{q.gte, func(c int) bool { return c >= 0 }},
			{q.lt, func(c int) bool { return c < 0 }},
			{q.lte, func(c int) bool { return c <= 0 }},
		} {
			if c.bound == nil {
				continue
			}
			r, err := cmpTo(v, c.bound)
			if err != nil {
				return false, err
			}
			if !c.test(r) {
				ok = false
			}
		}
		if ok {
			return true, nil
		}
	}
	return false, nil
}

// parseDateBound reads a range bound with the query's format (or the
// field's default). Date math is not supported by the double.
func (q *rangeQ) parseDateBound(text string, nanos bool) (int64, *esError) {
	if strings.HasPrefix(text, "now") || strings.Contains(text, "||") {
		return 0, notImplemented("date math [%s]", text)
	}
	formats := q.formats
	if len(formats) == 0 {
		formats = []string{"strict_date_optional_time", "epoch_millis"}
	}
	for _, f := range formats {
		switch f {
		case "epoch_millis":
			if ms, err := strconv.ParseInt(text, 10, 64); err == nil {
				ns := ms * 1e6
				return ns, nil
			}
		case "strict_date_optional_time", "strict_date_optional_time_nanos", "date_optional_time":
			if _, err := strconv.ParseInt(text, 10, 64); err == nil && len(text) > 4 {
				continue
			}
			t, err := parseISODate(text)
			if err != nil {
				continue
			}
			if !nanos {
				// A date field holds milliseconds; the bound is rounded
				// down to them.
				return t.UnixMilli() * 1e6, nil
			}
			return t.UnixNano(), nil
		}
	}
	return 0, &esError{Status: 400, Type: "parse_exception", Reason: fmt.Sprintf("failed to parse date field [%s] with format [%s]", text, strings.Join(formats, "||"))}
}

type matchQ struct {
	field string
	text  string
	and   bool
}

func (q *matchQ) match(ix *index, d *doc) (bool, *esError) {
	ft, ok := ix.mapping.fields[q.field]
	if !ok {
		if ft, ok = subField(ix, q.field); !ok {
			return false, nil
		}
	}
	switch ft.typ {
	case "text", "match_only_text":
		tokens := analyze(q.text)
		if len(tokens) == 0 {
			return false, nil // zero_terms_query: none
		}
		have := map[string]bool{}
		for _, v := range d.fields[q.field] {
			have[v.s] = true
		}
		n := 0
		for _, t := range tokens {
			if have[t] {
				n++
			}
		}
		if q.and {
			return n == len(tokens), nil
		}
		return n > 0, nil
	}
	// Other types analyze the query as one term.
	return (&termQ{field: q.field, values: []any{q.text}}).match(ix, d)
}

type existsQ struct{ field string }

func (q *existsQ) match(ix *index, d *doc) (bool, *esError) {
	if len(d.fields[q.field]) > 0 {
		return true, nil
	}
	for f, vs := range d.fields {
		if strings.HasPrefix(f, q.field+".") && len(vs) > 0 {
			return true, nil
		}
	}
	return false, nil
}

// parseQuery compiles the query DSL subset the double implements.
func parseQuery(v any) (query, *esError) {
	obj, ok := v.(map[string]any)
	if !ok || len(obj) != 1 {
		return nil, badRequest("parsing_exception", "[_na] query malformed, must start with start_object and hold one query")
	}
	for name, body := range obj {
		params, isObj := body.(map[string]any)
		switch name {
		case "match_all", "match_none":
			if !isObj {
				return nil, badRequest("parsing_exception", "[%s] query malformed", name)
			}
			for k := range params {
				if k != "boost" {
					return nil, badRequest("parsing_exception", "[%s] query does not support [%s]", name, k)
				}
			}
			if name == "match_all" {
				return matchAll{}, nil
			}
			return matchNone{}, nil
		case "bool":
			if !isObj {
				return nil, badRequest("parsing_exception", "[bool] query malformed")
			}
			b := &boolQ{}
			for k, cv := range params {
				var dst *[]query
				switch k {
				case "filter":
					dst = &b.filter
				case "must":
					dst = &b.must
				case "should":
					dst = &b.should
				case "must_not":
					dst = &b.mustNot
				case "minimum_should_match":
					n, ok := intValue(cv)
					if !ok || n < 0 {
						return nil, notImplemented("[minimum_should_match] other than a non-negative integer")
					}
					b.minShould, b.minShouldSet = n, true
					continue
				case "boost":
					continue
				default:
					return nil, badRequest("parsing_exception", "[bool] query does not support [%s]", k)
				}
				clauses, isArr := cv.([]any)
				if !isArr {
					clauses = []any{cv}
				}
				for _, c := range clauses {
					q, err := parseQuery(c)
					if err != nil {
						return nil, err
					}
					*dst = append(*dst, q)
				}
			}
			return b, nil
		case "term", "terms":
			if !isObj {
				return nil, badRequest("parsing_exception", "[%s] query malformed, no start_object after query name", name)
			}
			var q *termQ
			for f, fv := range params {
				if f == "boost" {
					continue
				}
				if q != nil {
					return nil, badRequest("parsing_exception", "[%s] query doesn't support multiple fields, found [%s] and [%s]", name, q.field, f)
				}
				q = &termQ{field: f}
				if name == "terms" {
					list, ok := fv.([]any)
					if !ok {
						return nil, badRequest("parsing_exception", "[terms] query does not support [%s] as a %s (estest: no terms lookup)", f, tokenName(fv))
					}
					if len(list) > 65536 {
						return nil, badRequest("illegal_argument_exception", "The number of terms [%d] used in the Terms Query request has exceeded the allowed maximum of [65536].", len(list))
					}
					for _, e := range list {
						if _, ok := scalarText(e); !ok {
							return nil, badRequest("parsing_exception", "[terms] query values must be scalars")
						}
					}
					q.values = list
					continue
				}
				if inner, ok := fv.(map[string]any); ok {
					for k, iv := range inner {
						switch k {
						case "value":
							q.values = []any{iv}
						case "boost":
						default:
							return nil, badRequest("parsing_exception", "[term] query does not support [%s]", k)
						}
					}
				} else {
					q.values = []any{fv}
				}
				if len(q.values) != 1 {
					return nil, badRequest("parsing_exception", "[term] query requires a value")
				}
				if _, ok := scalarText(q.values[0]); !ok {
					return nil, badRequest("parsing_exception", "[term] query does not support array of values")
				}
			}
			if q == nil {
				return nil, badRequest("parsing_exception", "[%s] query requires a field", name)
			}
			return q, nil
		case "range":
			if !isObj || len(params) != 1 {
				return nil, badRequest("parsing_exception", "[range] query malformed or on more than one field")
			}
			for f, fv := range params {
				inner, ok := fv.(map[string]any)
				if !ok {
					return nil, badRequest("parsing_exception", "[range] query malformed, no start_object after field name")
				}
				q := &rangeQ{field: f}
				for k, iv := range inner {
					switch k {
					case "gt":
						q.gt = iv
					case "gte":
						q.gte = iv
					case "lt":
						q.lt = iv
					case "lte":
						q.lte = iv
					case "format":
						s, _ := iv.(string)
						for _, p := range strings.Split(s, "||") {
							switch p {
							case "strict_date_optional_time", "strict_date_optional_time_nanos", "date_optional_time", "epoch_millis":
								q.formats = append(q.formats, p)
							default:
								return nil, notImplemented("range format [%s]", p)
							}
						}
					case "time_zone":
						if z, _ := iv.(string); z != "UTC" && z != "Z" && z != "+00:00" {
							return nil, notImplemented("range time_zone [%v]", iv)
						}
					case "boost":
					default:
						return nil, badRequest("parsing_exception", "[range] query does not support [%s]", k)
					}
				}
				return q, nil
			}
		case "match":
			if !isObj || len(params) != 1 {
				return nil, badRequest("parsing_exception", "[match] query doesn't support multiple fields")
			}
			for f, fv := range params {
				q := &matchQ{field: f}
				switch x := fv.(type) {
				case map[string]any:
					for k, iv := range x {
						switch k {
						case "query":
							t, ok := scalarText(iv)
							if !ok {
								return nil, badRequest("parsing_exception", "[match] query value must be a scalar")
							}
							q.text = t
						case "operator":
							switch strings.ToLower(fmt.Sprint(iv)) {
							case "and":
								q.and = true
							case "or":
							default:
								return nil, badRequest("illegal_argument_exception", "No enum constant org.elasticsearch.index.query.Operator.%v", iv)
							}
						case "zero_terms_query":
							if fmt.Sprint(iv) != "none" {
								return nil, notImplemented("[match] zero_terms_query [%v]", iv)
							}
						case "boost":
						default:
							return nil, badRequest("parsing_exception", "[match] query does not support [%s]", k)
						}
					}
				default:
					t, ok := scalarText(fv)
					if !ok {
						return nil, badRequest("parsing_exception", "[match] query malformed")
					}
					q.text = t
				}
				return q, nil
			}
		case "exists":
			if !isObj {
				return nil, badRequest("parsing_exception", "[exists] query malformed")
			}
			f, _ := params["field"].(string)
			if f == "" || len(params) > 2 {
				return nil, badRequest("parsing_exception", "[exists] must be provided with a [field]")
			}
			return &existsQ{field: f}, nil
		}
		return nil, badRequest("parsing_exception", "unknown query [%s] (estest implements bool, term, terms, range, match, exists, match_all, match_none)", name)
	}
	return nil, badRequest("parsing_exception", "query malformed")
}

// --- sort ---

type sortKey struct {
	field        string
	desc         bool
	numericType  string
	unmappedType string
}

// sortValue is one sort value: a number, a string, or missing.
type sortValue struct {
	kind byte // 'n' number, 'f' float, 's' string, 'i' ip, 0 missing
	n    int64
	f    float64
	s    string
	ip   netip.Addr
}

func (v sortValue) json() any {
	switch v.kind {
	case 'n':
		return v.n
	case 'f':
		return v.f
	case 's', 'i':
		return v.s
	}
	return nil
}

func parseSort(v any) ([]sortKey, *esError) {
	list, ok := v.([]any)
	if !ok {
		list = []any{v}
	}
	var out []sortKey
	for _, e := range list {
		var sk sortKey
		switch x := e.(type) {
		case string:
			sk.field = x
		case map[string]any:
			if len(x) != 1 {
				return nil, badRequest("parsing_exception", "[sort] malformed: one field per sort object")
			}
			for f, sv := range x {
				sk.field = f
				switch o := sv.(type) {
				case string:
					if o != "asc" && o != "desc" {
						return nil, badRequest("illegal_argument_exception", "Unknown SortOrder [%s]", o)
					}
					sk.desc = o == "desc"
				case map[string]any:
					for k, pv := range o {
						ps, _ := pv.(string)
						switch k {
						case "order":
							if ps != "asc" && ps != "desc" {
								return nil, badRequest("illegal_argument_exception", "Unknown SortOrder [%v]", pv)
							}
							sk.desc = ps == "desc"
						case "numeric_type":
							switch ps {
							case "long", "double", "date", "date_nanos":
								sk.numericType = ps
							default:
								return nil, badRequest("illegal_argument_exception", "invalid value for [numeric_type], must be [long, double, date, date_nanos], got %v", pv)
							}
						case "unmapped_type":
							sk.unmappedType = ps
						case "missing":
							if ps != "_last" {
								return nil, notImplemented("sort [missing] [%v]", pv)
							}
						default:
							return nil, notImplemented("sort option [%s]", k)
						}
					}
				default:
					return nil, badRequest("parsing_exception", "[sort] malformed")
				}
			}
		default:
			return nil, badRequest("parsing_exception", "[sort] malformed")
		}
		switch sk.field {
		case "_id":
			return nil, (&esError{Status: 400, Type: "illegal_argument_exception",
				Reason: "Fielddata access on the _id field is disallowed, you can re-enable it by updating the dynamic cluster setting: indices.id_field_data.enabled"})
		case "_score", "_doc", "_shard_doc", "_geo_distance", "_script":
			return nil, notImplemented("sorting on [%s]", sk.field)
		}
		if sk.field == "" {
			return nil, badRequest("parsing_exception", "[sort] field name is empty")
		}
		out = append(out, sk)
	}
	return out, nil
}

// check refuses a sort Elasticsearch would refuse on this index.
func (sk *sortKey) check(ix *index) *esError {
	ft, ok := ix.mapping.fields[sk.field]
	if !ok {
		if ft, ok = subField(ix, sk.field); !ok {
			if sk.unmappedType != "" {
				return nil
			}
			return shardError(&esError{Status: 400, Type: "query_shard_exception", Reason: fmt.Sprintf("No mapping found for [%s] in order to sort on", sk.field)})
		}
	}
	switch ft.typ {
	case "text", "match_only_text":
		return shardError(badRequest("illegal_argument_exception", "Fielddata is disabled on [%s] in [%s]. Text fields are not optimised for operations that require per-document field data like aggregations and sorting", sk.field, ix.backing))
	case "flattened":
		return notImplemented("sorting on a flattened field")
	}
	if !ft.docValues {
		return shardError(badRequest("illegal_argument_exception", "Can't load fielddata on [%s] because fielddata is unsupported on fields of type [%s]. Use doc values instead.", sk.field, ft.typ))
	}
	return nil
}

func fieldOf(ix *index, field string) *fieldType {
	if ft, ok := ix.mapping.fields[field]; ok {
		return ft
	}
	ft, _ := subField(ix, field)
	return ft
}

// value is the sort value of a document: the least value ascending, the
// greatest descending; missing sorts last.
func (sk *sortKey) value(ix *index, d *doc) sortValue {
	ft := fieldOf(ix, sk.field)
	vals := d.fields[sk.field]
	if ft == nil || len(vals) == 0 {
		if ft != nil && ft.typ != "keyword" && ft.typ != "ip" && ft.typ != "wildcard" {
			// Numbers report the extreme that sorts last.
			if sk.desc {
				return sortValue{kind: 'n', n: math.MinInt64}
			}
			return sortValue{kind: 'n', n: math.MaxInt64}
		}
		return sortValue{}
	}
	var out []sortValue
	for _, v := range vals {
		var sv sortValue
		switch ft.typ {
		case "keyword", "wildcard", "constant_keyword":
			sv = sortValue{kind: 's', s: v.s}
		case "ip":
			sv = sortValue{kind: 'i', s: v.s, ip: v.ip}
		case "float", "double", "half_float":
			sv = sortValue{kind: 'f', f: v.f}
		case "date":
			sv = sortValue{kind: 'n', n: v.n / 1e6}
			if sk.numericType == "date_nanos" {
				sv.n = v.n
			}
		case "date_nanos":
			sv = sortValue{kind: 'n', n: v.n}
			if sk.numericType == "date" {
				sv.n = floorDiv(v.n, 1e6)
			}
		default:
			sv = sortValue{kind: 'n', n: v.n}
		}
		out = append(out, sv)
	}
	best := out[0]
	for _, sv := range out[1:] {
		c := compareValue(sv, best)
		if sk.desc && c > 0 || !sk.desc && c < 0 {
			best = sv
		}
	}
	return best
}

// parseAfter reads a search_after value for this key.
func (sk *sortKey) parseAfter(v any) (sortValue, *esError) {
	switch x := v.(type) {
	case nil:
		return sortValue{}, nil
	case json.Number:
		if n, err := strconv.ParseInt(string(x), 10, 64); err == nil {
			return sortValue{kind: 'n', n: n}, nil
		}
		f, err := strconv.ParseFloat(string(x), 64)
		if err != nil {
			return sortValue{}, badRequest("illegal_argument_exception", "Failed to parse search_after value [%s]", x)
		}
		return sortValue{kind: 'f', f: f}, nil
	case string:
		if a, err := netip.ParseAddr(x); err == nil {
			return sortValue{kind: 'i', s: x, ip: a}, nil
		}
		return sortValue{kind: 's', s: x}, nil
	case bool:
		if x {
			return sortValue{kind: 'n', n: 1}, nil
		}
		return sortValue{kind: 'n', n: 0}, nil
	}
	return sortValue{}, badRequest("illegal_argument_exception", "search_after value of type %T", v)
}

func compareValue(a, b sortValue) int {
	switch {
	case a.kind == 0 && b.kind == 0:
		return 0
	case a.kind == 0:
		return 1
	case b.kind == 0:
		return -1
	}
	switch {
	case a.kind == 'i' && b.kind == 'i':
		return a.ip.Compare(b.ip)
	case (a.kind == 's' || a.kind == 'i') && (b.kind == 's' || b.kind == 'i'):
		return strings.Compare(a.s, b.s)
	case a.kind == 'n' && b.kind == 'n':
		return cmp.Compare(a.n, b.n)
	}
	return cmp.Compare(a.float(), b.float())
}

func (v sortValue) float() float64 {
	switch v.kind {
	case 'n':
		return float64(v.n)
	case 'f':
		return v.f
	case 's':
		f, _ := strconv.ParseFloat(v.s, 64)
		return f
	}
	return 0
}

// compareSort orders two tuples of sort values; missing values go last
// whatever the order.
func compareSort(keys []sortKey, a, b []sortValue) int {
	for i, k := range keys {
		x, y := a[i], b[i]
		var c int
		switch {
		case x.kind == 0 || y.kind == 0:
			c = compareValue(x, y)
		case k.desc:
			c = -compareValue(x, y)
		default:
			c = compareValue(x, y)
		}
		if c != 0 {
			return c
		}
	}
	return 0
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// --- aggregations ---

type agg interface {
	run(docs []match) (any, *esError)
}

func parseAggs(v any) (map[string]agg, *esError) {
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, badRequest("parsing_exception", "[aggs] must be an object")
	}
	out := map[string]agg{}
	for name, av := range obj {
		if name == "" || strings.ContainsAny(name, "[]>") {
			return nil, badRequest("parsing_exception", "Invalid aggregation name [%s]. Aggregation names can contain any character except '[', ']', and '>'", name)
		}
		def, ok := av.(map[string]any)
		if !ok {
			return nil, badRequest("parsing_exception", "Expected [START_OBJECT] under [%s]", name)
		}
		if len(def) != 1 {
			return nil, notImplemented("aggregation [%s] with sub-aggregations or meta, or without a type", name)
		}
		for typ, pv := range def {
			params, ok := pv.(map[string]any)
			if !ok {
				return nil, badRequest("parsing_exception", "[%s] aggregation malformed", typ)
			}
			switch typ {
			case "date_histogram":
				a, err := parseDateHistogram(params)
				if err != nil {
					return nil, err
				}
				out[name] = a
			case "terms":
				a, err := parseTerms(params)
				if err != nil {
					return nil, err
				}
				out[name] = a
			default:
				return nil, badRequest("parsing_exception", "Unknown aggregation type [%s] (estest implements date_histogram and terms)", typ)
			}
		}
	}
	return out, nil
}

type dateHistogram struct {
	field          string
	interval       int64 // ms
	offset         int64 // ms
	minDocCount    int64
	extMin, extMax *int64 // ms
}

func parseDateHistogram(p map[string]any) (*dateHistogram, *esError) {
	h := &dateHistogram{minDocCount: 1}
	for k, v := range p {
		s, _ := v.(string)
		switch k {
		case "field":
			h.field = s
		case "fixed_interval":
			d, ok := timeValue(s)
			if !ok || d < time.Millisecond || d%time.Millisecond != 0 {
				return nil, badRequest("illegal_argument_exception", "failed to parse setting [date_histogram.fixedInterval] with value [%v] as a time value: unit is missing or unrecognized", v)
			}
			h.interval = d.Milliseconds()
		case "interval":
			return nil, badRequest("illegal_argument_exception", "[interval] on [date_histogram] is removed; use [fixed_interval] or [calendar_interval]")
		case "calendar_interval":
			return nil, notImplemented("[calendar_interval]")
		case "offset":
			neg := strings.HasPrefix(s, "-")
			d, ok := timeValue(strings.TrimLeft(s, "+-"))
			if !ok {
				return nil, badRequest("illegal_argument_exception", "failed to parse [offset] with value [%v]", v)
			}
			h.offset = d.Milliseconds()
			if neg {
				h.offset = -h.offset
			}
		case "min_doc_count":
			n, ok := intValue(v)
			if !ok || n < 0 {
				return nil, badRequest("illegal_argument_exception", "[min_doc_count] must be greater than or equal to 0.")
			}
			h.minDocCount = n
		case "extended_bounds":
			b, ok := v.(map[string]any)
			if !ok {
				return nil, badRequest("parsing_exception", "[extended_bounds] must be an object")
			}
			for bk, bv := range b {
				ms, err := boundMillis(bv)
				if err != nil {
					return nil, err
				}
				switch bk {
				case "min":
					h.extMin = &ms
				case "max":
					h.extMax = &ms
				default:
					return nil, badRequest("parsing_exception", "[extended_bounds] unknown field [%s]", bk)
				}
			}
		case "time_zone":
			if s != "UTC" && s != "Z" && s != "+00:00" {
				return nil, notImplemented("date_histogram time_zone [%v]", v)
			}
		default:
			return nil, badRequest("parsing_exception", "[date_histogram] unknown field [%s]", k)
		}
	}
	if h.field == "" {
		return nil, badRequest("illegal_argument_exception", "Required [field]")
	}
	if h.interval == 0 {
		return nil, badRequest("illegal_argument_exception", "Invalid interval specified, must be non-null and non-empty")
	}
	if h.extMin != nil && h.extMax != nil && *h.extMin > *h.extMax {
		return nil, badRequest("illegal_argument_exception", "[extended_bounds.min][%d] cannot be greater than [extended_bounds.max][%d] for histogram aggregation", *h.extMin, *h.extMax)
	}
	return h, nil
}

func boundMillis(v any) (int64, *esError) {
	if n, ok := intValue(v); ok {
		if _, isStr := v.(string); !isStr {
			return n, nil
		}
	}
	s, ok := v.(string)
	if !ok {
		return 0, badRequest("parsing_exception", "[extended_bounds] value must be a date or epoch milliseconds")
	}
	t, err := parseISODate(s)
	if err != nil {
		return 0, badRequest("parse_exception", "failed to parse date field [%s] with format [strict_date_optional_time||epoch_millis]", s)
	}
	return t.UnixMilli(), nil
}

func (h *dateHistogram) key(ms int64) int64 {
	return floorDiv(ms-h.offset, h.interval)*h.interval + h.offset
}

func (h *dateHistogram) run(docs []match) (any, *esError) {
	counts := map[int64]int64{}
	var lo, hi int64
	have := false
	for _, m := range docs {
		ft := fieldOf(m.ix, h.field)
		if ft == nil {
			continue
		}
		if ft.typ != "date" && ft.typ != "date_nanos" {
			return nil, badRequest("illegal_argument_exception", "Field [%s] of type [%s] is not supported for aggregation [date_histogram]", h.field, ft.typ)
		}
		seen := map[int64]bool{}
		for _, v := range m.d.fields[h.field] {
			k := h.key(floorDiv(v.n, 1e6))
			if seen[k] {
				continue
			}
			seen[k] = true
			counts[k]++
			if !have || k < lo {
				lo = k
			}
			if !have || k > hi {
				hi = k
			}
			have = true
		}
	}
	if h.minDocCount == 0 {
		if h.extMin != nil {
			if k := h.key(*h.extMin); !have || k < lo {
				lo = k
			}
			have = true
		}
		if h.extMax != nil {
			if k := h.key(*h.extMax); !have || k > hi {
				hi = k
			}
			if h.extMin == nil && len(counts) == 0 {
				lo = hi
			}
			have = true
		}
	}
	buckets := []any{}
	if have {
		if (hi-lo)/h.interval+1 > 65536 {
			return nil, &esError{Status: 400, Type: "too_many_buckets_exception", Reason: "Trying to create too many buckets. Must be less than or equal to: [65536]. This limit can be set by changing the [search.max_buckets] cluster level setting."}
		}
		for k := lo; k <= hi; k += h.interval {
			n := counts[k]
			if n < h.minDocCount || (h.minDocCount > 0 && n == 0) {
				continue
			}
			buckets = append(buckets, map[string]any{
				"key_as_string": time.UnixMilli(k).UTC().Format("2006-01-02T15:04:05.000Z"),
				"key":           k,
				"doc_count":     n,
			})
		}
	}
	return map[string]any{"buckets": buckets}, nil
}

type termsAgg struct {
	field string
	size  int64
}

func parseTerms(p map[string]any) (*termsAgg, *esError) {
	a := &termsAgg{size: 10}
	for k, v := range p {
		switch k {
		case "field":
			a.field, _ = v.(string)
		case "size":
			n, ok := intValue(v)
			if !ok || n < 1 {
				return nil, badRequest("illegal_argument_exception", "[size] must be greater than 0. Found [%v] in [terms]", v)
			}
			a.size = n
		case "shard_size":
		default:
			return nil, notImplemented("terms aggregation parameter [%s]", k)
		}
	}
	if a.field == "" {
		return nil, badRequest("illegal_argument_exception", "Required [field]")
	}
	if a.size > 65536 {
		return nil, &esError{Status: 400, Type: "too_many_buckets_exception", Reason: "Trying to create too many buckets. Must be less than or equal to: [65536]."}
	}
	return a, nil
}

func (a *termsAgg) run(docs []match) (any, *esError) {
	type bucket struct {
		key   any
		sortS string
		sortN int64
		n     int64
	}
	counts := map[string]*bucket{}
	for _, m := range docs {
		ft := fieldOf(m.ix, a.field)
		if ft == nil {
			continue
		}
		seen := map[string]bool{}
		for _, v := range m.d.fields[a.field] {
			var b bucket
			switch ft.typ {
			case "keyword", "wildcard", "constant_keyword":
				b = bucket{key: v.s, sortS: v.s}
			case "long", "integer", "short", "byte":
				b = bucket{key: v.n, sortN: v.n, sortS: strconv.FormatInt(v.n, 10)}
			case "text", "match_only_text":
				return nil, badRequest("illegal_argument_exception", "Fielddata is disabled on [%s]. Text fields are not optimised for operations that require per-document field data like aggregations and sorting", a.field)
			default:
				return nil, notImplemented("terms aggregation on a field of type [%s]", ft.typ)
			}
			id := fmt.Sprint(b.key)
			if seen[id] {
				continue
			}
			seen[id] = true
			if c, ok := counts[id]; ok {
				c.n++
			} else {
				b.n = 1
				counts[id] = &b
			}
		}
	}
	list := make([]*bucket, 0, len(counts))
	for _, b := range counts {
		list = append(list, b)
	}
	slices.SortFunc(list, func(x, y *bucket) int {
		if c := cmp.Compare(y.n, x.n); c != 0 {
			return c
		}
		if c := cmp.Compare(x.sortN, y.sortN); c != 0 {
			return c
		}
		return strings.Compare(x.sortS, y.sortS)
	})
	other := int64(0)
	if int64(len(list)) > a.size {
		for _, b := range list[a.size:] {
			other += b.n
		}
		list = list[:a.size]
	}
	buckets := make([]any, 0, len(list))
	for _, b := range list {
		buckets = append(buckets, map[string]any{"key": b.key, "doc_count": b.n})
	}
	return map[string]any{"doc_count_error_upper_bound": 0, "sum_other_doc_count": other, "buckets": buckets}, nil
}
