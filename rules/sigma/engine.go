package sigma

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/egovsoc/egovsoc/pipeline/event"
	"github.com/egovsoc/egovsoc/rules/sigma/correlate"
)

// Options configure an Engine. The zero value works.
type Options struct {
	// Name is the detector's name in alerts (event.provider); "sigma".
	Name string
	// Suppress folds repeated alerts of a rule about the same group within
	// this window into one alert with a count (default 10 minutes; a
	// negative window raises an alert per match).
	Suppress time.Duration
	// GroupFields are the ECS fields an alert of a single-event rule is
	// about, and so what suppression groups by; default source.ip,
	// destination.ip, user.name, host.name (those present).
	GroupFields []string
	// MaxFolds bounds the alerts being folded at once (default 100,000).
	MaxFolds int
	// Lateness is how late (in event time) an event may arrive and still
	// count in a correlation window (default 1 minute).
	Lateness time.Duration
	// MaxGroups bounds correlation groups per stream (default 200,000).
	MaxGroups int
	// StateDir, when set, keeps correlation and suppression state across
	// restarts: written every SaveEvery and on Close, read back when a
	// stream is first seen.
	StateDir  string
	SaveEvery time.Duration
	Logger    zerolog.Logger
	// Now is the clock for alert creation times and exception expiry.
	Now func() time.Time

	// bruteForce evaluates every routed rule, skipping the index: what
	// the index soundness test compares with.
	bruteForce bool
}

func (o *Options) defaults() {
	if o.Name == "" {
		o.Name = "sigma"
	}
	if o.Suppress == 0 {
		o.Suppress = 10 * time.Minute
	}
	if len(o.GroupFields) == 0 {
		o.GroupFields = []string{"source.ip", "destination.ip", "user.name", "host.name"}
	}
	if o.MaxFolds <= 0 {
		o.MaxFolds = 100_000
	}
	if o.Lateness <= 0 {
		o.Lateness = time.Minute
	}
	if o.MaxGroups <= 0 {
		o.MaxGroups = 200_000
	}
	if o.SaveEvery <= 0 {
		o.SaveEvery = 30 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// Engine is the Sigma detector: it evaluates a RuleSet on batches of events
// (ingest.Detector), keeps correlation state per stream, folds repeated
// alerts, and drops what exceptions say to. Its rule set and exceptions are
// swapped atomically while it runs (hot reload).
type Engine struct {
	opt         Options
	rs          atomic.Pointer[RuleSet]
	exc         atomic.Pointer[Exceptions]
	groupFields []event.Field

	mu      sync.Mutex
	streams map[string]*stream

	folds   *folder
	workers sync.Pool

	stats engineStats
}

// stream is the state of one bus partition: its correlations.
type stream struct {
	mu    sync.Mutex
	name  string
	rs    *RuleSet // the rule set corr was built for
	corr  *correlate.Engine
	saved time.Time
	dirty bool
}

type engineStats struct {
	events, matches, alerts, excepted, panics, late atomic.Int64
}

// Stats are an engine's counters since it started.
type Stats struct {
	Events   int64 // events examined
	Matches  int64 // rule matches (before exceptions and folding)
	Alerts   int64 // alerts emitted, updates of folded alerts included
	Excepted int64 // matches dropped by an exception
	Panics   int64 // events a rule failed on (reported, skipped)
	Folds    int   // alerts being folded now
	Evicted  int64 // folds given up early to stay within MaxFolds
	Streams  int
	Rules    int
	Version  string // of the rule set in use
}

// New starts an engine on a rule set.
func New(rs *RuleSet, opt Options) *Engine {
	opt.defaults()
	e := &Engine{opt: opt, streams: map[string]*stream{}}
	for _, f := range opt.GroupFields {
		e.groupFields = append(e.groupFields, event.Path(f))
	}
	e.folds = newFolder(opt.MaxFolds, opt.Suppress)
	e.rs.Store(rs)
	e.exc.Store(&Exceptions{})
	e.workers.New = func() any { return newWorker() }
	if opt.StateDir != "" {
		if err := e.loadFolds(); err != nil {
			opt.Logger.Warn().Err(err).Msg("sigma: suppression state not restored")
		}
	}
	return e
}

// Name implements ingest.Detector.
func (e *Engine) Name() string { return e.opt.Name }

// RuleSet returns the rule set in use.
func (e *Engine) RuleSet() *RuleSet { return e.rs.Load() }

// Swap replaces the rule set. Batches being examined finish on the old
// one; correlation windows in progress carry over to the new one for every
// correlation that is unchanged.
func (e *Engine) Swap(rs *RuleSet) {
	old := e.rs.Swap(rs)
	e.opt.Logger.Info().Str("from", old.Version()).Str("to", rs.Version()).Int("rules", rs.Len()).Msg("sigma: rule set swapped")
}

// SetExceptions replaces the exceptions.
func (e *Engine) SetExceptions(x *Exceptions) {
	if x == nil {
		x = &Exceptions{}
	}
	e.exc.Store(x)
}

// Exceptions returns the exceptions in use.
func (e *Engine) Exceptions() *Exceptions { return e.exc.Load() }

// Stats returns the engine's counters.
func (e *Engine) Stats() Stats {
	rs := e.rs.Load()
	e.mu.Lock()
	n := len(e.streams)
	e.mu.Unlock()
	folds, evicted := e.folds.stats()
	return Stats{
		Events: e.stats.events.Load(), Matches: e.stats.matches.Load(), Alerts: e.stats.alerts.Load(),
		Excepted: e.stats.excepted.Load(), Panics: e.stats.panics.Load(),
		Folds: folds, Evicted: evicted, Streams: n, Rules: rs.Len(), Version: rs.Version(),
	}
}

// worker is the scratch space of one Detect call; pooled, so examining an
// event allocates nothing but the alerts it raises.
type worker struct {
	x      evalCtx
	sig    []byte
	routes map[string][]*group
	rs     *RuleSet // the set routes were cached for
	marks  []uint32
	stamp  uint32
	pats   []int32  // index patterns found in a field's values
	evals  []uint32 // per rule of rs: evaluations in this batch
	hits   []uint32 // per rule of rs: matches in this batch
	obs    []string
	folded []*fold
	batch  uint64 // the batch being examined (unique per Detect call)

	// The time of the event being examined, read once when a rule first
	// matches it, and the newest read in the batch.
	timed   bool
	t       time.Time
	maxTime time.Time
}

// eventTime reads the time of the event being examined, once.
func (w *worker) eventTime(ev *event.Event, now time.Time) time.Time {
	if w.timed {
		return w.t
	}
	w.timed = true
	t, err := ev.Time()
	switch {
	case err != nil && !w.maxTime.IsZero():
		t = w.maxTime // no time of its own: as late as what came before it
	case err != nil:
		t = now // nor anything before it: the alert needs a time, the watermark does not
	case t.After(w.maxTime):
		w.maxTime = t
	}
	w.t = t
	return t
}

func newWorker() *worker { return &worker{routes: map[string][]*group{}} }

func (w *worker) use(rs *RuleSet) {
	if w.rs != rs {
		w.rs = rs
		clear(w.routes)
		w.evals = make([]uint32, rs.Len())
		w.hits = make([]uint32, rs.Len())
	}
}

// Detect implements ingest.Detector: it examines a batch and returns the
// alerts it raised, and the updated counts of alerts it folded into.
func (e *Engine) Detect(ctx context.Context, b event.Batch) ([]event.Alert, error) {
	rs := e.rs.Load()
	w := e.workers.Get().(*worker)
	defer e.workers.Put(w)
	w.use(rs)
	st := e.stream(b.Stream, rs)
	st.mu.Lock()
	defer st.mu.Unlock()

	w.batch = batchSeq.Add(1)
	var out []event.Alert
	exc := e.exc.Load()
	now := e.opt.Now()
	// An event's time is read when a rule matches it (most events match
	// none); event time moves on with the newest time read, and with the
	// batch's last event, which a partition's order makes the newest.
	w.maxTime = time.Time{}
	for i, ev := range b.Events {
		if i%256 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		id := ""
		if i < len(b.IDs) {
			id = b.IDs[i]
		}
		w.timed = false
		e.examine(w, rs, st, exc, b.Org, ev, id, now)
	}
	if n := len(b.Events); n > 0 {
		if t, err := b.Events[n-1].Time(); err == nil && t.After(w.maxTime) {
			w.maxTime = t
		}
	}
	maxTime := w.maxTime
	e.stats.events.Add(int64(len(b.Events)))
	if st.corr != nil && !maxTime.IsZero() {
		for _, res := range st.corr.Advance(maxTime) {
			e.correlationAlert(w, rs, b.Org, res, now)
		}
		st.dirty = true
	}
	// The alerts raised or grown in this batch, each once.
	out = e.folds.flush(w, out)
	rs.addCounts(w.evals, w.hits)
	clear(w.evals)
	clear(w.hits)
	e.stats.alerts.Add(int64(len(out)))
	e.maybeSave(st, now)
	return out, nil
}

// examine runs the rules of e's routes on one event.
func (e *Engine) examine(w *worker, rs *RuleSet, st *stream, exc *Exceptions, org string, ev *event.Event, id string, now time.Time) {
	defer func() {
		if p := recover(); p != nil {
			e.stats.panics.Add(1)
			e.opt.Logger.Error().Str("event", id).Str("rule", w.x.r.key).Str("panic", fmt.Sprint(p)).Msg("sigma: rule failed on an event; skipped")
		}
	}()
	eval := func(r *rule) {
		w.evals[r.idx]++
		w.x.reset(r, ev)
		if !r.cond.eval(&w.x) {
			return
		}
		t := w.eventTime(ev, now)
		w.hits[r.idx]++
		e.stats.matches.Add(1)
		if exc.drop(org, r, ev, now) {
			e.stats.excepted.Add(1)
			return
		}
		if r.corrUsed && st.corr != nil {
			st.dirty = true
			w.obs = w.obs[:0]
			for _, fs := range r.corr {
				w.obs = append(w.obs, firstText(ev, fs))
			}
			for _, cr := range st.corr.Observe(correlate.Observation{Rule: r.key, Time: t, EventID: id, Values: w.obs}) {
				e.correlationAlert(w, rs, org, cr, now)
			}
		}
		if r.alert {
			e.ruleAlert(w, r, org, ev, id, t, now)
		}
	}
	for _, g := range rs.router.groupsOf(ev, w, rs) {
		if e.opt.bruteForce {
			g.all(ev, w, eval)
		} else {
			g.candidates(ev, w, eval)
		}
	}
}

// firstText is the first value of the first of fields the event has.
func firstText(ev *event.Event, fields []event.Field) string {
	for _, f := range fields {
		if v := ev.Get(f); v.IsScalar() {
			return strings.Clone(v.Text())
		}
	}
	return ""
}
