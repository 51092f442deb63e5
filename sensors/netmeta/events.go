package netmeta

import (
	"mime"
	"net"
	"net/netip"
	"strconv"
	"strings"

	"github.com/egovsoc/egovsoc/pipeline/event"
	"github.com/egovsoc/egovsoc/sensors/netmeta/dns"
	"github.com/egovsoc/egovsoc/sensors/netmeta/http"
	"github.com/egovsoc/egovsoc/sensors/netmeta/ssh"
	"github.com/egovsoc/egovsoc/sensors/netmeta/tls"
)

// Datasets (event.dataset) of the documents this package writes.
const (
	DatasetFlow = "flow"
	DatasetDNS  = "dns"
	DatasetHTTP = "http"
	DatasetTLS  = "tls"
	DatasetSSH  = "ssh"
)

// cid returns a flow's Community ID, cached while the flow has parser state.
func (w *worker) cid(f *flow) string {
	if f.app != nil {
		if f.app.cid == "" {
			f.app.cid = f.communityID()
		}
		return f.app.cid
	}
	return f.communityID()
}

// head starts a document: @timestamp and the event object's common fields.
// The caller writes the rest of the event object and closes it.
func (w *worker) head(f *flow, cid string, ts int64, dataset string) *doc {
	d := &w.doc
	d.reset()
	d.time("@timestamp", ts)
	d.open("event")
	d.str("id", event.ID(w.p.opt.Observer, cid, dataset, strconv.FormatInt(ts, 10), strconv.Itoa(int(f.seq))))
	f.seq++
	d.raw("kind", "event")
	d.raw("module", "netmeta")
	d.raw("dataset", dataset)
	return d
}

// endpoints writes observer, organization, source, destination, network and
// related. counts adds bytes and packets (flow records).
func (w *worker) endpoints(d *doc, f *flow, cid, protocol string, counts bool) {
	src, dst, sport, dport := f.endpoints()
	ports := f.key.proto == protoTCP || f.key.proto == protoUDP
	d.open("observer")
	d.str("name", w.p.opt.Observer)
	d.raw("type", "sensor")
	d.close()
	if w.p.opt.Org != "" {
		d.open("organization")
		d.str("id", w.p.opt.Org)
		d.close()
	}
	side := func(name string, a netip.Addr, port uint16, i int) {
		d.open(name)
		d.ip("ip", a)
		if ports {
			d.int("port", int64(port))
		}
		if counts {
			d.uint("bytes", f.bytes[i])
			d.uint("packets", f.pkts[i])
		}
		d.close()
	}
	side("source", src, sport, 0)
	side("destination", dst, dport, 1)
	d.open("network")
	d.raw("transport", transportName(f.key.proto))
	if f.key.v6 {
		d.raw("type", "ipv6")
	} else {
		d.raw("type", "ipv4")
	}
	d.str("community_id", cid)
	if protocol != "" {
		d.raw("protocol", protocol)
	}
	if counts {
		d.uint("bytes", f.bytes[0]+f.bytes[1])
		d.uint("packets", f.pkts[0]+f.pkts[1])
	}
	if f.vlan != 0 {
		d.open("vlan")
		d.str("id", strconv.Itoa(int(f.vlan)))
		d.close()
	}
	d.close()
	d.open("related")
	d.key("ip")
	d.b = append(d.b, '[', '"')
	d.b = src.AppendTo(d.b)
	d.b = append(d.b, '"')
	if dst != src {
		d.b = append(d.b, ',', '"')
		d.b = dst.AppendTo(d.b)
		d.b = append(d.b, '"')
	}
	d.b = append(d.b, ']')
	d.comma = true
	d.close()
}

func transportName(p uint8) string {
	switch p {
	case protoTCP:
		return "tcp"
	case protoUDP:
		return "udp"
	case protoICMP:
		return "icmp"
	case protoICMPv6:
		return "ipv6-icmp"
	case 2:
		return "igmp"
	case 47:
		return "gre"
	case 50:
		return "esp"
	case 51:
		return "ah"
	case 89:
		return "ospf"
	case 103:
		return "pim"
	case 112:
		return "vrrp"
	case 132:
		return "sctp"
	}
	return protoNames[p]
}

var protoNames = func() (n [256]string) {
	for i := range n {
		n[i] = strconv.Itoa(i)
	}
	return n
}()

// send hands the finished document to the pipeline, keyed by flow.
func (w *worker) send(cid string) {
	w.st.Events++
	w.key = append(w.key[:0], cid...)
	w.p.sendDoc(w.key, w.doc.bytes())
}

// emitFlow writes a flow record: final (the flow ended) or interim.
func (w *worker) emitFlow(f *flow, reason string, final bool) {
	cid := w.cid(f)
	d := w.head(f, cid, f.last, DatasetFlow)
	d.raws("category", "network")
	if final {
		d.raws("type", "connection", "end")
	} else {
		d.raws("type", "connection", "start")
	}
	d.raw("action", "network_flow")
	d.time("start", f.start)
	d.time("end", f.last)
	d.int("duration", f.last-f.start)
	d.close()
	w.endpoints(d, f, cid, "", true)
	d.open("egovsoc")
	d.open("flow")
	if s := f.state(); s != "" {
		d.raw("state", s)
	}
	d.raw("reason", reason)
	if f.key.proto == protoICMP || f.key.proto == protoICMPv6 {
		d.int("icmp_type", int64(f.icmpType))
		d.int("icmp_code", int64(f.icmpCode))
	}
	d.close()
	d.close()
	w.st.FlowEvents++
	w.send(cid)
}

// emitDNS writes one DNS message (a query or an answer) as an event.
func (w *worker) emitDNS(f *flow, m *dns.Message, malformed bool) {
	cid := w.cid(f)
	d := w.head(f, cid, w.now, DatasetDNS)
	d.raws("category", "network")
	d.raws("type", "protocol")
	d.close()
	w.endpoints(d, f, cid, "dns", false)
	d.open("dns")
	d.str("id", strconv.Itoa(int(m.ID)))
	if m.Response {
		d.raw("type", "answer")
	} else {
		d.raw("type", "query")
	}
	d.raw("op_code", dns.OpcodeName(m.Opcode))
	var flags [6]string
	fl := flags[:0]
	for _, x := range [...]struct {
		bit  uint16
		name string
	}{{dns.FlagAA, "AA"}, {dns.FlagTC, "TC"}, {dns.FlagRD, "RD"}, {dns.FlagRA, "RA"}, {dns.FlagAD, "AD"}, {dns.FlagCD, "CD"}} {
		if m.Flags&x.bit != 0 {
			fl = append(fl, x.name)
		}
	}
	if len(fl) > 0 {
		d.raws("header_flags", fl...)
	}
	if m.Response {
		d.raw("response_code", dns.RcodeName(m.Rcode))
	}
	if len(m.Questions) > 0 {
		q := &m.Questions[0]
		d.open("question")
		d.str("name", q.Name)
		d.raw("type", dns.TypeName(q.Type))
		d.raw("class", dns.ClassName(q.Class))
		if reg, tld, sub := registeredDomain(q.Name); reg != "" {
			d.str("registered_domain", reg)
			d.str("top_level_domain", tld)
			d.strOpt("subdomain", sub)
		}
		d.close()
	}
	if len(m.Answers) > 0 {
		d.openArray("answers")
		for i := range m.Answers {
			a := &m.Answers[i]
			d.item()
			d.str("name", a.Name)
			d.raw("type", dns.TypeName(a.Type))
			d.raw("class", dns.ClassName(a.Class))
			d.uint("ttl", uint64(a.TTL))
			d.strOpt("data", a.Data)
			d.closeItem()
		}
		d.closeArray()
		n := 0
		for i := range m.Answers {
			if ip := m.Answers[i].IP; ip.IsValid() {
				if n == 0 {
					d.key("resolved_ip")
					d.b = append(d.b, '[')
				} else {
					d.b = append(d.b, ',')
				}
				d.b = append(d.b, '"')
				d.b = ip.AppendTo(d.b)
				d.b = append(d.b, '"')
				n++
			}
		}
		if n > 0 {
			d.b = append(d.b, ']')
			d.comma = true
		}
	}
	d.close()
	if len(m.Questions) > 1 || malformed || int(m.ANCount) > len(m.Answers) && !malformed {
		d.open("egovsoc")
		d.open("dns")
		if len(m.Questions) > 1 {
			d.key("questions")
			d.b = append(d.b, '[')
			for i := range m.Questions {
				if i > 0 {
					d.b = append(d.b, ',')
				}
				d.b = event.AppendString(d.b, m.Questions[i].Name)
			}
			d.b = append(d.b, ']')
			d.comma = true
		}
		if malformed {
			d.bool("malformed", true)
		}
		if int(m.ANCount) > len(m.Answers) {
			d.int("answers_claimed", int64(m.ANCount))
		}
		d.close()
		d.close()
	}
	w.st.DNSEvents++
	w.send(cid)
}

// emitHTTP writes one request/response pair.
func (w *worker) emitHTTP(f *flow, tx *http.Transaction) {
	cid := w.cid(f)
	req, resp := tx.Request, tx.Response
	ts := w.now
	if req != nil {
		ts = req.Time
	} else if resp != nil {
		ts = resp.Time
	}
	d := w.head(f, cid, ts, DatasetHTTP)
	d.raws("category", "network", "web")
	d.raws("type", "protocol", "access")
	if resp != nil && resp.Status > 0 {
		if resp.Status < 400 {
			d.raw("outcome", "success")
		} else {
			d.raw("outcome", "failure")
		}
	}
	d.close()
	w.endpoints(d, f, cid, "http", false)
	if req != nil {
		u := splitURL(req)
		d.open("url")
		d.str("original", req.URI)
		d.strOpt("path", u.path)
		d.strOpt("query", u.query)
		d.strOpt("domain", u.domain)
		if u.port > 0 {
			d.int("port", int64(u.port))
		}
		if reg, _, _ := registeredDomain(u.domain); reg != "" {
			d.str("registered_domain", reg)
		}
		d.close()
	}
	d.open("http")
	if req != nil {
		d.strOpt("version", req.Version)
	} else if resp != nil {
		d.strOpt("version", resp.Version)
	}
	if req != nil {
		d.open("request")
		d.str("method", req.Method)
		d.open("body")
		d.int("bytes", req.BodyBytes)
		d.close()
		d.strOpt("mime_type", mimeType(req.ContentType))
		d.strOpt("referrer", req.Referer)
		d.close()
	}
	if resp != nil {
		d.open("response")
		if resp.Status > 0 { // an HTTP/0.9 response has no status line
			d.int("status_code", int64(resp.Status))
		}
		d.open("body")
		d.int("bytes", resp.BodyBytes)
		d.close()
		d.strOpt("mime_type", mimeType(resp.ContentType))
		d.close()
	}
	d.close()
	if req != nil && req.UserAgent != "" {
		d.open("user_agent")
		d.str("original", req.UserAgent)
		d.close()
	}
	w.st.HTTPEvents++
	w.send(cid)
}

type urlParts struct {
	path, query, domain string
	port                int
}

// splitURL reads path, query, host and port from a request target and the
// Host header.
func splitURL(r *http.Request) urlParts {
	var u urlParts
	target := r.URI
	host := r.Host
	switch {
	case r.Method == "CONNECT" && strings.IndexByte(target, '/') < 0:
		host, target = target, "" // authority form: host:port
	case len(target) > 0 && target[0] != '/' && target != "*":
		// absolute form: scheme://authority/path
		if i := strings.Index(target, "://"); i > 0 {
			rest := target[i+3:]
			j := strings.IndexAny(rest, "/?#")
			if j < 0 {
				j = len(rest)
			}
			host, target = rest[:j], rest[j:]
			if at := strings.LastIndexByte(host, '@'); at >= 0 {
				host = host[at+1:]
			}
		}
	}
	if i := strings.IndexByte(target, '#'); i >= 0 {
		target = target[:i]
	}
	if i := strings.IndexByte(target, '?'); i >= 0 {
		u.path, u.query = target[:i], target[i+1:]
	} else {
		u.path = target
	}
	if h, p, err := net.SplitHostPort(host); err == nil {
		host = h
		if n, err := strconv.Atoi(p); err == nil && n > 0 && n < 65536 {
			u.port = n
		}
	}
	u.domain = strings.TrimSuffix(strings.Trim(host, "[]"), ".")
	return u
}

// mimeType returns the media type of a Content-Type, lower-cased, without
// parameters.
func mimeType(ct string) string {
	if ct == "" {
		return ""
	}
	if mt, _, err := mime.ParseMediaType(ct); err == nil {
		return mt
	}
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	return strings.ToLower(strings.TrimSpace(ct))
}

// emitTLS writes what was seen of a TLS or DTLS handshake.
func (w *worker) emitTLS(f *flow, t *tlsState) {
	cid := w.cid(f)
	ts := t.chTime
	if ts == 0 {
		ts = w.now
	}
	d := w.head(f, cid, ts, DatasetTLS)
	d.raws("category", "network")
	d.raws("type", "protocol")
	d.close()
	proto := "tls"
	if t.dtls {
		proto = "dtls"
	}
	w.endpoints(d, f, cid, proto, false)
	d.open("tls")
	if t.hasSH {
		if p, v := tls.Version(t.version()); v != "" {
			d.raw("version", v)
			d.raw("version_protocol", p)
		}
		if name := tls.CipherName(t.sh.Cipher); name != "" {
			d.raw("cipher", name)
		} else {
			d.raw("cipher", hex4(t.sh.Cipher))
		}
		d.strOpt("next_protocol", t.sh.ALPN)
	}
	d.bool("established", t.established())
	if t.hasCH {
		ch := &t.ch
		d.open("client")
		if ch.HasServerName {
			d.str("server_name", ch.ServerName)
		}
		d.key("supported_ciphers")
		d.b = append(d.b, '[')
		n := 0
		for _, c := range ch.Ciphers {
			if tls.IsGREASE(c) {
				continue
			}
			if n > 0 {
				d.b = append(d.b, ',')
			}
			n++
			name := tls.CipherName(c)
			if name == "" {
				name = hex4(c)
			}
			d.b = append(d.b, '"')
			d.b = append(d.b, name...)
			d.b = append(d.b, '"')
		}
		d.b = append(d.b, ']')
		d.comma = true
		w.scratch = w.scratch[:0]
		var hash string
		w.scratch, hash = tls.JA3(ch, w.scratch)
		d.raw("ja3", hash)
		d.str("ja4", tls.JA4(ch))
		d.close()
	}
	if t.hasSH || t.hasCert {
		d.open("server")
		if t.hasSH {
			var hash string
			w.scratch, hash = tls.JA3S(&t.sh, w.scratch[:0])
			d.raw("ja3s", hash)
		}
		if t.hasCert {
			c := &t.cert
			d.open("hash")
			d.raw("sha256", c.SHA256)
			d.close()
			if c.Parsed {
				d.strOpt("subject", c.SubjectDN)
				d.strOpt("issuer", c.IssuerDN)
				d.time("not_before", c.NotBefore.UnixNano())
				d.time("not_after", c.NotAfter.UnixNano())
				d.open("x509")
				d.open("subject")
				d.strOpt("common_name", c.SubjectCN)
				d.strOpt("distinguished_name", c.SubjectDN)
				d.close()
				d.open("issuer")
				d.strOpt("common_name", c.IssuerCN)
				d.strOpt("distinguished_name", c.IssuerDN)
				d.close()
				d.time("not_before", c.NotBefore.UnixNano())
				d.time("not_after", c.NotAfter.UnixNano())
				if len(c.AlternativeNames) > 0 {
					d.strs("alternative_names", c.AlternativeNames)
				}
				d.strOpt("serial_number", c.Serial)
				d.close()
			}
		}
		d.close()
	}
	d.close()
	if (t.hasCH && len(t.ch.ALPN) > 0) || t.hrr || t.certs > 0 {
		d.open("egovsoc")
		d.open("tls")
		if t.hasCH && len(t.ch.ALPN) > 0 {
			d.strs("client_alpn", t.ch.ALPN)
		}
		if t.hrr {
			d.bool("hello_retry", true)
		}
		if t.certs > 0 {
			d.int("certificate_chain_length", int64(t.certs))
		}
		d.close()
		d.close()
	}
	w.st.TLSEvents++
	w.send(cid)
}

func hex4(v uint16) string {
	const digits = "0123456789abcdef"
	return string([]byte{'0', 'x', digits[v>>12], digits[v>>8&0xf], digits[v>>4&0xf], digits[v&0xf]})
}

// emitSSH writes the banners and HASSH fingerprints of an SSH connection.
func (w *worker) emitSSH(f *flow, s *sshState) {
	cid := w.cid(f)
	d := w.head(f, cid, s.time, DatasetSSH)
	d.raws("category", "network")
	d.raws("type", "protocol")
	d.close()
	w.endpoints(d, f, cid, "ssh", false)
	c, sv := &s.s[0], &s.s[1]
	d.open("egovsoc")
	d.open("ssh")
	if v := sshVersion(c.Banner, sv.Banner); v != "" {
		d.str("version", v)
	}
	side := func(name string, st *ssh.Stream) {
		if st.Banner == "" && !st.HasKex() {
			return
		}
		d.open(name)
		d.strOpt("software", st.Banner)
		if st.HasKex() {
			d.str("kex_algorithms", st.Kex.Kex)
			d.str("host_key_algorithms", st.Kex.HostKey)
		}
		d.close()
	}
	side("client", c)
	side("server", sv)
	if c.HasKex() {
		d.raw("hassh", c.Kex.HASSH)
		d.str("hassh_algorithms", c.Kex.HASSHAlgorithms)
	}
	if sv.HasKex() {
		d.raw("hassh_server", sv.Kex.HASSH)
		d.str("hassh_server_algorithms", sv.Kex.HASSHAlgorithms)
	}
	d.close()
	d.close()
	w.st.SSHEvents++
	w.send(cid)
}

// sshVersion is the protocol version both banners agree on ("2.0"), or
// the client's.
func sshVersion(client, server string) string {
	v := func(b string) string {
		if !strings.HasPrefix(b, "SSH-") {
			return ""
		}
		b = b[4:]
		if i := strings.IndexByte(b, '-'); i >= 0 {
			return b[:i]
		}
		return ""
	}
	if s := v(server); s != "" {
		return s
	}
	return v(client)
}
