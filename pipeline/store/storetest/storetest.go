// Package storetest is the conformance suite of the store.Store contract. Every
// implementation (store/sqlite, store/elastic) runs the same suite from its own
// tests:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store {
//			s, err := sqlite.Open(t.Context(), sqlite.Options{Path: filepath.Join(t.TempDir(), "soc.db")})
//			if err != nil {
//				t.Fatal(err)
//			}
//			t.Cleanup(func() { s.Close() })
//			return s
//		})
//	}
//
// The suite tests only what the contract in package store promises, and
// nothing one implementation happens to do: it never sleeps, it expects a
// written document to be visible to reads as soon as Write returns, and its
// times are whole seconds, so a store that keeps milliseconds loses nothing.
//
// Where the contract leaves an order open, the suite fixes it as follows, and
// every implementation must agree:
//   - alerts with the same sort key are ordered by id, in the direction of the
//     time order: SortNewest is (@timestamp, id) descending, SortOldest is
//     (@timestamp, id) ascending, and SortSeverity is (severity, @timestamp,
//     id) descending, so SortOldest is exactly SortNewest reversed;
//   - events are newest first; the order of events with the same @timestamp is
//     not fixed, but paging must neither repeat nor skip one;
//   - the page holding the last match has Next "" (no trailing empty page);
//   - text search matches whole words, case-insensitively, every word
//     required; the suite's words are plain letters and digits, so it holds
//     for SQLite FTS5 (unicode61) and Elasticsearch's standard analyzer alike;
//   - histogram buckets start at multiples of Interval since the Unix epoch;
//     the first bucket is the one holding From, the last the one holding
//     To-1ns, and only documents in [From, To) are counted;
//   - a query with a zero From or To is not bounded on that side, except a
//     histogram, which needs both (and Interval > 0) or fails with ErrInvalid.
//
// The helpers (EventDoc, AlertDoc, CheckDoc, NewAlert, NewCheck, MustWrite)
// are exported so an implementation's own tests can build documents the same
// way.
//
// This package imports only the standard library, pipeline/event and
// pipeline/store.
package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/egovsoc/egovsoc/pipeline/event"
	"github.com/egovsoc/egovsoc/pipeline/store"
)

// Run runs the suite. Each subtest calls open for a fresh, empty store; open
// registers the store's cleanup with t.Cleanup and fails t if it cannot open.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	t.Run("Write", func(t *testing.T) { testWrite(t, open) })
	t.Run("Scope", func(t *testing.T) { testScope(t, open) })
	t.Run("Alerts", func(t *testing.T) { testAlerts(t, open) })
	t.Run("AlertMerge", func(t *testing.T) { testAlertMerge(t, open) })
	t.Run("Events", func(t *testing.T) { testEvents(t, open) })
	t.Run("Histogram", func(t *testing.T) { testHistogram(t, open) })
	t.Run("CountByOrg", func(t *testing.T) { testCountByOrg(t, open) })
	t.Run("Concurrency", func(t *testing.T) { testConcurrency(t, open) })
}

// T0 is the base time of the suite's documents. It is a multiple of an hour
// since the Unix epoch.
var T0 = time.Date(2025, time.March, 10, 8, 0, 0, 0, time.UTC)

// EventDoc decodes an ECS event and wraps it as a document of org. fields is a
// JSON object without @timestamp; EventDoc puts @timestamp first, set to at.
func EventDoc(t testing.TB, org, id string, at time.Time, fields string) store.Doc {
	t.Helper()
	body := strings.TrimSpace(fields)
	if !strings.HasPrefix(body, "{") {
		t.Fatalf("EventDoc %s: fields must be a JSON object, got %q", id, fields)
	}
	js := fmt.Sprintf(`{"@timestamp":%q`, at.UTC().Format(time.RFC3339Nano))
	if rest := strings.TrimSpace(body[1:]); rest != "}" {
		js += "," + rest
	} else {
		js += "}"
	}
	e, err := event.Decode([]byte(js))
	if err != nil {
		t.Fatalf("EventDoc %s: %v", id, err)
	}
	ts, err := e.Time()
	if err != nil {
		t.Fatalf("EventDoc %s: %v", id, err)
	}
	return store.Doc{Kind: store.KindEvent, ID: id, Org: org, Time: ts, Event: e}
}

// AlertDoc wraps an alert as a document.
func AlertDoc(a event.Alert) store.Doc {
	return store.Doc{Kind: store.KindAlert, ID: a.ID, Org: a.Org, Time: a.Time, Alert: &a}
}

// CheckDoc wraps a check as a document.
func CheckDoc(c event.Check) store.Doc {
	return store.Doc{Kind: store.KindCheck, ID: c.ID, Org: c.Org, Time: c.Time, Check: &c}
}

// NewAlert returns a valid open alert with every field filled in, raised by
// the Sigma rule "SSH brute force".
func NewAlert(org, id string, at time.Time, sev event.Severity) event.Alert {
	return event.Alert{
		ID:       id,
		Time:     at,
		Org:      org,
		Detector: "sigma",
		Rule: event.Rule{
			ID:          "r-ssh-brute",
			Name:        "SSH brute force",
			Version:     "3",
			Author:      "Florian Roth (Nextron Systems)",
			Description: "Many failed SSH logins from one source",
			Category:    "authentication",
			Ruleset:     "sigma-core",
			Reference:   "https://attack.mitre.org/techniques/T1110/",
			Tags:        []string{"attack.credential_access", "attack.t1110"},
		},
		Severity:  sev,
		Title:     "SSH brute force against web01",
		Status:    event.StatusOpen,
		Group:     map[string]string{"source.ip": "203.0.113.5", "host.name": "web01"},
		Count:     12,
		EventIDs:  []string{id + "-ev1", id + "-ev2"},
		FirstSeen: at.Add(-5 * time.Minute),
		LastSeen:  at,
		Created:   at.Add(2 * time.Second),
	}
}

// NewCheck returns a valid HTTP check of service from vantage, with its id
// derived as event.CheckID does.
func NewCheck(org, vantage, service, status string, at time.Time) event.Check {
	c := event.Check{
		Time:       at,
		Org:        org,
		Vantage:    vantage,
		Service:    service,
		Monitor:    "http",
		Target:     "https://" + service + ".gov.vn/",
		Status:     status,
		Duration:   120 * time.Millisecond,
		HTTPStatus: 200,
	}
	if status == event.CheckDown {
		c.HTTPStatus = 503
		c.Error = "503 Service Unavailable"
	}
	c.ID = event.CheckID(vantage, service, c.Monitor, at)
	return c
}

// MustWrite writes docs and fails the test unless every one is stored.
func MustWrite(t testing.TB, s store.Store, docs ...store.Doc) {
	t.Helper()
	res, err := s.Write(t.Context(), docs)
	if err != nil {
		t.Fatalf("Write %d docs: %v", len(docs), err)
	}
	if len(res) != len(docs) {
		t.Fatalf("Write %d docs: %d results", len(docs), len(res))
	}
	for i, err := range res {
		if err != nil {
			t.Fatalf("Write: doc %d (%s %s): %v", i, docs[i].Kind, docs[i].ID, err)
		}
	}
}

// wantErr fails t unless err wraps target.
func wantErr(t testing.TB, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: error %v, want one wrapping %v", what, err, target)
	}
}

func ctx(t testing.TB) context.Context { return t.Context() }

// counts returns CountByOrg over all time for every kind, within scope.
func counts(t testing.TB, s store.Store, scope store.Scope, kind store.Kind) map[string]int64 {
	t.Helper()
	m, err := s.CountByOrg(ctx(t), scope, kind, time.Time{}, time.Time{})
	if err != nil {
		t.Fatalf("CountByOrg(%s): %v", kind, err)
	}
	return m
}

// sameJSON reports whether two JSON documents are equal once decoded.
func sameJSON(a, b []byte) (bool, error) {
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		return false, err
	}
	if err := json.Unmarshal(b, &y); err != nil {
		return false, err
	}
	xb, _ := json.Marshal(x)
	yb, _ := json.Marshal(y)
	return string(xb) == string(yb), nil
}
