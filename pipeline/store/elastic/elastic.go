package elastic

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/elastic/go-elasticsearch/v8"
	"github.com/elastic/go-elasticsearch/v8/esapi"

	"github.com/egovsoc/egovsoc/pipeline/store"
)

// Store is the Elasticsearch implementation of store.Store. It is safe for
// concurrent use.
type Store struct {
	cfg Config
	es  *elasticsearch.Client
}

var _ store.Store = (*Store)(nil)

// Open connects to the cluster, checks that it is Elasticsearch 8.7 or later,
// and makes sure the lifecycle policies, component templates and index
// templates are in place (creating or updating them; doing it again changes
// nothing). Data streams and alert indices are created by the first write
// that needs them.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	ecfg := elasticsearch.Config{
		Addresses:              cfg.Addresses,
		Username:               cfg.Username,
		Password:               cfg.Password,
		APIKey:                 cfg.APIKey,
		CACert:                 cfg.CACert,
		CertificateFingerprint: cfg.CertificateFingerprint,
		// The transport retries whole requests that failed for the moment.
		// 429 is not among its defaults; it is here, because a cluster
		// that pushes back wants the same request later, not never.
		RetryOnStatus: []int{http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout},
		MaxRetries:    cfg.MaxRetries,
		DisableRetry:  cfg.MaxRetries < 0,
		RetryBackoff:  cfg.Backoff,
		Transport:     cfg.Transport,
	}
	if cfg.TLS != nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.TLSClientConfig = cfg.TLS.Clone()
		ecfg.Transport = t
	}
	es, err := elasticsearch.NewClient(ecfg)
	if err != nil {
		return nil, fmt.Errorf("elastic: client: %w", err)
	}
	s := &Store{cfg: cfg, es: es}
	if err := s.setup(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// Close releases the client. Reads and writes after Close fail.
func (s *Store) Close() error {
	err := s.es.Close(context.Background())
	if errors.Is(err, elasticsearch.ErrAlreadyClosed) {
		return nil
	}
	return err
}

// setup checks the cluster and installs policies and templates.
func (s *Store) setup(ctx context.Context) error {
	var info struct {
		Version struct {
			Number string `json:"number"`
		} `json:"version"`
	}
	if err := s.do(ctx, "read cluster info", esapi.InfoRequest{}, &info); err != nil {
		return err
	}
	if !atLeast(info.Version.Number, 8, 7) {
		return fmt.Errorf("elastic: the cluster runs Elasticsearch %q; 8.7 or later is required (index templates with optional @custom components)", info.Version.Number)
	}

	pols := s.policies()
	names := make([]string, 0, len(pols))
	for n := range pols {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		body, err := json.Marshal(pols[n])
		if err != nil {
			return err
		}
		if err := s.do(ctx, "put lifecycle policy "+n, esapi.ILMPutLifecycleRequest{Policy: n, Body: bytes.NewReader(body)}, nil); err != nil {
			return err
		}
	}
	for _, c := range s.componentTemplates() {
		body, err := json.Marshal(c.body)
		if err != nil {
			return err
		}
		if err := s.do(ctx, "put component template "+c.name, esapi.ClusterPutComponentTemplateRequest{Name: c.name, Body: bytes.NewReader(body)}, nil); err != nil {
			return err
		}
	}
	for _, t := range s.indexTemplates() {
		body, err := json.Marshal(t.body)
		if err != nil {
			return err
		}
		if err := s.do(ctx, "put index template "+t.name, esapi.IndicesPutIndexTemplateRequest{Name: t.name, Body: bytes.NewReader(body)}, nil); err != nil {
			return err
		}
	}
	return nil
}

// atLeast reports whether a version number such as "8.19.7" is at least
// major.minor.
func atLeast(version string, major, minor int) bool {
	parts := strings.SplitN(version, ".", 3)
	if len(parts) < 2 {
		return false
	}
	ma, err1 := strconv.Atoi(parts[0])
	mi, err2 := strconv.Atoi(parts[1])
	if err1 != nil || err2 != nil {
		return false
	}
	return ma > major || ma == major && mi >= minor
}

// request is what every esapi request type is.
type request interface {
	Do(ctx context.Context, t esapi.Transport) (*esapi.Response, error)
}

// do runs a request and decodes a 2xx reply into out (when not nil). A
// failure is described by what, and wraps store.ErrUnavailable when it may
// pass (no connection, 429, 5xx), store.ErrInvalid for a 400.
func (s *Store) do(ctx context.Context, what string, req request, out any) error {
	res, err := req.Do(ctx, s.es)
	if err != nil {
		return requestError(what, err)
	}
	defer res.Body.Close()
	if res.IsError() {
		return replyError(what, res)
	}
	if out == nil {
		_, _ = io.Copy(io.Discard, res.Body)
		return nil
	}
	dec := json.NewDecoder(res.Body)
	dec.UseNumber()
	if err := dec.Decode(out); err != nil {
		return fmt.Errorf("elastic: %s: read reply: %w: %w", what, store.ErrUnavailable, err)
	}
	return nil
}

// requestError describes a request that got no reply. A closed client, a
// product check that failed or a cancelled context are not worth retrying;
// anything else (a refused or broken connection, a timeout) may pass.
func requestError(what string, err error) error {
	if errors.Is(err, elasticsearch.ErrClosed) || errors.Is(err, context.Canceled) ||
		strings.Contains(err.Error(), "not Elasticsearch") {
		return fmt.Errorf("elastic: %s: %w", what, err)
	}
	return fmt.Errorf("elastic: %s: %w: %w", what, store.ErrUnavailable, err)
}

// esError is the error object of an Elasticsearch reply.
type esError struct {
	Type     string   `json:"type"`
	Reason   string   `json:"reason"`
	CausedBy *esError `json:"caused_by,omitempty"`
}

func (e *esError) String() string {
	if e == nil {
		return "no reason given"
	}
	s := e.Type + ": " + e.Reason
	if e.CausedBy != nil {
		s += " (caused by " + e.CausedBy.String() + ")"
	}
	return s
}

// StatusError is a non-2xx reply of the cluster to a whole request. It
// wraps store.ErrUnavailable when it may pass (408, 429, 5xx).
type StatusError struct {
	What   string // what was being done
	Status int    // HTTP status
	Type   string // Elasticsearch error type, when the reply names one
	Reason string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("elastic: %s: status %d: %s", e.What, e.Status, e.Reason)
}

// Unwrap gives store.ErrUnavailable for a failure that may pass.
func (e *StatusError) Unwrap() error {
	switch {
	case e.Status == http.StatusTooManyRequests, e.Status == http.StatusRequestTimeout, e.Status >= 500:
		return store.ErrUnavailable
	}
	return nil
}

// replyError describes a non-2xx reply.
func replyError(what string, res *esapi.Response) error {
	var body struct {
		Error json.RawMessage `json:"error"`
	}
	raw, _ := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	se := &StatusError{What: what, Status: res.StatusCode, Reason: strings.TrimSpace(string(raw))}
	if json.Unmarshal(raw, &body) == nil && len(body.Error) > 0 {
		var e esError
		if json.Unmarshal(body.Error, &e) == nil && e.Type != "" {
			se.Type, se.Reason = e.Type, e.String()
		} else {
			se.Reason = string(body.Error)
		}
	}
	if len(se.Reason) > 1000 {
		se.Reason = se.Reason[:1000] + "…"
	}
	return se
}
