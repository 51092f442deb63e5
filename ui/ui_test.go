package ui

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/egovsoc/egovsoc/pipeline/catalog"
	"github.com/egovsoc/egovsoc/pipeline/event"
	"github.com/egovsoc/egovsoc/pipeline/store"
	"github.com/egovsoc/egovsoc/pipeline/store/sqlite"
	"github.com/egovsoc/egovsoc/pipeline/store/storetest"
)

func TestMessagesComplete(t *testing.T) {
	for k := range messages[LangVI] {
		if _, ok := messages[LangEN][k]; !ok {
			t.Errorf("English lacks %q", k)
		}
	}
	for k := range messages[LangEN] {
		if _, ok := messages[LangVI][k]; !ok {
			t.Errorf("Vietnamese lacks %q", k)
		}
	}
}

func TestLoopbackOperator(t *testing.T) {
	for addr, ok := range map[string]bool{"127.0.0.1:5000": true, "[::1]:5000": true, "10.0.0.5:5000": false, "203.0.113.1:1": false, "garbage": false} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = addr
		_, err := LoopbackOperator{}.Authenticate(r)
		if (err == nil) != ok {
			t.Errorf("%s: err %v", addr, err)
		}
	}
	if IsLoopbackAddr("0.0.0.0:8080") || !IsLoopbackAddr("127.0.0.1:8080") {
		t.Error("IsLoopbackAddr")
	}
}

// agencyAuth scopes every request to one organisation's subtree.
type agencyAuth struct{ scope store.Scope }

func (a agencyAuth) Authenticate(*http.Request) (Principal, error) {
	return Principal{Name: "agency", Scope: a.scope}, nil
}

func TestAPIKeepsAgenciesApart(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, sqlite.Options{Path: t.TempDir() + "/ui.db"})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cat, err := catalog.Default()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	hn := storetest.NewAlert("hanoi", "alert-hanoi", now.Add(-time.Minute), event.SeverityHigh)
	hcm := storetest.NewAlert("hcm", "alert-hcm", now.Add(-time.Minute), event.SeverityHigh)
	storetest.MustWrite(t, st, storetest.AlertDoc(hn), storetest.AlertDoc(hcm),
		storetest.EventDoc(t, "hanoi", "ev-hanoi", now.Add(-time.Minute), `{"message":"hanoi event"}`),
		storetest.EventDoc(t, "hcm", "ev-hcm", now.Add(-time.Minute), `{"message":"hcm event"}`))

	srv, err := New(Options{Store: st, Catalog: cat, Auth: agencyAuth{store.ScopeOrgs(cat.Subtree("hanoi")...)}})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	get := func(path string) (int, string) {
		resp, err := http.Get(ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for _, path := range []string{"/", "/?lang=en", "/api/v1/alerts", "/api/v1/alerts?org=hcm", "/api/v1/events", "/api/v1/events?org=hcm", "/api/v1/summary"} {
		code, body := get(path)
		if code != 200 {
			t.Errorf("%s: %d %s", path, code, body)
		}
		if strings.Contains(body, "alert-hcm") || strings.Contains(body, "hcm event") || strings.Contains(body, `"hcm"`) {
			t.Errorf("%s shows another agency's data:\n%s", path, body)
		}
	}
	_, body := get("/api/v1/alerts")
	var page struct{ Total int64 }
	if err := json.Unmarshal([]byte(body), &page); err != nil || page.Total != 1 {
		t.Errorf("hanoi sees %d alerts (%v), want its own 1", page.Total, err)
	}
	if code, _ := get("/api/v1/alerts/" + hcm.ID); code != 404 {
		t.Errorf("another agency's alert by id: %d, want 404", code)
	}
	if code, _ := get("/api/v1/alerts/" + hn.ID); code != 200 {
		t.Errorf("own alert by id: %d", code)
	}
	if code, _ := get("/api/v1/alerts?limit=-1"); code != 400 {
		t.Errorf("bad limit: %d", code)
	}
	resp, err := http.Post(ts.URL+"/api/v1/alerts", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d", resp.StatusCode)
	}
}
