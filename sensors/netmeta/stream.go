package netmeta

// Bounds of TCP reassembly, per direction.
const (
	maxHeldSegments = 16
	maxHeldBytes    = 64 << 10
	// maxAhead: a segment further ahead than this is not held; the hole
	// before it is declared lost at once.
	maxAhead = 1 << 20
)

type heldSegment struct {
	seq  uint32
	data []byte
}

// stream puts one direction of a TCP connection back in order for the
// protocol parsers. In-order segments are handed over without copying.
// Segments that arrive early are copied and held, at most maxHeldSegments
// and maxHeldBytes of them; when that is full, the hole is declared a gap
// and skipped, so a capture with losses costs bounded memory.
type stream struct {
	next      uint32
	init      bool
	done      bool // the parser needs no more of this direction
	held      []heldSegment
	heldBytes int
	gaps      uint32
}

// sink receives a direction's bytes in order, and the size of any hole.
type sink interface {
	data(b []byte)
	gap(n int)
}

func seqDiff(a, b uint32) int64 { return int64(int32(a - b)) }

// segment files one TCP segment.
func (s *stream) segment(seq uint32, syn bool, payload []byte, out sink) {
	if s.done {
		return
	}
	if syn {
		if !s.init {
			s.next, s.init = seq+1, true
		}
		seq++
	}
	if len(payload) == 0 {
		return
	}
	if !s.init {
		s.next, s.init = seq, true
	}
	d := seqDiff(seq, s.next)
	switch {
	case d < 0:
		if -d >= int64(len(payload)) {
			return // retransmission of what was delivered
		}
		payload = payload[-d:]
		seq = s.next
	case d > 0:
		if d <= maxAhead && len(s.held) < maxHeldSegments && s.heldBytes+len(payload) <= maxHeldBytes {
			s.hold(seq, payload)
			return
		}
		// No room to wait for the hole: declare it lost, deliver what is
		// held before this segment, and go on.
		s.skipTo(seq, out)
		d = seqDiff(seq, s.next)
		if d < 0 {
			if -d >= int64(len(payload)) {
				return
			}
			payload = payload[-d:]
		} else if d > 0 {
			s.gaps++
			out.gap(int(d))
			s.next = seq
		}
	}
	s.next += uint32(len(payload))
	out.data(payload)
	s.drain(out)
}

func (s *stream) hold(seq uint32, payload []byte) {
	for _, h := range s.held {
		if h.seq == seq && len(h.data) >= len(payload) {
			return // duplicate
		}
	}
	s.held = append(s.held, heldSegment{seq: seq, data: append([]byte(nil), payload...)})
	s.heldBytes += len(payload)
}

// drain delivers held segments that have become contiguous.
func (s *stream) drain(out sink) {
	for len(s.held) > 0 && !s.done {
		progressed := false
		for i := 0; i < len(s.held); i++ {
			h := s.held[i]
			d := seqDiff(h.seq, s.next)
			if d > 0 {
				continue
			}
			s.removeHeld(i)
			i--
			if -d < int64(len(h.data)) {
				b := h.data[-d:]
				s.next += uint32(len(b))
				out.data(b)
				progressed = true
			}
		}
		if !progressed {
			return
		}
	}
}

func (s *stream) removeHeld(i int) {
	s.heldBytes -= len(s.held[i].data)
	s.held[i] = s.held[len(s.held)-1]
	s.held[len(s.held)-1] = heldSegment{}
	s.held = s.held[:len(s.held)-1]
}

// skipTo delivers held segments that start before seq, in order, with the
// holes between them declared gaps.
func (s *stream) skipTo(seq uint32, out sink) {
	for len(s.held) > 0 && !s.done {
		// the held segment with the lowest sequence number before seq
		best := -1
		for i, h := range s.held {
			if seqDiff(h.seq, seq) < 0 && (best < 0 || seqDiff(h.seq, s.held[best].seq) < 0) {
				best = i
			}
		}
		if best < 0 {
			return
		}
		if d := seqDiff(s.held[best].seq, s.next); d > 0 {
			s.gaps++
			out.gap(int(d))
			s.next = s.held[best].seq
		}
		s.drain(out)
	}
}

// flush delivers everything held, holes declared, at the end of a flow.
func (s *stream) flush(out sink) {
	if len(s.held) == 0 {
		return
	}
	var last uint32
	for i, h := range s.held {
		if e := h.seq + uint32(len(h.data)); i == 0 || seqDiff(e, last) > 0 {
			last = e
		}
	}
	s.skipTo(last, out)
	s.release()
}

// release drops held data (the parser is done with the direction).
func (s *stream) release() {
	s.held = nil
	s.heldBytes = 0
}
