package simulate

import (
	"math/rand/v2"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Versions a sensor reports about itself.
const (
	ecsVersion    = "8.11.0"
	sensorVersion = "0.1.0"
)

// ict is Vietnam's time zone (UTC+7, no daylight saving), as nginx and
// syslog at the sites write local times.
var ict = time.FixedZone("ICT", 7*3600)

// head is what differs in the event object from one kind of event to another.
type head struct {
	category, typ []string
	action        string
	outcome       string
	dataset       string
	module        string
	// For flows: when the flow started and how long it lasted.
	start    time.Time
	duration time.Duration
}

// ECS categorisation, shared to save allocations.
var (
	catWeb        = []string{"web"}
	catNetwork    = []string{"network"}
	catAuth       = []string{"authentication"}
	catAuthSess   = []string{"authentication", "session"}
	catSession    = []string{"session"}
	catProcess    = []string{"process"}
	catEmail      = []string{"email"}
	typAccess     = []string{"access"}
	typConnEnd    = []string{"connection", "end"}
	typConnProto  = []string{"connection", "protocol"}
	typStart      = []string{"start"}
	typInfo       = []string{"info"}
	typDenied     = []string{"denied"}
	typAllowed    = []string{"allowed"}
	typDNSFlags   = []string{"RD", "RA"}
	typDNSFlagsAA = []string{"AA", "RD", "RA"}
)

// begin writes what every event of a site carries: @timestamp, event.*,
// ecs, agent and observer (the site's sensor) and host.name.
func (s *Simulator) begin(st *site, ts, id string, h *head, host string) *doc {
	d := newDoc(1536)
	d.str("@timestamp", ts)
	d.open("event")
	d.str("kind", "event")
	d.str("id", id)
	d.strs("category", h.category...)
	d.strs("type", h.typ...)
	d.strOpt("action", h.action)
	d.strOpt("outcome", h.outcome)
	d.str("dataset", h.dataset)
	d.str("module", h.module)
	if !h.start.IsZero() {
		d.time("start", h.start)
		d.str("end", ts)
		d.int("duration", h.duration.Nanoseconds())
	}
	d.close()
	d.open("ecs")
	d.str("version", ecsVersion)
	d.close()
	d.open("agent")
	d.str("type", "soc-sensor")
	d.str("name", st.sensor)
	d.str("id", st.agentID)
	d.str("version", sensorVersion)
	d.close()
	d.open("observer")
	d.str("name", st.sensor)
	d.str("hostname", st.sensorHst)
	d.str("type", "sensor")
	d.str("vendor", "egovsoc")
	d.str("product", "soc-sensor")
	d.close()
	d.open("host")
	d.str("name", host)
	d.close()
	return d
}

// background makes the site's next background event, at t.
func (s *Simulator) background(st *site, t time.Time) Record {
	t = t.Truncate(time.Microsecond)
	st.seq++
	ts := string(appendTime(nil, t))
	id := eventID(st.code, "bg", st.seq, ts)
	u := st.rng.Float64()
	switch {
	case u < 0.52 && len(st.web) > 0:
		return s.webEvent(st, t, ts, id)
	case u < 0.74:
		return s.dnsEvent(st, t, ts, id)
	case u < 0.90:
		return s.flowEvent(st, t, ts, id)
	case u < 0.96:
		return s.authEvent(st, t, ts, id)
	default:
		return s.mailEvent(st, t, ts, id)
	}
}

// request is one HTTP request as nginx logs it.
type request struct {
	method   string
	path     string
	query    string // without '?'
	status   int
	bytes    int64
	referrer string
	agent    string
	version  string // "1.1" or "2.0"
}

func (q *request) original() string {
	if q.query == "" {
		return q.path
	}
	return q.path + "?" + q.query
}

// Kinds of resource, for status and size.
const (
	resHTML = iota
	resStatic
	resAPI
	resPDF
	resPost
)

func (s *Simulator) webEvent(st *site, t time.Time, ts, id string) Record {
	r := st.rng
	v := st.pickVhost(r.Float64())
	var client netip.Addr
	if v.internal {
		client = st.workstation(r.IntN(480))
	} else {
		u := r.Float64()
		client = st.clients[int(u*u*float64(len(st.clients)))]
	}
	var q request
	var res int
	switch v.kind {
	case "public-service-portal":
		res = pspRequest(r, &q, t)
	case "document-exchange":
		res = qlvbRequest(r, &q)
	default:
		res = portalRequest(r, &q, t)
	}
	webResponse(r, &q, res, v.host)
	if _, down := s.outage(v.svc.ID, t); down {
		q.status = []int{502, 503, 504}[r.IntN(3)]
		q.bytes = int64(150 + r.IntN(400))
	}
	if v.internal {
		q.agent = userAgents[[]int{0, 1, 6}[r.IntN(3)]]
	} else {
		q.agent = userAgents[pickWeighted(r, uaWeights)]
	}
	q.version = "2.0"
	if r.IntN(10) < 3 {
		q.version = "1.1"
	}
	return s.nginx(st, v, t, ts, id, client, &q)
}

func staticRequest(r *rand.Rand, q *request) int {
	q.method, q.path = "GET", staticAssets[r.IntN(len(staticAssets))]
	return resStatic
}

func portalRequest(r *rand.Rand, q *request, t time.Time) int {
	q.method = "GET"
	u := r.Float64()
	switch {
	case u < 0.08:
		q.path = "/"
	case u < 0.30:
		q.path = "/tin-tuc/" + newsSlugs[r.IntN(len(newsSlugs))] + "-" + strconv.Itoa(100000+r.IntN(900000)) + ".html"
	case u < 0.36:
		q.path = "/thong-bao/" + newsSlugs[r.IntN(len(newsSlugs))]
	case u < 0.42:
		q.path, q.query = "/van-ban-chinh-sach", "page="+strconv.Itoa(1+r.IntN(40))
	case u < 0.46:
		q.path, q.query = "/tim-kiem", "q="+searchTerms[r.IntN(len(searchTerms))]
	case u < 0.52:
		q.path = portalPages[r.IntN(len(portalPages))]
	case u < 0.55:
		q.path = t.In(ict).Format("/uploads/2006/01/") + "qd-" + strconv.Itoa(1000+r.IntN(9000)) + "-ubnd.pdf"
		return resPDF
	default:
		return staticRequest(r, q)
	}
	return resHTML
}

func pspRequest(r *rand.Rand, q *request, t time.Time) int {
	q.method = "GET"
	u := r.Float64()
	switch {
	case u < 0.06:
		q.path = "/"
	case u < 0.16:
		q.path = "/thu-tuc-hanh-chinh"
		if r.IntN(2) == 0 {
			q.query = "linh-vuc=" + policyAreas[r.IntN(len(policyAreas))]
		}
	case u < 0.24:
		q.path = "/thu-tuc-hanh-chinh/" + procedures[r.IntN(len(procedures))]
	case u < 0.38:
		q.path, q.query = "/tra-cuu-ho-so", "ma="+dossier(r, t)
	case u < 0.48:
		q.path = "/api/v1/ho-so/" + dossier(r, t) + "/trang-thai"
		return resAPI
	case u < 0.53:
		q.method, q.path, q.query = "POST", "/nop-ho-so-truc-tuyen", "ma-thu-tuc=1."+strconv.Itoa(1000+r.IntN(9000))
		return resPost
	case u < 0.58:
		q.path = "/dang-nhap"
		if r.IntN(2) == 0 {
			q.method = "POST"
			return resPost
		}
	case u < 0.61:
		q.path, q.query = "/thanh-toan-truc-tuyen", "ma-ho-so="+dossier(r, t)
	default:
		return staticRequest(r, q)
	}
	return resHTML
}

func qlvbRequest(r *rand.Rand, q *request) int {
	q.method = "GET"
	u := r.Float64()
	switch {
	case u < 0.15:
		q.path, q.query = "/van-ban-den", "trang="+strconv.Itoa(1+r.IntN(20))
	case u < 0.25:
		q.path, q.query = "/van-ban-di", "trang="+strconv.Itoa(1+r.IntN(20))
	case u < 0.40:
		q.path = "/van-ban/" + strconv.Itoa(200000+r.IntN(90000)) + "/xem"
	case u < 0.60:
		q.path = "/api/v1/thong-bao/dem"
		return resAPI
	case u < 0.65:
		q.method, q.path = "POST", "/ky-so/xac-nhan"
		return resPost
	case u < 0.72:
		q.path = "/tai-lieu/" + strconv.Itoa(200000+r.IntN(90000)) + ".pdf"
		return resPDF
	default:
		return staticRequest(r, q)
	}
	return resHTML
}

// dossier is a dossier code as Vietnam's public-service portals print them:
// agency code, date, sequence (e.g. 000.00.21.H26-261122-0042).
func dossier(r *rand.Rand, t time.Time) string {
	b := make([]byte, 0, 28)
	b = append(b, "000.00."...)
	b = appendPad(b, 10+r.IntN(80), 2)
	b = append(b, ".H"...)
	b = appendPad(b, 10+r.IntN(60), 2)
	b = append(b, '-')
	b = t.In(ict).AddDate(0, 0, -r.IntN(30)).AppendFormat(b, "060102")
	b = append(b, '-')
	b = appendPad(b, 1+r.IntN(9999), 4)
	return string(b)
}

func appendPad(b []byte, n, width int) []byte {
	s := strconv.Itoa(n)
	for i := len(s); i < width; i++ {
		b = append(b, '0')
	}
	return append(b, s...)
}

// webResponse sets status, size and referrer for a background request.
func webResponse(r *rand.Rand, q *request, res int, host string) {
	q.status = 200
	u := r.Float64()
	switch res {
	case resHTML:
		q.bytes = int64(18_000 + r.IntN(80_000))
		switch {
		case u < 0.015 && strings.HasPrefix(q.path, "/tin-tuc/"):
			q.status, q.bytes = 404, int64(3_000+r.IntN(6_000)) // a stale link
		case u < 0.018:
			q.status, q.bytes = 500, int64(400+r.IntN(2_000))
		}
		switch v := r.Float64(); {
		case v < 0.45:
			q.referrer = referrers[r.IntN(len(referrers))]
		case v < 0.80:
			q.referrer = "https://" + host + "/"
		}
	case resStatic:
		q.referrer = "https://" + host + "/"
		switch {
		case u < 0.28:
			q.status, q.bytes = 304, 0
		case u < 0.29:
			q.status, q.bytes = 404, int64(3_000+r.IntN(6_000))
		case strings.HasSuffix(q.path, ".js"):
			q.bytes = int64(80_000 + r.IntN(500_000))
		case strings.HasSuffix(q.path, ".css"):
			q.bytes = int64(30_000 + r.IntN(130_000))
		default:
			q.bytes = int64(1_000 + r.IntN(250_000))
		}
	case resAPI:
		q.bytes = int64(300 + r.IntN(2_200))
		switch {
		case u < 0.01:
			q.status, q.bytes = 500, 120
		case u < 0.03:
			q.status, q.bytes = 404, 96 // unknown dossier code
		}
	case resPDF:
		q.bytes = int64(90_000 + r.IntN(4_000_000))
		if u < 0.01 {
			q.status, q.bytes = 404, int64(3_000+r.IntN(6_000))
		}
	case resPost:
		q.status, q.bytes = 302, 0
		if u < 0.4 {
			q.status, q.bytes = 200, int64(2_000+r.IntN(20_000))
		}
		q.referrer = "https://" + host + q.path
	}
}

// nginx writes an access log event of vhost v.
func (s *Simulator) nginx(st *site, v *vhost, t time.Time, ts, id string, client netip.Addr, q *request) Record {
	h := head{category: catWeb, typ: typAccess, dataset: "nginx.access", module: "nginx", outcome: "success"}
	if q.status >= 400 {
		h.outcome = "failure"
	}
	d := s.begin(st, ts, id, &h, v.server)
	ip := client.String()
	d.open("source")
	d.str("ip", ip)
	d.str("address", ip)
	d.close()
	original := q.original()
	d.open("url")
	d.str("original", original)
	d.str("domain", v.host)
	d.str("path", q.path)
	d.strOpt("query", q.query)
	d.close()
	d.open("http")
	d.str("version", q.version)
	d.open("request")
	d.str("method", q.method)
	d.strOpt("referrer", q.referrer)
	d.close()
	d.open("response")
	d.int("status_code", int64(q.status))
	d.open("body")
	d.int("bytes", q.bytes)
	d.close()
	d.close()
	d.close()
	d.open("user_agent")
	d.str("original", q.agent)
	d.close()
	d.open("log")
	d.open("file")
	d.str("path", "/var/log/nginx/"+v.host+".access.log")
	d.close()
	d.close()

	// The combined log line, as nginx wrote it.
	m := make([]byte, 0, 256)
	m = append(m, ip...)
	m = append(m, " - - ["...)
	m = t.In(ict).AppendFormat(m, "02/Jan/2006:15:04:05 -0700")
	m = append(m, "] \""...)
	m = append(m, q.method...)
	m = append(m, ' ')
	m = append(m, original...)
	m = append(m, " HTTP/"...)
	m = append(m, q.version...)
	m = append(m, "\" "...)
	m = strconv.AppendInt(m, int64(q.status), 10)
	m = append(m, ' ')
	m = strconv.AppendInt(m, q.bytes, 10)
	m = append(m, " \""...)
	if q.referrer == "" {
		m = append(m, '-')
	} else {
		m = append(m, q.referrer...)
	}
	m = append(m, "\" \""...)
	m = append(m, q.agent...)
	m = append(m, '"')
	d.key("message")
	d.b = appendString(d.b, string(m))
	d.comma = true
	return s.finish(st.code, id, v.host, t, d.bytes(), false)
}

// answer is one DNS resource record of a response.
type answer struct {
	name, typ, data string
	ttl             int
}

func (s *Simulator) dnsEvent(st *site, t time.Time, ts, id string) Record {
	r := st.rng
	u := r.Float64()
	client := st.workstation(int(u * u * 480))
	qtype, rcode := "A", "NOERROR"
	if r.IntN(100) < 27 {
		qtype = "AAAA"
	}
	var name string
	var ans []answer
	own := false
	switch u := r.Float64(); {
	case u < 0.25 && len(st.web) > 0:
		v := &st.web[r.IntN(len(st.web))]
		name, own = v.host, true
		if qtype == "A" {
			ans = []answer{{name, "A", v.ip.String(), 300}}
		} else {
			ans = []answer{{name, "AAAA", v.ip6.String(), 300}}
		}
	case u < 0.30:
		name, own = st.mailHost, true
		if qtype == "A" {
			ans = []answer{{name, "A", st.mailIP.String(), 3600}}
		}
	case u < 0.34:
		own = true
		if r.IntN(2) == 0 {
			name, qtype = "_ldap._tcp.dc._msdcs."+st.ad, "SRV"
			ans = []answer{{name, "SRV", "0 100 389 dc01." + st.ad, 600}}
		} else {
			name, qtype = "dc01."+st.ad, "A"
			ans = []answer{{name, "A", st.dc().String(), 1200}}
		}
	case u < 0.37:
		// Lookups that fail: proxy auto-discovery, and a name with the
		// directory's search suffix appended.
		own, rcode = true, "NXDOMAIN"
		if r.IntN(2) == 0 {
			name = "wpad." + st.ad
		} else {
			name = externalNames[r.IntN(5)] + "." + st.ad
		}
	default:
		v := r.Float64()
		name = externalNames[int(v*v*float64(len(externalNames)))]
		if r.IntN(100) < 5 {
			qtype = "HTTPS"
		}
		ans = externalAnswers(name, qtype)
	}
	return s.dnsDoc(st, t, ts, id, client, r.Uint32(), name, qtype, rcode, own, ans)
}

// externalAnswers resolves an internet name to addresses of the servers'
// range, the same ones every time.
func externalAnswers(name, qtype string) []answer {
	h := hashString(name)
	target := name
	var ans []answer
	switch name {
	case "www.facebook.com":
		target = "star-mini.c10r.facebook.com"
	case "outlook.office365.com":
		target = "outlook.ms-acdc.office.com"
	}
	if target != name {
		ans = append(ans, answer{name, "CNAME", target, 3600})
	}
	ttl := 60 + int(h%5)*60
	switch qtype {
	case "A":
		ans = append(ans, answer{target, "A", ip4(198, 19, 128+byte(h%128), byte(h>>8)|1).String(), ttl})
		if h&1 == 1 {
			ans = append(ans, answer{target, "A", ip4(198, 19, 128+byte(h%128), byte(h>>8)|1+1).String(), ttl})
		}
	case "AAAA":
		a := netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 0xff, 0xff, 0, 0, 8: byte(h >> 24), 9: byte(h >> 16), 14: byte(h >> 8), 15: byte(h) | 1})
		ans = append(ans, answer{target, "AAAA", a.String(), ttl})
	case "HTTPS":
		ans = append(ans, answer{target, "HTTPS", "1 . alpn=\"h2,h3\"", ttl})
	}
	return ans
}

// dnsDoc writes a DNS transaction as the sensor's network metadata sees it.
func (s *Simulator) dnsDoc(st *site, t time.Time, ts, id string, client netip.Addr, r32 uint32, name, qtype, rcode string, own bool, ans []answer) Record {
	h := head{category: catNetwork, typ: typConnProto, dataset: "dns", module: "netmeta",
		start: t.Add(-time.Duration(300+r32%40_000) * time.Microsecond)}
	h.duration = t.Sub(h.start)
	d := s.begin(st, ts, id, &h, st.sensorHst)
	resolver := st.resolver()
	sport := uint16(32768 + r32%28000)
	qlen := int64(12 + len(name) + 6 + 42)
	rlen := qlen
	for _, a := range ans {
		rlen += int64(12 + len(a.data))
	}
	ip := client.String()
	d.open("source")
	d.str("ip", ip)
	d.int("port", int64(sport))
	d.int("bytes", qlen)
	d.int("packets", 1)
	d.close()
	d.open("destination")
	d.str("ip", resolver.String())
	d.int("port", 53)
	d.int("bytes", rlen)
	d.int("packets", 1)
	d.close()
	d.open("network")
	d.str("transport", "udp")
	d.str("type", "ipv4")
	d.str("protocol", "dns")
	d.str("direction", "internal")
	d.int("bytes", qlen+rlen)
	d.int("packets", 2)
	d.str("community_id", communityID(client, resolver, sport, 53, 17))
	d.close()
	reg, tld, sub := registeredDomain(name)
	d.open("dns")
	d.int("id", int64(r32>>16))
	d.str("type", "answer")
	d.str("op_code", "QUERY")
	if own {
		d.strs("header_flags", typDNSFlagsAA...)
	} else {
		d.strs("header_flags", typDNSFlags...)
	}
	d.str("response_code", rcode)
	d.open("question")
	d.str("name", name)
	d.str("type", qtype)
	d.str("class", "IN")
	d.str("registered_domain", reg)
	d.str("top_level_domain", tld)
	d.strOpt("subdomain", sub)
	d.close()
	if len(ans) > 0 {
		d.openArray("answers")
		for _, a := range ans {
			d.item()
			d.str("name", a.name)
			d.str("type", a.typ)
			d.str("class", "IN")
			d.int("ttl", int64(a.ttl))
			d.str("data", a.data)
			d.closeItem()
		}
		d.closeArray()
		var ips []string
		for _, a := range ans {
			if a.typ == "A" || a.typ == "AAAA" {
				ips = append(ips, a.data)
			}
		}
		if len(ips) > 0 {
			d.strs("resolved_ip", ips...)
		}
	}
	d.close()
	return s.finish(st.code, id, ip, t, d.bytes(), false)
}

// flow describes one network flow as the sensor's flow table closes it.
type flow struct {
	src, dst            netip.Addr
	sport, dport        uint16
	transport, protocol string
	direction           string
	sbytes, dbytes      int64
	spackets, dpackets  int64
	duration            time.Duration
}

func (s *Simulator) flowEvent(st *site, t time.Time, ts, id string) Record {
	r := st.rng
	f := flow{transport: "tcp", sport: uint16(32768 + r.IntN(28000))}
	u := r.Float64()
	switch {
	case u < 0.40 && len(st.web) > 0:
		// An internet client to a public web site.
		c := r.Float64()
		f.src = st.clients[int(c*c*float64(len(st.clients)))]
		v := st.publicVhost("")
		if v == nil {
			v = &st.web[0]
		}
		f.dst = v.ip
		if f.src.Is6() {
			f.dst = v.ip6
		}
		f.sport = uint16(1024 + r.IntN(64000))
		f.dport, f.protocol, f.direction = 443, "tls", "inbound"
		if r.IntN(20) == 0 {
			f.dport, f.protocol = 80, "http"
		}
		f.sbytes, f.dbytes = int64(600+r.IntN(4000)), int64(2_000+r.IntN(400_000))
	case u < 0.75:
		// A workstation to the internet.
		f.src = st.workstation(r.IntN(480))
		h := uint64(r.IntN(4096))
		f.dst = ip4(198, 19, 128+byte(h%128), byte(h>>7)|1)
		f.dport, f.protocol, f.direction = 443, "tls", "outbound"
		if r.IntN(15) == 0 {
			f.dport, f.protocol = 80, "http"
		}
		f.sbytes, f.dbytes = int64(800+r.IntN(20_000)), int64(3_000+r.IntN(2_000_000))
	case u < 0.92:
		// Inside: the directory, file shares, the application database,
		// admins on the servers.
		f.direction = "internal"
		switch r.IntN(4) {
		case 0:
			f.src, f.dst = st.workstation(r.IntN(480)), st.dc()
			f.dport, f.protocol = []uint16{389, 88, 445, 135}[r.IntN(4)], ""
			if f.dport == 389 {
				f.protocol = "ldap"
			}
		case 1:
			f.src, f.dst = st.workstation(r.IntN(480)), ip4(10, st.net, 1, 20)
			f.dport, f.protocol = 445, "smb"
		case 2:
			f.src, f.dst = st.servers[r.IntN(3)].ip, st.servers[3].ip
			f.dport, f.protocol = 5432, "postgresql"
		default:
			a := r.IntN(len(st.admins))
			f.src, f.dst = st.adminIP(a), st.servers[r.IntN(len(st.servers))].ip
			f.dport, f.protocol = 22, "ssh"
		}
		f.sbytes, f.dbytes = int64(400+r.IntN(30_000)), int64(400+r.IntN(300_000))
	default:
		// UDP: time and log shipping.
		f.transport, f.direction = "udp", "internal"
		if r.IntN(2) == 0 {
			f.src, f.dst, f.sport, f.dport, f.protocol = st.workstation(r.IntN(480)), st.gateway(), 123, 123, "ntp"
			f.sbytes, f.dbytes = 90, 90
		} else {
			f.src, f.dst, f.dport, f.protocol = st.servers[r.IntN(len(st.servers))].ip, ip4(10, st.net, 0, 9), 514, "syslog"
			f.sbytes, f.dbytes = int64(200+r.IntN(40_000)), 0
		}
	}
	f.spackets = 1 + f.sbytes/1200
	f.dpackets = f.dbytes / 1400
	if f.dbytes > 0 {
		f.dpackets++
	}
	if f.transport == "tcp" {
		f.spackets += 3
		f.dpackets += 2
		f.sbytes += 3 * 52
		f.dbytes += 2 * 52
	}
	f.duration = time.Duration(20+r.IntN(120_000)) * time.Millisecond
	return s.flowDoc(st, t, ts, id, &f)
}

// flowDoc writes a flow record (event.dataset "flow").
func (s *Simulator) flowDoc(st *site, t time.Time, ts, id string, f *flow) Record {
	h := head{category: catNetwork, typ: typConnEnd, action: "network_flow", dataset: "flow", module: "netmeta",
		start: t.Add(-f.duration), duration: f.duration}
	d := s.begin(st, ts, id, &h, st.sensorHst)
	src, dst := f.src.String(), f.dst.String()
	d.open("source")
	d.str("ip", src)
	d.int("port", int64(f.sport))
	d.int("bytes", f.sbytes)
	d.int("packets", f.spackets)
	d.close()
	d.open("destination")
	d.str("ip", dst)
	d.int("port", int64(f.dport))
	d.int("bytes", f.dbytes)
	d.int("packets", f.dpackets)
	d.close()
	proto := uint8(6)
	if f.transport == "udp" {
		proto = 17
	}
	d.open("network")
	d.str("transport", f.transport)
	if f.src.Is4() {
		d.str("type", "ipv4")
	} else {
		d.str("type", "ipv6")
	}
	d.strOpt("protocol", f.protocol)
	d.str("direction", f.direction)
	d.int("bytes", f.sbytes+f.dbytes)
	d.int("packets", f.spackets+f.dpackets)
	d.str("community_id", communityID(f.src, f.dst, f.sport, f.dport, proto))
	d.close()
	return s.finish(st.code, id, dst, t, d.bytes(), false)
}

// login is one authentication or session line of a host's auth log.
type login struct {
	host     string
	process  string
	pid      int
	user     string
	src      netip.Addr // zero when the line names none
	sport    int
	outcome  string
	action   string
	category []string
	typ      []string
	method   string // ssh method
	message  string
}

func (s *Simulator) authEvent(st *site, t time.Time, ts, id string) Record {
	r := st.rng
	srv := st.servers[r.IntN(len(st.servers))]
	a := r.IntN(len(st.admins))
	admin := st.admins[a]
	l := login{host: srv.name, process: "sshd", pid: 1000 + r.IntN(60000), user: admin}
	u := r.Float64()
	switch {
	case u < 0.42:
		l.src, l.sport = st.adminIP(a), 40000+r.IntN(25000)
		l.method = "publickey"
		if r.IntN(5) == 0 {
			l.method = "password"
		}
		l.outcome, l.action, l.category, l.typ = "success", "ssh_login", catAuthSess, typStart
		l.message = "Accepted " + l.method + " for " + admin + " from " + l.src.String() + " port " + strconv.Itoa(l.sport) + " ssh2"
		if l.method == "publickey" {
			l.message += ": ED25519 SHA256:" + fingerprint(hashString(admin+st.code))
		}
	case u < 0.66:
		l.action, l.category, l.typ = "session_opened", catSession, typStart
		l.message = "pam_unix(sshd:session): session opened for user " + admin + "(uid=" + strconv.Itoa(1001+a) + ") by (uid=0)"
	case u < 0.76:
		cmd := []string{"/usr/bin/systemctl restart nginx", "/usr/bin/tail -n 200 /var/log/nginx/error.log", "/usr/bin/apt-get upgrade -y", "/usr/bin/systemctl status postgresql", "/usr/sbin/nginx -t"}[r.IntN(5)]
		l.process, l.action, l.category, l.typ = "sudo", "sudo", catProcess, typStart
		l.message = admin + " : TTY=pts/0 ; PWD=/home/" + admin + " ; USER=root ; COMMAND=" + cmd
	case u < 0.97:
		// Staff read their official mail; each from their own address.
		i := r.IntN(len(st.staff))
		l.host, l.process, l.user = st.mailHost, "dovecot", st.staff[i]
		l.src = st.staffClient(i)
		l.outcome, l.action, l.category, l.typ = "success", "imap_login", catAuth, typStart
		l.message = "imap-login: Login: user=<" + l.user + ">, method=PLAIN, rip=" + l.src.String() + ", lip=" + st.mailIP.String() + ", mpid=" + strconv.Itoa(l.pid) + ", TLS"
	default:
		// A single mistyped password.
		l.outcome, l.category, l.typ = "failure", catAuth, typInfo
		if r.IntN(2) == 0 {
			l.src, l.sport = st.adminIP(a), 40000+r.IntN(25000)
			l.action = "ssh_login"
			l.message = "Failed password for " + admin + " from " + l.src.String() + " port " + strconv.Itoa(l.sport) + " ssh2"
		} else {
			i := r.IntN(len(st.staff))
			l.host, l.process, l.user = st.mailHost, "dovecot", st.staff[i]
			l.src = st.staffClient(i)
			l.action = "imap_login"
			l.message = "pam_unix(dovecot:auth): authentication failure; logname= uid=0 euid=0 tty=dovecot ruser=" + l.user + " rhost=" + l.src.String() + "  user=" + l.user
		}
	}
	return s.authDoc(st, t, ts, id, &l)
}

// fingerprint is a made-up SSH key fingerprint.
func fingerprint(h uint64) string {
	const b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	b := make([]byte, 43)
	for i := range b {
		h = mix(h, uint64(i))
		b[i] = b64[h&63]
	}
	return string(b)
}

// authDoc writes a line of a host's auth log (event.dataset "system.auth").
func (s *Simulator) authDoc(st *site, t time.Time, ts, id string, l *login) Record {
	h := head{category: l.category, typ: l.typ, action: l.action, outcome: l.outcome, dataset: "system.auth", module: "system"}
	d := s.begin(st, ts, id, &h, l.host)
	d.open("process")
	d.str("name", l.process)
	d.int("pid", int64(l.pid))
	d.close()
	d.open("user")
	d.str("name", l.user)
	if l.process == "sudo" {
		d.open("effective")
		d.str("name", "root")
		d.close()
	}
	d.close()
	if l.src.IsValid() {
		d.open("source")
		d.str("ip", l.src.String())
		if l.sport > 0 {
			d.int("port", int64(l.sport))
		}
		d.close()
	}
	if l.method != "" {
		d.open("system")
		d.open("auth")
		d.open("ssh")
		d.str("method", l.method)
		d.close()
		d.close()
		d.close()
	}
	d.open("log")
	d.open("file")
	d.str("path", "/var/log/auth.log")
	d.close()
	d.close()
	d.str("message", l.message)
	return s.finish(st.code, id, l.host, t, d.bytes(), false)
}

func (s *Simulator) mailEvent(st *site, t time.Time, ts, id string) Record {
	r := st.rng
	qid := queueID(r.Uint64())
	i := r.IntN(len(st.staff))
	from := st.staff[i] + "@" + st.domain
	h := head{category: catEmail, typ: typInfo, dataset: "postfix.log", module: "postfix"}
	var proc, msg, to string
	var src netip.Addr
	switch u := r.Float64(); {
	case u < 0.45:
		proc = "postfix/qmgr"
		msg = qid + ": from=<" + from + ">, size=" + strconv.Itoa(2_000+r.IntN(3_000_000)) + ", nrcpt=1 (queue active)"
	case u < 0.88:
		proc = "postfix/smtp"
		dom := s.sites[r.IntN(len(s.sites))].domain
		to = st.staff[r.IntN(len(st.staff))] + "@" + dom
		relay := "mail." + dom
		if dom == st.domain {
			proc, relay = "postfix/lmtp", "127.0.0.1"
		}
		delay := strconv.FormatFloat(0.1+float64(r.IntN(3000))/1000, 'f', 2, 64)
		msg = qid + ": to=<" + to + ">, relay=" + relay + ":25, delay=" + delay + ", dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as " + queueID(r.Uint64()) + ")"
		h.outcome, h.typ = "success", typAllowed
	default:
		// A spam bot trying to relay.
		proc = "postfix/smtpd"
		src = st.clients[r.IntN(len(st.clients))]
		to = "info" + strconv.Itoa(r.IntN(100)) + "@mail.invalid"
		from = ""
		msg = "NOQUEUE: reject: RCPT from unknown[" + src.String() + "]: 554 5.7.1 <" + to + ">: Relay access denied; from=<> to=<" + to + "> proto=ESMTP helo=<localhost>"
		h.outcome, h.typ = "failure", typDenied
	}
	d := s.begin(st, ts, id, &h, st.mailHost)
	d.open("process")
	d.str("name", proc)
	d.int("pid", int64(1000+r.IntN(60000)))
	d.close()
	if src.IsValid() {
		d.open("source")
		d.str("ip", src.String())
		d.close()
	}
	if from != "" || to != "" {
		d.open("email")
		if from != "" {
			d.open("from")
			d.str("address", from)
			d.close()
		}
		if to != "" {
			d.open("to")
			d.str("address", to)
			d.close()
		}
		d.close()
	}
	d.open("log")
	d.open("file")
	d.str("path", "/var/log/mail.log")
	d.close()
	d.close()
	d.str("message", msg)
	return s.finish(st.code, id, st.mailHost, t, d.bytes(), false)
}

func queueID(h uint64) string {
	const hex = "0123456789ABCDEF"
	b := make([]byte, 11)
	for i := range b {
		b[i] = hex[h&15]
		h >>= 4
	}
	return string(b)
}
