package sigma

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/egovsoc/egovsoc/rules/sigma/correlate"
	"github.com/egovsoc/egovsoc/rules/sigma/mapping"
)

// RuleSet is a compiled, immutable set of Sigma rules, filters and
// correlations: routed by log source and indexed by the literals rules
// need. It is shared by every worker of an Engine and swapped whole on
// reload.
type RuleSet struct {
	version string
	mapping *mapping.Mapping

	rules  []*rule
	byKey  map[string]*rule // by id and by name
	router router
	groups []*group

	corrSpecs []correlate.Spec
	corrByID  map[string]*corrRule
	corrOpts  correlate.Options

	counts []ruleCounts
	report *Report

	mergeMu sync.Mutex
	merges  map[string]*mergedGroup // by the indexes of the groups merged
}

// mergedGroup is built once, by the first worker that needs it.
type mergedGroup struct {
	once sync.Once
	g    []*group
}

// maxMerges bounds the merged groups a rule set builds: events take few
// distinct combinations of routes (a Sysmon process event is a process
// creation, a Sysmon event and a Windows event); past the bound the groups
// are scanned one by one.
var maxMerges = 256

// merged returns the groups for a combination of routes: one group holding
// the rules of all of them, indexed together, so an event's fields are
// scanned once instead of once per route.
func (rs *RuleSet) merged(idx []int32) []*group {
	switch len(idx) {
	case 0:
		return nil
	case 1:
		return []*group{rs.groups[idx[0]]}
	}
	key := fmt.Sprint(idx)
	rs.mergeMu.Lock()
	if rs.merges == nil {
		rs.merges = map[string]*mergedGroup{}
	}
	m := rs.merges[key]
	if m == nil {
		if len(rs.merges) >= maxMerges {
			rs.mergeMu.Unlock()
			out := make([]*group, len(idx))
			for i, gi := range idx {
				out[i] = rs.groups[gi]
			}
			return out
		}
		m = &mergedGroup{}
		rs.merges[key] = m
	}
	rs.mergeMu.Unlock()
	m.once.Do(func() {
		var rules []*rule
		for _, gi := range idx {
			rules = append(rules, rs.groups[gi].rules...)
		}
		m.g = []*group{buildGroup(rules)}
	})
	return m.g
}

// corrRule is what an alert of a correlation rule needs.
type corrRule struct {
	key, name, title string
	typ              correlate.Type
	meta             alertMeta
	alert            bool
	src              Source
}

type ruleCounts struct{ evals, hits atomic.Int64 }

// Version identifies the rule set: a digest of every rule's source and the
// field mapping's version. Alerts and logs name it.
func (rs *RuleSet) Version() string {
	if rs == nil {
		return ""
	}
	return rs.version
}

// Len is the number of detection rules (correlations not counted).
func (rs *RuleSet) Len() int {
	if rs == nil {
		return 0
	}
	return len(rs.rules)
}

// Correlations is the number of correlation rules.
func (rs *RuleSet) Correlations() int { return len(rs.corrSpecs) }

// Report is what loading found: counts and every rejected rule.
func (rs *RuleSet) Report() *Report { return rs.report }

// RuleStat is how often one rule was evaluated and matched.
type RuleStat struct {
	ID, Title string
	Source    Source
	Evals     int64 // events the rule was evaluated on (not skipped by the index)
	Hits      int64 // matches
	Indexed   bool  // whether the index can skip it
}

// RuleStats reports every detection rule's counters.
func (rs *RuleSet) RuleStats() []RuleStat {
	out := make([]RuleStat, len(rs.rules))
	for i, r := range rs.rules {
		out[i] = RuleStat{ID: r.key, Title: r.title, Source: r.src, Evals: rs.counts[i].evals.Load(), Hits: rs.counts[i].hits.Load(), Indexed: r.indexed}
	}
	return out
}

func (rs *RuleSet) addCounts(evals, hits []uint32) {
	for i, n := range evals {
		if n != 0 {
			rs.counts[i].evals.Add(int64(n))
		}
	}
	for i, n := range hits {
		if n != 0 {
			rs.counts[i].hits.Add(int64(n))
		}
	}
}

// newRuleSet indexes compiled rules and correlations.
func newRuleSet(m *mapping.Mapping, rules []*rule, corrs []*corrRule, specs []correlate.Spec, digest []byte, rep *Report) *RuleSet {
	rs := &RuleSet{mapping: m, rules: rules, byKey: map[string]*rule{}, corrByID: map[string]*corrRule{}, corrSpecs: specs, report: rep}
	h := sha256.New()
	h.Write(digest)
	h.Write([]byte(m.Version()))
	rs.version = hex.EncodeToString(h.Sum(nil))[:16]
	for i, r := range rules {
		r.idx = i
		rs.byKey[r.key] = r
		if r.name != "" {
			rs.byKey[r.name] = r
		}
	}
	for _, c := range corrs {
		rs.corrByID[c.key] = c
	}
	// One group per distinct route, rules in load order.
	byRoute := map[string]int{}
	var routes []mapping.Route
	var members [][]*rule
	for _, r := range rules {
		k := r.route.Key()
		gi, ok := byRoute[k]
		if !ok {
			gi = len(routes)
			byRoute[k] = gi
			routes = append(routes, r.route)
			members = append(members, nil)
		}
		members[gi] = append(members[gi], r)
	}
	rs.router = newRouter(routes)
	for _, m := range members {
		rs.groups = append(rs.groups, buildGroup(m))
	}
	rs.counts = make([]ruleCounts, len(rules))
	return rs
}

// IndexStats says how well the index covers the rules: how many can be
// skipped for events that lack their literals, and how many are evaluated
// for every event of their log source.
func (rs *RuleSet) IndexStats() (indexed, always, groups, patterns int) {
	for _, g := range rs.groups {
		always += len(g.always)
		for _, f := range g.fields {
			patterns += len(f.hits)
		}
	}
	return len(rs.rules) - always, always, len(rs.groups), patterns
}

// Rule describes one loaded detection or correlation rule.
type Rule struct {
	ID, Name, Title string
	Level           string
	Correlation     bool
	Source          Source
	Author          string
	Tags            []string
	LogSource       mapping.LogSource
	Alerts          bool // raises alerts of its own
}

// Rules lists the loaded rules, detection rules first, in load order.
func (rs *RuleSet) Rules() []Rule {
	out := make([]Rule, 0, len(rs.rules)+len(rs.corrByID))
	for _, r := range rs.rules {
		out = append(out, Rule{ID: r.key, Name: r.name, Title: r.title, Level: string(r.meta.severity), Source: r.src,
			Author: r.meta.rule.Author, Tags: r.meta.rule.Tags, LogSource: r.logsource, Alerts: r.alert})
	}
	keys := make([]string, 0, len(rs.corrByID))
	for k := range rs.corrByID {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		c := rs.corrByID[k]
		out = append(out, Rule{ID: c.key, Name: c.name, Title: c.title, Level: string(c.meta.severity), Correlation: true, Source: c.src,
			Author: c.meta.rule.Author, Tags: c.meta.rule.Tags, Alerts: c.alert})
	}
	return out
}

// String summarises the set for logs.
func (rs *RuleSet) String() string {
	ix, al, g, p := rs.IndexStats()
	return fmt.Sprintf("%d rules (%d indexed, %d always evaluated) in %d routes, %d index patterns, %d correlations, version %s",
		len(rs.rules), ix, al, g, p, len(rs.corrSpecs), rs.version)
}
