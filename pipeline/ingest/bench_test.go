package ingest_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/egovsoc/egovsoc/pipeline/bus"
	"github.com/egovsoc/egovsoc/pipeline/ingest"
	"github.com/egovsoc/egovsoc/pipeline/store/sqlite"
	"github.com/egovsoc/egovsoc/rules/threshold"
)

// BenchmarkIngestEndToEnd measures the whole centre on both cores: events
// already in the embedded broker (3 organisations, 6 partitions) are consumed
// by the detection group (decode → threshold rules → soc.alerts) and by the
// index group (decode → SQLite on disk), each committing as it goes. The
// figure is events per second until both groups have handled every event.
func BenchmarkIngestEndToEnd(b *testing.B) {
	raw, err := os.ReadFile("../event/testdata/sample-events.ndjson")
	if err != nil {
		b.Fatal(err)
	}
	samples := bytes.Split(bytes.TrimSpace(raw), []byte("\n"))
	ctx := context.Background()
	br, err := bus.StartBroker(bus.BrokerOptions{DataDir: b.TempDir(), Partitions: 2, Logger: zerolog.Nop()})
	if err != nil {
		b.Fatal(err)
	}
	defer br.Close()
	cfg := bus.Config{Brokers: []string{br.Addr()}}
	admin, _ := bus.NewAdmin(cfg)
	orgs := []string{"hanoi", "hue", "mof"}
	evTopics, _ := bus.OrgTopics(orgs, bus.StreamEvents)
	if err := admin.EnsureTopics(ctx, append(evTopics, bus.TopicAlerts, bus.TopicDeadLetter), 2, 1); err != nil {
		b.Fatal(err)
	}
	prod, _ := bus.NewProducer(cfg, bus.ProducerOptions{})
	defer prod.Close()
	n := b.N * 5000
	batch := make([]bus.Message, 0, 1000)
	for i := 0; i < n; i++ {
		doc := samples[i%len(samples)]
		// A unique event.id per record: replace the sample's id.
		doc = bytes.Replace(doc, []byte(`"id":"`), []byte(`"id":"`+strconv.Itoa(i)+`-`), 1)
		batch = append(batch, bus.Message{Topic: evTopics[i%len(evTopics)], Key: []byte("host-" + strconv.Itoa(i%50)), Value: doc})
		if len(batch) == cap(batch) || i == n-1 {
			if err := prod.Produce(ctx, batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	st, err := sqlite.Open(ctx, sqlite.Options{Path: b.TempDir() + "/socd.db"})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	det, _ := threshold.New(threshold.Builtin())
	group := fmt.Sprint(time.Now().UnixNano())
	dsrc, _ := bus.NewConsumer(cfg, bus.ConsumerOptions{Group: "detect-" + group, Topics: evTopics})
	isrc, _ := bus.NewConsumer(cfg, bus.ConsumerOptions{Group: "index-" + group, Topics: evTopics, MaxBatch: 5000, Linger: 50 * time.Millisecond})
	d, _ := ingest.NewDetection(ingest.DetectionOptions{Source: dsrc, Alerts: prod, Detectors: []ingest.Detector{det}})
	x, _ := ingest.NewIndex(ingest.IndexOptions{Source: isrc, Store: st, DeadLetter: prod})

	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{}, 2)
	b.ResetTimer()
	go func() { _ = d.Run(runCtx); done <- struct{}{} }()
	go func() { _ = x.Run(runCtx); done <- struct{}{} }()
	for d.Stats().Events.Load() < int64(n) || x.Stats().Stored.Load() < int64(n) {
		time.Sleep(5 * time.Millisecond)
	}
	b.StopTimer()
	stop()
	<-done
	<-done
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
}
