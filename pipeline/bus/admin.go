package bus

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/segmentio/kafka-go"
)

// Admin does the cluster-level chores: topics, offsets, consumer lag.
type Admin struct {
	c *kafka.Client
}

// NewAdmin makes an admin client.
func NewAdmin(cfg Config) (*Admin, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	tr, err := cfg.transport()
	if err != nil {
		return nil, err
	}
	return &Admin{c: &kafka.Client{Addr: kafka.TCP(cfg.Brokers...), Timeout: 10 * time.Second, Transport: tr}}, nil
}

// EnsureTopics creates the topics that do not exist yet. Existing topics are
// left as they are. It retries for a while, because a broker that has just
// started may not answer the first request.
func (a *Admin) EnsureTopics(ctx context.Context, topics []string, partitions, replication int) error {
	if len(topics) == 0 {
		return nil
	}
	req := &kafka.CreateTopicsRequest{}
	for _, t := range topics {
		req.Topics = append(req.Topics, kafka.TopicConfig{Topic: t, NumPartitions: partitions, ReplicationFactor: replication})
	}
	var last error
	for attempt := 0; attempt < 10; attempt++ {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return fmt.Errorf("create topics: %w (last error: %v)", ctx.Err(), last)
			case <-time.After(time.Duration(attempt) * 200 * time.Millisecond):
			}
		}
		resp, err := a.c.CreateTopics(ctx, req)
		if err != nil {
			last = err
			continue
		}
		last = nil
		for t, err := range resp.Errors {
			if err != nil && !errors.Is(err, kafka.TopicAlreadyExists) {
				last = fmt.Errorf("topic %s: %w", t, err)
			}
		}
		if last == nil {
			return nil
		}
	}
	return fmt.Errorf("create topics: %w", last)
}

// Partitions returns the partition numbers of each topic that exists.
func (a *Admin) Partitions(ctx context.Context, topics []string) (map[string][]int, error) {
	resp, err := a.c.Metadata(ctx, &kafka.MetadataRequest{Topics: topics})
	if err != nil {
		return nil, fmt.Errorf("metadata: %w", err)
	}
	out := make(map[string][]int)
	for _, t := range resp.Topics {
		if t.Error != nil {
			continue
		}
		for _, p := range t.Partitions {
			out[t.Name] = append(out[t.Name], p.ID)
		}
	}
	return out, nil
}

// Offsets are the first and next offsets of a partition.
type Offsets struct{ First, End int64 }

// Offsets lists the offsets of every partition of the topics.
func (a *Admin) Offsets(ctx context.Context, topics []string) (map[string]map[int]Offsets, error) {
	parts, err := a.Partitions(ctx, topics)
	if err != nil {
		return nil, err
	}
	req := &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{}}
	for t, ps := range parts {
		for _, p := range ps {
			req.Topics[t] = append(req.Topics[t], kafka.FirstOffsetOf(p), kafka.LastOffsetOf(p))
		}
	}
	resp, err := a.c.ListOffsets(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("list offsets: %w", err)
	}
	out := make(map[string]map[int]Offsets)
	for t, ps := range resp.Topics {
		out[t] = make(map[int]Offsets)
		for _, p := range ps {
			if p.Error != nil {
				return nil, fmt.Errorf("list offsets %s/%d: %w", t, p.Partition, p.Error)
			}
			out[t][p.Partition] = Offsets{First: p.FirstOffset, End: p.LastOffset}
		}
	}
	return out, nil
}

// Records counts the records held in the topics.
func (a *Admin) Records(ctx context.Context, topics []string) (int64, error) {
	offs, err := a.Offsets(ctx, topics)
	if err != nil {
		return 0, err
	}
	var n int64
	for _, ps := range offs {
		for _, o := range ps {
			n += o.End - o.First
		}
	}
	return n, nil
}

// Lag counts the records of the topics that the group has not committed.
func (a *Admin) Lag(ctx context.Context, group string, topics []string) (int64, error) {
	offs, err := a.Offsets(ctx, topics)
	if err != nil {
		return 0, err
	}
	req := &kafka.OffsetFetchRequest{GroupID: group, Topics: map[string][]int{}}
	for t, ps := range offs {
		for p := range ps {
			req.Topics[t] = append(req.Topics[t], p)
		}
	}
	resp, err := a.c.OffsetFetch(ctx, req)
	if err != nil {
		return 0, fmt.Errorf("offset fetch %s: %w", group, err)
	}
	if resp.Error != nil {
		return 0, fmt.Errorf("offset fetch %s: %w", group, resp.Error)
	}
	committed := make(map[string]map[int]int64)
	for t, ps := range resp.Topics {
		committed[t] = make(map[int]int64)
		for _, p := range ps {
			if p.Error == nil {
				committed[t][p.Partition] = p.CommittedOffset
			}
		}
	}
	var lag int64
	for t, ps := range offs {
		for p, o := range ps {
			c, ok := committed[t][p]
			if !ok || c < o.First {
				c = o.First
			}
			lag += o.End - c
		}
	}
	return lag, nil
}
