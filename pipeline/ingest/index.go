package ingest

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/egovsoc/egovsoc/pipeline/bus"
	"github.com/egovsoc/egovsoc/pipeline/store"
)

// IndexGroup is the default consumer group of indexing.
const IndexGroup = "socd-index"

// IndexOptions configures indexing.
type IndexOptions struct {
	Source     Source      // events, checks and alerts topics, group IndexGroup (required)
	Store      store.Store // (required)
	DeadLetter Publisher   // soc.deadletter (required)
	Group      string      // named in dead letters; default IndexGroup
	MaxBytes   int         // largest record decoded; default MaxRecordBytes
	Logger     zerolog.Logger
	Now        func() time.Time
}

// Index writes what the bus carries into the store.
type Index struct {
	opts    IndexOptions
	stats   Stats
	deadLog zerolog.Logger // sampled: a flood of bad records must not flood the log
}

// NewIndex checks the options.
func NewIndex(opts IndexOptions) (*Index, error) {
	switch {
	case opts.Source == nil:
		return nil, errors.New("index: source is required")
	case opts.Store == nil:
		return nil, errors.New("index: store is required")
	case opts.DeadLetter == nil:
		return nil, errors.New("index: dead-letter publisher is required")
	}
	if opts.Group == "" {
		opts.Group = IndexGroup
	}
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = MaxRecordBytes
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	dl := opts.Logger.Sample(&zerolog.BurstSampler{Burst: 20, Period: 10 * time.Second})
	return &Index{opts: opts, deadLog: dl}, nil
}

// Stats returns the counters.
func (x *Index) Stats() *Stats { return &x.stats }

// Run consumes until ctx is cancelled.
func (x *Index) Run(ctx context.Context) error {
	return x.opts.Source.Run(ctx, x.handle)
}

// handle stores a batch. It returns an error, so the batch comes again and
// nothing is committed, when the store or the dead-letter topic is
// unavailable; documents the store rejects for good are dead-lettered.
func (x *Index) handle(ctx context.Context, recs []bus.Record) error {
	x.stats.Records.Add(int64(len(recs)))
	now := x.opts.Now()
	// Decode on every core; the store write that follows is serial.
	decoded := make([]store.Doc, len(recs))
	faults := make([]*badRecord, len(recs))
	workers := min(runtime.GOMAXPROCS(0), (len(recs)+255)/256)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(recs); i += workers {
				decoded[i], faults[i] = decodeRecord(recs[i], now, x.opts.MaxBytes)
			}
		}()
	}
	wg.Wait()
	docs := make([]store.Doc, 0, len(recs))
	src := make([]int, 0, len(recs)) // record index of each doc
	var bad []badRecord
	for i := range recs {
		if faults[i] != nil {
			bad = append(bad, *faults[i])
			continue
		}
		docs = append(docs, decoded[i])
		src = append(src, i)
	}
	if len(docs) > 0 {
		results, err := x.opts.Store.Write(ctx, docs)
		if err != nil {
			x.stats.Retries.Add(1)
			return fmt.Errorf("store %d documents: %w", len(docs), err)
		}
		var unavailable error
		var stored, events, alerts, checks int64
		for i, rerr := range results {
			switch {
			case rerr == nil:
				stored++
				switch docs[i].Kind {
				case store.KindEvent:
					events++
				case store.KindAlert:
					alerts++
				case store.KindCheck:
					checks++
				}
			case errors.Is(rerr, store.ErrRejected):
				bad = append(bad, badRecord{recs[src[i]], ReasonRejected, rerr})
			default:
				unavailable = rerr
			}
		}
		if unavailable != nil {
			// Retry the whole batch: what was stored is stored again as a
			// no-op (deterministic ids), the rest gets another chance.
			x.stats.Retries.Add(1)
			return fmt.Errorf("store: %w", unavailable)
		}
		x.stats.Stored.Add(stored)
		x.stats.Events.Add(events)
		x.stats.Alerts.Add(alerts)
		x.stats.Checks.Add(checks)
	}
	if len(bad) > 0 {
		msgs := make([]bus.Message, len(bad))
		for i, b := range bad {
			msgs[i] = deadLetter(b, x.opts.Group, now)
			x.deadLog.Warn().Str("topic", b.rec.Topic).Int("partition", b.rec.Partition).Int64("offset", b.rec.Offset).
				Str("reason", b.reason).Err(b.err).Msg("record dead-lettered")
		}
		if err := x.opts.DeadLetter.Produce(ctx, msgs); err != nil {
			x.stats.Retries.Add(1)
			return fmt.Errorf("dead-letter %d records: %w", len(msgs), err)
		}
		x.stats.DeadLetters.Add(int64(len(msgs)))
	}
	return nil
}
