package netmeta

import (
	"crypto/sha256"
	"encoding/binary"

	"github.com/egovsoc/egovsoc/sensors/netmeta/dns"
	"github.com/egovsoc/egovsoc/sensors/netmeta/http"
	"github.com/egovsoc/egovsoc/sensors/netmeta/ssh"
	"github.com/egovsoc/egovsoc/sensors/netmeta/tls"
)

type appKind uint8

const (
	appUnknown appKind = iota // still looking at the first bytes
	appHTTP
	appTLS
	appSSH
	appDNS
	appDTLS
)

// Bounds of protocol recognition.
const (
	maxSniffSegments = 32 // TCP pieces examined before giving up (STARTTLS needs several)
	maxSniffUDP      = 16 // UDP datagrams of a flow examined for DTLS
	maxDNSTCP        = 2 + 65535
)

// app is the protocol state of one flow, made when its first payload comes.
type app struct {
	kind   appKind
	cid    string
	dir    [2]stream // TCP: [0] from the lo endpoint, [1] from hi
	sniffs uint16
	mem    int // bytes held, as last accounted

	http   *http.Conn
	tls    *tlsState
	ssh    *sshState
	dnsBuf [2][]byte // DNS over TCP: [0] originator, [1] responder
}

type tlsState struct {
	rec     [2]tls.Stream     // [0] client, [1] server
	drec    [2]tls.DTLSStream // the same, for DTLS
	ch      tls.ClientHello
	sh      tls.ServerHello
	cert    tls.Certificate
	certs   int
	hasCH   bool
	hasSH   bool
	hrr     bool
	hasCert bool
	dtls    bool
	// DTLS: the client is whoever sends the first ClientHello; swapped
	// when that is the flow's responder and the flow could not flip.
	clientKnown, swapped bool
	chTime               int64
	seen                 [2]tls.Seen
}

type sshState struct {
	s    [2]ssh.Stream // [0] client, [1] server
	time int64
}

// dirSink hands one direction's in-order bytes to the flow being processed.
type dirSink struct {
	w      *worker
	fromLo bool
}

func (s *dirSink) data(b []byte) {
	if f := s.w.cur; f != nil && f.app != nil {
		s.w.appData(f, s.fromLo == f.origLo, b)
	}
}

func (s *dirSink) gap(n int) {
	w := s.w
	w.st.TCPGaps++
	f := w.cur
	if f == nil || f.app == nil {
		return
	}
	fromOrig := s.fromLo == f.origLo
	a := f.app
	switch a.kind {
	case appHTTP:
		a.http.Gap(fromOrig, n)
	case appUnknown:
		// keep looking from the next bytes
	default:
		// TLS, SSH and DNS framing cannot survive a hole: what was read
		// so far is reported when the flow ends.
		a.dir[0].done, a.dir[1].done = true, true
	}
}

func dirIndex(fromLo bool) int {
	if fromLo {
		return 0
	}
	return 1
}

func role(fromOrig bool) int {
	if fromOrig {
		return 0
	}
	return 1
}

// tcpPayload puts a segment through its direction's reassembly.
func (w *worker) tcpPayload(f *flow, fromLo bool, p *packet) {
	if f.app == nil {
		f.app = &app{}
	}
	a := f.app
	s := &a.dir[dirIndex(fromLo)]
	w.cur = f
	s.segment(p.seq, p.flags&tcpSYN != 0, p.payload, &w.sinks[dirIndex(fromLo)])
	w.cur = nil
	if f.app != nil {
		w.account(f)
	}
}

// account tracks the bytes a flow holds for parsing and stops parsing the
// flow when the worker is over its bound.
func (w *worker) account(f *flow) {
	a := f.app
	n := a.dir[0].heldBytes + a.dir[1].heldBytes + cap(a.dnsBuf[0]) + cap(a.dnsBuf[1])
	if a.http != nil {
		n += a.http.Buffered()
	}
	if a.tls != nil {
		n += a.tls.rec[0].Buffered() + a.tls.rec[1].Buffered() + a.tls.drec[0].Buffered() + a.tls.drec[1].Buffered()
	}
	if a.ssh != nil {
		n += a.ssh.s[0].Buffered() + a.ssh.s[1].Buffered()
	}
	w.mem += n - a.mem
	a.mem = n
	if w.mem > w.memMax && n > 0 {
		w.st.BufferPressure++
		w.cur = f
		w.closeApp(f)
		w.cur = nil
	}
}

// appData receives a direction's bytes in order.
func (w *worker) appData(f *flow, fromOrig bool, b []byte) {
	a := f.app
	switch a.kind {
	case appUnknown:
		w.sniff(f, fromOrig, b)
	case appHTTP:
		a.http.Feed(fromOrig, b, w.now)
		if a.http.Tunnel() {
			// CONNECT or Upgrade: look at what the tunnel carries.
			a.kind, a.http, a.sniffs = appUnknown, nil, 0
		} else if a.http.Dead() {
			w.giveUp(f)
		}
	case appTLS:
		w.tlsData(f, fromOrig, b)
	case appSSH:
		w.sshData(f, fromOrig, b)
	case appDNS:
		w.dnsTCPData(f, fromOrig, b)
	}
}

// sniff recognises the protocol of a TCP flow from its first bytes, on any
// port: HTTP request lines, TLS hellos, SSH banners; DNS by port.
func (w *worker) sniff(f *flow, fromOrig bool, b []byte) {
	a := f.app
	a.sniffs++
	isTLS := func(typ byte) bool {
		return len(b) >= 6 && b[0] == 0x16 && b[1] == 3 && b[2] <= 4 && b[5] == typ
	}
	switch {
	case f.key.plo == 53 || f.key.phi == 53:
		a.kind = appDNS
	case len(b) >= 4 && string(b[:4]) == "SSH-":
		a.kind = appSSH
		a.ssh = &sshState{time: w.now}
		a.ssh.s[0].Client = true
	case isTLS(1):
		if !fromOrig && w.flip(f) {
			fromOrig = true
		}
		if !fromOrig {
			break
		}
		a.kind = appTLS
		a.tls = &tlsState{}
	case isTLS(2) && !fromOrig:
		a.kind = appTLS // joined after the ClientHello
		a.tls = &tlsState{}
	case http.LooksLikeRequest(b):
		if !fromOrig && w.flip(f) {
			fromOrig = true
		}
		if !fromOrig {
			break
		}
		a.kind = appHTTP
		a.http = http.NewConn(w.httpTx, &w.httpCnt)
	case !fromOrig && len(b) >= 7 && string(b[:7]) == "HTTP/1.":
		a.kind = appHTTP // joined after the request
		a.http = http.NewConn(w.httpTx, &w.httpCnt)
	}
	if a.kind == appUnknown {
		if a.sniffs >= maxSniffSegments {
			w.giveUp(f)
		}
		return
	}
	w.appData(f, fromOrig, b)
}

// flip swaps a flow's originator when its payload shows we guessed wrong.
// Only flows without a SYN and without emitted events may flip.
func (w *worker) flip(f *flow) bool {
	if (f.flags[0]|f.flags[1])&tcpSYN != 0 || f.seq != 0 || f.interim {
		return false
	}
	f.origLo = !f.origLo
	f.bytes[0], f.bytes[1] = f.bytes[1], f.bytes[0]
	f.pkts[0], f.pkts[1] = f.pkts[1], f.pkts[0]
	f.flags[0], f.flags[1] = f.flags[1], f.flags[0]
	return true
}

// giveUp stops parsing a flow's payload for good.
func (w *worker) giveUp(f *flow) {
	if a := f.app; a != nil {
		w.mem -= a.mem
		a.dir[0].release()
		a.dir[1].release()
	}
	f.app = nil
	f.noapp = true
}

// closeApp writes what a flow's parsers still hold (the flow ends, or its
// parsing stops) and releases them.
func (w *worker) closeApp(f *flow) {
	a := f.app
	if a == nil {
		return
	}
	if f.key.proto == protoTCP {
		// Deliver what waited behind holes, then end the parsers.
		a.dir[0].flush(&w.sinks[0])
		if f.app != nil {
			a.dir[1].flush(&w.sinks[1])
		}
	}
	switch a.kind {
	case appHTTP:
		if a.http != nil {
			a.http.Close()
		}
	case appTLS, appDTLS:
		if t := a.tls; t != nil && (t.hasCH || t.hasSH) {
			w.emitTLS(f, t)
		}
	case appSSH:
		if s := a.ssh; s != nil && (s.s[0].Banner != "" || s.s[1].Banner != "") {
			w.emitSSH(f, s)
		}
	}
	w.giveUp(f)
}

// abandonCurrent drops the parser state of the flow that was being
// processed when something panicked.
func (w *worker) abandonCurrent() {
	if f := w.cur; f != nil {
		if f.app != nil {
			w.mem -= f.app.mem
		}
		f.app = nil
		f.noapp = true
	}
	w.cur = nil
}

// httpTx is the http.Conn callback: one event per transaction.
func (w *worker) httpTx(tx *http.Transaction) {
	if f := w.cur; f != nil {
		w.emitHTTP(f, tx)
	}
}

// tlsData feeds a TLS direction and writes the event once the handshake
// is over (or failed).
func (w *worker) tlsData(f *flow, fromOrig bool, b []byte) {
	t := f.app.tls
	r := role(fromOrig)
	ok := t.rec[r].Feed(b, func(typ uint8, body []byte) { w.tlsMessage(t, r, typ, body) })
	if !ok {
		w.st.TLSErrors++
		if !t.hasCH && !t.hasSH {
			w.giveUp(f)
			return
		}
	}
	t.seen[r] = t.rec[r].Seen()
	if w.tlsDone(t) || !ok {
		w.emitTLS(f, t)
		w.giveUp(f)
	}
}

func (w *worker) tlsMessage(t *tlsState, r int, typ uint8, body []byte) {
	switch {
	case typ == tls.TypeClientHello && r == 0 && !t.hasCH:
		if err := tls.ParseClientHello(body, t.dtls, &t.ch); err != nil {
			w.st.TLSErrors++
			return
		}
		t.hasCH, t.chTime = true, w.now
	case typ == tls.TypeServerHello && r == 1 && (!t.hasSH || t.sh.HelloRetry):
		// A HelloRetryRequest counts until the real ServerHello replaces it.
		if err := tls.ParseServerHello(body, t.dtls, &t.sh); err != nil {
			w.st.TLSErrors++
			return
		}
		t.hasSH = true
		t.hrr = t.hrr || t.sh.HelloRetry
	case typ == tls.TypeCertificate && r == 1 && !t.hasCert && !t.dtls:
		if t.hasSH && t.version() >= 0x0304 {
			return // TLS 1.3 certificates are encrypted; a clear one is not the server's
		}
		certs, err := tls.Certificates(body, 16)
		if err != nil && len(certs) == 0 {
			w.st.TLSErrors++
			return
		}
		if len(certs) > 0 {
			t.cert = w.certificate(certs[0])
			t.hasCert, t.certs = true, len(certs)
		}
	}
}

// version is the negotiated version: supported_versions, else legacy.
func (t *tlsState) version() uint16 {
	if t.sh.SelectedVersion != 0 {
		return t.sh.SelectedVersion
	}
	return t.sh.Version
}

// established: both sides changed cipher spec (up to TLS 1.2) or sent
// application data (TLS 1.3).
func (t *tlsState) established() bool {
	if !t.hasSH {
		return false
	}
	if v := t.version(); v == 0x0304 || v == 0xfefc || v>>8 == 0x7f {
		return t.seen[0]&tls.SeenApplicationData != 0 && t.seen[1]&tls.SeenApplicationData != 0
	}
	return t.seen[0]&tls.SeenChangeCipherSpec != 0 && t.seen[1]&tls.SeenChangeCipherSpec != 0
}

func (w *worker) tlsDone(t *tlsState) bool {
	return t.established() || (t.seen[0]|t.seen[1])&tls.SeenAlert != 0 && (t.hasCH || t.hasSH)
}

// sshData feeds an SSH direction; the event is written once both sides
// sent their KEXINIT.
func (w *worker) sshData(f *flow, fromOrig bool, b []byte) {
	s := f.app.ssh
	st := &s.s[role(fromOrig)]
	st.Feed(b)
	if st.Failed() {
		w.st.SSHErrors++
	}
	if s.s[0].Done() && s.s[1].Done() {
		if s.s[0].Banner != "" || s.s[1].Banner != "" {
			w.emitSSH(f, s)
		}
		w.giveUp(f)
	}
}

// dnsTCPData reads length-prefixed DNS messages (RFC 1035 4.2.2).
func (w *worker) dnsTCPData(f *flow, fromOrig bool, b []byte) {
	a := f.app
	r := role(fromOrig)
	buf := a.dnsBuf[r]
	if len(buf) == 0 {
		// Fast path: whole messages in this piece.
		for len(b) >= 2 {
			n := int(binary.BigEndian.Uint16(b))
			if 2+n > len(b) {
				break
			}
			w.dnsMessage(f, b[2:2+n], false)
			if f.app == nil {
				return
			}
			b = b[2+n:]
		}
		if len(b) == 0 {
			return
		}
	}
	buf = append(buf, b...)
	for len(buf) >= 2 {
		n := int(binary.BigEndian.Uint16(buf))
		if 2+n > len(buf) {
			break
		}
		w.dnsMessage(f, buf[2:2+n], false)
		if f.app == nil {
			return
		}
		buf = buf[:copy(buf, buf[2+n:])]
	}
	if len(buf) > maxDNSTCP {
		buf = nil
	}
	a.dnsBuf[r] = buf
}

// udpPayload parses DNS by port and recognises DTLS by content.
func (w *worker) udpPayload(f *flow, fromOrig bool, p *packet) {
	switch {
	case isDNSPort(p.sport) || isDNSPort(p.dport):
		w.dnsMessage(f, p.payload, p.sport == 5353 || p.dport == 5353)
		return
	case f.noapp:
		return
	}
	if f.app == nil {
		b := p.payload
		// RFC 7983: a first byte of 20-63 is DTLS, here a handshake record.
		if f.pkts[0]+f.pkts[1] > maxSniffUDP {
			f.noapp = true
			return
		}
		if len(b) < 25 || b[0] != 22 || b[1] != 0xfe || b[13] != tls.TypeClientHello && b[13] != tls.TypeServerHello {
			return
		}
		f.app = &app{kind: appDTLS, tls: &tlsState{dtls: true}}
	}
	a := f.app
	if a.kind != appDTLS {
		return
	}
	t := a.tls
	b := p.payload
	if !t.clientKnown && len(b) >= 25 && b[0] == 22 && b[13] == tls.TypeClientHello {
		t.clientKnown = true
		if !fromOrig {
			if w.flip(f) {
				fromOrig = true
			} else {
				t.swapped = true
			}
		}
	}
	w.cur = f
	r := role(fromOrig != t.swapped)
	t.seen[r] |= t.drec[r].Feed(b, func(typ uint8, body []byte) { w.tlsMessage(t, r, typ, body) })
	if f.app != nil && w.tlsDone(t) {
		w.emitTLS(f, t)
		w.giveUp(f)
	}
	w.cur = nil
}

func isDNSPort(p uint16) bool { return p == 53 || p == 5353 || p == 5355 }

// dnsMessage parses one DNS message and writes its event.
func (w *worker) dnsMessage(f *flow, msg []byte, mdns bool) {
	err := dns.Parse(msg, &w.dnsMsg, mdns)
	if err != nil {
		w.st.DNSErrors++
		if len(msg) < 12 {
			return
		}
	}
	w.emitDNS(f, &w.dnsMsg, err != nil)
}

// maxCertCache bounds the parsed certificates a worker keeps: a sensor sees
// the same servers' certificates again and again, and parsing one costs
// tens of microseconds.
const maxCertCache = 4096

// certificate parses a DER certificate, or finds it parsed already.
func (w *worker) certificate(der []byte) tls.Certificate {
	sum := sha256.Sum256(der)
	if c, ok := w.certs[sum]; ok {
		return c
	}
	c := tls.ParseCertificate(der)
	if len(w.certs) >= maxCertCache {
		clear(w.certs) // simple and bounded; the hot certificates come back at once
	}
	if w.certs == nil {
		w.certs = make(map[[32]byte]tls.Certificate)
	}
	w.certs[sum] = c
	return c
}
