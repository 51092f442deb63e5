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
			refreshNow(ix, now)
		}
	}
	return 200, map[string]any{"took": 1, "errors": errors, "items": items}, nil
}

// execute runs one create or index action of a bulk request and returns
// its item.
func (s *Server) execute(kind, target, id string, src []byte, visible time.Time) (map[string]any, *index) {
	reply, status, ix, err := s.write(kind, target, id, src, visible, cas{})
	if err != nil {
		at := target
		if ix != nil {
			at = ix.backing
		}
		return map[string]any{"_index": at, "_id": id, "status": err.Status, "error": err.object()}, ix
	}
	reply["status"] = status
	return reply, ix
}

// cas is the compare-and-set condition of a write (if_seq_no and
// if_primary_term), when set.
type cas struct {
	set         bool
	seqNo, term int64
}

// write runs one create or index of src under id into the data stream or
// index target, creating target from its template first if need be, as
// Elasticsearch does. An index over an existing document replaces it (a new
// _version and _seq_no) when c, if set, names the current _seq_no and
// _primary_term; any other write to an existing id, or a conditional one to
// a missing id, is a 409 version_conflict_engine_exception. It returns the
// reply of the write and its status (201 created, 200 updated), or the
// error; ix is the index written or refused, nil when there is none.
func (s *Server) write(kind, target, id string, src []byte, visible time.Time, c cas) (reply map[string]any, status int, ix *index, err *esError) {
	ix, ok := s.indices[target]
	if !ok {
		if ix, err = s.autoCreate(target, kind == "create"); err != nil {
			return nil, 0, nil, err
		}
	}
	if ix.dataStream && kind != "create" {
		return nil, 0, ix, badRequest("illegal_argument_exception", "only write ops with an op_type of create are allowed in data streams")
	}
	if id == "" {
		var b [15]byte
		_, _ = rand.Read(b[:])
		id = base64.RawURLEncoding.EncodeToString(b[:])
	}
	conflict := func(format string, args ...any) *esError {
		return &esError{Status: http.StatusConflict, Type: "version_conflict_engine_exception", Reason: fmt.Sprintf("[%s]: version conflict, ", id) + fmt.Sprintf(format, args...)}
	}
	old, exists := ix.byID[id]
	switch {
	case exists && kind == "create":
		return nil, 0, ix, conflict("document already exists (current version [%d])", old.version)
	case c.set && !exists:
		return nil, 0, ix, conflict("required seqNo [%d], primary term [%d]. but no document was found", c.seqNo, c.term)
	case c.set && (old.seqNo != c.seqNo || c.term != primaryTerm):
		return nil, 0, ix, conflict("required seqNo [%d], primary term [%d]. current document has seqNo [%d] and primary term [%d]", c.seqNo, c.term, old.seqNo, primaryTerm)
	}
	m := ix.mapping.clone()
	fields, err := m.indexDoc(id, src)
	if err != nil {
		return nil, 0, ix, err
	}
	if ix.dataStream && len(fields["@timestamp"]) == 0 {
		return nil, 0, ix, docError("data stream timestamp field [@timestamp] is missing")
	}
	if ix.dataStream && len(fields["@timestamp"]) > 1 {
		return nil, 0, ix, docError("data stream timestamp field [@timestamp] encountered multiple values")
	}
	ix.mapping = m
	d := &doc{id: id, source: slices.Clone(json.RawMessage(src)), fields: fields, seqNo: s.seq, version: 1, visibleAt: visible}
	s.seq++
	result, status := "created", http.StatusCreated
	if exists {
		// Searches go on seeing what they saw until this version is
		// visible; the document keeps its place in the index.
		d.version = old.version + 1
		if prev := old.searchable(time.Now()); prev != nil {
			p := *prev
			p.prev = nil
			d.prev = &p
		}
		*old = *d
		d = old
		result, status = "updated", http.StatusOK
	} else {
		ix.docs = append(ix.docs, d)
		ix.byID[id] = d
	}
	return map[string]any{
		"_index":        ix.backing,
		"_id":           id,
		"_version":      d.version,
		"result":        result,
		"_shards":       map[string]any{"total": 2, "successful": 1, "failed": 0},
		"_seq_no":       d.seqNo,
		"_primary_term": primaryTerm,
	}, status, ix, nil
}

// refreshNow makes everything written to ix so far searchable, as a forced
// refresh does.
func refreshNow(ix *index, now time.Time) {
	for _, d := range ix.docs {
		if d.visibleAt.After(now) {
			d.visibleAt = now
		}
		d.prev = nil
	}
}
