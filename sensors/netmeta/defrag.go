package netmeta

import (
	"bytes"
	"slices"
)

// Bounds of IP reassembly, per worker.
const (
	maxDatagram      = 65535 // bytes of a reassembled payload
	maxFragsPerDgram = 64
	fragTimeout      = 30e9 // ns
)

type fragKey struct {
	src, dst [16]byte
	id       uint32
	proto    uint8
	v6       bool
}

type fragPiece struct {
	off  int
	data []byte
}

type fragEntry struct {
	first     int64
	pieces    []fragPiece
	total     int // payload length, -1 until the last fragment arrived
	have      int
	frames    int
	wireBytes int
	proto     uint8
}

// defrag reassembles IPv4 and IPv6 fragments. It holds at most maxEntries
// datagrams and maxBytes of fragment data; beyond that, fragments are
// dropped and counted. Overlapping fragments that disagree (the teardrop and
// evasion tricks) drop the datagram.
type defrag struct {
	m          map[fragKey]*fragEntry
	maxEntries int
	maxBytes   int
	bytes      int
	buf        []byte
	lastSweep  int64
}

// fragResult says what a fragment did.
type fragResult uint8

const (
	fragPending fragResult = iota
	fragDone
	fragDropped // over a limit, malformed or overlapping
	fragOverlap
)

func newDefrag(maxEntries, maxBytes int) *defrag {
	return &defrag{m: make(map[fragKey]*fragEntry), maxEntries: maxEntries, maxBytes: maxBytes}
}

// add files a fragment. When it completes its datagram it returns fragDone
// and the reassembled payload (valid until the next add), the number of
// frames and their wire bytes.
func (d *defrag) add(now int64, k fragKey, off int, more bool, data []byte, wire int) (fragResult, []byte, int, int) {
	if now-d.lastSweep > fragTimeout/4 || len(d.m) >= d.maxEntries && now-d.lastSweep > 1e9 {
		d.sweep(now)
	}
	if off+len(data) > maxDatagram || !more && off+len(data) == 0 {
		return fragDropped, nil, 0, 0
	}
	e := d.m[k]
	if e == nil {
		if len(d.m) >= d.maxEntries || d.bytes+len(data) > d.maxBytes {
			return fragDropped, nil, 0, 0
		}
		e = &fragEntry{first: now, total: -1, proto: k.proto}
		d.m[k] = e
	}
	if len(e.pieces) >= maxFragsPerDgram || d.bytes+len(data) > d.maxBytes {
		d.drop(k, e)
		return fragDropped, nil, 0, 0
	}
	end := off + len(data)
	for _, p := range e.pieces {
		pend := p.off + len(p.data)
		if off >= pend || end <= p.off {
			continue
		}
		if p.off == off && bytes.Equal(p.data, data) {
			e.frames++
			e.wireBytes += wire
			return fragPending, nil, 0, 0 // a retransmitted copy
		}
		d.drop(k, e)
		return fragOverlap, nil, 0, 0
	}
	if !more {
		if e.total >= 0 && e.total != end {
			d.drop(k, e)
			return fragOverlap, nil, 0, 0
		}
		e.total = end
	}
	if e.total >= 0 && end > e.total {
		d.drop(k, e)
		return fragOverlap, nil, 0, 0
	}
	e.pieces = append(e.pieces, fragPiece{off: off, data: append([]byte(nil), data...)})
	e.have += len(data)
	e.frames++
	e.wireBytes += wire
	d.bytes += len(data)
	if e.total < 0 || e.have != e.total {
		return fragPending, nil, 0, 0
	}
	// Complete: no overlaps and the lengths add up, so the pieces tile it.
	slices.SortFunc(e.pieces, func(a, b fragPiece) int { return a.off - b.off })
	d.buf = d.buf[:0]
	for _, p := range e.pieces {
		if p.off != len(d.buf) {
			d.drop(k, e)
			return fragDropped, nil, 0, 0
		}
		d.buf = append(d.buf, p.data...)
	}
	frames, wireBytes := e.frames, e.wireBytes
	d.drop(k, e)
	return fragDone, d.buf, frames, wireBytes
}

func (d *defrag) drop(k fragKey, e *fragEntry) {
	for _, p := range e.pieces {
		d.bytes -= len(p.data)
	}
	delete(d.m, k)
}

// sweep drops datagrams older than the reassembly timeout.
func (d *defrag) sweep(now int64) int {
	d.lastSweep = now
	n := 0
	for k, e := range d.m {
		if now-e.first > fragTimeout {
			d.drop(k, e)
			n++
		}
	}
	return n
}
