package storetest

import (
	"fmt"
	"maps"
	"testing"
	"time"

	"github.com/egovsoc/egovsoc/pipeline/event"
	"github.com/egovsoc/egovsoc/pipeline/store"
)

// expectBuckets is the reference histogram of times over [from, to).
func expectBuckets(times []time.Time, from, to time.Time, interval time.Duration) []store.Bucket {
	iv := int64(interval)
	floor := func(t time.Time) int64 {
		n := t.UnixNano()
		q := n / iv
		if n%iv < 0 {
			q--
		}
		return q * iv
	}
	start, last := floor(from), floor(to.Add(-1))
	var out []store.Bucket
	for b := start; b <= last; b += iv {
		out = append(out, store.Bucket{Start: time.Unix(0, b).UTC()})
	}
	for _, t := range times {
		if t.Before(from) || !t.Before(to) {
			continue
		}
		out[(t.UnixNano()-start)/iv].Count++
	}
	return out
}

func checkBuckets(t *testing.T, what string, got, want []store.Bucket) {
	t.Helper()
	ok := len(got) == len(want)
	for i := 0; ok && i < len(got); i++ {
		ok = got[i].Start.Equal(want[i].Start) && got[i].Count == want[i].Count
	}
	if !ok {
		t.Errorf("%s:\n got %s\nwant %s", what, fmtBuckets(got), fmtBuckets(want))
	}
}

func fmtBuckets(bs []store.Bucket) string {
	s := ""
	for _, b := range bs {
		s += fmt.Sprintf(" %s=%d", b.Start.UTC().Format("15:04:05"), b.Count)
	}
	return "[" + s + " ]"
}

func testHistogram(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	at := func(d time.Duration) time.Time { return T0.Add(d) }
	evTimes := []time.Duration{-time.Second, 0, 30 * time.Second, 10 * time.Minute, 10*time.Minute + 5*time.Second, 35 * time.Minute, 45 * time.Minute}
	var docs []store.Doc
	var aTimes, failTimes []time.Time
	for i, d := range evTimes {
		outcome := []string{"success", "failure"}[i%2]
		docs = append(docs, EventDoc(t, "a", fmt.Sprintf("ev-%d", i), at(d), fmt.Sprintf(`{"message":"m","event":{"outcome":%q}}`, outcome)))
		aTimes = append(aTimes, at(d))
		if outcome == "failure" {
			failTimes = append(failTimes, at(d))
		}
	}
	docs = append(docs, EventDoc(t, "b", "ev-b", at(time.Minute), `{"message":"m","event":{"outcome":"failure"}}`))
	alertTimes := []time.Time{at(time.Minute), at(2 * time.Minute), at(21 * time.Minute)}
	for i, tm := range alertTimes {
		docs = append(docs, AlertDoc(NewAlert("a", fmt.Sprintf("al-%d", i), tm, event.SeverityHigh)))
	}
	docs = append(docs, AlertDoc(NewAlert("b", "al-b", at(time.Minute), event.SeverityHigh)))
	var checkTimes, downTimes []time.Time
	for i := range 8 {
		tm := at(time.Duration(i) * 5 * time.Minute)
		status := event.CheckUp
		if i == 2 || i == 3 || i == 7 {
			status = event.CheckDown
			downTimes = append(downTimes, tm)
		}
		docs = append(docs, CheckDoc(NewCheck("a", "sensor-a1", "portal", status, tm)))
		checkTimes = append(checkTimes, tm)
	}
	docs = append(docs, CheckDoc(NewCheck("b", "sensor-b1", "portal", event.CheckDown, at(0))))
	MustWrite(t, s, docs...)

	a := store.ScopeOrgs("a")
	for _, c := range []struct {
		name  string
		q     store.HistogramQuery
		times []time.Time
	}{
		{"Events", store.HistogramQuery{Kind: store.KindEvent, From: T0, To: at(40 * time.Minute), Interval: 10 * time.Minute}, aTimes},
		{"EventsUnalignedFrom", store.HistogramQuery{Kind: store.KindEvent, From: at(5 * time.Minute), To: at(40 * time.Minute), Interval: 10 * time.Minute}, aTimes},
		{"EventsUnalignedTo", store.HistogramQuery{Kind: store.KindEvent, From: T0, To: at(31 * time.Minute), Interval: 10 * time.Minute}, aTimes},
		{"EventsEpochAligned7m", store.HistogramQuery{Kind: store.KindEvent, From: T0, To: at(50 * time.Minute), Interval: 7 * time.Minute}, aTimes},
		{"EventsEpochAligned90m", store.HistogramQuery{Kind: store.KindEvent, From: at(-time.Hour), To: at(time.Hour), Interval: 90 * time.Minute}, aTimes},
		{"EventsTerms", store.HistogramQuery{Kind: store.KindEvent, Terms: []store.Term{{Field: "event.outcome", Values: []string{"failure"}}},
			From: at(-time.Minute), To: at(time.Hour), Interval: 15 * time.Minute}, failTimes},
		{"EventsOneSecond", store.HistogramQuery{Kind: store.KindEvent, From: at(-2 * time.Second), To: at(2 * time.Second), Interval: time.Second}, aTimes},
		{"Alerts", store.HistogramQuery{Kind: store.KindAlert, From: T0, To: at(30 * time.Minute), Interval: 5 * time.Minute}, alertTimes},
		{"Checks", store.HistogramQuery{Kind: store.KindCheck, From: T0, To: at(time.Hour), Interval: 10 * time.Minute}, checkTimes},
		{"ChecksDown", store.HistogramQuery{Kind: store.KindCheck, Terms: []store.Term{{Field: "monitor.status", Values: []string{event.CheckDown}}},
			From: T0, To: at(time.Hour), Interval: 10 * time.Minute}, downTimes},
		{"ChecksService", store.HistogramQuery{Kind: store.KindCheck, Terms: []store.Term{{Field: "service.id", Values: []string{"portal"}}},
			From: T0, To: at(time.Hour), Interval: 20 * time.Minute}, checkTimes},
		{"ChecksOtherService", store.HistogramQuery{Kind: store.KindCheck, Terms: []store.Term{{Field: "service.id", Values: []string{"mail"}}},
			From: T0, To: at(time.Hour), Interval: 20 * time.Minute}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := s.Histogram(ctx(t), a, c.q)
			if err != nil {
				t.Fatal(err)
			}
			checkBuckets(t, c.name, got, expectBuckets(c.times, c.q.From, c.q.To, c.q.Interval))
		})
	}

	t.Run("OrgsFilter", func(t *testing.T) {
		q := store.HistogramQuery{Kind: store.KindEvent, Orgs: []string{"b"}, From: T0, To: at(10 * time.Minute), Interval: 5 * time.Minute}
		got, err := s.Histogram(ctx(t), store.ScopeAll(), q)
		if err != nil {
			t.Fatal(err)
		}
		checkBuckets(t, "orgs b", got, expectBuckets([]time.Time{at(time.Minute)}, q.From, q.To, q.Interval))
	})

	t.Run("MaxBuckets", func(t *testing.T) {
		q := store.HistogramQuery{Kind: store.KindCheck, From: T0, To: at(store.MaxBuckets * time.Minute), Interval: time.Minute}
		got, err := s.Histogram(ctx(t), a, q)
		if err != nil {
			t.Fatalf("exactly MaxBuckets: %v", err)
		}
		checkBuckets(t, "MaxBuckets", got, expectBuckets(checkTimes, q.From, q.To, q.Interval))
	})

	t.Run("Invalid", func(t *testing.T) {
		for name, q := range map[string]store.HistogramQuery{
			"too many buckets": {Kind: store.KindEvent, From: T0, To: at(24 * time.Hour), Interval: time.Second},
			"one too many":     {Kind: store.KindEvent, From: T0, To: at((store.MaxBuckets + 1) * time.Minute), Interval: time.Minute},
			"zero interval":    {Kind: store.KindEvent, From: T0, To: at(time.Hour)},
			"negative":         {Kind: store.KindEvent, From: T0, To: at(time.Hour), Interval: -time.Minute},
			"no kind":          {From: T0, To: at(time.Hour), Interval: time.Minute},
			"no from":          {Kind: store.KindEvent, To: at(time.Hour), Interval: time.Minute},
			"no to":            {Kind: store.KindEvent, From: T0, Interval: time.Minute},
		} {
			_, err := s.Histogram(ctx(t), a, q)
			wantErr(t, "Histogram with "+name, err, store.ErrInvalid)
		}
	})
}

func testCountByOrg(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	at := func(m int) time.Time { return T0.Add(time.Duration(m) * time.Minute) }
	MustWrite(t, s,
		EventDoc(t, "a", "ea0", at(0), `{"message":"m"}`),
		EventDoc(t, "a", "ea1", at(1), `{"message":"m"}`),
		EventDoc(t, "a", "ea2", at(2), `{"message":"m"}`),
		EventDoc(t, "b", "eb1", at(1), `{"message":"m"}`),
		EventDoc(t, "b", "eb5", at(5), `{"message":"m"}`),
		EventDoc(t, "c", "ec-1", at(-1), `{"message":"m"}`),
		AlertDoc(NewAlert("a", "aa0", at(0), event.SeverityLow)),
		AlertDoc(NewAlert("c", "ac1", at(1), event.SeverityLow)),
		AlertDoc(NewAlert("c", "ac3", at(3), event.SeverityLow)),
		CheckDoc(NewCheck("b", "sensor-b1", "portal", event.CheckUp, at(0))),
		CheckDoc(NewCheck("b", "sensor-b1", "mail", event.CheckUp, at(0))),
		CheckDoc(NewCheck("a", "sensor-a1", "portal", event.CheckDown, at(10))),
	)
	for _, c := range []struct {
		name     string
		scope    store.Scope
		kind     store.Kind
		from, to time.Time
		want     map[string]int64
	}{
		{"EventsAllTime", store.ScopeAll(), store.KindEvent, time.Time{}, time.Time{}, map[string]int64{"a": 3, "b": 2, "c": 1}},
		{"EventsRange", store.ScopeAll(), store.KindEvent, at(0), at(5), map[string]int64{"a": 3, "b": 1}},
		{"EventsFrom", store.ScopeAll(), store.KindEvent, at(1), time.Time{}, map[string]int64{"a": 2, "b": 2}},
		{"EventsTo", store.ScopeAll(), store.KindEvent, time.Time{}, at(1), map[string]int64{"a": 1, "c": 1}},
		{"EventsScoped", store.ScopeOrgs("a", "c"), store.KindEvent, time.Time{}, time.Time{}, map[string]int64{"a": 3, "c": 1}},
		{"Alerts", store.ScopeAll(), store.KindAlert, at(0), at(3), map[string]int64{"a": 1, "c": 1}},
		{"AlertsAllTime", store.ScopeAll(), store.KindAlert, time.Time{}, time.Time{}, map[string]int64{"a": 1, "c": 2}},
		{"Checks", store.ScopeAll(), store.KindCheck, at(0), at(10), map[string]int64{"b": 2}},
		{"ChecksScoped", store.ScopeOrgs("a"), store.KindCheck, time.Time{}, time.Time{}, map[string]int64{"a": 1}},
		{"Empty", store.ScopeAll(), store.KindEvent, at(100), at(200), map[string]int64{}},
		{"ZeroScope", store.Scope{}, store.KindEvent, time.Time{}, time.Time{}, map[string]int64{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := s.CountByOrg(ctx(t), c.scope, c.kind, c.from, c.to)
			if err != nil {
				t.Fatal(err)
			}
			if !maps.Equal(got, c.want) {
				t.Errorf("CountByOrg = %v, want %v", got, c.want)
			}
		})
	}
	t.Run("Invalid", func(t *testing.T) {
		_, err := s.CountByOrg(ctx(t), store.ScopeAll(), 0, time.Time{}, time.Time{})
		wantErr(t, "CountByOrg with no kind", err, store.ErrInvalid)
	})
}
