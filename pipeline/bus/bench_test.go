package bus

import (
	"context"
	"fmt"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// A realistic ECS event of about 600 bytes.
var benchValue = []byte(`{"@timestamp":"2026-11-22T08:15:02.123Z","event":{"id":"a1f3","kind":"event","category":["web"],"type":["access"],"dataset":"nginx.access","module":"nginx","outcome":"success"},"host":{"name":"portal-01.hanoi.gov.vn"},"source":{"ip":"113.160.12.45","port":52114},"destination":{"ip":"10.10.1.20","port":443},"url":{"original":"/thu-tuc-hanh-chinh/tra-cuu-ho-so?ma=HS2026-000123","domain":"dichvucong.hanoi.gov.vn"},"http":{"request":{"method":"GET"},"response":{"status_code":200,"bytes":18234}},"user_agent":{"original":"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/131.0"}}`)

func benchBroker(b *testing.B) (Config, func()) {
	b.Helper()
	br, err := StartBroker(BrokerOptions{DataDir: b.TempDir(), Partitions: 6, Logger: zerolog.Nop()})
	if err != nil {
		b.Fatal(err)
	}
	return Config{Brokers: []string{br.Addr()}}, br.Close
}

// BenchmarkProduce measures acknowledged (acks=all) records per second to
// the embedded broker, in calls of 1,000 records keyed over 64 hosts.
func BenchmarkProduce(b *testing.B) {
	cfg, stop := benchBroker(b)
	defer stop()
	topic := EventsTopic("hanoi")
	a, _ := NewAdmin(cfg)
	if err := a.EnsureTopics(context.Background(), []string{topic}, 6, 1); err != nil {
		b.Fatal(err)
	}
	p, err := NewProducer(cfg, ProducerOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	msgs := make([]Message, 1000)
	for i := range msgs {
		msgs[i] = Message{Topic: topic, Key: []byte("host-" + strconv.Itoa(i%64)), Value: benchValue}
	}
	ctx := context.Background()
	if err := p.Produce(ctx, msgs[:10]); err != nil { // warm up metadata
		b.Fatal(err)
	}
	b.SetBytes(int64(len(benchValue) * len(msgs)))
	b.ResetTimer()
	for b.Loop() {
		if err := p.Produce(ctx, msgs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(msgs))/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkConsume measures records per second delivered to a handler and
// committed by one consumer-group member, from 6 partitions.
func BenchmarkConsume(b *testing.B) {
	cfg, stop := benchBroker(b)
	defer stop()
	topic := EventsTopic("hue")
	a, _ := NewAdmin(cfg)
	ctx := context.Background()
	if err := a.EnsureTopics(ctx, []string{topic}, 6, 1); err != nil {
		b.Fatal(err)
	}
	p, _ := NewProducer(cfg, ProducerOptions{})
	defer p.Close()
	n := b.N * 1000
	msgs := make([]Message, 1000)
	for i := range msgs {
		msgs[i] = Message{Topic: topic, Key: []byte("host-" + strconv.Itoa(i%64)), Value: benchValue}
	}
	for produced := 0; produced < n; produced += len(msgs) {
		if err := p.Produce(ctx, msgs); err != nil {
			b.Fatal(err)
		}
	}
	c, err := NewConsumer(cfg, ConsumerOptions{Group: fmt.Sprintf("bench-%d", time.Now().UnixNano()), Topics: []string{topic}, Logger: zerolog.Nop()})
	if err != nil {
		b.Fatal(err)
	}
	var got atomic.Int64
	runCtx, cancel := context.WithCancel(ctx)
	b.SetBytes(int64(len(benchValue) * 1000))
	b.ResetTimer()
	_ = c.Run(runCtx, func(_ context.Context, batch []Record) error {
		if got.Add(int64(len(batch))) >= int64(n) {
			cancel()
		}
		return nil
	})
	b.ReportMetric(float64(got.Load())/b.Elapsed().Seconds(), "events/s")
}
