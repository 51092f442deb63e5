package estest_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/egovsoc/egovsoc/pipeline/store/elastic/estest"
)

// call sends one request and decodes the JSON reply.
func call(t *testing.T, srv *estest.Server, method, path, contentType, body string) (int, http.Header, map[string]any) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	var out map[string]any
	if len(b) > 0 {
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatalf("%s %s: reply %q is not JSON", method, path, b)
		}
	}
	return res.StatusCode, res.Header, out
}

const js = "application/json"
const nd = "application/x-ndjson"

func errType(reply map[string]any) string {
	e, _ := reply["error"].(map[string]any)
	s, _ := e["type"].(string)
	return s
}

func itemOf(t *testing.T, reply map[string]any, i int) map[string]any {
	t.Helper()
	items, _ := reply["items"].([]any)
	if i >= len(items) {
		t.Fatalf("reply has %d items, want more than %d: %v", len(items), i, reply)
	}
	for _, v := range items[i].(map[string]any) {
		return v.(map[string]any)
	}
	return nil
}

func itemStatus(t *testing.T, reply map[string]any, i int) (int, string) {
	it := itemOf(t, reply, i)
	st, _ := it["status"].(float64)
	e, _ := it["error"].(map[string]any)
	typ, _ := e["type"].(string)
	return int(st), typ
}

// cluster is a double with a data stream template logs-* and a regular
// index template idx-*.
func cluster(t *testing.T) *estest.Server {
	srv := estest.NewServer(t)
	srv.SetRefreshInterval(time.Hour)
	for _, c := range []struct{ path, body string }{
		{"/_ilm/policy/p", `{"policy":{"phases":{"hot":{"actions":{"rollover":{"max_age":"1d"}}},"delete":{"min_age":"30d","actions":{"delete":{}}}}}}`},
		{"/_component_template/maps", `{"template":{"mappings":{"dynamic_templates":[{"s":{"match_mapping_type":"string","mapping":{"type":"keyword"}}}],
			"properties":{"@timestamp":{"type":"date_nanos"},"ip":{"type":"ip"},"n":{"type":"long"},"msg":{"type":"match_only_text","copy_to":"all"},"all":{"type":"match_only_text"},"org":{"type":"keyword"}}}}}`},
		{"/_component_template/sets", `{"template":{"settings":{"index":{"lifecycle":{"name":"p"},"number_of_shards":1}}}}`},
		{"/_index_template/logs", `{"index_patterns":["logs-*"],"data_stream":{},"composed_of":["sets","maps","logs@custom"],"ignore_missing_component_templates":["logs@custom"],"priority":100}`},
		{"/_index_template/idx", `{"index_patterns":["idx-*"],"composed_of":["maps"],"priority":100,"template":{"settings":{"index.lifecycle.parse_origination_date":true}}}`},
	} {
		if st, _, reply := call(t, srv, http.MethodPut, c.path, js, c.body); st != 200 {
			t.Fatalf("PUT %s: %d %v", c.path, st, reply)
		}
	}
	return srv
}

func TestProductHeader(t *testing.T) {
	srv := estest.NewServer(t)
	st, h, reply := call(t, srv, http.MethodGet, "/", "", "")
	if st != 200 || h.Get("X-Elastic-Product") != "Elasticsearch" || reply["tagline"] != "You Know, for Search" {
		t.Errorf("GET /: %d %v %v", st, h, reply)
	}
	_, h, _ = call(t, srv, http.MethodGet, "/_nope", "", "")
	if h.Get("X-Elastic-Product") != "Elasticsearch" {
		t.Error("an error reply lacks the product header")
	}
	srv.OmitProductHeader(true)
	if _, h, _ = call(t, srv, http.MethodGet, "/", "", ""); h.Get("X-Elastic-Product") != "" {
		t.Error("OmitProductHeader did not omit it")
	}
}

func TestTemplatesValidated(t *testing.T) {
	srv := cluster(t)
	for _, c := range []struct{ path, body, want string }{
		{"/_index_template/x", `{"index_patterns":["x-*"],"composed_of":["missing"]}`, "invalid_index_template_exception"},
		{"/_index_template/x", `{"index_patterns":["logs-a*"],"priority":100}`, "illegal_argument_exception"}, // overlaps logs at the same priority
		{"/_index_template/x", `{"index_patterns":["x-*"],"bogus":1}`, "x_content_parse_exception"},
		{"/_component_template/x", `{"template":{"mappings":{"properties":{"f":{"type":"strnig"}}}}}`, "mapper_parsing_exception"},
		{"/_component_template/x", `{"template":{"mappings":{"properties":{"f":{"type":"keyword","analyzer":"x"}}}}}`, "mapper_parsing_exception"},
		{"/_component_template/x", `{"template":{"settings":{"index.numbr_of_shards":1}}}`, "illegal_argument_exception"},
		{"/_ilm/policy/x", `{"policy":{"phases":{"hot":{"actions":{"delete":{}}}}}}`, "illegal_argument_exception"},
		{"/_ilm/policy/x", `{"policy":{"phases":{"hot":{"min_age":"2d","actions":{}},"delete":{"min_age":"1d","actions":{"delete":{}}}}}}`, "illegal_argument_exception"},
		{"/_ilm/policy/x", `{"policy":{"phases":{"hot":{"actions":{"rollover":{}}}}}}`, "action_request_validation_exception"},
	} {
		st, _, reply := call(t, srv, http.MethodPut, c.path, js, c.body)
		if st != 400 || errType(reply) != c.want {
			t.Errorf("PUT %s %s: %d %v, want 400 %s", c.path, c.body, st, reply, c.want)
		}
	}
	// A data stream template must map @timestamp as a date.
	call(t, srv, http.MethodPut, "/_component_template/kw", js, `{"template":{"mappings":{"properties":{"@timestamp":{"type":"keyword"}}}}}`)
	if st, _, _ := call(t, srv, http.MethodPut, "/_index_template/ds", js, `{"index_patterns":["ds-*"],"data_stream":{},"composed_of":["kw"]}`); st != 400 {
		t.Errorf("a data stream template with a keyword @timestamp: %d, want 400", st)
	}
}

func TestBulkWireFormat(t *testing.T) {
	srv := cluster(t)
	good := `{"create":{"_index":"logs-a","_id":"1"}}` + "\n" + `{"@timestamp":"2025-01-01T00:00:00Z"}` + "\n"
	for _, c := range []struct {
		ct, body string
		status   int
	}{
		{js, good, 406},
		{"", good, 406},
		{nd, strings.TrimSuffix(good, "\n"), 400},
		{nd, `{"create":{"_index":"logs-a"}}` + "\n", 400},            // no source line
		{nd, `{"upsert":{"_index":"logs-a"}}` + "\n{}\n", 400},        // no such action
		{nd, `{"create":{"_index":"logs-a","_x":1}}` + "\n{}\n", 400}, // unknown parameter
		{nd, `{"create":{"_id":"1"}}` + "\n{}\n", 400},                // no index
		{"application/vnd.elasticsearch+x-ndjson; compatible-with=8", good, 200},
	} {
		st, _, reply := call(t, srv, http.MethodPost, "/_bulk", c.ct, c.body)
		if st != c.status {
			t.Errorf("bulk (%q) %q: %d %v, want %d", c.ct, c.body, st, reply, c.status)
		}
	}
	if st, _, _ := call(t, srv, http.MethodPost, "/_bulk?refresh=wait_for&pipeline=x", nd, good); st != 400 {
		t.Errorf("an unknown bulk parameter: %d, want 400", st)
	}
}

func TestBulkItems(t *testing.T) {
	srv := cluster(t)
	body := strings.Join([]string{
		`{"create":{"_index":"logs-a","_id":"1"}}`, `{"@timestamp":"2025-01-01T00:00:00Z","ip":"10.0.0.1","n":"5"}`,
		`{"create":{"_index":"logs-a","_id":"1"}}`, `{"@timestamp":"2025-01-01T00:00:00Z"}`, // exists
		`{"index":{"_index":"logs-a","_id":"2"}}`, `{"@timestamp":"2025-01-01T00:00:00Z"}`, // index on a data stream
		`{"create":{"_index":"logs-a","_id":"3"}}`, `{"@timestamp":"2025-01-01T00:00:00Z","ip":"nope"}`,
		`{"create":{"_index":"logs-a","_id":"4"}}`, `{"ip":"10.0.0.1"}`, // no @timestamp
		`{"create":{"_index":"logs-a","_id":"5"}}`, `{"@timestamp":"1969-12-31T23:59:59Z"}`, // before date_nanos
		`{"create":{"_index":"logs-a","_id":"6"}}`, `{"@timestamp":"2025-01-01T00:00:00Z","n":"five"}`,
		`{"create":{"_index":"logs-a","_id":"7"}}`, `{"@timestamp":"2025-01-01T00:00:00Z","ip":{"a":1}}`,
		`{"create":{"_index":"other","_id":"8"}}`, `{}`, // no template
		`{"create":{"_index":"idx-2025.01.01","_id":"9"}}`, `{"x":"y"}`,
		`{"create":{"_index":"idx-january","_id":"10"}}`, `{"x":"y"}`, // parse_origination_date needs a date
		`{"create":{"_index":"logs-a","_id":"11"}}`, `not json`,
	}, "\n") + "\n"
	st, _, reply := call(t, srv, http.MethodPost, "/_bulk", nd, body)
	if st != 200 || reply["errors"] != true {
		t.Fatalf("bulk: %d %v", st, reply)
	}
	want := []struct {
		status int
		typ    string
	}{
		{201, ""}, {409, "version_conflict_engine_exception"}, {400, "illegal_argument_exception"},
		{400, "document_parsing_exception"}, {400, "document_parsing_exception"}, {400, "document_parsing_exception"},
		{400, "document_parsing_exception"}, {400, "document_parsing_exception"}, {404, "index_not_found_exception"},
		{201, ""}, {400, "illegal_argument_exception"}, {400, "document_parsing_exception"},
	}
	for i, w := range want {
		if st, typ := itemStatus(t, reply, i); st != w.status || typ != w.typ {
			t.Errorf("item %d: %d %s, want %d %s (%v)", i, st, typ, w.status, w.typ, itemOf(t, reply, i))
		}
	}
	if idx := itemOf(t, reply, 0)["_index"].(string); !strings.HasPrefix(idx, ".ds-logs-a-") {
		t.Errorf("a data stream item names index %q, want its backing index", idx)
	}
	if got := srv.DataStreams(); len(got) != 1 || got[0] != "logs-a" {
		t.Errorf("data streams %v", got)
	}
}

func TestFaults(t *testing.T) {
	srv := cluster(t)
	srv.FailBulk(1, 429)
	body := `{"create":{"_index":"logs-a","_id":"1"}}` + "\n" + `{"@timestamp":"2025-01-01T00:00:00Z"}` + "\n" +
		`{"create":{"_index":"logs-a","_id":"2"}}` + "\n" + `{"@timestamp":"2025-01-01T00:00:00Z"}` + "\n"
	if st, _, reply := call(t, srv, http.MethodPost, "/_bulk", nd, body); st != 429 || errType(reply) != "es_rejected_execution_exception" {
		t.Errorf("FailBulk 429: %d %v", st, reply)
	}
	srv.FailItem("1", 1, 429)
	srv.DropItem("2", 1)
	st, _, reply := call(t, srv, http.MethodPost, "/_bulk", nd, body)
	if st != 200 || len(reply["items"].([]any)) != 1 {
		t.Fatalf("item faults: %d %v", st, reply)
	}
	if st, typ := itemStatus(t, reply, 0); st != 429 || typ != "es_rejected_execution_exception" {
		t.Errorf("FailItem: %d %s", st, typ)
	}
	if srv.Count("logs-a") != 0 {
		t.Errorf("faulted items were executed")
	}
	if _, _, reply = call(t, srv, http.MethodPost, "/_bulk", nd, body); reply["errors"] != false {
		t.Errorf("faults outlived their count: %v", reply)
	}
}

func TestRefresh(t *testing.T) {
	srv := cluster(t)
	doc := func(id string) string {
		return `{"create":{"_index":"logs-a","_id":"` + id + `"}}` + "\n" + `{"@timestamp":"2025-01-01T00:00:00Z"}` + "\n"
	}
	count := func() float64 {
		_, _, reply := call(t, srv, http.MethodPost, "/logs-a/_search", js, `{"track_total_hits":true}`)
		return reply["hits"].(map[string]any)["total"].(map[string]any)["value"].(float64)
	}
	call(t, srv, http.MethodPost, "/_bulk", nd, doc("1"))
	if n := count(); n != 0 {
		t.Errorf("a document written without refresh is searchable at once (%v)", n)
	}
	call(t, srv, http.MethodPost, "/_bulk?refresh=wait_for", nd, doc("2"))
	if n := count(); n != 1 {
		t.Errorf("after refresh=wait_for: %v searchable, want 1", n)
	}
	call(t, srv, http.MethodPost, "/_bulk?refresh=true", nd, doc("3"))
	if n := count(); n != 3 {
		t.Errorf("after refresh=true: %v searchable, want 3", n)
	}
}

func TestSearchStrict(t *testing.T) {
	srv := cluster(t)
	call(t, srv, http.MethodPost, "/_bulk?refresh=true", nd,
		`{"create":{"_index":"logs-a","_id":"1"}}`+"\n"+`{"@timestamp":"2025-01-01T00:00:00Z","msg":"Hello World"}`+"\n")
	for _, c := range []struct {
		path, body, want string
		status           int
	}{
		{"/logs-a/_search", `{"query":{"fuzzy":{"msg":"x"}}}`, "parsing_exception", 400},
		{"/logs-a/_search", `{"query":{"term":{"a":"x","b":"y"}}}`, "parsing_exception", 400},
		{"/logs-a/_search", `{"query":{"bool":{"filter":[],"nope":[]}}}`, "parsing_exception", 400},
		{"/logs-a/_search", `{"highlight":{}}`, "parsing_exception", 400},
		{"/logs-a/_search", `{"sort":["_id"]}`, "illegal_argument_exception", 400},
		{"/logs-a/_search", `{"sort":[{"msg":"asc"}]}`, "search_phase_execution_exception", 400},
		{"/logs-a/_search", `{"sort":[{"unmapped":"asc"}]}`, "search_phase_execution_exception", 400},
		{"/logs-a/_search", `{"sort":[{"org":"asc"}],"search_after":[1,2]}`, "illegal_argument_exception", 400},
		{"/logs-a/_search", `{"query":{"term":{"ip":"not-an-ip"}}}`, "search_phase_execution_exception", 400},
		{"/logs-a/_search", `{"query":{"range":{"@timestamp":{"gte":"now-1d"}}}}`, "search_phase_execution_exception", 400},
		{"/logs-a/_search", `{"aggs":{"h":{"date_histogram":{"field":"@timestamp","interval":"1h"}}}}`, "illegal_argument_exception", 400},
		{"/logs-a/_search", `{"aggs":{"h":{"avg":{"field":"n"}}}}`, "parsing_exception", 400},
		{"/logs-a/_search", `{"size":10001}`, "illegal_argument_exception", 400},
		{"/logs-a/_search?scroll=1m", `{}`, "illegal_argument_exception", 400},
		{"/missing/_search", `{}`, "index_not_found_exception", 404},
		{"/missing/_search?ignore_unavailable=true", `{}`, "", 200},
		{"/missing-*/_search", `{}`, "", 200},
		{"/missing-*/_search?allow_no_indices=false", `{}`, "index_not_found_exception", 404},
	} {
		st, _, reply := call(t, srv, http.MethodPost, c.path, js, c.body)
		if st != c.status || errType(reply) != c.want {
			t.Errorf("%s %s: %d %s, want %d %s (%v)", c.path, c.body, st, errType(reply), c.status, c.want, reply)
		}
	}
}

func TestSearchEvaluates(t *testing.T) {
	srv := cluster(t)
	var b strings.Builder
	for i, d := range []string{
		`{"@timestamp":"2025-01-01T00:00:00.000000001Z","org":"a","ip":"10.0.0.1","n":1,"msg":"Đăng nhập thất bại"}`,
		`{"@timestamp":"2025-01-01T00:00:30Z","org":"b","ip":"10.0.0.2","n":[2,20],"msg":"login FAILED for root"}`,
		`{"@timestamp":"2025-01-01T00:01:30Z","org":"a","n":3,"msg":"login ok"}`,
		`{"@timestamp":"2025-01-01T00:01:30Z","org":"c","msg":"failed"}`,
	} {
		b.WriteString(`{"create":{"_index":"logs-a","_id":"d` + string(rune('0'+i)) + `"}}` + "\n" + d + "\n")
	}
	call(t, srv, http.MethodPost, "/_bulk?refresh=true", nd, b.String())
	ids := func(body string) string {
		t.Helper()
		st, _, reply := call(t, srv, http.MethodPost, "/logs-*/_search", js, body)
		if st != 200 {
			t.Fatalf("%s: %d %v", body, st, reply)
		}
		var out []string
		for _, h := range reply["hits"].(map[string]any)["hits"].([]any) {
			out = append(out, h.(map[string]any)["_id"].(string))
		}
		return strings.Join(out, ",")
	}
	sort := `"sort":[{"@timestamp":{"order":"desc","numeric_type":"date_nanos"}},{"org":"desc"}]`
	for _, c := range []struct{ body, want string }{
		{`{` + sort + `}`, "d3,d2,d1,d0"},
		{`{` + sort + `,"size":2,"search_after":[1735689690000000000,"c"]}`, "d2,d1"},
		{`{` + sort + `,"query":{"bool":{"filter":[{"terms":{"org":["a","c"]}},{"range":{"@timestamp":{"gte":"2025-01-01T00:00:00.000000001Z","lt":"2025-01-01T00:01:30Z"}}}]}}}`, "d0"},
		{`{` + sort + `,"query":{"match":{"all":{"query":"failed LOGIN","operator":"and"}}}}`, "d1"},
		{`{` + sort + `,"query":{"match":{"all":{"query":"thất bại","operator":"and"}}}}`, "d0"},
		{`{` + sort + `,"query":{"term":{"n":20}}}`, "d1"},
		{`{` + sort + `,"query":{"term":{"ip":"10.0.0.0/31"}}}`, "d0"},
		{`{` + sort + `,"query":{"bool":{"filter":{"exists":{"field":"ip"}}}}}`, "d1,d0"},
		{`{"sort":[{"n":"asc"}]}`, "d0,d1,d2,d3"},
		{`{"sort":[{"n":"desc"}]}`, "d1,d2,d0,d3"},
	} {
		if got := ids(c.body); got != c.want {
			t.Errorf("%s: %s, want %s", c.body, got, c.want)
		}
	}

	_, _, reply := call(t, srv, http.MethodPost, "/logs-a/_search", js, `{"size":0,"track_total_hits":false,"aggs":{
		"h":{"date_histogram":{"field":"@timestamp","fixed_interval":"60000ms","min_doc_count":0,"extended_bounds":{"min":"2024-12-31T23:58:00.000Z","max":"2025-01-01T00:03:00.000Z"}}},
		"o":{"terms":{"field":"org","size":2}}}}`)
	if _, has := reply["hits"].(map[string]any)["total"]; has {
		t.Error("track_total_hits false still reports a total")
	}
	aggs := reply["aggregations"].(map[string]any)
	var counts []string
	for _, bk := range aggs["h"].(map[string]any)["buckets"].([]any) {
		m := bk.(map[string]any)
		counts = append(counts, m["key_as_string"].(string)[11:16]+"="+strings.TrimSuffix(strings.TrimSuffix(jsonText(m["doc_count"]), ".0"), ""))
	}
	if got := strings.Join(counts, " "); got != "23:58=0 23:59=0 00:00=2 00:01=2 00:02=0 00:03=0" {
		t.Errorf("date_histogram: %s", got)
	}
	terms := aggs["o"].(map[string]any)
	if jsonText(terms["sum_other_doc_count"]) != "1" || len(terms["buckets"].([]any)) != 2 {
		t.Errorf("terms: %v", terms)
	}
}

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestRefuseConnections(t *testing.T) {
	srv := estest.NewServer(t)
	srv.RefuseConnections(true)
	if _, err := http.Get(srv.URL + "/"); err == nil {
		t.Error("a request got through while connections are refused")
	}
	srv.RefuseConnections(false)
	if res, err := http.Get(srv.URL + "/"); err != nil {
		t.Errorf("after RefuseConnections(false): %v", err)
	} else {
		res.Body.Close()
	}
}

// TestDocumentAPIs checks the get API and the index API with optimistic
// concurrency control against the replies Elasticsearch documents.
func TestDocumentAPIs(t *testing.T) {
	srv := cluster(t) // refreshes once an hour
	num := func(reply map[string]any, key string) int {
		f, ok := reply[key].(float64)
		if !ok {
			t.Fatalf("reply lacks %s: %v", key, reply)
		}
		return int(f)
	}
	search := func(q string) []string {
		t.Helper()
		_, _, reply := call(t, srv, http.MethodPost, "/idx-2025.01.01/_search", js, `{"query":`+q+`}`)
		var ids []string
		for _, h := range reply["hits"].(map[string]any)["hits"].([]any) {
			ids = append(ids, h.(map[string]any)["_id"].(string))
		}
		return ids
	}

	st, h, created := call(t, srv, http.MethodPut, "/idx-2025.01.01/_doc/a%2Fb?refresh=wait_for", js, `{"org":"x","n":1}`)
	if st != 201 || created["result"] != "created" || created["_id"] != "a/b" || num(created, "_version") != 1 || num(created, "_primary_term") != 1 || h.Get("X-Elastic-Product") != "Elasticsearch" {
		t.Fatalf("PUT a new document: %d %v", st, created)
	}
	seq := num(created, "_seq_no")

	st, _, got := call(t, srv, http.MethodGet, "/idx-2025.01.01/_doc/a%2Fb", "", "")
	if st != 200 || got["found"] != true || num(got, "_seq_no") != seq || num(got, "_primary_term") != 1 || num(got, "_version") != 1 ||
		got["_index"] != "idx-2025.01.01" || got["_source"].(map[string]any)["org"] != "x" {
		t.Fatalf("GET: %d %v", st, got)
	}
	if st, _, got := call(t, srv, http.MethodGet, "/idx-2025.01.01/_doc/nope", "", ""); st != 404 || got["found"] != false || got["_id"] != "nope" || got["error"] != nil {
		t.Errorf("GET of an id not there: %d %v, want 404 found:false", st, got)
	}
	if st, _, got := call(t, srv, http.MethodGet, "/idx-2030.01.01/_doc/a", "", ""); st != 404 || errType(got) != "index_not_found_exception" {
		t.Errorf("GET in an index not there: %d %v", st, got)
	}

	// Indexed over, with the current _seq_no: a new version, which a GET
	// sees at once and a search only once refreshed.
	path := fmt.Sprintf("/idx-2025.01.01/_doc/a%%2Fb?if_seq_no=%d&if_primary_term=1", seq)
	st, _, updated := call(t, srv, http.MethodPut, path, js, `{"org":"y","n":2}`)
	if st != 200 || updated["result"] != "updated" || num(updated, "_version") != 2 || num(updated, "_seq_no") <= seq {
		t.Fatalf("PUT with the current if_seq_no: %d %v", st, updated)
	}
	if _, _, got := call(t, srv, http.MethodGet, "/idx-2025.01.01/_doc/a%2Fb", "", ""); got["_source"].(map[string]any)["org"] != "y" || num(got, "_seq_no") != num(updated, "_seq_no") {
		t.Errorf("a real-time GET after the update: %v", got)
	}
	if _, _, got := call(t, srv, http.MethodGet, "/idx-2025.01.01/_doc/a%2Fb?realtime=false", "", ""); got["_source"].(map[string]any)["org"] != "x" {
		t.Errorf("a GET with realtime=false before a refresh: %v, want the old version", got)
	}
	if ids := search(`{"term":{"org":"x"}}`); len(ids) != 1 {
		t.Errorf("before a refresh a search sees %v for the old version, want it", ids)
	}
	if ids := search(`{"term":{"org":"y"}}`); len(ids) != 0 {
		t.Errorf("before a refresh a search sees %v for the new version, want nothing", ids)
	}

	// The _seq_no read before the update is stale now.
	st, h, conflict := call(t, srv, http.MethodPut, path, js, `{"org":"z"}`)
	if st != 409 || errType(conflict) != "version_conflict_engine_exception" || h.Get("X-Elastic-Product") != "Elasticsearch" ||
		!strings.Contains(fmt.Sprint(conflict["error"]), fmt.Sprintf("required seqNo [%d], primary term [1]. current document has seqNo [%d]", seq, num(updated, "_seq_no"))) {
		t.Errorf("PUT with a stale if_seq_no: %d %v", st, conflict)
	}
	if _, _, got := call(t, srv, http.MethodGet, "/idx-2025.01.01/_doc/a%2Fb", "", ""); got["_source"].(map[string]any)["org"] != "y" {
		t.Errorf("a refused write changed the document: %v", got)
	}

	st, _, _ = call(t, srv, http.MethodPut, fmt.Sprintf("/idx-2025.01.01/_doc/a%%2Fb?if_seq_no=%d&if_primary_term=1&refresh=true", num(updated, "_seq_no")), js, `{"org":"w"}`)
	if st != 200 {
		t.Errorf("PUT with refresh=true: %d", st)
	}
	if ids := search(`{"term":{"org":"w"}}`); len(ids) != 1 {
		t.Errorf("after refresh=true a search sees %v, want the new version", ids)
	}

	for _, c := range []struct {
		method, path, ct, body string
		status                 int
		typ                    string
	}{
		{"PUT", "/idx-2025.01.01/_doc/nope?if_seq_no=0&if_primary_term=1", js, `{}`, 409, "version_conflict_engine_exception"},
		{"PUT", "/idx-2025.01.01/_doc/a%2Fb?op_type=create", js, `{}`, 409, "version_conflict_engine_exception"},
		{"PUT", "/idx-2025.01.01/_doc/a%2Fb?if_seq_no=1", js, `{}`, 400, "action_request_validation_exception"},
		{"PUT", "/idx-2025.01.01/_doc/a%2Fb?if_primary_term=1", js, `{}`, 400, "action_request_validation_exception"},
		{"PUT", "/idx-2025.01.01/_doc/a%2Fb?if_seq_no=1&if_primary_term=1&op_type=create", js, `{}`, 400, "action_request_validation_exception"},
		{"PUT", "/idx-2025.01.01/_doc/a%2Fb?if_seq_no=-3&if_primary_term=1", js, `{}`, 400, "illegal_argument_exception"},
		{"PUT", "/idx-2025.01.01/_doc/a%2Fb?if_seq_no=x&if_primary_term=1", js, `{}`, 400, "illegal_argument_exception"},
		{"PUT", "/idx-2025.01.01/_doc/a%2Fb?op_type=upsert", js, `{}`, 400, "illegal_argument_exception"},
		{"PUT", "/idx-2025.01.01/_doc/a%2Fb?routing=r", js, `{}`, 400, "illegal_argument_exception"}, // known, not implemented
		{"PUT", "/idx-2025.01.01/_doc/a%2Fb?bogus=1", js, `{}`, 400, "illegal_argument_exception"},
		{"PUT", "/idx-2025.01.01/_doc/a%2Fb", "text/plain", `{}`, 406, "media_type_header_exception"},
		{"PUT", "/idx-2025.01.01/_doc/a%2Fb", js, `{"n":"not a number"}`, 400, "document_parsing_exception"},
		{"PUT", "/logs-a/_doc/1", js, `{"@timestamp":"2025-01-01T00:00:00Z"}`, 400, "illegal_argument_exception"}, // a data stream takes only create
		{"GET", "/idx-2025.01.01/_doc/a%2Fb?stored_fields=n", "", "", 400, "illegal_argument_exception"},
		{"GET", "/idx-2025.01.01/_doc/a%2Fb?realtime=maybe", "", "", 400, "illegal_argument_exception"},
	} {
		st, _, reply := call(t, srv, c.method, c.path, c.ct, c.body)
		if st != c.status || errType(reply) != c.typ {
			t.Errorf("%s %s %s: %d %v, want %d %s", c.method, c.path, c.body, st, reply, c.status, c.typ)
		}
	}
	// A data stream takes a create by id.
	if st, _, reply := call(t, srv, http.MethodPut, "/logs-a/_doc/1?op_type=create", js, `{"@timestamp":"2025-01-01T00:00:00Z"}`); st != 201 {
		t.Errorf("PUT op_type=create into a data stream: %d %v", st, reply)
	}
	if n := srv.Count("idx-2025.01.01"); n != 1 {
		t.Errorf("%d documents, want the one written over", n)
	}
}
