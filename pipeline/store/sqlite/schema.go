package sqlite

import (
	"context"
	"database/sql"
	"fmt"
)

// migrations[v] takes the schema from version v-1 to v; PRAGMA user_version
// holds the version a database is at. Append to the list, never edit an entry
// that has shipped.
//
// Rows have an INTEGER PRIMARY KEY (seq), so VACUUM keeps their numbers: the
// FTS tables and event_terms refer to them. The FTS tables are contentless
// (they store only the index; the text is in the documents) with
// contentless_delete, so rows can be deleted from them when retention deletes
// documents, which the triggers do.
var migrations = []string{
	1: `
CREATE TABLE events (
	seq            INTEGER PRIMARY KEY,
	id             TEXT NOT NULL,
	org            TEXT NOT NULL,
	ts             INTEGER NOT NULL, -- @timestamp, Unix nanoseconds
	multi          INTEGER NOT NULL, -- bit code-1 set: hot field code holds several values, all in event_terms
	plain          INTEGER NOT NULL, -- 1 when doc's only escapes are \" and \\ (see plainJSON)
	dataset        TEXT,             -- hot fields: the first value, NULL when absent
	category       TEXT,
	kind           TEXT,
	outcome        TEXT,
	host           TEXT,
	source_ip      TEXT,
	destination_ip TEXT,
	user_name      TEXT,
	doc            TEXT NOT NULL,    -- the ECS document, compact JSON
	UNIQUE (ts, id)                  -- a replay has the same @timestamp; see insertStmts
);
-- Both indexes lead with time, so writes append to them; both cover every
-- hot field, so a filter on hot fields is answered from the index alone.
CREATE INDEX events_org_ts ON events (org, ts, seq, multi, dataset, category, kind, outcome, host, source_ip, destination_ip, user_name);
CREATE INDEX events_ts ON events (ts, seq, org, multi, dataset, category, kind, outcome, host, source_ip, destination_ip, user_name);

-- Every value of a hot field that holds more than one (event.category is
-- often an array). field is the hotField code. Keyed by seq first, so
-- inserts append and a term is probed for one candidate event at a time.
CREATE TABLE event_terms (
	seq   INTEGER NOT NULL REFERENCES events (seq) ON DELETE CASCADE,
	field INTEGER NOT NULL,
	value TEXT NOT NULL,
	PRIMARY KEY (seq, field, value)
) WITHOUT ROWID;

CREATE VIRTUAL TABLE events_fts USING fts5 (
	text, content = '', contentless_delete = 1, tokenize = 'unicode61 remove_diacritics 0'
);
CREATE TRIGGER events_fts_delete AFTER DELETE ON events BEGIN
	DELETE FROM events_fts WHERE rowid = old.seq;
END;

-- Alerts are small rows of what queries filter and sort on; their documents
-- are in alert_docs, so a filter a query's index does not cover reads a few
-- bytes per alert, not its document.
CREATE TABLE alerts (
	seq       INTEGER PRIMARY KEY,
	id        TEXT NOT NULL UNIQUE,
	org       TEXT NOT NULL,
	ts        INTEGER NOT NULL,
	severity  INTEGER NOT NULL, -- event.Severity.Rank: 1 informational … 5 critical
	status    TEXT NOT NULL,
	rule_id   TEXT NOT NULL,
	rule_name TEXT NOT NULL,
	detector  TEXT NOT NULL,
	title     TEXT NOT NULL
);
CREATE INDEX alerts_ts ON alerts (ts, id);
CREATE INDEX alerts_org_ts ON alerts (org, ts, id);
CREATE INDEX alerts_org_status_ts ON alerts (org, status, ts, id);
CREATE INDEX alerts_org_severity_ts ON alerts (org, severity, ts, id);
CREATE INDEX alerts_status_ts ON alerts (status, ts, id);
CREATE INDEX alerts_severity_ts ON alerts (severity, ts, id);
CREATE INDEX alerts_status_severity_ts ON alerts (status, severity, ts, id);
CREATE INDEX alerts_rule_ts ON alerts (rule_id, ts);

CREATE TABLE alert_docs (
	seq INTEGER PRIMARY KEY REFERENCES alerts (seq) ON DELETE CASCADE,
	doc TEXT NOT NULL
);

CREATE VIRTUAL TABLE alerts_fts USING fts5 (
	title, rule_name, content = '', contentless_delete = 1, tokenize = 'unicode61 remove_diacritics 0'
);
CREATE TRIGGER alerts_fts_delete AFTER DELETE ON alerts BEGIN
	DELETE FROM alerts_fts WHERE rowid = old.seq;
END;

CREATE TABLE checks (
	seq     INTEGER PRIMARY KEY,
	id      TEXT NOT NULL UNIQUE,
	org     TEXT NOT NULL,
	ts      INTEGER NOT NULL,
	service TEXT NOT NULL,
	vantage TEXT NOT NULL,
	status  TEXT NOT NULL,
	monitor TEXT NOT NULL,
	doc     TEXT NOT NULL
);
CREATE INDEX checks_org_ts ON checks (org, ts);
CREATE INDEX checks_ts ON checks (ts);
CREATE INDEX checks_service_ts ON checks (service, ts);
`,
}

// schemaVersion is the version this build writes.
var schemaVersion = len(migrations) - 1

// migrate brings the schema to schemaVersion, one transaction per step, and
// reports the versions it found and left. Each step re-reads the version
// inside its (immediate) transaction, so two processes opening one file at
// once do not both apply it.
func migrate(ctx context.Context, db *sql.DB) (from, to int, err error) {
	from = -1
	for {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return from, to, fmt.Errorf("migrate: %w", err)
		}
		var v int
		if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
			tx.Rollback()
			return from, to, fmt.Errorf("migrate: read schema version: %w", err)
		}
		if from < 0 {
			from = v
		}
		if v > schemaVersion {
			tx.Rollback()
			return from, v, fmt.Errorf("schema version %d is newer than this build's %d", v, schemaVersion)
		}
		if v == schemaVersion {
			return from, v, tx.Rollback()
		}
		if _, err := tx.ExecContext(ctx, migrations[v+1]); err != nil {
			tx.Rollback()
			return from, v, fmt.Errorf("migrate to version %d: %w", v+1, err)
		}
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", v+1)); err != nil {
			tx.Rollback()
			return from, v, fmt.Errorf("migrate to version %d: %w", v+1, err)
		}
		if err := tx.Commit(); err != nil {
			return from, v, fmt.Errorf("migrate to version %d: %w", v+1, err)
		}
	}
}
