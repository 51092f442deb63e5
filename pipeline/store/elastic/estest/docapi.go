package estest

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The single-document APIs: GET /<index>/_doc/<id> (the get API) and
// PUT or POST /<index>/_doc/<id> (the index API), with the optimistic
// concurrency control of if_seq_no and if_primary_term. Their replies are
// Elasticsearch's:
//
//	GET, found:      200 {"_index","_id","_version","_seq_no","_primary_term","found":true,"_source"}
//	GET, no such id: 404 {"_index","_id","found":false}
//	GET, no index:   404 index_not_found_exception
//	index:           201 (created) or 200 (updated) {"_index","_id","_version","result","_shards","_seq_no","_primary_term"}
//	stale if_seq_no: 409 version_conflict_engine_exception
//
// A GET is real-time: it sees the latest version written, refreshed or
// not, unless realtime=false.

// docPath splits /<index>/_doc/<id> with each part unescaped (an id may
// hold any character), or reports that the path is not one.
func docPath(r *http.Request) (target, id string, ok bool) {
	parts := strings.Split(strings.TrimPrefix(r.URL.EscapedPath(), "/"), "/")
	if len(parts) != 3 || parts[1] != "_doc" || parts[0] == "" || parts[2] == "" {
		return "", "", false
	}
	target, err1 := url.PathUnescape(parts[0])
	id, err2 := url.PathUnescape(parts[2])
	return target, id, err1 == nil && err2 == nil
}

// docParams refuses parameters the handler does not understand: those
// Elasticsearch knows but the double does not implement as such, and any
// other as Elasticsearch does.
func docParams(r *http.Request, implemented, notImplementedHere []string) *esError {
	if err := params(r, append(slices.Clone(implemented), notImplementedHere...)); err != nil {
		return err
	}
	for k := range r.URL.Query() {
		if slices.Contains(notImplementedHere, k) {
			return notImplemented("the parameter [%s] of [%s]", k, r.URL.Path)
		}
	}
	return nil
}

// boolParam reads a boolean parameter; "" (present without a value) is
// true, as Elasticsearch takes it.
func boolParam(r *http.Request, name string, def bool) (bool, *esError) {
	q := r.URL.Query()
	if !q.Has(name) {
		return def, nil
	}
	switch v := q.Get(name); v {
	case "", "true":
		return true, nil
	case "false":
		return false, nil
	default:
		return false, badRequest("illegal_argument_exception", "Failed to parse value [%s] as only [true] or [false] are allowed.", v)
	}
}

// getDoc serves the get API.
func (s *Server) getDoc(r *http.Request, target, id string) (int, any, *esError) {
	if err := docParams(r, []string{"realtime", "refresh", "_source"},
		[]string{"preference", "routing", "stored_fields", "version", "version_type", "_source_includes", "_source_excludes", "force_synthetic_source"}); err != nil {
		return 0, nil, err
	}
	realtime, err := boolParam(r, "realtime", true)
	if err != nil {
		return 0, nil, err
	}
	refresh, err := boolParam(r, "refresh", false)
	if err != nil {
		return 0, nil, err
	}
	withSource, err := boolParam(r, "_source", true)
	if err != nil {
		return 0, nil, notImplemented("[_source] other than true or false")
	}
	ix, ok := s.indices[target]
	if !ok {
		return 0, nil, indexNotFound(target)
	}
	if ix.dataStream {
		return 0, nil, notImplemented("a GET by id on the data stream [%s] (name its backing index)", target)
	}
	now := time.Now()
	if refresh {
		refreshNow(ix, now)
	}
	d := ix.byID[id]
	if d != nil && !realtime {
		d = d.searchable(now)
	}
	if d == nil {
		return http.StatusNotFound, map[string]any{"_index": ix.backing, "_id": id, "found": false}, nil
	}
	reply := map[string]any{
		"_index":        ix.backing,
		"_id":           id,
		"_version":      d.version,
		"_seq_no":       d.seqNo,
		"_primary_term": primaryTerm,
		"found":         true,
	}
	if withSource {
		reply["_source"] = d.source
	}
	return http.StatusOK, reply, nil
}

// indexDoc serves the index API.
func (s *Server) indexDoc(r *http.Request, target, id string, body []byte) (int, any, *esError) {
	if err := docParams(r, []string{"if_seq_no", "if_primary_term", "op_type", "refresh"},
		[]string{"pipeline", "routing", "timeout", "version", "version_type", "wait_for_active_shards", "require_alias", "require_data_stream", "include_source_on_error"}); err != nil {
		return 0, nil, err
	}
	if err := jsonBody(r, body); err != nil {
		return 0, nil, err
	}
	q := r.URL.Query()
	refresh := q.Get("refresh")
	switch refresh {
	case "", "false", "true", "wait_for":
	default:
		return 0, nil, badRequest("illegal_argument_exception", "Unknown value for refresh: [%s].", refresh)
	}
	op := q.Get("op_type")
	switch op {
	case "":
		op = "index"
	case "index", "create":
	default:
		return 0, nil, badRequest("illegal_argument_exception", "opType must be 'create' or 'index', found: [%s]", op)
	}
	var c cas
	seqSet, termSet := q.Has("if_seq_no"), q.Has("if_primary_term")
	if seqSet {
		n, err := strconv.ParseInt(q.Get("if_seq_no"), 10, 64)
		if err != nil {
			return 0, nil, badRequest("illegal_argument_exception", "Failed to parse long parameter [if_seq_no] with value [%s]", q.Get("if_seq_no"))
		}
		if n < 0 {
			return 0, nil, badRequest("illegal_argument_exception", "sequence numbers must be non negative. got [%d].", n)
		}
		c.seqNo = n
	}
	if termSet {
		n, err := strconv.ParseInt(q.Get("if_primary_term"), 10, 64)
		if err != nil {
			return 0, nil, badRequest("illegal_argument_exception", "Failed to parse long parameter [if_primary_term] with value [%s]", q.Get("if_primary_term"))
		}
		if n < 0 {
			return 0, nil, badRequest("illegal_argument_exception", "primary term must be non negative. got [%d]", n)
		}
		c.term = n
	}
	// A primary term of 0 is no primary term.
	switch {
	case seqSet && c.term == 0:
		return 0, nil, badRequest("action_request_validation_exception", "Validation Failed: 1: ifSeqNo is set, but primary term is [0];")
	case !seqSet && c.term != 0:
		return 0, nil, badRequest("action_request_validation_exception", "Validation Failed: 1: ifSeqNo is unassigned, but primary term is [%d];", c.term)
	case seqSet && op == "create":
		return 0, nil, badRequest("action_request_validation_exception", "Validation Failed: 1: create operations do not support compare and set. use index instead;")
	case len(id) > 512:
		return 0, nil, badRequest("action_request_validation_exception", "Validation Failed: 1: id [%s...] is too long, must be no longer than 512 bytes but was: %d;", id[:20], len(id))
	}
	c.set = seqSet
	now := time.Now()
	visible := now.Add(s.refreshEvery)
	if refresh == "true" || refresh == "wait_for" {
		visible = now
	}
	reply, status, ix, err := s.write(op, target, id, body, visible, c)
	if err != nil {
		return 0, nil, err
	}
	if refresh == "true" {
		refreshNow(ix, now)
		reply["forced_refresh"] = true
	}
	return status, reply, nil
}

// indexNotFound is the 404 of a read of an index that does not exist.
func indexNotFound(name string) *esError {
	return &esError{Status: http.StatusNotFound, Type: "index_not_found_exception", Reason: "no such index [" + name + "]"}
}
