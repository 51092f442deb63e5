package tls

import "encoding/binary"

// Record content types.
const (
	recordChangeCipherSpec = 20
	recordAlert            = 21
	recordHandshake        = 22
	recordApplicationData  = 23
	recordHeartbeat        = 24
)

// Limits of the record reader.
const (
	// MaxHandshake is the largest handshake message reassembled (a
	// certificate chain); a larger one is skipped.
	MaxHandshake = 64 << 10
	maxRecord    = 1<<14 + 2048 // TLSCiphertext limit (RFC 8446 5.2)
)

// Seen reports what a direction of a TLS connection has sent so far.
type Seen uint8

// Bits of Seen.
const (
	SeenHandshake Seen = 1 << iota
	SeenChangeCipherSpec
	SeenApplicationData
	SeenAlert
	SeenGarbage // bytes that are not TLS records: the reader stopped
)

// Stream reads one direction of a TLS connection as TCP delivers it, in
// order, in pieces of any size, and hands complete handshake messages to a
// callback. It keeps at most one record header and MaxHandshake bytes of
// handshake. Once the direction has changed cipher spec, later handshake
// records are encrypted and are skipped.
type Stream struct {
	hdr     [5]byte
	nhdr    int
	skip    int  // body bytes of the current record left to read
	typ     byte // type of the current record
	hs      []byte
	hsLimit bool // the current handshake message is too large: skipping it
	seen    Seen
}

// Seen returns what the direction has sent so far.
func (s *Stream) Seen() Seen { return s.seen }

// Feed reads data and calls msg for each complete handshake message (type
// and body; the body is valid only during the call). It returns false when
// the bytes are not TLS records; the stream then ignores further input.
func (s *Stream) Feed(data []byte, msg func(typ uint8, body []byte)) bool {
	if s.seen&SeenGarbage != 0 {
		return false
	}
	for len(data) > 0 {
		if s.skip == 0 && s.nhdr < 5 {
			n := copy(s.hdr[s.nhdr:], data)
			s.nhdr += n
			data = data[n:]
			if s.nhdr < 5 {
				return true
			}
			s.typ = s.hdr[0]
			length := int(binary.BigEndian.Uint16(s.hdr[3:5]))
			if s.typ < recordChangeCipherSpec || s.typ > recordHeartbeat || s.hdr[1] != 3 || length > maxRecord {
				s.seen |= SeenGarbage
				s.hs = nil
				return false
			}
			switch s.typ {
			case recordChangeCipherSpec:
				s.seen |= SeenChangeCipherSpec
			case recordApplicationData:
				s.seen |= SeenApplicationData
			case recordAlert:
				s.seen |= SeenAlert
			case recordHandshake:
				s.seen |= SeenHandshake
			}
			s.skip = length
			if length == 0 {
				s.nhdr = 0
			}
			continue
		}
		n := min(s.skip, len(data))
		body := data[:n]
		data = data[n:]
		s.skip -= n
		if s.skip == 0 {
			s.nhdr = 0
		}
		if s.typ != recordHandshake || s.seen&SeenChangeCipherSpec != 0 {
			continue
		}
		s.handshake(body, msg)
	}
	return true
}

// handshake accumulates handshake bytes and delivers complete messages.
func (s *Stream) handshake(body []byte, msg func(typ uint8, body []byte)) {
	// Fast path: whole messages in one piece with nothing buffered.
	if len(s.hs) == 0 && !s.hsLimit {
		for len(body) >= 4 {
			n := int(body[1])<<16 | int(body[2])<<8 | int(body[3])
			if 4+n > len(body) {
				break
			}
			msg(body[0], body[4:4+n])
			body = body[4+n:]
		}
		if len(body) == 0 {
			return
		}
	}
	if s.hsLimit {
		// Skipping an oversized message: its remaining length is in hs[0:4].
		left := int(binary.BigEndian.Uint32(s.hs[:4]))
		if len(body) < left {
			binary.BigEndian.PutUint32(s.hs[:4], uint32(left-len(body)))
			return
		}
		body = body[left:]
		s.hs = s.hs[:0]
		s.hsLimit = false
		s.handshake(body, msg)
		return
	}
	s.hs = append(s.hs, body...)
	for len(s.hs) >= 4 {
		n := int(s.hs[1])<<16 | int(s.hs[2])<<8 | int(s.hs[3])
		if 4+n > MaxHandshake {
			left := 4 + n - len(s.hs)
			s.hs = s.hs[:4]
			binary.BigEndian.PutUint32(s.hs, uint32(left))
			s.hsLimit = true
			return
		}
		if 4+n > len(s.hs) {
			return
		}
		msg(s.hs[0], s.hs[4:4+n])
		s.hs = s.hs[:copy(s.hs, s.hs[4+n:])]
	}
}

// DTLSStream reads the handshake messages of one direction of a DTLS
// association, datagram by datagram. Handshake messages split into
// fragments (a ClientHello with post-quantum key shares, a certificate
// chain) are reassembled when their fragments come in order, up to
// MaxHandshake bytes; a message whose fragments come out of order is skipped.
type DTLSStream struct {
	seen   Seen
	cur    int // message_seq being reassembled (with typ and length)
	typ    uint8
	length int
	buf    []byte
}

// Seen returns what the direction has sent so far.
func (s *DTLSStream) Seen() Seen { return s.seen }

// Feed reads one datagram and calls msg for each complete handshake message.
func (s *DTLSStream) Feed(datagram []byte, msg func(typ uint8, body []byte)) Seen {
	for len(datagram) >= 13 {
		typ := datagram[0]
		if typ&0xe0 == 0x20 {
			// DTLS 1.3 unified header (RFC 9147 4): an encrypted record.
			s.seen |= SeenApplicationData
			return s.seen
		}
		if datagram[1] != 0xfe || typ < recordChangeCipherSpec || typ > recordHeartbeat {
			s.seen |= SeenGarbage
			return s.seen
		}
		epoch := binary.BigEndian.Uint16(datagram[3:5])
		n := int(binary.BigEndian.Uint16(datagram[11:13]))
		if 13+n > len(datagram) {
			s.seen |= SeenGarbage
			return s.seen
		}
		body := datagram[13 : 13+n]
		datagram = datagram[13+n:]
		switch typ {
		case recordChangeCipherSpec:
			s.seen |= SeenChangeCipherSpec
		case recordApplicationData:
			s.seen |= SeenApplicationData
		case recordAlert:
			s.seen |= SeenAlert
		case recordHandshake:
			s.seen |= SeenHandshake
			if epoch != 0 {
				continue // encrypted
			}
			for len(body) >= 12 {
				length := int(body[1])<<16 | int(body[2])<<8 | int(body[3])
				seq := int(binary.BigEndian.Uint16(body[4:6]))
				fragOff := int(body[6])<<16 | int(body[7])<<8 | int(body[8])
				fragLen := int(body[9])<<16 | int(body[10])<<8 | int(body[11])
				if 12+fragLen > len(body) {
					break
				}
				mtyp := body[0]
				frag := body[12 : 12+fragLen]
				body = body[12+fragLen:]
				s.fragment(mtyp, seq, length, fragOff, frag, msg)
			}
		}
	}
	return s.seen
}

func (s *DTLSStream) fragment(typ uint8, seq, length, off int, frag []byte, msg func(typ uint8, body []byte)) {
	if off == 0 && len(frag) == length {
		msg(typ, frag) // whole: the common case
		return
	}
	if length > MaxHandshake || off+len(frag) > length {
		return
	}
	if seq != s.cur || typ != s.typ || length != s.length {
		if off != 0 {
			return // not the start of a message we follow
		}
		s.cur, s.typ, s.length = seq, typ, length
		s.buf = s.buf[:0]
	}
	if off > len(s.buf) {
		return // a hole: give the message up when its next start comes
	}
	if end := off + len(frag); end > len(s.buf) {
		s.buf = append(s.buf[:off], frag...)
	}
	if len(s.buf) == s.length {
		msg(s.typ, s.buf)
		s.cur, s.length = -1, 0
		s.buf = s.buf[:0]
	}
}

// Buffered returns the bytes the stream holds.
func (s *DTLSStream) Buffered() int { return cap(s.buf) }

// Buffered returns the bytes the Stream holds (a handshake in progress).
func (s *Stream) Buffered() int { return cap(s.hs) }
