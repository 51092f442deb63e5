// Package sqlite is the embedded default store.Store: events, alerts and
// checks in one SQLite database file, through modernc.org/sqlite (pure Go, no
// cgo). It serves `socd demo`, tests and single-node installations;
// production runs store/elastic against Elasticsearch. Both pass the suite in
// store/storetest.
//
// How it is laid out (schema.go has the details):
//   - Events keep their ECS document as written, plus columns for the hot
//     fields (event.dataset, event.category, event.kind, event.outcome,
//     host.name, source.ip, destination.ip, user.name) holding each field's
//     first value. A field that holds several values (event.category often
//     does) has them all in a side table, event_terms, and a bit in the row
//     says so, so a term matches any value of the field. Two indexes lead
//     with @timestamp (one after the organisation) and cover every hot
//     field: writes append to them, and a filter on hot fields within a time
//     range and scope is answered from an index alone.
//   - A term on any other field decodes the stored document with
//     pipeline/event (the SQL function egovsoc_has), so nested and dotted
//     keys, numbers, arrays and arrays of objects mean what they mean to the
//     detectors; a substring test rules most documents out first.
//   - Text search runs on contentless FTS5 tables (unicode61, diacritics
//     kept, as Elasticsearch's standard analyzer keeps them): an event's
//     message and main keyword fields, an alert's title and rule name. Each
//     word of a query is matched as a quoted phrase, so FTS5 syntax in it is
//     taken literally, and every word must appear.
//   - Alerts are small rows of what the queue filters and sorts on, with
//     indexes for its orders, and their documents in a table of their own.
//     An alert written again under its id is merged into the stored one
//     (store.MergeAlertDoc) in the write transaction; the stored document
//     is read only when the insert was ignored.
//   - Pages are keyset-paged: the cursor is the sort key of the last row.
//
// Only cmd/ opens a Store and hands it, as a store.Store, to the packages that
// need one; nothing else imports this package. It imports pipeline/event,
// pipeline/store, modernc.org/sqlite and zerolog, and must never import ui,
// rules, sensors or another adapter.
package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/egovsoc/egovsoc/pipeline/store"
)

// Options configure Open. Zero fields take defaults.
type Options struct {
	// Path is the database file; it and its directory are created if
	// missing. Required.
	Path string
	// Logger receives what the store does on its own (opening, migrating);
	// the zero Logger discards.
	Logger zerolog.Logger
	// Readers bounds the read connections; 0 means max(4, GOMAXPROCS).
	Readers int
	// BusyTimeout is how long a connection waits for a lock held by another
	// process before failing with ErrUnavailable; 0 means 5s.
	BusyTimeout time.Duration
}

// Store is the SQLite store. It is safe for concurrent use.
//
// It holds two database handles on the one file. The writer has a single
// connection, so writes are serialised in this process (SQLite allows one
// writer at a time anyway; queueing them here, under wmu, is cheaper and more
// predictable than letting connections collide on the lock and spin in
// busy_timeout) and its prepared statements are reused by every batch. The
// readers are a pool of query_only connections: in WAL mode they read a
// consistent snapshot while the writer writes, and a long query never holds up
// a write, nor a write a query.
type Store struct {
	w   *sql.DB
	r   *sql.DB
	log zerolog.Logger

	wmu          sync.Mutex // serialises Write and Close
	closed       bool
	lastOptimize time.Time
	ins          insertStmts
}

var _ store.Store = (*Store)(nil)

// drv is this package's own instance of the modernc.org/sqlite driver (the
// one registered as "sqlite"), so the SQL functions it registers reach only
// the connections this package opens.
var drv = &sqlite.Driver{}

func init() {
	drv.MustRegisterFunction(funcHas, &sqlite.FunctionImpl{NArgs: -1, Deterministic: true, Scalar: has, VolatileArgs: true})
}

type connector struct{ dsn string }

func (c connector) Connect(ctx context.Context) (driver.Conn, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return drv.Open(c.dsn)
}

func (c connector) Driver() driver.Driver { return drv }

// dsn builds a file: URI (so any character in the path is escaped) with the
// driver's parameters.
func dsn(path string, params url.Values) string {
	u := url.URL{Scheme: "file", Path: path, RawQuery: params.Encode()}
	return u.String()
}

// Open opens (creating or migrating) the database at opts.Path.
func Open(ctx context.Context, opts Options) (*Store, error) {
	if opts.Path == "" {
		return nil, errors.New("sqlite store: Options.Path is required")
	}
	path, err := filepath.Abs(opts.Path)
	if err != nil {
		return nil, fmt.Errorf("sqlite store: Options.Path: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("sqlite store: %w", err)
	}
	readers := opts.Readers
	if readers <= 0 {
		readers = max(4, runtime.GOMAXPROCS(0))
	}
	busy := opts.BusyTimeout
	if busy <= 0 {
		busy = 5 * time.Second
	}
	busyMS := fmt.Sprint(busy.Milliseconds())

	w := sql.OpenDB(connector{dsn(path, url.Values{
		"_txlock":       {"immediate"},
		"_busy_timeout": {busyMS},
		"_journal_mode": {"WAL"},
		"_synchronous":  {"NORMAL"},
		"_foreign_keys": {"1"},
		"_pragma":       {"temp_store(MEMORY)", "cache_size(-65536)", "analysis_limit(1000)", "wal_autocheckpoint(10000)"},
	})})
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	s := &Store{w: w, log: opts.Logger, lastOptimize: time.Now()}

	from, to, err := migrate(ctx, w)
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite store %s: %w", path, classify(err))
	}
	if err := s.ins.prepare(ctx, w); err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite store %s: %w", path, classify(err))
	}
	// Planner statistics for tables that need them (bounded by analysis_limit).
	if _, err := w.ExecContext(ctx, "PRAGMA optimize=0x10002"); err != nil {
		s.log.Warn().Err(err).Str("path", path).Msg("sqlite store: optimize")
	}

	r := sql.OpenDB(connector{dsn(path, url.Values{
		"_busy_timeout": {busyMS},
		"_query_only":   {"1"},
		"_pragma":       {"temp_store(MEMORY)", "cache_size(-16384)"},
	})})
	r.SetMaxOpenConns(readers)
	r.SetMaxIdleConns(readers)
	if err := r.PingContext(ctx); err != nil {
		r.Close()
		s.ins.close()
		w.Close()
		return nil, fmt.Errorf("sqlite store %s: readers: %w", path, classify(err))
	}
	s.r = r

	ev := s.log.Info().Str("path", path).Int("schema", to)
	if from != to {
		ev = ev.Int("migrated_from", from)
	}
	ev.Msg("sqlite store open")
	return s, nil
}

// Close runs PRAGMA optimize, so the next Open has planner statistics, and
// closes the database. Calls in flight finish first; later calls fail.
func (s *Store) Close() error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	if _, err := s.w.Exec("PRAGMA optimize"); err != nil {
		s.log.Warn().Err(err).Msg("sqlite store: optimize")
	}
	return errors.Join(s.r.Close(), s.ins.close(), s.w.Close())
}

// errClosed is returned by Write after Close.
var errClosed = errors.New("sqlite store: closed")

// classify wraps the SQLite errors that may pass (a lock held too long, a
// full or read-only disk, an I/O error, a file that cannot be opened) in
// store.ErrUnavailable.
func classify(err error) error {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return err
	}
	switch se.Code() & 0xff {
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_NOMEM, sqlite3.SQLITE_READONLY,
		sqlite3.SQLITE_IOERR, sqlite3.SQLITE_FULL, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_PROTOCOL:
		return fmt.Errorf("%w: %w", store.ErrUnavailable, err)
	}
	return err
}

// setQueryOnly turns the writer connection read-only, or back: a test hook
// for the read-only disk that root, who ignores file permissions, cannot
// otherwise simulate.
func (s *Store) setQueryOnly(ctx context.Context, on bool) error {
	v := "OFF"
	if on {
		v = "ON"
	}
	_, err := s.w.ExecContext(ctx, "PRAGMA query_only = "+v)
	return err
}
