// Package event is the shared vocabulary of egovsoc: the Elastic Common Schema
// (ECS) event as it travels on the wire, the alert a detector raises, and the
// result of an availability check.
//
// Events are decoded once into a flat index of their leaf fields. A Field is a
// dotted ECS path compiled ahead of time (its hash is computed once), so a rule
// that reads dozens of fields per event pays a table probe per read, not a walk
// of the document. Nested objects ({"source":{"ip":…}}) and dotted keys
// ({"source.ip":…}) are the same field; values inside arrays, including arrays
// of objects (dns.answers[].data), are all values of one field.
//
// Decoding never copies string values: an Event owns the bytes it was decoded
// from, and the strings it hands out point into them. The caller must not
// modify those bytes after Decode.
//
// This package imports only the standard library and does no I/O.
package event
