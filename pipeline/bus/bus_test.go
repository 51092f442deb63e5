package bus

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

func startBroker(t *testing.T, dir string, port int) *Broker {
	t.Helper()
	b, err := StartBroker(BrokerOptions{DataDir: dir, Port: port, Partitions: 3, Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func ensure(t *testing.T, cfg Config, topics ...string) {
	t.Helper()
	a, err := NewAdmin(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := a.EnsureTopics(ctx, topics, 3, 1); err != nil {
		t.Fatal(err)
	}
}

// produceAll produces messages until every one is acknowledged, retrying
// the ones that failed, as a sensor with a spool does.
func produceAll(ctx context.Context, p *Producer, msgs []Message) error {
	for len(msgs) > 0 {
		err := p.Produce(ctx, msgs)
		if err == nil {
			return nil
		}
		var pe *ProduceError
		if !errors.As(err, &pe) {
			return err
		}
		var again []Message
		for i, e := range pe.Errs {
			if e != nil {
				again = append(again, msgs[i])
			}
		}
		msgs = again
		if ctx.Err() != nil {
			return ctx.Err()
		}
		time.Sleep(100 * time.Millisecond)
	}
	return nil
}

// collector is a handler that records what it saw.
type collector struct {
	mu   sync.Mutex
	seen map[string]int
	fail int // fail this many batches first
}

func (c *collector) handle(_ context.Context, batch []Record) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fail > 0 {
		c.fail--
		return errors.New("store unavailable (test)")
	}
	for _, r := range batch {
		c.seen[string(r.Value)]++
	}
	return nil
}

func (c *collector) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.seen)
}

func waitFor(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestProduceConsumeCommitsOnlyHandled(t *testing.T) {
	b := startBroker(t, t.TempDir(), 0)
	defer b.Close()
	cfg := Config{Brokers: []string{b.Addr()}}
	topic := EventsTopic("hanoi")
	ensure(t, cfg, topic)

	p, err := NewProducer(cfg, ProducerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var msgs []Message
	for i := range 1000 {
		msgs = append(msgs, Message{Topic: topic, Key: []byte("host-" + strconv.Itoa(i%7)), Value: []byte("e" + strconv.Itoa(i))})
	}
	if err := produceAll(ctx, p, msgs); err != nil {
		t.Fatal(err)
	}

	// The handler fails twice: the batch comes back, nothing is committed
	// in between, and in the end every record is seen.
	col := &collector{seen: map[string]int{}, fail: 2}
	runCtx, stop := context.WithCancel(ctx)
	c, err := NewConsumer(cfg, ConsumerOptions{Group: "index", Topics: []string{topic}, MinBackoff: 10 * time.Millisecond, Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- c.Run(runCtx, col.handle) }()
	waitFor(t, "1000 records", 30*time.Second, func() bool { return col.count() == 1000 })
	a, _ := NewAdmin(cfg)
	waitFor(t, "lag 0", 10*time.Second, func() bool {
		lag, err := a.Lag(ctx, "index", []string{topic})
		return err == nil && lag == 0
	})
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	// A new member of the same group sees only what came after.
	if err := produceAll(ctx, p, []Message{{Topic: topic, Value: []byte("late")}}); err != nil {
		t.Fatal(err)
	}
	col2 := &collector{seen: map[string]int{}}
	runCtx, stop = context.WithCancel(ctx)
	c2, _ := NewConsumer(cfg, ConsumerOptions{Group: "index", Topics: []string{topic}, Logger: zerolog.Nop()})
	go func() { done <- c2.Run(runCtx, col2.handle) }()
	waitFor(t, "the late record", 30*time.Second, func() bool { return col2.count() == 1 })
	stop()
	<-done
	if col2.seen["late"] != 1 || len(col2.seen) != 1 {
		t.Errorf("after commit, a new member saw %v", col2.seen)
	}
}

func TestBrokerRestartMidStreamLosesNothing(t *testing.T) {
	dir := t.TempDir()
	b := startBroker(t, dir, 0)
	port := b.Port()
	cfg := Config{Brokers: []string{b.Addr()}}
	topic := EventsTopic("danang")
	ensure(t, cfg, topic)

	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	p, err := NewProducer(cfg, ProducerOptions{Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()

	col := &collector{seen: map[string]int{}}
	c, err := NewConsumer(cfg, ConsumerOptions{Group: "detect", Topics: []string{topic}, MaxBatch: 100, Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- c.Run(runCtx, col.handle) }()

	const batches, per = 40, 100
	var restart sync.Once
	for i := range batches {
		var msgs []Message
		for j := range per {
			msgs = append(msgs, Message{Topic: topic, Key: []byte(strconv.Itoa(j % 5)), Value: []byte(fmt.Sprintf("%d-%d", i, j))})
		}
		if err := produceAll(ctx, p, msgs); err != nil {
			t.Fatalf("batch %d: %v", i, err)
		}
		if i == batches/2 {
			restart.Do(func() {
				b.Close()
				b = startBroker(t, dir, port)
			})
		}
	}
	defer b.Close()
	waitFor(t, "every record after the restart", 60*time.Second, func() bool { return col.count() == batches*per })
	stop()
	<-done
	for i := range batches {
		for j := range per {
			if col.seen[fmt.Sprintf("%d-%d", i, j)] == 0 {
				t.Fatalf("record %d-%d lost", i, j)
			}
		}
	}
	a, _ := NewAdmin(cfg)
	if n, err := a.Records(ctx, []string{topic}); err != nil || n != batches*per {
		t.Errorf("topic holds %d records (%v), want %d: the restart lost or duplicated some", n, err, batches*per)
	}
}

func TestParseTopic(t *testing.T) {
	for topic, want := range map[string]struct {
		s   Stream
		org string
	}{
		"soc.events.hanoi":  {StreamEvents, "hanoi"},
		"soc.checks.mof":    {StreamChecks, "mof"},
		"soc.alerts":        {StreamAlerts, ""},
		"soc.heartbeats":    {StreamHeartbeats, ""},
		"soc.deadletter":    {StreamDeadLetter, ""},
		"soc.events.":       {StreamUnknown, ""},
		"soc.events.Hà Nội": {StreamUnknown, ""},
		"other":             {StreamUnknown, ""},
	} {
		s, org := ParseTopic(topic)
		if s != want.s || org != want.org {
			t.Errorf("ParseTopic(%q) = %v %q, want %v %q", topic, s, org, want.s, want.org)
		}
	}
}
