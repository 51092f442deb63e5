package bus

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/rs/zerolog"
	"github.com/segmentio/kafka-go"
)

// Record is one record read from Kafka. Value and Key belong to the handler
// once delivered (they are not reused).
type Record struct {
	Topic     string
	Partition int
	Offset    int64
	Key       []byte
	Value     []byte
	Headers   []Header
	Time      time.Time // the record's timestamp
}

// Handler handles one batch. Within a batch, records of one partition are in
// offset order. Returning nil means every record was dealt with (stored,
// forwarded or dead-lettered), and their offsets are committed. Returning an
// error means none may be assumed handled: the same batch is delivered again
// after a backoff, without committing, until the handler succeeds or the
// consumer stops. A handler must therefore be idempotent, and must not fail a
// batch for a record that will never succeed: that record belongs in the
// dead-letter topic, or the partition stalls.
type Handler func(ctx context.Context, batch []Record) error

// ConsumerOptions configures a consumer-group member. Zero values take the
// defaults.
type ConsumerOptions struct {
	Group      string        // consumer group id (required)
	Topics     []string      // topics to read (required)
	MaxBatch   int           // records per batch; default 1000
	Linger     time.Duration // how long to wait to fill a batch once it has a record; default 20ms
	MinBackoff time.Duration // first wait after a handler error; default 100ms
	MaxBackoff time.Duration // longest wait; default 10s
	Logger     zerolog.Logger
}

// Consumer is one member of a consumer group. Partitions are shared among the
// members with the same Group, so socd scales out by running more of them.
type Consumer struct {
	r    *kafka.Reader
	opts ConsumerOptions
}

// NewConsumer joins a consumer group. A group that has committed nothing
// starts at the oldest record.
func NewConsumer(cfg Config, opts ConsumerOptions) (*Consumer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if opts.Group == "" {
		return nil, errors.New("bus: consumer: group is required")
	}
	if len(opts.Topics) == 0 {
		return nil, errors.New("bus: consumer: topics: at least one is required")
	}
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 1000
	}
	if opts.Linger <= 0 {
		opts.Linger = 20 * time.Millisecond
	}
	if opts.MinBackoff <= 0 {
		opts.MinBackoff = 100 * time.Millisecond
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = 10 * time.Second
	}
	d, err := cfg.dialer()
	if err != nil {
		return nil, err
	}
	log := opts.Logger.With().Str("group", opts.Group).Logger()
	opts.Logger = log
	r := kafka.NewReader(kafka.ReaderConfig{
		Brokers:                cfg.Brokers,
		GroupID:                opts.Group,
		GroupTopics:            opts.Topics,
		Dialer:                 d,
		QueueCapacity:          opts.MaxBatch,
		MinBytes:               1,
		MaxBytes:               8 << 20,
		MaxWait:                250 * time.Millisecond,
		ReadBatchTimeout:       5 * time.Second,
		HeartbeatInterval:      time.Second,
		CommitInterval:         0, // synchronous: commit only what the handler acknowledged
		PartitionWatchInterval: 5 * time.Second,
		WatchPartitionChanges:  true,
		SessionTimeout:         10 * time.Second,
		RebalanceTimeout:       10 * time.Second,
		JoinGroupBackoff:       500 * time.Millisecond,
		StartOffset:            kafka.FirstOffset,
		ReadBackoffMin:         50 * time.Millisecond,
		ReadBackoffMax:         time.Second,
		MaxAttempts:            10,
		ErrorLogger:            kafka.LoggerFunc(func(msg string, args ...any) { log.Debug().Msgf("kafka reader: "+msg, args...) }),
	})
	return &Consumer{r: r, opts: opts}, nil
}

// Run delivers batches to h until ctx is cancelled, then leaves the group and
// returns nil. Offsets are committed only after h returned nil for a batch.
func (c *Consumer) Run(ctx context.Context, h Handler) error {
	defer c.r.Close()
	msgs := make([]kafka.Message, 0, c.opts.MaxBatch)
	for {
		msgs = msgs[:0]
		m, err := c.r.FetchMessage(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("consume %s: %w", c.opts.Group, err)
		}
		msgs = append(msgs, m)
		fill, cancel := context.WithTimeout(ctx, c.opts.Linger)
		for len(msgs) < c.opts.MaxBatch {
			m, err := c.r.FetchMessage(fill)
			if err != nil {
				break
			}
			msgs = append(msgs, m)
		}
		cancel()

		batch := make([]Record, len(msgs))
		for i, m := range msgs {
			batch[i] = Record{Topic: m.Topic, Partition: m.Partition, Offset: m.Offset, Key: m.Key, Value: m.Value, Time: m.Time}
			for _, hd := range m.Headers {
				batch[i].Headers = append(batch[i].Headers, Header{Key: hd.Key, Value: hd.Value})
			}
		}
		if !c.handle(ctx, h, batch) {
			return nil // stopped before the batch was handled: not committed
		}
		// Commit even while stopping: the batch was handled.
		cctx, cancelCommit := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		err = c.r.CommitMessages(cctx, msgs...)
		cancelCommit()
		if err != nil {
			// A rebalance took the partitions away; their new owner will
			// read these records again, and handling is idempotent.
			c.opts.Logger.Warn().Err(err).Int("records", len(msgs)).Msg("commit failed; records will be delivered again")
		}
		if ctx.Err() != nil {
			return nil
		}
	}
}

// handle retries h with backoff until it succeeds (true) or ctx ends (false).
func (c *Consumer) handle(ctx context.Context, h Handler, batch []Record) bool {
	backoff := c.opts.MinBackoff
	for {
		err := h(ctx, batch)
		if err == nil {
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		c.opts.Logger.Warn().Err(err).Int("records", len(batch)).Dur("backoff", backoff).Msg("batch not handled; will retry")
		select {
		case <-ctx.Done():
			return false
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, c.opts.MaxBackoff)
	}
}

// Lag is how many records the group has not yet committed, over the
// partitions this member holds (kafka-go's view, updated as it fetches).
func (c *Consumer) Lag() int64 { return c.r.Stats().Lag }
