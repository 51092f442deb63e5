package ingest

import "sync/atomic"

// Stats counts what a pipeline stage did since it started. Read it with
// Snapshot; the counters are updated atomically.
type Stats struct {
	Records     atomic.Int64 // records received
	Events      atomic.Int64 // events decoded
	Alerts      atomic.Int64 // alerts raised (detection) or stored (index)
	Checks      atomic.Int64 // checks stored
	Stored      atomic.Int64 // documents the store acknowledged
	DeadLetters atomic.Int64 // records sent to the dead-letter topic
	Retries     atomic.Int64 // batches retried because the store or the bus failed
	DetectorErr atomic.Int64 // batches a detector failed to examine
}

// Snapshot is a copy of Stats.
type Snapshot struct {
	Records, Events, Alerts, Checks, Stored, DeadLetters, Retries, DetectorErr int64
}

// Snapshot copies the counters.
func (s *Stats) Snapshot() Snapshot {
	return Snapshot{
		Records: s.Records.Load(), Events: s.Events.Load(), Alerts: s.Alerts.Load(), Checks: s.Checks.Load(),
		Stored: s.Stored.Load(), DeadLetters: s.DeadLetters.Load(), Retries: s.Retries.Load(), DetectorErr: s.DetectorErr.Load(),
	}
}
