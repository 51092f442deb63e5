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

// tenants writes the same documents for orgs a, b and c: 2 events, 1 alert
// and 1 check each, at T0 and T0+1m, all matching the same filters.
func tenants(t *testing.T, s store.Store) {
	t.Helper()
	var docs []store.Doc
	for _, org := range []string{"a", "b", "c"} {
		for i := range 2 {
			docs = append(docs, EventDoc(t, org, fmt.Sprintf("ev-%s-%d", org, i), T0.Add(time.Duration(i)*time.Minute),
				`{"message":"failed password for root","event":{"dataset":"system.auth","outcome":"failure"},"host":{"name":"web01"},"source":{"ip":"203.0.113.5"}}`))
		}
		docs = append(docs,
			AlertDoc(NewAlert(org, "al-"+org, T0, event.SeverityHigh)),
			CheckDoc(NewCheck(org, "sensor-"+org, "portal", event.CheckDown, T0)),
		)
	}
	MustWrite(t, s, docs...)
}

// sees runs every read within scope (and with q.Orgs = orgs as a filter) and
// checks that it returns documents of exactly the organisations in want.
func sees(t *testing.T, s store.Store, scope store.Scope, orgs []string, want ...string) {
	t.Helper()
	what := fmt.Sprintf("scope %+v, orgs %v", scope, orgs)
	wantSet := map[string]bool{}
	for _, o := range want {
		wantSet[o] = true
	}

	ep, err := s.Events(ctx(t), scope, store.EventQuery{
		Orgs:  orgs,
		Terms: []store.Term{{Field: "event.outcome", Values: []string{"failure"}}},
		Text:  "password",
	})
	if err != nil {
		t.Fatalf("%s: Events: %v", what, err)
	}
	var gotOrgs []string
	for _, h := range ep.Hits {
		if !wantSet[h.Org] {
			t.Errorf("%s: Events returned %s of org %s", what, h.ID, h.Org)
		}
		gotOrgs = append(gotOrgs, h.Org)
	}
	if ep.Total != int64(2*len(want)) || len(ep.Hits) != 2*len(want) {
		t.Errorf("%s: Events total %d, %d hits (orgs %v); want %d", what, ep.Total, len(ep.Hits), gotOrgs, 2*len(want))
	}

	for _, sort := range []store.AlertSort{store.SortNewest, store.SortSeverity} {
		ap, err := s.Alerts(ctx(t), scope, store.AlertQuery{Orgs: orgs, Sort: sort})
		if err != nil {
			t.Fatalf("%s: Alerts: %v", what, err)
		}
		var ids []string
		for _, a := range ap.Alerts {
			ids = append(ids, a.ID)
			if !wantSet[a.Org] {
				t.Errorf("%s: Alerts returned %s of org %s", what, a.ID, a.Org)
			}
		}
		if ap.Total != int64(len(want)) || len(ids) != len(want) {
			t.Errorf("%s: Alerts total %d, ids %v; want %d", what, ap.Total, ids, len(want))
		}
	}
	if len(orgs) == 0 {
		for _, org := range []string{"a", "b", "c"} {
			a, err := s.Alert(ctx(t), scope, "al-"+org)
			switch {
			case wantSet[org] && err != nil:
				t.Errorf("%s: Alert(al-%s): %v", what, org, err)
			case wantSet[org] && a.Org != org:
				t.Errorf("%s: Alert(al-%s) is of org %s", what, org, a.Org)
			case !wantSet[org]:
				wantErr(t, fmt.Sprintf("%s: Alert(al-%s)", what, org), err, store.ErrNotFound)
			}
		}
	}

	for _, kind := range []store.Kind{store.KindEvent, store.KindAlert, store.KindCheck} {
		q := store.HistogramQuery{Kind: kind, Orgs: orgs, From: T0, To: T0.Add(10 * time.Minute), Interval: 5 * time.Minute}
		b, err := s.Histogram(ctx(t), scope, q)
		if err != nil {
			t.Fatalf("%s: Histogram(%s): %v", what, kind, err)
		}
		var sum int64
		for _, x := range b {
			sum += x.Count
		}
		per := int64(1)
		if kind == store.KindEvent {
			per = 2
		}
		if sum != per*int64(len(want)) {
			t.Errorf("%s: Histogram(%s) counts %d documents, want %d", what, kind, sum, per*int64(len(want)))
		}

		got, err := s.CountByOrg(ctx(t), scope.Restrict(orgs), kind, time.Time{}, time.Time{})
		if err != nil {
			t.Fatalf("%s: CountByOrg(%s): %v", what, kind, err)
		}
		wantCounts := map[string]int64{}
		for _, o := range want {
			wantCounts[o] = per
		}
		if !maps.Equal(got, wantCounts) {
			t.Errorf("%s: CountByOrg(%s) = %v, want %v", what, kind, got, wantCounts)
		}
	}
}

func testScope(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	tenants(t, s)
	for _, c := range []struct {
		name  string
		scope store.Scope
		orgs  []string
		want  []string
	}{
		{"One", store.ScopeOrgs("a"), nil, []string{"a"}},
		{"Two", store.ScopeOrgs("c", "a"), nil, []string{"a", "c"}},
		{"Zero", store.Scope{}, nil, nil},
		{"ZeroAskingForAll", store.Scope{}, []string{"a", "b", "c"}, nil},
		{"NoneOfTheListed", store.ScopeOrgs("x", "y"), nil, nil},
		{"All", store.ScopeAll(), nil, []string{"a", "b", "c"}},
		{"AllRestricted", store.ScopeAll(), []string{"b"}, []string{"b"}},
		{"RestrictWithin", store.ScopeOrgs("a", "b"), []string{"b"}, []string{"b"}},
		{"RestrictOutside", store.ScopeOrgs("a"), []string{"b"}, nil},
		{"RestrictPartlyOutside", store.ScopeOrgs("a"), []string{"a", "b", "c"}, []string{"a"}},
	} {
		t.Run(c.name, func(t *testing.T) { sees(t, s, c.scope, c.orgs, c.want...) })
	}

	t.Run("AlertOutsideScope", func(t *testing.T) {
		_, err := s.Alert(ctx(t), store.ScopeOrgs("a"), "al-b")
		wantErr(t, "Alert(al-b) from scope a", err, store.ErrNotFound)
		_, err = s.Alert(ctx(t), store.ScopeAll(), "no-such-alert")
		wantErr(t, "Alert(no-such-alert)", err, store.ErrNotFound)
	})

	t.Run("CountByOrgKeys", func(t *testing.T) {
		got, err := s.CountByOrg(ctx(t), store.ScopeOrgs("b"), store.KindEvent, time.Time{}, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		if keys := slices.Sorted(maps.Keys(got)); !slices.Equal(keys, []string{"b"}) {
			t.Errorf("CountByOrg from scope b has keys %v", keys)
		}
	})
}
