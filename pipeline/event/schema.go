package event

import (
	"fmt"
	"net/netip"
)

// Type is the Elasticsearch type of an ECS field, as far as validation cares.
type Type uint8

// The field types Validate checks.
const (
	TypeKeyword Type = iota + 1 // a string (numbers and bools are coerced, as Elasticsearch does)
	TypeDate                    // RFC 3339 text or epoch milliseconds
	TypeIP                      // an IPv4 or IPv6 address
	TypeLong                    // an integer, or a string holding one
	TypeFloat                   // a number, or a string holding one
	TypeBool                    // true or false
)

// Schema lists the ECS fields whose type Validate enforces: the fields the
// pipeline, the detectors and the store index rely on. A field not listed is
// carried as it is. Elasticsearch would reject a document whose listed field
// has the wrong type, so checking here sends it to the dead-letter topic
// with a reason instead of losing it in a bulk error.
var Schema = map[string]Type{
	"@timestamp":                  TypeDate,
	"event.created":               TypeDate,
	"event.ingested":              TypeDate,
	"event.start":                 TypeDate,
	"event.end":                   TypeDate,
	"event.id":                    TypeKeyword,
	"event.kind":                  TypeKeyword,
	"event.category":              TypeKeyword,
	"event.type":                  TypeKeyword,
	"event.action":                TypeKeyword,
	"event.outcome":               TypeKeyword,
	"event.dataset":               TypeKeyword,
	"event.module":                TypeKeyword,
	"event.code":                  TypeKeyword,
	"event.severity":              TypeLong,
	"event.duration":              TypeLong,
	"organization.id":             TypeKeyword,
	"message":                     TypeKeyword,
	"host.name":                   TypeKeyword,
	"host.hostname":               TypeKeyword,
	"host.ip":                     TypeIP,
	"observer.name":               TypeKeyword,
	"user.name":                   TypeKeyword,
	"source.ip":                   TypeIP,
	"source.port":                 TypeLong,
	"source.bytes":                TypeLong,
	"source.packets":              TypeLong,
	"destination.ip":              TypeIP,
	"destination.port":            TypeLong,
	"destination.bytes":           TypeLong,
	"destination.packets":         TypeLong,
	"client.ip":                   TypeIP,
	"server.ip":                   TypeIP,
	"related.ip":                  TypeIP,
	"network.transport":           TypeKeyword,
	"network.protocol":            TypeKeyword,
	"network.bytes":               TypeLong,
	"network.packets":             TypeLong,
	"network.community_id":        TypeKeyword,
	"url.full":                    TypeKeyword,
	"url.original":                TypeKeyword,
	"url.domain":                  TypeKeyword,
	"url.path":                    TypeKeyword,
	"url.query":                   TypeKeyword,
	"http.request.method":         TypeKeyword,
	"http.request.bytes":          TypeLong,
	"http.response.status_code":   TypeLong,
	"http.response.bytes":         TypeLong,
	"user_agent.original":         TypeKeyword,
	"dns.question.name":           TypeKeyword,
	"dns.question.type":           TypeKeyword,
	"dns.response_code":           TypeKeyword,
	"dns.answers.ttl":             TypeLong,
	"process.pid":                 TypeLong,
	"process.name":                TypeKeyword,
	"process.command_line":        TypeKeyword,
	"tls.server.ja3s":             TypeKeyword,
	"tls.client.ja3":              TypeKeyword,
	"tls.client.server_name":      TypeKeyword,
	"monitor.duration.us":         TypeLong,
	"http.response.body.bytes":    TypeLong,
	"http.request.body.bytes":     TypeLong,
	"event.risk_score":            TypeFloat,
	"log.syslog.severity.code":    TypeLong,
	"log.syslog.facility.code":    TypeLong,
	"log.offset":                  TypeLong,
	"log.file.path":               TypeKeyword,
	"agent.id":                    TypeKeyword,
	"agent.version":               TypeKeyword,
	"service.id":                  TypeKeyword,
	"tags":                        TypeKeyword,
	"labels.sensor":               TypeKeyword,
	"network.direction":           TypeKeyword,
	"source.domain":               TypeKeyword,
	"destination.domain":          TypeKeyword,
	"file.hash.sha256":            TypeKeyword,
	"threat.indicator.ip":         TypeIP,
	"event.sequence":              TypeLong,
	"host.os.type":                TypeKeyword,
	"observer.hostname":           TypeKeyword,
	"winlog.event_id":             TypeKeyword,
	"source.geo.country_iso_code": TypeKeyword,
}

type schemaField struct {
	f Field
	t Type
}

var schemaFields = func() []schemaField {
	out := make([]schemaField, 0, len(Schema))
	for p, t := range Schema {
		out = append(out, schemaField{Path(p), t})
	}
	return out
}()

// FieldError names a field whose value has the wrong type.
type FieldError struct {
	Field string
	Value string
	Want  Type
	Got   Kind
}

func (e *FieldError) Error() string {
	if e.Got == KindObject || e.Got == KindArray {
		return fmt.Sprintf("field %q holds an %s, want %s", e.Field, e.Got, e.Want)
	}
	return fmt.Sprintf("field %q: %q is not %s", e.Field, e.Value, e.Want)
}

func (t Type) String() string {
	switch t {
	case TypeKeyword:
		return "a string"
	case TypeDate:
		return "an RFC 3339 date or epoch milliseconds"
	case TypeIP:
		return "an IP address"
	case TypeLong:
		return "an integer"
	case TypeFloat:
		return "a number"
	case TypeBool:
		return "a boolean"
	}
	return "valid"
}

// Validate checks the fields listed in Schema and returns the first whose
// value has the wrong type, as a *FieldError. A null value is accepted for
// any field, as Elasticsearch does.
func (e *Event) Validate() error {
	for _, sf := range schemaFields {
		fi := e.lookup(sf.f)
		if fi < 0 {
			continue
		}
		fe := &e.fields[fi]
		if fe.container == KindObject {
			return &FieldError{Field: sf.f.path, Want: sf.t, Got: KindObject}
		}
		for li := fe.first; li >= 0; li = e.leaves[li].next {
			v := e.value(li)
			if !valid(sf.t, v) {
				return &FieldError{Field: sf.f.path, Value: v.s, Want: sf.t, Got: v.kind}
			}
		}
	}
	return nil
}

func valid(t Type, v Value) bool {
	if v.kind == KindNull {
		return true
	}
	switch t {
	case TypeKeyword:
		return v.IsScalar()
	case TypeDate:
		_, err := parseTime(v)
		return err == nil
	case TypeIP:
		if v.kind != KindString {
			return false
		}
		_, err := netip.ParseAddr(v.s)
		return err == nil
	case TypeLong:
		_, ok := v.Int()
		return ok
	case TypeFloat:
		_, ok := v.Float()
		return ok
	case TypeBool:
		return v.kind == KindBool || (v.kind == KindString && (v.s == "true" || v.s == "false"))
	}
	return true
}
