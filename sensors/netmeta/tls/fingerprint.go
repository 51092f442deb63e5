package tls

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strconv"
)

// JA3 returns the JA3 string of a ClientHello and its MD5 in hex:
// "SSLVersion,Ciphers,Extensions,EllipticCurves,EllipticCurvePointFormats",
// decimal values joined by '-', GREASE values left out.
func JA3(ch *ClientHello, buf []byte) (raw []byte, hash string) {
	b := buf[:0]
	b = strconv.AppendUint(b, uint64(ch.Version), 10)
	b = append(b, ',')
	b = appendDecimals(b, ch.Ciphers)
	b = append(b, ',')
	b = appendDecimals(b, ch.Extensions)
	b = append(b, ',')
	b = appendDecimals(b, ch.Groups)
	b = append(b, ',')
	for i, p := range ch.PointFormats {
		if i > 0 {
			b = append(b, '-')
		}
		b = strconv.AppendUint(b, uint64(p), 10)
	}
	sum := md5.Sum(b)
	return b, hex.EncodeToString(sum[:])
}

// JA3S returns the JA3S string of a ServerHello and its MD5 in hex:
// "SSLVersion,Cipher,Extensions".
func JA3S(sh *ServerHello, buf []byte) (raw []byte, hash string) {
	b := buf[:0]
	b = strconv.AppendUint(b, uint64(sh.Version), 10)
	b = append(b, ',')
	b = strconv.AppendUint(b, uint64(sh.Cipher), 10)
	b = append(b, ',')
	b = appendDecimals(b, sh.Extensions)
	sum := md5.Sum(b)
	return b, hex.EncodeToString(sum[:])
}

func appendDecimals(b []byte, vs []uint16) []byte {
	first := true
	for _, v := range vs {
		if IsGREASE(v) {
			continue
		}
		if !first {
			b = append(b, '-')
		}
		first = false
		b = strconv.AppendUint(b, uint64(v), 10)
	}
	return b
}

// JA4 returns the JA4 fingerprint of a ClientHello (FoxIO JA4 specification):
// a_b_c where a is transport (t, or d for DTLS), version, SNI (d/i), cipher
// and extension counts and the ALPN's first and last characters; b is the
// truncated SHA-256 of the sorted cipher list; c of the sorted extensions
// (without SNI and ALPN) and the signature algorithms in their order.
func JA4(ch *ClientHello) string {
	var a [10]byte
	a[0] = 't'
	if ch.DTLS {
		a[0] = 'd'
	}
	v := ch.Version
	var best uint16
	for _, sv := range ch.SupportedVersions {
		if IsGREASE(sv) {
			continue
		}
		if best == 0 || versionRank(sv) > versionRank(best) {
			best = sv
		}
	}
	if best != 0 {
		v = best
	}
	ver := ja4Version(v)
	a[1], a[2] = ver[0], ver[1]
	a[3] = 'i'
	if ch.HasServerName {
		a[3] = 'd'
	}
	var ciphers, exts []uint16
	var cbuf, ebuf [64]uint16
	ciphers, exts = cbuf[:0], ebuf[:0]
	for _, c := range ch.Ciphers {
		if !IsGREASE(c) {
			ciphers = append(ciphers, c)
		}
	}
	nExt := 0
	for _, e := range ch.Extensions {
		if IsGREASE(e) {
			continue
		}
		nExt++
		if e != extServerName && e != extALPN {
			exts = append(exts, e)
		}
	}
	putCount(a[4:6], len(ciphers))
	putCount(a[6:8], nExt)
	a[8], a[9] = '0', '0'
	if len(ch.ALPN) > 0 && len(ch.ALPN[0]) > 0 {
		p := ch.ALPN[0]
		first, last := p[0], p[len(p)-1]
		if isAlnum(first) && isAlnum(last) {
			a[8], a[9] = first, last
		} else {
			const digits = "0123456789abcdef"
			a[8], a[9] = digits[first>>4], digits[last&0xf]
		}
	}
	out := make([]byte, 0, 36)
	out = append(out, a[:]...)
	out = append(out, '_')
	slices.Sort(ciphers)
	out = appendHash12(out, hexList(nil, ciphers), len(ciphers) == 0)
	out = append(out, '_')
	slices.Sort(exts)
	c := hexList(nil, exts)
	var sigs []uint16
	for _, s := range ch.SignatureAlgs {
		if !IsGREASE(s) {
			sigs = append(sigs, s)
		}
	}
	if len(sigs) > 0 {
		c = append(c, '_')
		c = hexList(c, sigs)
	}
	out = appendHash12(out, c, len(exts) == 0)
	return string(out)
}

func appendHash12(out, data []byte, empty bool) []byte {
	if empty {
		return append(out, "000000000000"...)
	}
	sum := sha256.Sum256(data)
	return hex.AppendEncode(out, sum[:6])
}

// hexList appends 4-digit lower-case hex values joined by commas.
func hexList(b []byte, vs []uint16) []byte {
	const digits = "0123456789abcdef"
	for i, v := range vs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, digits[v>>12], digits[v>>8&0xf], digits[v>>4&0xf], digits[v&0xf])
	}
	return b
}

func putCount(dst []byte, n int) {
	if n > 99 {
		n = 99
	}
	dst[0], dst[1] = byte('0'+n/10), byte('0'+n%10)
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func ja4Version(v uint16) string {
	switch v {
	case 0x0304:
		return "13"
	case 0x0303:
		return "12"
	case 0x0302:
		return "11"
	case 0x0301:
		return "10"
	case 0x0300:
		return "s3"
	case 0x0002:
		return "s2"
	case 0xfeff:
		return "d1"
	case 0xfefd:
		return "d2"
	case 0xfefc:
		return "d3"
	}
	if v>>8 == 0x7f {
		return "13"
	}
	return "00"
}

// versionRank orders versions, DTLS ones (which count down) included.
func versionRank(v uint16) int {
	switch v {
	case 0xfeff:
		return 0x0302
	case 0xfefd:
		return 0x0303
	case 0xfefc:
		return 0x0304
	}
	if v>>8 == 0x7f {
		return 0x0304
	}
	return int(v)
}
