package elastic

import (
	"fmt"
	"strings"
	"time"

	"github.com/egovsoc/egovsoc/pipeline/event"
	"github.com/egovsoc/egovsoc/pipeline/store"
)

// The layout in the cluster, for a prefix p:
//
//	p-events             data stream of events (ILM policy p-events)
//	p-checks             data stream of check results (ILM policy p-checks)
//	p-alerts-YYYY.MM.01  one regular index per month in which alerts were
//	                     first seen (ILM policy p-alerts)
//
// One data stream per kind, not one per organisation: there are hundreds of
// organisations (ministries, provinces, their agencies), most of them small,
// and a data stream each would mean thousands of small shards, which is what
// Elasticsearch sizes worst (every shard costs heap and cluster state, and a
// national query would fan out to all of them). Scopes are subtrees of the
// catalogue, so a query names many organisations anyway. Tenancy is
// therefore a terms filter on the owning organisation (a keyword; see
// orgField) that every query carries, and the organisation it holds is
// always Doc.Org, the one the store was told (from the Kafka topic), never
// what the payload claims.
//
// Alerts are not a data stream. Triage updates them later, and a folding
// detector emits one alert again and again with a higher count and a later
// @timestamp, so they are written create-if-absent, and merged into the
// stored alert when the create finds one (merge.go), so that neither a
// replay nor a re-emission undoes a triage. In a data stream, "create" only
// checks the current write index: after a rollover a replayed alert would
// be created a second time. Monthly indices named by a time that no
// emission of an alert id changes — its first-seen time (event.start), or
// its @timestamp when it has none — put every emission and replay of an
// alert in the same index, so the create meets the stored alert exactly.
// (@timestamp would not do: a folded alert's moves on, possibly into the
// next month.) The month is in the name in the yyyy.MM.dd form that
// index.lifecycle.parse_origination_date reads, so the lifecycle counts an
// index's age from its month, not from when it happened to be created (a
// replay of last year's alerts does not keep them another year). Events
// and checks are append-only, by far the largest, and ideal for data
// streams; a replay that straddles a rollover can duplicate an event in the
// new backing index, which the at-least-once contract allows.
//
// Events are stored as they were written, so that a hit's Source is the
// document, plus one object the store owns, egovsoc_store: the organisation
// the store was told (Doc.Org) and the document id. Tenancy filters and the
// tiebreak of the event sort use those two, never the payload, whose
// organization.id or event.id may be absent or claimed by the sender.
// Reads leave egovsoc_store out of the source they return (source
// filtering), and a written event that carries egovsoc_store itself is
// rejected. Keeping it in _source (rather than excluding it in the mapping)
// keeps it through a reindex. Alerts and checks are rendered by the store
// from their Go types, so their organization.id and event.id are set from
// the Doc and serve the same purposes; they carry no egovsoc_store in
// _source, so a triage that updates an alert cannot lose it.
const (
	templateVersion = 1
	// ignoreAbove keeps very long keyword values (command lines, URLs) out
	// of the index while they stay in _source.
	ignoreAbove = 1024

	storeObject = "egovsoc_store"
	storeOrg    = "egovsoc_store.org"
	storeID     = "egovsoc_store.id"
	// textField is where the words Text searches are copied (copy_to); it
	// is indexed only, never in _source.
	textField = "egovsoc_store.text"
)

// eventTextFields are the keyword fields, besides message, whose words an
// event query's Text finds: the fields an analyst types (the same as
// store/sqlite's).
var eventTextFields = []string{
	"error.message", "event.action", "event.reason", "host.name", "user.name",
	"process.name", "process.command_line", "file.path", "url.original",
	"url.domain", "dns.question.name", "user_agent.original", "rule.name",
}

// orgField is the field that holds the owning organisation of a kind.
func orgField(k store.Kind) string {
	if k == store.KindEvent {
		return storeOrg
	}
	return "organization.id"
}

func dataStreamName(prefix string, k store.Kind) string {
	switch k {
	case store.KindEvent:
		return prefix + "-events"
	case store.KindCheck:
		return prefix + "-checks"
	}
	return prefix + "-alerts"
}

// alertIndex names the monthly alert index of an alert first seen at t (or
// stamped t, when it has no first-seen time).
func alertIndex(prefix string, t time.Time) string {
	t = t.UTC()
	return fmt.Sprintf("%s-alerts-%04d.%02d.01", prefix, t.Year(), int(t.Month()))
}

// searchTarget is the index expression a read of kind k searches.
func searchTarget(prefix string, k store.Kind) string {
	if k == store.KindAlert {
		return prefix + "-alerts-*"
	}
	return dataStreamName(prefix, k)
}

// object is a JSON object under construction.
type object = map[string]any

// esDuration writes d in Elasticsearch time units, exactly.
func esDuration(d time.Duration) string {
	switch {
	case d%(24*time.Hour) == 0:
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	case d%time.Second == 0:
		return fmt.Sprintf("%ds", d/time.Second)
	}
	return fmt.Sprintf("%dms", d/time.Millisecond)
}

// policies returns the lifecycle policies by name.
func (s *Store) policies() map[string]object {
	meta := object{"managed_by": "egovsoc", "version": templateVersion}
	rollover := object{
		"max_age":                esDuration(s.cfg.RolloverMaxAge),
		"max_primary_shard_size": s.cfg.RolloverMaxPrimaryShardSize,
	}
	stream := func(retention time.Duration) object {
		return object{"policy": object{
			"_meta": meta,
			"phases": object{
				"hot":    object{"min_age": "0ms", "actions": object{"rollover": rollover}},
				"delete": object{"min_age": esDuration(retention), "actions": object{"delete": object{}}},
			},
		}}
	}
	p := s.cfg.Prefix
	return map[string]object{
		p + "-events": stream(s.cfg.EventRetention),
		p + "-checks": stream(s.cfg.CheckRetention),
		// A monthly alert index is not rolled over. Its age counts from
		// the first day of its month, and its alerts were first seen up
		// to a month later, so it is deleted a month after the retention:
		// every alert is kept at least AlertRetention after it was first
		// seen.
		p + "-alerts": {"policy": object{
			"_meta": meta,
			"phases": object{
				"hot":    object{"min_age": "0ms", "actions": object{}},
				"delete": object{"min_age": esDuration(s.cfg.AlertRetention + 31*24*time.Hour), "actions": object{"delete": object{}}},
			},
		}},
	}
}

// componentTemplates returns the component templates by name, in the order
// they must be created.
func (s *Store) componentTemplates() []named {
	var out []named
	for _, k := range []store.Kind{store.KindEvent, store.KindAlert, store.KindCheck} {
		base := s.cfg.Prefix + "-" + kindPlural(k)
		settings := object{
			"lifecycle":        object{"name": base},
			"number_of_shards": s.cfg.Shards,
			"codec":            "best_compression",
			"mapping":          object{"total_fields": object{"limit": 2000}},
		}
		if s.cfg.Replicas != nil {
			settings["number_of_replicas"] = *s.cfg.Replicas
		}
		if k == store.KindAlert {
			settings["lifecycle"].(object)["parse_origination_date"] = true
		}
		out = append(out,
			named{base + "@settings", object{
				"_meta":    object{"managed_by": "egovsoc"},
				"version":  templateVersion,
				"template": object{"settings": object{"index": settings}},
			}},
			named{base + "@mappings", object{
				"_meta":    object{"managed_by": "egovsoc"},
				"version":  templateVersion,
				"template": object{"mappings": mappings(k)},
			}},
		)
	}
	return out
}

// indexTemplates returns the index templates by name. Each also names an
// optional "@custom" component template, absent unless an operator adds
// one (to change shards or add a field without a new release).
func (s *Store) indexTemplates() []named {
	var out []named
	for _, k := range []store.Kind{store.KindEvent, store.KindAlert, store.KindCheck} {
		base := s.cfg.Prefix + "-" + kindPlural(k)
		t := object{
			"priority":                           200,
			"version":                            templateVersion,
			"_meta":                              object{"managed_by": "egovsoc", "kind": k.String()},
			"composed_of":                        []string{base + "@settings", base + "@mappings", base + "@custom"},
			"ignore_missing_component_templates": []string{base + "@custom"},
		}
		if k == store.KindAlert {
			t["index_patterns"] = []string{base + "-*"}
		} else {
			t["index_patterns"] = []string{base}
			t["data_stream"] = object{}
		}
		out = append(out, named{base, t})
	}
	return out
}

type named struct {
	name string
	body object
}

func kindPlural(k store.Kind) string { return k.String() + "s" }

// mappings builds the mappings of one kind: the ECS fields the pipeline
// relies on (event.Schema), typed; every other string a keyword; the fields
// of the kind's own shape; and the text field Text queries search.
func mappings(k store.Kind) object {
	props := object{}
	for path, t := range event.Schema {
		setField(props, path, fieldMapping(path, t))
	}
	// @timestamp keeps nanoseconds: sensors stamp microseconds, and a
	// range [From, To) must be exact at its edges.
	setField(props, "@timestamp", object{"type": "date_nanos"})
	setField(props, "message", object{"type": "match_only_text"})
	setField(props, "error.message", object{"type": "match_only_text"})
	setField(props, textField, object{"type": "match_only_text"})
	props[storeObject].(object)["dynamic"] = "strict"
	setField(props, "organization.name", keyword())
	setField(props, "related.user", keyword())
	setField(props, "related.hosts", keyword())

	var copied []string
	switch k {
	case store.KindEvent:
		copied = append([]string{"message"}, eventTextFields...)
		setField(props, storeOrg, keyword())
		setField(props, storeID, keyword())
	case store.KindAlert:
		copied = []string{"message", "rule.name"}
		for _, f := range []string{"rule.id", "rule.version", "rule.author", "rule.category", "rule.ruleset", "rule.reference", "rule.license", "event.provider",
			"threat.framework", "threat.tactic.id", "threat.tactic.name", "threat.technique.id", "threat.technique.subtechnique.id",
			"egovsoc.alert.references", "egovsoc.alert.false_positives"} {
			setField(props, f, keyword())
		}
		setField(props, "rule.name", keyword())
		setField(props, "rule.description", object{"type": "match_only_text"})
		setField(props, "egovsoc.alert.status", keyword())
		setField(props, "egovsoc.alert.severity", keyword())
		setField(props, "egovsoc.alert.count", object{"type": "long"})
		setField(props, "egovsoc.alert.event_ids", keyword())
		// The group is keyed by ECS field names; flattened keeps them
		// from becoming mapped fields of their own.
		setField(props, "egovsoc.alert.group", object{"type": "flattened"})
		setField(props, "egovsoc.alert.matched", object{"type": "flattened"})
	case store.KindCheck:
		for _, f := range []string{"monitor.type", "monitor.status", "monitor.target"} {
			setField(props, f, keyword())
		}
		setField(props, "egovsoc.check.impaired", object{"type": "boolean"})
	}
	for _, f := range copied {
		m := getField(props, f)
		if m == nil {
			m = keyword()
			setField(props, f, m)
		}
		m["copy_to"] = textField
	}
	return object{
		"date_detection": false,
		"dynamic_templates": []object{
			{"strings_as_keyword": object{
				"match_mapping_type": "string",
				"mapping":            keyword(),
			}},
		},
		"properties": props,
	}
}

func keyword() object { return object{"type": "keyword", "ignore_above": ignoreAbove} }

func fieldMapping(path string, t event.Type) object {
	switch t {
	case event.TypeDate:
		return object{"type": "date"}
	case event.TypeIP:
		return object{"type": "ip"}
	case event.TypeLong:
		return object{"type": "long"}
	case event.TypeFloat:
		return object{"type": "float"}
	case event.TypeBool:
		return object{"type": "boolean"}
	}
	return keyword()
}

// setField puts a leaf mapping at a dotted path, creating the objects on
// the way.
func setField(props object, path string, m object) {
	parts := strings.Split(path, ".")
	for _, p := range parts[:len(parts)-1] {
		o, _ := props[p].(object)
		if o == nil {
			o = object{"properties": object{}}
			props[p] = o
		}
		props = o["properties"].(object)
	}
	props[parts[len(parts)-1]] = m
}

func getField(props object, path string) object {
	parts := strings.Split(path, ".")
	for _, p := range parts[:len(parts)-1] {
		o, _ := props[p].(object)
		if o == nil {
			return nil
		}
		props, _ = o["properties"].(object)
		if props == nil {
			return nil
		}
	}
	m, _ := props[parts[len(parts)-1]].(object)
	return m
}
