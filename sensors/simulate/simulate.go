// Package simulate plays a nation of e-government sites for `socd demo`: a
// sensor at each of dozens of ministries and provinces from the catalogue,
// producing the ECS events and availability checks such a sensor would send
// — nginx access logs of the site's portals, DNS queries, logins, network
// flows, mail — with attacks (SSH brute force, password spraying, web
// scanning and injection, port scans, DNS tunnelling) and service outages
// scheduled through it, so that every minute of a demo has something for the
// detectors and the availability board to find.
//
// Everything is deterministic: the same Seed and the same sequence of Step
// times give byte-identical records, and every event carries an event.id
// derived from its site, its sequence and its time, so a replayed batch
// overwrites instead of duplicating. Attack, check and outage content is a
// function of time alone, and each site's background is a Poisson process
// drawn from its own generator, so cutting the same span of time into
// different steps gives the same events.
//
// Addresses are drawn from ranges reserved for documentation and testing
// (RFC 5737, RFC 2544, RFC 3849) and from private ranges, and attacker
// domains are under .example, so the demo names no real host on the
// internet as a client or an attacker.
//
// The simulator hands records to a callback; it must never import the bus,
// Kafka or a store.
package simulate

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/egovsoc/egovsoc/pipeline/catalog"
	"github.com/egovsoc/egovsoc/pipeline/event"
)

// Record is one document the simulator produced, for the topic of Org.
type Record struct {
	// Org is the organisation code of the site: the record belongs on
	// soc.checks.<Org> when Check is set and on soc.events.<Org> otherwise.
	Org   string
	Check bool
	// Key is the partition key: the host or flow the record is about, so
	// events that a stateful rule must see together share a partition.
	Key []byte
	// Value is one ECS JSON document (deliberately malformed for a small
	// fraction of records; see Options.Malformed).
	Value []byte
	// Time is the event time, the document's @timestamp.
	Time time.Time
}

// Defaults for Options.
const (
	DefaultSites     = 40
	DefaultRate      = 400
	DefaultTick      = 250 * time.Millisecond
	DefaultMalformed = 0.001
)

// maxGap bounds the span one Step generates: after a longer pause (the
// process was stopped, emit kept failing) the sites resume at now-maxGap,
// as sensors that were switched off for the gap.
const maxGap = time.Minute

// Options configure a Simulator. Zero values take the defaults.
type Options struct {
	// Catalog lists the organisations and services to play (required).
	Catalog *catalog.Catalog
	// Sites is how many sites to play, chosen by Seed among the ministries
	// and provinces of the catalogue (default 40; all of them if the
	// catalogue has fewer).
	Sites int
	// Rate is the background events per second over all sites (default 400).
	Rate float64
	// Seed makes the simulation reproducible.
	Seed int64
	// Tick is how often Run emits a batch (default 250ms).
	Tick time.Duration
	// Malformed is the fraction of records deliberately malformed, to
	// exercise the dead-letter path (default 0.001; negative for none).
	Malformed float64
	// Logger receives the simulator's own log (attacks started, emit
	// retries). The zero Logger writes nothing.
	Logger zerolog.Logger
}

// Simulator plays the sites. Step and Run may be called from one goroutine
// at a time; Step holds a lock, so concurrent calls are safe but interleave.
type Simulator struct {
	log       zerolog.Logger
	seed      uint64
	tick      time.Duration
	malformed float64
	sites     []*site
	probed    []*catalog.Service // every service some site probes, for outages
	eligible  int

	mu       sync.Mutex
	started  bool
	start    time.Time // the simulation's origin: schedules count from it
	last     time.Time // end of the last step
	attacks  []*attack // materialised, not yet over
	nextSlot int       // next attack slot to materialise
}

// New validates the options and builds the sites.
func New(opts Options) (*Simulator, error) {
	if opts.Catalog == nil {
		return nil, errors.New("simulate: Options.Catalog is required")
	}
	switch {
	case opts.Sites < 0:
		return nil, fmt.Errorf("simulate: Options.Sites is %d, want a positive number", opts.Sites)
	case opts.Sites == 0:
		opts.Sites = DefaultSites
	}
	switch {
	case math.IsNaN(opts.Rate) || math.IsInf(opts.Rate, 0) || opts.Rate < 0:
		return nil, fmt.Errorf("simulate: Options.Rate is %g, want a positive number of events per second", opts.Rate)
	case opts.Rate == 0:
		opts.Rate = DefaultRate
	}
	switch {
	case opts.Tick < 0:
		return nil, fmt.Errorf("simulate: Options.Tick is %s, want a positive duration", opts.Tick)
	case opts.Tick == 0:
		opts.Tick = DefaultTick
	}
	switch {
	case math.IsNaN(opts.Malformed) || opts.Malformed >= 1:
		return nil, fmt.Errorf("simulate: Options.Malformed is %g, want a fraction below 1", opts.Malformed)
	case opts.Malformed == 0:
		opts.Malformed = DefaultMalformed
	case opts.Malformed < 0:
		opts.Malformed = 0
	}

	var eligible []*catalog.Org
	for _, o := range opts.Catalog.Sites() {
		if o.Kind == catalog.KindMinistry || o.Kind == catalog.KindProvince {
			eligible = append(eligible, o)
		}
	}
	if len(eligible) == 0 {
		return nil, errors.New("simulate: the catalogue has no ministries or provinces to play")
	}
	if opts.Sites > len(eligible) {
		opts.Logger.Warn().Int("sites", opts.Sites).Int("eligible", len(eligible)).
			Msg("fewer ministries and provinces in the catalogue than sites asked for; playing them all")
		opts.Sites = len(eligible)
	}
	s := &Simulator{
		log:       opts.Logger,
		seed:      uint64(opts.Seed),
		tick:      opts.Tick,
		malformed: opts.Malformed,
		eligible:  len(eligible),
	}

	// Choose the sites by seed, then play them in catalogue order.
	pick := rand.New(rand.NewPCG(s.seed, saltSites))
	order := pick.Perm(len(eligible))[:opts.Sites]
	slices.Sort(order)
	national := probeable(opts.Catalog.Root().Services)
	var weights float64
	for _, i := range order {
		st := newSite(s.seed, i, eligible[i], national)
		s.sites = append(s.sites, st)
		weights += st.weight
	}
	for _, st := range s.sites {
		st.rate = opts.Rate * st.weight / weights
	}

	seen := map[string]bool{}
	for _, st := range s.sites {
		for _, p := range st.probes {
			if !seen[p.svc.ID] {
				seen[p.svc.ID] = true
				s.probed = append(s.probed, p.svc)
			}
		}
	}
	slices.SortFunc(s.probed, func(a, b *catalog.Service) int { return cmp.Compare(a.ID, b.ID) })
	return s, nil
}

// Sites returns the organisation codes played, in catalogue order.
func (s *Simulator) Sites() []string {
	codes := make([]string, len(s.sites))
	for i, st := range s.sites {
		codes[i] = st.code
	}
	return codes
}

// Step generates the records for the interval ending at now: from the end of
// the previous step (for the first step, from now minus Tick, which is also
// the origin the attack and outage schedules count from) up to and including
// now, at most the last minute of it. A now not after the previous one gives
// nothing. The records are ordered by time and are the caller's. Given the
// Seed and the sequence of now values, the records are always the same.
func (s *Simulator) Step(now time.Time) []Record {
	now = now.Round(0) // wall clock only, so replays compare alike
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.started {
		s.started = true
		s.start = now.Add(-s.tick)
		s.last = s.start
		for _, st := range s.sites {
			st.next = s.start.Add(st.gap())
		}
	}
	if !now.After(s.last) {
		return nil
	}
	from := s.last
	if now.Sub(from) > maxGap {
		from = now.Add(-maxGap)
		for _, st := range s.sites {
			if st.next.Before(from) {
				st.next = from.Add(st.gap())
			}
		}
	}
	s.last = now

	out := make([]Record, 0, s.expected(now.Sub(from)))
	for _, st := range s.sites {
		for !st.next.After(now) {
			out = append(out, s.background(st, st.next))
			st.next = st.next.Add(st.gap())
		}
	}
	out = s.attackRecords(out, from, now)
	out = s.checkRecords(out, from, now)
	slices.SortFunc(out, func(a, b Record) int {
		if c := a.Time.Compare(b.Time); c != 0 {
			return c
		}
		return cmp.Compare(a.Org, b.Org)
	})
	return out
}

// expected guesses the records of a span, to size the batch.
func (s *Simulator) expected(d time.Duration) int {
	var rate float64
	for _, st := range s.sites {
		rate += st.rate
	}
	return int(rate*d.Seconds()*1.1) + 64
}

// Run emits a batch every Tick until ctx is cancelled, and then returns nil.
// emit must return only once the batch is acknowledged; when it fails, Run
// logs, waits and retries the same batch, until it succeeds or ctx is
// cancelled (the batch in hand is then dropped: it is simulated, and the
// next run simulates afresh). While emit is failing no new batch is made;
// the next one covers the time since the last, up to a minute.
func (s *Simulator) Run(ctx context.Context, emit func(context.Context, []Record) error) error {
	if emit == nil {
		return errors.New("simulate: Run needs an emit function")
	}
	s.log.Info().Int("sites", len(s.sites)).Dur("tick", s.tick).Msg("simulating sites")
	t := time.NewTicker(s.tick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		batch := s.Step(time.Now())
		if len(batch) == 0 {
			continue
		}
		if !s.deliver(ctx, emit, batch) {
			return nil
		}
	}
}

// deliver emits the batch until it is acknowledged; false if ctx ended first.
func (s *Simulator) deliver(ctx context.Context, emit func(context.Context, []Record) error, batch []Record) bool {
	wait := 100 * time.Millisecond
	for attempt := 1; ; attempt++ {
		err := emit(ctx, batch)
		if err == nil {
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		s.log.Warn().Err(err).Int("records", len(batch)).Int("attempt", attempt).Dur("retry_in", wait).Msg("emit simulated batch")
		select {
		case <-ctx.Done():
			return false
		case <-time.After(wait):
		}
		wait = min(2*wait, 5*time.Second)
	}
}

// Salts separate the random streams derived from one seed.
const (
	saltSites   = 0x5173_5173
	saltSite    = 0x7369_7465
	saltAttack  = 0x6174_7461
	saltKinds   = 0x6b69_6e64
	saltRound   = 0x726f_756e
	saltOutage  = 0x6f75_7467
	saltImpair  = 0x696d_7061
	saltCheck   = 0x6368_6563
	saltMalform = 0x6d61_6c66
)

// finish turns a document into a record, malformed at the configured rate.
// Whether a record is malformed, and how, depends only on its id.
func (s *Simulator) finish(org, id string, key string, t time.Time, value []byte, check bool) Record {
	if s.malformed > 0 {
		h := mix(hashString(id), saltMalform^s.seed)
		if unit(h) < s.malformed {
			value = malform(value, h, check)
		}
	}
	return Record{Org: org, Check: check, Key: []byte(key), Value: value, Time: t}
}

// malform damages a document in one of the ways real senders do: cut short
// (a truncated write), or a known field with a value of the wrong type.
func malform(v []byte, h uint64, check bool) []byte {
	switch (h >> 8) % 3 {
	case 0:
		n := len(v) / 4
		n += int((h >> 16) % uint64(len(v)/2+1))
		return v[:n]
	case 1:
		if check {
			return replaceValue(v, `"us":`, `"slow"`)
		}
		if out := replaceValue(v, `"source":{"ip":`, `"not-an-ip"`); out != nil {
			return out
		}
	}
	return replaceValue(v, `"@timestamp":`, `"hôm qua"`)
}

// replaceValue replaces the JSON scalar after the first occurrence of
// prefix with repl; nil if prefix is absent.
func replaceValue(v []byte, prefix, repl string) []byte {
	i := bytes.Index(v, []byte(prefix))
	if i < 0 {
		return nil
	}
	start := i + len(prefix)
	end := start
	if end < len(v) && v[end] == '"' {
		end++
		for end < len(v) && v[end] != '"' {
			if v[end] == '\\' {
				end++
			}
			end++
		}
		end++
	} else {
		for end < len(v) && v[end] != ',' && v[end] != '}' && v[end] != ']' {
			end++
		}
	}
	out := make([]byte, 0, len(v)+len(repl))
	out = append(out, v[:start]...)
	out = append(out, repl...)
	return append(out, v[end:]...)
}

// eventID names an event of a site deterministically: the same site, stream,
// sequence and time always give the same id, so a replay overwrites.
func eventID(org, stream string, seq uint64, ts string) string {
	var n [20]byte
	return event.ID("simulate", org, stream, string(strconv.AppendUint(n[:0], seq, 10)), ts)
}
