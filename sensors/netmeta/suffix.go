package netmeta

import (
	"strings"

	"golang.org/x/net/publicsuffix"
)

// registeredDomain splits a DNS name into its registered domain (eTLD+1),
// its public suffix and the subdomain below the registered domain:
// "www.dichvucong.gov.vn" gives ("dichvucong.gov.vn", "gov.vn", "www").
// Names with fewer labels than that, IP literals, reverse-lookup names and
// names with escaped bytes give empty strings.
func registeredDomain(name string) (registered, suffix, sub string) {
	name = strings.TrimSuffix(name, ".")
	if name == "" || strings.IndexByte(name, '\\') >= 0 || strings.IndexByte(name, '.') < 0 {
		return "", "", ""
	}
	lower := strings.ToLower(name)
	if strings.HasSuffix(lower, ".arpa") || lower[len(lower)-1] >= '0' && lower[len(lower)-1] <= '9' {
		return "", "", "" // in-addr.arpa, ip6.arpa, IPv4 literals
	}
	// The public suffix list (compiled into golang.org/x/net/publicsuffix,
	// so the sensor needs no network); a name under no listed suffix takes
	// its last label, the list's default rule.
	ps, _ := publicsuffix.PublicSuffix(lower)
	if ps == lower || len(ps) >= len(lower) {
		return "", "", "" // the name is itself a public suffix
	}
	suffixAt := len(lower) - len(ps)
	rest := lower[:suffixAt-1]
	start := strings.LastIndexByte(rest, '.') + 1
	registered = lower[start:]
	suffix = lower[suffixAt:]
	if start > 0 {
		sub = lower[:start-1]
	}
	return registered, suffix, sub
}
