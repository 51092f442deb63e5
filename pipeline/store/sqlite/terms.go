package sqlite

import (
	"database/sql/driver"
	"fmt"
	"strings"
	"unicode"

	"modernc.org/sqlite"

	"github.com/egovsoc/egovsoc/pipeline/event"
	"github.com/egovsoc/egovsoc/pipeline/store"
)

// hotField is an ECS field copied into a column on write.
type hotField struct {
	field event.Field
	col   string
	code  int // event_terms.field; stable, stored in databases; 0 when single-valued by construction
}

// eventHot are the hot fields of events. The codes are stored in event_terms:
// never renumber them.
var eventHot = [...]hotField{
	{event.FieldDataset, "dataset", 1},
	{event.FieldCategory, "category", 2},
	{event.FieldKind, "kind", 3},
	{event.FieldOutcome, "outcome", 4},
	{event.FieldHostName, "host", 5},
	{event.FieldSourceIP, "source_ip", 6},
	{event.FieldDestIP, "destination_ip", 7},
	{event.FieldUserName, "user_name", 8},
}

// hot maps, per kind, the fields whose terms are answered from columns.
// Alert and check columns hold the single value the document has.
var hot = map[store.Kind]map[string]hotField{
	store.KindEvent: func() map[string]hotField {
		m := map[string]hotField{}
		for _, h := range eventHot {
			m[h.field.String()] = h
		}
		return m
	}(),
	store.KindAlert: {
		"rule.id":              {col: "rule_id"},
		"rule.name":            {col: "rule_name"},
		"event.provider":       {col: "detector"},
		"egovsoc.alert.status": {col: "status"},
		"message":              {col: "title"},
	},
	store.KindCheck: {
		"service.id":     {col: "service"},
		"observer.name":  {col: "vantage"},
		"monitor.status": {col: "status"},
		"monitor.type":   {col: "monitor"},
	},
}

// eventText are the fields of an event that Text searches: the message and
// the keyword fields an analyst types. Every token indexed costs write
// throughput, so the list is short; the hot fields are also terms.
var eventText = []event.Field{
	event.FieldMessage,
	event.Path("error.message"),
	event.Path("event.action"),
	event.FieldHostName,
	event.FieldUserName,
	event.Path("process.command_line"),
	event.Path("file.path"),
	event.Path("url.original"),
	event.Path("dns.question.name"),
}

// maxFieldLen bounds the name of a filtered field.
const maxFieldLen = 256

// validField accepts ECS field names: letters, digits, '_', '.', '@', '-'.
func validField(f string) bool {
	if f == "" || len(f) > maxFieldLen {
		return false
	}
	for i := 0; i < len(f); i++ {
		c := f[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '.' || c == '@' || c == '-') {
			return false
		}
	}
	return true
}

// funcHas is the SQL function behind terms on fields without a column:
// egovsoc_has(doc, field, v1, …, vn) is 1 when some value of field in the
// ECS document doc is one of v1…vn (keyword semantics: a number or bool
// matches its JSON text), else 0. The document is read with pipeline/event,
// so nested and dotted keys, arrays and arrays of objects behave as they do
// in the detectors.
const funcHas = "egovsoc_has"

// has implements funcHas. Its arguments are volatile (views into SQLite's
// memory): the event decoded from doc lives only during the call.
func has(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
	if len(args) < 3 {
		return nil, fmt.Errorf("%s: want a document, a field and values", funcHas)
	}
	var doc []byte
	switch d := args[0].(type) {
	case []byte:
		doc = d
	case string:
		doc = []byte(d)
	default:
		return int64(0), nil
	}
	field, ok := args[1].(string)
	if !ok {
		return nil, fmt.Errorf("%s: field is not text", funcHas)
	}
	e, err := event.Decode(doc)
	if err != nil {
		return int64(0), nil
	}
	want := args[2:]
	match := e.Any(event.Path(field), func(v event.Value) bool {
		if !v.IsScalar() {
			return false
		}
		t := v.Text()
		for _, w := range want {
			if s, ok := w.(string); ok && s == t {
				return true
			}
		}
		return false
	})
	if match {
		return int64(1), nil
	}
	return int64(0), nil
}

// ftsQuery turns the words of a Text filter into an FTS5 query in which every
// word must appear: each word is a quoted string, so FTS5 syntax in it (AND,
// NEAR, *, ^, column filters) is taken literally, and a word the tokenizer
// splits ("10.0.0.1", "exfil.example.com") must appear as that sequence.
// Words with no letter or digit are dropped; "" means no text filter.
func ftsQuery(text string) string {
	var b strings.Builder
	for _, w := range strings.Fields(text) {
		if strings.IndexFunc(w, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }) < 0 {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteByte('"')
		b.WriteString(strings.ReplaceAll(w, `"`, `""`))
		b.WriteByte('"')
	}
	return b.String()
}
