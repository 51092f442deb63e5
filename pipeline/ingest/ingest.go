// Package ingest is socd's pipeline from the bus to detection and the store.
// It runs two independent consumer groups, so a slow store never delays an
// alert:
//
//   - Detection: soc.events.<org> → decode → detectors → soc.alerts.
//   - Indexing: soc.events.<org>, soc.checks.<org>, soc.alerts → store.
//
// Offsets are committed only after the alerts were acknowledged by Kafka
// (detection) or the documents by the store (indexing). A record that cannot
// be decoded goes to soc.deadletter with the reason, and its partition moves
// on. Every document has a deterministic id, so what is delivered twice is
// stored once.
//
// This package knows the bus and the store through their contracts; cmd/
// wires the concrete broker and store.
package ingest

import (
	"context"

	"github.com/egovsoc/egovsoc/pipeline/bus"
	"github.com/egovsoc/egovsoc/pipeline/event"
)

// Detector examines batches of events and raises alerts.
//
// Detect is called with the batches of one Stream in order, never two at
// once for the same Stream; batches of different Streams may be examined
// concurrently, so a stateful detector keeps its state per Stream and guards
// what it shares. It returns the alerts the batch raised, with deterministic
// ids (the same events give the same ids), and must not keep the events. An
// error means the batch was not examined; it is logged and counted, and the
// pipeline moves on, so one broken detector never stalls the others.
type Detector interface {
	Name() string
	Detect(ctx context.Context, b event.Batch) ([]event.Alert, error)
}

// Source delivers batches of records and commits them once the handler
// returns nil (bus.Consumer).
type Source interface {
	Run(ctx context.Context, h bus.Handler) error
}

// Publisher writes records and returns once they are acknowledged
// (bus.Producer).
type Publisher interface {
	Produce(ctx context.Context, msgs []bus.Message) error
}

// MaxRecordBytes is the largest record decoded; larger ones are
// dead-lettered (Kafka's own default limit is 1 MiB).
const MaxRecordBytes = 1 << 20
