package simulate

import (
	"encoding/json"
	"time"

	"github.com/egovsoc/egovsoc/pipeline/event"
)

// Availability: every site's sensor probes its own services and the
// national ones every checkEvery (each probe at its own phase). Outages are
// scheduled one per outageEvery, each taking one service down for two to
// five minutes, as every vantage that probes it sees; and one site's link is
// broken now and then, when its checks fail with Impaired set.
const (
	checkEvery   = 30 * time.Second
	checkJitter  = 2 * time.Second
	outageEvery  = 3 * time.Minute
	outageLead   = 30 * time.Second
	impairEvery  = 7 * time.Minute
	impairLead   = 100 * time.Second
	probeTimeout = 10 * time.Second
)

// Outage is one scheduled outage of a service.
type Outage struct {
	Service string    // service id in the catalogue
	Start   time.Time // first instant it is down
	End     time.Time // first instant it is up again
}

type outage struct {
	Outage
	mode uint64 // how probes fail: status 503, timeout, refused, bad certificate
}

func (s *Simulator) outageSlot(j int) outage {
	h := mix(s.seed^saltOutage, uint64(j))
	start := s.start.Add(outageLead + time.Duration(j)*outageEvery + time.Duration(unit(mix(h, 1))*float64(time.Minute)))
	dur := 2*time.Minute + time.Duration(unit(mix(h, 2))*float64(3*time.Minute))
	return outage{
		Outage: Outage{
			Service: s.probed[h%uint64(len(s.probed))].ID,
			Start:   start.Truncate(time.Second),
			End:     start.Add(dur).Truncate(time.Second),
		},
		mode: mix(h, 3),
	}
}

// slotOf is the slot of period every, counted from s.start+lead, holding t;
// -1 before the first.
func (s *Simulator) slotOf(t time.Time, lead, every time.Duration) int {
	d := t.Sub(s.start) - lead
	if d < 0 {
		return -1
	}
	return int(d / every)
}

// outage reports whether service is down at t.
func (s *Simulator) outage(service string, t time.Time) (outage, bool) {
	if len(s.probed) == 0 {
		return outage{}, false
	}
	// An outage starts within a minute of its slot and lasts at most five,
	// so the two slots before t's may still be running.
	for j := s.slotOf(t, outageLead, outageEvery); j >= 0 && j >= s.slotOf(t, outageLead, outageEvery)-2; j-- {
		if o := s.outageSlot(j); o.Service == service && !t.Before(o.Start) && t.Before(o.End) {
			return o, true
		}
	}
	return outage{}, false
}

// Outages returns the outages that overlap [from, to]. It is valid once Step
// has been called.
func (s *Simulator) Outages(from, to time.Time) []Outage {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.started || len(s.probed) == 0 {
		return nil
	}
	var out []Outage
	for j := 0; ; j++ {
		o := s.outageSlot(j)
		if o.Start.After(to) {
			return out
		}
		if !o.End.Before(from) {
			out = append(out, o.Outage)
		}
	}
}

// flaky is the site whose link breaks now and then.
func (s *Simulator) flaky() *site {
	return s.sites[mix(s.seed^saltImpair, 0)%uint64(len(s.sites))]
}

// impaired reports whether the site's own link is broken at t.
func (s *Simulator) impaired(st *site, t time.Time) bool {
	if st != s.flaky() {
		return false
	}
	j := s.slotOf(t, impairLead, impairEvery)
	for k := j; k >= 0 && k >= j-1; k-- {
		h := mix(s.seed^saltImpair, uint64(k)+1)
		start := s.start.Add(impairLead + time.Duration(k)*impairEvery + time.Duration(unit(h)*float64(time.Minute)))
		end := start.Add(time.Minute + time.Duration(unit(mix(h, 1))*float64(90*time.Second)))
		if !t.Before(start) && t.Before(end) {
			return true
		}
	}
	return false
}

// checkRecords appends the probes that ran in (from, now].
func (s *Simulator) checkRecords(out []Record, from, now time.Time) []Record {
	period := int64(checkEvery)
	for _, st := range s.sites {
		for pi := range st.probes {
			p := &st.probes[pi]
			// Probe k runs at k*period + phase + jitter(k), on the wall clock.
			lo := floorDiv(from.UnixNano()-int64(p.phase)-int64(checkJitter), period)
			hi := floorDiv(now.UnixNano()-int64(p.phase), period)
			for k := lo; k <= hi; k++ {
				h := mix(p.key, uint64(k))
				ns := k*period + int64(p.phase) + int64(unit(h)*float64(checkJitter))
				t := time.Unix(0, ns).UTC().Truncate(time.Microsecond)
				if t.After(from) && !t.After(now) {
					out = append(out, s.check(st, p, h, t))
				}
			}
		}
	}
	return out
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// check is the result of one probe.
func (s *Simulator) check(st *site, p *probe, h uint64, t time.Time) Record {
	c := event.Check{
		ID:      event.CheckID(st.sensor, p.svc.ID, p.monitor, t),
		Time:    t,
		Org:     st.code,
		Vantage: st.sensor,
		Service: p.svc.ID,
		Monitor: p.monitor,
		Target:  p.target,
		Status:  event.CheckUp,
	}
	u := unit(mix(h, 1))
	jitter := func(base, spread time.Duration) time.Duration {
		v := unit(mix(h, 2))
		return (base + time.Duration(v*v*v*float64(spread))).Truncate(time.Microsecond)
	}
	o, down := s.outage(p.svc.ID, t)
	switch {
	case s.impaired(st, t):
		c.Status, c.Impaired = event.CheckDown, true
		c.Duration = jitter(3*time.Second, 100*time.Millisecond)
		c.Error = "dial: connect: network is unreachable (gateway " + st.gateway().String() + " not answering)"
	case down:
		c.Status = event.CheckDown
		s.failure(&c, o.mode, jitter)
	case u < 0.002:
		// A lone timeout: the kind of blip an evaluator must not call an outage.
		c.Status = event.CheckDown
		s.failure(&c, 1, jitter)
	default:
		switch p.monitor {
		case "http":
			c.HTTPStatus = 200
			c.Duration = jitter(60*time.Millisecond, 1500*time.Millisecond)
		case "dns":
			c.Duration = jitter(3*time.Millisecond, 80*time.Millisecond)
		default:
			c.Duration = jitter(5*time.Millisecond, 150*time.Millisecond)
		}
	}
	b, err := json.Marshal(&c)
	if err != nil {
		// A Check always marshals; keep the simulator total regardless.
		b = []byte(`{}`)
	}
	return s.finish(st.code, c.ID, p.svc.ID, t, b, true)
}

// failure fills in how a probe failed during an outage of the given mode.
func (s *Simulator) failure(c *event.Check, mode uint64, jitter func(base, spread time.Duration) time.Duration) {
	switch c.Monitor {
	case "http":
		switch mode % 4 {
		case 0:
			c.HTTPStatus, c.Error = 503, "unexpected status 503 Service Unavailable"
			c.Duration = jitter(50*time.Millisecond, 300*time.Millisecond)
		case 1:
			c.Error = "Get \"" + c.Target + "\": context deadline exceeded (Client.Timeout exceeded while awaiting headers)"
			c.Duration = probeTimeout
		case 2:
			c.Error = "dial tcp: connect: connection refused"
			c.Duration = jitter(time.Millisecond, 30*time.Millisecond)
		default:
			c.Error = "tls: failed to verify certificate: x509: certificate has expired or is not yet valid"
			c.Duration = jitter(40*time.Millisecond, 200*time.Millisecond)
		}
	case "dns":
		if mode%2 == 0 {
			c.Error = "SERVFAIL for SOA " + c.Target
			c.Duration = jitter(5*time.Millisecond, 200*time.Millisecond)
		} else {
			c.Error = "read udp: i/o timeout"
			c.Duration = 5 * time.Second
		}
	default:
		if mode%2 == 0 {
			c.Error = "dial tcp " + c.Target + ": connect: connection refused"
			c.Duration = jitter(time.Millisecond, 30*time.Millisecond)
		} else {
			c.Error = "dial tcp " + c.Target + ": i/o timeout"
			c.Duration = probeTimeout
		}
	}
}
