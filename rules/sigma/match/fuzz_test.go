package match

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/egovsoc/egovsoc/pipeline/event"
)

// FuzzCompile compiles random items (modifier chains split on |, two values
// whose kinds come from kinds' bits) and runs them on a random event and on
// events holding the values themselves. Nothing may panic, and whenever an
// item with needles matches, one of its needles must occur in its fields.
// Seeds are in testdata/fuzz/FuzzCompile.
func FuzzCompile(f *testing.F) {
	f.Add("contains|all", "whoami", "-enc", uint8(0), []byte(`{"f":"WHOAMI -ENC"}`))
	f.Add("re|i", `^c:\\users\\[^\\]+\\x$`, `(a|b)+`, uint8(0), []byte(`{"f":"C:\\Users\\bob\\x"}`))
	f.Add("wide|base64offset|contains", "ping", "powershell", uint8(0), []byte(`{"f":"cABpAG4AZw"}`))
	f.Add("windash|contains", " -f ", "/s", uint8(0), []byte(`{"f":"x /f y"}`))
	f.Add("cidr", "10.0.0.0/8", "fe80::/10", uint8(0), []byte(`{"f":["10.1.1.1","fe80::1%eth0"]}`))
	f.Add("", "4624", "true", uint8(0b0110), []byte(`{"f":4624,"g":true}`))
	f.Add("gte", "1024", "1e3", uint8(0b0101), []byte(`{"f":2048}`))
	f.Add("hour|lt", "8", "12", uint8(0b0101), []byte(`{"f":"2024-01-01T03:00:00+07:00"}`))
	f.Add("fieldref|startswith", "g", "h", uint8(0), []byte(`{"f":"abc","g":"AB"}`))
	f.Add("neq|all", "a", "", uint8(0b1000), []byte(`{"f":"b"}`))
	f.Add("exists", "true", "", uint8(0b0011), []byte(`{}`))
	f.Add("expand|contains", "%p%", "\\%x%p%", uint8(0), []byte(`{"f":"adm"}`))
	f.Add("utf16|base64", "cmd", "C:\\*\\x?.exe", uint8(0), []byte(`{"f":"//5jAG0AZAA="}`))
	f.Add("endswith|cased", "ĐĂNG NHẬP", "\\\\*", uint8(0), []byte(`{"f":"x ĐĂNG NHẬP"}`))
	f.Add("year", "2024", "", uint8(0b0001), []byte(`{"f":1704067200000}`))
	f.Fuzz(func(t *testing.T, mods, v1, v2 string, kinds uint8, doc []byte) {
		if len(v1)+len(v2) > 4096 || len(mods) > 256 {
			return
		}
		var modifiers []string
		if mods != "" {
			modifiers = strings.Split(mods, "|")
		}
		kindOf := func(bits uint8) Kind { return Kind(bits & 3) }
		vals := []Value{{Kind: kindOf(kinds), Raw: v1}}
		if kinds&0x80 == 0 {
			vals = append(vals, Value{Kind: kindOf(kinds >> 2), Raw: v2})
		}
		placeholders := map[string][]string{"p": {"adm", "root*"}, "x": {v2}}
		refs := func(name string) []string {
			if name == "" || !utf8.ValidString(name) {
				return nil
			}
			return []string{name, "g"}
		}
		for _, fields := range [][]string{{"f", "g"}, nil} {
			s := Spec{Fields: fields, Modifiers: modifiers, Values: vals, Placeholders: placeholders, RefFields: refs}
			m, err := Compile(s)
			if err != nil {
				if _, ok := err.(*Error); !ok {
					t.Fatalf("Compile error %T is not *Error: %v", err, err)
				}
				continue
			}
			needles, ok := Needles(m)
			events := []*event.Event{}
			if e, err := event.Decode(append([]byte(nil), doc...)); err == nil {
				events = append(events, e)
			}
			for _, v := range []string{v1, v2, strings.ToUpper(v1), strings.ReplaceAll(v1, "*", "")} {
				events = append(events, eventWith(t, map[string]any{"f": v, "g": []string{v2, v}}))
			}
			for _, e := range events {
				if m.Match(e) && ok && fields != nil && !needleOccurs(e, fields, needles) {
					t.Fatalf("item %+v matches %s without its needles %q", s, e.Raw(), needles)
				}
			}
		}
	})
}
