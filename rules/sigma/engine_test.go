package sigma

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/egovsoc/egovsoc/pipeline/event"
)

// load compiles rules from YAML text, failing the test on any rejection.
func load(t testing.TB, files ...string) *RuleSet {
	t.Helper()
	l := NewLoader(LoadOptions{})
	for i, f := range files {
		l.AddFile(fmt.Sprintf("rule%d.yml", i), []byte(f))
	}
	rs, rep := l.Build()
	for _, r := range rep.Rejected {
		t.Errorf("rejected: %s", r)
	}
	if t.Failed() {
		t.FailNow()
	}
	return rs
}

func decode(t testing.TB, doc string) *event.Event {
	t.Helper()
	e, err := event.Decode([]byte(doc))
	if err != nil {
		t.Fatalf("%v: %s", err, doc)
	}
	return e
}

func detect(t testing.TB, e *Engine, stream string, docs ...string) []event.Alert {
	t.Helper()
	b := event.Batch{Stream: stream, Org: "hanoi"}
	for i, d := range docs {
		b.Events = append(b.Events, decode(t, d))
		b.IDs = append(b.IDs, fmt.Sprintf("%s-%d-%d", stream, time.Now().UnixNano(), i))
	}
	as, err := e.Detect(context.Background(), b)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range as {
		if err := a.Validate(); err != nil {
			t.Errorf("invalid alert: %v", err)
		}
	}
	return as
}

const sqliRule = `
title: SQL injection in a portal's query string
id: 5f0c1d2e-0000-4000-8000-000000000001
status: test
author: egovsoc
date: 2026-11-22
description: test
references: [https://owasp.org/www-community/attacks/SQL_Injection]
tags: [attack.initial-access, attack.t1190]
logsource: {category: webserver}
detection:
  selection:
    url.original|contains: ['union select', 'union all select', "' or '1'='1"]
  filter_health:
    url.path|startswith: /healthz
  condition: selection and not filter_health
falsepositives: [Search for SQL text]
level: high
`

func web(ts, ip, uri string) string {
	path, _, _ := strings.Cut(uri, "?")
	return fmt.Sprintf(`{"@timestamp":%q,"event":{"category":["web"],"dataset":"nginx.access"},"source":{"ip":%q},"url":{"original":%q,"path":%q}}`, ts, ip, uri, path)
}

func TestEngineRaisesAndFolds(t *testing.T) {
	rs := load(t, sqliRule)
	e := New(rs, Options{Now: func() time.Time { return time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC) }})
	as := detect(t, e, "soc.events.hanoi/0",
		web("2026-11-22T08:00:00Z", "203.0.113.9", "/tra-cuu?id=1 UNION SELECT password FROM users"),
		web("2026-11-22T08:00:01Z", "203.0.113.9", "/tra-cuu?id=2 union all select 1,2"),
		web("2026-11-22T08:00:02Z", "198.51.100.7", "/healthz?x=union select"),
		web("2026-11-22T08:00:03Z", "198.51.100.7", "/thu-tuc-hanh-chinh?q=select"),
	)
	if len(as) != 1 {
		t.Fatalf("got %d alerts, want one folded alert: %+v", len(as), as)
	}
	a := as[0]
	if a.Count != 2 || len(a.EventIDs) != 2 || a.Group["source.ip"] != "203.0.113.9" {
		t.Errorf("fold: count %d, ids %v, group %v", a.Count, a.EventIDs, a.Group)
	}
	if a.Rule.Author != "egovsoc" || a.Severity != event.SeverityHigh || a.Rule.Reference == "" || len(a.FalsePositives) != 1 {
		t.Errorf("alert metadata: %+v", a)
	}
	if len(a.Threat.Techniques) != 1 || a.Threat.Techniques[0] != "T1190" || len(a.Threat.Tactics) != 1 || a.Threat.Tactics[0].ID != "TA0001" {
		t.Errorf("threat: %+v", a.Threat)
	}
	if !strings.Contains(strings.ToLower(a.Matched["url.original"]), "union select") {
		t.Errorf("matched: %v", a.Matched)
	}
	// Another match in the window: the same alert again, with a higher count.
	more := detect(t, e, "soc.events.hanoi/0", web("2026-11-22T08:05:00Z", "203.0.113.9", "/x?a=' or '1'='1"))
	if len(more) != 1 || more[0].ID != a.ID || more[0].Count != 3 {
		t.Fatalf("fold update: %+v", more)
	}
	// After the window: a new alert.
	later := detect(t, e, "soc.events.hanoi/0", web("2026-11-22T08:20:00Z", "203.0.113.9", "/x?a=union select"))
	if len(later) != 1 || later[0].ID == a.ID || later[0].Count != 1 {
		t.Fatalf("after the window: %+v", later)
	}
	if s := e.Stats(); s.Matches != 4 || s.Events != 6 {
		t.Errorf("stats: %+v", s)
	}
}

func TestAlertIDsAreDeterministic(t *testing.T) {
	rs := load(t, sqliRule)
	run := func() []string {
		e := New(rs, Options{})
		b := event.Batch{Stream: "s/0", Org: "hanoi", IDs: []string{"a", "b"}}
		b.Events = []*event.Event{
			decode(t, web("2026-11-22T08:00:00Z", "203.0.113.9", "/?q=union select")),
			decode(t, web("2026-11-22T08:00:00Z", "203.0.113.10", "/?q=union select")),
		}
		as, _ := e.Detect(context.Background(), b)
		var ids []string
		for _, a := range as {
			ids = append(ids, a.ID)
		}
		return ids
	}
	a, b := run(), run()
	if len(a) != 2 || strings.Join(a, ",") != strings.Join(b, ",") {
		t.Errorf("ids differ between runs: %v %v", a, b)
	}
}

func TestExceptions(t *testing.T) {
	rs := load(t, sqliRule)
	now := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	e := New(rs, Options{Now: func() time.Time { return now }})
	xs, err := ParseExceptions([]byte(`
exceptions:
  - id: exc-1
    org: hanoi
    rules: [5f0c1d2e-0000-4000-8000-000000000001]
    owner: nguyenvana
    reason: the agency's own weekly scanner
    expires: 2026-12-31
    match:
      source.ip: 10.0.0.5
  - id: exc-2
    org: hanoi
    owner: nguyenvana
    reason: expired
    expires: 2026-11-01
    match:
      source.ip: 10.0.0.6
`), nil)
	if err != nil {
		t.Fatal(err)
	}
	e.SetExceptions(xs)
	as := detect(t, e, "s/0",
		web("2026-11-22T08:00:00Z", "10.0.0.5", "/?q=union select"),
		web("2026-11-22T08:00:00Z", "10.0.0.6", "/?q=union select"),
	)
	if len(as) != 1 || as[0].Group["source.ip"] != "10.0.0.6" {
		t.Fatalf("alerts: %+v", as)
	}
	if xs.List()[0].Hits() != 1 || e.Stats().Excepted != 1 {
		t.Errorf("exception hits %d, excepted %d", xs.List()[0].Hits(), e.Stats().Excepted)
	}
	// Another organisation is not covered by hanoi's exception.
	b := event.Batch{Stream: "s/1", Org: "hcm", IDs: []string{"x"}, Events: []*event.Event{decode(t, web("2026-11-22T08:00:00Z", "10.0.0.5", "/?q=union select"))}}
	if got, _ := e.Detect(context.Background(), b); len(got) != 1 {
		t.Errorf("hcm's alert was dropped by hanoi's exception")
	}
	for _, bad := range []string{
		"exceptions: [{id: a, org: hanoi, owner: x, match: {source.ip: 1.2.3.4}}]", // no reason
		"exceptions: [{id: a, org: hanoi, owner: x, reason: y}]",                   // empty selection
		"exceptions: [{id: a, org: hanoi, owner: x, reason: y, match: {source.ip|nosuch: 1}}]",
	} {
		if _, err := ParseExceptions([]byte(bad), nil); err == nil {
			t.Errorf("accepted: %s", bad)
		}
	}
}

const bruteRules = `
title: SSH authentication failure
id: 5f0c1d2e-0000-4000-8000-000000000010
name: ssh_failure
status: test
author: egovsoc
date: 2026-11-22
logsource: {product: linux, service: auth}
detection:
  selection:
    event.outcome: failure
    event.action: ssh_login
  condition: selection
level: low
---
title: SSH brute force
id: 5f0c1d2e-0000-4000-8000-000000000011
status: test
author: egovsoc
date: 2026-11-22
correlation:
  type: event_count
  rules: [ssh_failure]
  group-by: [source.ip]
  timespan: 5m
  condition: {gte: 10}
level: high
`

func authFail(ts time.Time, ip, user string) string {
	return fmt.Sprintf(`{"@timestamp":%q,"event":{"category":["authentication"],"dataset":"system.auth","outcome":"failure","action":"ssh_login"},"source":{"ip":%q},"user":{"name":%q}}`,
		ts.Format(time.RFC3339Nano), ip, user)
}

func TestCorrelationThroughEngine(t *testing.T) {
	rs := load(t, bruteRules)
	if rs.Correlations() != 1 {
		t.Fatalf("correlations: %d", rs.Correlations())
	}
	dir := t.TempDir()
	e := New(rs, Options{StateDir: dir, SaveEvery: time.Nanosecond})
	t0 := time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)
	var docs []string
	for i := 0; i < 6; i++ {
		docs = append(docs, authFail(t0.Add(time.Duration(i)*time.Second), "185.220.101.7", "root"))
		docs = append(docs, authFail(t0.Add(time.Duration(i)*time.Second), "10.0.0.9", "admin")) // a few failures of another source
	}
	if as := detect(t, e, "s/0", docs[:8]...); len(as) != 0 {
		t.Fatalf("alerts before the threshold (base rule must not alert on its own): %+v", as)
	}
	// Restart mid-window: the state on disk carries the window over.
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	e = New(rs, Options{StateDir: dir})
	docs = docs[8:]
	for i := 6; i < 12; i++ {
		docs = append(docs, authFail(t0.Add(time.Duration(i)*time.Second), "185.220.101.7", "root"))
	}
	as := detect(t, e, "s/0", docs...)
	if len(as) != 1 || as[0].Group["source.ip"] != "185.220.101.7" || as[0].Rule.Name != "SSH brute force" || as[0].Severity != event.SeverityHigh {
		t.Fatalf("correlation alerts: %+v", as)
	}
	if _, err := os.Stat(filepath.Join(dir, "corr")); err != nil {
		t.Errorf("no state written: %v", err)
	}
}

func TestSwapKeepsCorrelationWindows(t *testing.T) {
	rs := load(t, bruteRules)
	e := New(rs, Options{})
	t0 := time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)
	var docs []string
	for i := 0; i < 9; i++ {
		docs = append(docs, authFail(t0.Add(time.Duration(i)*time.Second), "185.220.101.7", "root"))
	}
	if as := detect(t, e, "s/0", docs...); len(as) != 0 {
		t.Fatalf("early alerts: %+v", as)
	}
	e.Swap(load(t, bruteRules, sqliRule)) // a reload that adds a rule
	as := detect(t, e, "s/0", authFail(t0.Add(10*time.Second), "185.220.101.7", "root"))
	if len(as) != 1 {
		t.Fatalf("the window in progress was lost on reload: %+v", as)
	}
}

func TestRejectionsNameFileLineAndFeature(t *testing.T) {
	l := NewLoader(LoadOptions{})
	l.AddFile("bad.yml", []byte(`
title: Unknown modifier
id: 5f0c1d2e-0000-4000-8000-000000000020
logsource: {category: webserver}
detection:
  selection:
    url.original|nosuchmodifier: x
  condition: selection
---
title: Unknown log source
id: 5f0c1d2e-0000-4000-8000-000000000021
logsource: {product: nosuchproduct, category: nosuchcategory}
detection:
  selection:
    a: b
  condition: selection
---
title: Good
id: 5f0c1d2e-0000-4000-8000-000000000022
logsource: {category: webserver}
detection:
  selection:
    url.original|contains: x
  condition: selection
`))
	rs, rep := l.Build()
	if rs.Len() != 1 || len(rep.Rejected) != 2 {
		t.Fatalf("loaded %d, rejected %v", rs.Len(), rep.Rejected)
	}
	for i, want := range []struct {
		line    int
		feature string
	}{{7, "modifier"}, {12, "logsource"}} {
		r := rep.Rejected[i]
		if r.Pos.File != "bad.yml" || r.Pos.Line != want.line || r.Feature != want.feature {
			t.Errorf("rejection %d: %s (feature %s), want bad.yml:%d (%s)", i, r, r.Feature, want.line, want.feature)
		}
	}
}

func TestPanickingEventIsSkipped(t *testing.T) {
	rs := load(t, sqliRule)
	e := New(rs, Options{})
	// Whatever the event, detection goes on: odd types where strings are
	// expected, deep arrays, huge numbers.
	as := detect(t, e, "s/0",
		`{"@timestamp":"2026-11-22T08:00:00Z","event":{"category":["web"]},"url":{"original":{"nested":[1,2,{"x":null}]}}}`,
		`{"@timestamp":"2026-11-22T08:00:00Z","event":{"category":["web"]},"url":{"original":1e308}}`,
		`{"@timestamp":"not a time","event":{"category":"web"},"url":{"original":[null,true,"union select"]}}`,
	)
	if len(as) != 1 {
		t.Errorf("alerts: %d", len(as))
	}
}
