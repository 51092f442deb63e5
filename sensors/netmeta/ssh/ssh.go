// Package ssh reads the clear-text start of an SSH connection (RFC 4253):
// each side's identification string (its banner) and its first
// SSH_MSG_KEXINIT, from which HASSH and HASSHServer are computed (MD5 of the
// key exchange, encryption, MAC and compression algorithm lists, client to
// server for the client and server to client for the server).
//
// A Stream reads one direction in order, in pieces of any size; it buffers at
// most one line or one packet of MaxPacket bytes, and stops reading once it
// has what it needs.
//
// This package imports only the standard library.
package ssh

import (
	"bytes"
	"crypto/md5"
	"encoding/binary"
	"encoding/hex"
)

// Bounds.
const (
	MaxPacket   = 35000 // RFC 4253 6.1
	maxBanner   = 255   // RFC 4253 4.2
	maxPreLines = 32    // lines a server may send before its banner
	maxLine     = 1024
	maxNameList = 4096
)

// KexInit is the algorithm negotiation message of one side.
type KexInit struct {
	Kex, HostKey       string
	EncCtoS, EncStoC   string
	MacCtoS, MacStoC   string
	CompCtoS, CompStoC string
	HASSH              string // md5 hex of the side's algorithms (see package doc)
	HASSHAlgorithms    string // the string hashed
	parsed             bool
}

// Stream reads one direction of an SSH connection.
type Stream struct {
	Client  bool   // the direction from the client: HASSH uses the CtoS lists
	Banner  string // the identification string, without CR LF
	Kex     KexInit
	buf     []byte
	lines   int
	failed  bool
	done    bool
	pktNeed int
}

// Done reports whether the stream has the banner and the KEXINIT, or gave up.
func (s *Stream) Done() bool { return s.done || s.failed }

// Failed reports whether the bytes were not SSH.
func (s *Stream) Failed() bool { return s.failed }

// HasKex reports whether the KEXINIT was read.
func (s *Stream) HasKex() bool { return s.Kex.parsed }

// Feed reads the next bytes of the direction.
func (s *Stream) Feed(data []byte) {
	for len(data) > 0 && !s.done && !s.failed {
		if s.Banner == "" {
			i := bytes.IndexByte(data, '\n')
			if i < 0 {
				s.buf = append(s.buf, data...)
				if len(s.buf) > maxLine {
					s.failed = true
					s.buf = nil
				}
				return
			}
			line := data[:i]
			if len(s.buf) > 0 {
				s.buf = append(s.buf, line...)
				line = s.buf
			}
			data = data[i+1:]
			line = bytes.TrimRight(line, "\r")
			if bytes.HasPrefix(line, []byte("SSH-")) {
				if len(line) > maxBanner {
					line = line[:maxBanner]
				}
				s.Banner = string(line)
			} else {
				// RFC 4253 4.2: a server may send other lines first; a
				// client may not, but some do.
				s.lines++
				if s.lines > maxPreLines {
					s.failed = true
				}
			}
			s.buf = s.buf[:0]
			continue
		}
		// Binary packets: uint32 packet_length, byte padding_length, payload.
		s.buf = append(s.buf, data...)
		data = nil
		for len(s.buf) >= 5 && !s.done {
			n := int(binary.BigEndian.Uint32(s.buf))
			if n < 2 || n > MaxPacket {
				s.done = true // encrypted or not SSH: nothing more to learn
				break
			}
			if len(s.buf) < 4+n {
				break
			}
			pad := int(s.buf[4])
			payload := s.buf[5 : 4+n]
			if pad < len(payload) {
				payload = payload[:len(payload)-pad]
				if len(payload) > 0 && payload[0] == 20 { // SSH_MSG_KEXINIT
					s.kexinit(payload[1:])
					s.done = true
				}
			}
			s.buf = s.buf[:copy(s.buf, s.buf[4+n:])]
		}
		if s.done {
			s.buf = nil
		}
	}
}

func (s *Stream) kexinit(b []byte) {
	if len(b) < 16 {
		return
	}
	b = b[16:] // cookie
	var lists [10]string
	for i := range lists {
		if len(b) < 4 {
			return
		}
		n := int(binary.BigEndian.Uint32(b))
		if n > len(b)-4 || n > maxNameList {
			return
		}
		lists[i] = string(b[4 : 4+n])
		b = b[4+n:]
	}
	k := &s.Kex
	k.Kex, k.HostKey = lists[0], lists[1]
	k.EncCtoS, k.EncStoC = lists[2], lists[3]
	k.MacCtoS, k.MacStoC = lists[4], lists[5]
	k.CompCtoS, k.CompStoC = lists[6], lists[7]
	if s.Client {
		k.HASSHAlgorithms = k.Kex + ";" + k.EncCtoS + ";" + k.MacCtoS + ";" + k.CompCtoS
	} else {
		k.HASSHAlgorithms = k.Kex + ";" + k.EncStoC + ";" + k.MacStoC + ";" + k.CompStoC
	}
	sum := md5.Sum([]byte(k.HASSHAlgorithms))
	k.HASSH = hex.EncodeToString(sum[:])
	k.parsed = true
}

// Buffered returns the bytes the Stream holds (a line or a packet).
func (s *Stream) Buffered() int { return cap(s.buf) }
