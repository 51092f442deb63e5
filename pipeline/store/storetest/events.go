package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/egovsoc/egovsoc/pipeline/event"
	"github.com/egovsoc/egovsoc/pipeline/store"
)

// eventSet is a small, varied set of ECS events. Field values that arrays
// hold beyond their first element, dotted keys, numbers and arrays of objects
// are all there, so a store that indexes only simple cases fails.
func eventSet(t *testing.T) []store.Doc {
	min := func(n int) time.Time { return T0.Add(time.Duration(n) * time.Minute) }
	return []store.Doc{
		EventDoc(t, "a", "e01", min(1), `{"message":"Failed password for root from 203.0.113.5 port 52114 ssh2",
			"event":{"dataset":"system.auth","category":["authentication"],"outcome":"failure","kind":"event"},
			"host":{"name":"web01"},"source":{"ip":"203.0.113.5","port":52114},"user":{"name":"root"}}`),
		EventDoc(t, "a", "e02", min(2), `{"message":"GET /admin/login.php 404",
			"event":{"dataset":"nginx.access","category":["web","network"],"outcome":"success"},
			"host":{"name":"web01"},"source":{"ip":"198.51.100.7"},"url":{"path":"/admin/login.php"},
			"http":{"response":{"status_code":404}},"tags":["internet","portal"]}`),
		EventDoc(t, "a", "e03", min(3), `{"message":"DNS query exfil.example.com",
			"event":{"dataset":"zeek.dns","category":["network"]},
			"host":{"name":"dns01"},"source":{"ip":"10.0.0.5"},"destination":{"ip":"10.0.0.53"},
			"dns":{"question":{"name":"exfil.example.com"},"answers":[{"data":"192.0.2.1","ttl":30},{"data":"192.0.2.2","ttl":60}]}}`),
		// Dotted keys name the same fields as nested objects.
		EventDoc(t, "a", "e04", min(4), `{"message":"POST /wp-login.php 200",
			"event.dataset":"nginx.access","event.category":"web","url.path":"/wp-login.php",
			"host.name":"web02","source.ip":"198.51.100.7","http.response.status_code":200}`),
		EventDoc(t, "a", "e05", min(4), `{"message":"Accepted publickey for deploy",
			"event":{"dataset":"system.auth","category":["authentication"],"outcome":"success"},
			"host":{"name":"web02"},"user":{"name":"deploy"},"source":{"ip":"10.0.0.9"}}`),
		EventDoc(t, "a", "e06", min(5), `{"message":"Đăng nhập thất bại cho người dùng quantri",
			"event":{"dataset":"egov.portal","category":["authentication"],"outcome":"failure"},
			"host":{"name":"portal01"},"user":{"name":"quantri"}}`),
		EventDoc(t, "a", "e07", min(6), `{"message":"User alice added to group Domain Admins",
			"event":{"dataset":"windows.security","category":["iam","configuration"],"outcome":"success"},
			"host":{"name":"ad01"},"user":{"name":["alice","ALICE@corp"]}}`),
		EventDoc(t, "b", "e08", min(1), `{"message":"Failed password for root from 203.0.113.5 port 40022 ssh2",
			"event":{"dataset":"system.auth","category":["authentication"],"outcome":"failure"},
			"host":{"name":"web01"},"source":{"ip":"203.0.113.5"},"user":{"name":"root"}}`),
		EventDoc(t, "b", "e09", min(7), `{"message":"GET /admin/login.php 404",
			"event":{"dataset":"nginx.access","category":["web"],"outcome":"failure"},
			"host":{"name":"web09"},"url":{"path":"/admin/login.php"},"http":{"response":{"status_code":"404"}}}`),
	}
}

// eventPages reads every page of q and checks the paging invariants.
func eventPages(t *testing.T, s store.Store, scope store.Scope, q store.EventQuery) (all []store.Hit, total int64) {
	t.Helper()
	limit := store.PageLimit(q.Limit)
	for page := 0; ; page++ {
		if page > 200 {
			t.Fatalf("more than 200 pages: the cursor does not advance")
		}
		p, err := s.Events(ctx(t), scope, q)
		if err != nil {
			t.Fatalf("Events page %d: %v", page, err)
		}
		if page == 0 {
			total = p.Total
		} else if p.Total != total {
			t.Errorf("page %d: Total %d, page 0 said %d", page, p.Total, total)
		}
		if len(p.Hits) > limit {
			t.Errorf("page %d: %d hits, limit %d", page, len(p.Hits), limit)
		}
		all = append(all, p.Hits...)
		if p.Next == "" {
			break
		}
		if len(p.Hits) == 0 {
			t.Fatalf("page %d is empty but has a Next cursor", page)
		}
		q.After = p.Next
	}
	for i := 1; i < len(all); i++ {
		if all[i].Time.After(all[i-1].Time) {
			t.Errorf("hit %d (%s, %v) is newer than hit %d (%s, %v): want newest first",
				i, all[i].ID, all[i].Time, i-1, all[i-1].ID, all[i-1].Time)
		}
	}
	return all, total
}

func hitIDs(hs []store.Hit) []string {
	ids := make([]string, len(hs))
	for i, h := range hs {
		ids[i] = h.ID
	}
	return ids
}

func testEvents(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	docs := eventSet(t)
	MustWrite(t, s, docs...)
	byID := map[string]store.Doc{}
	for _, d := range docs {
		byID[d.ID] = d
	}
	term := func(field string, values ...string) store.Term { return store.Term{Field: field, Values: values} }

	cases := []struct {
		name  string
		scope store.Scope
		q     store.EventQuery
		want  []string // any order; the hits are checked to be newest first
	}{
		{"All", store.ScopeAll(), store.EventQuery{}, []string{"e01", "e02", "e03", "e04", "e05", "e06", "e07", "e08", "e09"}},
		{"ScopeB", store.ScopeOrgs("b"), store.EventQuery{}, []string{"e08", "e09"}},
		{"Dataset", store.ScopeAll(), store.EventQuery{Terms: []store.Term{term("event.dataset", "nginx.access")}}, []string{"e02", "e04", "e09"}},
		{"CategoryFirst", store.ScopeAll(), store.EventQuery{Terms: []store.Term{term("event.category", "web")}}, []string{"e02", "e04", "e09"}},
		{"CategoryNotFirst", store.ScopeAll(), store.EventQuery{Terms: []store.Term{term("event.category", "network")}}, []string{"e02", "e03"}},
		{"CategoryAnyOf", store.ScopeAll(), store.EventQuery{Terms: []store.Term{term("event.category", "configuration", "network")}}, []string{"e02", "e03", "e07"}},
		{"Outcome", store.ScopeOrgs("a"), store.EventQuery{Terms: []store.Term{term("event.outcome", "failure")}}, []string{"e01", "e06"}},
		{"Kind", store.ScopeAll(), store.EventQuery{Terms: []store.Term{term("event.kind", "event")}}, []string{"e01"}},
		{"HostName", store.ScopeAll(), store.EventQuery{Terms: []store.Term{term("host.name", "web01")}}, []string{"e01", "e02", "e08"}},
		{"HostNameDotted", store.ScopeAll(), store.EventQuery{Terms: []store.Term{term("host.name", "web02")}}, []string{"e04", "e05"}},
		{"SourceIP", store.ScopeAll(), store.EventQuery{Terms: []store.Term{term("source.ip", "198.51.100.7")}}, []string{"e02", "e04"}},
		{"DestinationIP", store.ScopeAll(), store.EventQuery{Terms: []store.Term{term("destination.ip", "10.0.0.53")}}, []string{"e03"}},
		{"UserName", store.ScopeAll(), store.EventQuery{Terms: []store.Term{term("user.name", "root", "deploy")}}, []string{"e01", "e05", "e08"}},
		{"UserNameArray", store.ScopeAll(), store.EventQuery{Terms: []store.Term{term("user.name", "ALICE@corp")}}, []string{"e07"}},
		{"KeywordIsExact", store.ScopeAll(), store.EventQuery{Terms: []store.Term{term("user.name", "Root")}}, nil},
		{"URLPath", store.ScopeAll(), store.EventQuery{Terms: []store.Term{term("url.path", "/admin/login.php")}}, []string{"e02", "e09"}},
		{"URLPathDotted", store.ScopeAll(), store.EventQuery{Terms: []store.Term{term("url.path", "/wp-login.php")}}, []string{"e04"}},
		{"Number", store.ScopeAll(), store.EventQuery{Terms: []store.Term{term("http.response.status_code", "404")}}, []string{"e02", "e09"}},
		{"NumberDotted", store.ScopeAll(), store.EventQuery{Terms: []store.Term{term("http.response.status_code", "200")}}, []string{"e04"}},
		{"NumberPort", store.ScopeAll(), store.EventQuery{Terms: []store.Term{term("source.port", "52114")}}, []string{"e01"}},
		{"Tags", store.ScopeAll(), store.EventQuery{Terms: []store.Term{term("tags", "portal")}}, []string{"e02"}},
		{"ArrayOfObjects", store.ScopeAll(), store.EventQuery{Terms: []store.Term{term("dns.answers.data", "192.0.2.2")}}, []string{"e03"}},
		{"TermsAnd", store.ScopeAll(), store.EventQuery{Terms: []store.Term{term("event.dataset", "nginx.access"), term("host.name", "web02", "web09")}}, []string{"e04", "e09"}},
		{"HotAndNotHot", store.ScopeAll(), store.EventQuery{Terms: []store.Term{term("event.outcome", "failure"), term("url.path", "/admin/login.php")}}, []string{"e09"}},
		{"NoMatch", store.ScopeAll(), store.EventQuery{Terms: []store.Term{term("host.name", "nowhere")}}, nil},
		{"Text", store.ScopeAll(), store.EventQuery{Text: "password"}, []string{"e01", "e08"}},
		{"TextAllWords", store.ScopeAll(), store.EventQuery{Text: "FAILED root"}, []string{"e01", "e08"}},
		{"TextAllWordsMissing", store.ScopeAll(), store.EventQuery{Text: "failed alice"}, nil},
		{"TextVietnamese", store.ScopeAll(), store.EventQuery{Text: "thất bại"}, []string{"e06"}},
		{"TextAndTerms", store.ScopeAll(), store.EventQuery{Text: "get", Terms: []store.Term{term("event.outcome", "success")}}, []string{"e02"}},
		{"FromTo", store.ScopeAll(), store.EventQuery{From: T0.Add(2 * time.Minute), To: T0.Add(4 * time.Minute)}, []string{"e02", "e03"}},
		{"From", store.ScopeAll(), store.EventQuery{From: T0.Add(6 * time.Minute)}, []string{"e07", "e09"}},
		{"To", store.ScopeAll(), store.EventQuery{To: T0.Add(2 * time.Minute)}, []string{"e01", "e08"}},
		{"OrgsAndRange", store.ScopeAll(), store.EventQuery{Orgs: []string{"b"}, From: T0.Add(2 * time.Minute)}, []string{"e09"}},
		{"ZeroScope", store.Scope{}, store.EventQuery{}, nil},
	}
	for _, c := range cases {
		for _, limit := range []int{2, 0} {
			t.Run(fmt.Sprintf("%s/limit%d", c.name, limit), func(t *testing.T) {
				q := c.q
				q.Limit = limit
				hits, total := eventPages(t, s, c.scope, q)
				got := hitIDs(hits)
				slices.Sort(got)
				want := slices.Clone(c.want)
				slices.Sort(want)
				if !slices.Equal(got, want) {
					t.Errorf("ids %v, want %v", got, want)
				}
				if total != int64(len(want)) {
					t.Errorf("Total = %d, want %d", total, len(want))
				}
				for _, h := range hits {
					d, ok := byID[h.ID]
					if !ok {
						continue
					}
					if h.Org != d.Org || !h.Time.Equal(d.Time) {
						t.Errorf("hit %s: org %q, time %v; want %q, %v", h.ID, h.Org, h.Time, d.Org, d.Time)
					}
					if same, err := sameJSON(h.Source, d.Event.AppendJSON(nil)); err != nil || !same {
						t.Errorf("hit %s: Source %s is not the document written (%v)", h.ID, h.Source, err)
					}
				}
			})
		}
	}

	t.Run("SourceWithSets", func(t *testing.T) {
		s := open(t)
		d := EventDoc(t, "a", "set-1", T0, `{"message":"x","organization":{"id":"spoofed"}}`)
		if err := d.Event.Set(event.FieldOrg, event.String("a")); err != nil {
			t.Fatal(err)
		}
		if err := d.Event.Set(event.FieldIngested, event.String(T0.Add(time.Second).Format(time.RFC3339))); err != nil {
			t.Fatal(err)
		}
		MustWrite(t, s, d)
		p, err := s.Events(ctx(t), store.ScopeOrgs("a"), store.EventQuery{})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Hits) != 1 {
			t.Fatalf("%d hits, want 1", len(p.Hits))
		}
		want := fmt.Sprintf(`{"@timestamp":%q,"message":"x","organization":{"id":"a"},"event":{"ingested":%q}}`,
			T0.Format(time.RFC3339Nano), T0.Add(time.Second).Format(time.RFC3339))
		if same, err := sameJSON(p.Hits[0].Source, []byte(want)); err != nil || !same {
			t.Errorf("Source = %s, want %s with the Sets applied (%v)", p.Hits[0].Source, want, err)
		}
	})

	t.Run("Paging", func(t *testing.T) {
		s := open(t)
		var docs []store.Doc
		for i := range 23 {
			// Groups of three share a timestamp.
			docs = append(docs, EventDoc(t, []string{"a", "b"}[i%2], fmt.Sprintf("p%02d", i), T0.Add(time.Duration(i/3)*time.Second), `{"message":"page me"}`))
		}
		MustWrite(t, s, docs...)
		for _, limit := range []int{1, 3, 4, 23, 50} {
			hits, total := eventPages(t, s, store.ScopeAll(), store.EventQuery{Limit: limit, Text: "page"})
			got := hitIDs(hits)
			sorted := slices.Clone(got)
			slices.Sort(sorted)
			if total != 23 || len(got) != 23 || len(slices.Compact(sorted)) != 23 {
				t.Errorf("limit %d: total %d, ids %v; want 23 distinct", limit, total, got)
			}
		}
	})

	t.Run("Invalid", func(t *testing.T) {
		_, err := s.Events(ctx(t), store.ScopeAll(), store.EventQuery{After: "%%% not a cursor %%%"})
		wantErr(t, "Events with a bad cursor", err, store.ErrInvalid)
		_, err = s.Events(ctx(t), store.ScopeAll(), store.EventQuery{After: "bm90IGEgY3Vyc29y"})
		wantErr(t, "Events with a base64 non-cursor", err, store.ErrInvalid)
	})
}
