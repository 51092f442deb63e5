package threshold

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/egovsoc/egovsoc/pipeline/event"
)

var t0 = time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)

func sshFail(t *testing.T, i int, src, user string) *event.Event {
	t.Helper()
	e, err := event.Decode([]byte(fmt.Sprintf(`{"@timestamp":%q,"event":{"category":["authentication"],"outcome":"failure"},"process":{"name":"sshd"},"source":{"ip":%q},"user":{"name":%q}}`,
		t0.Add(time.Duration(i)*time.Second).Format(time.RFC3339), src, user)))
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func batch(org string, evs ...*event.Event) event.Batch {
	ids := make([]string, len(evs))
	for i := range evs {
		ids[i] = fmt.Sprintf("id-%d", i)
	}
	return event.Batch{Stream: "soc.events." + org + "/0", Org: org, Events: evs, IDs: ids}
}

func newBuiltin(t *testing.T) *Detector {
	t.Helper()
	d, err := New(Builtin())
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestBruteForceRaisesOneAlertPerEpisode(t *testing.T) {
	var evs []*event.Event
	for i := range 25 {
		evs = append(evs, sshFail(t, i, "203.0.113.7", "root"))
	}
	evs = append(evs, sshFail(t, 3, "198.51.100.1", "admin")) // another source, below threshold
	d := newBuiltin(t)
	alerts, err := d.Detect(context.Background(), batch("hanoi", evs...))
	if err != nil {
		t.Fatal(err)
	}
	if len(alerts) != 1 {
		t.Fatalf("got %d alerts, want 1: %+v", len(alerts), alerts)
	}
	a := alerts[0]
	if a.Rule.ID != "egovsoc-ssh-bruteforce" || a.Group["source.ip"] != "203.0.113.7" || a.Org != "hanoi" || a.Rule.Author == "" {
		t.Errorf("alert = %+v", a)
	}
	if !a.Time.Equal(t0.Add(9*time.Second)) || !a.FirstSeen.Equal(t0) {
		t.Errorf("alert time %v first %v", a.Time, a.FirstSeen)
	}
	if err := a.Validate(); err != nil {
		t.Error(err)
	}
	// A replay into a fresh detector raises the same alert id.
	again, _ := newBuiltin(t).Detect(context.Background(), batch("hanoi", evs...))
	if len(again) != 1 || again[0].ID != a.ID {
		t.Errorf("replay gave %v, want id %s", again, a.ID)
	}
	// After a quiet window, a new episode raises a new alert.
	var later []*event.Event
	for i := range 10 {
		later = append(later, sshFail(t, 600+i, "203.0.113.7", "root"))
	}
	next, _ := d.Detect(context.Background(), batch("hanoi", later...))
	if len(next) != 1 || next[0].ID == a.ID {
		t.Errorf("second episode: %+v", next)
	}
}

func TestSlowFailuresDoNotFire(t *testing.T) {
	var evs []*event.Event
	for i := range 20 {
		evs = append(evs, sshFail(t, i*30, "203.0.113.9", "root")) // 4 per 2 minutes
	}
	alerts, _ := newBuiltin(t).Detect(context.Background(), batch("hue", evs...))
	for _, a := range alerts {
		if a.Rule.ID == "egovsoc-ssh-bruteforce" {
			t.Errorf("slow failures raised %s", a.Title)
		}
	}
}

func TestDistinctPortScanAndSpray(t *testing.T) {
	var evs []*event.Event
	for p := range 60 {
		e, _ := event.Decode([]byte(fmt.Sprintf(`{"@timestamp":%q,"event":{"category":["network"]},"network":{"transport":"tcp"},"source":{"ip":"192.0.2.1"},"destination":{"ip":"10.1.1.1","port":%d}}`,
			t0.Add(time.Duration(p)*100*time.Millisecond).Format(time.RFC3339Nano), 1000+p)))
		evs = append(evs, e)
	}
	// The same port many times is not a scan.
	for range 100 {
		e, _ := event.Decode([]byte(fmt.Sprintf(`{"@timestamp":%q,"event":{"category":["network"]},"network":{"transport":"tcp"},"source":{"ip":"192.0.2.2"},"destination":{"ip":"10.1.1.1","port":443}}`, t0.Format(time.RFC3339))))
		evs = append(evs, e)
	}
	for u := range 9 {
		evs = append(evs, sshFail(t, u*20, "192.0.2.50", fmt.Sprintf("user%d", u)))
	}
	alerts, _ := newBuiltin(t).Detect(context.Background(), batch("mof", evs...))
	got := map[string]string{}
	for _, a := range alerts {
		got[a.Rule.ID] = a.Group["source.ip"]
	}
	if got["egovsoc-port-scan"] != "192.0.2.1" || got["egovsoc-password-spray"] != "192.0.2.50" || len(got) != 2 {
		t.Errorf("alerts by rule: %v", got)
	}
}

func TestInjectionIgnoresCase(t *testing.T) {
	e, _ := event.Decode([]byte(`{"@timestamp":"2026-11-22T08:00:00Z","url":{"original":"/tra-cuu?id=1 UNION SELECT password FROM users","domain":"dichvucong.hanoi.gov.vn"},"source":{"ip":"192.0.2.77"}}`))
	ok, _ := event.Decode([]byte(`{"@timestamp":"2026-11-22T08:00:00Z","url":{"original":"/tin-tuc/union-selection","domain":"hanoi.gov.vn"},"source":{"ip":"192.0.2.78"}}`))
	alerts, _ := newBuiltin(t).Detect(context.Background(), batch("hanoi", e, ok))
	if len(alerts) != 1 || alerts[0].Group["source.ip"] != "192.0.2.77" {
		t.Errorf("alerts = %+v", alerts)
	}
}

func TestInvalidRulesAreRejected(t *testing.T) {
	for _, r := range []Rule{
		{ID: "x", Name: "x", Severity: "urgent", Threshold: 1, Window: time.Minute, GroupBy: []string{"a"}, Where: []Cond{{Field: "a", Equals: []string{"b"}}}},
		{ID: "x", Name: "x", Severity: event.SeverityLow, Threshold: 0, Window: time.Minute, GroupBy: []string{"a"}, Where: []Cond{{Field: "a", Equals: []string{"b"}}}},
		{ID: "x", Name: "x", Severity: event.SeverityLow, Threshold: 1, Window: time.Minute, GroupBy: []string{"a"}, Where: []Cond{{Field: "a"}}},
	} {
		if _, err := New([]Rule{r}); err == nil {
			t.Errorf("rule %+v accepted", r)
		}
	}
}

func TestStateIsBounded(t *testing.T) {
	d := newBuiltin(t)
	var evs []*event.Event
	for i := range MaxGroups + 1000 {
		evs = append(evs, sshFail(t, i/1000, fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255), "root"))
	}
	if _, err := d.Detect(context.Background(), batch("camau", evs...)); err != nil {
		t.Fatal(err)
	}
	for ri, gs := range d.stream("soc.events.camau/0").groups {
		if len(gs) > MaxGroups {
			t.Errorf("rule %s tracks %d groups", d.rules[ri].ID, len(gs))
		}
	}
}
