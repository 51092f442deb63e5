package simulate

import (
	"bytes"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"net/netip"
	"strconv"
	"time"

	"github.com/egovsoc/egovsoc/pipeline/event"
)

// doc writes one ECS document as compact JSON, nested objects as a sensor
// writes them. Keys are constants of this package (ASCII, no escaping).
// Each object key must be written at most once per document: event.Decode
// rejects a field that appears twice.
type doc struct {
	b     []byte
	comma bool
}

func newDoc(size int) *doc {
	d := &doc{b: make([]byte, 0, size)}
	d.b = append(d.b, '{')
	return d
}

// bytes closes the document and returns it.
func (d *doc) bytes() []byte {
	d.b = append(d.b, '}')
	return d.b
}

func (d *doc) key(k string) {
	if d.comma {
		d.b = append(d.b, ',')
	}
	d.b = append(d.b, '"')
	d.b = append(d.b, k...)
	d.b = append(d.b, '"', ':')
}

func (d *doc) str(k, v string) {
	d.key(k)
	d.b = appendString(d.b, v)
	d.comma = true
}

// strOpt writes the string unless it is empty.
func (d *doc) strOpt(k, v string) {
	if v != "" {
		d.str(k, v)
	}
}

func (d *doc) int(k string, v int64) {
	d.key(k)
	d.b = strconv.AppendInt(d.b, v, 10)
	d.comma = true
}

func (d *doc) time(k string, t time.Time) {
	d.key(k)
	d.b = append(d.b, '"')
	d.b = appendTime(d.b, t)
	d.b = append(d.b, '"')
	d.comma = true
}

func (d *doc) strs(k string, vs ...string) {
	d.key(k)
	d.b = append(d.b, '[')
	for i, v := range vs {
		if i > 0 {
			d.b = append(d.b, ',')
		}
		d.b = appendString(d.b, v)
	}
	d.b = append(d.b, ']')
	d.comma = true
}

func (d *doc) open(k string) {
	d.key(k)
	d.b = append(d.b, '{')
	d.comma = false
}

func (d *doc) close() {
	d.b = append(d.b, '}')
	d.comma = true
}

// openArray starts an array of objects; item starts each element.
func (d *doc) openArray(k string) {
	d.key(k)
	d.b = append(d.b, '[')
	d.comma = false
}

func (d *doc) item() {
	if d.comma {
		d.b = append(d.b, ',')
	}
	d.b = append(d.b, '{')
	d.comma = false
}

func (d *doc) closeItem() {
	d.b = append(d.b, '}')
	d.comma = true
}

func (d *doc) closeArray() {
	d.b = append(d.b, ']')
	d.comma = true
}

// appendTime writes t in UTC, RFC 3339 with microseconds.
func appendTime(b []byte, t time.Time) []byte {
	return t.UTC().AppendFormat(b, "2006-01-02T15:04:05.000000Z07:00")
}

// appendString appends s as a JSON string (RFC 8259).
func appendString(b []byte, s string) []byte { return event.AppendString(b, s) }

// communityID is the Community ID (v1, seed 0) of a flow, the hash that lets
// Zeek, Suricata and packet sensors name the same connection alike.
func communityID(src, dst netip.Addr, sport, dport uint16, proto uint8) string {
	s, d := src.AsSlice(), dst.AsSlice()
	if c := bytes.Compare(s, d); c > 0 || (c == 0 && sport > dport) {
		s, d, sport, dport = d, s, dport, sport
	}
	var buf [2 + 16 + 16 + 2 + 4]byte
	b := buf[:2] // seed 0
	b = append(b, s...)
	b = append(b, d...)
	b = append(b, proto, 0)
	b = binary.BigEndian.AppendUint16(b, sport)
	b = binary.BigEndian.AppendUint16(b, dport)
	sum := sha1.Sum(b)
	return "1:" + base64.StdEncoding.EncodeToString(sum[:])
}

// mix is SplitMix64's finaliser: a cheap, well-spread hash of a counter.
// Attack and check content is drawn from mix(key, index) instead of a
// sequential generator, so it does not depend on how time is cut into steps.
func mix(a, b uint64) uint64 {
	z := a + b*0x9e3779b97f4a7c15 + 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// unit maps a hash to [0, 1).
func unit(h uint64) float64 { return float64(h>>11) / (1 << 53) }

// hashString is FNV-1a, for deriving stable keys from names.
func hashString(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

func ip4(a, b, c, d byte) netip.Addr { return netip.AddrFrom4([4]byte{a, b, c, d}) }
