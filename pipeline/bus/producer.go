package bus

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/rs/zerolog"
	"github.com/segmentio/kafka-go"
)

// Message is a record to produce. Key chooses the partition (murmur2, as the
// Java client does), so records with the same key stay in order: use the
// host or the flow, so that related events meet in one detection worker.
type Message struct {
	Topic   string
	Key     []byte
	Value   []byte
	Headers []Header
	Time    time.Time // zero: now
}

// Header is a Kafka record header.
type Header struct {
	Key   string
	Value []byte
}

// ProducerOptions tunes a Producer. Zero values take the defaults.
type ProducerOptions struct {
	BatchSize    int           // records per partition batch; default 1000
	BatchBytes   int64         // bytes per request; default 1 MiB, the broker's message.max.bytes
	Linger       time.Duration // how long a partial batch waits for more; default 2ms
	Attempts     int           // tries per batch, by kafka-go and then by Produce; default 5
	Compression  kafka.Compression
	Logger       zerolog.Logger
	WriteTimeout time.Duration // default 10s
}

// Producer writes records with acks=all and reports, per call, which were
// acknowledged. It is safe for concurrent use; concurrent calls share batches.
type Producer struct {
	w    *kafka.Writer
	opts ProducerOptions
}

// ProduceError reports the records of a Produce call that were not
// acknowledged: Errs[i] is nil when msgs[i] was acknowledged.
type ProduceError struct {
	Errs []error
}

func (e *ProduceError) Error() string {
	n, first := 0, error(nil)
	for _, err := range e.Errs {
		if err != nil {
			if first == nil {
				first = err
			}
			n++
		}
	}
	return fmt.Sprintf("produce: %d of %d records not acknowledged: %v", n, len(e.Errs), first)
}

// Unwrap returns the failures, so errors.Is sees through to their cause.
func (e *ProduceError) Unwrap() []error {
	var out []error
	for _, err := range e.Errs {
		if err != nil {
			out = append(out, err)
		}
	}
	return out
}

// NewProducer makes a producer. It does not connect until the first Produce.
func NewProducer(cfg Config, opts ProducerOptions) (*Producer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	tr, err := cfg.transport()
	if err != nil {
		return nil, err
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = 1000
	}
	if opts.BatchBytes <= 0 {
		opts.BatchBytes = 1 << 20
	}
	if opts.Linger <= 0 {
		opts.Linger = 2 * time.Millisecond
	}
	if opts.Attempts <= 0 {
		opts.Attempts = 5
	}
	if opts.WriteTimeout <= 0 {
		opts.WriteTimeout = 10 * time.Second
	}
	w := &kafka.Writer{
		Addr:            kafka.TCP(cfg.Brokers...),
		Balancer:        kafka.Murmur2Balancer{},
		MaxAttempts:     opts.Attempts,
		WriteBackoffMin: 50 * time.Millisecond,
		WriteBackoffMax: time.Second,
		BatchSize:       opts.BatchSize,
		BatchBytes:      opts.BatchBytes,
		BatchTimeout:    opts.Linger,
		WriteTimeout:    opts.WriteTimeout,
		ReadTimeout:     opts.WriteTimeout,
		RequiredAcks:    kafka.RequireAll,
		Compression:     opts.Compression,
		Transport:       tr,
		ErrorLogger:     kafka.LoggerFunc(func(msg string, args ...any) { opts.Logger.Debug().Msgf("kafka writer: "+msg, args...) }),
	}
	return &Producer{w: w, opts: opts}, nil
}

// Produce writes msgs and returns once every one is acknowledged by all
// in-sync replicas, or has failed. On failure it returns a *ProduceError that
// says which; a caller that must not lose them retries those (or spools
// them). A failure of the whole call, a cancelled context say, is reported
// for every record not acknowledged by then.
func (p *Producer) Produce(ctx context.Context, msgs []Message) error {
	if len(msgs) == 0 {
		return nil
	}
	km := make([]kafka.Message, len(msgs))
	for i, m := range msgs {
		km[i] = kafka.Message{Topic: m.Topic, Key: m.Key, Value: m.Value, Time: m.Time}
		for _, h := range m.Headers {
			km[i].Headers = append(km[i].Headers, kafka.Header{Key: h.Key, Value: h.Value})
		}
	}
	errs := make([]error, len(msgs))
	pending := make([]int, len(msgs))
	for i := range pending {
		pending[i] = i
	}
	backoff := 100 * time.Millisecond
	// kafka-go retries inside a batch; this loop also survives the first
	// request after a broker restart or a topic creation, which kafka-go
	// reports once as an error before its metadata catches up.
	for attempt := 1; ; attempt++ {
		batch := make([]kafka.Message, len(pending))
		for j, i := range pending {
			batch[j] = km[i]
		}
		err := p.w.WriteMessages(ctx, batch...)
		if err == nil {
			for _, i := range pending {
				errs[i] = nil
			}
			return nil
		}
		var we kafka.WriteErrors
		var still []int
		if errors.As(err, &we) && len(we) == len(pending) {
			for j, i := range pending {
				errs[i] = we[j]
				if we[j] != nil && retriable(we[j]) {
					still = append(still, i)
				}
			}
		} else {
			for _, i := range pending {
				errs[i] = err
			}
			if retriable(err) {
				still = pending
			}
		}
		pending = still
		if len(pending) == 0 || ctx.Err() != nil || attempt >= p.opts.Attempts {
			break
		}
		p.opts.Logger.Warn().Err(err).Int("records", len(pending)).Int("attempt", attempt).Msg("produce failed; retrying")
		select {
		case <-ctx.Done():
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 2*time.Second)
	}
	return &ProduceError{Errs: errs}
}

// retriable reports whether trying again may help: anything but a record the
// broker will never take.
func retriable(err error) bool {
	return !errors.Is(err, kafka.MessageSizeTooLarge) && !errors.Is(err, kafka.InvalidMessage) &&
		!errors.Is(err, kafka.TopicAuthorizationFailed) && !errors.Is(err, kafka.InvalidTopic)
}

// Close flushes nothing (Produce is synchronous) and releases connections.
func (p *Producer) Close() error { return p.w.Close() }

// Stats returns the kafka-go writer's counters since the last call.
func (p *Producer) Stats() kafka.WriterStats { return p.w.Stats() }
