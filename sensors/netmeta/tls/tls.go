// Package tls reads the clear-text part of TLS and DTLS handshakes — the
// ClientHello, the ServerHello and, up to TLS 1.2, the server's certificate
// chain — and computes the fingerprints a SOC pivots on: JA3, JA3S and JA4.
//
// It is a parser of hostile input, written for the sensor rather than taken
// from crypto/tls (which parses only what it sends and receives itself) or
// gopacket (whose TLS layer does not read hello extensions). Every length is
// checked against what is there; nothing is allocated from a length the peer
// claims; parse errors wrap ErrMalformed.
//
// This package imports only the standard library.
package tls

import (
	"encoding/binary"
	"errors"
)

// ErrMalformed is wrapped by every parse error.
var ErrMalformed = errors.New("tls: malformed handshake")

type parseError string

func (e parseError) Error() string { return "tls: malformed handshake: " + string(e) }
func (e parseError) Unwrap() error { return ErrMalformed }

// Preallocated errors: garbage must not allocate.
var (
	errShort      = parseError("message too short")
	errVector     = parseError("vector runs past its end")
	errExtensions = parseError("bad extensions block")
)

// Handshake message types.
const (
	TypeClientHello = 1
	TypeServerHello = 2
	TypeCertificate = 11
)

// Extension ids used here.
const (
	extServerName        = 0x0000
	extSupportedGroups   = 0x000a
	extECPointFormats    = 0x000b
	extSignatureAlgs     = 0x000d
	extALPN              = 0x0010
	extSupportedVersions = 0x002b
)

// Bounds on what a hello may make us keep.
const (
	maxCiphers    = 512
	maxExtensions = 128
	maxList       = 128 // groups, signature algorithms, versions, ALPN entries
)

// ClientHello is what a client offers. Slices are reused by the next parse
// into the same value; strings are copies.
type ClientHello struct {
	DTLS              bool
	Version           uint16   // legacy_version
	SupportedVersions []uint16 // supported_versions extension, as sent
	Ciphers           []uint16
	Compression       []uint8
	Extensions        []uint16 // extension ids in the order sent
	ServerName        string   // first host_name of server_name
	HasServerName     bool
	ALPN              []string
	Groups            []uint16
	PointFormats      []uint8
	SignatureAlgs     []uint16
	SessionIDLen      int
}

// ServerHello is what a server chose.
type ServerHello struct {
	DTLS            bool
	Version         uint16 // legacy_version
	SelectedVersion uint16 // supported_versions extension; 0 when absent
	Cipher          uint16
	Compression     uint8
	Extensions      []uint16
	ALPN            string
	HelloRetry      bool // a TLS 1.3 HelloRetryRequest
}

// helloRetryRandom is the Random of a HelloRetryRequest (RFC 8446 4.1.3).
var helloRetryRandom = [32]byte{
	0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
	0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C,
}

// reader is a bounds-checked cursor.
type reader struct {
	b   []byte
	bad bool
}

func (r *reader) u8() uint8 {
	if len(r.b) < 1 {
		r.bad = true
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}

func (r *reader) u16() uint16 {
	if len(r.b) < 2 {
		r.bad = true
		return 0
	}
	v := binary.BigEndian.Uint16(r.b)
	r.b = r.b[2:]
	return v
}

func (r *reader) bytes(n int) []byte {
	if n < 0 || len(r.b) < n {
		r.bad = true
		r.b = nil
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

// vec8/vec16/vec24 read a vector with a length prefix of that width.
func (r *reader) vec8() []byte  { return r.bytes(int(r.u8())) }
func (r *reader) vec16() []byte { return r.bytes(int(r.u16())) }
func (r *reader) vec24() []byte {
	if len(r.b) < 3 {
		r.bad = true
		return nil
	}
	n := int(r.b[0])<<16 | int(r.b[1])<<8 | int(r.b[2])
	r.b = r.b[3:]
	return r.bytes(n)
}

// IsGREASE reports whether v is a GREASE value (RFC 8701): 0x?a?a.
func IsGREASE(v uint16) bool { return v&0x0f0f == 0x0a0a && v>>8 == v&0xff }

// ParseClientHello parses the body of a ClientHello handshake message (after
// its 4-byte header, or 12-byte header for DTLS) into ch.
func ParseClientHello(body []byte, dtls bool, ch *ClientHello) error {
	*ch = ClientHello{
		DTLS:              dtls,
		SupportedVersions: ch.SupportedVersions[:0],
		Ciphers:           ch.Ciphers[:0],
		Compression:       ch.Compression[:0],
		Extensions:        ch.Extensions[:0],
		ALPN:              ch.ALPN[:0],
		Groups:            ch.Groups[:0],
		PointFormats:      ch.PointFormats[:0],
		SignatureAlgs:     ch.SignatureAlgs[:0],
	}
	r := reader{b: body}
	ch.Version = r.u16()
	r.bytes(32) // random
	ch.SessionIDLen = len(r.vec8())
	if dtls {
		r.vec8() // cookie
	}
	cs := r.vec16()
	if r.bad || len(cs)%2 != 0 {
		return errShort
	}
	for i := 0; i+1 < len(cs) && len(ch.Ciphers) < maxCiphers; i += 2 {
		ch.Ciphers = append(ch.Ciphers, binary.BigEndian.Uint16(cs[i:]))
	}
	comp := r.vec8()
	if r.bad {
		return errShort
	}
	ch.Compression = append(ch.Compression, comp...)
	if len(r.b) == 0 {
		return nil // no extensions (SSL 3.0, early TLS)
	}
	exts := r.vec16()
	if r.bad {
		return errExtensions
	}
	er := reader{b: exts}
	for len(er.b) > 0 {
		id := er.u16()
		data := er.vec16()
		if er.bad {
			return errExtensions
		}
		if len(ch.Extensions) < maxExtensions {
			ch.Extensions = append(ch.Extensions, id)
		}
		switch id {
		case extServerName:
			parseSNI(data, ch)
		case extSupportedGroups:
			ch.Groups = appendU16s(ch.Groups, reader{b: data}.vec16list())
		case extECPointFormats:
			x := reader{b: data}
			pf := x.vec8()
			if len(pf) > maxList {
				pf = pf[:maxList]
			}
			ch.PointFormats = append(ch.PointFormats, pf...)
		case extSignatureAlgs:
			ch.SignatureAlgs = appendU16s(ch.SignatureAlgs, reader{b: data}.vec16list())
		case extALPN:
			x := reader{b: data}
			list := reader{b: x.vec16()}
			for len(list.b) > 0 && len(ch.ALPN) < maxList {
				p := list.vec8()
				if list.bad {
					break
				}
				ch.ALPN = append(ch.ALPN, string(p))
			}
		case extSupportedVersions:
			x := reader{b: data}
			ch.SupportedVersions = appendU16s(ch.SupportedVersions, x.vec8())
		}
	}
	return nil
}

func (r reader) vec16list() []byte { return r.vec16() }

// appendU16s appends big-endian 16-bit values, at most maxList of them.
func appendU16s(dst []uint16, b []byte) []uint16 {
	for i := 0; i+1 < len(b) && len(dst) < maxList; i += 2 {
		dst = append(dst, binary.BigEndian.Uint16(b[i:]))
	}
	return dst
}

func parseSNI(data []byte, ch *ClientHello) {
	ch.HasServerName = true
	r := reader{b: data}
	list := reader{b: r.vec16()}
	for len(list.b) > 0 {
		typ := list.u8()
		name := list.vec16()
		if list.bad {
			return
		}
		if typ == 0 && ch.ServerName == "" {
			ch.ServerName = string(name)
		}
	}
}

// ParseServerHello parses the body of a ServerHello into sh.
func ParseServerHello(body []byte, dtls bool, sh *ServerHello) error {
	*sh = ServerHello{DTLS: dtls, Extensions: sh.Extensions[:0]}
	r := reader{b: body}
	sh.Version = r.u16()
	random := r.bytes(32)
	if sh.Version>>8 == 0x7f && sh.Version&0xff < 22 {
		// TLS 1.3 drafts before 22 had no session id and no compression.
		sh.Cipher = r.u16()
	} else {
		r.vec8() // session id
		sh.Cipher = r.u16()
		sh.Compression = r.u8()
	}
	if r.bad {
		return errShort
	}
	sh.HelloRetry = [32]byte(random) == helloRetryRandom
	if len(r.b) == 0 {
		return nil
	}
	exts := r.vec16()
	if r.bad {
		return errExtensions
	}
	er := reader{b: exts}
	for len(er.b) > 0 {
		id := er.u16()
		data := er.vec16()
		if er.bad {
			return errExtensions
		}
		if len(sh.Extensions) < maxExtensions {
			sh.Extensions = append(sh.Extensions, id)
		}
		switch id {
		case extSupportedVersions:
			if len(data) == 2 {
				sh.SelectedVersion = binary.BigEndian.Uint16(data)
			}
		case extALPN:
			x := reader{b: data}
			list := reader{b: x.vec16()}
			if p := list.vec8(); !list.bad {
				sh.ALPN = string(p)
			}
		}
	}
	return nil
}

// Certificates returns the DER certificates of a TLS 1.2 (or earlier)
// Certificate message body, leaf first, at most max of them. The slices
// point into body.
func Certificates(body []byte, max int) ([][]byte, error) {
	r := reader{b: body}
	list := reader{b: r.vec24()}
	if r.bad {
		return nil, errShort
	}
	var out [][]byte
	for len(list.b) > 0 && len(out) < max {
		c := list.vec24()
		if list.bad {
			return out, errVector
		}
		out = append(out, c)
	}
	return out, nil
}

// Version returns the protocol and version names ECS uses for a wire
// version: ("tls", "1.2"), ("ssl", "3.0"), ("dtls", "1.2"). Unknown
// versions give ("", "").
func Version(v uint16) (protocol, version string) {
	switch v {
	case 0x0002:
		return "ssl", "2.0"
	case 0x0300:
		return "ssl", "3.0"
	case 0x0301:
		return "tls", "1.0"
	case 0x0302:
		return "tls", "1.1"
	case 0x0303:
		return "tls", "1.2"
	case 0x0304:
		return "tls", "1.3"
	case 0xfeff:
		return "dtls", "1.0"
	case 0xfefd:
		return "dtls", "1.2"
	case 0xfefc:
		return "dtls", "1.3"
	}
	if v>>8 == 0x7f { // TLS 1.3 drafts
		return "tls", "1.3"
	}
	return "", ""
}

// CipherName returns the IANA name of a cipher suite, or "" when unknown.
func CipherName(id uint16) string { return cipherNames[id] }
