package elastic

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/elastic/go-elasticsearch/v8/esapi"

	"github.com/egovsoc/egovsoc/pipeline/event"
	"github.com/egovsoc/egovsoc/pipeline/store"
)

// Every read is one _search. The query is a bool of filters (no scoring:
// the order is always the sort), built from values only — a field name a
// caller chose is checked (validField) and, like every value, travels as a
// JSON string, never spliced into text. The scope becomes a terms filter on
// the kind's organisation field (orgField); an empty scope sees nothing and
// sends no request.

// filters is the filter clause of a bool query under construction.
type filters []object

func (f *filters) add(q object) { *f = append(*f, q) }

// scope adds the tenancy filter. It returns false when the scope sees
// nothing, so the caller answers empty without asking the cluster.
func (f *filters) scope(k store.Kind, sc store.Scope) bool {
	if sc.Empty() {
		return false
	}
	if !sc.All() {
		f.add(object{"terms": object{orgField(k): sc.Orgs()}})
	}
	return true
}

func (f *filters) terms(field string, values []string) {
	if len(values) > 0 {
		f.add(object{"terms": object{field: values}})
	}
}

// timeRange adds @timestamp in [from, to); a zero bound is open.
func (f *filters) timeRange(from, to time.Time) {
	if from.IsZero() && to.IsZero() {
		return
	}
	r := object{"format": "strict_date_optional_time_nanos"}
	if !from.IsZero() {
		r["gte"] = from.UTC().Format(time.RFC3339Nano)
	}
	if !to.IsZero() {
		r["lt"] = to.UTC().Format(time.RFC3339Nano)
	}
	f.add(object{"range": object{"@timestamp": r}})
}

// text adds a match of every word of text, in any of the kind's text
// fields (copied into one at index time).
func (f *filters) text(text string) {
	if text != "" {
		f.add(object{"match": object{textField: object{"query": text, "operator": "and"}}})
	}
}

// userTerms adds the caller's exact-match filters, after checking them.
func (f *filters) userTerms(terms []store.Term) error {
	for _, t := range terms {
		if err := validField(t.Field); err != nil {
			return err
		}
		if len(t.Values) == 0 {
			return fmt.Errorf("elastic: filter on %q has no values: %w", t.Field, store.ErrInvalid)
		}
		typ, known := event.Schema[t.Field]
		if t.Field == "message" || t.Field == "error.message" {
			return fmt.Errorf("elastic: %q is text and cannot be filtered exactly; search its words: %w", t.Field, store.ErrInvalid)
		}
		for _, v := range t.Values {
			if err := validValue(typ, known, v); err != nil {
				return fmt.Errorf("elastic: filter on %q: %w: %w", t.Field, store.ErrInvalid, err)
			}
		}
		f.terms(t.Field, t.Values)
	}
	return nil
}

// validField accepts an ECS-style dotted field name: letters, digits, '_',
// '@' and '-', in segments separated by single dots. Wildcards, spaces,
// quotes and the like never reach the cluster.
func validField(field string) error {
	bad := func(why string) error {
		return fmt.Errorf("elastic: field %q %s: %w", field, why, store.ErrInvalid)
	}
	if field == "" || len(field) > 256 {
		return bad("is empty or too long")
	}
	if field == "@timestamp" || field == storeObject || strings.HasPrefix(field, storeObject+".") || field[0] == '_' {
		return bad("cannot be filtered")
	}
	seg := 0
	for i := 0; i < len(field); i++ {
		c := field[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_', c == '@', c == '-':
			seg++
		case c == '.':
			if seg == 0 {
				return bad("has an empty segment")
			}
			seg = 0
		default:
			return bad(fmt.Sprintf("has the character %q", c))
		}
	}
	if seg == 0 {
		return bad("has an empty segment")
	}
	return nil
}

// validValue checks a filter value against the field's type, when the
// schema knows it, so that a typo is an invalid query and not a 400 from
// the cluster.
func validValue(typ event.Type, known bool, v string) error {
	if !known {
		return nil
	}
	switch typ {
	case event.TypeIP:
		if _, err := netip.ParseAddr(v); err != nil {
			return fmt.Errorf("%q is not an IP address", v)
		}
	case event.TypeLong:
		if _, err := strconv.ParseInt(v, 10, 64); err != nil {
			return fmt.Errorf("%q is not an integer", v)
		}
	case event.TypeFloat:
		if f, err := strconv.ParseFloat(v, 64); err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return fmt.Errorf("%q is not a number", v)
		}
	case event.TypeBool:
		if v != "true" && v != "false" {
			return fmt.Errorf("%q is not true or false", v)
		}
	case event.TypeDate:
		return errors.New("a date is selected with From and To")
	}
	return nil
}

func boolQuery(f filters) object {
	if len(f) == 0 {
		return object{"match_all": object{}}
	}
	return object{"bool": object{"filter": []object(f)}}
}

// The sorts. Every one ends in keys that are unique per document, so that
// search_after neither skips nor repeats a document whose sort values tie
// with another's (_id cannot be sorted on in Elasticsearch 8): event.id is
// the document id of alerts and checks, egovsoc_store.id that of events.
var (
	timeDesc = object{"@timestamp": object{"order": "desc", "numeric_type": "date_nanos"}}
	timeAsc  = object{"@timestamp": object{"order": "asc", "numeric_type": "date_nanos"}}
	sorts    = map[string][]object{
		"events":          {timeDesc, {storeOrg: object{"order": "desc"}}, {storeID: object{"order": "desc"}}},
		"alerts.newest":   {timeDesc, {"event.id": object{"order": "desc"}}},
		"alerts.oldest":   {timeAsc, {"event.id": object{"order": "asc"}}},
		"alerts.severity": {{"event.severity": object{"order": "desc"}}, timeDesc, {"event.id": object{"order": "desc"}}},
	}
)

// cursor is the decoded form of a Next cursor: the sort it belongs to and
// the sort values of the last document of the page.
type cursor struct {
	Sort  string            `json:"s"`
	After []json.RawMessage `json:"a"`
}

func encodeCursor(sort string, after []json.RawMessage) string {
	b, _ := json.Marshal(cursor{Sort: sort, After: after})
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeCursor checks that a cursor belongs to the sort and holds one
// integer or string per sort key.
func decodeCursor(s, sort string) ([]json.RawMessage, error) {
	bad := func(why string) error {
		return fmt.Errorf("elastic: cursor %s: %w", why, store.ErrInvalid)
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, bad("is not base64")
	}
	var c cursor
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, bad("is malformed")
	}
	if c.Sort != sort {
		return nil, bad("belongs to another order")
	}
	if len(c.After) != len(sorts[sort]) {
		return nil, bad("is malformed")
	}
	for _, v := range c.After {
		var x any
		d := json.NewDecoder(bytes.NewReader(v))
		d.UseNumber()
		if d.Decode(&x) != nil {
			return nil, bad("is malformed")
		}
		switch x := x.(type) {
		case string:
		case json.Number:
			if _, err := strconv.ParseInt(string(x), 10, 64); err != nil {
				return nil, bad("is malformed")
			}
		default:
			return nil, bad("is malformed")
		}
	}
	return c.After, nil
}

type searchHit struct {
	ID     string            `json:"_id"`
	Source json.RawMessage   `json:"_source"`
	Sort   []json.RawMessage `json:"sort"`
}

type searchReply struct {
	TimedOut bool `json:"timed_out"`
	Shards   struct {
		Failed int `json:"failed"`
	} `json:"_shards"`
	Hits struct {
		Total struct {
			Value    int64  `json:"value"`
			Relation string `json:"relation"`
		} `json:"total"`
		Hits []searchHit `json:"hits"`
	} `json:"hits"`
	Aggregations map[string]json.RawMessage `json:"aggregations"`
}

// search runs one search on the indices of kind k. A failure to parse the
// query (400) is an invalid query; partial results are refused, as a page
// that silently lacks a shard's documents would be wrong.
func (s *Store) search(ctx context.Context, what string, k store.Kind, body object) (*searchReply, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("elastic: %s: %w", what, err)
	}
	yes, no := true, false
	req := esapi.SearchRequest{
		Index:                     []string{searchTarget(s.cfg.Prefix, k)},
		Body:                      bytes.NewReader(b),
		IgnoreUnavailable:         &yes,
		AllowNoIndices:            &yes,
		AllowPartialSearchResults: &no,
	}
	var reply searchReply
	if err := s.do(ctx, what, req, &reply); err != nil {
		var se *StatusError
		if errors.As(err, &se) && se.Status == 400 {
			return nil, fmt.Errorf("%w: %w", store.ErrInvalid, err)
		}
		return nil, err
	}
	if reply.TimedOut || reply.Shards.Failed > 0 {
		return nil, fmt.Errorf("elastic: %s: %w: %d shards failed or timed out", what, store.ErrUnavailable, reply.Shards.Failed)
	}
	return &reply, nil
}

// page runs a paged search: limit+1 documents are asked for, so that the
// last page is known to be the last and has no Next.
func (s *Store) page(ctx context.Context, what string, k store.Kind, f filters, sortName string, limit int, after string) ([]searchHit, int64, string, error) {
	body := object{
		"query":            boolQuery(f),
		"sort":             sorts[sortName],
		"size":             limit + 1,
		"track_total_hits": true,
	}
	if k == store.KindEvent {
		body["_source"] = object{"excludes": []string{storeObject}}
	}
	if after != "" {
		a, err := decodeCursor(after, sortName)
		if err != nil {
			return nil, 0, "", err
		}
		body["search_after"] = a
	}
	reply, err := s.search(ctx, what, k, body)
	if err != nil {
		return nil, 0, "", err
	}
	hits := reply.Hits.Hits
	next := ""
	if len(hits) > limit {
		hits = hits[:limit]
		last := hits[limit-1]
		if len(last.Sort) != len(sorts[sortName]) {
			return nil, 0, "", fmt.Errorf("elastic: %s: %w: a hit came without its sort values", what, store.ErrUnavailable)
		}
		next = encodeCursor(sortName, last.Sort)
	}
	return hits, reply.Hits.Total.Value, next, nil
}

// Alerts returns a page of the alerts within the scope that match q.
func (s *Store) Alerts(ctx context.Context, scope store.Scope, q store.AlertQuery) (store.AlertPage, error) {
	var f filters
	if !f.scope(store.KindAlert, scope.Restrict(q.Orgs)) {
		return store.AlertPage{}, nil
	}
	sortName := "alerts.newest"
	switch q.Sort {
	case "", store.SortNewest:
	case store.SortOldest:
		sortName = "alerts.oldest"
	case store.SortSeverity:
		sortName = "alerts.severity"
	default:
		return store.AlertPage{}, fmt.Errorf("elastic: unknown alert order %q: %w", q.Sort, store.ErrInvalid)
	}
	f.terms("egovsoc.alert.status", q.Status)
	if q.MinSeverity != "" {
		r := q.MinSeverity.Rank()
		if r == 0 {
			return store.AlertPage{}, fmt.Errorf("elastic: unknown severity %q: %w", q.MinSeverity, store.ErrInvalid)
		}
		f.add(object{"range": object{"event.severity": object{"gte": r}}})
	}
	f.terms("rule.id", q.RuleIDs)
	f.terms("event.provider", q.Detectors)
	f.timeRange(q.From, q.To)
	f.text(q.Text)
	hits, total, next, err := s.page(ctx, "search alerts", store.KindAlert, f, sortName, store.PageLimit(q.Limit), q.After)
	if err != nil {
		return store.AlertPage{}, err
	}
	page := store.AlertPage{Alerts: make([]event.Alert, 0, len(hits)), Total: total, Next: next}
	for _, h := range hits {
		var a event.Alert
		if err := json.Unmarshal(h.Source, &a); err != nil {
			return store.AlertPage{}, fmt.Errorf("elastic: search alerts: stored alert %s: %w", h.ID, err)
		}
		page.Alerts = append(page.Alerts, a)
	}
	return page, nil
}

// Alert returns one alert by id, if it is within the scope.
func (s *Store) Alert(ctx context.Context, scope store.Scope, id string) (event.Alert, error) {
	var f filters
	if id == "" || !f.scope(store.KindAlert, scope) {
		return event.Alert{}, fmt.Errorf("elastic: alert %q: %w", id, store.ErrNotFound)
	}
	f.add(object{"term": object{"event.id": id}})
	reply, err := s.search(ctx, "get alert", store.KindAlert, object{"query": boolQuery(f), "size": 1})
	if err != nil {
		return event.Alert{}, err
	}
	if len(reply.Hits.Hits) == 0 {
		return event.Alert{}, fmt.Errorf("elastic: alert %q: %w", id, store.ErrNotFound)
	}
	var a event.Alert
	if err := json.Unmarshal(reply.Hits.Hits[0].Source, &a); err != nil {
		return event.Alert{}, fmt.Errorf("elastic: stored alert %s: %w", id, err)
	}
	return a, nil
}

// Events returns a page of the events within the scope that match q,
// newest first.
func (s *Store) Events(ctx context.Context, scope store.Scope, q store.EventQuery) (store.EventPage, error) {
	var f filters
	if !f.scope(store.KindEvent, scope.Restrict(q.Orgs)) {
		return store.EventPage{}, nil
	}
	if err := f.userTerms(q.Terms); err != nil {
		return store.EventPage{}, err
	}
	f.timeRange(q.From, q.To)
	f.text(q.Text)
	hits, total, next, err := s.page(ctx, "search events", store.KindEvent, f, "events", store.PageLimit(q.Limit), q.After)
	if err != nil {
		return store.EventPage{}, err
	}
	page := store.EventPage{Hits: make([]store.Hit, 0, len(hits)), Total: total, Next: next}
	for _, h := range hits {
		// The sort values are @timestamp in nanoseconds and the
		// organisation the store was told, which saves decoding the
		// source.
		var ns int64
		var org string
		if len(h.Sort) < 2 || json.Unmarshal(h.Sort[0], &ns) != nil || json.Unmarshal(h.Sort[1], &org) != nil {
			return store.EventPage{}, fmt.Errorf("elastic: search events: %w: hit %s came without its sort values", store.ErrUnavailable, h.ID)
		}
		page.Hits = append(page.Hits, store.Hit{
			ID:     h.ID,
			Org:    org,
			Time:   time.Unix(0, ns).UTC(),
			Source: []byte(h.Source),
		})
	}
	return page, nil
}

// Histogram counts the documents of one kind in fixed buckets aligned to
// the Unix epoch, covering [From, To): the first bucket starts at From
// rounded down to a multiple of Interval, the last is the one that holds
// the instant before To. Empty buckets are present with count 0.
func (s *Store) Histogram(ctx context.Context, scope store.Scope, q store.HistogramQuery) ([]store.Bucket, error) {
	if err := validKind(q.Kind); err != nil {
		return nil, err
	}
	switch {
	case q.Interval <= 0 || q.Interval%time.Millisecond != 0:
		return nil, fmt.Errorf("elastic: histogram interval %v: want a positive whole number of milliseconds: %w", q.Interval, store.ErrInvalid)
	case q.From.IsZero() || q.To.IsZero() || !q.From.Before(q.To):
		return nil, fmt.Errorf("elastic: histogram needs From before To: %w", store.ErrInvalid)
	}
	iv := q.Interval.Milliseconds()
	first := floorDiv(q.From.UnixNano(), q.Interval.Nanoseconds()) * iv // ms
	last := floorDiv(q.To.UnixNano()-1, q.Interval.Nanoseconds()) * iv  // ms
	if n := (last-first)/iv + 1; n > store.MaxBuckets {
		return nil, fmt.Errorf("elastic: histogram of %d buckets, more than %d: %w", n, store.MaxBuckets, store.ErrInvalid)
	}
	buckets := make([]store.Bucket, 0, (last-first)/iv+1)
	for t := first; t <= last; t += iv {
		buckets = append(buckets, store.Bucket{Start: time.UnixMilli(t).UTC()})
	}
	var f filters
	if !f.scope(q.Kind, scope.Restrict(q.Orgs)) {
		return buckets, nil
	}
	if err := f.userTerms(q.Terms); err != nil {
		return nil, err
	}
	f.timeRange(q.From, q.To)
	msDate := func(ms int64) string { return time.UnixMilli(ms).UTC().Format("2006-01-02T15:04:05.000Z") }
	body := object{
		"query":            boolQuery(f),
		"size":             0,
		"track_total_hits": false,
		"aggs": object{"histogram": object{"date_histogram": object{
			"field":           "@timestamp",
			"fixed_interval":  strconv.FormatInt(iv, 10) + "ms",
			"offset":          "0ms",
			"min_doc_count":   0,
			"extended_bounds": object{"min": msDate(first), "max": msDate(last)},
		}}},
	}
	reply, err := s.search(ctx, "histogram of "+kindPlural(q.Kind), q.Kind, body)
	if err != nil {
		return nil, err
	}
	var agg struct {
		Buckets []struct {
			Key      int64 `json:"key"`
			DocCount int64 `json:"doc_count"`
		} `json:"buckets"`
	}
	if raw, ok := reply.Aggregations["histogram"]; ok {
		if err := json.Unmarshal(raw, &agg); err != nil {
			return nil, fmt.Errorf("elastic: histogram of %s: %w: %w", kindPlural(q.Kind), store.ErrUnavailable, err)
		}
	}
	for _, b := range agg.Buckets {
		if b.Key < first || b.Key > last || (b.Key-first)%iv != 0 {
			if b.DocCount == 0 {
				continue
			}
			return nil, fmt.Errorf("elastic: histogram of %s: %w: bucket %d is outside the range asked for", kindPlural(q.Kind), store.ErrUnavailable, b.Key)
		}
		buckets[(b.Key-first)/iv].Count = b.DocCount
	}
	return buckets, nil
}

// maxOrgBuckets bounds CountByOrg when the scope is every organisation.
const maxOrgBuckets = 10000

// CountByOrg counts the documents of one kind per organisation, with
// @timestamp in [from, to) (a zero bound is open).
func (s *Store) CountByOrg(ctx context.Context, scope store.Scope, kind store.Kind, from, to time.Time) (map[string]int64, error) {
	if err := validKind(kind); err != nil {
		return nil, err
	}
	out := map[string]int64{}
	var f filters
	if !f.scope(kind, scope) {
		return out, nil
	}
	f.timeRange(from, to)
	size := maxOrgBuckets
	if !scope.All() {
		size = min(len(scope.Orgs()), maxOrgBuckets)
	}
	body := object{
		"query":            boolQuery(f),
		"size":             0,
		"track_total_hits": false,
		"aggs": object{"orgs": object{"terms": object{
			"field": orgField(kind),
			"size":  size,
		}}},
	}
	reply, err := s.search(ctx, "count "+kindPlural(kind)+" by organisation", kind, body)
	if err != nil {
		return nil, err
	}
	var agg struct {
		SumOtherDocCount int64 `json:"sum_other_doc_count"`
		Buckets          []struct {
			Key      string `json:"key"`
			DocCount int64  `json:"doc_count"`
		} `json:"buckets"`
	}
	if raw, ok := reply.Aggregations["orgs"]; ok {
		if err := json.Unmarshal(raw, &agg); err != nil {
			return nil, fmt.Errorf("elastic: count by organisation: %w: %w", store.ErrUnavailable, err)
		}
	}
	if agg.SumOtherDocCount > 0 {
		return nil, fmt.Errorf("elastic: count by organisation: more than %d organisations", size)
	}
	for _, b := range agg.Buckets {
		if b.DocCount > 0 {
			out[b.Key] = b.DocCount
		}
	}
	return out, nil
}

func validKind(k store.Kind) error {
	switch k {
	case store.KindEvent, store.KindAlert, store.KindCheck:
		return nil
	}
	return fmt.Errorf("elastic: unknown kind %d: %w", k, store.ErrInvalid)
}

// floorDiv divides rounding towards minus infinity.
func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}
