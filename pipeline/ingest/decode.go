package ingest

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/egovsoc/egovsoc/pipeline/bus"
	"github.com/egovsoc/egovsoc/pipeline/event"
	"github.com/egovsoc/egovsoc/pipeline/store"
)

// Reasons a record is dead-lettered.
const (
	ReasonTooLarge = "too_large"
	ReasonDecode   = "decode"
	ReasonInvalid  = "invalid"
	ReasonTopic    = "unknown_topic"
	ReasonRejected = "rejected_by_store"
)

// badRecord is a record that could not be used, and why.
type badRecord struct {
	rec    bus.Record
	reason string
	err    error
}

type stamp struct {
	f event.Field
	v event.Value
}

// decodeEvent decodes, validates and stamps an event record of org.
// now is the ingest time.
func decodeEvent(rec bus.Record, org string, now time.Time, maxBytes int) (*event.Event, string, *badRecord) {
	if len(rec.Value) > maxBytes {
		return nil, "", &badRecord{rec, ReasonTooLarge, fmt.Errorf("record of %d bytes exceeds %d", len(rec.Value), maxBytes)}
	}
	e, err := event.Decode(rec.Value)
	if err != nil {
		return nil, "", &badRecord{rec, ReasonDecode, err}
	}
	if err := e.Validate(); err != nil {
		return nil, "", &badRecord{rec, ReasonInvalid, err}
	}
	// What the pipeline knows better than the sender.
	sets := []stamp{
		{event.FieldOrg, event.String(org)},
		{event.FieldIngested, event.String(now.UTC().Format(time.RFC3339Nano))},
	}
	if !e.Has(event.FieldTimestamp) {
		t := rec.Time
		if t.IsZero() {
			t = now
		}
		sets = append(sets, stamp{event.FieldTimestamp, event.String(t.UTC().Format(time.RFC3339Nano))})
	}
	if !e.Has(event.FieldKind) {
		sets = append(sets, stamp{event.FieldKind, event.String("event")})
	}
	for _, s := range sets {
		if err := e.Set(s.f, s.v); err != nil {
			return nil, "", &badRecord{rec, ReasonInvalid, err}
		}
	}
	id := event.DocID(org, e, rec.Topic, rec.Partition, rec.Offset)
	return e, id, nil
}

// eventTime is the event's @timestamp, already validated.
func eventTime(e *event.Event) time.Time {
	t, _ := e.Time()
	return t
}

// decodeRecord turns any record the index group reads into a document.
func decodeRecord(rec bus.Record, now time.Time, maxBytes int) (store.Doc, *badRecord) {
	stream, org := bus.ParseTopic(rec.Topic)
	switch stream {
	case bus.StreamEvents:
		e, id, bad := decodeEvent(rec, org, now, maxBytes)
		if bad != nil {
			return store.Doc{}, bad
		}
		return store.Doc{Kind: store.KindEvent, ID: id, Org: org, Time: eventTime(e), Event: e}, nil
	case bus.StreamChecks:
		if len(rec.Value) > maxBytes {
			return store.Doc{}, &badRecord{rec, ReasonTooLarge, fmt.Errorf("record of %d bytes exceeds %d", len(rec.Value), maxBytes)}
		}
		var c event.Check
		if err := json.Unmarshal(rec.Value, &c); err != nil {
			return store.Doc{}, &badRecord{rec, ReasonDecode, err}
		}
		c.Org = org // from the topic, never the payload
		// The sender's id, within its organisation only.
		c.ID = event.ID("check", org, c.ID)
		return store.Doc{Kind: store.KindCheck, ID: c.ID, Org: org, Time: c.Time, Check: &c}, nil
	case bus.StreamAlerts:
		// Only socd writes soc.alerts (the ACLs see to it), so the
		// organisation inside the alert is trusted.
		var a event.Alert
		if err := json.Unmarshal(rec.Value, &a); err != nil {
			return store.Doc{}, &badRecord{rec, ReasonDecode, err}
		}
		return store.Doc{Kind: store.KindAlert, ID: a.ID, Org: a.Org, Time: a.Time, Alert: &a}, nil
	}
	return store.Doc{}, &badRecord{rec, ReasonTopic, fmt.Errorf("topic %q is not one socd indexes", rec.Topic)}
}

// maxOriginal bounds the copy of a bad record kept in the dead-letter topic.
const maxOriginal = 64 << 10

// deadLetter builds the dead-letter record for a bad record: ECS, with the
// reason in error.*, where it came from, and the original (cut at 64 KiB).
func deadLetter(b badRecord, group string, now time.Time) bus.Message {
	var w struct {
		Timestamp time.Time `json:"@timestamp"`
		Event     struct {
			Kind     string `json:"kind"`
			ID       string `json:"id"`
			Dataset  string `json:"dataset"`
			Original string `json:"original"`
		} `json:"event"`
		Error struct {
			Type    string `json:"type"`
			Message string `json:"message"`
		} `json:"error"`
		Egovsoc struct {
			DeadLetter struct {
				Group     string `json:"group"`
				Topic     string `json:"topic"`
				Partition int    `json:"partition"`
				Offset    int64  `json:"offset"`
				Bytes     int    `json:"bytes"`
				Truncated bool   `json:"truncated"`
				Encoding  string `json:"encoding"`
			} `json:"deadletter"`
		} `json:"egovsoc"`
	}
	w.Timestamp = now.UTC()
	w.Event.Kind = "pipeline_error"
	w.Event.ID = event.ID("deadletter", b.rec.Topic, strconv.Itoa(b.rec.Partition), strconv.FormatInt(b.rec.Offset, 10))
	w.Event.Dataset = "egovsoc.deadletter"
	w.Error.Type = b.reason
	w.Error.Message = b.err.Error()
	orig := b.rec.Value
	dl := &w.Egovsoc.DeadLetter
	dl.Group, dl.Topic, dl.Partition, dl.Offset, dl.Bytes = group, b.rec.Topic, b.rec.Partition, b.rec.Offset, len(orig)
	if len(orig) > maxOriginal {
		orig, dl.Truncated = orig[:maxOriginal], true
	}
	if utf8.Valid(orig) {
		w.Event.Original, dl.Encoding = string(orig), "utf-8"
	} else {
		w.Event.Original, dl.Encoding = fmt.Sprintf("%x", orig), "hex"
	}
	v, err := json.Marshal(&w)
	if err != nil { // cannot happen: every field is a plain value
		v = []byte(`{"error":{"message":"dead letter could not be encoded"}}`)
	}
	return bus.Message{Topic: bus.TopicDeadLetter, Key: []byte(w.Event.ID), Value: v, Time: now}
}
