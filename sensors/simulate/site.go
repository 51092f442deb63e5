package simulate

import (
	"math/rand/v2"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/egovsoc/egovsoc/pipeline/catalog"
	"github.com/egovsoc/egovsoc/pipeline/event"
)

// Address plan. Nothing here names a real host.
//
//	10.<net>.0.0/16          a site's own network (net = 16 + its catalogue index)
//	  .0.1 gateway, .0.53 resolver, .1.10 directory, .5.x admin workstations,
//	  .10.x DMZ (web, mail), .11.x application and database servers,
//	  .20–.21.x staff workstations
//	198.18.0.0/16, 198.19.0.0/17  Vietnamese ISP clients (RFC 2544 benchmark space)
//	2001:db8:1001::/48 to 2001:db8:1005::/48  IPv6 clients of the same ISPs (RFC 3849)
//	198.19.128.0/17          servers on the internet (DNS answers, outbound flows)
//	192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24  attackers (RFC 5737)
type isp struct {
	name   string
	prefix netip.Prefix
	v6     uint16 // third group of its 2001:db8::/32 prefix
	weight float64
}

var isps = []isp{
	{"VNPT", netip.MustParsePrefix("198.18.0.0/17"), 0x1001, 0.34},
	{"Viettel", netip.MustParsePrefix("198.18.128.0/17"), 0x1002, 0.33},
	{"FPT Telecom", netip.MustParsePrefix("198.19.0.0/18"), 0x1003, 0.20},
	{"CMC Telecom", netip.MustParsePrefix("198.19.64.0/19"), 0x1004, 0.06},
	{"MobiFone", netip.MustParsePrefix("198.19.96.0/19"), 0x1005, 0.07},
}

// vhost is a web site a site serves.
type vhost struct {
	svc      *catalog.Service
	host     string // url.domain
	kind     string // catalog service kind
	internal bool   // used by staff from inside (document exchange)
	server   string // host.name of the web server
	ip       netip.Addr
	ip6      netip.Addr
	weight   float64
}

// probe is one service a site's sensor checks.
type probe struct {
	svc     *catalog.Service
	monitor string // http, dns, tcp
	target  string
	phase   time.Duration // offset within the check period
	key     uint64
}

// site is one simulated organisation and its sensor.
type site struct {
	code      string
	org       *catalog.Org
	domain    string
	ad        string // the internal directory domain
	sensor    string // observer.name, and the vantage of its checks
	sensorHst string
	agentID   string
	net       byte
	weight    float64
	rate      float64 // background events per second

	rng  *rand.Rand
	next time.Time // time of the next background event
	seq  uint64

	web      []vhost
	webTotal float64
	mailHost string
	mailIP   netip.Addr
	servers  []server // hosts with sshd
	admins   []string // admin i works from 10.<net>.5.(10+i)
	staff    []string // mail accounts; staff i logs in from clients[staffClient(i)]
	clients  []netip.Addr
	probes   []probe
}

type server struct {
	name string
	ip   netip.Addr
}

func newSite(seed uint64, index int, o *catalog.Org, national []*catalog.Service) *site {
	st := &site{
		code:   o.Code,
		org:    o,
		domain: o.Domain,
		net:    byte(16 + index%200),
		rng:    rand.New(rand.NewPCG(seed^saltSite, hashString(o.Code))),
	}
	if st.domain == "" {
		st.domain = o.Code + ".gov.vn"
	}
	st.ad = "ad." + st.domain
	st.sensor = "sensor-" + o.Code + "-01"
	st.sensorHst = "soc-sensor-01." + st.domain
	st.agentID = event.ID("simulate-agent", st.sensor)
	r := st.rng

	switch {
	case o.Kind == catalog.KindProvince && o.City:
		st.weight = 3
	case o.Kind == catalog.KindProvince:
		st.weight = 2
	default:
		st.weight = 1.5
	}
	st.weight *= 0.6 + 0.8*r.Float64()

	dmz := byte(10)
	for _, svc := range o.Services {
		if svc.URL == "" || svc.Host == "" {
			continue
		}
		var v vhost
		switch svc.Kind {
		case catalog.ServicePortal:
			v = vhost{weight: 0.55, server: "portal-web01"}
		case catalog.ServicePublicServicePortal:
			v = vhost{weight: 0.35, server: "dvc-web01"}
		case catalog.ServiceDocumentExchange:
			v = vhost{weight: 0.10, internal: true, server: "qlvb-web01"}
		default:
			continue
		}
		v.svc, v.host, v.kind = svc, svc.Host, svc.Kind
		v.server += "." + st.domain
		v.ip = ip4(10, st.net, 10, dmz)
		v.ip6 = netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 0xa0, st.net, 0, 10, 15: dmz})
		dmz++
		st.web = append(st.web, v)
		st.webTotal += v.weight
	}
	st.mailHost = "mail." + st.domain
	for _, svc := range o.Services {
		if svc.Kind == catalog.ServiceMail && svc.Host != "" {
			st.mailHost = svc.Host
			break
		}
	}
	st.mailIP = ip4(10, st.net, 10, 25)
	for i, name := range []string{"portal-web01", "dvc-app01", "qlvb-app01", "db01", "bastion01"} {
		st.servers = append(st.servers, server{name + "." + st.domain, ip4(10, st.net, 11, byte(10+i))})
	}

	// Admins: a few accounts, each used from its own workstation.
	perm := r.Perm(len(adminNames))
	for _, i := range perm[:5] {
		st.admins = append(st.admins, adminNames[i])
	}
	// Staff mail accounts, Vietnamese style: given name + initials.
	seen := map[string]bool{}
	for len(st.staff) < 240 {
		fam := familyNames[pickWeighted(r, familyWeights)]
		mid := middleNames[r.IntN(len(middleNames))]
		given := givenNames[r.IntN(len(givenNames))]
		u := given + fam[:1] + mid[:1]
		for n := 2; seen[u]; n++ {
			u = given + fam[:1] + mid[:1] + strconv.Itoa(n)
		}
		seen[u] = true
		st.staff = append(st.staff, u)
	}
	// The clients that visit the site's portals.
	for range 600 {
		st.clients = append(st.clients, clientIP(r))
	}

	// Probes: the site's own services and the national ones.
	for _, svc := range append(probeable(o.Services), national...) {
		p := probe{svc: svc}
		switch {
		case svc.URL != "":
			p.monitor, p.target = "http", svc.URL
		case svc.Kind == catalog.ServiceDNS:
			p.monitor, p.target = "dns", svc.Host
			if p.target == "" {
				p.target = svc.Zone
			}
		case svc.Kind == catalog.ServiceMail:
			p.monitor, p.target = "tcp", svc.Host+":25"
		default:
			p.monitor, p.target = "tcp", svc.Host+":443"
		}
		p.key = mix(hashString(st.sensor), hashString(svc.ID))
		p.phase = time.Duration(unit(mix(p.key, saltCheck)) * float64(checkEvery))
		st.probes = append(st.probes, p)
	}
	return st
}

// probeable keeps the services that have an endpoint to probe.
func probeable(svcs []*catalog.Service) []*catalog.Service {
	var out []*catalog.Service
	for _, svc := range svcs {
		if svc.URL != "" || svc.Host != "" || (svc.Kind == catalog.ServiceDNS && svc.Zone != "") {
			out = append(out, svc)
		}
	}
	return out
}

// gap draws the time to the site's next background event.
func (st *site) gap() time.Duration {
	return time.Duration(st.rng.ExpFloat64() / st.rate * float64(time.Second))
}

func clientIP(r *rand.Rand) netip.Addr {
	w := r.Float64()
	p := isps[len(isps)-1]
	for _, x := range isps {
		if w < x.weight {
			p = x
			break
		}
		w -= x.weight
	}
	if r.IntN(100) < 15 {
		var b [16]byte
		b[0], b[1], b[2], b[3] = 0x20, 0x01, 0x0d, 0xb8
		b[4], b[5] = byte(p.v6>>8), byte(p.v6)
		b[6], b[7] = byte(r.IntN(256)), byte(r.IntN(256))
		for i := 8; i < 16; i++ {
			b[i] = byte(r.IntN(256))
		}
		return netip.AddrFrom16(b)
	}
	base := p.prefix.Addr().As4()
	size := uint32(1) << (32 - p.prefix.Bits())
	off := 1 + r.Uint32N(size-2)
	v := uint32(base[0])<<24 | uint32(base[1])<<16 | uint32(base[2])<<8 | uint32(base[3])
	v += off
	if byte(v) == 0 || byte(v) == 255 {
		v ^= 1
	}
	return ip4(byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
}

// workstation is a staff machine inside the site.
func (st *site) workstation(i int) netip.Addr {
	i %= 480
	return ip4(10, st.net, byte(20+i/240), byte(10+i%240))
}

func (st *site) adminIP(i int) netip.Addr { return ip4(10, st.net, 5, byte(10+i)) }

// staffClient is the home or mobile address staff member i logs in from.
func (st *site) staffClient(i int) netip.Addr {
	return st.clients[(i*7919+13)%len(st.clients)]
}

func (st *site) gateway() netip.Addr  { return ip4(10, st.net, 0, 1) }
func (st *site) resolver() netip.Addr { return ip4(10, st.net, 0, 53) }
func (st *site) dc() netip.Addr       { return ip4(10, st.net, 1, 10) }

// pickVhost chooses one of the site's web sites by weight; nil if it has none.
func (st *site) pickVhost(u float64) *vhost {
	u *= st.webTotal
	for i := range st.web {
		if u < st.web[i].weight {
			return &st.web[i]
		}
		u -= st.web[i].weight
	}
	if len(st.web) == 0 {
		return nil
	}
	return &st.web[len(st.web)-1]
}

// publicVhost returns the vhost of the given kind, else the first public one.
func (st *site) publicVhost(kind string) *vhost {
	var first *vhost
	for i := range st.web {
		v := &st.web[i]
		if v.kind == kind {
			return v
		}
		if first == nil && !v.internal {
			first = v
		}
	}
	return first
}

func pickWeighted(r *rand.Rand, w []float64) int {
	u := r.Float64()
	for i, x := range w {
		if u < x {
			return i
		}
		u -= x
	}
	return len(w) - 1
}

// registeredDomain is the registrable domain of a name: two labels, three
// under Vietnam's second-level domains (gov.vn, com.vn, …). It also returns
// the effective top-level domain and the subdomain.
func registeredDomain(name string) (reg, tld, sub string) {
	labels := strings.Split(name, ".")
	n := 2
	if len(labels) >= 3 {
		switch labels[len(labels)-2] + "." + labels[len(labels)-1] {
		case "gov.vn", "com.vn", "edu.vn", "org.vn", "net.vn", "ac.vn":
			n = 3
		}
	}
	if len(labels) < n {
		return name, labels[len(labels)-1], ""
	}
	reg = strings.Join(labels[len(labels)-n:], ".")
	tld = strings.Join(labels[len(labels)-n+1:], ".")
	sub = strings.Join(labels[:len(labels)-n], ".")
	return reg, tld, sub
}

// Word lists. Slugs are ASCII as Vietnamese portals write them.
var (
	familyNames   = []string{"nguyen", "tran", "le", "pham", "hoang", "huynh", "phan", "vu", "vo", "dang", "bui", "do", "ho", "ngo", "duong", "ly"}
	familyWeights = []float64{0.38, 0.11, 0.095, 0.07, 0.05, 0.05, 0.045, 0.04, 0.03, 0.02, 0.02, 0.015, 0.015, 0.015, 0.01, 0.035}
	middleNames   = []string{"van", "thi", "duc", "minh", "thanh", "quoc", "hoang", "ngoc", "thu", "hai", "xuan", "huu", "kim", "bao", "gia"}
	givenNames    = []string{"an", "anh", "binh", "chi", "cuong", "dung", "dat", "duy", "giang", "ha", "hai", "hang", "hanh", "hien", "hieu", "hoa", "hung", "huong", "huy", "khanh", "khoa", "lan", "linh", "long", "mai", "minh", "nam", "nga", "ngoc", "nhung", "phong", "phuong", "quan", "quang", "son", "tam", "thang", "thao", "thu", "thuy", "trang", "trung", "tuan", "tung", "van", "viet", "vinh", "yen"}
	adminNames    = []string{"quantri", "sysadmin", "ansible", "backup", "hungnv", "tuanpa", "longdh", "namtt", "quangld", "sonvh", "trungnq", "dattq"}

	newsSlugs = []string{
		"trien-khai-chuyen-doi-so-trong-co-quan-nha-nuoc-nam-2026",
		"hoi-nghi-tong-ket-cong-tac-cai-cach-hanh-chinh",
		"thong-bao-lich-tiep-cong-dan-dinh-ky",
		"huong-dan-nop-ho-so-truc-tuyen-toan-trinh",
		"day-manh-thanh-toan-khong-dung-tien-mat-trong-dich-vu-cong",
		"ket-qua-danh-gia-chi-so-phuc-vu-nguoi-dan-doanh-nghiep",
		"tang-cuong-bao-dam-an-toan-thong-tin-mang",
		"ky-hop-thu-muoi-hoi-dong-nhan-dan",
		"phat-dong-phong-trao-binh-dan-hoc-vu-so",
		"trien-khai-de-an-06-ve-du-lieu-dan-cu",
		"cong-bo-danh-muc-thu-tuc-hanh-chinh-moi",
		"tiep-nhan-ho-so-tren-ung-dung-vneid",
		"dieu-chinh-quy-hoach-su-dung-dat",
		"phong-chong-lua-dao-tren-khong-gian-mang",
		"van-hanh-chinh-quyen-dia-phuong-hai-cap",
		"ra-mat-trung-tam-phuc-vu-hanh-chinh-cong",
	}
	staticAssets = []string{
		"/static/css/main.3f2a9c71.css", "/static/js/app.8d41e0b2.js", "/static/js/vendor.51c7aa09.js",
		"/images/logo.png", "/images/banner-quoc-huy.jpg", "/favicon.ico",
		"/static/fonts/roboto-v30-vietnamese-regular.woff2", "/images/icon-dich-vu-cong.svg",
		"/static/js/jquery-3.7.1.min.js", "/static/css/bootstrap.min.css",
	}
	portalPages = []string{"/gioi-thieu", "/lien-he", "/chi-dao-dieu-hanh", "/lich-cong-tac", "/hoi-dap", "/so-do-cong", "/van-ban-chinh-sach", "/tin-tuc-su-kien"}
	searchTerms = func() []string {
		var out []string
		for _, t := range []string{"đăng ký khai sinh", "cấp hộ chiếu", "đăng ký hộ kinh doanh", "cấp đổi giấy phép lái xe",
			"chứng thực bản sao", "thuế đất", "tuyển sinh lớp 10", "bảo hiểm xã hội", "giấy phép xây dựng", "lịch tiếp công dân"} {
			out = append(out, url.QueryEscape(t))
		}
		return out
	}()
	policyAreas = []string{"tu-phap", "dat-dai", "dang-ky-kinh-doanh", "giao-thong-van-tai", "xay-dung", "y-te",
		"giao-duc-dao-tao", "lao-dong-viec-lam", "tai-chinh", "tai-nguyen-moi-truong"}
	procedures = []string{"cap-giay-chung-nhan-dang-ky-ho-kinh-doanh", "dang-ky-khai-sinh", "cap-ban-sao-trich-luc-ho-tich",
		"cap-giay-phep-xay-dung", "cap-doi-giay-phep-lai-xe", "dang-ky-ket-hon", "cap-phieu-ly-lich-tu-phap",
		"dang-ky-thuong-tru", "cap-giay-chung-nhan-quyen-su-dung-dat", "chung-thuc-chu-ky"}
	userAgents = []string{
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) coc_coc_browser/136.0.222 Chrome/130.0.6723.222 Safari/537.36",
		"Mozilla/5.0 (Linux; Android 14; SM-A556E) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.135 Mobile Safari/537.36",
		"Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
		"Mozilla/5.0 (Linux; Android 13; CPH2591) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.6723.102 Mobile Safari/537.36 Zalo android/12110721 ZaloTheme/light ZaloLanguage/vi",
		"Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Zalo iOS/24.10.1",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
		"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
		"Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
	}
	uaWeights = []float64{0.22, 0.14, 0.18, 0.12, 0.08, 0.06, 0.06, 0.04, 0.03, 0.04, 0.03}
	referrers = []string{"https://www.google.com/", "https://www.google.com.vn/", "https://www.facebook.com/", "https://zalo.me/", "https://coccoc.com/search"}

	// DNS names internal clients resolve besides the site's own.
	externalNames = []string{
		"dichvucong.gov.vn", "chinhphu.vn", "baochinhphu.vn", "vanban.chinhphu.vn", "vneid.gov.vn",
		"www.google.com", "www.gstatic.com", "fonts.googleapis.com", "zalo.me", "chat.zalo.me",
		"www.facebook.com", "vnexpress.net", "thuvienphapluat.vn", "login.microsoftonline.com",
		"outlook.office365.com", "time.windows.com", "ctldl.windowsupdate.com", "ocsp.digicert.com",
		"dantri.com.vn", "tuoitre.vn", "vietcombank.com.vn", "ca.gov.vn",
	}
)
