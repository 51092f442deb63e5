package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/egovsoc/egovsoc/pipeline/bus"
	"github.com/egovsoc/egovsoc/pipeline/event"
)

// DetectionGroup is the default consumer group of detection.
const DetectionGroup = "socd-detect"

// DetectionOptions configures detection.
type DetectionOptions struct {
	Source    Source     // soc.events.<org> topics, group DetectionGroup (required)
	Alerts    Publisher  // where alerts go: soc.alerts (required)
	Detectors []Detector // at least one
	MaxBytes  int        // largest record decoded; default MaxRecordBytes
	Logger    zerolog.Logger
	Now       func() time.Time // default time.Now
}

// Detection runs detectors over the event stream.
type Detection struct {
	opts  DetectionOptions
	stats Stats
}

// NewDetection checks the options.
func NewDetection(opts DetectionOptions) (*Detection, error) {
	switch {
	case opts.Source == nil:
		return nil, errors.New("detection: source is required")
	case opts.Alerts == nil:
		return nil, errors.New("detection: alerts publisher is required")
	case len(opts.Detectors) == 0:
		return nil, errors.New("detection: at least one detector is required")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = MaxRecordBytes
	}
	return &Detection{opts: opts}, nil
}

// Stats returns the counters.
func (d *Detection) Stats() *Stats { return &d.stats }

// Run consumes until ctx is cancelled.
func (d *Detection) Run(ctx context.Context) error {
	return d.opts.Source.Run(ctx, d.handle)
}

type part struct {
	stream string
	org    string
	events []*event.Event
	ids    []string
}

func (d *Detection) handle(ctx context.Context, recs []bus.Record) error {
	d.stats.Records.Add(int64(len(recs)))
	now := d.opts.Now()
	// Split by partition, keeping order. Undecodable records are skipped
	// here: the index group dead-letters them, once.
	parts := map[string]*part{}
	var order []*part
	for _, r := range recs {
		stream, org := bus.ParseTopic(r.Topic)
		if stream != bus.StreamEvents {
			continue
		}
		e, id, bad := decodeEvent(r, org, now, d.opts.MaxBytes)
		if bad != nil {
			continue
		}
		key := r.Topic + "/" + strconv.Itoa(r.Partition)
		p := parts[key]
		if p == nil {
			p = &part{stream: key, org: org}
			parts[key] = p
			order = append(order, p)
		}
		p.events = append(p.events, e)
		p.ids = append(p.ids, id)
	}
	var n int64
	for _, p := range order {
		n += int64(len(p.events))
	}
	d.stats.Events.Add(n)

	// Partitions are examined concurrently, each by every detector in turn.
	var mu sync.Mutex
	var alerts []event.Alert
	var wg sync.WaitGroup
	for _, p := range order {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b := event.Batch{Stream: p.stream, Org: p.org, Events: p.events, IDs: p.ids}
			for _, det := range d.opts.Detectors {
				as, err := d.detect(ctx, det, b)
				if err != nil {
					d.stats.DetectorErr.Add(1)
					d.opts.Logger.Error().Err(err).Str("detector", det.Name()).Str("stream", p.stream).Msg("detector failed on a batch")
					continue
				}
				mu.Lock()
				alerts = append(alerts, as...)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(alerts) == 0 {
		return nil
	}
	msgs := make([]bus.Message, 0, len(alerts))
	for i := range alerts {
		a := &alerts[i]
		if a.Status == "" {
			a.Status = event.StatusOpen
		}
		if a.Created.IsZero() {
			a.Created = now
		}
		if err := a.Validate(); err != nil {
			d.stats.DetectorErr.Add(1)
			d.opts.Logger.Error().Err(err).Str("detector", a.Detector).Msg("detector raised an invalid alert; dropped")
			continue
		}
		v, err := json.Marshal(a)
		if err != nil {
			d.opts.Logger.Error().Err(err).Str("detector", a.Detector).Msg("alert could not be encoded; dropped")
			continue
		}
		msgs = append(msgs, bus.Message{Topic: bus.TopicAlerts, Key: []byte(a.ID), Value: v, Time: a.Time})
	}
	// The detectors have seen these events and updated their state; the
	// alerts are retried here rather than by re-running the batch.
	backoff := 100 * time.Millisecond
	for {
		err := d.opts.Alerts.Produce(ctx, msgs)
		if err == nil {
			break
		}
		d.stats.Retries.Add(1)
		var pe *bus.ProduceError
		if errors.As(err, &pe) {
			var again []bus.Message
			for i, e := range pe.Errs {
				if e != nil {
					again = append(again, msgs[i])
				}
			}
			msgs = again
		}
		if ctx.Err() != nil {
			return fmt.Errorf("publish alerts: %w", err)
		}
		d.opts.Logger.Warn().Err(err).Int("alerts", len(msgs)).Msg("publishing alerts failed; retrying")
		select {
		case <-ctx.Done():
			return fmt.Errorf("publish alerts: %w", ctx.Err())
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
	d.stats.Alerts.Add(int64(len(msgs)))
	return nil
}

// detect runs one detector, turning a panic into an error so a broken
// detector cannot take socd down.
func (d *Detection) detect(ctx context.Context, det Detector, b event.Batch) (as []event.Alert, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("detector %s panicked: %v", det.Name(), r)
		}
	}()
	return det.Detect(ctx, b)
}
