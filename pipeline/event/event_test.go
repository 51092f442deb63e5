package event

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

func mustDecode(t *testing.T, s string) *Event {
	t.Helper()
	e, err := Decode([]byte(s))
	if err != nil {
		t.Fatalf("Decode(%s): %v", s, err)
	}
	return e
}

func values(e *Event, path string) []string {
	var out []string
	for v := range e.Values(Path(path)) {
		out = append(out, v.Kind().String()+":"+v.Text())
	}
	return out
}

func TestNestedAndDottedAreOneField(t *testing.T) {
	for _, doc := range []string{
		`{"source":{"ip":"10.0.0.1","port":22}}`,
		`{"source.ip":"10.0.0.1","source.port":22}`,
		`{"source":{"ip":"10.0.0.1"},"source.port":22}`,
		" {\n \"source\" : { \"ip\" : \"10.0.0.1\" , \"port\" : 22 } } ",
	} {
		e := mustDecode(t, doc)
		if got := e.Text(FieldSourceIP); got != "10.0.0.1" {
			t.Errorf("%s: source.ip = %q", doc, got)
		}
		if p, ok := e.Get(Path("source.port")).Int(); !ok || p != 22 {
			t.Errorf("%s: source.port = %v %v", doc, p, ok)
		}
	}
}

func TestArraysAreValuesOfOneField(t *testing.T) {
	e := mustDecode(t, `{"tags":["a","b"],"dns":{"answers":[{"data":"1.1.1.1","ttl":30},{"data":"2.2.2.2","ttl":60}]},"empty":[],"n":[1,[2,3]]}`)
	if got, want := values(e, "tags"), []string{"string:a", "string:b"}; !reflect.DeepEqual(got, want) {
		t.Errorf("tags = %v, want %v", got, want)
	}
	if got, want := values(e, "dns.answers.data"), []string{"string:1.1.1.1", "string:2.2.2.2"}; !reflect.DeepEqual(got, want) {
		t.Errorf("answers = %v, want %v", got, want)
	}
	if got, want := values(e, "n"), []string{"number:1", "number:2", "number:3"}; !reflect.DeepEqual(got, want) {
		t.Errorf("n = %v, want %v", got, want)
	}
	if k := e.Get(Path("empty")).Kind(); k != KindArray {
		t.Errorf("empty array kind = %v", k)
	}
	if k := e.Get(Path("dns")).Kind(); k != KindObject {
		t.Errorf("dns kind = %v", k)
	}
	if e.Has(Path("absent")) || e.Get(Path("absent")).Exists() {
		t.Error("absent field reported present")
	}
	if n := e.Count(Path("dns.answers.ttl")); n != 2 {
		t.Errorf("Count(ttl) = %d", n)
	}
}

func TestEscapesAndUnicode(t *testing.T) {
	e := mustDecode(t, `{"message":"a\"b\\c\nd\u00e9\ud83d\ude00\ud800x","k\u002ey":"v","vi":"Bộ Tài chính"}`)
	if got, want := e.Text(FieldMessage), "a\"b\\c\ndé😀\ufffdx"; got != want {
		t.Errorf("message = %q, want %q", got, want)
	}
	if got := e.Text(Path("k.y")); got != "v" {
		t.Errorf("escaped dotted key: %q", got)
	}
	if got := e.Text(Path("vi")); got != "Bộ Tài chính" {
		t.Errorf("vi = %q", got)
	}
}

func TestRejects(t *testing.T) {
	for _, doc := range []string{
		``, `[]`, `"x"`, `{`, `{"a"}`, `{"a":}`, `{"a":1,}`, `{"a":01}`, `{"a":1.}`, `{"a":-}`,
		`{"a":tru}`, `{"a":"x}`, "{\"a\":\"\x01\"}", `{"a":"\x"}`, `{"a":"\u12"}`, `{"a":1} x`,
		"{\"a\":\"\xff\"}", `{"a":1,"a":2}`, `{"event.id":"x","event":{"id":"y"}}`,
		`{"tags":["a"],"tags":["b"]}`, `{"o":{"x":1},"o":{"y":2}}`, `{"a":[1,2}`, `{"a":{"b":1]}`,
	} {
		if _, err := Decode([]byte(doc)); err == nil {
			t.Errorf("Decode(%q) accepted", doc)
		} else if !errors.Is(err, ErrSyntax) {
			t.Errorf("Decode(%q) error %v is not ErrSyntax", doc, err)
		}
	}
	deep := ""
	for range MaxDepth + 1 {
		deep += `{"a":`
	}
	if _, err := Decode([]byte(deep + "1" + deep)); err == nil {
		t.Error("too deep accepted")
	}
}

func TestSetAndAppendJSON(t *testing.T) {
	e := mustDecode(t, `{ "@timestamp":"2026-11-22T10:00:00Z", "organization":{"name":"x"}, "event":{"id":"e1","dataset":"nginx.access"}, "msg":"a b" }`)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(e.Set(FieldOrg, String("hanoi")))
	must(e.Set(FieldIngested, String("2026-11-22T10:00:01Z")))
	must(e.Set(Path("labels.a.b"), Int(7)))
	must(e.Set(FieldDataset, String("nginx.error")))
	if e.Text(FieldOrg) != "hanoi" || e.Text(FieldDataset) != "nginx.error" {
		t.Fatal("Set not visible to Get")
	}
	out := e.AppendJSON(nil)
	var got map[string]any
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("AppendJSON wrote invalid JSON %s: %v", out, err)
	}
	want := map[string]any{
		"@timestamp":   "2026-11-22T10:00:00Z",
		"organization": map[string]any{"name": "x", "id": "hanoi"},
		"event":        map[string]any{"id": "e1", "dataset": "nginx.error", "ingested": "2026-11-22T10:00:01Z"},
		"msg":          "a b",
		"labels":       map[string]any{"a": map[string]any{"b": float64(7)}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("AppendJSON = %s", out)
	}
	if slices.Contains(out, '\n') {
		t.Error("newline in output")
	}
	// The re-emitted document decodes to the same fields.
	e2 := mustDecode(t, string(out))
	if e2.Text(FieldOrg) != "hanoi" || e2.Text(Path("labels.a.b")) != "7" {
		t.Errorf("round trip lost a set: %s", out)
	}
	if err := e.Set(Path("msg.x"), String("y")); !errors.Is(err, ErrNotSettable) {
		t.Errorf("set under a scalar: %v", err)
	}
	if err := e.Set(Path("event"), String("y")); !errors.Is(err, ErrNotSettable) {
		t.Errorf("set over an object: %v", err)
	}
	arr := mustDecode(t, `{"a":[{"b":1}]}`)
	if err := arr.Set(Path("a.b"), Int(2)); !errors.Is(err, ErrNotSettable) {
		t.Errorf("set inside an array: %v", err)
	}
}

func TestCompactCopy(t *testing.T) {
	doc := "{ \"a\" : [ 1 , { \"b\" : \"x y\" } , true , null ] ,\n\"c\":-1.5e3 }"
	e := mustDecode(t, doc)
	if err := e.Set(Path("z"), Bool(true)); err != nil {
		t.Fatal(err)
	}
	if got, want := string(e.AppendJSON(nil)), `{"a":[1,{"b":"x y"},true,null],"c":-1.5e3,"z":true}`; got != want {
		t.Errorf("got %s\nwant %s", got, want)
	}
	e = mustDecode(t, doc)
	if got, want := string(e.AppendJSON(nil)), `{"a":[1,{"b":"x y"},true,null],"c":-1.5e3}`; got != want {
		t.Errorf("no sets: got %s", got)
	}
}

func TestValidate(t *testing.T) {
	ok := mustDecode(t, `{"@timestamp":1700000000000,"source":{"ip":"2001:db8::1","port":"443"},"related":{"ip":["10.0.0.1"]},"event":{"severity":null}}`)
	if err := ok.Validate(); err != nil {
		t.Errorf("valid event: %v", err)
	}
	for doc, field := range map[string]string{
		`{"@timestamp":"yesterday"}`:                "@timestamp",
		`{"source":{"ip":"10.0.0.300"}}`:            "source.ip",
		`{"source":{"port":"http"}}`:                "source.port",
		`{"event":{"category":{"x":1}}}`:            "event.category",
		`{"related":{"ip":["10.0.0.1","nope"]}}`:    "related.ip",
		`{"http":{"response":{"status_code":2.5}}}`: "http.response.status_code",
	} {
		err := mustDecode(t, doc).Validate()
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != field {
			t.Errorf("%s: Validate = %v, want an error naming %s", doc, err, field)
		}
	}
}

func TestAlertRoundTrip(t *testing.T) {
	a := Alert{ID: ID("x"), Org: "hanoi", Detector: "threshold", Rule: Rule{ID: "r1", Name: "SSH brute force", Author: "egovsoc", Tags: []string{"attack.t1110"}},
		Severity: SeverityHigh, Title: "t", Status: StatusOpen, Group: map[string]string{"source.ip": "203.0.113.5"}, Count: 20,
		EventIDs:   []string{"a", "b"},
		Threat:     Threat{Tactics: []Tactic{{ID: "TA0006", Name: "credential-access"}}, Techniques: []string{"T1110"}, Subtechniques: []string{"T1110.001"}},
		References: []string{"https://attack.mitre.org/techniques/T1110/"}, FalsePositives: []string{"a forgotten password"},
		Matched: map[string]string{"event.outcome": "failure"}}
	a.Rule.License = "DRL-1.1"
	a.Time = mustTime(t, "2026-11-22T10:00:00Z")
	a.FirstSeen, a.LastSeen, a.Created = a.Time, a.Time, a.Time
	b, err := json.Marshal(&a)
	if err != nil {
		t.Fatal(err)
	}
	var back Alert
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, back) {
		t.Errorf("round trip:\n%+v\n%+v", a, back)
	}
	e := mustDecode(t, string(b))
	if e.Text(Path("event.kind")) != "alert" || e.Text(Path("related.ip")) != "203.0.113.5" || e.Text(Path("rule.author")) != "egovsoc" ||
		e.Text(Path("threat.technique.id")) != "T1110" || e.Text(Path("threat.tactic.name")) != "credential-access" {
		t.Errorf("alert is not ECS-shaped: %s", b)
	}
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := parseTime(String(s))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestID(t *testing.T) {
	if ID("ab", "c") == ID("a", "bc") {
		t.Error("ID parts are not separated")
	}
	if ID("a") != ID("a") || len(ID("a")) != 32 {
		t.Error("ID not deterministic or wrong length")
	}
	e := mustDecode(t, `{"event":{"id":"same"}}`)
	if DocID("hanoi", e, "t", 0, 1) == DocID("hcm", e, "t", 0, 1) {
		t.Error("an event id must not collide across organisations")
	}
	n := mustDecode(t, `{}`)
	if DocID("hanoi", n, "t", 0, 1) == DocID("hanoi", n, "t", 0, 2) {
		t.Error("records without id must differ by offset")
	}
}

func TestScalars(t *testing.T) {
	e := mustDecode(t, `{"a":"x","b":{"c":[1,true,null,{"d":"y"}]},"e":{}}`)
	if err := e.Set(Path("a"), String("z")); err != nil {
		t.Fatal(err)
	}
	var got []string
	for v := range e.Scalars() {
		got = append(got, v.Text())
	}
	if strings.Join(got, ",") != "z,1,true,y" {
		t.Errorf("Scalars = %v", got)
	}
	if n := testing.AllocsPerRun(100, func() {
		for range e.Scalars() {
		}
	}); n != 0 {
		t.Errorf("Scalars allocates %v times", n)
	}
}

func TestMayHave(t *testing.T) {
	e := mustDecode(t, `{"a":{"b":1},"c.d":"x","e":[{"f":1}]}`)
	for _, p := range []string{"a", "a.b", "c.d", "e", "e.f"} {
		if !e.MayHave(Path(p)) {
			t.Errorf("MayHave(%s) = false for a present field", p)
		}
	}
	if err := e.Set(Path("g.h"), String("y")); err != nil {
		t.Fatal(err)
	}
	if !e.MayHave(Path("g.h")) {
		t.Error("MayHave misses a field Set added")
	}
	absent := 0
	for i := range 1000 {
		if !e.MayHave(Path(fmt.Sprint("nosuch.field", i))) {
			absent++
		}
	}
	if absent < 800 {
		t.Errorf("MayHave ruled out only %d of 1000 absent fields", absent)
	}
}
