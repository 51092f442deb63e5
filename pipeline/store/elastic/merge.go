package elastic

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/elastic/go-elasticsearch/v8/esapi"

	"github.com/egovsoc/egovsoc/pipeline/store"
)

// mergeAttempts bounds the rounds of read, merge and conditional write of
// one alert. A round fails only when another writer changed the alert
// between the read and the write, so every failed round is another
// writer's success.
const mergeAttempts = 5

// mergeAlerts merges the alerts of items, whose create met a stored alert of
// the same id, into the stored alerts, and sets their results. It uses
// optimistic concurrency control, not a script, so the merge is the one Go
// function both stores share (store.MergeAlertDoc). The emissions of one id
// in the batch are merged together, one read and at most one write a round:
//
//  1. GET the stored alert with its _seq_no and _primary_term (a real-time
//     get: it sees a write that is not refreshed yet);
//  2. merge the emissions into it, keeping as stored every field the merge
//     does not own (the status, any triage, fields this build does not
//     know);
//  3. if nothing changed, the alert is stored; otherwise index the merged
//     document with if_seq_no and if_primary_term, so that it replaces
//     only the version that was read;
//  4. on a 409 version_conflict_engine_exception another writer came in
//     between: back to 1, after Config.Backoff, at most mergeAttempts
//     rounds, then store.ErrUnavailable (write it again later).
//
// A read or write that fails gets store.ErrUnavailable or
// store.ErrRejected as a bulk item would; an alert stored for another
// organisation, or a stored document that is not a valid alert, gets
// store.ErrRejected. Alerts of different ids are merged one after another:
// a folding detector's re-emissions are a small part of a batch.
func (s *Store) mergeAlerts(ctx context.Context, items []*item, results []error) {
	type key struct{ index, id string }
	groups := map[key][]*item{}
	var order []key
	for _, it := range items {
		k := key{it.index, it.id}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], it)
	}
	for _, k := range order {
		err := s.mergeAlert(ctx, groups[k])
		for _, it := range groups[k] {
			results[it.doc] = err
		}
	}
}

// mergeAlert merges the emissions of one alert id (items, at least one)
// into the stored alert, and returns their result.
func (s *Store) mergeAlert(ctx context.Context, items []*item) error {
	first := items[0]
	for attempt := 1; ; attempt++ {
		cur, err := s.getDoc(ctx, first.index, first.id)
		if err != nil {
			return first.fail(sentinel(err), err.Error())
		}
		if !cur.Found {
			// Its create met it a moment ago: it was deleted since.
			return first.fail(store.ErrUnavailable, "the stored alert was gone when read back to merge")
		}
		doc, changed := []byte(cur.Source), false
		for _, it := range items {
			out, ch, err := store.MergeAlertDoc(doc, it.alert)
			if err != nil {
				return fmt.Errorf("elastic: store %s %s: %w", first.kind, first.id, err)
			}
			doc, changed = out, changed || ch
		}
		if !changed {
			return nil
		}
		err = s.putDoc(ctx, first.index, first.id, doc, *cur.SeqNo, *cur.PrimaryTerm)
		var se *StatusError
		switch {
		case err == nil:
			return nil
		case !errors.As(err, &se) || se.Status != http.StatusConflict || se.Type != "version_conflict_engine_exception":
			return first.fail(sentinel(err), err.Error())
		case attempt == mergeAttempts:
			s.cfg.Logger.Warn().Str("alert", first.id).Int("attempts", attempt).
				Msg("elasticsearch: other writers kept changing an alert while it was merged; it will be written again")
			return first.fail(store.ErrUnavailable, fmt.Sprintf("changed by another writer in each of %d attempts to merge it", attempt))
		}
		if err := sleep(ctx, s.cfg.Backoff(attempt)); err != nil {
			return first.fail(store.ErrUnavailable, err.Error())
		}
	}
}

// sentinel classifies a failed request about one document as a bulk item
// of the same status would be (see Write).
func sentinel(err error) error {
	var se *StatusError
	if !errors.As(err, &se) {
		return store.ErrUnavailable // no reply
	}
	switch {
	case se.Status == http.StatusTooManyRequests, se.Status == http.StatusRequestTimeout, se.Status >= 500,
		se.Status == http.StatusForbidden, se.Status == http.StatusNotFound, se.Status == http.StatusUnauthorized:
		return store.ErrUnavailable
	}
	return store.ErrRejected
}

// storedDoc is the reply of the get API.
type storedDoc struct {
	Found       bool            `json:"found"`
	SeqNo       *int64          `json:"_seq_no"`
	PrimaryTerm *int64          `json:"_primary_term"`
	Source      json.RawMessage `json:"_source"`
}

// getDoc reads a document by id, real-time, with its _seq_no and
// _primary_term. A document or index that is not there is Found false.
func (s *Store) getDoc(ctx context.Context, index, id string) (storedDoc, error) {
	what := "read alert " + id + " to merge"
	// The id is escaped: the client puts it into the path as it is.
	res, err := esapi.GetRequest{Index: index, DocumentID: url.PathEscape(id)}.Do(ctx, s.es)
	if err != nil {
		return storedDoc{}, requestError(what, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return storedDoc{}, fmt.Errorf("elastic: %s: read reply: %w: %w", what, store.ErrUnavailable, err)
	}
	if res.StatusCode == http.StatusNotFound {
		// {"found":false} for an id not there, an error for an index.
		var nf struct {
			Found *bool    `json:"found"`
			Error *esError `json:"error"`
		}
		if json.Unmarshal(raw, &nf) == nil &&
			(nf.Found != nil && !*nf.Found || nf.Error != nil && nf.Error.Type == "index_not_found_exception") {
			return storedDoc{}, nil
		}
	}
	if res.IsError() {
		res.Body = io.NopCloser(bytes.NewReader(raw))
		return storedDoc{}, replyError(what, res)
	}
	var d storedDoc
	if err := json.Unmarshal(raw, &d); err != nil {
		return storedDoc{}, fmt.Errorf("elastic: %s: read reply: %w: %w", what, store.ErrUnavailable, err)
	}
	if d.Found && (d.SeqNo == nil || d.PrimaryTerm == nil || len(d.Source) == 0) {
		return storedDoc{}, fmt.Errorf("elastic: %s: %w: the reply lacks _seq_no, _primary_term or _source", what, store.ErrUnavailable)
	}
	return d, nil
}

// putDoc indexes doc over the version of the document that has seqNo and
// primaryTerm; a 409 version_conflict_engine_exception says it is not the
// current version any more.
func (s *Store) putDoc(ctx context.Context, index, id string, doc []byte, seqNo, primaryTerm int64) error {
	sn, pt := int(seqNo), int(primaryTerm)
	req := esapi.IndexRequest{
		Index:         index,
		DocumentID:    url.PathEscape(id),
		Body:          bytes.NewReader(doc),
		IfSeqNo:       &sn,
		IfPrimaryTerm: &pt,
		Refresh:       s.cfg.Refresh,
	}
	return s.do(ctx, "write merged alert "+id, req, nil)
}
