package storetest

import (
	"cmp"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/egovsoc/egovsoc/pipeline/event"
	"github.com/egovsoc/egovsoc/pipeline/store"
)

// alertSet builds 40 alerts of orgs a and b with varied status, severity,
// rule, detector and title. Pairs share a timestamp, and ids do not follow
// time order, so ties are broken by id visibly.
func alertSet() []event.Alert {
	rules := []event.Rule{
		{ID: "r-ssh-brute", Name: "SSH brute force", Author: "Florian Roth"},
		{ID: "r-web-shell", Name: "Web shell upload", Author: "Nasreddine Bencherchali"},
		{ID: "r-dns-tunnel", Name: "DNS tunnelling", Author: "egovsoc"},
		{ID: "r-port-scan", Name: "Dò quét cổng", Author: "egovsoc"},
	}
	titles := []string{
		"Brute force against host web01",
		"Suspicious upload to the portal",
		"Long queries to an unknown domain",
		"Quét cổng từ địa chỉ lạ",
		"Login burst from one source",
	}
	sevs := []event.Severity{event.SeverityInformational, event.SeverityLow, event.SeverityMedium, event.SeverityHigh, event.SeverityCritical}
	statuses := []string{event.StatusOpen, event.StatusAcknowledged, event.StatusClosed}
	detectors := []string{"sigma", "plugin-ja3", "sigma"}
	out := make([]event.Alert, 40)
	for i := range out {
		id := fmt.Sprintf("al-%02d", (i*17+5)%40)
		org := []string{"a", "b"}[(i/3)%2]
		a := NewAlert(org, id, T0.Add(time.Duration(i/2)*time.Minute), sevs[(i*3)%5])
		a.Rule = rules[i%4]
		a.Rule.Version = "1"
		a.Title = titles[(i/2)%5]
		a.Status = statuses[(i/4)%3]
		a.Detector = detectors[i%3]
		a.Count = i + 1
		out[i] = a
	}
	return out
}

// words splits text into lowercase words of letters and digits.
func words(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

// expectAlerts is the reference for AlertQuery: what a store must return.
func expectAlerts(all []event.Alert, scope store.Scope, q store.AlertQuery) []event.Alert {
	sc := scope.Restrict(q.Orgs)
	var out []event.Alert
	for _, a := range all {
		if !sc.Allows(a.Org) ||
			len(q.Status) > 0 && !slices.Contains(q.Status, a.Status) ||
			q.MinSeverity != "" && a.Severity.Rank() < q.MinSeverity.Rank() ||
			len(q.RuleIDs) > 0 && !slices.Contains(q.RuleIDs, a.Rule.ID) ||
			len(q.Detectors) > 0 && !slices.Contains(q.Detectors, a.Detector) ||
			!q.From.IsZero() && a.Time.Before(q.From) ||
			!q.To.IsZero() && !a.Time.Before(q.To) {
			continue
		}
		have := words(a.Title + " " + a.Rule.Name)
		ok := true
		for _, w := range words(q.Text) {
			ok = ok && slices.Contains(have, w)
		}
		if ok {
			out = append(out, a)
		}
	}
	slices.SortFunc(out, func(x, y event.Alert) int {
		switch q.Sort {
		case store.SortOldest:
			return cmp.Or(x.Time.Compare(y.Time), strings.Compare(x.ID, y.ID))
		case store.SortSeverity:
			return cmp.Or(cmp.Compare(y.Severity.Rank(), x.Severity.Rank()), y.Time.Compare(x.Time), strings.Compare(y.ID, x.ID))
		}
		return cmp.Or(y.Time.Compare(x.Time), strings.Compare(y.ID, x.ID))
	})
	return out
}

// alertPages reads every page of q and checks the paging invariants.
func alertPages(t *testing.T, s store.Store, scope store.Scope, q store.AlertQuery) (all []event.Alert, total int64) {
	t.Helper()
	limit := store.PageLimit(q.Limit)
	for page := 0; ; page++ {
		if page > 200 {
			t.Fatalf("more than 200 pages: the cursor does not advance")
		}
		p, err := s.Alerts(ctx(t), scope, q)
		if err != nil {
			t.Fatalf("Alerts page %d: %v", page, err)
		}
		if page == 0 {
			total = p.Total
		} else if p.Total != total {
			t.Errorf("page %d: Total %d, page 0 said %d", page, p.Total, total)
		}
		if len(p.Alerts) > limit {
			t.Errorf("page %d: %d alerts, limit %d", page, len(p.Alerts), limit)
		}
		all = append(all, p.Alerts...)
		if p.Next == "" {
			return all, total
		}
		if len(p.Alerts) == 0 {
			t.Fatalf("page %d is empty but has a Next cursor", page)
		}
		q.After = p.Next
	}
}

func alertIDs(as []event.Alert) []string {
	ids := make([]string, len(as))
	for i, a := range as {
		ids[i] = a.ID
	}
	return ids
}

// sameAlert compares alerts field by field, times by instant.
func sameAlert(x, y event.Alert) bool {
	norm := func(a event.Alert) event.Alert {
		a.Time, a.FirstSeen, a.LastSeen, a.Created = a.Time.UTC(), a.FirstSeen.UTC(), a.LastSeen.UTC(), a.Created.UTC()
		if len(a.Group) == 0 {
			a.Group = nil
		}
		if len(a.EventIDs) == 0 {
			a.EventIDs = nil
		}
		if len(a.Rule.Tags) == 0 {
			a.Rule.Tags = nil
		}
		return a
	}
	return reflect.DeepEqual(norm(x), norm(y))
}

func testAlerts(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	set := alertSet()
	docs := make([]store.Doc, len(set))
	for i, a := range set {
		docs[i] = AlertDoc(a)
	}
	MustWrite(t, s, docs...)
	byID := map[string]event.Alert{}
	for _, a := range set {
		byID[a.ID] = a
	}

	cases := []struct {
		name  string
		scope store.Scope
		q     store.AlertQuery
	}{
		{"All", store.ScopeAll(), store.AlertQuery{}},
		{"Oldest", store.ScopeAll(), store.AlertQuery{Sort: store.SortOldest}},
		{"Severity", store.ScopeAll(), store.AlertQuery{Sort: store.SortSeverity}},
		{"ScopeA", store.ScopeOrgs("a"), store.AlertQuery{Sort: store.SortSeverity}},
		{"OrgsB", store.ScopeAll(), store.AlertQuery{Orgs: []string{"b"}}},
		{"StatusOpen", store.ScopeAll(), store.AlertQuery{Status: []string{event.StatusOpen}}},
		{"StatusOpenAck", store.ScopeAll(), store.AlertQuery{Status: []string{event.StatusOpen, event.StatusAcknowledged}, Sort: store.SortSeverity}},
		{"MinSeverityHigh", store.ScopeAll(), store.AlertQuery{MinSeverity: event.SeverityHigh}},
		{"MinSeverityLow", store.ScopeAll(), store.AlertQuery{MinSeverity: event.SeverityLow, Sort: store.SortSeverity}},
		{"MinSeverityInformational", store.ScopeAll(), store.AlertQuery{MinSeverity: event.SeverityInformational}},
		{"Rule", store.ScopeAll(), store.AlertQuery{RuleIDs: []string{"r-web-shell"}}},
		{"Rules", store.ScopeAll(), store.AlertQuery{RuleIDs: []string{"r-web-shell", "r-dns-tunnel"}, Sort: store.SortOldest}},
		{"Detector", store.ScopeAll(), store.AlertQuery{Detectors: []string{"plugin-ja3"}}},
		{"FromTo", store.ScopeAll(), store.AlertQuery{From: T0.Add(3 * time.Minute), To: T0.Add(9 * time.Minute)}},
		{"From", store.ScopeAll(), store.AlertQuery{From: T0.Add(15 * time.Minute), Sort: store.SortOldest}},
		{"To", store.ScopeAll(), store.AlertQuery{To: T0.Add(2 * time.Minute)}},
		{"TextTitle", store.ScopeAll(), store.AlertQuery{Text: "upload"}},
		{"TextRuleName", store.ScopeAll(), store.AlertQuery{Text: "tunnelling"}},
		{"TextTitleAndRuleName", store.ScopeAll(), store.AlertQuery{Text: "BRUTE web01 ssh"}},
		{"TextAllWords", store.ScopeAll(), store.AlertQuery{Text: "brute shell"}},
		{"TextVietnamese", store.ScopeAll(), store.AlertQuery{Text: "quét cổng"}},
		{"TextNoMatch", store.ScopeAll(), store.AlertQuery{Text: "xyzzy"}},
		{"Combined", store.ScopeOrgs("a", "b"), store.AlertQuery{
			Orgs: []string{"a"}, Status: []string{event.StatusOpen, event.StatusClosed}, MinSeverity: event.SeverityMedium,
			Detectors: []string{"sigma"}, From: T0.Add(time.Minute), To: T0.Add(19 * time.Minute), Sort: store.SortOldest,
		}},
		{"ZeroScope", store.Scope{}, store.AlertQuery{}},
	}
	for _, c := range cases {
		want := expectAlerts(set, c.scope, c.q)
		if c.name == "TextTitle" || c.name == "TextTitleAndRuleName" || c.name == "TextVietnamese" || c.name == "Combined" || c.name == "MinSeverityHigh" {
			if len(want) == 0 {
				t.Fatalf("%s: the reference selects nothing; the data set is wrong", c.name)
			}
		}
		for _, limit := range []int{7, 8, 0} {
			t.Run(fmt.Sprintf("%s/limit%d", c.name, limit), func(t *testing.T) {
				q := c.q
				q.Limit = limit
				got, total := alertPages(t, s, c.scope, q)
				if total != int64(len(want)) {
					t.Errorf("Total = %d, want %d", total, len(want))
				}
				if g, w := alertIDs(got), alertIDs(want); !slices.Equal(g, w) {
					t.Errorf("ids\n got %v\nwant %v", g, w)
				}
				for _, a := range got {
					if w, ok := byID[a.ID]; ok && !sameAlert(a, w) {
						t.Errorf("alert %s is\n%+v\nwant\n%+v", a.ID, a, w)
					}
				}
			})
		}
	}

	t.Run("DefaultLimit", func(t *testing.T) {
		p, err := s.Alerts(ctx(t), store.ScopeAll(), store.AlertQuery{})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Alerts) != 40 || p.Total != 40 || p.Next != "" {
			t.Errorf("zero Limit: %d alerts, total %d, next %q; want all 40 on one page", len(p.Alerts), p.Total, p.Next)
		}
		p, err = s.Alerts(ctx(t), store.ScopeAll(), store.AlertQuery{Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Alerts) != 10 || p.Total != 40 || p.Next == "" {
			t.Errorf("Limit 10: %d alerts, total %d, next %q", len(p.Alerts), p.Total, p.Next)
		}
	})

	t.Run("Invalid", func(t *testing.T) {
		for name, q := range map[string]store.AlertQuery{
			"cursor":      {After: "%%% not a cursor %%%"},
			"sort":        {Sort: "sideways"},
			"severity":    {MinSeverity: "apocalyptic"},
			"cursorOther": {After: "bm90IGEgY3Vyc29y"}, // base64 of "not a cursor"
		} {
			_, err := s.Alerts(ctx(t), store.ScopeAll(), q)
			wantErr(t, "Alerts with a bad "+name, err, store.ErrInvalid)
		}
	})

	t.Run("RoundTrip", func(t *testing.T) {
		s := open(t)
		a := NewAlert("a", "al-full", T0.Add(1500*time.Millisecond), event.SeverityCritical)
		a.Group = map[string]string{"source.ip": "203.0.113.5", "user.name": "root", "host.name": "web01", "url.domain": "portal.gov.vn"}
		a.EventIDs = []string{"e1", "e2", "e3"}
		a.Title = "Đăng nhập thất bại nhiều lần"
		a.Status = event.StatusAcknowledged
		MustWrite(t, s, AlertDoc(a))
		got, err := s.Alert(ctx(t), store.ScopeOrgs("a"), "al-full")
		if err != nil {
			t.Fatal(err)
		}
		if !sameAlert(got, a) {
			t.Errorf("Alert round trip:\n got %+v\nwant %+v", got, a)
		}
		if got.Rule.Author == "" {
			t.Error("rule author lost (it must be shown with every Sigma alert)")
		}
		p, err := s.Alerts(ctx(t), store.ScopeOrgs("a"), store.AlertQuery{})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Alerts) != 1 || !sameAlert(p.Alerts[0], a) {
			t.Errorf("Alerts round trip:\n got %+v\nwant %+v", p.Alerts, a)
		}
	})
}
