package sqlite

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/egovsoc/egovsoc/pipeline/event"
	"github.com/egovsoc/egovsoc/pipeline/store"
)

func invalid(format string, args ...any) error {
	return fmt.Errorf("sqlite store: %s: %w", fmt.Sprintf(format, args...), store.ErrInvalid)
}

// where builds a WHERE clause. Column names come from this package's
// constants only; every value is a bound parameter.
type where struct {
	b    strings.Builder
	args []any
}

func (w *where) and(cond string, args ...any) {
	if w.b.Len() > 0 {
		w.b.WriteString(" AND ")
	}
	w.b.WriteString(cond)
	w.args = append(w.args, args...)
}

func (w *where) String() string {
	if w.b.Len() == 0 {
		return "1"
	}
	return w.b.String()
}

func marks(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}

func strArgs(vals []string) []any {
	out := make([]any, len(vals))
	for i, v := range vals {
		out[i] = v
	}
	return out
}

// in adds col IN (vals), when there are any.
func (w *where) in(col string, vals []string) {
	if len(vals) > 0 {
		w.and(col+" IN ("+marks(len(vals))+")", strArgs(vals)...)
	}
}

// scope adds the organisations a (non-empty) scope sees.
func (w *where) scope(sc store.Scope) {
	if !sc.All() {
		w.in("org", sc.Orgs())
	}
}

// timeRange adds ts in [from, to); a zero bound does not bound.
func (w *where) timeRange(from, to time.Time) error {
	if !from.IsZero() {
		n, ok := unixNanos(from)
		if !ok {
			return invalid("From %s out of range", from)
		}
		w.and("ts >= ?", n)
	}
	if !to.IsZero() {
		n, ok := unixNanos(to)
		if !ok {
			return invalid("To %s out of range", to)
		}
		w.and("ts < ?", n)
	}
	return nil
}

// terms adds term filters on documents of kind: columns for hot fields (and
// event_terms for their further values), egovsoc_has on the document for
// the rest.
func (w *where) terms(kind store.Kind, terms []store.Term) error {
	for _, t := range terms {
		if !validField(t.Field) {
			return invalid("cannot filter on field %q", t.Field)
		}
		if len(t.Values) == 0 {
			return invalid("term on %s has no values", t.Field)
		}
		h, ok := hot[kind][t.Field]
		switch {
		case ok && h.code != 0:
			// The column holds the first value; a row whose field holds
			// several (its multi bit set) has them all in event_terms.
			m := marks(len(t.Values))
			args := append(strArgs(t.Values), int64(1)<<(h.code-1), h.code)
			args = append(args, strArgs(t.Values)...)
			w.and("("+h.col+" IN ("+m+") OR ((multi & ?) != 0 AND EXISTS (SELECT 1 FROM event_terms t"+
				" WHERE t.seq = events.seq AND t.field = ? AND t.value IN ("+m+"))))", args...)
		case ok:
			w.in(h.col, t.Values)
		case kind == store.KindEvent && !slices.ContainsFunc(t.Values, func(v string) bool { return strings.ContainsAny(v, `"\\`) }):
			// A plain document (see plainJSON) holds each of its values
			// that has no quote or backslash as written, so instr rules
			// most documents out before they are decoded.
			pre := strings.TrimSuffix(strings.Repeat("instr(doc, ?) > 0 OR ", len(t.Values)), " OR ")
			args := append(strArgs(t.Values), t.Field)
			args = append(args, strArgs(t.Values)...)
			w.and("(plain = 0 OR "+pre+") AND "+funcHas+"(CAST(doc AS BLOB), ?, "+marks(len(t.Values))+")", args...)
		default:
			args := append([]any{t.Field}, strArgs(t.Values)...)
			w.and(funcHas+"(CAST("+docColumn[kind]+" AS BLOB), ?, "+marks(len(t.Values))+")", args...)
		}
	}
	return nil
}

// docColumn is the expression for the document of a row of each kind.
var docColumn = map[store.Kind]string{
	store.KindEvent: "doc",
	store.KindAlert: "(SELECT doc FROM alert_docs d WHERE d.seq = alerts.seq)",
	store.KindCheck: "doc",
}

// text adds a full-text filter through the FTS table of a document table.
func (w *where) text(fts, text string) {
	if q := ftsQuery(text); q != "" {
		w.and("seq IN (SELECT rowid FROM "+fts+" WHERE "+fts+" MATCH ?)", q)
	}
}

// A cursor is the sort key of the last row of a page, opaque to callers:
// base64url of a version byte, the sort it belongs to, two varints and an id.
type cursor struct {
	sort byte // 'e' events (ts, seq); 'n' newest, 'o' oldest (ts, id); 's' severity (severity, ts, id)
	a, b int64
	id   string
}

const cursorVersion = 1

func (c cursor) String() string {
	buf := []byte{cursorVersion, c.sort}
	buf = binary.AppendVarint(buf, c.a)
	buf = binary.AppendVarint(buf, c.b)
	buf = append(buf, c.id...)
	return base64.RawURLEncoding.EncodeToString(buf)
}

func parseCursor(s string, sort byte) (cursor, error) {
	bad := invalid("bad cursor %q", s)
	buf, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(buf) < 4 || buf[0] != cursorVersion || buf[1] != sort {
		return cursor{}, bad
	}
	c := cursor{sort: sort}
	buf = buf[2:]
	var n int
	if c.a, n = binary.Varint(buf); n <= 0 {
		return cursor{}, bad
	}
	buf = buf[n:]
	if c.b, n = binary.Varint(buf); n <= 0 {
		return cursor{}, bad
	}
	c.id = string(buf[n:])
	return c, nil
}

// alertOrder is how each sort orders alerts, and how its cursor continues.
var alertOrder = map[store.AlertSort]struct {
	tag      byte
	orderBy  string
	keyset   string
	fromCurs func(c cursor) []any
}{
	store.SortNewest: {'n', "ts DESC, id DESC", "(ts, id) < (?, ?)", func(c cursor) []any { return []any{c.a, c.id} }},
	store.SortOldest: {'o', "ts ASC, id ASC", "(ts, id) > (?, ?)", func(c cursor) []any { return []any{c.a, c.id} }},
	store.SortSeverity: {'s', "severity DESC, ts DESC, id DESC", "(severity, ts, id) < (?, ?, ?)",
		func(c cursor) []any { return []any{c.a, c.b, c.id} }},
}

// readTx runs fn in a read transaction, so a page and its Total see one
// snapshot of the database.
func (s *Store) readTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return classify(err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return classify(err)
	}
	return nil
}

// Alerts returns a page of the alerts q selects within scope.
func (s *Store) Alerts(ctx context.Context, scope store.Scope, q store.AlertQuery) (store.AlertPage, error) {
	sort := q.Sort
	if sort == "" {
		sort = store.SortNewest
	}
	order, ok := alertOrder[sort]
	if !ok {
		return store.AlertPage{}, invalid("unknown sort %q", q.Sort)
	}
	minRank := 0
	if q.MinSeverity != "" {
		if minRank = q.MinSeverity.Rank(); minRank == 0 {
			return store.AlertPage{}, invalid("unknown severity %q", q.MinSeverity)
		}
	}
	var after *cursor
	if q.After != "" {
		c, err := parseCursor(q.After, order.tag)
		if err != nil {
			return store.AlertPage{}, err
		}
		after = &c
	}
	var w where
	if err := w.timeRange(q.From, q.To); err != nil {
		return store.AlertPage{}, err
	}
	sc := scope.Restrict(q.Orgs)
	if sc.Empty() {
		return store.AlertPage{}, nil
	}
	w.scope(sc)
	w.in("status", q.Status)
	if minRank > 1 {
		w.and("severity >= ?", minRank)
	}
	w.in("rule_id", q.RuleIDs)
	w.in("detector", q.Detectors)
	w.text("alerts_fts", q.Text)

	limit := store.PageLimit(q.Limit)
	var page store.AlertPage
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		cond, args := w.String(), w.args
		if after != nil {
			cond = "(" + cond + ") AND " + order.keyset
			args = append(append([]any(nil), args...), order.fromCurs(*after)...)
		}
		// The page is chosen first from the indexes, then its documents are
		// read: sorting whole rows would read the document of every match.
		rows, err := tx.QueryContext(ctx, "SELECT id, ts, severity, doc FROM alerts JOIN alert_docs USING (seq)"+
			" WHERE seq IN (SELECT seq FROM alerts WHERE "+cond+" ORDER BY "+order.orderBy+" LIMIT ?)"+
			" ORDER BY "+order.orderBy, append(args, limit+1)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		var last cursor
		for rows.Next() {
			if len(page.Alerts) == limit {
				page.Next = last.String()
				break
			}
			var doc []byte
			last = cursor{sort: order.tag}
			if err := rows.Scan(&last.id, &last.a, &last.b, &doc); err != nil {
				return err
			}
			if order.tag == 's' {
				last.a, last.b = last.b, last.a // severity first, then ts
			}
			var a event.Alert
			if err := json.Unmarshal(doc, &a); err != nil {
				return fmt.Errorf("alert %s: %w", last.id, err)
			}
			a.ID = last.id
			page.Alerts = append(page.Alerts, a)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		rows.Close()
		if after == nil && page.Next == "" {
			page.Total = int64(len(page.Alerts))
			return nil
		}
		return tx.QueryRowContext(ctx, "SELECT count(*) FROM alerts WHERE "+w.String(), w.args...).Scan(&page.Total)
	})
	if err != nil {
		return store.AlertPage{}, fmt.Errorf("sqlite store: alerts: %w", err)
	}
	return page, nil
}

// Alert returns one alert, if it is within scope.
func (s *Store) Alert(ctx context.Context, scope store.Scope, id string) (event.Alert, error) {
	if scope.Empty() {
		return event.Alert{}, fmt.Errorf("alert %q: %w", id, store.ErrNotFound)
	}
	var org string
	var doc []byte
	err := s.r.QueryRowContext(ctx, "SELECT org, doc FROM alerts JOIN alert_docs USING (seq) WHERE id = ?", id).Scan(&org, &doc)
	if errors.Is(err, sql.ErrNoRows) || err == nil && !scope.Allows(org) {
		return event.Alert{}, fmt.Errorf("alert %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return event.Alert{}, fmt.Errorf("sqlite store: alert %q: %w", id, classify(err))
	}
	var a event.Alert
	if err := json.Unmarshal(doc, &a); err != nil {
		return event.Alert{}, fmt.Errorf("sqlite store: alert %q: %w", id, err)
	}
	a.ID = id
	return a, nil
}

// Events returns a page of the events q selects within scope, newest first.
func (s *Store) Events(ctx context.Context, scope store.Scope, q store.EventQuery) (store.EventPage, error) {
	var after *cursor
	if q.After != "" {
		c, err := parseCursor(q.After, 'e')
		if err != nil {
			return store.EventPage{}, err
		}
		after = &c
	}
	var w where
	if err := w.timeRange(q.From, q.To); err != nil {
		return store.EventPage{}, err
	}
	if err := w.terms(store.KindEvent, q.Terms); err != nil {
		return store.EventPage{}, err
	}
	sc := scope.Restrict(q.Orgs)
	if sc.Empty() {
		return store.EventPage{}, nil
	}
	w.scope(sc)
	w.text("events_fts", q.Text)

	limit := store.PageLimit(q.Limit)
	var page store.EventPage
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		cond, args := w.String(), w.args
		if after != nil {
			cond = "(" + cond + ") AND (ts, seq) < (?, ?)"
			args = append(append([]any(nil), args...), after.a, after.b)
		}
		rows, err := tx.QueryContext(ctx, "SELECT seq, id, org, ts, doc FROM events WHERE seq IN (SELECT seq FROM events WHERE "+
			cond+" ORDER BY ts DESC, seq DESC LIMIT ?) ORDER BY ts DESC, seq DESC", append(args, limit+1)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		var last cursor
		for rows.Next() {
			if len(page.Hits) == limit {
				page.Next = last.String()
				break
			}
			var h store.Hit
			last = cursor{sort: 'e'}
			if err := rows.Scan(&last.b, &h.ID, &h.Org, &last.a, &h.Source); err != nil {
				return err
			}
			h.Time = time.Unix(0, last.a).UTC()
			page.Hits = append(page.Hits, h)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		rows.Close()
		if after == nil && page.Next == "" {
			page.Total = int64(len(page.Hits))
			return nil
		}
		return tx.QueryRowContext(ctx, "SELECT count(*) FROM events WHERE "+w.String(), w.args...).Scan(&page.Total)
	})
	if err != nil {
		return store.EventPage{}, fmt.Errorf("sqlite store: events: %w", err)
	}
	return page, nil
}

var tables = map[store.Kind]string{
	store.KindEvent: "events",
	store.KindAlert: "alerts",
	store.KindCheck: "checks",
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b < 0 {
		q--
	}
	return q
}

// Histogram counts documents of one kind in buckets aligned to the Unix
// epoch, from the one holding From to the one holding To-1ns.
func (s *Store) Histogram(ctx context.Context, scope store.Scope, q store.HistogramQuery) ([]store.Bucket, error) {
	table, ok := tables[q.Kind]
	if !ok {
		return nil, invalid("histogram of unknown kind %d", q.Kind)
	}
	if q.Interval <= 0 {
		return nil, invalid("histogram interval %s", q.Interval)
	}
	if q.From.IsZero() || q.To.IsZero() || !q.To.After(q.From) {
		return nil, invalid("histogram needs From before To")
	}
	from, ok1 := unixNanos(q.From)
	to, ok2 := unixNanos(q.To)
	if !ok1 || !ok2 {
		return nil, invalid("histogram range out of bounds")
	}
	iv := int64(q.Interval)
	start := floorDiv(from, iv) * iv
	n := floorDiv(to-1, iv) - floorDiv(from, iv) + 1
	if n > store.MaxBuckets {
		return nil, invalid("histogram of %d buckets, at most %d", n, store.MaxBuckets)
	}
	var w where
	if err := w.terms(q.Kind, q.Terms); err != nil {
		return nil, err
	}
	buckets := make([]store.Bucket, n)
	for i := range buckets {
		buckets[i].Start = time.Unix(0, start+int64(i)*iv).UTC()
	}
	sc := scope.Restrict(q.Orgs)
	if sc.Empty() {
		return buckets, nil
	}
	w.scope(sc)
	w.timeRange(q.From, q.To)
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, "SELECT (ts - ?) / ?, count(*) FROM "+table+" WHERE "+w.String()+" GROUP BY 1",
			append([]any{start, iv}, w.args...)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var b, c int64
			if err := rows.Scan(&b, &c); err != nil {
				return err
			}
			if b >= 0 && b < n {
				buckets[b].Count = c
			}
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite store: histogram: %w", err)
	}
	return buckets, nil
}

// CountByOrg counts documents of one kind per organisation in [from, to).
func (s *Store) CountByOrg(ctx context.Context, scope store.Scope, kind store.Kind, from, to time.Time) (map[string]int64, error) {
	table, ok := tables[kind]
	if !ok {
		return nil, invalid("count of unknown kind %d", kind)
	}
	var w where
	if err := w.timeRange(from, to); err != nil {
		return nil, err
	}
	out := map[string]int64{}
	if scope.Empty() {
		return out, nil
	}
	w.scope(scope)
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, "SELECT org, count(*) FROM "+table+" WHERE "+w.String()+" GROUP BY org", w.args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var org string
			var c int64
			if err := rows.Scan(&org, &c); err != nil {
				return err
			}
			out[org] = c
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite store: count by org: %w", err)
	}
	return out, nil
}
