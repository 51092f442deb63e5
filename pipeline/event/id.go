package event

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
)

// ID derives a deterministic document id from its parts: the same parts give
// the same id on every replay, so a store overwrites instead of duplicating.
// Parts are length-prefixed before hashing, so ("ab","c") and ("a","bc")
// differ. The id is 32 hex characters (128 bits of SHA-256).
func ID(parts ...string) string {
	h := sha256.New()
	var n [4]byte
	for _, p := range parts {
		binary.BigEndian.PutUint32(n[:], uint32(len(p)))
		h.Write(n[:])
		h.Write([]byte(p))
	}
	var sum [sha256.Size]byte
	return hex.EncodeToString(h.Sum(sum[:0])[:16])
}

// DocID is the store id of an event of organisation org. A sender's own
// event.id is honoured, but within the organisation only, so one agency can
// never overwrite another's event by choosing its id. An event without an
// id is named by where it sits in the bus (topic, partition, offset), which
// is as stable across replays.
func DocID(org string, e *Event, topic string, partition int, offset int64) string {
	if id := e.Get(FieldID); id.kind == KindString && id.s != "" {
		return ID("event", org, id.s)
	}
	var b [20]byte
	binary.BigEndian.PutUint64(b[:8], uint64(partition))
	binary.BigEndian.PutUint64(b[8:16], uint64(offset))
	return ID("record", topic, string(b[:16]))
}
