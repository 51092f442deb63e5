package event

// Batch is what a detector examines at a time: events of one organisation's
// stream, in the order they were recorded.
type Batch struct {
	// Stream names the bus partition the events came from ("topic/partition").
	// A stateful detector keeps its state per Stream: events that belong
	// together (one host, one flow) are keyed into the same partition.
	Stream string
	// Org is the organisation the events belong to (from the topic).
	Org string
	// Events are read-only; a detector must not keep them after Detect
	// returns (it may keep values copied out of them).
	Events []*Event
	// IDs are the store ids of Events, index for index: what an alert
	// lists in its EventIDs.
	IDs []string
}
