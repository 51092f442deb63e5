package storetest

import (
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/egovsoc/egovsoc/pipeline/event"
	"github.com/egovsoc/egovsoc/pipeline/store"
)

func testWrite(t *testing.T, open func(t *testing.T) store.Store) {
	t.Run("Empty", func(t *testing.T) {
		s := open(t)
		res, err := s.Write(ctx(t), nil)
		if err != nil || len(res) != 0 {
			t.Fatalf("Write(nil) = %v, %v; want no results, nil", res, err)
		}
	})

	t.Run("ResultPerDoc", func(t *testing.T) {
		s := open(t)
		ev := EventDoc(t, "a", "ev-1", T0, `{"message":"hello"}`)
		al := NewAlert("a", "al-1", T0, event.SeverityHigh)
		ck := NewCheck("a", "sensor-a1", "portal", event.CheckUp, T0)
		docs := []store.Doc{
			ev,
			{Kind: store.KindEvent, ID: "ev-nil", Org: "a", Time: T0},                    // no payload
			{Kind: store.KindAlert, ID: "al-wrong", Org: "a", Time: T0, Event: ev.Event}, // payload of another kind
			AlertDoc(al),
			{Kind: 0, ID: "no-kind", Org: "a", Time: T0, Event: ev.Event}, // no kind
			CheckDoc(ck),
			{Kind: store.KindCheck, ID: "ck-nil", Org: "a", Time: T0}, // no payload
		}
		res, err := s.Write(ctx(t), docs)
		if err != nil {
			t.Fatalf("Write: %v", err)
		}
		if len(res) != len(docs) {
			t.Fatalf("Write: %d results for %d docs", len(res), len(docs))
		}
		for i, want := range []error{nil, store.ErrRejected, store.ErrRejected, nil, store.ErrRejected, nil, store.ErrRejected} {
			if want == nil {
				if res[i] != nil {
					t.Errorf("doc %d (%s): %v, want stored", i, docs[i].ID, res[i])
				}
				continue
			}
			wantErr(t, fmt.Sprintf("doc %d (%s)", i, docs[i].ID), res[i], want)
		}
		for kind, want := range map[store.Kind]int64{store.KindEvent: 1, store.KindAlert: 1, store.KindCheck: 1} {
			if got := counts(t, s, store.ScopeAll(), kind)["a"]; got != want {
				t.Errorf("%s count = %d, want %d", kind, got, want)
			}
		}
		if _, err := s.Alert(ctx(t), store.ScopeAll(), "al-wrong"); err == nil {
			t.Error("a rejected alert was stored")
		}
	})

	t.Run("Idempotent", func(t *testing.T) {
		s := open(t)
		var docs []store.Doc
		for i := range 5 {
			docs = append(docs, EventDoc(t, "a", fmt.Sprintf("ev-%d", i), T0.Add(time.Duration(i)*time.Second), `{"message":"replayed"}`))
		}
		docs = append(docs,
			AlertDoc(NewAlert("a", "al-1", T0, event.SeverityLow)),
			AlertDoc(NewAlert("b", "al-2", T0, event.SeverityLow)),
			CheckDoc(NewCheck("a", "sensor-a1", "portal", event.CheckUp, T0)),
			CheckDoc(NewCheck("b", "sensor-b1", "portal", event.CheckDown, T0)),
		)
		MustWrite(t, s, docs...)
		before := map[store.Kind]map[string]int64{}
		for _, k := range []store.Kind{store.KindEvent, store.KindAlert, store.KindCheck} {
			before[k] = counts(t, s, store.ScopeAll(), k)
		}
		MustWrite(t, s, docs...) // a replay
		// The same ids twice in one batch.
		MustWrite(t, s, docs[0], docs[0], docs[5], docs[5], docs[7], docs[7])
		for _, k := range []store.Kind{store.KindEvent, store.KindAlert, store.KindCheck} {
			if got := counts(t, s, store.ScopeAll(), k); !maps.Equal(got, before[k]) {
				t.Errorf("%s counts after replay = %v, want %v", k, got, before[k])
			}
		}
		page, err := s.Events(ctx(t), store.ScopeAll(), store.EventQuery{})
		if err != nil {
			t.Fatal(err)
		}
		if page.Total != 5 || len(page.Hits) != 5 {
			t.Errorf("Events after replay: total %d, %d hits; want 5", page.Total, len(page.Hits))
		}
		ap, err := s.Alerts(ctx(t), store.ScopeAll(), store.AlertQuery{})
		if err != nil {
			t.Fatal(err)
		}
		if ap.Total != 2 || len(ap.Alerts) != 2 {
			t.Errorf("Alerts after replay: total %d, %d alerts; want 2", ap.Total, len(ap.Alerts))
		}
	})

	// A replay of an alert with other content merges what may grow and
	// keeps the rest, the analyst's triage first of all.
	t.Run("AlertReplayKeepsTriage", func(t *testing.T) {
		s := open(t)
		stored := NewAlert("a", "al-1", T0, event.SeverityHigh)
		stored.Status = event.StatusAcknowledged
		MustWrite(t, s, AlertDoc(stored))

		replay := NewAlert("a", "al-1", T0, event.SeverityCritical)
		replay.Status = event.StatusOpen
		replay.Title = "a different title"
		replay.Count = 99
		replay.EventIDs = []string{"other"}
		MustWrite(t, s, AlertDoc(replay))

		want := stored
		want.Count = 99
		want.EventIDs = append(slices.Clone(stored.EventIDs), "other")
		got, err := s.Alert(ctx(t), store.ScopeAll(), "al-1")
		if err != nil {
			t.Fatal(err)
		}
		if !sameAlert(got, want) {
			t.Errorf("after a replay with other content the alert is\n%+v\nwant\n%+v", got, want)
		}
		page, err := s.Alerts(ctx(t), store.ScopeAll(), store.AlertQuery{Status: []string{event.StatusOpen}})
		if err != nil {
			t.Fatal(err)
		}
		if page.Total != 0 {
			t.Errorf("open alerts after replay = %d, want 0 (status must not be overwritten)", page.Total)
		}
	})

	t.Run("MixedKinds", func(t *testing.T) {
		s := open(t)
		MustWrite(t, s,
			EventDoc(t, "a", "ev-1", T0, `{"message":"one"}`),
			AlertDoc(NewAlert("a", "al-1", T0, event.SeverityMedium)),
			CheckDoc(NewCheck("a", "sensor-a1", "portal", event.CheckUp, T0)),
			EventDoc(t, "b", "ev-2", T0, `{"message":"two"}`),
			CheckDoc(NewCheck("b", "sensor-b1", "portal", event.CheckDown, T0)),
			CheckDoc(NewCheck("b", "sensor-b1", "mail", event.CheckUp, T0)),
		)
		want := map[store.Kind]map[string]int64{
			store.KindEvent: {"a": 1, "b": 1},
			store.KindAlert: {"a": 1},
			store.KindCheck: {"a": 1, "b": 2},
		}
		for k, w := range want {
			if got := counts(t, s, store.ScopeAll(), k); !maps.Equal(got, w) {
				t.Errorf("%s counts = %v, want %v", k, got, w)
			}
		}
	})

	t.Run("Batch1000", func(t *testing.T) {
		s := open(t)
		docs := make([]store.Doc, 1000)
		for i := range docs {
			org := []string{"a", "b"}[i%2]
			docs[i] = EventDoc(t, org, fmt.Sprintf("ev-%04d", i), T0.Add(time.Duration(i)*time.Second),
				fmt.Sprintf(`{"message":"event %d","event":{"dataset":"bulk","category":["network"]},"source":{"ip":"10.0.%d.%d"}}`, i, i/256, i%256))
		}
		MustWrite(t, s, docs...)
		if got := counts(t, s, store.ScopeAll(), store.KindEvent); got["a"] != 500 || got["b"] != 500 {
			t.Errorf("counts = %v, want 500 each", got)
		}
		page, err := s.Events(ctx(t), store.ScopeAll(), store.EventQuery{Terms: []store.Term{{Field: "event.dataset", Values: []string{"bulk"}}}, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if page.Total != 1000 || len(page.Hits) != 10 || page.Hits[0].ID != "ev-0999" {
			t.Errorf("Events: total %d, %d hits, first %v; want 1000, 10, ev-0999", page.Total, len(page.Hits), firstID(page.Hits))
		}
	})
}

func firstID(h []store.Hit) string {
	if len(h) == 0 {
		return "(none)"
	}
	return h[0].ID
}
