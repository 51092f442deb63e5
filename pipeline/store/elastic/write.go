package elastic

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/elastic/go-elasticsearch/v8/esapi"

	"github.com/egovsoc/egovsoc/pipeline/event"
	"github.com/egovsoc/egovsoc/pipeline/store"
)

// Write sends the documents with the bulk API, as "create" actions: a data
// stream accepts nothing else, and create-if-absent is what the contract
// asks for events and checks (a document whose id is stored already is
// left as it is, and its 409 version_conflict counts as stored). An alert
// whose create meets a stored alert is merged into it afterwards (see
// mergeAlerts): read, merged in Go, and written back only if the stored
// alert has not changed meanwhile.
//
// Why the plain bulk API and not esutil.BulkIndexer: Write must answer for
// every document of its batch, synchronously. The BulkIndexer is built for
// a stream — it flushes on its own schedule, drops items missing from a
// reply without calling either callback, and retries only whole requests.
// Here the reply is read item by item: Elasticsearch answers every item in
// request order, and items are matched by id in that order, so a reply
// that lacks an item cannot shift the others onto the wrong documents.
// Each document gets exactly one outcome:
//
//   - 201 created: stored;
//   - 409 version_conflict_engine_exception: an event or check is stored
//     already; an alert is merged into the stored one, and mergeAlerts
//     gives its outcome;
//   - 429, es_rejected_execution_exception, 408 or 5xx, or an item the
//     reply does not hold: sent again, up to Config.ItemRetries times with
//     Config.Backoff between rounds, then an error wrapping
//     store.ErrUnavailable;
//   - 403 (a cluster block: read-only, disk full, or a missing privilege)
//     and 404 (index auto-creation refused): the cluster's state, not the
//     document's fault, so ErrUnavailable without resending;
//   - any other status (400 document_parsing_exception, a mapping
//     conflict, a field limit): store.ErrRejected, for that document only.
//
// A whole request that fails (no connection, or a 429 or 5xx status after
// the transport's own retries) makes Write return an error wrapping
// store.ErrUnavailable when nothing of the batch was stored yet; once
// something was, the documents not stored get ErrUnavailable each.
func (s *Store) Write(ctx context.Context, docs []store.Doc) ([]error, error) {
	results := make([]error, len(docs))
	pending := make([]*item, 0, len(docs))
	for i := range docs {
		it, err := s.prepare(&docs[i])
		if err != nil {
			results[i] = err
			continue
		}
		it.doc = i
		pending = append(pending, it)
	}
	stored := false
	var merges []*item // alerts whose id is stored: to merge
	for round := 0; len(pending) > 0; round++ {
		if round > 0 {
			if err := sleep(ctx, s.cfg.Backoff(round)); err != nil {
				if !stored {
					return nil, fmt.Errorf("elastic: write: %w: %w", store.ErrUnavailable, err)
				}
				for _, it := range slices.Concat(merges, pending) {
					results[it.doc] = it.fail(store.ErrUnavailable, err.Error())
				}
				return results, nil
			}
		}
		var again []*item
		for start := 0; start < len(pending); {
			end, body := s.chunk(pending, start)
			chunk := pending[start:end]
			if err := s.bulk(ctx, chunk, body); err != nil {
				if !stored {
					return nil, err
				}
				// The cluster is failing as a whole: what was not stored
				// yet is unavailable, and sending more would not help.
				for _, it := range slices.Concat(merges, again, pending[start:]) {
					results[it.doc] = it.fail(store.ErrUnavailable, err.Error())
				}
				return results, nil
			}
			start = end
			for _, it := range chunk {
				switch {
				case it.stored:
					stored = true
				case it.conflict:
					merges = append(merges, it)
				case it.retry && round < s.cfg.ItemRetries:
					again = append(again, it)
				case it.retry:
					results[it.doc] = it.fail(store.ErrUnavailable, it.reason)
				default:
					results[it.doc] = it.err
				}
			}
		}
		if len(again) > 0 {
			s.cfg.Logger.Warn().Int("documents", len(again)).Int("round", round+1).
				Str("reason", again[0].reason).Msg("elasticsearch refused documents for now; sending them again")
		}
		pending = again
	}
	s.mergeAlerts(ctx, merges, results)
	return results, nil
}

// item is one document on its way to the cluster.
type item struct {
	doc    int // index in the batch
	kind   store.Kind
	id     string
	index  string       // the data stream or index it goes to
	alert  *event.Alert // an alert as rendered in source, for a merge
	action []byte       // the bulk action line, with its newline
	source []byte       // the document, with its newline

	// The outcome of the last attempt.
	stored   bool
	conflict bool // an alert whose id is stored: to merge
	retry    bool
	reason   string
	err      error
}

func (it *item) fail(sentinel error, reason string) error {
	return fmt.Errorf("elastic: store %s %s: %w: %s", it.kind, it.id, sentinel, reason)
}

// maxIDBytes is the longest _id Elasticsearch takes.
const maxIDBytes = 512

// prepare checks a document and renders its bulk lines. The organisation
// stored is always Doc.Org (the organisation of the topic), never what the
// payload claims, and @timestamp is Doc.Time when that is set.
func (s *Store) prepare(d *store.Doc) (*item, error) {
	it := &item{kind: d.Kind, id: d.ID}
	reject := func(format string, args ...any) error {
		return it.fail(store.ErrRejected, fmt.Sprintf(format, args...))
	}
	switch {
	case d.ID == "":
		return nil, reject("the document has no id")
	case len(d.ID) > maxIDBytes || !utf8.ValidString(d.ID):
		return nil, reject("the id is not UTF-8 of at most %d bytes", maxIDBytes)
	case d.Org == "" || !utf8.ValidString(d.Org):
		return nil, reject("the document has no organisation, or it is not UTF-8")
	}
	var index string
	var src []byte
	switch d.Kind {
	case store.KindEvent:
		if d.Event == nil {
			return nil, reject("kind event without an event")
		}
		var err error
		src, err = eventSource(d)
		if err != nil {
			return nil, reject("%v", err)
		}
		index = dataStreamName(s.cfg.Prefix, store.KindEvent)
	case store.KindAlert:
		if d.Alert == nil {
			return nil, reject("kind alert without an alert")
		}
		a := *d.Alert
		switch a.ID {
		case "":
			a.ID = d.ID
		case d.ID:
		default:
			return nil, reject("the alert's id %q is not the document's", a.ID)
		}
		a.Org = d.Org
		if !d.Time.IsZero() {
			a.Time = d.Time
		}
		if err := a.Validate(); err != nil {
			return nil, reject("%v", err)
		}
		if err := checkTimestamp(a.Time); err != nil {
			return nil, reject("%v", err)
		}
		// The index is chosen by a time that never changes for an
		// alert id, so every emission of a folded alert (whose @timestamp
		// moves) meets the stored one in the same index.
		anchor := a.FirstSeen
		if anchor.IsZero() {
			anchor = a.Time
		} else if err := checkTimestamp(anchor); err != nil {
			return nil, reject("event.start: %v", err)
		}
		var err error
		if src, err = json.Marshal(&a); err != nil {
			return nil, reject("%v", err)
		}
		index = alertIndex(s.cfg.Prefix, anchor)
		it.alert = &a
	case store.KindCheck:
		if d.Check == nil {
			return nil, reject("kind check without a check")
		}
		c := *d.Check
		switch c.ID {
		case "":
			c.ID = d.ID
		case d.ID:
		default:
			return nil, reject("the check's id %q is not the document's", c.ID)
		}
		c.Org = d.Org
		if !d.Time.IsZero() {
			c.Time = d.Time
		}
		if err := c.Validate(); err != nil {
			return nil, reject("%v", err)
		}
		if err := checkTimestamp(c.Time); err != nil {
			return nil, reject("%v", err)
		}
		var err error
		if src, err = json.Marshal(&c); err != nil {
			return nil, reject("%v", err)
		}
		index = dataStreamName(s.cfg.Prefix, store.KindCheck)
	default:
		return nil, reject("unknown kind %d", d.Kind)
	}
	action := make([]byte, 0, len(index)+len(d.ID)+36)
	action = append(action, `{"create":{"_index":`...)
	action = appendString(action, index)
	action = append(action, `,"_id":`...)
	action = appendString(action, d.ID)
	it.action = append(action, "}}\n"...)
	it.source = append(src, '\n')
	it.index = index
	return it, nil
}

// eventSource renders an event as it was written, with @timestamp set to
// Doc.Time when that differs, and the store's own egovsoc_store object
// (organisation and id) added at the end. The caller's event is not
// modified: a stamp goes on a copy.
func eventSource(d *store.Doc) ([]byte, error) {
	e := d.Event
	// The fields the store owns cannot come from the sender. (Another
	// field under egovsoc_store, written as a dotted key, is refused by
	// the cluster: the object's mapping is strict.)
	for _, f := range reservedFields {
		if e.Has(f) {
			return nil, fmt.Errorf("the field %s is reserved for the store", f)
		}
	}
	src := e.AppendJSON(nil)
	t, err := e.Time()
	switch {
	case d.Time.IsZero() && err != nil:
		return nil, err
	case d.Time.IsZero():
	case err != nil || !t.Equal(d.Time):
		t = d.Time
		c, err := event.Decode(src)
		if err != nil {
			return nil, err
		}
		if err := c.Set(event.FieldTimestamp, event.String(d.Time.UTC().Format(time.RFC3339Nano))); err != nil {
			return nil, err
		}
		src = c.AppendJSON(nil)
	}
	if err := checkTimestamp(t); err != nil {
		return nil, err
	}
	if len(src) < 2 || src[0] != '{' || src[len(src)-1] != '}' {
		return nil, fmt.Errorf("the event is not a JSON object")
	}
	out := make([]byte, 0, len(src)+len(d.Org)+len(d.ID)+48)
	out = append(out, src[:len(src)-1]...)
	if len(src) > 2 {
		out = append(out, ',')
	}
	out = append(out, `"`+storeObject+`":{"org":`...)
	out = appendString(out, d.Org)
	out = append(out, `,"id":`...)
	out = appendString(out, d.ID)
	return append(out, "}}"...), nil
}

var reservedFields = []event.Field{
	event.Path(storeObject), event.Path(storeOrg), event.Path(storeID), event.Path(textField),
}

// appendString writes s, valid UTF-8, as a JSON string.
func appendString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		default:
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		start = i + 1
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// checkTimestamp refuses what a date_nanos @timestamp cannot hold.
func checkTimestamp(t time.Time) error {
	if t.Before(time.Unix(0, 0)) || t.After(time.Unix(0, 1<<63-1)) {
		return fmt.Errorf("@timestamp %s is outside 1970 to 2262", t.UTC().Format(time.RFC3339Nano))
	}
	return nil
}

// chunk gathers the items from start that fit in one bulk body (at least
// one), and returns where it stopped and the body.
func (s *Store) chunk(items []*item, start int) (int, []byte) {
	var body []byte
	end := start
	for end < len(items) {
		it := items[end]
		n := len(it.action) + len(it.source)
		if end > start && len(body)+n > s.cfg.MaxBulkBytes {
			break
		}
		body = append(body, it.action...)
		body = append(body, it.source...)
		end++
	}
	return end, body
}

type bulkReply struct {
	Items []map[string]bulkItem `json:"items"`
}

type bulkItem struct {
	ID     string   `json:"_id"`
	Status int      `json:"status"`
	Error  *esError `json:"error"`
}

// bulk sends one bulk request and records the outcome of each of its
// items. It returns an error only when the request as a whole failed.
func (s *Store) bulk(ctx context.Context, items []*item, body []byte) error {
	req := esapi.BulkRequest{
		Body:    bytes.NewReader(body),
		Refresh: s.cfg.Refresh,
		// esapi sends application/json unless told; a bulk body is NDJSON.
		Header: http.Header{"Content-Type": {"application/x-ndjson"}},
	}
	var reply bulkReply
	if err := s.do(ctx, fmt.Sprintf("bulk of %d documents", len(items)), req, &reply); err != nil {
		return err
	}
	// Elasticsearch answers every item, in order. A reply that does not
	// (a proxy that truncated it, a bug) is matched by id, in order, so
	// that the items it does answer still count; the others are resent.
	byID := make(map[string][]bulkItem, len(reply.Items))
	for _, ri := range reply.Items {
		res, ok := ri["create"]
		if !ok || len(ri) != 1 {
			continue
		}
		byID[res.ID] = append(byID[res.ID], res)
	}
	for _, it := range items {
		it.stored, it.conflict, it.retry, it.reason, it.err = false, false, false, "", nil
		q := byID[it.id]
		if len(q) == 0 {
			it.retry, it.reason = true, "missing from the bulk reply"
			continue
		}
		byID[it.id] = q[1:]
		s.outcome(it, q[0])
	}
	return nil
}

// outcome classifies the reply to one item.
func (s *Store) outcome(it *item, res bulkItem) {
	reason := fmt.Sprintf("status %d: %s", res.Status, res.Error.String())
	typ := ""
	if res.Error != nil {
		typ = res.Error.Type
	}
	switch {
	case res.Status >= 200 && res.Status < 300 && res.Error == nil:
		it.stored = true
	case res.Status == http.StatusConflict && typ == "version_conflict_engine_exception" && it.kind == store.KindAlert:
		it.conflict = true
	case res.Status == http.StatusConflict && typ == "version_conflict_engine_exception":
		it.stored = true
	case res.Status == http.StatusTooManyRequests, res.Status == http.StatusRequestTimeout,
		res.Status >= 500, typ == "es_rejected_execution_exception":
		it.retry, it.reason = true, reason
	case res.Status == http.StatusForbidden, res.Status == http.StatusNotFound,
		res.Status == http.StatusUnauthorized:
		it.err = it.fail(store.ErrUnavailable, reason)
	default:
		it.err = it.fail(store.ErrRejected, reason)
	}
}

// sleep waits d, or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
