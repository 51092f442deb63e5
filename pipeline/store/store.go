// Package store defines the Store contract: where events, alerts and checks
// are written and how they are read back, always within the caller's scope of
// organisations. Implementations live in store/sqlite (the embedded default)
// and store/elastic (Elasticsearch 8); both pass the one conformance suite in
// store/storetest.
//
// This package imports only the standard library and pipeline/event.
package store

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/egovsoc/egovsoc/pipeline/event"
)

// Kind is the kind of a document.
type Kind uint8

// The kinds of document.
const (
	KindEvent Kind = iota + 1
	KindAlert
	KindCheck
)

func (k Kind) String() string {
	switch k {
	case KindEvent:
		return "event"
	case KindAlert:
		return "alert"
	case KindCheck:
		return "check"
	}
	return "unknown"
}

// Doc is one document to write. ID is deterministic, so writing the same
// document twice leaves one copy. Exactly one of Event, Alert or Check is set,
// matching Kind.
type Doc struct {
	Kind  Kind
	ID    string
	Org   string    // organisation that owns the document (from the topic)
	Time  time.Time // @timestamp
	Event *event.Event
	Alert *event.Alert
	Check *event.Check
}

// Errors a caller decides on.
var (
	// ErrUnavailable wraps failures that may pass: the store is down,
	// overloaded (429), read-only or full. Retry later, with backoff.
	ErrUnavailable = errors.New("store unavailable")
	// ErrRejected wraps a document the store will never accept as it is (a
	// mapping conflict, say). Retrying does not help; dead-letter it.
	ErrRejected = errors.New("document rejected")
	// ErrNotFound is returned when a document is not there, or not within
	// the caller's scope (the two are not told apart).
	ErrNotFound = errors.New("not found")
	// ErrInvalid wraps a query that is malformed (a bad cursor, an unknown
	// sort, a filter on a field that cannot be filtered).
	ErrInvalid = errors.New("invalid query")
)

// Scope is the set of organisations a caller may read. The zero Scope sees
// nothing: access is denied unless granted.
type Scope struct {
	all  bool
	orgs []string
}

// ScopeAll sees every organisation (the national centre).
func ScopeAll() Scope { return Scope{all: true} }

// ScopeOrgs sees the listed organisations only. Pass a subtree from the
// catalogue to let an agency see itself and what is beneath it.
func ScopeOrgs(orgs ...string) Scope {
	o := slices.Clone(orgs)
	slices.Sort(o)
	return Scope{orgs: slices.Compact(o)}
}

// All reports whether the scope sees every organisation.
func (s Scope) All() bool { return s.all }

// Orgs lists the organisations of a limited scope, sorted.
func (s Scope) Orgs() []string { return s.orgs }

// Allows reports whether org is within the scope.
func (s Scope) Allows(org string) bool {
	if s.all {
		return true
	}
	_, ok := slices.BinarySearch(s.orgs, org)
	return ok
}

// Restrict narrows the scope to the organisations asked for (a filter in a
// query). Asking for none leaves the scope as it is; asking only for
// organisations outside it gives a scope that sees nothing.
func (s Scope) Restrict(orgs []string) Scope {
	if len(orgs) == 0 {
		return s
	}
	var out []string
	for _, o := range orgs {
		if s.Allows(o) {
			out = append(out, o)
		}
	}
	return ScopeOrgs(out...)
}

// Empty reports whether the scope sees nothing.
func (s Scope) Empty() bool { return !s.all && len(s.orgs) == 0 }

// Term is an exact-match filter on an ECS field (keyword semantics).
// Several values are OR-ed; several terms are AND-ed.
type Term struct {
	Field  string
	Values []string
}

// AlertSort orders an alert query.
type AlertSort string

// The alert orders. The default is newest first.
const (
	SortNewest   AlertSort = "newest"
	SortOldest   AlertSort = "oldest"
	SortSeverity AlertSort = "severity" // most severe first, then newest
)

// AlertQuery selects alerts. Zero fields do not filter.
type AlertQuery struct {
	Orgs        []string // within the scope
	Status      []string
	MinSeverity event.Severity
	RuleIDs     []string
	Detectors   []string
	Text        string    // words that must all appear in the title or rule name
	From, To    time.Time // @timestamp in [From, To)
	Sort        AlertSort
	Limit       int    // page size; 0 means 50, at most MaxLimit
	After       string // the Next cursor of the previous page
}

// AlertPage is one page of alerts.
type AlertPage struct {
	Alerts []event.Alert
	Total  int64  // alerts matching the query, over all pages
	Next   string // cursor for the next page, "" at the end
}

// EventQuery selects events. Zero fields do not filter.
type EventQuery struct {
	Orgs     []string
	Terms    []Term
	Text     string // words that must all appear in the event's text (message and main keyword fields)
	From, To time.Time
	Limit    int
	After    string
}

// Hit is one event found, newest first.
type Hit struct {
	ID     string
	Org    string
	Time   time.Time
	Source []byte // the ECS document as stored
}

// EventPage is one page of events.
type EventPage struct {
	Hits  []Hit
	Total int64
	Next  string
}

// HistogramQuery counts documents of one kind in fixed time buckets.
type HistogramQuery struct {
	Kind     Kind
	Orgs     []string
	Terms    []Term // for events and checks
	From, To time.Time
	Interval time.Duration // bucket width; buckets are aligned to the Unix epoch
}

// Bucket is one time bucket. Empty buckets between From and To are present
// with Count 0.
type Bucket struct {
	Start time.Time
	Count int64
}

// MaxLimit bounds a page.
const MaxLimit = 1000

// MaxBuckets bounds a histogram.
const MaxBuckets = 2000

// Store keeps events, alerts and checks.
//
// Write stores a batch and reports a result per document: results[i] is nil
// when docs[i] is durably stored, or an error wrapping ErrUnavailable (retry
// it) or ErrRejected (never retry). A non-nil error from Write itself means
// nothing may be assumed stored; it wraps ErrUnavailable when retrying may
// help.
//
// Events and checks are created if absent: one whose id is already stored
// counts as stored and is left as it is, so a replay changes nothing. An
// alert whose id is already stored is merged into the stored alert, as
// MergeAlertDoc does: a folding detector emits one alert again with a higher
// count, later times and more event ids, and the store keeps the largest
// count, the latest @timestamp and last-seen time, the earliest first-seen
// time and the union of the event ids (bounded), and everything else as
// stored, so an analyst's triage survives both a replay and a re-emission.
// Merging is idempotent and order-insensitive (a replayed older emission
// changes nothing), and a merge that changes nothing writes nothing. The
// alert is then found by its new @timestamp. An alert whose id is stored
// for another organisation is rejected.
//
// Every read takes the caller's Scope and returns nothing outside it.
// Implementations are safe for concurrent use.
type Store interface {
	Write(ctx context.Context, docs []Doc) (results []error, err error)
	Alerts(ctx context.Context, scope Scope, q AlertQuery) (AlertPage, error)
	Alert(ctx context.Context, scope Scope, id string) (event.Alert, error)
	Events(ctx context.Context, scope Scope, q EventQuery) (EventPage, error)
	Histogram(ctx context.Context, scope Scope, q HistogramQuery) ([]Bucket, error)
	// CountByOrg counts documents of one kind per organisation with
	// @timestamp in [from, to); organisations with none are absent.
	CountByOrg(ctx context.Context, scope Scope, kind Kind, from, to time.Time) (map[string]int64, error)
	Close() error
}

// PageLimit applies the default and the bound to a requested page size.
func PageLimit(n int) int {
	switch {
	case n <= 0:
		return 50
	case n > MaxLimit:
		return MaxLimit
	}
	return n
}
