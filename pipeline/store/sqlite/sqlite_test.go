package sqlite

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/egovsoc/egovsoc/pipeline/event"
	"github.com/egovsoc/egovsoc/pipeline/store"
	"github.com/egovsoc/egovsoc/pipeline/store/storetest"
)

func open(t testing.TB) *Store {
	t.Helper()
	s, err := Open(t.Context(), Options{Path: filepath.Join(t.TempDir(), "soc.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return open(t) })
}

func TestUnavailableWhenReadOnly(t *testing.T) {
	s := open(t)
	ctx := t.Context()
	storetest.MustWrite(t, s, storetest.EventDoc(t, "a", "before", storetest.T0, `{"message":"before"}`))

	if err := s.setQueryOnly(ctx, true); err != nil {
		t.Fatal(err)
	}
	docs := []store.Doc{
		storetest.EventDoc(t, "a", "during", storetest.T0, `{"message":"during"}`),
		storetest.AlertDoc(storetest.NewAlert("a", "al-during", storetest.T0, event.SeverityHigh)),
	}
	res, err := s.Write(ctx, docs)
	if !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("Write to a read-only database: %v, %v; want an error wrapping ErrUnavailable", res, err)
	}
	// Reads go on.
	p, err := s.Events(ctx, store.ScopeAll(), store.EventQuery{})
	if err != nil || p.Total != 1 {
		t.Fatalf("Events while read-only: total %d, %v; want 1, nil", p.Total, err)
	}

	if err := s.setQueryOnly(ctx, false); err != nil {
		t.Fatal(err)
	}
	storetest.MustWrite(t, s, docs...) // the retry
	p, err = s.Events(ctx, store.ScopeAll(), store.EventQuery{})
	if err != nil || p.Total != 2 {
		t.Fatalf("Events after the retry: total %d, %v; want 2", p.Total, err)
	}
	if _, err := s.Alert(ctx, store.ScopeAll(), "al-during"); err != nil {
		t.Fatalf("Alert after the retry: %v", err)
	}
}

func TestReopenKeepsDataAndRefusesNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dir", "soc.db")
	s, err := Open(t.Context(), Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	storetest.MustWrite(t, s,
		storetest.EventDoc(t, "a", "e1", storetest.T0, `{"message":"kept across restarts"}`),
		storetest.AlertDoc(storetest.NewAlert("a", "al-1", storetest.T0, event.SeverityLow)))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := s.Write(t.Context(), []store.Doc{storetest.EventDoc(t, "a", "e2", storetest.T0, `{}`)}); err == nil {
		t.Fatal("Write after Close succeeded")
	}

	s, err = Open(t.Context(), Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	p, err := s.Events(t.Context(), store.ScopeAll(), store.EventQuery{Text: "restarts"})
	if err != nil || p.Total != 1 {
		t.Fatalf("after reopening: total %d, %v; want 1", p.Total, err)
	}
	// Replaying after a restart indexes nothing twice.
	storetest.MustWrite(t, s, storetest.EventDoc(t, "a", "e1", storetest.T0, `{"message":"kept across restarts"}`))
	p, err = s.Events(t.Context(), store.ScopeAll(), store.EventQuery{Text: "restarts"})
	if err != nil || p.Total != 1 {
		t.Fatalf("after a replay: total %d, %v; want 1", p.Total, err)
	}
	if _, err := s.w.Exec("PRAGMA user_version = 99"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	_, err = Open(t.Context(), Options{Path: path})
	if err == nil || !strings.Contains(err.Error(), "newer") {
		t.Fatalf("Open of a newer schema: %v", err)
	}
	if _, err := Open(t.Context(), Options{}); err == nil || !strings.Contains(err.Error(), "Options.Path") {
		t.Fatalf("Open without a path: %v", err)
	}
}

func TestTermsFieldNamesAreChecked(t *testing.T) {
	s := open(t)
	storetest.MustWrite(t, s, storetest.EventDoc(t, "a", "e1", storetest.T0, `{"message":"m","url":{"path":"/it's"}}`))
	for _, f := range []string{"", "url.path') OR 1=1 --", "a b", "url\"path", strings.Repeat("a", 300)} {
		_, err := s.Events(t.Context(), store.ScopeAll(), store.EventQuery{Terms: []store.Term{{Field: f, Values: []string{"x"}}}})
		if !errors.Is(err, store.ErrInvalid) {
			t.Errorf("field %q: %v, want ErrInvalid", f, err)
		}
	}
	_, err := s.Events(t.Context(), store.ScopeAll(), store.EventQuery{Terms: []store.Term{{Field: "url.path"}}})
	if !errors.Is(err, store.ErrInvalid) {
		t.Errorf("term without values: %v, want ErrInvalid", err)
	}
	// Values are parameters: quotes in them are just characters.
	p, err := s.Events(t.Context(), store.ScopeAll(), store.EventQuery{Terms: []store.Term{{Field: "url.path", Values: []string{"/it's"}}}})
	if err != nil || p.Total != 1 {
		t.Errorf("value with a quote: total %d, %v; want 1", p.Total, err)
	}
}

func TestHotFieldArraysAndNulls(t *testing.T) {
	s := open(t)
	storetest.MustWrite(t, s,
		storetest.EventDoc(t, "a", "e1", storetest.T0, `{"event":{"category":[null,"web"]},"host":{"name":["h1","h2","h1"]}}`),
		storetest.EventDoc(t, "a", "e2", storetest.T0, `{"event":{"category":[]},"host":{"name":null},"source":{"ip":"10.0.0.1"}}`),
		storetest.EventDoc(t, "a", "e3", storetest.T0, `{"event":{"category":"network","outcome":true},"source":{"ip":["10.0.0.2","10.0.0.1"]}}`),
	)
	for _, c := range []struct {
		field, value string
		want         int64
	}{
		{"event.category", "web", 1},
		{"event.category", "network", 1},
		{"host.name", "h1", 1},
		{"host.name", "h2", 1},
		{"source.ip", "10.0.0.1", 2},
		{"source.ip", "10.0.0.2", 1},
		{"event.outcome", "true", 1},
	} {
		p, err := s.Events(t.Context(), store.ScopeAll(), store.EventQuery{Terms: []store.Term{{Field: c.field, Values: []string{c.value}}}})
		if err != nil || p.Total != c.want {
			t.Errorf("%s=%s: total %d, %v; want %d", c.field, c.value, p.Total, err, c.want)
		}
	}
}

func TestTextTakesFTSSyntaxLiterally(t *testing.T) {
	s := open(t)
	storetest.MustWrite(t, s, storetest.EventDoc(t, "a", "e1", storetest.T0,
		`{"message":"connection from 10.0.0.1 to exfil.example.com refused","process":{"command_line":"curl -sk https://x.example"}}`))
	for _, c := range []struct {
		text string
		want int64
	}{
		{`10.0.0.1`, 1},
		{`exfil.example.com REFUSED`, 1},
		{`curl`, 1},         // a keyword field, not the message
		{`"refused`, 1},     // a stray quote
		{`refused*`, 1},     // no prefix syntax: the word itself
		{`ref*`, 0},         // …so no prefix match either
		{`NEAR(a b)`, 0},    // no FTS5 functions
		{`refused OR x`, 0}, // OR is a word, and it is absent
		{`- ... `, 1},       // nothing to search for: no filter
		{`col:refused`, 0},  // no column filters
	} {
		p, err := s.Events(t.Context(), store.ScopeAll(), store.EventQuery{Text: c.text})
		if err != nil || p.Total != c.want {
			t.Errorf("Text %q: total %d, %v; want %d", c.text, p.Total, err, c.want)
		}
	}
}

func TestRejectsInconsistentDocs(t *testing.T) {
	s := open(t)
	a := storetest.NewAlert("a", "al-1", storetest.T0, event.SeverityHigh)
	otherOrg := storetest.AlertDoc(a)
	otherOrg.Org = "b"
	otherID := storetest.AlertDoc(a)
	otherID.ID = "al-2"
	bad := a
	bad.Status = "pending"
	ck := storetest.NewCheck("a", "s1", "portal", event.CheckUp, storetest.T0)
	ckOther := storetest.CheckDoc(ck)
	ckOther.Org = "b"
	docs := []store.Doc{
		otherOrg, otherID, storetest.AlertDoc(bad), ckOther,
		{Kind: store.KindEvent, ID: "e", Org: "a", Event: storetest.EventDoc(t, "a", "e", storetest.T0, `{}`).Event, Alert: &a},
		{Kind: store.KindEvent, ID: "", Org: "a", Event: storetest.EventDoc(t, "a", "e", storetest.T0, `{}`).Event},
		{Kind: store.KindEvent, ID: "e", Org: "", Event: storetest.EventDoc(t, "a", "e", storetest.T0, `{}`).Event},
		{Kind: store.KindEvent, ID: "e", Org: "a", Event: mustDecode(t, `{"message":"no time"}`)},
		{Kind: store.KindEvent, ID: "e", Org: "a", Time: time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC), Event: mustDecode(t, `{}`)},
	}
	res, err := s.Write(t.Context(), docs)
	if err != nil {
		t.Fatal(err)
	}
	for i, err := range res {
		if !errors.Is(err, store.ErrRejected) {
			t.Errorf("doc %d: %v, want ErrRejected", i, err)
		}
	}
}

func mustDecode(t *testing.T, s string) *event.Event {
	t.Helper()
	e, err := event.Decode([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestCursorRoundTrip(t *testing.T) {
	c := cursor{sort: 's', a: 5, b: -1741593600000000000, id: "al-é"}
	got, err := parseCursor(c.String(), 's')
	if err != nil || got != c {
		t.Fatalf("parseCursor(String()) = %+v, %v; want %+v", got, err, c)
	}
	if _, err := parseCursor(c.String(), 'n'); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("a severity cursor for newest: %v, want ErrInvalid", err)
	}
}

func TestTermsOnEscapedDocuments(t *testing.T) {
	s := open(t)
	storetest.MustWrite(t, s,
		// \u0073 is 's': the value is sshd, though "sshd" is not in the text.
		storetest.EventDoc(t, "a", "e1", storetest.T0, `{"process":{"name":"\u0073shd"},"message":"x"}`),
		// Only \" escapes: the document is plain, the prefilter applies.
		storetest.EventDoc(t, "a", "e2", storetest.T0, `{"message":"GET \"/x\"","url":{"path":"/a\"b"},"process":{"name":"nginx"}}`),
		storetest.EventDoc(t, "a", "e3", storetest.T0, `{"process":{"name":"sshd-session"},"http":{"response":{"status_code":404}}}`),
	)
	for _, c := range []struct {
		field, value string
		want         int64
	}{
		{"process.name", "sshd", 1},
		{"process.name", "nginx", 1},
		{"url.path", `/a"b`, 1},
		{"http.response.status_code", "404", 1},
		{"http.response.status_code", "40", 0},
		{"process.name", "ssh", 0},
	} {
		p, err := s.Events(t.Context(), store.ScopeAll(), store.EventQuery{Terms: []store.Term{{Field: c.field, Values: []string{c.value}}}})
		if err != nil || p.Total != c.want {
			t.Errorf("%s=%s: total %d, %v; want %d", c.field, c.value, p.Total, err, c.want)
		}
	}
}

func TestHistogramTermsOnAlerts(t *testing.T) {
	s := open(t)
	a1 := storetest.NewAlert("a", "al-1", storetest.T0, event.SeverityHigh)
	a2 := storetest.NewAlert("a", "al-2", storetest.T0.Add(time.Minute), event.SeverityLow)
	a2.Rule.ID, a2.Rule.Author = "r-other", "someone else"
	storetest.MustWrite(t, s, storetest.AlertDoc(a1), storetest.AlertDoc(a2))
	for _, c := range []struct {
		term store.Term
		want int64
	}{
		{store.Term{Field: "rule.id", Values: []string{"r-other"}}, 1},                    // a column
		{store.Term{Field: "rule.author", Values: []string{"someone else"}}, 1},           // the document
		{store.Term{Field: "egovsoc.alert.severity", Values: []string{"high", "low"}}, 2}, // the document
	} {
		b, err := s.Histogram(t.Context(), store.ScopeAll(), store.HistogramQuery{
			Kind: store.KindAlert, Terms: []store.Term{c.term}, From: storetest.T0, To: storetest.T0.Add(time.Hour), Interval: time.Hour,
		})
		if err != nil || len(b) != 1 || b[0].Count != c.want {
			t.Errorf("%v: %v, %v; want one bucket of %d", c.term, b, err, c.want)
		}
	}
}

func TestPlainJSON(t *testing.T) {
	for doc, want := range map[string]bool{
		`{"a":"b"}`:          true,
		`{"a":"b \"c\""}`:    true,
		`{"a":"b\\c"}`:       true,
		`{"a":"\u0062"}`:     false,
		`{"a":"b\nc"}`:       false,
		`{"a":"\/"}`:         false,
		`{"a":"\\\u0062"}`:   false,
		`{"a":"x\\\"y\\\\"}`: true,
	} {
		if got := plainJSON([]byte(doc)); got != want {
			t.Errorf("plainJSON(%s) = %v, want %v", doc, got, want)
		}
	}
}

func TestOddPath(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a b#c?d%20e", "soc.db")
	s, err := Open(t.Context(), Options{Path: path, Readers: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	storetest.MustWrite(t, s, storetest.EventDoc(t, "a", "e1", storetest.T0, `{"message":"m"}`))
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("database not at %s: %v", path, err)
	}
}
