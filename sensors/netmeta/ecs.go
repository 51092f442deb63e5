package netmeta

import (
	"net/netip"
	"strconv"
	"time"

	"github.com/egovsoc/egovsoc/pipeline/event"
)

// doc writes one ECS document as compact JSON with nested objects, without
// encoding/json. Keys are constants of this package (no escaping needed);
// every object's keys are written together, once each, because
// event.Decode rejects a field named twice.
type doc struct {
	b     []byte
	comma bool
}

func (d *doc) reset() {
	d.b = append(d.b[:0], '{')
	d.comma = false
}

// bytes closes the document and returns it (valid until the next reset).
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
	d.b = event.AppendString(d.b, v)
	d.comma = true
}

// strOpt writes the string unless it is empty.
func (d *doc) strOpt(k, v string) {
	if v != "" {
		d.str(k, v)
	}
}

// raw writes a value that needs no escaping (a constant of this package).
func (d *doc) raw(k, v string) {
	d.key(k)
	d.b = append(d.b, '"')
	d.b = append(d.b, v...)
	d.b = append(d.b, '"')
	d.comma = true
}

func (d *doc) int(k string, v int64) {
	d.key(k)
	d.b = strconv.AppendInt(d.b, v, 10)
	d.comma = true
}

func (d *doc) uint(k string, v uint64) {
	d.key(k)
	d.b = strconv.AppendUint(d.b, v, 10)
	d.comma = true
}

func (d *doc) bool(k string, v bool) {
	d.key(k)
	d.b = strconv.AppendBool(d.b, v)
	d.comma = true
}

func (d *doc) ip(k string, a netip.Addr) {
	d.key(k)
	d.b = append(d.b, '"')
	d.b = a.AppendTo(d.b)
	d.b = append(d.b, '"')
	d.comma = true
}

// time writes t (unix ns) in UTC, RFC 3339 with nanoseconds.
func (d *doc) time(k string, ns int64) {
	d.key(k)
	d.b = append(d.b, '"')
	d.b = appendTime(d.b, ns)
	d.b = append(d.b, '"')
	d.comma = true
}

func appendTime(b []byte, ns int64) []byte {
	return time.Unix(0, ns).UTC().AppendFormat(b, "2006-01-02T15:04:05.000000000Z07:00")
}

// raws writes an array of constants.
func (d *doc) raws(k string, vs ...string) {
	d.key(k)
	d.b = append(d.b, '[')
	for i, v := range vs {
		if i > 0 {
			d.b = append(d.b, ',')
		}
		d.b = append(d.b, '"')
		d.b = append(d.b, v...)
		d.b = append(d.b, '"')
	}
	d.b = append(d.b, ']')
	d.comma = true
}

func (d *doc) strs(k string, vs []string) {
	d.key(k)
	d.b = append(d.b, '[')
	for i, v := range vs {
		if i > 0 {
			d.b = append(d.b, ',')
		}
		d.b = event.AppendString(d.b, v)
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
