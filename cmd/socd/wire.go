package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/egovsoc/egovsoc/pipeline/bus"
	"github.com/egovsoc/egovsoc/pipeline/catalog"
	"github.com/egovsoc/egovsoc/pipeline/ingest"
	"github.com/egovsoc/egovsoc/pipeline/store"
	"github.com/egovsoc/egovsoc/rules/sigma"
	"github.com/egovsoc/egovsoc/ui"
)

// pipelineConfig is what the pipeline needs from either mode.
type pipelineConfig struct {
	Bus          bus.Config
	Store        store.Store
	Catalog      *catalog.Catalog
	Detect       bool // run the detection group
	Index        bool // run the index group
	CreateTopics bool
	Partitions   int
	Replication  int
	Rules        rulesConfig
	Log          zerolog.Logger
}

// pipeline is the running detection and index groups with their producers.
type pipeline struct {
	detect    *ingest.Detection
	index     *ingest.Index
	producers []*bus.Producer
	sigma     *sigma.Engine
	rules     *ruleLoader
	log       zerolog.Logger
}

// topics lists what socd consumes for the catalogue's organisations.
func topics(c *catalog.Catalog) (events, all []string, err error) {
	var orgs []string
	for _, o := range c.Orgs() {
		orgs = append(orgs, o.Code)
	}
	events, err = bus.OrgTopics(orgs, bus.StreamEvents)
	if err != nil {
		return nil, nil, err
	}
	all, err = bus.OrgTopics(orgs, bus.StreamEvents, bus.StreamChecks)
	if err != nil {
		return nil, nil, err
	}
	return events, all, nil
}

func newPipeline(ctx context.Context, cfg pipelineConfig) (*pipeline, error) {
	evTopics, orgTopics, err := topics(cfg.Catalog)
	if err != nil {
		return nil, err
	}
	if cfg.CreateTopics {
		admin, err := bus.NewAdmin(cfg.Bus)
		if err != nil {
			return nil, err
		}
		all := append(orgTopics, bus.TopicAlerts, bus.TopicDeadLetter, bus.TopicHeartbeats)
		if err := admin.EnsureTopics(ctx, all, cfg.Partitions, cfg.Replication); err != nil {
			return nil, err
		}
		cfg.Log.Info().Int("topics", len(all)).Msg("topics ready")
	}
	p := &pipeline{log: cfg.Log}
	newProducer := func(name string) (*bus.Producer, error) {
		pr, err := bus.NewProducer(cfg.Bus, bus.ProducerOptions{Logger: cfg.Log.With().Str("producer", name).Logger()})
		if err == nil {
			p.producers = append(p.producers, pr)
		}
		return pr, err
	}
	if cfg.Detect {
		det, rules, err := newSigma(cfg.Rules, cfg.Catalog, cfg.Log.With().Str("stage", "detect").Logger())
		if err != nil {
			return nil, err
		}
		p.sigma, p.rules = det, rules
		src, err := bus.NewConsumer(cfg.Bus, bus.ConsumerOptions{Group: ingest.DetectionGroup, Topics: evTopics, Logger: cfg.Log})
		if err != nil {
			return nil, err
		}
		alerts, err := newProducer("alerts")
		if err != nil {
			return nil, err
		}
		p.detect, err = ingest.NewDetection(ingest.DetectionOptions{
			Source: src, Alerts: alerts, Detectors: []ingest.Detector{det},
			Logger: cfg.Log.With().Str("stage", "detect").Logger(),
		})
		if err != nil {
			return nil, err
		}
	}
	if cfg.Index {
		// Larger batches: one store transaction and one commit per batch.
		src, err := bus.NewConsumer(cfg.Bus, bus.ConsumerOptions{Group: ingest.IndexGroup, Topics: append(orgTopics, bus.TopicAlerts), MaxBatch: 5000, Linger: 50 * time.Millisecond, Logger: cfg.Log})
		if err != nil {
			return nil, err
		}
		dl, err := newProducer("deadletter")
		if err != nil {
			return nil, err
		}
		p.index, err = ingest.NewIndex(ingest.IndexOptions{
			Source: src, Store: cfg.Store, DeadLetter: dl,
			Logger: cfg.Log.With().Str("stage", "index").Logger(),
		})
		if err != nil {
			return nil, err
		}
	}
	return p, nil
}

// Run runs the groups until ctx is cancelled. A group that fails stops the
// others.
func (p *pipeline) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errc := make(chan error, 3)
	start := func(name string, run func(context.Context) error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := run(ctx); err != nil {
				errc <- fmt.Errorf("%s: %w", name, err)
				cancel()
			}
		}()
	}
	if p.detect != nil {
		start("detection", p.detect.Run)
		start("rules", func(ctx context.Context) error { return p.rules.watch(ctx, p.sigma) })
	}
	if p.index != nil {
		start("index", p.index.Run)
	}
	start("status", p.report)
	wg.Wait()
	close(errc)
	return <-errc
}

// report logs the counters every 10 seconds.
func (p *pipeline) report(ctx context.Context) error {
	t := time.NewTicker(10 * time.Second)
	defer t.Stop()
	var last ui.PipelineStats
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		s := p.Stats()
		p.log.Info().
			Int64("received", s.Received).Float64("received_per_s", float64(s.Received-last.Received)/10).
			Int64("stored", s.Stored).Int64("alerts", s.Alerts).Int64("dead_letters", s.DeadLetters).Int64("retries", s.Retries).
			Msg("pipeline")
		last = s
	}
}

// Stats sums the counters for the console.
func (p *pipeline) Stats() ui.PipelineStats {
	var s ui.PipelineStats
	if p.index != nil {
		x := p.index.Stats().Snapshot()
		s.Received, s.Stored, s.DeadLetters, s.Retries = x.Records, x.Stored, x.DeadLetters, x.Retries
	}
	if p.detect != nil {
		d := p.detect.Stats().Snapshot()
		s.Alerts = d.Alerts
		s.Retries += d.Retries
		if p.index == nil {
			s.Received = d.Records
		}
	}
	return s
}

// Close releases the producers and saves the detection state.
func (p *pipeline) Close() {
	if p.sigma != nil {
		if err := p.sigma.Close(); err != nil {
			p.log.Warn().Err(err).Msg("sigma: state not saved")
		}
	}
	for _, pr := range p.producers {
		if err := pr.Close(); err != nil {
			p.log.Warn().Err(err).Msg("close producer")
		}
	}
}
