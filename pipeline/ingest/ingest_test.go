package ingest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/egovsoc/egovsoc/pipeline/bus"
	"github.com/egovsoc/egovsoc/pipeline/event"
	"github.com/egovsoc/egovsoc/pipeline/ingest"
	"github.com/egovsoc/egovsoc/pipeline/store"
	"github.com/egovsoc/egovsoc/pipeline/store/sqlite"
	"github.com/egovsoc/egovsoc/rules/threshold"
)

// flaky is the real store with a switch that makes it unavailable, as a
// full disk or a cluster answering 503 would.
type flaky struct {
	store.Store
	down  atomic.Bool
	tries atomic.Int64
}

func (f *flaky) Write(ctx context.Context, docs []store.Doc) ([]error, error) {
	if f.down.Load() {
		f.tries.Add(1)
		return nil, fmt.Errorf("disk full (test): %w", store.ErrUnavailable)
	}
	return f.Store.Write(ctx, docs)
}

type rig struct {
	t      *testing.T
	ctx    context.Context
	broker *bus.Broker
	cfg    bus.Config
	st     *flaky
	prod   *bus.Producer
	admin  *bus.Admin
	detect *ingest.Detection
	index  *ingest.Index
}

var orgs = []string{"hanoi", "hue", "mof"}

func newRig(t *testing.T) *rig {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	b, err := bus.StartBroker(bus.BrokerOptions{DataDir: t.TempDir(), Partitions: 2, Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	cfg := bus.Config{Brokers: []string{b.Addr()}}
	admin, err := bus.NewAdmin(cfg)
	if err != nil {
		t.Fatal(err)
	}
	orgTopics, _ := bus.OrgTopics(orgs, bus.StreamEvents, bus.StreamChecks)
	if err := admin.EnsureTopics(ctx, append(orgTopics, bus.TopicAlerts, bus.TopicDeadLetter), 2, 1); err != nil {
		t.Fatal(err)
	}
	sq, err := sqlite.Open(ctx, sqlite.Options{Path: t.TempDir() + "/socd.db"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sq.Close() })
	prod, err := bus.NewProducer(cfg, bus.ProducerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { prod.Close() })
	r := &rig{t: t, ctx: ctx, broker: b, cfg: cfg, st: &flaky{Store: sq}, prod: prod, admin: admin}

	evTopics, _ := bus.OrgTopics(orgs, bus.StreamEvents)
	det, err := threshold.New(threshold.Builtin())
	if err != nil {
		t.Fatal(err)
	}
	dsrc, _ := bus.NewConsumer(cfg, bus.ConsumerOptions{Group: ingest.DetectionGroup, Topics: evTopics, MinBackoff: 20 * time.Millisecond})
	r.detect, err = ingest.NewDetection(ingest.DetectionOptions{Source: dsrc, Alerts: prod, Detectors: []ingest.Detector{det}, MaxBytes: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	isrc, _ := bus.NewConsumer(cfg, bus.ConsumerOptions{Group: ingest.IndexGroup, Topics: append(orgTopics, bus.TopicAlerts), MinBackoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond})
	r.index, err = ingest.NewIndex(ingest.IndexOptions{Source: isrc, Store: r.st, DeadLetter: prod, MaxBytes: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{}, 2)
	go func() { _ = r.detect.Run(runCtx); done <- struct{}{} }()
	go func() { _ = r.index.Run(runCtx); done <- struct{}{} }()
	t.Cleanup(func() { stop(); <-done; <-done })
	return r
}

func (r *rig) produce(topic string, values ...string) {
	r.t.Helper()
	msgs := make([]bus.Message, len(values))
	for i, v := range values {
		// One host: its events meet in one partition, as a sensor keys them.
		msgs[i] = bus.Message{Topic: topic, Key: []byte("app-02"), Value: []byte(v)}
	}
	if err := r.prod.Produce(r.ctx, msgs); err != nil {
		r.t.Fatal(err)
	}
}

func (r *rig) count(scope store.Scope, kind store.Kind) int64 {
	r.t.Helper()
	m, err := r.st.CountByOrg(r.ctx, scope, kind, time.Unix(0, 0), time.Now().Add(24*time.Hour))
	if err != nil {
		r.t.Fatal(err)
	}
	var n int64
	for _, c := range m {
		n += c
	}
	return n
}

func (r *rig) waitCount(what string, kind store.Kind, want int64) {
	r.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		got := r.count(store.ScopeAll(), kind)
		if got == want {
			return
		}
		if got > want {
			r.t.Fatalf("%s: %d stored, want %d: something was indexed twice", what, got, want)
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("%s: %d stored after 60s, want %d", what, got, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func authFailure(i int, src string) string {
	return fmt.Sprintf(`{"@timestamp":%q,"event":{"id":"auth-%s-%d","category":["authentication"],"outcome":"failure","dataset":"system.auth"},"process":{"name":"sshd"},"source":{"ip":%q},"user":{"name":"root"},"message":"Failed password for root from %s"}`,
		time.Date(2026, 11, 22, 9, 0, i, 0, time.UTC).Format(time.RFC3339), src, i, src, src)
}

func TestEventsAlertsAndDeadLetters(t *testing.T) {
	r := newRig(t)
	var good []string
	for i := range 15 {
		good = append(good, authFailure(i, "203.0.113.66"))
	}
	// The payload claims another organisation; the topic decides.
	good = append(good, `{"@timestamp":"2026-11-22T09:01:00Z","event":{"id":"spoof"},"organization":{"id":"mof"},"message":"hello from hanoi"}`)
	bad := []string{
		`{"@timestamp":"2026-11-22T09:01:00Z","message":"truncated`,
		`{"@timestamp":"2026-11-22T09:01:00Z","source":{"ip":"999.1.1.1"}}`,
		`{"@timestamp":"2026-11-22T09:01:00Z","message":"` + strings.Repeat("x", 70<<10) + `"}`,
		`[1,2,3]`,
	}
	r.produce(bus.EventsTopic("hanoi"), append(good[:8:8], append(bad, good[8:]...)...)...)

	r.waitCount("events", store.KindEvent, int64(len(good)))
	r.waitCount("alerts", store.KindAlert, 1)

	page, err := r.st.Alerts(r.ctx, store.ScopeOrgs("hanoi"), store.AlertQuery{})
	if err != nil || len(page.Alerts) != 1 {
		t.Fatalf("alerts for hanoi: %v %+v", err, page)
	}
	a := page.Alerts[0]
	if a.Rule.ID != "egovsoc-ssh-bruteforce" || a.Group["source.ip"] != "203.0.113.66" || len(a.EventIDs) == 0 {
		t.Errorf("alert = %+v", a)
	}
	if n := r.count(store.ScopeOrgs("mof"), store.KindEvent); n != 0 {
		t.Errorf("the spoofed event was filed under mof (%d events)", n)
	}
	hits, err := r.st.Events(r.ctx, store.ScopeOrgs("hanoi"), store.EventQuery{Text: "hello"})
	if err != nil || len(hits.Hits) != 1 {
		t.Fatalf("spoofed event: %v %+v", err, hits)
	}
	if e, _ := event.Decode(hits.Hits[0].Source); e.Text(event.FieldOrg) != "hanoi" || !e.Has(event.FieldIngested) {
		t.Errorf("stored event not stamped: %s", hits.Hits[0].Source)
	}

	// Every bad record is in the dead-letter topic with its reason.
	deadline := time.Now().Add(30 * time.Second)
	for r.index.Stats().DeadLetters.Load() < int64(len(bad)) {
		if time.Now().After(deadline) {
			t.Fatalf("dead letters: %d, want %d", r.index.Stats().DeadLetters.Load(), len(bad))
		}
		time.Sleep(50 * time.Millisecond)
	}
	reasons := readDeadLetters(t, r, len(bad))
	for _, want := range []string{ingest.ReasonDecode, ingest.ReasonInvalid, ingest.ReasonTooLarge} {
		if reasons[want] == 0 {
			t.Errorf("no dead letter with reason %s: %v", want, reasons)
		}
	}
}

func readDeadLetters(t *testing.T, r *rig, n int) map[string]int {
	t.Helper()
	c, err := bus.NewConsumer(r.cfg, bus.ConsumerOptions{Group: "test-deadletter-reader", Topics: []string{bus.TopicDeadLetter}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(r.ctx, 30*time.Second)
	defer cancel()
	reasons := map[string]int{}
	seen := 0
	_ = c.Run(ctx, func(_ context.Context, batch []bus.Record) error {
		for _, rec := range batch {
			var dl struct {
				Error   struct{ Type, Message string }
				Egovsoc struct {
					DeadLetter struct {
						Topic  string
						Offset int64
					} `json:"deadletter"`
				}
			}
			if err := json.Unmarshal(rec.Value, &dl); err != nil {
				t.Errorf("dead letter is not JSON: %v", err)
			}
			if dl.Error.Message == "" || dl.Egovsoc.DeadLetter.Topic != bus.EventsTopic("hanoi") {
				t.Errorf("dead letter lacks its reason or origin: %s", rec.Value)
			}
			reasons[dl.Error.Type]++
			seen++
		}
		if seen >= n {
			cancel()
		}
		return nil
	})
	return reasons
}

func TestStoreOutageStopsCommitsAndCatchesUp(t *testing.T) {
	r := newRig(t)
	var first []string
	for i := range 20 {
		first = append(first, fmt.Sprintf(`{"@timestamp":"2026-11-22T10:00:%02dZ","event":{"id":"a%d"},"message":"before"}`, i, i))
	}
	r.produce(bus.EventsTopic("hue"), first...)
	r.waitCount("before the outage", store.KindEvent, 20)

	r.st.down.Store(true)
	var during []string
	for i := range 50 {
		during = append(during, fmt.Sprintf(`{"@timestamp":"2026-11-22T10:01:%02dZ","event":{"id":"b%d"},"message":"during"}`, i, i))
	}
	r.produce(bus.EventsTopic("hue"), during...)
	deadline := time.Now().Add(30 * time.Second)
	for r.st.tries.Load() < 3 {
		if time.Now().After(deadline) {
			t.Fatal("index did not retry against the unavailable store")
		}
		time.Sleep(20 * time.Millisecond)
	}
	topics, _ := bus.OrgTopics([]string{"hue"}, bus.StreamEvents)
	lag, err := r.admin.Lag(r.ctx, ingest.IndexGroup, topics)
	if err != nil || lag == 0 {
		t.Fatalf("while the store is down the index group must not commit: lag %d (%v)", lag, err)
	}
	r.st.down.Store(false)
	r.waitCount("after the outage", store.KindEvent, 70)
	deadline = time.Now().Add(30 * time.Second)
	for {
		lag, err = r.admin.Lag(r.ctx, ingest.IndexGroup, topics)
		if err == nil && lag == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("lag %d (%v) after the store returned", lag, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestRecordFromKcat: a record produced by a non-Go client (librdkafka's
// kcat) is ingested like any other.
func TestRecordFromKcat(t *testing.T) {
	kcat, err := exec.LookPath("kcat")
	if err != nil {
		t.Fatal("kcat is not installed (apt-get install kcat; .ci/run installs it): ", err)
	}
	r := newRig(t)
	doc := `{"@timestamp":"2026-11-22T11:00:00Z","event":{"id":"from-kcat","dataset":"nginx.access"},"message":"sent by kcat"}`
	cmd := exec.CommandContext(r.ctx, kcat, "-P", "-b", r.broker.Addr(), "-t", bus.EventsTopic("mof"), "-k", "web-01", "-X", "acks=all")
	cmd.Stdin = strings.NewReader(doc + "\n")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("kcat: %v\n%s", err, out.String())
	}
	r.waitCount("the kcat record", store.KindEvent, 1)
	page, err := r.st.Events(r.ctx, store.ScopeOrgs("mof"), store.EventQuery{Text: "kcat"})
	if err != nil || len(page.Hits) != 1 {
		t.Fatalf("kcat record in the store: %v %+v", err, page)
	}
	var got map[string]any
	if err := json.Unmarshal(page.Hits[0].Source, &got); err != nil || got["message"] != "sent by kcat" {
		t.Errorf("stored %s", page.Hits[0].Source)
	}
	if errors.Is(err, store.ErrNotFound) {
		t.Fatal(err)
	}
}
