package sqlite

import (
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/egovsoc/egovsoc/pipeline/event"
	"github.com/egovsoc/egovsoc/pipeline/store"
	"github.com/egovsoc/egovsoc/pipeline/store/storetest"
)

// benchEvents returns n realistic ECS events (sshd, nginx, Zeek DNS and
// connection, Windows security), 500–900 bytes each, a second apart.
func benchEvents(n int, start time.Time, seq int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		ts := start.Add(time.Duration(seq+i) * time.Second).Format(time.RFC3339Nano)
		org := fmt.Sprintf("tinh-%02d", (seq+i)%34)
		host := fmt.Sprintf("web%02d.%s.gov.vn", i%7, org)
		src := fmt.Sprintf("203.0.%d.%d", i%200, (i*7)%250)
		var s string
		switch i % 5 {
		case 0:
			s = fmt.Sprintf(`{"@timestamp":%q,"message":"Failed password for invalid user admin from %s port %d ssh2","event":{"kind":"event","category":["authentication"],"type":["start"],"action":"ssh_login","outcome":"failure","dataset":"system.auth","module":"system","ingested":%q},"organization":{"id":%q},"host":{"name":%q,"os":{"type":"linux"}},"source":{"ip":%q,"port":%d},"user":{"name":"admin"},"process":{"name":"sshd","pid":%d},"observer":{"name":"sensor-%s"},"agent":{"id":"a1b2c3","version":"1.0.0"},"related":{"ip":[%q],"user":["admin"]},"log":{"file":{"path":"/var/log/auth.log"},"offset":%d}}`,
				ts, src, 40000+i, ts, org, host, src, 40000+i, 1000+i, org, src, i*120)
		case 1:
			s = fmt.Sprintf(`{"@timestamp":%q,"message":"%s - - \"GET /dich-vu-cong/ho-so?id=%d HTTP/1.1\" 200 5120 \"-\" \"Mozilla/5.0 (Windows NT 10.0; Win64; x64)\"","event":{"kind":"event","category":["web","network"],"type":["access"],"outcome":"success","dataset":"nginx.access","module":"nginx"},"organization":{"id":%q},"host":{"name":%q},"source":{"ip":%q},"url":{"original":"/dich-vu-cong/ho-so?id=%d","path":"/dich-vu-cong/ho-so","query":"id=%d","domain":"dichvucong.%s.gov.vn"},"http":{"request":{"method":"GET"},"response":{"status_code":200,"bytes":5120},"version":"1.1"},"user_agent":{"original":"Mozilla/5.0 (Windows NT 10.0; Win64; x64)"},"observer":{"name":"sensor-%s"},"tags":["internet","portal"]}`,
				ts, src, i, org, host, src, i, i, org, org)
		case 2:
			s = fmt.Sprintf(`{"@timestamp":%q,"message":"DNS query q%d.example.com A","event":{"kind":"event","category":["network"],"type":["protocol"],"dataset":"zeek.dns","module":"zeek"},"organization":{"id":%q},"host":{"name":"dns01.%s.gov.vn"},"source":{"ip":"10.%d.0.%d","port":%d},"destination":{"ip":"10.%d.0.53","port":53},"network":{"transport":"udp","protocol":"dns","community_id":"1:abcdEFGH%d="},"dns":{"question":{"name":"q%d.example.com","type":"A","registered_domain":"example.com"},"response_code":"NOERROR","answers":[{"data":"192.0.2.%d","ttl":300},{"data":"192.0.2.%d","ttl":300}]},"observer":{"name":"sensor-%s"}}`,
				ts, i, org, org, i%34, i%250, 50000+i, i%34, i, i, i%250, (i+1)%250, org)
		case 3:
			s = fmt.Sprintf(`{"@timestamp":%q,"message":"conn %s:%d -> 198.51.100.%d:443 tcp","event":{"kind":"event","category":["network"],"type":["connection","end"],"outcome":"success","dataset":"zeek.conn","module":"zeek","duration":%d},"organization":{"id":%q},"host":{"name":%q},"source":{"ip":%q,"port":%d,"bytes":%d,"packets":%d},"destination":{"ip":"198.51.100.%d","port":443,"bytes":%d,"packets":%d},"network":{"transport":"tcp","direction":"outbound","bytes":%d,"packets":%d},"tls":{"client":{"server_name":"api.example.net","ja3":"771,4865-4866,0-23"}},"observer":{"name":"sensor-%s"}}`,
				ts, src, 50000+i, i%250, 1500000+i, org, host, src, 50000+i, 1200+i, 10+i%5, i%250, 50000+i, 40+i%7, 51200+2*i, 50+i%9, org)
		default:
			s = fmt.Sprintf(`{"@timestamp":%q,"message":"An account was successfully logged on.","event":{"kind":"event","category":["authentication","iam"],"type":["start"],"action":"logged-in","code":"4624","outcome":"success","dataset":"windows.security","module":"windows"},"organization":{"id":%q},"host":{"name":"dc01.%s.gov.vn","os":{"type":"windows"}},"source":{"ip":%q},"user":{"name":"nv.%d","domain":"SO-TTTT"},"winlog":{"event_id":"4624","channel":"Security","logon":{"type":"Network"}},"observer":{"name":"sensor-%s"}}`,
				ts, org, org, src, i%300, org)
		}
		out[i] = []byte(s)
	}
	return out
}

func decodeDocs(b testing.TB, raws [][]byte, seq int) []store.Doc {
	docs := make([]store.Doc, len(raws))
	for i, raw := range raws {
		e, err := event.Decode(append([]byte(nil), raw...))
		if err != nil {
			b.Fatal(err)
		}
		at, err := e.Time()
		if err != nil {
			b.Fatal(err)
		}
		org := e.Text(event.FieldOrg)
		docs[i] = store.Doc{Kind: store.KindEvent, ID: event.ID("bench", org, strconv.Itoa(seq+i)), Org: org, Time: at, Event: e}
	}
	return docs
}

// BenchmarkWrite writes batches of 500 realistic events to a database that
// grows as it runs (-benchtime 200x writes 100,000). Compare docs/s with
// BenchmarkDecodeCeiling, the rate at which the same events merely parse.
func BenchmarkWrite(b *testing.B) {
	const batch = 500
	s := open(b)
	seq := 0
	for b.Loop() {
		b.StopTimer()
		docs := decodeDocs(b, benchEvents(batch, storetest.T0, seq), seq)
		seq += batch
		b.StartTimer()
		res, err := s.Write(b.Context(), docs)
		if err != nil {
			b.Fatal(err)
		}
		for _, err := range res {
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "docs/s")
}

// BenchmarkDecodeCeiling decodes and re-serialises the events BenchmarkWrite
// writes: the ceiling for any event path.
func BenchmarkDecodeCeiling(b *testing.B) {
	const batch = 500
	raws := benchEvents(batch, storetest.T0, 0)
	var buf []byte
	for b.Loop() {
		for _, raw := range raws {
			e, err := event.Decode(raw)
			if err != nil {
				b.Fatal(err)
			}
			buf = e.AppendJSON(buf[:0])
		}
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "docs/s")
}

// BenchmarkAlertQueue reads pages of the alert queue from a store holding
// 100,000 alerts (EGOVSOC_BENCH_ALERTS sets another number, such as the
// 1,000,000 of the performance target) of 60 organisations over 30 days.
func BenchmarkAlertQueue(b *testing.B) {
	n := 100_000
	if v, err := strconv.Atoi(os.Getenv("EGOVSOC_BENCH_ALERTS")); err == nil && v > 0 {
		n = v
	}
	s := open(b)
	start := time.Now()
	orgs := fillAlerts(b, s, n)
	b.Logf("%d alerts written in %s", n, time.Since(start).Round(time.Millisecond))

	subtree := store.ScopeOrgs(orgs[10:16]...)
	for _, c := range []struct {
		name  string
		scope store.Scope
		q     store.AlertQuery
		next  bool
	}{
		{"all/newest", store.ScopeAll(), store.AlertQuery{}, false},
		{"all/newest/page2", store.ScopeAll(), store.AlertQuery{}, true},
		{"open/severity", store.ScopeAll(), store.AlertQuery{Status: []string{event.StatusOpen}, Sort: store.SortSeverity}, false},
		{"open+ack/high+/newest", store.ScopeAll(), store.AlertQuery{Status: []string{event.StatusOpen, event.StatusAcknowledged}, MinSeverity: event.SeverityHigh}, false},
		{"subtree/open/newest", subtree, store.AlertQuery{Status: []string{event.StatusOpen}}, false},
		{"subtree/severity", subtree, store.AlertQuery{Sort: store.SortSeverity}, false},
		{"text", store.ScopeAll(), store.AlertQuery{Text: "brute force"}, false},
		{"rule/last-week", store.ScopeAll(), store.AlertQuery{RuleIDs: []string{"r-web-shell"}, From: storetest.T0.Add(23 * 24 * time.Hour)}, false},
	} {
		b.Run(c.name, func(b *testing.B) {
			q := c.q
			if c.next {
				p, err := s.Alerts(b.Context(), c.scope, q)
				if err != nil {
					b.Fatal(err)
				}
				q.After = p.Next
			}
			var total int64
			for b.Loop() {
				p, err := s.Alerts(b.Context(), c.scope, q)
				if err != nil {
					b.Fatal(err)
				}
				total = p.Total
			}
			b.ReportMetric(float64(b.Elapsed())/1e6/float64(b.N), "ms/op")
			b.ReportMetric(float64(total), "matches")
		})
	}
}

// fillAlerts writes n alerts of 60 organisations over 30 days, 30% open,
// 10% acknowledged, and returns the organisations.
func fillAlerts(tb testing.TB, s *Store, n int) []string {
	titles := []string{"SSH brute force against %s", "Web shell upload on %s", "DNS tunnelling from %s", "Quét cổng từ %s", "Mimikatz on %s"}
	rules := []string{"r-ssh-brute", "r-web-shell", "r-dns-tunnel", "r-port-scan", "r-mimikatz"}
	sevs := []event.Severity{event.SeverityLow, event.SeverityMedium, event.SeverityMedium, event.SeverityHigh, event.SeverityCritical, event.SeverityInformational}
	orgs := make([]string, 60)
	for i := range orgs {
		orgs[i] = fmt.Sprintf("org-%02d", i)
	}
	const batch = 5000
	for done := 0; done < n; done += batch {
		docs := make([]store.Doc, 0, batch)
		for i := done; i < min(done+batch, n); i++ {
			at := storetest.T0.Add(time.Duration(float64(30*24*time.Hour) * float64(i) / float64(n)))
			a := storetest.NewAlert(orgs[(i*7)%60], event.ID("alert", strconv.Itoa(i)), at, sevs[(i*13)%6])
			k := (i * 31) % 5
			a.Rule.ID, a.Rule.Name = rules[k], titles[k][:len(titles[k])-3]
			a.Title = fmt.Sprintf(titles[k], fmt.Sprintf("host%d", i%500))
			switch r := (i * 17) % 10; {
			case r < 3:
				a.Status = event.StatusOpen
			case r < 4:
				a.Status = event.StatusAcknowledged
			default:
				a.Status = event.StatusClosed
			}
			docs = append(docs, storetest.AlertDoc(a))
		}
		storetest.MustWrite(tb, s, docs...)
	}
	return orgs
}

// BenchmarkWriteAlerts writes batches of 500 alerts. "new" gives every alert
// a fresh id (the common case: one insert each); "reemit" writes, for each
// alert already stored, a later emission of it with a higher count and more
// event ids (what a folding detector sends), so every insert is ignored and
// the stored alert is merged.
func BenchmarkWriteAlerts(b *testing.B) {
	const batch = 500
	emission := func(i, n int) store.Doc {
		at := storetest.T0.Add(time.Duration(i) * time.Second)
		a := storetest.NewAlert(fmt.Sprintf("org-%02d", i%60), event.ID("bench-alert", strconv.Itoa(i)), at.Add(time.Duration(n)*time.Minute), event.SeverityHigh)
		a.FirstSeen = at
		a.Count = n
		a.EventIDs = make([]string, min(n, event.MaxAlertEvents))
		for k := range a.EventIDs {
			a.EventIDs[k] = event.ID("bench-event", strconv.Itoa(i), strconv.Itoa(k))
		}
		return storetest.AlertDoc(a)
	}
	run := func(b *testing.B, s *Store, docs func(seq int) []store.Doc) {
		seq := 0
		for b.Loop() {
			b.StopTimer()
			d := docs(seq)
			seq += batch
			b.StartTimer()
			res, err := s.Write(b.Context(), d)
			if err != nil {
				b.Fatal(err)
			}
			for _, err := range res {
				if err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "docs/s")
	}
	b.Run("new", func(b *testing.B) {
		s := open(b)
		run(b, s, func(seq int) []store.Doc {
			docs := make([]store.Doc, batch)
			for i := range docs {
				docs[i] = emission(seq+i, 1)
			}
			return docs
		})
	})
	b.Run("reemit", func(b *testing.B) {
		s := open(b)
		const stored = 20 * batch
		for start := 0; start < stored; start += batch {
			docs := make([]store.Doc, batch)
			for i := range docs {
				docs[i] = emission(start+i, 1)
			}
			storetest.MustWrite(b, s, docs...)
		}
		run(b, s, func(seq int) []store.Doc {
			docs := make([]store.Doc, batch)
			for i := range docs {
				n := seq + i
				docs[i] = emission(n%stored, 2+n/stored)
			}
			return docs
		})
	})
}
