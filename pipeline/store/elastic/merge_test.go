package elastic

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/egovsoc/egovsoc/pipeline/event"
	"github.com/egovsoc/egovsoc/pipeline/store"
	"github.com/egovsoc/egovsoc/pipeline/store/elastic/estest"
	"github.com/egovsoc/egovsoc/pipeline/store/storetest"
)

// folded is the emission of alert id after n events, a minute apart from
// t0, as a folding detector sends it.
func folded(id string, n int) event.Alert {
	at := t0.Add(time.Duration(n-1) * time.Minute)
	a := storetest.NewAlert("a", id, at, event.SeverityHigh)
	a.FirstSeen, a.LastSeen, a.Count = t0, at, n
	a.EventIDs = nil
	for k := 1; k <= n; k++ {
		a.EventIDs = append(a.EventIDs, fmt.Sprintf("ev%d", k))
	}
	return a
}

// since returns the requests the server received after the first n.
func since(srv *estest.Server, n int) []estest.Request { return srv.Requests()[n:] }

func describe(rs []estest.Request) string {
	var b strings.Builder
	for _, r := range rs {
		fmt.Fprintf(&b, "\n\t%s %s?%s", r.Method, r.Path, r.Query.Encode())
	}
	return b.String()
}

func TestAlertMergeOnTheWire(t *testing.T) {
	s, srv := openDouble(t)
	const index = "egovsoc-alerts-2025.03.01"
	first := folded("al-1", 1)
	write(t, s, storetest.AlertDoc(first))

	// A triage made after this build (a field it does not know), written
	// over the stored alert as an update API would.
	var doc map[string]any
	raw, _ := srv.Doc(index, "al-1")
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	alert := doc["egovsoc"].(map[string]any)["alert"].(map[string]any)
	alert["status"], alert["assignee"] = event.StatusAcknowledged, "analyst-7"
	body, _ := json.Marshal(doc)
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPut, srv.URL+"/"+index+"/_doc/al-1?refresh=true", strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("triage: %v %v", res, err)
	}
	res.Body.Close()

	n := len(srv.Requests())
	fifth := folded("al-1", 5)
	if res := write(t, s, storetest.AlertDoc(fifth)); res[0] != nil {
		t.Fatalf("re-emission: %v", res[0])
	}
	rs := since(srv, n)
	if len(rs) != 3 || rs[0].Path != "/_bulk" ||
		rs[1].Method != http.MethodGet || rs[1].Path != "/"+index+"/_doc/al-1" ||
		rs[2].Method != http.MethodPut || rs[2].Path != "/"+index+"/_doc/al-1" {
		t.Fatalf("a re-emission sent %s\nwant the bulk create, a GET and a PUT of the document", describe(rs))
	}
	put := rs[2]
	// The document was written twice before (created, triaged): the
	// second write's _seq_no is the one to replace.
	if put.Query.Get("if_primary_term") != "1" || put.Query.Get("refresh") != "wait_for" || put.Query.Get("op_type") != "" {
		t.Errorf("the write-back is %s, want if_primary_term=1, refresh=wait_for and no op_type", put.Query.Encode())
	}
	if seq, err := strconv.Atoi(put.Query.Get("if_seq_no")); err != nil || seq < 1 {
		t.Errorf("the write-back has if_seq_no=%q, want the _seq_no of the triaged version", put.Query.Get("if_seq_no"))
	}
	if ct := put.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("the write-back is sent as %q", ct)
	}

	var merged map[string]any
	if err := json.Unmarshal(put.Body, &merged); err != nil {
		t.Fatal(err)
	}
	ma := merged["egovsoc"].(map[string]any)["alert"].(map[string]any)
	if ma["status"] != event.StatusAcknowledged || ma["assignee"] != "analyst-7" || ma["count"] != 5.0 || len(ma["event_ids"].([]any)) != 5 {
		t.Errorf("the merged document keeps the triage and merges count and ids: %s", put.Body)
	}
	if merged["@timestamp"] != fifth.Time.Format(time.RFC3339Nano) {
		t.Errorf("merged @timestamp %v, want %v", merged["@timestamp"], fifth.Time)
	}
	got, err := s.Alert(t.Context(), store.ScopeOrgs("a"), "al-1")
	if err != nil || got.Count != 5 || got.Status != event.StatusAcknowledged || !got.Time.Equal(fifth.Time) {
		t.Errorf("Alert after the merge: %+v, %v", got, err)
	}
	if srv.Count(index) != 1 || len(srv.Indices()) != 1 {
		t.Errorf("indices %v holding %d alerts, want one alert in %s", srv.Indices(), srv.Count(index), index)
	}

	// An older emission changes nothing, so nothing is written.
	n = len(srv.Requests())
	if res := write(t, s, storetest.AlertDoc(folded("al-1", 3))); res[0] != nil {
		t.Fatalf("older emission: %v", res[0])
	}
	if rs := since(srv, n); len(rs) != 2 || rs[1].Method != http.MethodGet {
		t.Errorf("an emission that changes nothing sent %s\nwant the bulk create and a GET only", describe(rs))
	}

	// Emissions of one id in one batch: one read and one write in all.
	n = len(srv.Requests())
	if res := write(t, s, storetest.AlertDoc(folded("al-1", 7)), storetest.AlertDoc(folded("al-1", 6)), storetest.AlertDoc(folded("al-1", 8))); res[0] != nil || res[1] != nil || res[2] != nil {
		t.Fatalf("three emissions in one batch: %v", res)
	}
	if rs := since(srv, n); len(rs) != 3 {
		t.Errorf("three emissions of one stored alert sent %s\nwant one bulk, one GET, one PUT", describe(rs))
	}
	if got, _ := s.Alert(t.Context(), store.ScopeAll(), "al-1"); got.Count != 8 || len(got.EventIDs) != 8 {
		t.Errorf("after three emissions: count %d, %d event ids; want 8, 8", got.Count, len(got.EventIDs))
	}
}

// An alert's index is chosen by its first-seen time, which a re-emission
// does not move, so its emissions all meet in one index, however far its
// @timestamp moves.
func TestAlertIndexByFirstSeen(t *testing.T) {
	s, srv := openDouble(t)
	a := storetest.NewAlert("a", "al-long", time.Date(2025, time.March, 1, 1, 0, 0, 0, time.UTC), event.SeverityMedium)
	a.FirstSeen = time.Date(2025, time.February, 28, 23, 0, 0, 0, time.UTC)
	a.Count = 1
	write(t, s, storetest.AlertDoc(a))
	a.Time, a.LastSeen, a.Count = time.Date(2025, time.April, 2, 0, 0, 0, 0, time.UTC), time.Date(2025, time.April, 2, 0, 0, 0, 0, time.UTC), 40
	if res := write(t, s, storetest.AlertDoc(a)); res[0] != nil {
		t.Fatal(res[0])
	}
	if ix := srv.Indices(); !slices.Equal(ix, []string{"egovsoc-alerts-2025.02.01"}) {
		t.Errorf("alert indices %v, want only February's", ix)
	}
	got, err := s.Alert(t.Context(), store.ScopeOrgs("a"), "al-long")
	if err != nil || got.Count != 40 {
		t.Errorf("Alert: %+v, %v", got, err)
	}
	p, err := s.Alerts(t.Context(), store.ScopeAll(), store.AlertQuery{From: time.Date(2025, time.April, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil || p.Total != 1 {
		t.Errorf("Alerts in April: total %d, %v; want the alert by its new @timestamp", p.Total, err)
	}
	// Without a first-seen time, the alert's own @timestamp chooses. (Not
	// written to the double: it refuses the year-1 event.start a zero
	// time is written as, which Elasticsearch takes.)
	b := storetest.NewAlert("a", "al-nofirst", t0, event.SeverityLow)
	b.FirstSeen = time.Time{}
	d := storetest.AlertDoc(b)
	if it, err := s.prepare(&d); err != nil {
		t.Errorf("an alert without first-seen: %v", err)
	} else if it.index != "egovsoc-alerts-2025.03.01" {
		t.Errorf("an alert without first-seen goes to %s, want its @timestamp's month", it.index)
	}
	b.FirstSeen = time.Date(1969, time.December, 31, 0, 0, 0, 0, time.UTC)
	d = storetest.AlertDoc(b)
	if _, err := s.prepare(&d); !errors.Is(err, store.ErrRejected) {
		t.Errorf("an alert first seen before 1970: %v, want ErrRejected", err)
	}
}

// interfere is a transport that lets another writer write the alert just
// before each of the first n write-backs (PUT of a document) leaves.
type interfere struct {
	n     int
	other func()

	mu       sync.Mutex
	puts     int
	statuses []int // of the write-backs
}

func (f *interfere) RoundTrip(r *http.Request) (*http.Response, error) {
	put := r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/_doc/")
	if put {
		f.mu.Lock()
		f.puts++
		n := f.puts
		f.mu.Unlock()
		if n <= f.n {
			f.other()
		}
	}
	res, err := http.DefaultTransport.RoundTrip(r)
	if put && err == nil {
		f.mu.Lock()
		f.statuses = append(f.statuses, res.StatusCode)
		f.mu.Unlock()
	}
	return res, err
}

// TestAlertMergeConflictRetried: another writer merges the same alert
// between this writer's read and write; the stale write is refused, and
// this writer reads again and merges over the other's result.
func TestAlertMergeConflictRetried(t *testing.T) {
	var other *Store
	tr := &interfere{n: 1}
	s, srv := openDouble(t, func(c *Config) { c.Transport = tr })
	other, err := Open(t.Context(), Config{Addresses: []string{srv.URL}, Refresh: "wait_for"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { other.Close() })
	theirs := folded("al-race", 7)
	theirs.EventIDs = append(theirs.EventIDs, "theirs")
	tr.other = func() {
		if res, err := other.Write(t.Context(), []store.Doc{storetest.AlertDoc(theirs)}); err != nil || res[0] != nil {
			t.Errorf("the other writer: %v %v", res, err)
		}
	}
	write(t, s, storetest.AlertDoc(folded("al-race", 1)))
	mine := folded("al-race", 5)
	mine.EventIDs = append(mine.EventIDs, "mine")
	if res := write(t, s, storetest.AlertDoc(mine)); res[0] != nil {
		t.Fatalf("the re-emission: %v", res[0])
	}
	if !slices.Equal(tr.statuses, []int{409, 200}) {
		t.Errorf("write-backs answered %v, want 409 (stale) then 200", tr.statuses)
	}
	got, err := s.Alert(t.Context(), store.ScopeAll(), "al-race")
	if err != nil {
		t.Fatal(err)
	}
	if got.Count != 7 || !slices.Contains(got.EventIDs, "mine") || !slices.Contains(got.EventIDs, "theirs") || !got.Time.Equal(theirs.Time) {
		t.Errorf("after the race: count %d, ids %v, @timestamp %v; want 7, both writers' ids, %v", got.Count, got.EventIDs, got.Time, theirs.Time)
	}
}

// TestAlertMergeConflictExhausted: a writer that loses every race gives up
// after mergeAttempts rounds with ErrUnavailable, and nothing it wrote is
// lost when it writes again.
func TestAlertMergeConflictExhausted(t *testing.T) {
	tr := &interfere{n: 1000}
	s, srv := openDouble(t, func(c *Config) { c.Transport = tr })
	other, err := Open(t.Context(), Config{Addresses: []string{srv.URL}, Refresh: "wait_for"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { other.Close() })
	count := 10
	tr.other = func() {
		count++
		if res, err := other.Write(t.Context(), []store.Doc{storetest.AlertDoc(folded("al-hot", count))}); err != nil || res[0] != nil {
			t.Errorf("the other writer: %v %v", res, err)
		}
	}
	write(t, s, storetest.AlertDoc(folded("al-hot", 1)))
	mine := folded("al-hot", 5)
	mine.EventIDs = append(mine.EventIDs, "mine")
	res := write(t, s, storetest.AlertDoc(mine))
	if !errors.Is(res[0], store.ErrUnavailable) || errors.Is(res[0], store.ErrRejected) {
		t.Fatalf("losing every race: %v, want ErrUnavailable", res[0])
	}
	if len(tr.statuses) != mergeAttempts || slices.ContainsFunc(tr.statuses, func(st int) bool { return st != 409 }) {
		t.Errorf("write-backs answered %v, want %d refusals", tr.statuses, mergeAttempts)
	}
	tr.n = 0 // the other writer is done
	if res := write(t, s, storetest.AlertDoc(mine)); res[0] != nil {
		t.Fatalf("written again: %v", res[0])
	}
	got, _ := s.Alert(t.Context(), store.ScopeAll(), "al-hot")
	if got.Count != count || !slices.Contains(got.EventIDs, "mine") {
		t.Errorf("count %d, ids %v; want %d and this writer's id", got.Count, got.EventIDs, count)
	}
}

// failWriteBack fails the write-back of a merge with a transport error.
type failWriteBack struct{}

func (failWriteBack) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/_doc/") {
		return nil, errors.New("connection reset (test)")
	}
	return http.DefaultTransport.RoundTrip(r)
}

func TestAlertMergeUnavailable(t *testing.T) {
	s, _ := openDouble(t, func(c *Config) {
		c.Transport = failWriteBack{}
		c.MaxRetries = -1
	})
	stored := folded("al-1", 1)
	res := write(t, s, storetest.AlertDoc(stored), storetest.AlertDoc(folded("al-2", 1)))
	if res[0] != nil || res[1] != nil {
		t.Fatalf("first emissions: %v", res)
	}
	res = write(t, s, storetest.AlertDoc(folded("al-1", 4)), evDoc(t, "a", "e1", `{}`))
	if !errors.Is(res[0], store.ErrUnavailable) || res[1] != nil {
		t.Errorf("a merge whose write-back fails: %v; the event beside it: %v", res[0], res[1])
	}
	if got, _ := s.Alert(t.Context(), store.ScopeAll(), "al-1"); got.Count != 1 {
		t.Errorf("count %d after a failed merge, want the stored 1", got.Count)
	}
}
