package sigma

import (
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/egovsoc/egovsoc/pipeline/event"
	"github.com/egovsoc/egovsoc/rules/sigma/correlate"
)

// Suppression: the alerts of a rule about the same group (the same source,
// user, host…) within a window fold into one alert whose count grows. The
// first match raises the alert; later matches in the window raise the same
// alert id again with a higher count, at most once per batch, and the
// store merges them (count, last seen and event ids; an analyst's triage
// stays). A match after the window opens a new alert.

type fold struct {
	a       event.Alert
	end     time.Time // FirstSeen + the window
	emitted int       // the count last emitted
	mark    uint64    // the batch that last touched it
}

type folder struct {
	mu      sync.Mutex
	m       map[string]*fold
	max     int
	window  time.Duration
	evicted int64
}

func newFolder(max int, window time.Duration) *folder {
	return &folder{m: map[string]*fold{}, max: max, window: window}
}

var batchSeq atomic.Uint64

// add folds a match into the alert for key, opening one with build when
// there is none whose window holds t. The fold is queued on the worker to
// be emitted at the end of its batch.
func (f *folder) add(w *worker, key string, t time.Time, eventID string, count int, build func() event.Alert) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fd := f.m[key]
	if fd == nil || !t.Before(fd.end) || f.window < 0 {
		if fd == nil && len(f.m) >= f.max {
			f.evict(t)
		}
		a := build()
		fd = &fold{a: a, end: a.FirstSeen.Add(f.window)}
		if f.window >= 0 {
			f.m[key] = fd
		}
	} else {
		fd.a.Count += count
		if t.Before(fd.a.FirstSeen) {
			fd.a.FirstSeen = t
		}
		if t.After(fd.a.LastSeen) {
			fd.a.LastSeen, fd.a.Time = t, t
		}
		if eventID != "" && len(fd.a.EventIDs) < event.MaxAlertEvents && !slices.Contains(fd.a.EventIDs, eventID) {
			fd.a.EventIDs = append(fd.a.EventIDs, eventID)
		}
	}
	if fd.mark != w.batch {
		fd.mark = w.batch
		w.folded = append(w.folded, fd)
	}
}

// evict makes room: first the folds whose window ended before t, then, if
// none has, an eighth of them (the map's order is random), counted.
func (f *folder) evict(t time.Time) {
	for k, fd := range f.m {
		if !t.Before(fd.end) {
			delete(f.m, k)
		}
	}
	if len(f.m) < f.max {
		return
	}
	n := f.max/8 + 1
	for k := range f.m {
		if n == 0 {
			break
		}
		delete(f.m, k)
		f.evicted++
		n--
	}
}

// flush returns the alerts of the folds a batch touched whose count changed
// since they were last emitted.
func (f *folder) flush(w *worker, out []event.Alert) []event.Alert {
	if len(w.folded) == 0 {
		return out
	}
	f.mu.Lock()
	for _, fd := range w.folded {
		if fd.a.Count == fd.emitted {
			continue
		}
		fd.emitted = fd.a.Count
		a := fd.a
		a.EventIDs = slices.Clone(fd.a.EventIDs)
		out = append(out, a)
	}
	f.mu.Unlock()
	clear(w.folded)
	w.folded = w.folded[:0]
	return out
}

func (f *folder) stats() (int, int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.m), f.evicted
}

// groupOf reads the group of a single-event alert: the configured entity
// fields the event has. key is its canonical text.
func (e *Engine) groupOf(ev *event.Event) (group map[string]string, key string) {
	var b strings.Builder
	for i, f := range e.groupFields {
		v := ev.Get(f)
		if !v.IsScalar() || v.Text() == "" {
			continue
		}
		if group == nil {
			group = make(map[string]string, len(e.groupFields))
		}
		name := e.opt.GroupFields[i]
		group[name] = strings.Clone(v.Text())
		b.WriteString(name)
		b.WriteByte('=')
		b.WriteString(v.Text())
		b.WriteByte('\x1f')
	}
	return group, b.String()
}

// ruleAlert folds a match of a single-event rule into its alert.
func (e *Engine) ruleAlert(w *worker, r *rule, org string, ev *event.Event, id string, t, now time.Time) {
	group, gkey := e.groupOf(ev)
	key := r.key + "\x1e" + org + "\x1e" + gkey
	e.folds.add(w, key, t, id, 1, func() event.Alert {
		first := id
		if first == "" || e.opt.Suppress < 0 {
			first += "@" + strconv.FormatInt(t.UnixNano(), 10)
		}
		a := event.Alert{
			ID:             event.ID("sigma", r.key, org, gkey, first),
			Time:           t,
			Org:            org,
			Detector:       e.opt.Name,
			Rule:           r.meta.rule,
			Severity:       r.meta.severity,
			Title:          r.title,
			Status:         event.StatusOpen,
			Group:          group,
			Count:          1,
			FirstSeen:      t,
			LastSeen:       t,
			Created:        now,
			Threat:         r.meta.threat,
			References:     r.meta.refs,
			FalsePositives: r.meta.fps,
			Matched:        matchedFields(r, ev),
		}
		if id != "" {
			a.EventIDs = []string{id}
		}
		return a
	})
}

// correlationAlert folds a correlation's result into its alert.
func (e *Engine) correlationAlert(w *worker, rs *RuleSet, org string, res correlate.Result, now time.Time) {
	c := rs.corrByID[res.Spec.ID]
	if c == nil || !res.Emit {
		return
	}
	names := make([]string, 0, len(res.Group))
	for k := range res.Group {
		names = append(names, k)
	}
	slices.Sort(names)
	var gkey strings.Builder
	for _, k := range names {
		gkey.WriteString(k)
		gkey.WriteByte('=')
		gkey.WriteString(res.Group[k])
		gkey.WriteByte('\x1f')
	}
	key := c.key + "\x1e" + org + "\x1e" + gkey.String()
	ids := res.EventIDs
	if len(ids) > event.MaxAlertEvents {
		ids = ids[:event.MaxAlertEvents]
	}
	e.folds.add(w, key, res.Last, "", res.Count, func() event.Alert {
		first := strconv.FormatInt(res.First.UnixNano(), 10)
		if len(ids) > 0 {
			first = ids[0]
		}
		return event.Alert{
			ID:             event.ID("sigma-correlation", c.key, org, gkey.String(), first),
			Time:           res.Last,
			Org:            org,
			Detector:       e.opt.Name,
			Rule:           c.meta.rule,
			Severity:       c.meta.severity,
			Title:          c.title,
			Status:         event.StatusOpen,
			Group:          res.Group,
			Count:          res.Count,
			EventIDs:       slices.Clone(ids),
			FirstSeen:      res.First,
			LastSeen:       res.Last,
			Created:        now,
			Threat:         c.meta.threat,
			References:     c.meta.refs,
			FalsePositives: c.meta.fps,
			Matched:        correlationMatched(c, res),
		}
	})
}

// matchedFields records, for the selections that held, each field and the
// value the event had: what an analyst reads first.
func matchedFields(r *rule, ev *event.Event) map[string]string {
	out := map[string]string{}
	for i := range r.sels {
		s := &r.sels[i]
		for _, alt := range s.alts {
			if !allMatch(alt, ev) {
				continue
			}
			for j := range alt {
				it := &alt[j]
				for k, f := range it.ecs {
					if v := ev.Get(f); v.IsScalar() {
						out[it.paths[k]] = clip(v.Text(), 1024)
						break
					}
				}
			}
			break
		}
		if len(out) >= 32 {
			break
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

func correlationMatched(c *corrRule, res correlate.Result) map[string]string {
	m := map[string]string{"correlation.type": string(c.typ), "correlation.value": strconv.FormatFloat(res.Value, 'f', -1, 64)}
	if len(res.Rules) > 0 {
		m["correlation.rules"] = strings.Join(res.Rules, ",")
	}
	return m
}

// clip shortens s to at most n bytes on a rune boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return strings.Clone(s)
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n] + "…"
}
