package capture

import (
	"io"
	"sync/atomic"
	"time"
)

// MemorySource replays packets held in memory, for benchmarks and demos.
// Each loop after the first shifts timestamps by the span of the capture
// (plus a second), so time keeps moving forward as it would on a wire and
// flows of one loop time out before the next begins.
type MemorySource struct {
	pkts    []Packet
	loops   int // 0: forever
	i, loop int
	shift   time.Duration
	span    time.Duration

	packets, bytes atomic.Uint64
	closed         atomic.Bool
}

var _ Source = (*MemorySource)(nil)

// NewMemorySource replays pkts loops times (0: until closed). The packets
// are not copied and must not be modified while the source is in use.
func NewMemorySource(pkts []Packet, loops int) *MemorySource {
	m := &MemorySource{pkts: pkts, loops: loops}
	if len(pkts) > 0 {
		first, last := pkts[0].Info.Timestamp, pkts[0].Info.Timestamp
		for _, p := range pkts {
			if p.Info.Timestamp.Before(first) {
				first = p.Info.Timestamp
			}
			if p.Info.Timestamp.After(last) {
				last = p.Info.Timestamp
			}
		}
		m.span = last.Sub(first) + time.Second
	}
	return m
}

// ReadPacket implements Source.
func (m *MemorySource) ReadPacket() (Packet, error) {
	if m.closed.Load() {
		return Packet{}, ErrClosed
	}
	if len(m.pkts) == 0 {
		return Packet{}, io.EOF
	}
	if m.i == len(m.pkts) {
		m.i = 0
		m.loop++
		m.shift += m.span
		if m.loops > 0 && m.loop >= m.loops {
			return Packet{}, io.EOF
		}
	}
	p := m.pkts[m.i]
	m.i++
	if m.shift != 0 {
		p.Info.Timestamp = p.Info.Timestamp.Add(m.shift)
	}
	m.packets.Add(1)
	m.bytes.Add(uint64(len(p.Data)))
	return p, nil
}

// Stats implements Source.
func (m *MemorySource) Stats() Stats {
	return Stats{Packets: m.packets.Load(), Bytes: m.bytes.Load()}
}

// Close implements Source.
func (m *MemorySource) Close() error {
	m.closed.Store(true)
	return nil
}
