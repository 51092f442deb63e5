package match

import (
	"fmt"
	"slices"
)

// modSet is a validated modifier chain.
type modSet struct {
	index map[string]int // position of each modifier (canonical name) in the chain
	order []string       // canonical names in chain order

	all, cased, neq, exists, fieldref, cidr, re bool
	expand, windash, base64, base64off          bool
	reFlags                                     reFlags
	utf16                                       utf16Kind
	anchor                                      string // contains, startswith, endswith or ""
	cmp                                         string // lt, lte, gt, gte or ""
	part                                        timePart
}

// modifierKinds lists every modifier by name; aliases map to the name the
// chain is checked under.
var modifierKinds = map[string]string{
	"all": "all", "contains": "contains", "startswith": "startswith", "endswith": "endswith",
	"exists": "exists", "cased": "cased", "neq": "neq",
	"windash": "windash",
	"re":      "re", "i": "i", "m": "m", "s": "s",
	"ignorecase": "i", "multiline": "m", "dotall": "s",
	"base64": "base64", "base64offset": "base64offset",
	"utf16le": "utf16le", "wide": "utf16le", "utf16be": "utf16be", "utf16": "utf16",
	"lt": "lt", "lte": "lte", "gt": "gt", "gte": "gte",
	"minute": "minute", "hour": "hour", "day": "day", "week": "week", "month": "month", "year": "year",
	"cidr": "cidr", "expand": "expand", "fieldref": "fieldref",
}

var timeParts = map[string]timePart{
	"minute": partMinute, "hour": partHour, "day": partDay, "week": partWeek, "month": partMonth, "year": partYear,
}

// groups of modifiers, for the compatibility checks.
var (
	stringMods   = []string{"contains", "startswith", "endswith", "windash", "expand", "base64", "base64offset", "utf16le", "utf16be", "utf16", "cased"}
	transformsRE = []string{"windash", "expand", "base64", "base64offset", "utf16le", "utf16be", "utf16"}
)

func modErr(format string, args ...any) error {
	return &Error{Feature: "modifier", Msg: fmt.Sprintf(format, args...)}
}

// parseModifiers validates a chain. keyword is true for a field-less
// (keyword) search.
func parseModifiers(list []string, keyword bool) (modSet, error) {
	m := modSet{index: map[string]int{}}
	written := map[string]string{}
	for i, name := range list {
		kind, ok := modifierKinds[name]
		if !ok {
			if name == "" {
				return m, modErr("empty modifier (a stray |)")
			}
			return m, modErr("unknown modifier %q", name)
		}
		if prev, dup := written[kind]; dup {
			if prev == name {
				return m, modErr("modifier %q given twice", name)
			}
			return m, modErr("modifiers %q and %q are the same", prev, name)
		}
		written[kind] = name
		m.index[kind] = i
		m.order = append(m.order, kind)
		switch kind {
		case "all":
			m.all = true
		case "cased":
			m.cased = true
		case "neq":
			m.neq = true
		case "exists":
			m.exists = true
		case "fieldref":
			m.fieldref = true
		case "cidr":
			m.cidr = true
		case "re":
			m.re = true
		case "i":
			m.reFlags.i = true
		case "m":
			m.reFlags.m = true
		case "s":
			m.reFlags.s = true
		case "expand":
			m.expand = true
		case "windash":
			m.windash = true
		case "base64":
			m.base64 = true
		case "base64offset":
			m.base64off = true
		case "contains", "startswith", "endswith":
			if m.anchor != "" {
				return m, modErr("%q and %q cannot be combined", m.anchor, kind)
			}
			m.anchor = kind
		case "utf16le", "utf16be", "utf16":
			if m.utf16 != utf16None {
				return m, modErr("only one of utf16le (wide), utf16be and utf16 may be given")
			}
			m.utf16 = map[string]utf16Kind{"utf16le": utf16LE, "utf16be": utf16BE, "utf16": utf16BOM}[kind]
		case "lt", "lte", "gt", "gte":
			if m.cmp != "" {
				return m, modErr("%q and %q cannot be combined", m.cmp, kind)
			}
			m.cmp = kind
		default: // time parts
			if m.part != 0 {
				return m, modErr("only one time modifier (minute, hour, day, week, month, year) may be given")
			}
			m.part = timeParts[kind]
		}
	}
	return m, m.check(keyword)
}

func (m *modSet) has(names ...string) string {
	for _, n := range names {
		if _, ok := m.index[n]; ok {
			return n
		}
	}
	return ""
}

// check rejects chains whose modifiers contradict each other or that the
// specification does not define.
func (m *modSet) check(keyword bool) error {
	if m.exists {
		for _, n := range m.order {
			if n != "exists" {
				return modErr("exists takes no other modifier (found %q)", n)
			}
		}
		if keyword {
			return modErr("exists needs a field")
		}
		return nil
	}
	if keyword {
		if n := m.has("fieldref", "cidr", "lt", "lte", "gt", "gte", "minute", "hour", "day", "week", "month", "year", "neq"); n != "" {
			return modErr("%q needs a field; a keyword search has none", n)
		}
	}
	if !m.re {
		if n := m.has("i", "m", "s"); n != "" {
			return modErr("%q is a sub-modifier of re and needs it", n)
		}
	} else {
		if n := m.has(append(slices.Clone(transformsRE), "cidr", "fieldref", "lt", "lte", "gt", "gte", "minute", "hour", "day", "week", "month", "year")...); n != "" {
			return modErr("re cannot be combined with %q", n)
		}
		if m.cased && m.reFlags.i {
			return modErr("cased and i contradict each other")
		}
	}
	if m.cidr {
		for _, n := range m.order {
			if n != "cidr" && n != "all" && n != "neq" {
				return modErr("cidr combines only with all and neq (found %q)", n)
			}
		}
	}
	if m.fieldref {
		if n := m.has(append(slices.Clone(transformsRE), "minute", "hour", "day", "week", "month", "year")...); n != "" {
			return modErr("fieldref cannot be combined with %q", n)
		}
		if m.cmp != "" && (m.anchor != "" || m.neq || m.cased) {
			return modErr("fieldref with %q compares numbers or timestamps; it takes no string modifier or neq", m.cmp)
		}
	}
	if m.cmp != "" || m.part != 0 {
		what := m.cmp
		if what == "" {
			what = m.has("minute", "hour", "day", "week", "month", "year")
		}
		if !m.fieldref {
			if n := m.has(stringMods...); n != "" {
				return modErr("%q compares numbers and cannot be combined with %q", what, n)
			}
		}
		if m.cmp != "" && m.neq {
			return modErr("%q and neq cannot be combined", m.cmp)
		}
	}
	if m.base64 && m.base64off {
		return modErr("base64 and base64offset cannot be combined")
	}
	if m.base64off && m.anchor != "contains" {
		return modErr("base64offset must be followed by contains (the encoded value is found inside a longer Base64 text)")
	}
	enc := m.has("base64", "base64offset")
	if enc != "" {
		at := m.index[enc]
		for _, n := range []string{"windash", "expand", "utf16le", "utf16be", "utf16"} {
			if i, ok := m.index[n]; ok && i > at {
				return modErr("%q must come before %q", n, enc)
			}
		}
		if m.anchor != "" && m.index[m.anchor] < at {
			return modErr("%q must come after %q (wildcards cannot be encoded)", m.anchor, enc)
		}
	}
	if u := m.has("utf16le", "utf16be", "utf16"); u != "" {
		at := m.index[u]
		for _, n := range []string{"windash", "expand"} {
			if i, ok := m.index[n]; ok && i > at {
				return modErr("%q must come before %q", n, u)
			}
		}
	}
	return nil
}
