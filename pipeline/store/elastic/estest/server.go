// Package estest is an HTTP double of an Elasticsearch 8 cluster, for
// exactly what pipeline/store/elastic uses, and strict about the wire
// format the real server requires: every reply carries the
// X-Elastic-Product header the client checks; bulk bodies must be NDJSON
// with the right Content-Type and a trailing newline; data streams take
// only "create"; documents are typed by the mapping their index template
// gives them (a non-IP in an ip field fails that item with a 400); a
// document is read by id (real-time, with its _seq_no and _primary_term)
// and indexed over with optimistic concurrency control (if_seq_no and
// if_primary_term; a 409 version_conflict_engine_exception when they are
// stale), and a search sees the new version only once it is refreshed;
// searches are evaluated, and any query, parameter, sort or aggregation the
// double does not implement is refused with a 400, so the adapter cannot
// come to depend on something unnoticed. Faults are injected on demand: whole
// requests failing with 429 or 503, items refused with 429 or left out of
// a bulk reply, connections dropped.
//
// Where the double is stricter than Elasticsearch it says so in its error
// ("estest: ..."): it does not auto-create an index no template matches,
// and it refuses a bulk body sent as application/json.
//
// Everything is in memory. The package imports only the standard library,
// so it can serve any client.
package estest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// Server is the double. Its methods are safe for concurrent use.
type Server struct {
	// URL is the base URL of the server, such as http://127.0.0.1:PORT.
	URL string

	srv *httptest.Server

	mu            sync.Mutex
	omitProduct   bool
	refuse        bool
	version       string
	refreshEvery  time.Duration
	policies      map[string]json.RawMessage
	components    map[string]*component
	templates     map[string]*indexTemplate
	indices       map[string]*index // by data stream or index name
	seq           int64
	bulkFaults    []int
	searchFaults  []int
	itemFaults    map[string]*itemFault
	requests      []Request
	dataStreamGen map[string]int
}

// Request is one request the server received.
type Request struct {
	Method string
	Path   string
	Query  url.Values
	Header http.Header
	Body   []byte
}

type itemFault struct {
	status int
	drop   bool
	times  int // < 0: always
}

// NewServer starts a double on 127.0.0.1 and stops it when the test ends.
func NewServer(t testing.TB) *Server {
	s := &Server{
		version:       "8.19.7",
		refreshEvery:  time.Second,
		policies:      map[string]json.RawMessage{},
		components:    map[string]*component{},
		templates:     map[string]*indexTemplate{},
		indices:       map[string]*index{},
		itemFaults:    map[string]*itemFault{},
		dataStreamGen: map[string]int{},
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL
	t.Cleanup(s.Close)
	return s
}

// Close stops the server; connections to it are refused from then on.
func (s *Server) Close() { s.srv.Close() }

// OmitProductHeader makes replies lack X-Elastic-Product, as a proxy or a
// server that is not Elasticsearch would.
func (s *Server) OmitProductHeader(omit bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.omitProduct = omit
}

// SetVersion changes the version GET / reports (default 8.19.7).
func (s *Server) SetVersion(v string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.version = v
}

// RefuseConnections makes the server drop every request without a reply
// (the client sees its connection closed), until called with false.
func (s *Server) RefuseConnections(refuse bool) {
	s.mu.Lock()
	s.refuse = refuse
	s.mu.Unlock()
	if refuse {
		s.srv.CloseClientConnections()
	}
}

// FailBulk makes the next n bulk requests fail as a whole with status:
// 429 (es_rejected_execution_exception), 503 (unavailable_shards_exception)
// or any other 4xx/5xx.
func (s *Server) FailBulk(n, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.bulkFaults = append(s.bulkFaults, status)
	}
}

// FailSearch makes the next n searches fail as a whole with status.
func (s *Server) FailSearch(n, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.searchFaults = append(s.searchFaults, status)
	}
}

// FailItem makes the next times bulk items with this _id fail with status
// (429 gives es_rejected_execution_exception, as a full write queue does;
// 5xx an unavailable_shards_exception); times < 0 fails them always. The
// item is not executed.
func (s *Server) FailItem(id string, times, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.itemFaults[id] = &itemFault{status: status, times: times}
}

// DropItem leaves the next times bulk items with this _id out of the bulk
// reply, unexecuted; times < 0 drops them always.
func (s *Server) DropItem(id string, times int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.itemFaults[id] = &itemFault{drop: true, times: times}
}

// SetRefreshInterval sets how long a document written without a refresh
// takes to become searchable (default 1s, Elasticsearch's default).
func (s *Server) SetRefreshInterval(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refreshEvery = d
}

// Requests returns the requests received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// Policy returns a lifecycle policy as it was put.
func (s *Server) Policy(name string) (json.RawMessage, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.policies[name]
	return p, ok
}

// ComponentTemplate returns a component template as it was put.
func (s *Server) ComponentTemplate(name string) (json.RawMessage, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.components[name]
	if !ok {
		return nil, false
	}
	return c.raw, true
}

// IndexTemplate returns an index template as it was put.
func (s *Server) IndexTemplate(name string) (json.RawMessage, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.templates[name]
	if !ok {
		return nil, false
	}
	return t.raw, true
}

// DataStreams lists the data streams, sorted.
func (s *Server) DataStreams() []string { return s.names(true) }

// Indices lists the regular indices, sorted.
func (s *Server) Indices() []string { return s.names(false) }

func (s *Server) names(dataStreams bool) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for n, ix := range s.indices {
		if ix.dataStream == dataStreams {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

// Doc returns the source of a document, searchable or not yet.
func (s *Server) Doc(target, id string) (json.RawMessage, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ix, ok := s.indices[target]
	if !ok {
		return nil, false
	}
	d, ok := ix.byID[id]
	if !ok {
		return nil, false
	}
	return d.source, true
}

// Count returns how many documents a data stream or index holds.
func (s *Server) Count(target string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ix, ok := s.indices[target]; ok {
		return len(ix.docs)
	}
	return 0
}

// Mapping returns the type a data stream or index maps a field to ("" when
// unmapped), after dynamic mapping.
func (s *Server) Mapping(target, field string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	ix, ok := s.indices[target]
	if !ok {
		return ""
	}
	if ft, ok := ix.mapping.fields[field]; ok {
		return ft.typ
	}
	if ix.mapping.objects[field] {
		return "object"
	}
	return ""
}

// esError is an Elasticsearch error reply.
type esError struct {
	Status int
	Type   string
	Reason string
	Cause  *esError
}

func (e *esError) causedBy(typ, reason string) *esError {
	e.Cause = &esError{Type: typ, Reason: reason}
	return e
}

func (e *esError) object() map[string]any {
	o := map[string]any{"type": e.Type, "reason": e.Reason}
	if e.Cause != nil {
		o["caused_by"] = e.Cause.object()
	}
	return o
}

func badRequest(typ, format string, args ...any) *esError {
	return &esError{Status: 400, Type: typ, Reason: fmt.Sprintf(format, args...)}
}

// notImplemented refuses what the double does not do, loudly.
func notImplemented(format string, args ...any) *esError {
	return badRequest("illegal_argument_exception", "estest: "+format+" is not supported by the double", args...)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Header: r.Header.Clone(), Body: body})
	if s.refuse {
		if hj, ok := w.(http.Hijacker); ok {
			if c, _, err := hj.Hijack(); err == nil {
				c.Close()
				return
			}
		}
		panic(http.ErrAbortHandler)
	}
	if !s.omitProduct {
		w.Header().Set("X-Elastic-Product", "Elasticsearch")
	}
	status, reply, err := s.route(r, body)
	if err != nil {
		status = err.Status
		root := err
		for root.Cause != nil {
			root = root.Cause
		}
		reply = map[string]any{
			"error":  mergeMaps(map[string]any{"root_cause": []any{map[string]any{"type": root.Type, "reason": root.Reason}}}, err.object()),
			"status": err.Status,
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_ = json.NewEncoder(w).Encode(reply)
	}
}

func mergeMaps(a, b map[string]any) map[string]any {
	for k, v := range b {
		a[k] = v
	}
	return a
}

// route dispatches a request. Every handler names the query parameters it
// understands; any other is refused, as Elasticsearch refuses an
// unrecognized parameter.
func (s *Server) route(r *http.Request, body []byte) (int, any, *esError) {
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if parts[0] == "" {
		parts = nil
	}
	m := r.Method
	switch {
	case len(parts) == 0 && (m == http.MethodGet || m == http.MethodHead):
		if err := params(r, nil); err != nil {
			return 0, nil, err
		}
		return 200, s.info(), nil
	case len(parts) == 3 && parts[0] == "_ilm" && parts[1] == "policy" && m == http.MethodPut:
		if err := params(r, []string{"master_timeout", "timeout"}); err != nil {
			return 0, nil, err
		}
		if err := jsonBody(r, body); err != nil {
			return 0, nil, err
		}
		return s.putPolicy(parts[2], body)
	case len(parts) == 2 && parts[0] == "_component_template" && m == http.MethodPut:
		if err := params(r, []string{"master_timeout", "create", "cause"}); err != nil {
			return 0, nil, err
		}
		if err := jsonBody(r, body); err != nil {
			return 0, nil, err
		}
		return s.putComponent(parts[1], body, r.URL.Query().Get("create") == "true")
	case len(parts) == 2 && parts[0] == "_index_template" && m == http.MethodPut:
		if err := params(r, []string{"master_timeout", "create", "cause"}); err != nil {
			return 0, nil, err
		}
		if err := jsonBody(r, body); err != nil {
			return 0, nil, err
		}
		return s.putIndexTemplate(parts[1], body, r.URL.Query().Get("create") == "true")
	case len(parts) == 1 && parts[0] == "_bulk" && (m == http.MethodPost || m == http.MethodPut):
		if err := params(r, []string{"refresh"}); err != nil {
			return 0, nil, err
		}
		if len(s.bulkFaults) > 0 {
			st := s.bulkFaults[0]
			s.bulkFaults = s.bulkFaults[1:]
			return 0, nil, faultError(st)
		}
		return s.bulk(r, body)
	case (len(parts) == 1 && parts[0] == "_search" || len(parts) == 2 && parts[1] == "_search") && (m == http.MethodPost || m == http.MethodGet):
		if err := params(r, []string{"ignore_unavailable", "allow_no_indices", "allow_partial_search_results"}); err != nil {
			return 0, nil, err
		}
		if len(body) > 0 {
			if err := jsonBody(r, body); err != nil {
				return 0, nil, err
			}
		}
		if len(s.searchFaults) > 0 {
			st := s.searchFaults[0]
			s.searchFaults = s.searchFaults[1:]
			return 0, nil, faultError(st)
		}
		target := "_all"
		if len(parts) == 2 {
			target = parts[0]
		}
		return s.search(r, target, body)
	}
	if target, id, ok := docPath(r); ok {
		switch m {
		case http.MethodGet, http.MethodHead:
			return s.getDoc(r, target, id)
		case http.MethodPut, http.MethodPost:
			return s.indexDoc(r, target, id, body)
		}
	}
	if m == http.MethodDelete || len(parts) == 3 && parts[0] == "_cat" {
		return s.routeAdmin(r, parts)
	}
	return 0, nil, badRequest("illegal_argument_exception", "estest: no handler for [%s] [%s]: the double does not implement it", m, r.URL.Path)
}

// routeAdmin dispatches the deletions and the listing a cleanup uses.
func (s *Server) routeAdmin(r *http.Request, parts []string) (int, any, *esError) {
	if len(parts) == 3 && parts[0] == "_cat" && parts[1] == "indices" && r.Method == http.MethodGet {
		if err := params(r, []string{"format", "h"}); err != nil {
			return 0, nil, err
		}
		return s.catIndices(r, parts[2])
	}
	if err := params(r, []string{"master_timeout", "timeout"}); err != nil {
		return 0, nil, err
	}
	switch {
	case len(parts) == 2 && parts[0] == "_data_stream":
		return s.deleteDataStreams(parts[1])
	case len(parts) == 2 && parts[0] == "_index_template":
		return s.deleteIndexTemplate(parts[1])
	case len(parts) == 2 && parts[0] == "_component_template":
		return s.deleteComponent(parts[1])
	case len(parts) == 3 && parts[0] == "_ilm" && parts[1] == "policy":
		return s.deletePolicy(parts[2])
	case len(parts) == 1 && !strings.HasPrefix(parts[0], "_"):
		return s.deleteIndices(parts[0])
	}
	return 0, nil, badRequest("illegal_argument_exception", "estest: no handler for [%s] [%s]: the double does not implement it", r.Method, r.URL.Path)
}

// faultError is the reply of an injected whole-request failure.
func faultError(status int) *esError {
	switch status {
	case http.StatusTooManyRequests:
		return &esError{Status: status, Type: "es_rejected_execution_exception", Reason: "rejected execution of coordinating operation [estest fault]"}
	case http.StatusServiceUnavailable:
		return &esError{Status: status, Type: "unavailable_shards_exception", Reason: "[estest][0] primary shard is not active (estest fault)"}
	}
	return &esError{Status: status, Type: "exception", Reason: fmt.Sprintf("estest fault with status %d", status)}
}

// params refuses query parameters the handler does not understand.
func params(r *http.Request, allowed []string) *esError {
	for k := range r.URL.Query() {
		switch k {
		case "pretty", "human", "error_trace":
			continue
		}
		if !slices.Contains(allowed, k) {
			return badRequest("illegal_argument_exception", "request [%s] contains unrecognized parameter: [%s] (estest implements %v)", r.URL.Path, k, allowed)
		}
	}
	return nil
}

// jsonBody requires a JSON body with a JSON Content-Type.
func jsonBody(r *http.Request, body []byte) *esError {
	ct := r.Header.Get("Content-Type")
	mt, _, _ := strings.Cut(ct, ";")
	switch strings.TrimSpace(strings.ToLower(mt)) {
	case "application/json", "application/vnd.elasticsearch+json":
	default:
		return &esError{Status: http.StatusNotAcceptable, Type: "media_type_header_exception", Reason: fmt.Sprintf("Content-Type header [%s] is not supported", ct)}
	}
	if !json.Valid(body) {
		return badRequest("x_content_parse_exception", "[1:1] the request body is not valid JSON")
	}
	if t := bytes.TrimSpace(body); len(t) == 0 || t[0] != '{' {
		return badRequest("parse_exception", "request body must be a JSON object")
	}
	return nil
}

func (s *Server) info() map[string]any {
	return map[string]any{
		"name":         "estest",
		"cluster_name": "estest",
		"cluster_uuid": "estest-cluster-uuid",
		"version": map[string]any{
			"number":                              s.version,
			"build_flavor":                        "default",
			"build_type":                          "estest",
			"lucene_version":                      "9.12.0",
			"minimum_wire_compatibility_version":  "7.17.0",
			"minimum_index_compatibility_version": "7.0.0",
		},
		"tagline": "You Know, for Search",
	}
}

// decodeObject decodes a JSON object keeping numbers exact.
func decodeObject(b []byte) (map[string]any, *esError) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil || m == nil {
		return nil, badRequest("x_content_parse_exception", "[1:1] expected a JSON object")
	}
	return m, nil
}
