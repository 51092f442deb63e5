package storetest

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/egovsoc/egovsoc/pipeline/event"
	"github.com/egovsoc/egovsoc/pipeline/store"
)

// emission is the alert a folding detector emits for id after n matching
// events, the first at T0 and one a minute after another: count n, the
// time of the nth event, and the ids of the events so far.
func emission(org, id string, n int) event.Alert {
	at := T0.Add(time.Duration(n-1) * time.Minute)
	a := NewAlert(org, id, at, event.SeverityHigh)
	a.FirstSeen, a.LastSeen, a.Created = T0, at, T0.Add(time.Second)
	a.Count = n
	a.EventIDs = nil
	for k := 1; k <= n; k++ {
		a.EventIDs = append(a.EventIDs, fmt.Sprintf("%s-ev%d", id, k))
	}
	return a
}

// mustAlert reads one alert with ScopeAll, failing t if it is not there.
func mustAlert(t *testing.T, s store.Store, id string) event.Alert {
	t.Helper()
	a, err := s.Alert(ctx(t), store.ScopeAll(), id)
	if err != nil {
		t.Fatalf("Alert(%s): %v", id, err)
	}
	return a
}

func testAlertMerge(t *testing.T, open func(t *testing.T) store.Store) {
	// An alert raised, triaged, then emitted again as more events match.
	t.Run("Fold", func(t *testing.T) {
		s := open(t)
		first := emission("a", "al-fold", 1)
		// The contract has no update yet: the triage is an alert written
		// acknowledged, which re-emissions (all open) must not undo.
		first.Status = event.StatusAcknowledged
		MustWrite(t, s, AlertDoc(first))

		fifth := emission("a", "al-fold", 5)
		// What a detector would not change is kept as stored even if an
		// emission says otherwise.
		fifth.Title, fifth.Severity = "Renamed while folding", event.SeverityCritical
		fifth.Group = map[string]string{"source.ip": "198.51.100.1"}
		fifth.Matched = map[string]string{"event.outcome": "failure"}
		MustWrite(t, s, AlertDoc(fifth))

		want := first
		want.Count, want.Time, want.LastSeen = 5, fifth.Time, fifth.LastSeen
		want.EventIDs = fifth.EventIDs
		if got := mustAlert(t, s, "al-fold"); !sameAlert(got, want) {
			t.Errorf("after a re-emission with count 5 the alert is\n%+v\nwant\n%+v", got, want)
		}

		// An older emission, replayed, changes nothing.
		MustWrite(t, s, AlertDoc(emission("a", "al-fold", 3)))
		if got := mustAlert(t, s, "al-fold"); !sameAlert(got, want) {
			t.Errorf("after an older emission (count 3) the alert is\n%+v\nwant\n%+v", got, want)
		}

		// It is found once, by its new @timestamp, its stored status and
		// its stored words.
		for _, c := range []struct {
			name string
			q    store.AlertQuery
			want int64
		}{
			{"All", store.AlertQuery{}, 1},
			{"NewTime", store.AlertQuery{From: fifth.Time, To: fifth.Time.Add(time.Minute)}, 1},
			{"OldTime", store.AlertQuery{From: T0, To: T0.Add(time.Minute)}, 0},
			{"StoredStatus", store.AlertQuery{Status: []string{event.StatusAcknowledged}}, 1},
			{"EmittedStatus", store.AlertQuery{Status: []string{event.StatusOpen}}, 0},
			{"StoredSeverity", store.AlertQuery{MinSeverity: event.SeverityCritical}, 0},
			{"Text", store.AlertQuery{Text: "brute web01"}, 1},
			{"EmittedTitle", store.AlertQuery{Text: "renamed"}, 0},
		} {
			p, err := s.Alerts(ctx(t), store.ScopeAll(), c.q)
			if err != nil {
				t.Fatalf("Alerts %s: %v", c.name, err)
			}
			if p.Total != c.want || int64(len(p.Alerts)) != c.want {
				t.Errorf("Alerts %s: total %d, %d alerts; want %d", c.name, p.Total, len(p.Alerts), c.want)
			}
			for _, a := range p.Alerts {
				if !sameAlert(a, want) {
					t.Errorf("Alerts %s: %+v\nwant %+v", c.name, a, want)
				}
			}
		}
		if got := counts(t, s, store.ScopeAll(), store.KindAlert); !maps.Equal(got, map[string]int64{"a": 1}) {
			t.Errorf("alert counts %v, want one alert of a", got)
		}
		m, err := s.CountByOrg(ctx(t), store.ScopeAll(), store.KindAlert, fifth.Time, fifth.Time.Add(time.Second))
		if err != nil || m["a"] != 1 {
			t.Errorf("CountByOrg at the new @timestamp: %v, %v; want a: 1", m, err)
		}
		h, err := s.Histogram(ctx(t), store.ScopeAll(), store.HistogramQuery{Kind: store.KindAlert, From: T0, To: T0.Add(5 * time.Minute), Interval: time.Minute})
		if err != nil || len(h) != 5 || h[0].Count != 0 || h[4].Count != 1 {
			t.Errorf("alert histogram %v, %v; want the one alert in the last minute", h, err)
		}
	})

	// Every order of the same emissions gives the same alert, within one
	// batch and across batches.
	t.Run("OrderInsensitive", func(t *testing.T) {
		want := emission("a", "al-order", 4)
		for name, batches := range map[string][][]int{
			"Ascending":  {{1}, {2}, {3}, {4}},
			"Descending": {{4}, {3}, {2}, {1}},
			"OneBatch":   {{3, 1, 4, 2}},
			"Replayed":   {{2, 4}, {1, 3, 2, 4}, {4}},
		} {
			t.Run(name, func(t *testing.T) {
				s := open(t)
				first := batches[0][0]
				for _, b := range batches {
					var docs []store.Doc
					for _, n := range b {
						docs = append(docs, AlertDoc(emission("a", "al-order", n)))
					}
					MustWrite(t, s, docs...)
				}
				got := mustAlert(t, s, "al-order")
				w := want
				// The event ids are stored in the order they came.
				w.EventIDs = emission("a", "al-order", first).EventIDs
				for _, id := range want.EventIDs {
					if !slices.Contains(w.EventIDs, id) {
						w.EventIDs = append(w.EventIDs, id)
					}
				}
				if !sameAlert(got, w) {
					t.Errorf("alert is\n%+v\nwant\n%+v", got, w)
				}
				if c := counts(t, s, store.ScopeAll(), store.KindAlert); c["a"] != 1 {
					t.Errorf("alert counts %v, want one alert of a", c)
				}
			})
		}
	})

	t.Run("Fields", func(t *testing.T) {
		s := open(t)
		stored := emission("a", "al-fields", 98)
		stored.FirstSeen = T0.Add(time.Hour)
		MustWrite(t, s, AlertDoc(stored))

		// A zero FirstSeen is no earlier; a later one is not taken either.
		e := emission("a", "al-fields", 99)
		e.FirstSeen = time.Time{}
		MustWrite(t, s, AlertDoc(e))
		e = emission("a", "al-fields", 99)
		e.FirstSeen = T0.Add(2 * time.Hour)
		MustWrite(t, s, AlertDoc(e))
		if got := mustAlert(t, s, "al-fields"); !got.FirstSeen.Equal(stored.FirstSeen) {
			t.Errorf("FirstSeen %v, want the stored %v", got.FirstSeen, stored.FirstSeen)
		}
		// An earlier FirstSeen is.
		e.FirstSeen = T0.Add(30 * time.Minute)
		MustWrite(t, s, AlertDoc(e))
		if got := mustAlert(t, s, "al-fields"); !got.FirstSeen.Equal(e.FirstSeen) {
			t.Errorf("FirstSeen %v, want the earlier %v", got.FirstSeen, e.FirstSeen)
		}

		// Event ids are bounded, and the earliest kept: 99 stored by now,
		// then the first id of the next emission that is not stored, and
		// nothing after it.
		e = emission("a", "al-fields", 105)
		slices.Reverse(e.EventIDs) // ev105, ev104, …, ev1
		MustWrite(t, s, AlertDoc(e))
		got := mustAlert(t, s, "al-fields")
		wantIDs := append(slices.Clone(emission("a", "al-fields", 99).EventIDs), "al-fields-ev105")
		if !slices.Equal(got.EventIDs, wantIDs) {
			t.Errorf("%d event ids %v\nwant %d %v", len(got.EventIDs), got.EventIDs, len(wantIDs), wantIDs)
		}
		if got.Count != 105 {
			t.Errorf("count %d, want 105 (the count is not bounded)", got.Count)
		}
	})

	t.Run("OtherOrganisation", func(t *testing.T) {
		s := open(t)
		mine := emission("a", "al-shared-id", 2)
		MustWrite(t, s, AlertDoc(mine))
		theirs := emission("b", "al-shared-id", 7)
		res, err := s.Write(ctx(t), []store.Doc{AlertDoc(theirs), AlertDoc(emission("b", "al-b", 1))})
		if err != nil {
			t.Fatalf("Write: %v", err)
		}
		wantErr(t, "an alert whose id is stored for another organisation", res[0], store.ErrRejected)
		if res[1] != nil {
			t.Errorf("the other alert of the batch: %v", res[1])
		}
		if got := mustAlert(t, s, "al-shared-id"); !sameAlert(got, mine) {
			t.Errorf("the stored alert became\n%+v\nwant it kept\n%+v", got, mine)
		}
		if _, err := s.Alert(ctx(t), store.ScopeOrgs("b"), "al-shared-id"); err == nil {
			t.Error("organisation b sees organisation a's alert")
		}
	})

	// Emissions of one alert racing from several writers lose nothing:
	// the largest count and every event id end up stored.
	t.Run("Concurrent", func(t *testing.T) {
		s := open(t)
		const writers, emissions = 4, 6
		var wg sync.WaitGroup
		for w := range writers {
			wg.Go(func() {
				a := emission("a", "al-race", 1)
				a.EventIDs = nil
				for k := range emissions {
					a.Count = w*emissions + k + 1
					a.Time = T0.Add(time.Duration(a.Count) * time.Second)
					a.LastSeen = a.Time
					a.EventIDs = append(a.EventIDs, fmt.Sprintf("w%d-ev%d", w, k))
					doc := AlertDoc(a)
					doc.Alert.EventIDs = slices.Clone(a.EventIDs)
					// ErrUnavailable means "write it again" (a store may
					// give up on a contended document for now).
					for try := 0; ; try++ {
						res, err := s.Write(t.Context(), []store.Doc{doc})
						if err == nil && res[0] == nil {
							break
						}
						if err == nil {
							err = res[0]
						}
						if !errors.Is(err, store.ErrUnavailable) || try == 20 {
							t.Errorf("writer %d emission %d: %v", w, k, err)
							return
						}
					}
				}
			})
		}
		wg.Wait()
		got := mustAlert(t, s, "al-race")
		if got.Count != writers*emissions {
			t.Errorf("count %d, want %d", got.Count, writers*emissions)
		}
		if want := T0.Add(writers * emissions * time.Second); !got.Time.Equal(want) || !got.LastSeen.Equal(want) {
			t.Errorf("@timestamp %v, last seen %v; want both %v", got.Time, got.LastSeen, want)
		}
		if len(got.EventIDs) != writers*emissions {
			t.Errorf("%d event ids, want %d: %v", len(got.EventIDs), writers*emissions, got.EventIDs)
		}
		for w := range writers {
			for k := range emissions {
				if id := fmt.Sprintf("w%d-ev%d", w, k); !slices.Contains(got.EventIDs, id) {
					t.Errorf("event id %s lost", id)
				}
			}
		}
	})
}
