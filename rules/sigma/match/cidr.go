package match

import (
	"cmp"
	"encoding/binary"
	"net/netip"
	"slices"
	"strings"
)

// PrefixSet is a set of IP networks (IPv4 and IPv6 CIDR prefixes) that
// answers "is this address in any of them" with one binary search, however
// many prefixes it holds: the prefixes become sorted, merged ranges of
// addresses. An IPv4-mapped IPv6 address (::ffff:10.1.2.3) is looked up as
// the IPv4 address it maps. It is immutable and safe for concurrent use.
type PrefixSet struct {
	v4 []span32
	v6 []span128
}

type span32 struct{ lo, hi uint32 }

type u128 struct{ hi, lo uint64 }

func (a u128) cmp(b u128) int {
	if c := cmp.Compare(a.hi, b.hi); c != 0 {
		return c
	}
	return cmp.Compare(a.lo, b.lo)
}

func (a u128) next() (u128, bool) {
	if a.lo != ^uint64(0) {
		return u128{a.hi, a.lo + 1}, true
	}
	if a.hi != ^uint64(0) {
		return u128{a.hi + 1, 0}, true
	}
	return a, false
}

type span128 struct{ lo, hi u128 }

// NewPrefixSet builds a set from prefixes. Host bits are ignored
// (10.1.2.3/8 is 10.0.0.0/8); a prefix that is not valid is skipped.
func NewPrefixSet(prefixes []netip.Prefix) *PrefixSet {
	s := &PrefixSet{}
	for _, p := range prefixes {
		if !p.IsValid() {
			continue
		}
		p = unmapPrefix(p).Masked()
		a := p.Addr()
		bits := p.Bits()
		if a.Is4() {
			b := a.As4()
			lo := binary.BigEndian.Uint32(b[:])
			hi := lo
			if bits < 32 {
				hi = lo | (^uint32(0) >> bits)
			}
			s.v4 = append(s.v4, span32{lo, hi})
			continue
		}
		lo := addr128(a)
		hi := lo
		switch {
		case bits == 0:
			hi = u128{^uint64(0), ^uint64(0)}
		case bits < 64:
			hi = u128{lo.hi | (^uint64(0) >> bits), ^uint64(0)}
		case bits < 128:
			hi = u128{lo.hi, lo.lo | (^uint64(0) >> (bits - 64))}
		}
		s.v6 = append(s.v6, span128{lo, hi})
	}
	slices.SortFunc(s.v4, func(a, b span32) int { return cmp.Compare(a.lo, b.lo) })
	s.v4 = mergeSpans32(s.v4)
	slices.SortFunc(s.v6, func(a, b span128) int { return a.lo.cmp(b.lo) })
	s.v6 = mergeSpans128(s.v6)
	return s
}

func mergeSpans32(in []span32) []span32 {
	out := in[:0]
	for _, sp := range in {
		if n := len(out); n > 0 && (out[n-1].hi == ^uint32(0) || sp.lo <= out[n-1].hi+1) {
			out[n-1].hi = max(out[n-1].hi, sp.hi)
			continue
		}
		out = append(out, sp)
	}
	return slices.Clip(out)
}

func mergeSpans128(in []span128) []span128 {
	out := in[:0]
	for _, sp := range in {
		if n := len(out); n > 0 {
			nx, ok := out[n-1].hi.next()
			if !ok || sp.lo.cmp(nx) <= 0 {
				if sp.hi.cmp(out[n-1].hi) > 0 {
					out[n-1].hi = sp.hi
				}
				continue
			}
		}
		out = append(out, sp)
	}
	return slices.Clip(out)
}

func addr128(a netip.Addr) u128 {
	b := a.As16()
	return u128{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])}
}

// unmapPrefix turns an IPv4-mapped IPv6 prefix of at least 96 bits into
// the IPv4 prefix it covers.
func unmapPrefix(p netip.Prefix) netip.Prefix {
	if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
		return netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	return p
}

// Len returns how many disjoint address ranges the set holds.
func (s *PrefixSet) Len() int { return len(s.v4) + len(s.v6) }

// Contains reports whether the address is in one of the prefixes.
func (s *PrefixSet) Contains(a netip.Addr) bool {
	a = a.Unmap()
	if a.Is4() {
		b := a.As4()
		return s.contains4(binary.BigEndian.Uint32(b[:]))
	}
	if !a.Is6() {
		return false
	}
	x := addr128(a)
	i, _ := slices.BinarySearchFunc(s.v6, x, func(sp span128, x u128) int { return sp.lo.cmp(x) })
	// s.v6[i].lo >= x; the span holding x is at i (lo == x) or i-1.
	if i < len(s.v6) && s.v6[i].lo == x {
		return true
	}
	return i > 0 && x.cmp(s.v6[i-1].hi) <= 0
}

func (s *PrefixSet) contains4(x uint32) bool {
	lo, hi := 0, len(s.v4)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if s.v4[m].lo <= x {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo > 0 && x <= s.v4[lo-1].hi
}

// ContainsString parses text as an IP address and reports whether it is in
// the set. Text that is not an address (a host name, an address with a
// port, an empty string) is simply not in the set. An IPv4 address is read
// without allocating; an IPv6 zone (fe80::1%eth0) is ignored.
func (s *PrefixSet) ContainsString(text string) bool {
	if x, ok := parseIPv4(text); ok {
		return s.contains4(x)
	}
	if len(s.v6) == 0 && len(s.v4) == 0 || !strings.Contains(text, ":") || len(text) > 64 {
		return false
	}
	if !plausibleIPv6(text) {
		return false
	}
	a, err := netip.ParseAddr(text)
	if err != nil {
		return false
	}
	return s.Contains(a.WithZone(""))
}

// plausibleIPv6 rejects text netip would refuse anyway, so the common
// non-address does not pay for an error value.
func plausibleIPv6(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case '0' <= c && c <= '9', 'a' <= c && c <= 'f', 'A' <= c && c <= 'F', c == ':', c == '.':
		case c == '%':
			return i > 0 && i < len(s)-1
		default:
			return false
		}
	}
	return true
}

// parseIPv4 reads a dotted-quad IPv4 address (no leading zeros, as netip).
func parseIPv4(s string) (uint32, bool) {
	if len(s) < 7 || len(s) > 15 {
		return 0, false
	}
	var x uint32
	part, digits := 0, 0
	v := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == '.' {
			if digits == 0 || part > 3 {
				return 0, false
			}
			x = x<<8 | uint32(v)
			part++
			v, digits = 0, 0
			continue
		}
		c := s[i]
		if c < '0' || c > '9' || digits > 0 && v == 0 {
			return 0, false
		}
		v = v*10 + int(c-'0')
		digits++
		if v > 255 {
			return 0, false
		}
	}
	return x, part == 4
}

// parseCIDR reads a Sigma cidr value: a prefix such as 10.0.0.0/8 or
// fe80::/10, or a single address (a /32 or /128).
func parseCIDR(raw string) (netip.Prefix, error) {
	t := strings.TrimSpace(raw)
	if !strings.Contains(t, "/") {
		a, err := netip.ParseAddr(t)
		if err != nil {
			return netip.Prefix{}, err
		}
		return netip.PrefixFrom(a.WithZone(""), a.BitLen()), nil
	}
	return netip.ParsePrefix(t)
}
