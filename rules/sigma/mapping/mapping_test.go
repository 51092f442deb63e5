package mapping

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/egovsoc/egovsoc/pipeline/event"
)

func TestDefault(t *testing.T) {
	m := Default()
	if m == nil || m != Default() {
		t.Fatal("Default must parse once and return the same mapping")
	}
	if !versionRE.MatchString(m.Version()) {
		t.Errorf("Version() = %q", m.Version())
	}
	if _, err := Load(ecsYAML); err != nil {
		t.Fatalf("embedded ecs.yaml: %v", err)
	}
}

// TestEveryEntryReachable: each entry routes its own log source with its
// own route, so no entry is shadowed by another.
func TestEveryEntryReachable(t *testing.T) {
	m := Default()
	lss := m.LogSources()
	if len(lss) != len(m.entries) {
		t.Fatalf("LogSources: %d, entries: %d", len(lss), len(m.entries))
	}
	if !slices.IsSortedFunc(lss, func(a, b LogSource) int {
		return strings.Compare(a.Product+"\x00"+a.Category+"\x00"+a.Service, b.Product+"\x00"+b.Category+"\x00"+b.Service)
	}) {
		t.Error("LogSources is not sorted by product, category, service")
	}
	for _, e := range m.entries {
		r, err := m.Route(e.ls)
		if err != nil {
			t.Errorf("Route(%s) (line %d): %v", e.ls, e.line, err)
			continue
		}
		if r.Key() != e.route.Key() {
			t.Errorf("Route(%s) = %s, want its entry's (line %d) %s", e.ls, r.Key(), e.line, e.route.Key())
		}
	}
}

// TestMandatedRoutes pins the routes egovsoc's own rule pack and event
// producers rely on. Changing one of these is a contract change.
func TestMandatedRoutes(t *testing.T) {
	const (
		web     = `event.category:["web"]`
		network = `event.category:["network"]`
	)
	cases := []struct {
		ls   LogSource
		want string
	}{
		{LogSource{Category: "webserver"}, web},
		{LogSource{Product: "apache", Category: "webserver"}, web},
		{LogSource{Category: "proxy"}, `event.category:["web"] AND event.dataset:["cisco_umbrella.log","squid.access","squid.log","zscaler_zia.web"] OR event.category:["web"] AND observer.type:["proxy"]`},
		{LogSource{Product: "linux", Service: "auth"}, `event.dataset:["system.auth"]`},
		{LogSource{Product: "linux", Service: "sshd"}, `event.dataset:["system.auth"] AND process.name:["sshd"]`},
		{LogSource{Product: "linux", Service: "sudo"}, `process.name:["sudo"]`},
		{LogSource{Category: "authentication"}, `event.category:["authentication"]`},
		{LogSource{Product: "linux", Category: "authentication"}, `event.category:["authentication"]`},
		{LogSource{Product: "windows", Category: "authentication"}, `event.category:["authentication"]`},
		{LogSource{Product: "anything", Category: "authentication"}, `event.category:["authentication"]`},
		{LogSource{Category: "firewall"}, network},
		{LogSource{Category: "network_connection"}, network},
		{LogSource{Category: "dns"}, `dns.question.name:*`},
		{LogSource{Category: "tls"}, `tls.server.x509.not_after:* OR tls.version:*`},
		{LogSource{Category: "flow"}, `event.dataset:["flow"]`},
		{LogSource{Product: "windows", Category: "process_creation"}, `event.category:["process"] AND event.type:["start"] AND host.os.type:["windows"]`},
		{LogSource{Product: "windows", Service: "security"}, `winlog.channel:["security"]`},
		{LogSource{Product: "windows", Service: "sysmon"}, `winlog.channel:["microsoft-windows-sysmon/operational"]`},
		{LogSource{Product: "windows", Service: "powershell"}, `winlog.channel:["microsoft-windows-powershell/operational"]`},
		{LogSource{Product: "windows", Service: "system"}, `winlog.channel:["system"]`},
		{LogSource{Product: "linux", Category: "process_creation"}, `event.category:["process"] AND event.type:["start"] AND host.os.type:["linux"]`},
	}
	m := Default()
	for _, c := range cases {
		r, err := m.Route(c.ls)
		if err != nil {
			t.Errorf("Route(%s): %v", c.ls, err)
			continue
		}
		if got := r.Key(); got != c.want {
			t.Errorf("Route(%s) = %s, want %s", c.ls, got, c.want)
		}
	}
}

func TestRouteErrors(t *testing.T) {
	m := Default()
	for _, ls := range []LogSource{
		{},
		{Product: "nosuchproduct", Category: "nosuchcategory"},
		{Product: "nosuchproduct"},
		{Category: "nosuchcategory"},
		// A product entry does not route categories or services it does not know:
		{Product: "windows", Category: "proces_creation"},
		{Product: "windows", Service: "no-such-channel"},
		{Product: "linux", Category: "registry_set"},
		{Product: "macos", Category: "registry_set"},
	} {
		r, err := m.Route(ls)
		if !errors.Is(err, ErrUnknownLogSource) {
			t.Errorf("Route(%s) = %s, %v; want ErrUnknownLogSource", ls, r.Key(), err)
		}
	}
	_, err := m.Route(LogSource{Product: "windows", Category: "nosuch"})
	if err == nil || !strings.Contains(err.Error(), "{product: windows, category: nosuch}") || !strings.Contains(err.Error(), m.Version()) {
		t.Errorf("error should name the log source and the mapping version: %v", err)
	}
}

func TestLogSourceCase(t *testing.T) {
	m := Default()
	a, err := m.Route(LogSource{Product: "Windows", Category: "Process_Creation"})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := m.Route(LogSource{Product: "windows", Category: "process_creation"})
	if a.Key() != b.Key() {
		t.Errorf("log source values must compare ignoring case: %s vs %s", a.Key(), b.Key())
	}
	if got := m.Fields(LogSource{Product: "WINDOWS", Category: "process_creation"}, "Image"); got[0] != "process.executable" {
		t.Errorf("Fields with upper-case product: %q", got)
	}
}

// TestSpecificity: more keys win; between as many, category beats service
// beats product.
func TestSpecificity(t *testing.T) {
	m, err := Load([]byte(`version: "2026.1.1"
logsources:
  - logsource: {product: p}
    route: [{a: "1"}]
    fields: {F: [from.product], G: [from.product]}
    unmapped: raw.
  - logsource: {service: s}
    route: [{a: "2"}]
    fields: {F: [from.service]}
  - logsource: {category: c}
    route: [{a: "3"}]
  - logsource: {product: p, service: s}
    route: [{a: "4"}]
  - logsource: {product: p, category: c, service: s}
    route: [{a: "5"}]
    fields: {H: [from.all]}
`))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		ls   LogSource
		want string
	}{
		{LogSource{Product: "p"}, `a:["1"]`},
		{LogSource{Product: "p", Service: "s"}, `a:["4"]`},
		{LogSource{Product: "p", Category: "c"}, `a:["3"]`},
		{LogSource{Category: "c", Service: "s"}, `a:["3"]`},
		{LogSource{Product: "q", Service: "s"}, `a:["2"]`},
		{LogSource{Product: "p", Category: "c", Service: "s"}, `a:["5"]`},
		{LogSource{Product: "p", Category: "x", Service: "s"}, `a:["4"]`},
	} {
		r, err := m.Route(c.ls)
		if err != nil || r.Key() != c.want {
			t.Errorf("Route(%s) = %s, %v; want %s", c.ls, r.Key(), err, c.want)
		}
	}
	// Fields cascade from the most specific entry down.
	ls := LogSource{Product: "p", Category: "c", Service: "s"}
	for f, want := range map[string][]string{
		"H":       {"from.all"},
		"F":       {"from.service"}, // {service: s} outranks {product: p}
		"G":       {"from.product"},
		"f":       {"from.service"}, // ignoring case
		"Other":   {"raw.Other", "Other"},
		"a.b":     {"a.b"},
		"Another": {"raw.Another", "Another"},
	} {
		if got := m.Fields(ls, f); !slices.Equal(got, want) {
			t.Errorf("Fields(%s, %s) = %q, want %q", ls, f, got, want)
		}
	}
	if got := m.Fields(LogSource{Service: "s"}, "Other"); !slices.Equal(got, []string{"Other"}) {
		t.Errorf("no unmapped prefix: Fields = %q", got)
	}
	if got := m.Fields(ls, ""); got != nil {
		t.Errorf("Fields(\"\") = %q, want nil", got)
	}
}

func TestKey(t *testing.T) {
	a := Route{Any: []Conjunction{
		{{Field: "event.type", Values: []string{"start", "Start"}}, {Field: "event.category", Values: []string{"Process"}}},
		{{Field: "x", Exists: true, Values: []string{"ignored"}}},
		{{Field: "event.category", Values: []string{"process"}}, {Field: "event.type", Values: []string{"start"}}},
	}}
	b := Route{Any: []Conjunction{
		{{Field: "x", Exists: true}},
		{{Field: "event.category", Values: []string{"process"}}, {Field: "event.type", Values: []string{"START"}}},
	}}
	if a.Key() != b.Key() {
		t.Errorf("equivalent routes, different keys:\n%s\n%s", a.Key(), b.Key())
	}
	if want := `event.category:["process"] AND event.type:["start"] OR x:*`; b.Key() != want {
		t.Errorf("Key = %s, want %s", b.Key(), want)
	}
	c := Route{Any: []Conjunction{{{Field: "event.category", Values: []string{"process"}}}, {{Field: "event.type", Values: []string{"start"}}}}}
	if c.Key() == b.Key() {
		t.Error("different routes share a key")
	}
	// Values that could be confused with the syntax stay apart.
	d := Route{Any: []Conjunction{{{Field: "f", Values: []string{`a","b`}}}}}
	e := Route{Any: []Conjunction{{{Field: "f", Values: []string{"a", "b"}}}}}
	if d.Key() == e.Key() {
		t.Error("quoting: distinct values share a key")
	}
	// Key leaves the route alone.
	if a.Any[0][0].Values[1] != "Start" {
		t.Error("Key changed its route")
	}
}

func TestMatch(t *testing.T) {
	r := Route{Any: []Conjunction{
		{{Field: "event.category", Values: []string{"process"}}, {Field: "event.type", Values: []string{"start"}}},
		{{Field: "dns.question.name", Exists: true}},
	}}
	for doc, want := range map[string]bool{
		`{"event":{"category":["process"],"type":["change","start"]}}`: true,
		`{"event":{"category":"PROCESS","type":"Start"}}`:              true,
		`{"event.category":"process","event.type":"start"}`:            true,
		`{"event":{"category":["process"],"type":["end"]}}`:            false,
		`{"event":{"category":["process"]}}`:                           false,
		`{"event":{"category":[{"x":"process"}],"type":"start"}}`:      false,
		`{"dns":{"question":{"name":null}}}`:                           true,
		`{"dns":{"question":{"type":"A"}}}`:                            false,
		`{}`:                                                           false,
	} {
		e, err := event.Decode([]byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		if got := r.Match(e); got != want {
			t.Errorf("Match(%s) = %v, want %v", doc, got, want)
		}
	}
	if (Route{}).Match(mustDecode(t, `{}`)) {
		t.Error("the empty route must match nothing")
	}
}

func mustDecode(tb testing.TB, doc string) *event.Event {
	tb.Helper()
	e, err := event.Decode([]byte(doc))
	if err != nil {
		tb.Fatal(err)
	}
	return e
}

// TestImmutable: what the Mapping hands out is the caller's to change.
func TestImmutable(t *testing.T) {
	m := Default()
	ls := LogSource{Product: "windows", Category: "network_connection"}
	r, _ := m.Route(ls)
	key := r.Key()
	r.Any[0][0].Values[0] = "changed"
	r.Any[0] = nil
	if r2, _ := m.Route(ls); r2.Key() != key {
		t.Error("Route shares its slices with the mapping")
	}
	fs := m.Fields(ls, "Initiated")
	fs[0] = "changed"
	ts := m.Targets(ls, "Initiated")
	ts[0].Values["true"][0] = "changed"
	ts[0].Values["x"] = nil
	if got := m.Targets(ls, "Initiated"); got[0].Field != "network.direction" || got[0].Values["true"][0] != "egress" || len(got[0].Values) != 2 {
		t.Errorf("Fields or Targets share memory with the mapping: %v", got)
	}
}

// TestNoShadowing: a generic category entry must not hide a product
// entry's mapping of the same field from a product+category log source;
// the product+category entry then has to map the field itself.
func TestNoShadowing(t *testing.T) {
	m := Default()
	for _, ls := range m.LogSources() {
		if ls.Product == "" {
			continue
		}
		es := m.cascade(ls)
		for _, e := range es {
			for f := range e.fields {
				ts, _ := m.lookup(ls, f)
				var winner *entry
				for _, c := range es {
					if _, ok := c.fields[f]; ok {
						winner = c
						break
					}
				}
				if winner.ls.Product != "" {
					continue
				}
				for _, c := range es {
					if _, ok := c.fields[f]; ok && c.ls.Product == ls.Product {
						t.Errorf("%s: field %s resolves through %s (line %d) to %v, hiding %s (line %d); map it in %s's entry",
							ls, f, winner.ls, winner.line, fieldsOf(ts), c.ls, c.line, ls)
						break
					}
				}
			}
		}
	}
}

func fieldsOf(ts []Target) []string {
	var out []string
	for _, t := range ts {
		out = append(out, t.Field)
	}
	return out
}

func TestLoadErrors(t *testing.T) {
	const head = "version: \"2026.11.1\"\nlogsources:\n"
	entry := func(body string) string { return head + body }
	cases := []struct {
		name, doc string
		line      int
		want      string
	}{
		{"empty", "", 0, "empty file"},
		{"syntax", "version: [", 0, "yaml"},
		{"two documents", head + "  - logsource: {category: a}\n    route: [{a: b}]\n---\nversion: x\n", 0, "more than one"},
		{"not a mapping", "- a\n", 1, "must be a mapping"},
		{"unknown top key", "version: \"2026.11.1\"\nlogsource: []\n", 2, `unknown key "logsource"`},
		{"no version", "logsources:\n  - logsource: {category: a}\n    route: [{a: b}]\n", 1, "no version"},
		{"bad version", "version: \"1.0\"\nlogsources:\n  - logsource: {category: a}\n    route: [{a: b}]\n", 1, "YYYY.MM.N"},
		{"no logsources", "version: \"2026.11.1\"\n", 1, "no logsources"},
		{"empty logsources", "version: \"2026.11.1\"\nlogsources: []\n", 2, "non-empty list"},
		{"unknown entry key", entry("  - logsource: {category: a}\n    rout: [{a: b}]\n"), 4, `unknown key "rout"`},
		{"no route", entry("  - logsource: {category: a}\n"), 3, "no route"},
		{"no logsource", entry("  - route: [{a: b}]\n"), 3, "no logsource"},
		{"unknown logsource key", entry("  - logsource: {categry: a}\n    route: [{a: b}]\n"), 3, `unknown key "categry"`},
		{"empty logsource", entry("  - logsource: {}\n    route: [{a: b}]\n"), 3, "names no product"},
		{"logsource space", entry("  - logsource: {category: a b}\n    route: [{a: b}]\n"), 3, "white space"},
		{"duplicate entry", entry("  - logsource: {category: a}\n    route: [{a: b}]\n  - logsource: {category: A}\n    route: [{a: c}]\n"), 5, "given twice (first at line 3)"},
		{"duplicate key", entry("  - logsource: {category: a}\n    route: [{a: b}]\n    route: [{a: c}]\n"), 5, `"route" given twice`},
		{"empty route", entry("  - logsource: {category: a}\n    route: []\n"), 4, "non-empty list"},
		{"empty conjunction", entry("  - logsource: {category: a}\n    route: [{}]\n"), 4, "would route every event"},
		{"bad route path", entry("  - logsource: {category: a}\n    route: [{event..category: web}]\n"), 4, "not a field path"},
		{"empty route value", entry("  - logsource: {category: a}\n    route: [{event.category: []}]\n"), 4, "empty list"},
		{"null route value", entry("  - logsource: {category: a}\n    route: [{event.category: ~}]\n"), 4, "is empty"},
		{"duplicate route value", entry("  - logsource: {category: a}\n    route: [{event.category: [web, WEB]}]\n"), 4, "given twice"},
		{"exists false", entry("  - logsource: {category: a}\n    route: [{x: {exists: false}}]\n"), 4, "exists must be true"},
		{"exists typo", entry("  - logsource: {category: a}\n    route: [{x: {exist: true}}]\n"), 4, `unknown key "exist"`},
		{"bad target", entry("  - logsource: {category: a}\n    route: [{a: b}]\n    fields: {Image: [process executable]}\n"), 5, "not a field path"},
		{"empty targets", entry("  - logsource: {category: a}\n    route: [{a: b}]\n    fields: {Image: []}\n"), 5, "maps to nothing"},
		{"duplicate target", entry("  - logsource: {category: a}\n    route: [{a: b}]\n    fields: {Image: [a.b, a.b]}\n"), 5, "given twice"},
		{"duplicate field", entry("  - logsource: {category: a}\n    route: [{a: b}]\n    fields:\n      Image: a.b\n      Image: c.d\n"), 7, `"Image" given twice`},
		{"field case", entry("  - logsource: {category: a}\n    route: [{a: b}]\n    fields:\n      Image: a.b\n      image: c.d\n"), 7, "only in case"},
		{"field name", entry("  - logsource: {category: a}\n    route: [{a: b}]\n    fields: {\"Image|contains\": a.b}\n"), 5, "not a Sigma field name"},
		{"target key", entry("  - logsource: {category: a}\n    route: [{a: b}]\n    fields: {I: [{field: a.b, value: {x: y}}]}\n"), 5, `unknown key "value"`},
		{"target plain", entry("  - logsource: {category: a}\n    route: [{a: b}]\n    fields: {I: [{field: a.b}]}\n"), 5, "needs values or prefix"},
		{"target both", entry("  - logsource: {category: a}\n    route: [{a: b}]\n    fields: {I: [{field: a.b, prefix: X=, values: {x: y}}]}\n"), 5, "not both"},
		{"target no field", entry("  - logsource: {category: a}\n    route: [{a: b}]\n    fields: {I: [{prefix: X=}]}\n"), 5, "has no field"},
		{"values case", entry("  - logsource: {category: a}\n    route: [{a: b}]\n    fields: {I: [{field: a.b, values: {\"true\": x, \"TRUE\": y}}]}\n"), 5, "given twice"},
		{"unmapped dot", entry("  - logsource: {category: a}\n    route: [{a: b}]\n    unmapped: winlog.event_data\n"), 5, "ending in a dot"},
		{"alias", head + "  - logsource: {category: a}\n    route: &r [{a: b}]\n  - logsource: {category: b}\n    route: *r\n    fields: {X: [\"bad path\"]}\n", 7, "not a field path"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, err := Load([]byte(c.doc))
			if err == nil {
				t.Fatalf("Load succeeded: %+v", m)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not say %q", err, c.want)
			}
			if c.line > 0 {
				var le *LoadError
				if !errors.As(err, &le) || le.Line != c.line {
					t.Errorf("error %q: want line %d", err, c.line)
				}
			}
		})
	}
}

func TestLoadManyErrors(t *testing.T) {
	var b strings.Builder
	b.WriteString("version: \"2026.11.1\"\nlogsources:\n")
	for i := range 80 {
		fmt.Fprintf(&b, "  - logsource: {category: c%d}\n    route: [{\"bad path\": x}]\n", i)
	}
	_, err := Load([]byte(b.String()))
	if err == nil {
		t.Fatal("no error")
	}
	if n := strings.Count(err.Error(), "\n") + 1; n != maxLoadErrors+1 || !strings.Contains(err.Error(), "too many errors") {
		t.Errorf("%d lines of errors:\n%v", n, err)
	}
}

func TestLoadMinimal(t *testing.T) {
	m, err := Load([]byte(`version: "2026.11.1"
logsources:
  - logsource: {category: Web}
    route: [{event.category: web, event.dataset: [nginx.access, apache.access]}, {url.original: {exists: true}}]
    fields:
      c-uri: url.original
      Initiated: [{field: network.direction, values: {"True": egress, "false": [ingress, inbound]}}]
      Hashes: [{field: process.hash.sha256, prefix: "SHA256="}, winlog.event_data.Hashes]
`))
	if err != nil {
		t.Fatal(err)
	}
	ls := LogSource{Category: "web"}
	r, err := m.Route(ls)
	if err != nil {
		t.Fatal(err)
	}
	want := `event.category:["web"] AND event.dataset:["apache.access","nginx.access"] OR url.original:*`
	if r.Key() != want {
		t.Errorf("Key = %s, want %s", r.Key(), want)
	}
	if got := m.Fields(ls, "c-uri"); !slices.Equal(got, []string{"url.original"}) {
		t.Errorf("Fields(c-uri) = %q", got)
	}
	ts := m.Targets(ls, "Initiated")
	if len(ts) != 1 || !slices.Equal(ts[0].Values["true"], []string{"egress"}) || !slices.Equal(ts[0].Values["false"], []string{"ingress", "inbound"}) {
		t.Errorf("Targets(Initiated) = %+v", ts)
	}
	ts = m.Targets(ls, "Hashes")
	if len(ts) != 2 || ts[0].Prefix != "SHA256=" || ts[1].Prefix != "" || ts[1].Values != nil {
		t.Errorf("Targets(Hashes) = %+v", ts)
	}
	if got := m.LogSources(); !slices.Equal(got, []LogSource{{Category: "web"}}) {
		t.Errorf("LogSources = %v (log sources are kept lower case)", got)
	}
}

func FuzzLoad(f *testing.F) {
	// ecs.yaml itself is too large a seed (every mutation re-parses 40 kB);
	// TestDefault loads it. These seeds hold every construct of the format.
	f.Add([]byte(`version: "2026.11.1"
logsources:
  - logsource: {product: windows}
    route: [{host.os.type: windows}, {winlog.channel: {exists: true}}]
    unmapped: winlog.event_data.
    fields: {EventID: [winlog.event_id, event.code], User: &u [user.name, user.domain]}
  - logsource: {product: windows, category: network_connection}
    description: Sysmon 3.
    route:
      - {winlog.channel: &s Microsoft-Windows-Sysmon/Operational, winlog.event_id: [3]}
    fields:
      User: *u
      Initiated:
        - {field: network.direction, values: {"true": [egress, outbound], "false": ingress}}
        - winlog.event_data.Initiated
      Hashes: [{field: process.hash.sha256, prefix: "SHA256="}, winlog.event_data.Hashes]
`))
	f.Add([]byte("version: \"2026.11.1\"\nlogsources:\n  - logsource: {category: a}\n    route: [{a: b}]\n"))
	f.Add([]byte("version: \"2026.11.1\"\nlogsources:\n  - logsource: {product: p}\n    route: &r [{x: {exists: true}}]\n    unmapped: raw.\n    fields: {F: [{field: a.b, values: {\"1\": [x]}}]}\n  - logsource: {product: p, service: s}\n    route: *r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Load(data)
		if err != nil {
			return
		}
		// Whatever loads must answer every question without panicking.
		for _, ls := range m.LogSources() {
			r, err := m.Route(ls)
			if err != nil {
				t.Fatalf("Route(%s) of a loaded entry: %v", ls, err)
			}
			_ = r.Key()
			_ = m.Fields(ls, "Image")
			_ = m.Targets(ls, "x.y")
		}
	})
}

func BenchmarkRouteMatch(b *testing.B) {
	m := Default()
	var routes []Route
	for _, ls := range m.LogSources() {
		r, _ := m.Route(ls)
		routes = append(routes, r)
	}
	e := mustDecode(b, `{"event":{"category":["process"],"type":["start"],"code":"1"},"winlog":{"channel":"Microsoft-Windows-Sysmon/Operational","event_id":1},"host":{"os":{"type":"windows"}},"process":{"executable":"C:\\Windows\\System32\\cmd.exe"}}`)
	n := 0
	for b.Loop() {
		for _, r := range routes {
			r.Match(e)
		}
		n += len(routes)
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "routes/s")
}

func BenchmarkFields(b *testing.B) {
	m := Default()
	ls := LogSource{Product: "windows", Category: "process_creation"}
	for b.Loop() {
		m.Fields(ls, "CommandLine")
		m.Fields(ls, "SomethingUnmapped")
	}
}
