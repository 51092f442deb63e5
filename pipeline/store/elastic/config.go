package elastic

import (
	"crypto/tls"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/rs/zerolog"
)

// Config configures a Store. The zero value of every optional field picks
// the default named in its comment.
type Config struct {
	// Addresses of the cluster's nodes, such as "https://es1:9200".
	// Required.
	Addresses []string

	// Username and Password for HTTP basic authentication, or APIKey (the
	// base64 "id:key" Elasticsearch hands out), which wins when both are
	// set.
	Username string
	Password string
	APIKey   string

	// CACert holds PEM certificates of the authorities that sign the
	// cluster's certificate. CertificateFingerprint (SHA-256, hex, as
	// Elasticsearch prints it on first start) pins the certificate instead.
	CACert                 []byte
	CertificateFingerprint string
	// TLS configures the client side of TLS (client certificates, a
	// minimum version). Leave nil for the defaults. It cannot be combined
	// with Transport.
	TLS *tls.Config

	// Prefix starts the name of everything the store creates: lifecycle
	// policies, templates, data streams and indices (default "egovsoc").
	// Lowercase letters, digits, '-', '_' and '.', starting with a letter
	// or digit.
	Prefix string

	// Refresh is the refresh policy of writes: "false" (default; documents
	// become searchable within the index refresh interval, about a
	// second), "wait_for" (Write returns once they are searchable; what a
	// test that reads its own writes needs) or "true" (force a refresh;
	// costly, tests only).
	Refresh string

	// Retention is how long documents are kept before the lifecycle policy
	// deletes them: events 180 days, alerts and checks 400 days by default.
	EventRetention time.Duration
	AlertRetention time.Duration
	CheckRetention time.Duration

	// Rollover of the events and checks data streams: a new backing index
	// when the current one is RolloverMaxAge old (default 30 days) or its
	// largest primary shard holds RolloverMaxPrimaryShardSize (default
	// "50gb"), whichever comes first.
	RolloverMaxAge              time.Duration
	RolloverMaxPrimaryShardSize string

	// Shards is the number of primary shards of each new index (default 1).
	// Replicas, when set, is the number of replicas; nil leaves the
	// cluster's default (1).
	Shards   int
	Replicas *int

	// MaxRetries bounds how often the client repeats a whole request that
	// failed with 429, 502, 503 or 504 or could not connect (default 3; a
	// negative value disables those retries).
	MaxRetries int
	// ItemRetries bounds how often Write resends the documents of a bulk
	// request that the cluster refused for the moment (429,
	// es_rejected_execution_exception, 5xx) or left out of its reply
	// (default 3; a negative value sends each document once).
	ItemRetries int
	// Backoff is how long to wait before retry number attempt (1, 2, …),
	// for whole requests and for items. The default doubles from 100ms up
	// to 5s, with jitter.
	Backoff func(attempt int) time.Duration

	// MaxBulkBytes bounds the body of one bulk request; a larger batch is
	// sent as several requests (default 8 MiB). A single document larger
	// than this is still sent, alone.
	MaxBulkBytes int

	// Transport, when set, carries every HTTP request (tests use it to
	// inject faults). Nil uses the client's default transport.
	Transport http.RoundTripper

	// Logger receives retries and failures (default: discard).
	Logger *zerolog.Logger
}

// Defaults.
const (
	DefaultPrefix         = "egovsoc"
	DefaultEventRetention = 180 * 24 * time.Hour
	DefaultAlertRetention = 400 * 24 * time.Hour
	DefaultCheckRetention = 400 * 24 * time.Hour
	defaultRolloverAge    = 30 * 24 * time.Hour
	defaultRolloverSize   = "50gb"
	defaultMaxRetries     = 3
	defaultItemRetries    = 3
	defaultMaxBulkBytes   = 8 << 20
)

// withDefaults returns cfg with every zero optional field set, or an error
// naming the first field that is wrong.
func (cfg Config) withDefaults() (Config, error) {
	if len(cfg.Addresses) == 0 {
		return cfg, errors.New("elastic: Config.Addresses is empty")
	}
	for i, a := range cfg.Addresses {
		if a == "" {
			return cfg, fmt.Errorf("elastic: Config.Addresses[%d] is empty", i)
		}
	}
	if cfg.Prefix == "" {
		cfg.Prefix = DefaultPrefix
	}
	if err := validPrefix(cfg.Prefix); err != nil {
		return cfg, fmt.Errorf("elastic: Config.Prefix %q: %w", cfg.Prefix, err)
	}
	switch cfg.Refresh {
	case "":
		cfg.Refresh = "false"
	case "false", "true", "wait_for":
	default:
		return cfg, fmt.Errorf("elastic: Config.Refresh %q: want \"false\", \"true\" or \"wait_for\"", cfg.Refresh)
	}
	for _, r := range []struct {
		name string
		d    *time.Duration
		def  time.Duration
	}{
		{"EventRetention", &cfg.EventRetention, DefaultEventRetention},
		{"AlertRetention", &cfg.AlertRetention, DefaultAlertRetention},
		{"CheckRetention", &cfg.CheckRetention, DefaultCheckRetention},
		{"RolloverMaxAge", &cfg.RolloverMaxAge, defaultRolloverAge},
	} {
		switch {
		case *r.d == 0:
			*r.d = r.def
		case *r.d < time.Hour:
			return cfg, fmt.Errorf("elastic: Config.%s %v: want at least an hour", r.name, *r.d)
		}
	}
	if cfg.RolloverMaxPrimaryShardSize == "" {
		cfg.RolloverMaxPrimaryShardSize = defaultRolloverSize
	}
	if !validByteSize(cfg.RolloverMaxPrimaryShardSize) {
		return cfg, fmt.Errorf("elastic: Config.RolloverMaxPrimaryShardSize %q: want a size such as \"50gb\"", cfg.RolloverMaxPrimaryShardSize)
	}
	switch {
	case cfg.Shards == 0:
		cfg.Shards = 1
	case cfg.Shards < 0 || cfg.Shards > 1024:
		return cfg, fmt.Errorf("elastic: Config.Shards %d: want 1 to 1024", cfg.Shards)
	}
	if cfg.Replicas != nil && *cfg.Replicas < 0 {
		return cfg, fmt.Errorf("elastic: Config.Replicas %d: want 0 or more", *cfg.Replicas)
	}
	if cfg.MaxRetries == 0 {
		cfg.MaxRetries = defaultMaxRetries
	}
	switch {
	case cfg.ItemRetries == 0:
		cfg.ItemRetries = defaultItemRetries
	case cfg.ItemRetries < 0:
		cfg.ItemRetries = 0
	}
	if cfg.Backoff == nil {
		cfg.Backoff = defaultBackoff
	}
	switch {
	case cfg.MaxBulkBytes == 0:
		cfg.MaxBulkBytes = defaultMaxBulkBytes
	case cfg.MaxBulkBytes < 0:
		return cfg, fmt.Errorf("elastic: Config.MaxBulkBytes %d: want 0 or more", cfg.MaxBulkBytes)
	}
	if cfg.TLS != nil && cfg.Transport != nil {
		return cfg, errors.New("elastic: Config.TLS and Config.Transport are both set: configure TLS on the transport")
	}
	if cfg.Logger == nil {
		l := zerolog.Nop()
		cfg.Logger = &l
	}
	return cfg, nil
}

// validPrefix accepts what Elasticsearch accepts at the start of an index
// and data stream name, made stricter: no uppercase, no characters that
// would need escaping in a URL path or that are wildcards in an index
// expression.
func validPrefix(p string) error {
	if len(p) > 100 {
		return errors.New("longer than 100 bytes")
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case (c == '-' || c == '_' || c == '.') && i > 0:
		default:
			return fmt.Errorf("character %q at %d: want lowercase letters, digits, '-', '_' or '.', starting with a letter or digit", c, i)
		}
	}
	return nil
}

// validByteSize accepts an Elasticsearch byte size: digits and a unit.
func validByteSize(s string) bool {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 {
		return false
	}
	switch s[i:] {
	case "b", "kb", "mb", "gb", "tb", "pb":
		return true
	}
	return false
}

// defaultBackoff doubles from 100ms to at most 5s, with up to 50% jitter so
// that many writers do not come back at the same instant.
func defaultBackoff(attempt int) time.Duration {
	if attempt < 1 {
		attempt = 1
	}
	d := 100 * time.Millisecond << min(attempt-1, 6)
	d = min(d, 5*time.Second)
	return d/2 + rand.N(d/2+1)
}
