package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/egovsoc/egovsoc/pipeline/event"
	"github.com/egovsoc/egovsoc/pipeline/store"
)

// insertStmts are prepared once on the writer and reused by every batch.
// Each insert is create-if-absent: ON CONFLICT … DO NOTHING leaves a stored
// document as it is and, unlike INSERT OR IGNORE, does not also swallow
// other constraint failures. The FTS, event_terms and alert_docs rows are
// written only when the document row was actually inserted, so a replay
// indexes nothing twice.
//
// An alert insert that was ignored is followed, in the same transaction, by
// a merge (mergeStmts.alert): the stored document is read, the emission
// folded into it (store.MergeAlertDoc) and, when that changed anything, the
// document and the ts column written back. Only the insert's outcome decides
// that, so a new alert costs no read. The merge never touches status,
// title or rule name, so the other columns and alerts_fts stay as they are.
//
// Alerts and checks are unique by id. Events are unique by (@timestamp, id):
// a replay carries the same @timestamp, and keying by time keeps the
// uniqueness index append-only, where a unique index on the random ids
// alone rewrites a page per event and costs a fifth of the write rate. An
// event id seen again with another @timestamp is stored as another event.
type insertStmts struct {
	event, eventFTS, eventTerm, alert, alertDoc, alertFTS, check *sql.Stmt
	// The merge of an alert whose insert was ignored.
	alertStored, alertDocSet, alertTS *sql.Stmt
}

func (s *insertStmts) prepare(ctx context.Context, db *sql.DB) error {
	for _, p := range []struct {
		stmt **sql.Stmt
		sql  string
	}{
		{&s.event, `INSERT INTO events (id, org, ts, multi, plain, dataset, category, kind, outcome, host, source_ip, destination_ip, user_name, doc)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (ts, id) DO NOTHING`},
		{&s.eventFTS, `INSERT INTO events_fts (rowid, text) VALUES (?, ?)`},
		{&s.eventTerm, `INSERT INTO event_terms (seq, field, value) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`},
		{&s.alert, `INSERT INTO alerts (id, org, ts, severity, status, rule_id, rule_name, detector, title)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`},
		{&s.alertDoc, `INSERT INTO alert_docs (seq, doc) VALUES (?, ?)`},
		{&s.alertFTS, `INSERT INTO alerts_fts (rowid, title, rule_name) VALUES (?, ?, ?)`},
		{&s.check, `INSERT INTO checks (id, org, ts, service, vantage, status, monitor, doc)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`},
		{&s.alertStored, `SELECT seq, ts, doc FROM alerts JOIN alert_docs USING (seq) WHERE id = ?`},
		{&s.alertDocSet, `UPDATE alert_docs SET doc = ? WHERE seq = ?`},
		{&s.alertTS, `UPDATE alerts SET ts = ? WHERE seq = ?`},
	} {
		st, err := db.PrepareContext(ctx, p.sql)
		if err != nil {
			s.close()
			return fmt.Errorf("prepare: %w", err)
		}
		*p.stmt = st
	}
	return nil
}

func (s *insertStmts) close() error {
	var errs []error
	for _, st := range []*sql.Stmt{s.event, s.eventFTS, s.eventTerm, s.alert, s.alertDoc, s.alertFTS, s.check, s.alertStored, s.alertDocSet, s.alertTS} {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	return errors.Join(errs...)
}

// row is one document made ready to insert, before the write lock is taken.
type row struct {
	ok   bool
	kind store.Kind
	id   string
	org  string
	ts   int64
	doc  string
	// events
	hot       [len(eventHot)]any // the first value of each hot field, or nil
	multi     []termValue        // every value of hot fields that hold several
	multiMask int64              // bit code-1 set for each hot field in multi
	plain     int64              // 1 when plainJSON(doc)
	text      string             // what Text searches
	// alerts and checks
	alert                     *event.Alert // the emission, merged into a stored alert of its id
	severity                  int
	status                    string
	ruleID, ruleName, title   string
	detector                  string
	service, vantage, monitor string
}

type termValue struct {
	code  int
	value string
}

func reject(d *store.Doc, format string, args ...any) error {
	return fmt.Errorf("%s %q: %s: %w", d.Kind, d.ID, fmt.Sprintf(format, args...), store.ErrRejected)
}

// unixNanos returns t as Unix nanoseconds, the range of which is 1678–2262.
func unixNanos(t time.Time) (int64, bool) {
	if y := t.Year(); y < 1678 || y > 2261 {
		return 0, false
	}
	return t.UnixNano(), true
}

// build prepares d, or says why the store will never accept it.
func (r *row) build(d *store.Doc) error {
	if d.ID == "" {
		return reject(d, "no id")
	}
	if d.Org == "" {
		return reject(d, "no organisation")
	}
	n := 0
	for _, set := range []bool{d.Event != nil, d.Alert != nil, d.Check != nil} {
		if set {
			n++
		}
	}
	if n != 1 {
		return reject(d, "%d payloads, want exactly one", n)
	}
	var at time.Time
	var err error
	switch d.Kind {
	case store.KindEvent:
		if d.Event == nil {
			return reject(d, "no event")
		}
		at, err = r.buildEvent(d)
	case store.KindAlert:
		if d.Alert == nil {
			return reject(d, "no alert")
		}
		at, err = r.buildAlert(d)
	case store.KindCheck:
		if d.Check == nil {
			return reject(d, "no check")
		}
		at, err = r.buildCheck(d)
	default:
		return reject(d, "unknown kind %d", d.Kind)
	}
	if err != nil {
		return err
	}
	// Doc.Time is @timestamp; the payload's own is the fallback.
	if !d.Time.IsZero() {
		at = d.Time
	}
	if at.IsZero() {
		return reject(d, "no @timestamp")
	}
	ts, ok := unixNanos(at)
	if !ok {
		return reject(d, "@timestamp %s out of range", at)
	}
	if r.alert != nil {
		r.alert.Time = at // a merge folds in the @timestamp the ts column has
	}
	r.ok, r.kind, r.id, r.org, r.ts = true, d.Kind, d.ID, d.Org, ts
	return nil
}

func (r *row) buildEvent(d *store.Doc) (time.Time, error) {
	e := d.Event
	doc := e.AppendJSON(make([]byte, 0, len(e.Raw())+128))
	r.doc = string(doc)
	if plainJSON(doc) {
		r.plain = 1
	}
	for i, h := range eventHot {
		switch n := e.Count(h.field); {
		case n == 1:
			if v := e.Get(h.field); v.IsScalar() {
				r.hot[i] = v.Text()
			}
		case n > 1:
			first := len(r.multi)
			for v := range e.Values(h.field) {
				if v.IsScalar() {
					r.multi = append(r.multi, termValue{h.code, v.Text()})
				}
			}
			switch len(r.multi) - first {
			case 0:
			case 1: // one value and nulls: the column is enough
				r.hot[i] = r.multi[first].value
				r.multi = r.multi[:first]
			default:
				r.hot[i] = r.multi[first].value
				r.multiMask |= 1 << (h.code - 1)
			}
		}
	}
	var text []byte
	for _, f := range eventText {
		for v := range e.Values(f) {
			if v.IsScalar() && v.Text() != "" {
				if len(text) > 0 {
					text = append(text, '\n')
				}
				text = append(text, v.Text()...)
			}
		}
	}
	r.text = string(text)
	at, _ := e.Time() // Doc.Time wins when set; build rejects when neither is
	return at, nil
}

// plainJSON reports whether the only escapes in a JSON document are \" and
// \\, so that any value without '"' or '\' appears in it as written.
func plainJSON(doc []byte) bool {
	for {
		i := bytes.IndexByte(doc, '\\')
		if i < 0 {
			return true
		}
		if i+1 >= len(doc) || doc[i+1] != '"' && doc[i+1] != '\\' {
			return false
		}
		doc = doc[i+2:]
	}
}

func (r *row) buildAlert(d *store.Doc) (time.Time, error) {
	a := *d.Alert
	if err := a.Validate(); err != nil {
		return time.Time{}, reject(d, "%v", err)
	}
	if a.ID != d.ID {
		return time.Time{}, reject(d, "alert id %q differs from the document's", a.ID)
	}
	if a.Org != d.Org {
		return time.Time{}, reject(d, "alert of organisation %q in a document of %q", a.Org, d.Org)
	}
	b, err := a.MarshalJSON()
	if err != nil {
		return time.Time{}, reject(d, "%v", err)
	}
	r.doc = string(b)
	r.alert = &a
	r.severity = a.Severity.Rank()
	r.status, r.ruleID, r.ruleName, r.detector, r.title = a.Status, a.Rule.ID, a.Rule.Name, a.Detector, a.Title
	return a.Time, nil
}

func (r *row) buildCheck(d *store.Doc) (time.Time, error) {
	c := *d.Check
	if c.Org == "" {
		c.Org = d.Org
	}
	if err := c.Validate(); err != nil {
		return time.Time{}, reject(d, "%v", err)
	}
	if c.ID != d.ID {
		return time.Time{}, reject(d, "check id %q differs from the document's", c.ID)
	}
	if c.Org != d.Org {
		return time.Time{}, reject(d, "check of organisation %q in a document of %q", c.Org, d.Org)
	}
	b, err := c.MarshalJSON()
	if err != nil {
		return time.Time{}, reject(d, "%v", err)
	}
	r.doc = string(b)
	r.service, r.vantage, r.status, r.monitor = c.Service, c.Vantage, c.Status, c.Monitor
	return c.Time, nil
}

// optimizeEvery is how often Write refreshes the planner's statistics.
const optimizeEvery = time.Hour

// Write stores docs in one transaction, merging an alert whose id is stored
// into the stored one (see store.Store). A document the store can never take
// (no id, organisation, @timestamp or payload, a payload of another kind, an
// invalid alert or check, one whose id or organisation differs from the
// document's, or an alert whose id is stored for another organisation) gets
// ErrRejected and the others are stored; a failure of the database fails
// the whole batch, with an error wrapping ErrUnavailable when it may pass,
// and nothing is committed. Documents are encoded before the
// write lock is taken, so concurrent callers encode in parallel.
func (s *Store) Write(ctx context.Context, docs []store.Doc) ([]error, error) {
	results := make([]error, len(docs))
	rows := make([]row, len(docs))
	n := 0
	for i := range docs {
		if err := rows[i].build(&docs[i]); err != nil {
			results[i] = err
			continue
		}
		n++
	}
	if n == 0 {
		return results, nil
	}

	s.wmu.Lock()
	defer s.wmu.Unlock()
	if s.closed {
		return nil, errClosed
	}
	if err := s.write(ctx, rows, results); err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("sqlite store: write %d docs: %w", n, ctx.Err())
		}
		return nil, fmt.Errorf("sqlite store: write %d docs: %w", n, classify(err))
	}
	if time.Since(s.lastOptimize) > optimizeEvery {
		s.lastOptimize = time.Now()
		if _, err := s.w.ExecContext(ctx, "PRAGMA optimize"); err != nil {
			s.log.Warn().Err(err).Msg("sqlite store: optimize")
		}
	}
	return results, nil
}

// write writes the rows that are ok in one transaction. A document that
// turns out to be one the store can never take (an alert whose stored
// namesake cannot be merged with it) gets its error in results.
func (s *Store) write(ctx context.Context, rows []row, results []error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	// The driver watches a cancellable context with a goroutine per
	// statement, which costs more than the insert itself; the inserts run
	// without it, and cancellation is checked between documents instead.
	done := ctx
	ctx = context.WithoutCancel(ctx)
	var ev, evFTS, evTerm, al, alDoc, alFTS, ck *sql.Stmt
	var merge mergeStmts
	stmt := func(st **sql.Stmt, prepared *sql.Stmt) *sql.Stmt {
		if *st == nil {
			*st = tx.StmtContext(ctx, prepared)
		}
		return *st
	}
	for i := range rows {
		r := &rows[i]
		if !r.ok {
			continue
		}
		if i%64 == 0 && done.Err() != nil {
			return done.Err()
		}
		switch r.kind {
		case store.KindEvent:
			res, err := stmt(&ev, s.ins.event).ExecContext(ctx, r.id, r.org, r.ts, r.multiMask, r.plain,
				r.hot[0], r.hot[1], r.hot[2], r.hot[3], r.hot[4], r.hot[5], r.hot[6], r.hot[7], r.doc)
			if err != nil {
				return err
			}
			seq, inserted, err := insertedRow(res)
			if err != nil {
				return err
			}
			if !inserted {
				continue
			}
			if r.text != "" {
				if _, err := stmt(&evFTS, s.ins.eventFTS).ExecContext(ctx, seq, r.text); err != nil {
					return err
				}
			}
			for _, m := range r.multi {
				if _, err := stmt(&evTerm, s.ins.eventTerm).ExecContext(ctx, seq, m.code, m.value); err != nil {
					return err
				}
			}
		case store.KindAlert:
			res, err := stmt(&al, s.ins.alert).ExecContext(ctx, r.id, r.org, r.ts, r.severity, r.status,
				r.ruleID, r.ruleName, r.detector, r.title)
			if err != nil {
				return err
			}
			seq, inserted, err := insertedRow(res)
			if err != nil {
				return err
			}
			if !inserted {
				if merge.stored == nil {
					merge = mergeStmts{stored: tx.StmtContext(ctx, s.ins.alertStored),
						docSet: tx.StmtContext(ctx, s.ins.alertDocSet), ts: tx.StmtContext(ctx, s.ins.alertTS)}
				}
				rejected, err := merge.alert(ctx, r)
				if err != nil {
					return err
				}
				results[i] = rejected
				continue
			}
			if _, err := stmt(&alDoc, s.ins.alertDoc).ExecContext(ctx, seq, r.doc); err != nil {
				return err
			}
			if _, err := stmt(&alFTS, s.ins.alertFTS).ExecContext(ctx, seq, r.title, r.ruleName); err != nil {
				return err
			}
		case store.KindCheck:
			if _, err := stmt(&ck, s.ins.check).ExecContext(ctx, r.id, r.org, r.ts, r.service, r.vantage,
				r.status, r.monitor, r.doc); err != nil {
				return err
			}
		}
	}
	if err := done.Err(); err != nil {
		return err
	}
	return tx.Commit()
}

// mergeStmts are the statements of the merge path, bound to one write
// transaction when the first ignored alert insert needs them.
type mergeStmts struct {
	stored, docSet, ts *sql.Stmt
}

// alert merges the emission r into the alert stored under its id (whose
// insert was just ignored): it reads the stored document, folds r in, and
// writes back the document, and the ts column when @timestamp moved later,
// if anything changed. rejected is the document's error when the two cannot
// be merged; err fails the batch.
func (m *mergeStmts) alert(ctx context.Context, r *row) (rejected, err error) {
	var seq, ts int64
	var doc string
	if err := m.stored.QueryRowContext(ctx, r.id).Scan(&seq, &ts, &doc); err != nil {
		return nil, fmt.Errorf("read stored alert %q: %w", r.id, err)
	}
	out, changed, err := store.MergeAlertDoc([]byte(doc), r.alert)
	if err != nil {
		return fmt.Errorf("%s %q: %w", r.kind, r.id, err), nil
	}
	if !changed {
		return nil, nil
	}
	if _, err := m.docSet.ExecContext(ctx, string(out), seq); err != nil {
		return nil, err
	}
	if r.ts > ts {
		if _, err := m.ts.ExecContext(ctx, r.ts, seq); err != nil {
			return nil, err
		}
	}
	return nil, nil
}

// insertedRow reports whether an insert took place, and the row's seq.
func insertedRow(res sql.Result) (seq int64, inserted bool, err error) {
	n, err := res.RowsAffected()
	if err != nil || n == 0 {
		return 0, false, err
	}
	seq, err = res.LastInsertId()
	return seq, err == nil, err
}
