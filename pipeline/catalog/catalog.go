// Package catalog is the catalogue of the organisations egovsoc watches and of
// the e-government services they run: the nation, the ministries and
// ministerial-level agencies, the 34 provinces and centrally-run cities, the
// agencies beneath them, and their information systems (portals, public-service
// portals, document exchange, mail, DNS) with a security level (cấp độ 1–5) and
// an availability target.
//
// The catalogue is data, not code: a YAML file that operators edit without a
// rebuild. The default, current after Vietnam's 2025 reorganisation, is
// embedded as DefaultYAML (default.yaml beside this file documents the format).
// Parse and Load check a file strictly and report every problem they find,
// each naming the file and line.
//
// The organisation tree is the basis of tenancy: Subtree gives the codes a user
// of an organisation may see, and an organisation's code names its Kafka topics
// (soc.events.<code>), so codes are limited to characters valid in a topic name.
//
// A Catalog is read-only once built and safe for concurrent use; callers must
// not modify the Orgs and Services it returns.
//
// This package imports only the standard library and gopkg.in/yaml.v3, and
// must never import anything else, from this module or outside it.
package catalog

import (
	_ "embed"
	"fmt"
	"os"
)

// Organisation kinds.
const (
	KindNation   = "nation"   // the national level; the one root of the tree
	KindMinistry = "ministry" // a ministry or ministerial-level agency
	KindProvince = "province" // a province or centrally-run city (City set)
	KindAgency   = "agency"   // a unit under a ministry, province or agency
)

// Service kinds.
const (
	ServicePortal              = "portal"                // information portal (URL)
	ServicePublicServicePortal = "public-service-portal" // online public services (URL)
	ServiceDocumentExchange    = "document-exchange"     // document exchange or management (URL or host, may be unlisted)
	ServiceMail                = "mail"                  // official email (host: the mail server)
	ServiceDNS                 = "dns"                   // DNS (host: a name server; zone: the zone served)
	ServiceOther               = "other"                 // anything else (URL or host)
)

// Org is one organisation: the nation, a ministry, a province or an agency.
type Org struct {
	Code   string // unique; [a-z0-9][a-z0-9-]{0,47}; names the org's Kafka topics
	Kind   string // KindNation, KindMinistry, KindProvince or KindAgency
	NameVI string // Vietnamese name, with diacritics
	NameEN string // English name
	Parent string // code of the parent; empty for the nation
	City   bool   // a centrally-run city (thành phố trực thuộc trung ương); provinces only
	Domain string // main DNS domain, e.g. "hanoi.gov.vn"; may be empty

	Children []*Org     // direct children, in file order
	Services []*Service // services the org owns, in file order
}

// Name returns the English name for lang "en" and the Vietnamese name otherwise.
func (o *Org) Name(lang string) string {
	if lang == "en" {
		return o.NameEN
	}
	return o.NameVI
}

// Service is one information system of an organisation, watched for
// availability and security.
type Service struct {
	ID     string // unique across the catalogue; same syntax as Org.Code
	Kind   string // one of the Service* constants
	NameVI string
	NameEN string
	// URL is the address probed for web services; empty for mail and dns.
	URL string
	// Host is the host name probes reach: the URL's host for web services,
	// the mail server for mail, a name server for dns. Empty when the service
	// has no public endpoint listed yet (it is then not probed).
	Host string
	// Zone is the DNS zone a dns service serves; defaults to the owner's Domain.
	Zone     string
	Org      string  // code of the owning organisation (the one it is listed under)
	Operator string  // code of the organisation that runs it, when not the owner
	Level    int     // security level, cấp độ 1–5
	Target   float64 // availability target in percent, in (0, 100]
}

// Name returns the English name for lang "en" and the Vietnamese name otherwise.
func (s *Service) Name(lang string) string {
	if lang == "en" {
		return s.NameEN
	}
	return s.NameVI
}

// Catalog is a validated catalogue. Build one with Parse, Load or Default.
type Catalog struct {
	root     *Org
	orgs     []*Org // tree order: depth-first, children in file order
	byCode   map[string]*Org
	services []*Service // in the order of orgs, then file order
	byID     map[string]*Service
}

// DefaultYAML is the catalogue shipped with egovsoc (default.yaml).
//
//go:embed default.yaml
var DefaultYAML []byte

// Default parses DefaultYAML. Each call returns a new Catalog.
func Default() (*Catalog, error) {
	return Parse(DefaultYAML, "default.yaml")
}

// Load reads and parses the catalogue file at path; errors name the path.
func Load(path string) (*Catalog, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load catalogue: %w", err)
	}
	return Parse(data, path)
}

// Root returns the nation, the root of the tree.
func (c *Catalog) Root() *Org { return c.root }

// Orgs returns every organisation in tree order: depth-first from the nation,
// children in file order. The slice is the caller's; the Orgs are shared.
func (c *Catalog) Orgs() []*Org { return append([]*Org(nil), c.orgs...) }

// Org returns the organisation with the given code.
func (c *Catalog) Org(code string) (*Org, bool) {
	o, ok := c.byCode[code]
	return o, ok
}

// Services returns every service, ordered by owner in tree order and then as
// listed. The slice is the caller's; the Services are shared.
func (c *Catalog) Services() []*Service { return append([]*Service(nil), c.services...) }

// Service returns the service with the given id.
func (c *Catalog) Service(id string) (*Service, bool) {
	s, ok := c.byID[id]
	return s, ok
}

// Subtree returns the codes of the organisation and all its descendants, in
// tree order, the organisation first. It is the tenant scope of a user of
// that organisation. It returns nil for an unknown code.
func (c *Catalog) Subtree(code string) []string {
	o, ok := c.byCode[code]
	if !ok {
		return nil
	}
	var codes []string
	var walk func(*Org)
	walk = func(o *Org) {
		codes = append(codes, o.Code)
		for _, ch := range o.Children {
			walk(ch)
		}
	}
	walk(o)
	return codes
}

// Ancestors returns the codes of the organisation's ancestors, nearest first:
// parent, grandparent, …, the nation. It returns nil for the nation and for an
// unknown code.
func (c *Catalog) Ancestors(code string) []string {
	o, ok := c.byCode[code]
	if !ok {
		return nil
	}
	var codes []string
	for o.Parent != "" {
		o = c.byCode[o.Parent]
		codes = append(codes, o.Code)
	}
	return codes
}

// Within reports whether the organisation code is scope or one of its
// descendants, that is whether code is in Subtree(scope). Unknown codes are
// within nothing.
func (c *Catalog) Within(code, scope string) bool {
	o, ok := c.byCode[code]
	if !ok {
		return false
	}
	if _, ok := c.byCode[scope]; !ok {
		return false
	}
	for {
		if o.Code == scope {
			return true
		}
		if o.Parent == "" {
			return false
		}
		o = c.byCode[o.Parent]
	}
}

// Sites returns the organisations that can run sensors: every organisation but
// the nation, in tree order.
func (c *Catalog) Sites() []*Org {
	sites := make([]*Org, 0, len(c.orgs))
	for _, o := range c.orgs {
		if o.Kind != KindNation {
			sites = append(sites, o)
		}
	}
	return sites
}
