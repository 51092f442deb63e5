package elastic

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/egovsoc/egovsoc/pipeline/event"
	"github.com/egovsoc/egovsoc/pipeline/store"
	"github.com/egovsoc/egovsoc/pipeline/store/elastic/estest"
	"github.com/egovsoc/egovsoc/pipeline/store/storetest"
)

var t0 = storetest.T0

func evDoc(t *testing.T, org, id string, fields string) store.Doc {
	t.Helper()
	return storetest.EventDoc(t, org, id, t0, fields)
}

// bulks returns the bulk requests the server received.
func bulks(srv *estest.Server) []estest.Request {
	var out []estest.Request
	for _, r := range srv.Requests() {
		if r.Path == "/_bulk" {
			out = append(out, r)
		}
	}
	return out
}

func searches(srv *estest.Server) int {
	n := 0
	for _, r := range srv.Requests() {
		if strings.HasSuffix(r.Path, "/_search") {
			n++
		}
	}
	return n
}

func write(t *testing.T, s *Store, docs ...store.Doc) []error {
	t.Helper()
	res, err := s.Write(t.Context(), docs)
	if err != nil {
		t.Fatalf("Write: %v", err)
	}
	if len(res) != len(docs) {
		t.Fatalf("Write: %d results for %d docs", len(res), len(docs))
	}
	return res
}

func TestProductHeaderChecked(t *testing.T) {
	srv := estest.NewServer(t)
	srv.OmitProductHeader(true)
	_, err := Open(t.Context(), Config{Addresses: []string{srv.URL}})
	if err == nil || !strings.Contains(err.Error(), "not Elasticsearch") {
		t.Fatalf("Open on a server without X-Elastic-Product: %v, want the client's product check to fail", err)
	}
	if errors.Is(err, store.ErrUnavailable) {
		t.Errorf("a server that is not Elasticsearch is not a passing failure: %v", err)
	}
}

func TestVersionChecked(t *testing.T) {
	for _, v := range []string{"7.17.20", "8.6.2"} {
		srv := estest.NewServer(t)
		srv.SetVersion(v)
		if _, err := Open(t.Context(), Config{Addresses: []string{srv.URL}}); err == nil || !strings.Contains(err.Error(), "8.7 or later") {
			t.Errorf("Open on %s: %v, want a version error", v, err)
		}
	}
}

func TestConfigErrorsNameTheField(t *testing.T) {
	for _, c := range []struct {
		cfg   Config
		field string
	}{
		{Config{}, "Addresses"},
		{Config{Addresses: []string{"http://x"}, Prefix: "Bad Prefix"}, "Prefix"},
		{Config{Addresses: []string{"http://x"}, Prefix: "-x"}, "Prefix"},
		{Config{Addresses: []string{"http://x"}, Refresh: "sometimes"}, "Refresh"},
		{Config{Addresses: []string{"http://x"}, EventRetention: time.Minute}, "EventRetention"},
		{Config{Addresses: []string{"http://x"}, RolloverMaxPrimaryShardSize: "big"}, "RolloverMaxPrimaryShardSize"},
		{Config{Addresses: []string{"http://x"}, Shards: -1}, "Shards"},
	} {
		_, err := Open(t.Context(), c.cfg)
		if err == nil || !strings.Contains(err.Error(), "Config."+c.field) {
			t.Errorf("Open(%+v) = %v, want an error naming Config.%s", c.cfg, err, c.field)
		}
	}
}

func TestSetupIdempotent(t *testing.T) {
	s, srv := openDouble(t, func(c *Config) { c.EventRetention = 90 * 24 * time.Hour })
	_ = s
	// A second Open on the same cluster puts the same things again.
	s2, err := Open(t.Context(), Config{Addresses: []string{srv.URL}, EventRetention: 90 * 24 * time.Hour})
	if err != nil {
		t.Fatalf("second Open: %v", err)
	}
	s2.Close()

	var pol struct {
		Policy struct {
			Phases map[string]struct {
				MinAge  string                     `json:"min_age"`
				Actions map[string]json.RawMessage `json:"actions"`
			} `json:"phases"`
		} `json:"policy"`
	}
	raw, ok := srv.Policy("egovsoc-events")
	if !ok {
		t.Fatal("no lifecycle policy egovsoc-events")
	}
	if err := json.Unmarshal(raw, &pol); err != nil {
		t.Fatal(err)
	}
	if got := pol.Policy.Phases["delete"].MinAge; got != "90d" {
		t.Errorf("events deleted after %q, want 90d", got)
	}
	if _, ok := pol.Policy.Phases["hot"].Actions["rollover"]; !ok {
		t.Error("events are not rolled over")
	}
	raw, _ = srv.Policy("egovsoc-alerts")
	if err := json.Unmarshal(raw, &pol); err != nil {
		t.Fatal(err)
	}
	if got := pol.Policy.Phases["delete"].MinAge; got != "431d" {
		t.Errorf("alert indices deleted after %q, want 431d (400 days and the month an index spans)", got)
	}

	for name, dataStream := range map[string]bool{"egovsoc-events": true, "egovsoc-checks": true, "egovsoc-alerts": false} {
		raw, ok := srv.IndexTemplate(name)
		if !ok {
			t.Fatalf("no index template %s", name)
		}
		var tpl map[string]json.RawMessage
		if err := json.Unmarshal(raw, &tpl); err != nil {
			t.Fatal(err)
		}
		if _, ds := tpl["data_stream"]; ds != dataStream {
			t.Errorf("index template %s: data stream %v, want %v", name, ds, dataStream)
		}
	}
}

func TestMappings(t *testing.T) {
	s, srv := openDouble(t)
	// An alert with every field of its wire shape set.
	al := storetest.NewAlert("a", "al-1", t0, event.SeverityHigh)
	al.Rule.License = "DRL-1.1"
	al.Threat = event.Threat{Tactics: []event.Tactic{{ID: "TA0006", Name: "credential-access"}}, Techniques: []string{"T1110"}, Subtechniques: []string{"T1110.001"}}
	al.References = []string{"https://attack.mitre.org/techniques/T1110/"}
	al.FalsePositives = []string{"a forgotten password"}
	al.Matched = map[string]string{"event.outcome": "failure", "user.name": "root"}
	al.Group["user.name"] = "root"
	res := write(t, s,
		evDoc(t, "a", "e1", `{"message":"hello","source":{"ip":"10.0.0.1","port":22},"custom":{"thing":"x","n":5}}`),
		storetest.AlertDoc(al),
		storetest.CheckDoc(storetest.NewCheck("a", "s1", "portal", event.CheckUp, t0)),
	)
	for i, err := range res {
		if err != nil {
			t.Fatalf("doc %d: %v", i, err)
		}
	}
	for _, c := range []struct{ target, field, want string }{
		{"egovsoc-events", "@timestamp", "date_nanos"},
		{"egovsoc-events", "message", "match_only_text"},
		{"egovsoc-events", "source.ip", "ip"},
		{"egovsoc-events", "source.port", "long"},
		{"egovsoc-events", "custom.thing", "keyword"}, // a dynamic string
		{"egovsoc-events", "custom.n", "long"},
		{"egovsoc-events", "egovsoc_store.org", "keyword"},
		{"egovsoc-events", "event.created", "date"},
		{"egovsoc-alerts-2025.03.01", "rule.name", "keyword"},
		{"egovsoc-alerts-2025.03.01", "egovsoc.alert.group", "flattened"},
		{"egovsoc-alerts-2025.03.01", "event.severity", "long"},
		{"egovsoc-alerts-2025.03.01", "event.start", "date"},
		{"egovsoc-alerts-2025.03.01", "event.end", "date"},
		{"egovsoc-alerts-2025.03.01", "event.created", "date"},
		{"egovsoc-alerts-2025.03.01", "rule.license", "keyword"},
		{"egovsoc-alerts-2025.03.01", "rule.description", "match_only_text"},
		{"egovsoc-alerts-2025.03.01", "tags", "keyword"},
		{"egovsoc-alerts-2025.03.01", "related.ip", "ip"},
		{"egovsoc-alerts-2025.03.01", "related.user", "keyword"},
		{"egovsoc-alerts-2025.03.01", "threat.framework", "keyword"},
		{"egovsoc-alerts-2025.03.01", "threat.tactic.id", "keyword"},
		{"egovsoc-alerts-2025.03.01", "threat.tactic.name", "keyword"},
		{"egovsoc-alerts-2025.03.01", "threat.technique.id", "keyword"},
		{"egovsoc-alerts-2025.03.01", "threat.technique.subtechnique.id", "keyword"},
		{"egovsoc-alerts-2025.03.01", "egovsoc.alert.count", "long"},
		{"egovsoc-alerts-2025.03.01", "egovsoc.alert.event_ids", "keyword"},
		{"egovsoc-alerts-2025.03.01", "egovsoc.alert.references", "keyword"},
		{"egovsoc-alerts-2025.03.01", "egovsoc.alert.false_positives", "keyword"},
		{"egovsoc-alerts-2025.03.01", "egovsoc.alert.matched", "flattened"},
		// Keys of the flattened objects are not fields of their own.
		{"egovsoc-alerts-2025.03.01", "egovsoc.alert.matched.event.outcome", ""},
		{"egovsoc-alerts-2025.03.01", "egovsoc.alert.group.source.ip", ""},
		{"egovsoc-checks", "monitor.duration.us", "long"},
		{"egovsoc-checks", "egovsoc.check.impaired", "boolean"},
	} {
		if got := srv.Mapping(c.target, c.field); got != c.want {
			t.Errorf("%s maps %s as %q, want %q", c.target, c.field, got, c.want)
		}
	}
}

func TestBulkWireFormat(t *testing.T) {
	s, srv := openDouble(t)
	write(t, s,
		evDoc(t, "a", "e1", `{"message":"line one\nline two"}`),
		storetest.AlertDoc(storetest.NewAlert("b", "al-1", t0, event.SeverityHigh)),
		storetest.CheckDoc(storetest.NewCheck("a", "s1", "portal", event.CheckUp, t0)),
	)
	bs := bulks(srv)
	if len(bs) != 1 {
		t.Fatalf("%d bulk requests, want 1", len(bs))
	}
	r := bs[0]
	if ct := r.Header.Get("Content-Type"); ct != "application/x-ndjson" {
		t.Errorf("Content-Type %q, want application/x-ndjson", ct)
	}
	if got := r.Query.Get("refresh"); got != "wait_for" {
		t.Errorf("refresh=%q, want wait_for", got)
	}
	if !bytes.HasSuffix(r.Body, []byte("\n")) {
		t.Error("the bulk body does not end with a newline")
	}
	lines := strings.Split(strings.TrimSuffix(string(r.Body), "\n"), "\n")
	if len(lines) != 6 {
		t.Fatalf("%d lines, want 3 action/source pairs:\n%s", len(lines), r.Body)
	}
	wantIndex := []string{"egovsoc-events", "egovsoc-alerts-2025.03.01", "egovsoc-checks"}
	for i := 0; i < len(lines); i += 2 {
		var action map[string]map[string]string
		if err := json.Unmarshal([]byte(lines[i]), &action); err != nil {
			t.Fatalf("action line %q: %v", lines[i], err)
		}
		c, ok := action["create"]
		if !ok || len(action) != 1 {
			t.Errorf("action line %q is not a create", lines[i])
		}
		if c["_index"] != wantIndex[i/2] {
			t.Errorf("action %d targets %q, want %q", i/2, c["_index"], wantIndex[i/2])
		}
		if !json.Valid([]byte(lines[i+1])) {
			t.Errorf("source line %q is not JSON", lines[i+1])
		}
	}
	var src map[string]any
	if err := json.Unmarshal([]byte(lines[1]), &src); err != nil {
		t.Fatal(err)
	}
	st, _ := src["egovsoc_store"].(map[string]any)
	if st["org"] != "a" || st["id"] != "e1" {
		t.Errorf("event source %s lacks the store's organisation and id", lines[1])
	}
}

func TestItemRejected(t *testing.T) {
	s, srv := openDouble(t)
	res := write(t, s,
		evDoc(t, "a", "ok-1", `{"message":"fine"}`),
		evDoc(t, "a", "bad-ip", `{"source":{"ip":"not-an-ip"}}`),
		evDoc(t, "a", "bad-long", `{"source":{"port":"twenty-two"}}`),
		evDoc(t, "a", "ok-2", `{"message":"fine too"}`),
	)
	for i, want := range []error{nil, store.ErrRejected, store.ErrRejected, nil} {
		if want == nil && res[i] != nil || want != nil && !errors.Is(res[i], want) {
			t.Errorf("doc %d: %v, want %v", i, res[i], want)
		}
	}
	if !strings.Contains(fmt.Sprint(res[1]), "source.ip") || !strings.Contains(fmt.Sprint(res[1]), "status 400") {
		t.Errorf("the rejection does not say why: %v", res[1])
	}
	if errors.Is(res[1], store.ErrUnavailable) {
		t.Errorf("a mapping error must not be retried: %v", res[1])
	}
	if n := len(bulks(srv)); n != 1 {
		t.Errorf("%d bulk requests, want 1: a rejected document is not resent", n)
	}
	if srv.Count("egovsoc-events") != 2 {
		t.Errorf("%d events stored, want 2", srv.Count("egovsoc-events"))
	}
}

func TestRejectedBeforeSending(t *testing.T) {
	s, srv := openDouble(t)
	good := evDoc(t, "a", "ok", `{"message":"fine"}`)
	noTime, err := event.Decode([]byte(`{"message":"no time"}`))
	if err != nil {
		t.Fatal(err)
	}
	spoof := evDoc(t, "a", "spoof", `{"egovsoc_store":{"org":"b"}}`)
	spoofDotted := evDoc(t, "a", "spoof2", `{"egovsoc_store.org":"b"}`)
	old := storetest.EventDoc(t, "a", "old", time.Date(1969, 1, 1, 0, 0, 0, 0, time.UTC), `{}`)
	wrongID := storetest.AlertDoc(storetest.NewAlert("a", "al-1", t0, event.SeverityLow))
	wrongID.ID = "al-2"
	res := write(t, s,
		good,
		store.Doc{Kind: store.KindEvent, ID: "", Org: "a", Time: t0, Event: good.Event},
		store.Doc{Kind: store.KindEvent, ID: "x", Org: "", Time: t0, Event: good.Event},
		store.Doc{Kind: store.KindEvent, ID: "no-time", Org: "a", Event: noTime},
		spoof, spoofDotted, old, wrongID,
		store.Doc{Kind: store.KindEvent, ID: strings.Repeat("x", 513), Org: "a", Time: t0, Event: good.Event},
	)
	if res[0] != nil {
		t.Errorf("good doc: %v", res[0])
	}
	for i, err := range res[1:] {
		if !errors.Is(err, store.ErrRejected) {
			t.Errorf("doc %d: %v, want ErrRejected", i+1, err)
		}
	}
	bs := bulks(srv)
	if len(bs) != 1 || bytes.Count(bs[0].Body, []byte("\n")) != 2 {
		t.Errorf("want one bulk request with the good document only")
	}
}

func TestEventTimestampAndOrg(t *testing.T) {
	s, _ := openDouble(t)
	// The payload claims another organisation; the store believes the Doc.
	d := evDoc(t, "a", "claims-b", `{"message":"spoofed","organization":{"id":"b"}}`)
	// An event without @timestamp is given Doc.Time.
	e, err := event.Decode([]byte(`{"message":"timeless"}`))
	if err != nil {
		t.Fatal(err)
	}
	at := t0.Add(1234567 * time.Nanosecond)
	write(t, s, d, store.Doc{Kind: store.KindEvent, ID: "stamped", Org: "a", Time: at, Event: e})
	if e.Has(event.FieldTimestamp) {
		t.Error("Write modified the caller's event")
	}
	p, err := s.Events(t.Context(), store.ScopeOrgs("b"), store.EventQuery{})
	if err != nil || p.Total != 0 {
		t.Errorf("scope b sees %d events (%v), want none", p.Total, err)
	}
	p, err = s.Events(t.Context(), store.ScopeOrgs("a"), store.EventQuery{})
	if err != nil || p.Total != 2 {
		t.Fatalf("scope a sees %d events (%v), want 2", p.Total, err)
	}
	for _, h := range p.Hits {
		if h.Org != "a" {
			t.Errorf("hit %s has org %q, want a", h.ID, h.Org)
		}
		if bytes.Contains(h.Source, []byte("egovsoc_store")) {
			t.Errorf("hit %s: Source %s shows the store's own fields", h.ID, h.Source)
		}
		if h.ID == "stamped" {
			if !h.Time.Equal(at) {
				t.Errorf("stamped event at %v, want %v (nanoseconds kept)", h.Time, at)
			}
			var src map[string]any
			_ = json.Unmarshal(h.Source, &src)
			if src["@timestamp"] != at.Format(time.RFC3339Nano) {
				t.Errorf("stamped event source %s", h.Source)
			}
		}
	}
}

func TestItem429RetriedThenStored(t *testing.T) {
	s, srv := openDouble(t, func(c *Config) { c.ItemRetries = 3 })
	srv.FailItem("e2", 2, http.StatusTooManyRequests)
	res := write(t, s, evDoc(t, "a", "e1", `{}`), evDoc(t, "a", "e2", `{}`), evDoc(t, "a", "e3", `{}`))
	for i, err := range res {
		if err != nil {
			t.Errorf("doc %d: %v", i, err)
		}
	}
	bs := bulks(srv)
	if len(bs) != 3 {
		t.Fatalf("%d bulk requests, want 3 (one, then e2 alone twice)", len(bs))
	}
	for _, r := range bs[1:] {
		if n := bytes.Count(r.Body, []byte("\n")); n != 2 || !bytes.Contains(r.Body, []byte(`"e2"`)) {
			t.Errorf("a retry resends %q, want e2 alone", r.Body)
		}
	}
	if srv.Count("egovsoc-events") != 3 {
		t.Errorf("%d events stored, want 3", srv.Count("egovsoc-events"))
	}
}

func TestItem429Exhausted(t *testing.T) {
	s, srv := openDouble(t, func(c *Config) { c.ItemRetries = 2 })
	srv.FailItem("e2", -1, http.StatusTooManyRequests)
	srv.FailItem("e3", -1, http.StatusServiceUnavailable)
	res := write(t, s, evDoc(t, "a", "e1", `{}`), evDoc(t, "a", "e2", `{}`), evDoc(t, "a", "e3", `{}`))
	if res[0] != nil {
		t.Errorf("e1: %v", res[0])
	}
	for _, i := range []int{1, 2} {
		if !errors.Is(res[i], store.ErrUnavailable) || errors.Is(res[i], store.ErrRejected) {
			t.Errorf("doc %d: %v, want ErrUnavailable", i, res[i])
		}
	}
	if !strings.Contains(res[1].Error(), "es_rejected_execution_exception") {
		t.Errorf("e2: %v, want the reason", res[1])
	}
	if n := len(bulks(srv)); n != 3 {
		t.Errorf("%d bulk requests, want 3 (the first and 2 retries)", n)
	}
}

func TestDroppedItemNeverSilent(t *testing.T) {
	t.Run("Always", func(t *testing.T) {
		s, srv := openDouble(t, func(c *Config) { c.ItemRetries = 1 })
		srv.DropItem("e2", -1)
		res := write(t, s, evDoc(t, "a", "e1", `{}`), evDoc(t, "a", "e2", `{}`), evDoc(t, "a", "e3", `{}`))
		if res[0] != nil || res[2] != nil {
			t.Errorf("e1, e3: %v, %v", res[0], res[2])
		}
		if !errors.Is(res[1], store.ErrUnavailable) || !strings.Contains(res[1].Error(), "not this document") && !strings.Contains(res[1].Error(), "missing") {
			t.Errorf("e2, left out of every reply: %v, want ErrUnavailable saying so", res[1])
		}
	})
	t.Run("Once", func(t *testing.T) {
		s, srv := openDouble(t)
		srv.DropItem("e3", 1)
		res := write(t, s, evDoc(t, "a", "e1", `{}`), evDoc(t, "a", "e2", `{}`), evDoc(t, "a", "e3", `{}`))
		for i, err := range res {
			if err != nil {
				t.Errorf("doc %d: %v", i, err)
			}
		}
		if srv.Count("egovsoc-events") != 3 {
			t.Errorf("%d events stored, want 3", srv.Count("egovsoc-events"))
		}
	})
}

func TestWholeRequestFailures(t *testing.T) {
	for _, status := range []int{http.StatusServiceUnavailable, http.StatusTooManyRequests} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			s, srv := openDouble(t, func(c *Config) { c.MaxRetries = 2 })
			// The transport tries 3 times; 3 failures fail the Write.
			srv.FailBulk(3, status)
			docs := []store.Doc{evDoc(t, "a", "e1", `{}`), evDoc(t, "a", "e2", `{}`)}
			res, err := s.Write(t.Context(), docs)
			if !errors.Is(err, store.ErrUnavailable) || res != nil {
				t.Fatalf("Write during %d: %v, %v; want nil, ErrUnavailable", status, res, err)
			}
			if n := len(bulks(srv)); n != 3 {
				t.Errorf("%d bulk requests, want 3", n)
			}
			// Recovery: the cluster answers again.
			if res := write(t, s, docs...); res[0] != nil || res[1] != nil {
				t.Errorf("after recovery: %v", res)
			}
			// Two failures are absorbed by the transport's retries.
			srv.FailBulk(2, status)
			if res := write(t, s, evDoc(t, "a", "e3", `{}`)); res[0] != nil {
				t.Errorf("with 2 failures and 2 retries: %v", res[0])
			}
			if srv.Count("egovsoc-events") != 3 {
				t.Errorf("%d events stored, want 3", srv.Count("egovsoc-events"))
			}
		})
	}
}

func TestConnectionRefused(t *testing.T) {
	s, srv := openDouble(t, func(c *Config) { c.MaxRetries = 1 })
	srv.RefuseConnections(true)
	_, err := s.Write(t.Context(), []store.Doc{evDoc(t, "a", "e1", `{}`)})
	if !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("Write with connections refused: %v, want ErrUnavailable", err)
	}
	_, err = s.Events(t.Context(), store.ScopeAll(), store.EventQuery{})
	if !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("Events with connections refused: %v, want ErrUnavailable", err)
	}
	srv.RefuseConnections(false)
	if res := write(t, s, evDoc(t, "a", "e1", `{}`)); res[0] != nil {
		t.Errorf("after the cluster is back: %v", res[0])
	}
}

func TestSearchUnavailable(t *testing.T) {
	s, srv := openDouble(t, func(c *Config) { c.MaxRetries = 1 })
	srv.FailSearch(2, http.StatusServiceUnavailable)
	if _, err := s.Alerts(t.Context(), store.ScopeAll(), store.AlertQuery{}); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("Alerts on a failing cluster: %v, want ErrUnavailable", err)
	}
	if _, err := s.Alerts(t.Context(), store.ScopeAll(), store.AlertQuery{}); err != nil {
		t.Errorf("Alerts after recovery: %v", err)
	}
}

// failNthBulk fails the nth bulk request with a transport error.
type failNthBulk struct {
	n    int32
	seen atomic.Int32
}

func (f *failNthBulk) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Path == "/_bulk" && f.seen.Add(1) == f.n {
		return nil, errors.New("connection reset (test)")
	}
	return http.DefaultTransport.RoundTrip(r)
}

func TestSplitBatchPartlyStored(t *testing.T) {
	ft := &failNthBulk{n: 2}
	s, srv := openDouble(t, func(c *Config) {
		c.MaxBulkBytes = 300 // about two events a request
		c.MaxRetries = -1
		c.Transport = ft
	})
	var docs []store.Doc
	for i := range 6 {
		docs = append(docs, evDoc(t, "a", fmt.Sprintf("e%d", i), `{"message":"split me into several bulk requests"}`))
	}
	res, err := s.Write(t.Context(), docs)
	if err != nil {
		t.Fatalf("Write: %v (the first request stored documents, so results are per document)", err)
	}
	stored := 0
	for i, r := range res {
		switch {
		case r == nil:
			stored++
		case !errors.Is(r, store.ErrUnavailable):
			t.Errorf("doc %d: %v, want ErrUnavailable", i, r)
		}
	}
	if stored == 0 || stored == len(docs) || srv.Count("egovsoc-events") != stored {
		t.Errorf("%d reported stored, %d in the cluster; want some but not all, and the same", stored, srv.Count("egovsoc-events"))
	}
	if n := len(bulks(srv)); n != 1 {
		t.Errorf("%d bulk requests reached the server, want 1 (the second failed, no more were sent)", n)
	}
}

func TestQueryValidation(t *testing.T) {
	s, srv := openDouble(t)
	before := searches(srv)
	for _, field := range []string{"", "a b", "host.*", "x..y", ".x", "x.", "_id", `a"b`, "egovsoc_store.org", "@timestamp", "message"} {
		_, err := s.Events(t.Context(), store.ScopeAll(), store.EventQuery{Terms: []store.Term{{Field: field, Values: []string{"v"}}}})
		if !errors.Is(err, store.ErrInvalid) {
			t.Errorf("filter on %q: %v, want ErrInvalid", field, err)
		}
	}
	for _, term := range []store.Term{
		{Field: "source.ip", Values: []string{"not-an-ip"}},
		{Field: "source.port", Values: []string{"22a"}},
		{Field: "host.name"},
	} {
		_, err := s.Events(t.Context(), store.ScopeAll(), store.EventQuery{Terms: []store.Term{term}})
		if !errors.Is(err, store.ErrInvalid) {
			t.Errorf("filter %+v: %v, want ErrInvalid", term, err)
		}
	}
	if _, err := s.Histogram(t.Context(), store.ScopeAll(), store.HistogramQuery{Kind: store.KindEvent, From: t0, To: t0.Add(time.Hour), Interval: 1500 * time.Microsecond}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("an interval of 1.5ms: %v, want ErrInvalid", err)
	}
	if n := searches(srv) - before; n != 0 {
		t.Errorf("%d searches were sent for invalid queries", n)
	}
}

func TestEmptyScopeSendsNothing(t *testing.T) {
	s, srv := openDouble(t)
	before := searches(srv)
	if p, err := s.Events(t.Context(), store.Scope{}, store.EventQuery{}); err != nil || len(p.Hits) != 0 {
		t.Errorf("Events: %v, %v", p, err)
	}
	if p, err := s.Alerts(t.Context(), store.ScopeOrgs("a"), store.AlertQuery{Orgs: []string{"b"}}); err != nil || len(p.Alerts) != 0 {
		t.Errorf("Alerts: %v, %v", p, err)
	}
	if _, err := s.Alert(t.Context(), store.Scope{}, "x"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Alert: %v", err)
	}
	if m, err := s.CountByOrg(t.Context(), store.Scope{}, store.KindCheck, time.Time{}, time.Time{}); err != nil || len(m) != 0 {
		t.Errorf("CountByOrg: %v, %v", m, err)
	}
	b, err := s.Histogram(t.Context(), store.Scope{}, store.HistogramQuery{Kind: store.KindCheck, From: t0, To: t0.Add(time.Hour), Interval: 30 * time.Minute})
	if err != nil || len(b) != 2 || b[0].Count != 0 {
		t.Errorf("Histogram: %v, %v; want two empty buckets", b, err)
	}
	if n := searches(srv) - before; n != 0 {
		t.Errorf("%d searches sent for an empty scope", n)
	}
}

func TestScopeFilterOnTheWire(t *testing.T) {
	s, srv := openDouble(t)
	if _, err := s.Events(t.Context(), store.ScopeOrgs("b", "a"), store.EventQuery{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Alerts(t.Context(), store.ScopeOrgs("c"), store.AlertQuery{}); err != nil {
		t.Fatal(err)
	}
	var bodies []string
	for _, r := range srv.Requests() {
		if strings.HasSuffix(r.Path, "/_search") {
			bodies = append(bodies, string(r.Body))
		}
	}
	if len(bodies) != 2 ||
		!strings.Contains(bodies[0], `{"terms":{"egovsoc_store.org":["a","b"]}}`) ||
		!strings.Contains(bodies[1], `{"terms":{"organization.id":["c"]}}`) {
		t.Errorf("the searches do not carry the scope:\n%s", strings.Join(bodies, "\n"))
	}
}

func TestAlertsMonthlyAndCreateIfAbsent(t *testing.T) {
	s, srv := openDouble(t)
	march := storetest.NewAlert("a", "al-mar", t0, event.SeverityHigh)
	april := storetest.NewAlert("a", "al-apr", t0.AddDate(0, 1, 0), event.SeverityLow)
	write(t, s, storetest.AlertDoc(march), storetest.AlertDoc(april))
	if got := srv.Indices(); strings.Join(got, ",") != "egovsoc-alerts-2025.03.01,egovsoc-alerts-2025.04.01" {
		t.Errorf("alert indices %v", got)
	}
	if got := srv.DataStreams(); len(got) != 0 {
		t.Errorf("data streams %v, want none yet", got)
	}
	// A triaged alert replayed keeps its triage.
	march.Status = event.StatusClosed
	res := write(t, s, storetest.AlertDoc(march))
	if res[0] != nil {
		t.Fatalf("replay: %v", res[0])
	}
	got, err := s.Alert(t.Context(), store.ScopeOrgs("a"), "al-mar")
	if err != nil || got.Status != event.StatusOpen {
		t.Errorf("after a replay: %+v, %v; want the stored (open) alert", got, err)
	}
	if _, err := s.Alert(t.Context(), store.ScopeOrgs("b"), "al-mar"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("another organisation's alert: %v, want ErrNotFound", err)
	}
}

func TestCursorBelongsToItsOrder(t *testing.T) {
	s, _ := openDouble(t)
	var docs []store.Doc
	for i := range 3 {
		docs = append(docs, storetest.AlertDoc(storetest.NewAlert("a", fmt.Sprintf("al-%d", i), t0.Add(time.Duration(i)*time.Minute), event.SeverityHigh)))
	}
	write(t, s, docs...)
	p, err := s.Alerts(t.Context(), store.ScopeAll(), store.AlertQuery{Limit: 1})
	if err != nil || p.Next == "" {
		t.Fatalf("first page: %+v, %v", p, err)
	}
	if _, err := s.Alerts(t.Context(), store.ScopeAll(), store.AlertQuery{Limit: 1, After: p.Next, Sort: store.SortSeverity}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("a newest-first cursor used for the severity order: %v, want ErrInvalid", err)
	}
	if _, err := s.Events(t.Context(), store.ScopeAll(), store.EventQuery{After: p.Next}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("an alert cursor used for events: %v, want ErrInvalid", err)
	}
}

func TestHistogramAlignment(t *testing.T) {
	s, _ := openDouble(t)
	write(t, s,
		evDoc(t, "a", "e1", `{}`),
		storetest.EventDoc(t, "a", "e2", t0.Add(90*time.Second+123*time.Millisecond), `{}`),
	)
	// From and To fall inside buckets; the first bucket holds From.
	b, err := s.Histogram(t.Context(), store.ScopeAll(), store.HistogramQuery{
		Kind: store.KindEvent, From: t0.Add(-30 * time.Second), To: t0.Add(2*time.Minute + 1), Interval: time.Minute,
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []store.Bucket{{Start: t0.Add(-time.Minute)}, {Start: t0, Count: 1}, {Start: t0.Add(time.Minute), Count: 1}, {Start: t0.Add(2 * time.Minute)}}
	if len(b) != len(want) {
		t.Fatalf("buckets %v, want %v", b, want)
	}
	for i := range want {
		if !b[i].Start.Equal(want[i].Start) || b[i].Count != want[i].Count {
			t.Errorf("bucket %d = %v, want %v", i, b[i], want[i])
		}
	}
}

func TestClose(t *testing.T) {
	s, _ := openDouble(t)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := s.Write(t.Context(), []store.Doc{evDoc(t, "a", "e", `{}`)}); err == nil || errors.Is(err, store.ErrUnavailable) {
		t.Errorf("Write after Close: %v, want a plain error", err)
	}
}

// TestAlertFieldsMapped walks every field of an alert with everything set,
// as the store renders it, and requires an explicit mapping for it in the
// alert template: none is left to dynamic mapping (which would make every
// string a keyword, and the group or matched keys fields of their own).
func TestAlertFieldsMapped(t *testing.T) {
	a := storetest.NewAlert("a", "al-1", t0, event.SeverityHigh)
	a.Rule.License = "DRL-1.1"
	a.Threat = event.Threat{Tactics: []event.Tactic{{ID: "TA0006", Name: "credential-access"}}, Techniques: []string{"T1110"}, Subtechniques: []string{"T1110.001"}}
	a.References, a.FalsePositives = []string{"https://example.org/"}, []string{"a forgotten password"}
	a.Matched = map[string]string{"event.outcome": "failure"}
	a.Group = map[string]string{"source.ip": "203.0.113.5", "user.name": "root", "host.name": "web01"}
	src, err := json.Marshal(&a)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(src, &doc); err != nil {
		t.Fatal(err)
	}
	props := mappings(store.KindAlert)["properties"].(object)
	var walk func(prefix string, v any)
	walk = func(path string, v any) {
		if o, ok := v.(map[string]any); ok {
			if m := getField(props, path); m != nil && m["type"] == "flattened" {
				return
			}
			for k, sub := range o {
				p := k
				if path != "" {
					p = path + "." + k
				}
				walk(p, sub)
			}
			return
		}
		if arr, ok := v.([]any); ok {
			for _, e := range arr {
				walk(path, e)
			}
			return
		}
		if getField(props, path) == nil {
			t.Errorf("the alert field %s is not mapped", path)
		}
	}
	walk("", doc)
}
