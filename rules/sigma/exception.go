package sigma

import (
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/egovsoc/egovsoc/pipeline/event"
	"github.com/egovsoc/egovsoc/rules/sigma/match"
)

// An Exception drops the matches of some rules, for one organisation, on
// events a selection describes: a known scanner of the agency's own, a
// health check that looks like an attack. It has an owner, a reason and an
// expiry, so that exceptions are reviewed instead of piling up.
type Exception struct {
	ID      string
	Org     string   // the organisation it was granted for
	Orgs    []string // where it applies: Org and its subtree (filled by the caller from the catalogue)
	Rules   []string // rule ids (or names); empty: every rule
	Owner   string
	Reason  string
	Expires time.Time // zero: never (discouraged; lint warns)
	Created time.Time
	// Match is the selection, Sigma-style over ECS fields:
	// {source.ip: 10.1.2.3, url.path|startswith: /health}.
	Match map[string]any

	items []item
	hits  atomic.Int64
}

// Hits is how many matches the exception has dropped since it was loaded.
func (x *Exception) Hits() int64 { return x.hits.Load() }

// Exceptions is an immutable set of exceptions, indexed by organisation.
type Exceptions struct {
	list  []*Exception
	byOrg map[string][]*Exception
}

// NewExceptions compiles exceptions. Each needs an id, an organisation, an
// owner, a reason and a non-empty selection; the selection's fields are ECS
// paths and its values follow Sigma (modifiers, wildcards).
func NewExceptions(list []*Exception) (*Exceptions, error) {
	xs := &Exceptions{byOrg: map[string][]*Exception{}}
	ids := map[string]bool{}
	for _, x := range list {
		switch {
		case x.ID == "":
			return nil, fmt.Errorf("exception without an id")
		case ids[x.ID]:
			return nil, fmt.Errorf("exception %s: id used twice", x.ID)
		case x.Org == "":
			return nil, fmt.Errorf("exception %s: no organisation", x.ID)
		case x.Owner == "" || x.Reason == "":
			return nil, fmt.Errorf("exception %s: an owner and a reason are required", x.ID)
		case len(x.Match) == 0:
			return nil, fmt.Errorf("exception %s: an empty selection would hide every alert", x.ID)
		}
		ids[x.ID] = true
		items, err := compileECSSelection(x.Match)
		if err != nil {
			return nil, fmt.Errorf("exception %s: %w", x.ID, err)
		}
		x.items = items
		orgs := x.Orgs
		if len(orgs) == 0 {
			orgs = []string{x.Org}
		}
		for _, o := range orgs {
			xs.byOrg[o] = append(xs.byOrg[o], x)
		}
		xs.list = append(xs.list, x)
	}
	return xs, nil
}

// List returns the exceptions.
func (xs *Exceptions) List() []*Exception { return xs.list }

// drop reports whether an unexpired exception of org covers r's match on ev.
func (xs *Exceptions) drop(org string, r *rule, ev *event.Event, now time.Time) bool {
	for _, x := range xs.byOrg[org] {
		if !x.Expires.IsZero() && !now.Before(x.Expires) {
			continue
		}
		if len(x.Rules) > 0 && !slices.Contains(x.Rules, r.key) && (r.name == "" || !slices.Contains(x.Rules, r.name)) {
			continue
		}
		if allMatch(x.items, ev) {
			x.hits.Add(1)
			return true
		}
	}
	return false
}

// Matches reports whether the exception's selection holds for an event,
// whatever the rule and expiry: what a preview over past events counts.
func (x *Exception) Matches(ev *event.Event) bool { return allMatch(x.items, ev) }

// compileECSSelection compiles a map of ECS field (with |modifiers) to a
// value or list of values.
func compileECSSelection(sel map[string]any) ([]item, error) {
	keys := make([]string, 0, len(sel))
	for k := range sel {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var items []item
	for _, k := range keys {
		field, mods, _ := strings.Cut(k, "|")
		if field == "" {
			return nil, fmt.Errorf("%q: a field is required", k)
		}
		var modifiers []string
		if mods != "" {
			modifiers = strings.Split(mods, "|")
		}
		var vals []match.Value
		add := func(v any) error {
			mv, err := matchValue(v)
			if err != nil {
				return fmt.Errorf("%s: %w", k, err)
			}
			vals = append(vals, mv)
			return nil
		}
		if list, ok := sel[k].([]any); ok {
			for _, v := range list {
				if err := add(v); err != nil {
					return nil, err
				}
			}
		} else if err := add(sel[k]); err != nil {
			return nil, err
		}
		m, err := match.Compile(match.Spec{Fields: []string{field}, Modifiers: modifiers, Values: vals,
			RefFields: func(name string) []string { return []string{name} }})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		items = append(items, item{field: field, ecs: []event.Field{event.Path(field)}, paths: []string{field}, m: m})
	}
	return items, nil
}

// matchValue converts a YAML or JSON scalar to a match.Value.
func matchValue(v any) (match.Value, error) {
	switch v := v.(type) {
	case nil:
		return match.Value{Kind: match.Null}, nil
	case string:
		return match.Value{Kind: match.String, Raw: v}, nil
	case bool:
		return match.Value{Kind: match.Bool, Raw: fmt.Sprint(v)}, nil
	case int, int64, uint64, float64:
		return match.Value{Kind: match.Number, Raw: fmt.Sprint(v)}, nil
	}
	return match.Value{}, fmt.Errorf("a value must be a string, number, bool or null, not %T", v)
}

// exceptionFile is the YAML form of exceptions (the file socd watches).
type exceptionFile struct {
	Exceptions []struct {
		ID      string         `yaml:"id"`
		Org     string         `yaml:"org"`
		Rules   []string       `yaml:"rules"`
		Owner   string         `yaml:"owner"`
		Reason  string         `yaml:"reason"`
		Expires string         `yaml:"expires"`
		Created string         `yaml:"created"`
		Match   map[string]any `yaml:"match"`
	} `yaml:"exceptions"`
}

// ParseExceptions reads exceptions from YAML. subtree, when not nil, gives
// the organisations under one (itself included) that an exception covers.
func ParseExceptions(data []byte, subtree func(org string) []string) (*Exceptions, error) {
	var f exceptionFile
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil && err.Error() != "EOF" {
		return nil, fmt.Errorf("exceptions: %w", err)
	}
	var list []*Exception
	for _, e := range f.Exceptions {
		x := &Exception{ID: e.ID, Org: e.Org, Rules: e.Rules, Owner: e.Owner, Reason: e.Reason, Match: e.Match}
		for _, tv := range []struct {
			s   string
			dst *time.Time
			n   string
		}{{e.Expires, &x.Expires, "expires"}, {e.Created, &x.Created, "created"}} {
			if tv.s == "" {
				continue
			}
			t, err := parseDay(tv.s)
			if err != nil {
				return nil, fmt.Errorf("exception %s: %s: %w", e.ID, tv.n, err)
			}
			*tv.dst = t
		}
		if subtree != nil {
			x.Orgs = subtree(e.Org)
		}
		list = append(list, x)
	}
	return NewExceptions(list)
}

// parseDay accepts RFC 3339 or a date (midnight UTC).
func parseDay(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Parse(time.DateOnly, s)
}
