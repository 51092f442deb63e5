package simulate

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"maps"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/egovsoc/egovsoc/pipeline/catalog"
	"github.com/egovsoc/egovsoc/pipeline/event"
	"github.com/egovsoc/egovsoc/rules/threshold"
)

var t0 = time.Date(2026, 11, 22, 1, 0, 0, 0, time.UTC) // 08:00 in Hanoi

func newSim(t testing.TB, opts Options) *Simulator {
	t.Helper()
	if opts.Catalog == nil {
		c, err := catalog.Default()
		if err != nil {
			t.Fatal(err)
		}
		opts.Catalog = c
	}
	s, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// run steps the simulator from t0 for d in steps of tick (the first step
// ends at t0+tick, so the schedules count from t0) and returns the batches.
func run(s *Simulator, d, tick time.Duration) [][]Record {
	var out [][]Record
	for now := t0.Add(tick); !now.After(t0.Add(d)); now = now.Add(tick) {
		out = append(out, s.Step(now))
	}
	return out
}

func flatten(batches [][]Record) []Record {
	var out []Record
	for _, b := range batches {
		out = append(out, b...)
	}
	return out
}

func TestOptions(t *testing.T) {
	c, err := catalog.Default()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		opts Options
		want string
	}{
		{"no catalogue", Options{}, "Options.Catalog"},
		{"negative sites", Options{Catalog: c, Sites: -1}, "Options.Sites"},
		{"negative rate", Options{Catalog: c, Rate: -5}, "Options.Rate"},
		{"negative tick", Options{Catalog: c, Tick: -time.Second}, "Options.Tick"},
		{"malformed all", Options{Catalog: c, Malformed: 1}, "Options.Malformed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("New: %v, want an error naming %s", err, tc.want)
			}
		})
	}

	s := newSim(t, Options{Catalog: c, Seed: 7})
	if got := len(s.Sites()); got != DefaultSites {
		t.Errorf("%d sites, want the default %d", got, DefaultSites)
	}
	if s.tick != DefaultTick || s.malformed != DefaultMalformed {
		t.Errorf("tick %s, malformed %g: defaults not applied", s.tick, s.malformed)
	}
	for _, code := range s.Sites() {
		o, _ := c.Org(code)
		if o.Kind != catalog.KindMinistry && o.Kind != catalog.KindProvince {
			t.Errorf("site %s is a %s", code, o.Kind)
		}
	}
	if other := newSim(t, Options{Catalog: c, Seed: 8}); slices.Equal(other.Sites(), s.Sites()) {
		t.Error("seeds 7 and 8 chose the same sites")
	}
	if all := newSim(t, Options{Catalog: c, Sites: 500}); len(all.Sites()) != s.eligible {
		t.Errorf("500 sites asked for: playing %d, want every one of the %d eligible", len(all.Sites()), s.eligible)
	}
}

func TestDeterministic(t *testing.T) {
	a := flatten(run(newSim(t, Options{Seed: 42}), 10*time.Second, DefaultTick))
	b := flatten(run(newSim(t, Options{Seed: 42}), 10*time.Second, DefaultTick))
	if len(a) == 0 || len(a) != len(b) {
		t.Fatalf("%d and %d records", len(a), len(b))
	}
	for i := range a {
		if a[i].Org != b[i].Org || a[i].Check != b[i].Check || !bytes.Equal(a[i].Key, b[i].Key) ||
			!bytes.Equal(a[i].Value, b[i].Value) || !a[i].Time.Equal(b[i].Time) {
			t.Fatalf("record %d differs:\n%s\n%s", i, a[i].Value, b[i].Value)
		}
	}
	c := flatten(run(newSim(t, Options{Seed: 43}), 10*time.Second, DefaultTick))
	if len(c) == len(a) && bytes.Equal(c[0].Value, a[0].Value) {
		t.Error("seeds 42 and 43 gave the same records")
	}
}

// TestStepsDoNotMatter: the same span cut into different steps gives the
// same records, so a replay after a slow emit produces the same ids.
func TestStepsDoNotMatter(t *testing.T) {
	fine := flatten(run(newSim(t, Options{Seed: 5, Tick: 100 * time.Millisecond}), 20*time.Second, 100*time.Millisecond))
	s := newSim(t, Options{Seed: 5, Tick: time.Second})
	var coarse []Record
	end := t0.Add(20 * time.Second)
	for i, now := 0, t0.Add(time.Second); ; i++ {
		coarse = append(coarse, s.Step(now)...)
		if now.Equal(end) {
			break
		}
		now = now.Add(time.Duration(300+(i*701)%2500) * time.Millisecond)
		if now.After(end) {
			now = end
		}
	}
	key := func(r Record) string { return r.Time.Format(time.RFC3339Nano) + string(r.Value) }
	set := map[string]int{}
	for _, r := range fine {
		set[key(r)]++
	}
	for _, r := range coarse {
		set[key(r)]--
	}
	for k, n := range set {
		if n != 0 {
			t.Fatalf("%d records in one run and not the other, e.g. %.300s", n, k)
		}
	}
	if len(fine) != len(coarse) {
		t.Fatalf("%d records in fine steps, %d in coarse", len(fine), len(coarse))
	}
}

// TestRecordsValid: with no malformed records asked for, every event
// decodes and validates, every check unmarshals, ids are unique and the
// record's fields agree with its document.
func TestRecordsValid(t *testing.T) {
	s := newSim(t, Options{Seed: 3, Malformed: -1})
	recs := flatten(run(s, 30*time.Second, DefaultTick))
	sites := map[string]bool{}
	for _, code := range s.Sites() {
		sites[code] = true
	}
	ids := map[string]bool{}
	datasets := map[string]int{}
	for i, r := range recs {
		if !sites[r.Org] || len(r.Key) == 0 {
			t.Fatalf("record %d: org %q, key %q", i, r.Org, r.Key)
		}
		if i > 0 && r.Time.Before(recs[i-1].Time) {
			t.Fatalf("record %d at %s before its predecessor at %s", i, r.Time, recs[i-1].Time)
		}
		if r.Check {
			var c event.Check
			if err := json.Unmarshal(r.Value, &c); err != nil {
				t.Fatalf("check %d: %v\n%s", i, err, r.Value)
			}
			if c.Org != r.Org || !c.Time.Equal(r.Time) || c.Vantage == "" || c.Monitor == "" || c.Target == "" {
				t.Fatalf("check %d: %+v", i, c)
			}
			if c.Monitor == "http" && c.Status == event.CheckUp && c.HTTPStatus != 200 {
				t.Fatalf("check %d: up with HTTP status %d", i, c.HTTPStatus)
			}
			if ids[c.ID] {
				t.Fatalf("check id %s twice", c.ID)
			}
			ids[c.ID] = true
			datasets["check"]++
			continue
		}
		e, err := event.Decode(r.Value)
		if err != nil {
			t.Fatalf("event %d: %v\n%s", i, err, r.Value)
		}
		if err := e.Validate(); err != nil {
			t.Fatalf("event %d: %v\n%s", i, err, r.Value)
		}
		ts, err := e.Time()
		if err != nil || !ts.Equal(r.Time) {
			t.Fatalf("event %d: @timestamp %v (%v), record time %v", i, ts, err, r.Time)
		}
		id := e.Text(event.FieldID)
		if id == "" || ids[id] {
			t.Fatalf("event %d: event.id %q missing or repeated", i, id)
		}
		ids[id] = true
		for _, f := range []string{"event.dataset", "event.module", "event.kind", "event.category", "event.type", "host.name", "observer.name", "agent.id"} {
			if e.Text(event.Path(f)) == "" {
				t.Fatalf("event %d has no %s:\n%s", i, f, r.Value)
			}
		}
		ds := e.Text(event.FieldDataset)
		datasets[ds]++
		switch ds {
		case "nginx.access":
			for _, f := range []string{"url.domain", "url.original", "url.path", "http.request.method", "http.response.status_code", "http.response.body.bytes", "source.ip", "user_agent.original"} {
				if !e.Has(event.Path(f)) {
					t.Fatalf("web event %d has no %s", i, f)
				}
			}
			if got := e.Text(event.Path("url.domain")); got != string(r.Key) {
				t.Fatalf("web event %d: key %q, url.domain %q", i, r.Key, got)
			}
		case "dns":
			for _, f := range []string{"dns.question.name", "dns.question.type", "dns.question.registered_domain", "dns.response_code", "source.ip"} {
				if !e.Has(event.Path(f)) {
					t.Fatalf("dns event %d has no %s", i, f)
				}
			}
		case "flow":
			for _, f := range []string{"source.ip", "destination.ip", "destination.port", "network.transport", "network.bytes", "network.community_id"} {
				if !e.Has(event.Path(f)) {
					t.Fatalf("flow %d has no %s", i, f)
				}
			}
		case "system.auth":
			if !e.Has(event.FieldUserName) || !e.Has(event.Path("process.name")) {
				t.Fatalf("auth event %d lacks user.name or process.name", i)
			}
		}
	}
	for _, ds := range []string{"nginx.access", "dns", "flow", "system.auth", "postfix.log", "check"} {
		if datasets[ds] == 0 {
			t.Errorf("no %s records in 30 s", ds)
		}
	}
	t.Logf("%d records in 30 s: %v", len(recs), datasets)
	// The background rate is honoured within a few percent.
	if bg := len(recs) - datasets["check"]; bg < 400*30*9/10 || bg > 400*30*12/10 {
		t.Errorf("%d events in 30 s at 400/s", bg)
	}
}

func TestMalformedFraction(t *testing.T) {
	const want = 0.05
	recs := flatten(run(newSim(t, Options{Seed: 11, Malformed: want}), 20*time.Second, DefaultTick))
	bad := map[string]int{}
	for _, r := range recs {
		if r.Check {
			var c event.Check
			if err := json.Unmarshal(r.Value, &c); err != nil {
				bad["check"]++
			}
			continue
		}
		e, err := event.Decode(r.Value)
		switch {
		case err != nil:
			if !errors.Is(err, event.ErrSyntax) {
				t.Fatalf("decode error %v is not a syntax error", err)
			}
			bad["decode"]++
		case e.Validate() != nil:
			bad["invalid"]++
		}
	}
	n := bad["check"] + bad["decode"] + bad["invalid"]
	frac := float64(n) / float64(len(recs))
	t.Logf("%d of %d records malformed (%.4f): %v", n, len(recs), frac, bad)
	if frac < want*0.8 || frac > want*1.2 {
		t.Errorf("malformed fraction %.4f, want about %g", frac, want)
	}
	if bad["decode"] == 0 || bad["invalid"] == 0 || bad["check"] == 0 {
		t.Errorf("want truncated events, events with a wrong type and bad checks: %v", bad)
	}
}

// detect runs the records of each batch through the baseline threshold
// rules, as socd's detection group would: per organisation, and per
// partition chosen by the record key.
func detect(t testing.TB, batches [][]Record) (alerts []event.Alert, orgs map[string]int) {
	t.Helper()
	d, err := threshold.New(threshold.Builtin())
	if err != nil {
		t.Fatal(err)
	}
	const partitions = 6
	orgs = map[string]int{}
	for _, recs := range batches {
		streams := map[string]*event.Batch{}
		var order []string
		for _, r := range recs {
			if r.Check {
				continue
			}
			e, err := event.Decode(r.Value)
			if err != nil || e.Validate() != nil {
				continue // the dead-letter path
			}
			h := fnv.New32a()
			h.Write(r.Key)
			stream := fmt.Sprintf("soc.events.%s/%d", r.Org, h.Sum32()%partitions)
			b := streams[stream]
			if b == nil {
				b = &event.Batch{Stream: stream, Org: r.Org}
				streams[stream] = b
				order = append(order, stream)
			}
			b.Events = append(b.Events, e)
			b.IDs = append(b.IDs, e.Text(event.FieldID))
			orgs[r.Org]++
		}
		for _, stream := range order {
			got, err := d.Detect(context.Background(), *streams[stream])
			if err != nil {
				t.Fatal(err)
			}
			alerts = append(alerts, got...)
		}
	}
	return alerts, orgs
}

var ruleOf = map[AttackKind]string{
	SSHBruteForce: "egovsoc-ssh-bruteforce",
	PasswordSpray: "egovsoc-password-spray",
	WebScan:       "egovsoc-web-scan",
	WebInjection:  "egovsoc-web-injection",
	PortScan:      "egovsoc-port-scan",
	DNSTunnel:     "egovsoc-dns-tunnel",
}

// attributed checks that every alert is about a scheduled attack: the
// background never trips a rule on its own.
func attributed(t *testing.T, s *Simulator, alerts []event.Alert, from, to time.Time) {
	t.Helper()
	attacks := s.Attacks(from, to)
	for _, a := range alerts {
		ok := slices.ContainsFunc(attacks, func(at Attack) bool {
			return at.Org == a.Org && at.Source.String() == a.Group["source.ip"] && ruleOf[at.Kind] == a.Rule.ID
		})
		if !ok {
			t.Errorf("alert not caused by a scheduled attack: %s %s %v", a.Org, a.Title, a.Group)
		}
	}
}

// TestAttacksTripRules is the demo's promise: within the first minute, at
// least three kinds of attack raise their rules, at ten or more sites.
func TestAttacksTripRules(t *testing.T) {
	for _, seed := range []int64{1, 2, 3} {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			t.Parallel()
			s := newSim(t, Options{Seed: seed})
			alerts, orgs := detect(t, run(s, time.Minute, DefaultTick))
			rules := map[string]bool{}
			for _, a := range alerts {
				rules[a.Rule.ID] = true
			}
			t.Logf("%d alerts, rules %v, %d orgs with events", len(alerts), slices.Sorted(maps.Keys(rules)), len(orgs))
			if len(rules) < 3 {
				t.Errorf("%d rules fired in the first minute (%v), want at least 3", len(rules), rules)
			}
			if len(orgs) < 10 {
				t.Errorf("%d organisations produced events, want at least 10", len(orgs))
			}
			attributed(t, s, alerts, t0, t0.Add(time.Minute))
		})
	}
}

// TestEveryAttackDetected runs five minutes: every attack that had time to
// finish raises its own rule, and nothing else raises any.
func TestEveryAttackDetected(t *testing.T) {
	if testing.Short() {
		t.Skip("five simulated minutes")
	}
	const span = 5 * time.Minute
	s := newSim(t, Options{Seed: 9, Rate: 100, Tick: time.Second})
	alerts, _ := detect(t, run(s, span, time.Second))
	attributed(t, s, alerts, t0, t0.Add(span))
	kinds := map[AttackKind]int{}
	for _, a := range s.Attacks(t0, t0.Add(span)) {
		kinds[a.Kind]++
		if a.End.After(t0.Add(span)) {
			continue
		}
		if !slices.ContainsFunc(alerts, func(al event.Alert) bool {
			return al.Org == a.Org && al.Group["source.ip"] == a.Source.String() && al.Rule.ID == ruleOf[a.Kind]
		}) {
			t.Errorf("attack not detected: %+v", a)
		}
	}
	if len(kinds) != int(numKinds) {
		t.Errorf("attack kinds in five minutes: %v", kinds)
	}
}

// TestChecks: probes every ~30 s, scheduled outages seen down from every
// vantage, the flaky site's broken link marked Impaired, the rest up.
func TestChecks(t *testing.T) {
	const span = 10 * time.Minute
	s := newSim(t, Options{Seed: 4, Rate: 1, Malformed: -1, Tick: time.Second})
	var checks []event.Check
	for _, r := range flatten(run(s, span, time.Second)) {
		if !r.Check {
			continue
		}
		var c event.Check
		if err := json.Unmarshal(r.Value, &c); err != nil {
			t.Fatal(err)
		}
		checks = append(checks, c)
	}
	outages := s.Outages(t0, t0.Add(span))
	if len(outages) < 2 {
		t.Fatalf("%d outages in ten minutes", len(outages))
	}
	inOutage := func(c event.Check) bool {
		return slices.ContainsFunc(outages, func(o Outage) bool {
			return o.Service == c.Service && !c.Time.Before(o.Start) && c.Time.Before(o.End)
		})
	}
	last := map[string]time.Time{}
	seenDown := map[string]map[string]bool{} // service → vantages that saw it down
	var impaired, blips, total int
	flaky := s.flaky().sensor
	for _, c := range checks {
		k := c.Vantage + "/" + c.Service
		if p, ok := last[k]; ok {
			if gap := c.Time.Sub(p); gap < checkEvery-checkJitter || gap > checkEvery+checkJitter {
				t.Fatalf("%s probed %s apart", k, gap)
			}
		}
		last[k] = c.Time
		total++
		switch {
		case c.Impaired:
			impaired++
			if c.Vantage != flaky || c.Status != event.CheckDown {
				t.Fatalf("impaired check from %s, status %s", c.Vantage, c.Status)
			}
		case inOutage(c):
			if c.Status != event.CheckDown || c.Error == "" {
				t.Fatalf("check during an outage of %s is %s", c.Service, c.Status)
			}
			if seenDown[c.Service] == nil {
				seenDown[c.Service] = map[string]bool{}
			}
			seenDown[c.Service][c.Vantage] = true
		case c.Status == event.CheckDown:
			blips++
		}
	}
	if impaired == 0 {
		t.Errorf("the flaky site %s never had a broken link in ten minutes", flaky)
	}
	if float64(blips) > 0.01*float64(total) {
		t.Errorf("%d of %d checks down outside outages", blips, total)
	}
	for _, o := range outages {
		if o.End.After(t0.Add(span)) {
			continue
		}
		probers := map[string]bool{}
		for _, st := range s.sites {
			for _, p := range st.probes {
				if p.svc.ID == o.Service && st.sensor != flaky {
					probers[st.sensor] = true
				}
			}
		}
		for v := range probers {
			if !seenDown[o.Service][v] {
				t.Errorf("outage of %s (%s–%s) not seen from %s", o.Service, o.Start, o.End, v)
			}
		}
	}
	t.Logf("%d checks, %d impaired, %d blips, outages %v", total, impaired, blips, outages)
}

func TestRun(t *testing.T) {
	s := newSim(t, Options{Seed: 2, Rate: 50, Tick: 20 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	var calls, delivered int
	var failed, retried []Record
	done := make(chan error, 1)
	go func() {
		done <- s.Run(ctx, func(_ context.Context, recs []Record) error {
			mu.Lock()
			defer mu.Unlock()
			calls++
			switch calls {
			case 2, 3:
				failed = recs
				return errors.New("broker away")
			case 4:
				retried = recs
			}
			delivered++
			if delivered >= 5 {
				cancel()
			}
			return nil
		})
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not stop after cancel")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(failed) == 0 || len(failed) != len(retried) || !bytes.Equal(failed[0].Value, retried[0].Value) {
		t.Errorf("the retry did not resend the same batch: %d then %d records", len(failed), len(retried))
	}
	if err := s.Run(context.Background(), nil); err == nil {
		t.Error("Run with a nil emit: no error")
	}
}

// TestAttackContent checks each attack's events against the rule it must
// trip: every injection payload matches the injection rule, no scan path
// does, and a tunnel's query names are long enough.
func TestAttackContent(t *testing.T) {
	d, err := threshold.New(threshold.Builtin())
	if err != nil {
		t.Fatal(err)
	}
	one := func(uri string) []event.Alert {
		e, err := event.Decode([]byte(fmt.Sprintf(`{"@timestamp":"2026-11-22T01:00:00Z","event":{"category":["web"]},"source":{"ip":"203.0.113.9"},"url":{"domain":"x.gov.vn","original":%q}}`, uri)))
		if err != nil {
			t.Fatal(err)
		}
		alerts, _ := d.Detect(context.Background(), event.Batch{Stream: uri, Org: "x", Events: []*event.Event{e}, IDs: []string{"1"}})
		return alerts
	}
	for _, p := range injections {
		if a := one(p.uri); len(a) != 1 || a[0].Rule.ID != "egovsoc-web-injection" {
			t.Errorf("injection %q raised %v", p.uri, a)
		}
	}
	for _, p := range scanPaths {
		if a := one(p); len(a) != 0 {
			t.Errorf("scan path %q raised %v: the scan would pass for an injection", p, a)
		}
	}
}

func TestCommunityID(t *testing.T) {
	// The reference vector of the Community ID specification.
	got := communityID(netip.MustParseAddr("128.232.110.120"), netip.MustParseAddr("66.35.250.204"), 34855, 80, 6)
	if want := "1:LQU9qZlK+B5F3KDmev6m5PMibrg="; got != want {
		t.Errorf("community id %s, want %s", got, want)
	}
	back := communityID(netip.MustParseAddr("66.35.250.204"), netip.MustParseAddr("128.232.110.120"), 80, 34855, 6)
	if back != got {
		t.Errorf("reverse direction %s, want %s", back, got)
	}
}

func TestRegisteredDomain(t *testing.T) {
	for _, tc := range [][4]string{
		{"dichvucong.hanoi.gov.vn", "hanoi.gov.vn", "gov.vn", "dichvucong"},
		{"chinhphu.vn", "chinhphu.vn", "vn", ""},
		{"www.google.com", "google.com", "com", "www"},
		{"abc.0.t.cdn-sync.example", "cdn-sync.example", "example", "abc.0.t"},
	} {
		reg, tld, sub := registeredDomain(tc[0])
		if reg != tc[1] || tld != tc[2] || sub != tc[3] {
			t.Errorf("registeredDomain(%q) = %q, %q, %q", tc[0], reg, tld, sub)
		}
	}
}

// BenchmarkStep measures how fast the simulator makes records: one step is
// one second of the default nation (40 sites, 400 events/s).
func BenchmarkStep(b *testing.B) {
	s := newSim(b, Options{Seed: 1, Tick: time.Second})
	now := t0
	var recs, size int
	b.ReportAllocs()
	for b.Loop() {
		now = now.Add(time.Second)
		for _, r := range s.Step(now) {
			recs++
			size += len(r.Value)
		}
	}
	sec := b.Elapsed().Seconds()
	b.ReportMetric(float64(recs)/sec, "records/s")
	b.ReportMetric(float64(size)/float64(max(recs, 1)), "bytes/record")
}
