package estest

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// bulk executes a _bulk request. The body must be NDJSON (Content-Type
// application/x-ndjson, or the versioned
// application/vnd.elasticsearch+x-ndjson) ending with a newline, of action
// and source line pairs. Items are executed in order and answered in
// order.
func (s *Server) bulk(r *http.Request, body []byte) (int, any, *esError) {
	ct := r.Header.Get("Content-Type")
	mt, _, _ := strings.Cut(ct, ";")
	switch strings.TrimSpace(strings.ToLower(mt)) {
	case "application/x-ndjson", "application/vnd.elasticsearch+x-ndjson":
	default:
		return 0, nil, &esError{Status: http.StatusNotAcceptable, Type: "media_type_header_exception",
			Reason: fmt.Sprintf("Content-Type header [%s] is not supported (estest: a bulk body is NDJSON, application/x-ndjson)", ct)}
	}
	refresh := r.URL.Query().Get("refresh")
	switch refresh {
	case "", "false", "true", "wait_for":
	default:
		return 0, nil, badRequest("illegal_argument_exception", "Unknown value for refresh: [%s].", refresh)
	}
	if len(body) == 0 {
		return 0, nil, badRequest("action_request_validation_exception", "Validation Failed: 1: no requests added;")
	}
	if body[len(body)-1] != '\n' {
		return 0, nil, badRequest("illegal_argument_exception", "The bulk request must be terminated by a newline [\\n]")
	}
	lines := bytes.Split(body[:len(body)-1], []byte("\n"))
	type op struct {
		kind   string
		index  string
		id     string
		source []byte
		line   int
	}
	var ops []op
	for i := 0; i < len(lines); i++ {
		line := bytes.TrimSpace(lines[i])
		if len(line) == 0 {
			continue // blank lines are skipped, as Elasticsearch does
		}
		act, err := decodeObject(line)
		if err != nil || len(act) != 1 {
			return 0, nil, badRequest("illegal_argument_exception", "Malformed action/metadata line [%d], expected START_OBJECT or END_OBJECT but found [VALUE_STRING]", i+1)
		}
		var o op
		o.line = i + 1
		for k, v := range act {
			o.kind = k
			meta, ok := v.(map[string]any)
			if !ok {
				return 0, nil, badRequest("illegal_argument_exception", "Malformed action/metadata line [%d], expected START_OBJECT but found [%T]", i+1, v)
			}
			for mk, mv := range meta {
				s, isStr := mv.(string)
				switch mk {
				case "_index":
					if !isStr {
						return 0, nil, badRequest("illegal_argument_exception", "Malformed action/metadata line [%d]: _index must be a string", i+1)
					}
					o.index = s
				case "_id":
					if !isStr {
						return 0, nil, badRequest("illegal_argument_exception", "Malformed action/metadata line [%d]: _id must be a string", i+1)
					}
					o.id = s
				case "routing", "if_seq_no", "if_primary_term", "version", "version_type", "pipeline", "require_alias", "dynamic_templates", "retry_on_conflict", "_source":
					return 0, nil, notImplemented("bulk action parameter [%s]", mk)
				default:
					return 0, nil, badRequest("illegal_argument_exception", "Action/metadata line [%d] contains an unknown parameter [%s]", i+1, mk)
				}
			}
		}
		switch o.kind {
		case "create", "index":
			if i+1 >= len(lines) {
				return 0, nil, badRequest("illegal_argument_exception", "Validation Failed: 1: source is missing for the %s action on line [%d];", o.kind, i+1)
			}
			i++
			o.source = lines[i]
		case "update", "delete":
			return 0, nil, notImplemented("bulk action [%s]", o.kind)
		default:
			return 0, nil, badRequest("illegal_argument_exception", "Malformed action/metadata line [%d], expected field [create], [delete], [index] or [update] but found [%s]", i+1, o.kind)
		}
		if o.index == "" {
			return 0, nil, badRequest("action_request_validation_exception", "Validation Failed: 1: index is missing;")
		}
		if len(o.id) > 512 {
			return 0, nil, badRequest("action_request_validation_exception", "Validation Failed: 1: id [%s...] is too long, must be no longer than 512 bytes but was: %d;", o.id[:20], len(o.id))
		}
		ops = append(ops, o)
	}
	if len(ops) == 0 {
		return 0, nil, badRequest("action_request_validation_exception", "Validation Failed: 1: no requests added;")
	}
	now := time.Now()
	visible := now.Add(s.refreshEvery)
	if refresh == "true" || refresh == "wait_for" {
		visible = now
	}
	items := make([]any, 0, len(ops))
	errors := false
	touched := map[*index]bool{}
	for _, o := range ops {
		if f, ok := s.itemFaults[o.id]; ok && o.id != "" && f.times != 0 {
			if f.times > 0 {
				f.times--
			}
			if f.drop {
				continue
			}
			errors = true
			e := faultError(f.status)
			items = append(items, map[string]any{o.kind: map[string]any{"_index": o.index, "_id": o.id, "status": f.status, "error": e.object()}})
			continue
		}
		res, ix := s.execute(o.kind, o.index, o.id, o.source, visible)
		if ix != nil {
			touched[ix] = true
		}
		if _, failed := res["error"]; failed {
			errors = true
		}
		items = append(items, map[string]any{o.kind: res})
	}
	if refresh == "true" {
		// A forced refresh makes everything pending in those indices
		// searchable.
		for ix := range touched {
			for _, d := range ix.docs {
				if d.visibleAt.After(now) {
					d.visibleAt = now
				}
			}
		}
	}
	return 200, map[string]any{"took": 1, "errors": errors, "items": items}, nil
}

// execute runs one create or index action.
func (s *Server) execute(kind, target, id string, src []byte, visible time.Time) (map[string]any, *index) {
	fail := func(e *esError, ix string) map[string]any {
		return map[string]any{"_index": ix, "_id": id, "status": e.Status, "error": e.object()}
	}
	ix, ok := s.indices[target]
	if !ok {
		var err *esError
		if ix, err = s.autoCreate(target, kind == "create"); err != nil {
			return fail(err, target), nil
		}
	}
	if ix.dataStream && kind != "create" {
		return fail(badRequest("illegal_argument_exception", "only write ops with an op_type of create are allowed in data streams"), target), ix
	}
	if id == "" {
		var b [15]byte
		_, _ = rand.Read(b[:])
		id = base64.RawURLEncoding.EncodeToString(b[:])
	}
	if _, exists := ix.byID[id]; exists {
		if kind == "create" {
			return fail(&esError{Status: 409, Type: "version_conflict_engine_exception",
				Reason: fmt.Sprintf("[%s]: version conflict, document already exists (current version [1])", id)}, ix.backing), ix
		}
		return fail(notImplemented("overwriting a document with [index]"), ix.backing), ix
	}
	m := ix.mapping.clone()
	fields, err := m.indexDoc(id, src)
	if err != nil {
		return fail(err, ix.backing), ix
	}
	if ix.dataStream && len(fields["@timestamp"]) == 0 {
		return fail(docError("data stream timestamp field [@timestamp] is missing"), ix.backing), ix
	}
	if ix.dataStream && len(fields["@timestamp"]) > 1 {
		return fail(docError("data stream timestamp field [@timestamp] encountered multiple values"), ix.backing), ix
	}
	ix.mapping = m
	s.seq++
	d := &doc{id: id, source: slices.Clone(json.RawMessage(src)), fields: fields, seqNo: s.seq, visibleAt: visible}
	ix.docs = append(ix.docs, d)
	ix.byID[id] = d
	return map[string]any{
		"_index":        ix.backing,
		"_id":           id,
		"_version":      1,
		"result":        "created",
		"_shards":       map[string]any{"total": 2, "successful": 1, "failed": 0},
		"_seq_no":       d.seqNo - 1,
		"_primary_term": 1,
		"status":        201,
	}, ix
}
