// Package ui serves socd's web console and its JSON API: server-rendered
// pages (html/template, embedded, no build step) in Vietnamese first and
// English second, over the Store contract and always within the caller's
// scope.
//
// It knows pipeline/event, pipeline/store's contract and pipeline/catalog,
// never the Kafka, Elasticsearch or SQLite adapters.
package ui

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/egovsoc/egovsoc/pipeline/catalog"
	"github.com/egovsoc/egovsoc/pipeline/event"
	"github.com/egovsoc/egovsoc/pipeline/store"
)

//go:embed templates/*.html
var templateFS embed.FS

// PipelineStats are the counters of socd's pipeline shown on the console.
type PipelineStats struct {
	Received    int64
	Stored      int64
	Alerts      int64
	DeadLetters int64
	Retries     int64
}

// Options configures the console.
type Options struct {
	Store    store.Store      // required
	Catalog  *catalog.Catalog // required
	Auth     Authenticator    // required
	Pipeline func() PipelineStats
	Logger   zerolog.Logger
	Now      func() time.Time
}

// Server is the console.
type Server struct {
	opts Options
	tmpl *template.Template
	mux  *http.ServeMux
}

// New builds the console.
func New(opts Options) (*Server, error) {
	switch {
	case opts.Store == nil:
		return nil, errors.New("ui: store is required")
	case opts.Catalog == nil:
		return nil, errors.New("ui: catalog is required")
	case opts.Auth == nil:
		return nil, errors.New("ui: auth is required")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Pipeline == nil {
		opts.Pipeline = func() PipelineStats { return PipelineStats{} }
	}
	s := &Server{opts: opts, mux: http.NewServeMux()}
	funcs := template.FuncMap{
		"t":    T,
		"time": func(t time.Time) string { return t.Local().Format("2006-01-02 15:04:05") },
		"num":  formatInt,
		"sevclass": func(sev event.Severity) string {
			return "sev-" + string(sev)
		},
		"add": func(a, b int) int { return a + b },
		"orgname": func(code string, lang Lang) string {
			if o, ok := opts.Catalog.Org(code); ok {
				return o.Name(string(lang))
			}
			return code
		},
	}
	tmpl, err := template.New("").Funcs(funcs).ParseFS(templateFS, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("ui: templates: %w", err)
	}
	s.tmpl = tmpl
	s.mux.HandleFunc("GET /{$}", s.authed(s.overview))
	s.mux.HandleFunc("GET /api/v1/alerts", s.authed(s.apiAlerts))
	s.mux.HandleFunc("GET /api/v1/alerts/{id}", s.authed(s.apiAlert))
	s.mux.HandleFunc("GET /api/v1/events", s.authed(s.apiEvents))
	s.mux.HandleFunc("GET /api/v1/summary", s.authed(s.apiSummary))
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	return s, nil
}

// Handler returns the console's handler with its security headers.
func (s *Server) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-store")
		s.mux.ServeHTTP(w, r)
	})
}

// Run serves on addr until ctx is cancelled, then shuts down gracefully.
func (s *Server) Run(ctx context.Context, addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("ui: listen %s: %w", addr, err)
	}
	return s.Serve(ctx, ln)
}

// Serve serves on ln until ctx is cancelled.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	s.opts.Logger.Info().Str("addr", ln.Addr().String()).Msg("console listening")
	select {
	case err := <-errc:
		return fmt.Errorf("ui: serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}

type ctxKey struct{}

func (s *Server) authed(h func(http.ResponseWriter, *http.Request, Principal)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p, err := s.opts.Auth.Authenticate(r)
		if err != nil {
			http.Error(w, "401 unauthenticated", http.StatusUnauthorized)
			return
		}
		h(w, r, p)
	}
}

func lang(r *http.Request) Lang {
	if r.URL.Query().Get("lang") == "en" {
		return LangEN
	}
	return LangVI
}

// orgFilter reads ?org=, checked against the catalogue.
func (s *Server) orgFilter(r *http.Request) ([]string, error) {
	code := r.URL.Query().Get("org")
	if code == "" {
		return nil, nil
	}
	if _, ok := s.opts.Catalog.Org(code); !ok {
		return nil, fmt.Errorf("unknown organisation %q", code)
	}
	return s.opts.Catalog.Subtree(code), nil
}

type orgRow struct {
	Org    *catalog.Org
	Events int64
	Alerts int64
}

type overviewData struct {
	Lang      Lang
	Other     Lang
	Org       *catalog.Org
	OrgQuery  string
	Rows      []orgRow
	Alerts    []event.Alert
	Events    []eventRow
	Hist      histogram
	Pipeline  PipelineStats
	EventsAll int64
	AlertsAll int64
	Principal Principal
}

type eventRow struct {
	Time    time.Time
	Org     string
	Dataset string
	Summary string
}

func (s *Server) overview(w http.ResponseWriter, r *http.Request, p Principal) {
	ctx := r.Context()
	ln := lang(r)
	orgs, err := s.orgFilter(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	now := s.opts.Now()
	d := overviewData{Lang: ln, Other: LangEN, Pipeline: s.opts.Pipeline(), Principal: p}
	if ln == LangEN {
		d.Other = LangVI
	}
	if code := r.URL.Query().Get("org"); code != "" {
		d.Org, _ = s.opts.Catalog.Org(code)
		d.OrgQuery = code
	}
	scope := p.Scope.Restrict(orgs)
	evCounts, err := s.opts.Store.CountByOrg(ctx, scope, store.KindEvent, now.Add(-24*time.Hour), now.Add(time.Minute))
	if err != nil {
		s.fail(w, "count events", err)
		return
	}
	alCounts, err := s.opts.Store.CountByOrg(ctx, scope, store.KindAlert, now.Add(-24*time.Hour), now.Add(time.Minute))
	if err != nil {
		s.fail(w, "count alerts", err)
		return
	}
	for _, o := range s.opts.Catalog.Orgs() {
		if !scope.Allows(o.Code) {
			continue
		}
		row := orgRow{Org: o, Events: evCounts[o.Code], Alerts: alCounts[o.Code]}
		d.EventsAll += row.Events
		d.AlertsAll += row.Alerts
		if row.Events > 0 || row.Alerts > 0 {
			d.Rows = append(d.Rows, row)
		}
	}
	ap, err := s.opts.Store.Alerts(ctx, scope, store.AlertQuery{Limit: 25})
	if err != nil {
		s.fail(w, "query alerts", err)
		return
	}
	d.Alerts = ap.Alerts
	ep, err := s.opts.Store.Events(ctx, scope, store.EventQuery{Limit: 25})
	if err != nil {
		s.fail(w, "query events", err)
		return
	}
	for _, h := range ep.Hits {
		d.Events = append(d.Events, summarise(h))
	}
	from := now.Add(-30 * time.Minute).Truncate(time.Minute)
	buckets, err := s.opts.Store.Histogram(ctx, scope, store.HistogramQuery{Kind: store.KindEvent, From: from, To: now.Truncate(time.Minute).Add(time.Minute), Interval: time.Minute})
	if err != nil {
		s.fail(w, "histogram", err)
		return
	}
	d.Hist = makeHistogram(buckets)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := s.tmpl.ExecuteTemplate(w, "overview.html", d); err != nil {
		s.opts.Logger.Error().Err(err).Msg("render overview")
	}
}

// summarise picks the line an analyst reads first for an event.
func summarise(h store.Hit) eventRow {
	row := eventRow{Time: h.Time, Org: h.Org}
	e, err := event.Decode(h.Source)
	if err != nil {
		row.Summary = "(undecodable)"
		return row
	}
	row.Dataset = e.Text(event.FieldDataset)
	get := func(p string) string { return e.Text(event.Path(p)) }
	var parts []string
	add := func(s string) {
		if s != "" {
			parts = append(parts, s)
		}
	}
	switch {
	case e.Has(event.Path("url.original")):
		add(get("source.ip"))
		add(get("http.request.method"))
		add(get("url.domain") + get("url.original"))
		add(get("http.response.status_code"))
	case e.Has(event.Path("dns.question.name")):
		add(get("source.ip"))
		add(get("dns.question.type"))
		add(get("dns.question.name"))
		add(get("dns.response_code"))
	case e.Has(event.FieldMessage):
		add(get("message"))
	default:
		add(get("source.ip") + ":" + get("source.port"))
		add("→ " + get("destination.ip") + ":" + get("destination.port"))
		add(get("network.transport"))
		add(get("event.outcome"))
		add(get("user.name"))
	}
	row.Summary = strings.Join(parts, " ")
	if len(row.Summary) > 240 {
		row.Summary = row.Summary[:240] + "…"
	}
	return row
}

type histogram struct {
	Bars []bar
	Max  int64
	W, H int
}

type bar struct {
	X, Y, W, H int
	Label      string
}

func makeHistogram(bs []store.Bucket) histogram {
	h := histogram{W: 600, H: 80}
	for _, b := range bs {
		h.Max = max(h.Max, b.Count)
	}
	if len(bs) == 0 {
		return h
	}
	bw := h.W / len(bs)
	for i, b := range bs {
		height := 0
		if h.Max > 0 {
			height = int(b.Count * int64(h.H-2) / h.Max)
		}
		h.Bars = append(h.Bars, bar{X: i * bw, Y: h.H - height, W: max(bw-1, 1), H: height,
			Label: b.Start.Local().Format("15:04") + " — " + strconv.FormatInt(b.Count, 10)})
	}
	return h
}

func formatInt(n int64) string {
	s := strconv.FormatInt(n, 10)
	if len(s) <= 3 {
		return s
	}
	var b strings.Builder
	pre := len(s) % 3
	if pre > 0 {
		b.WriteString(s[:pre])
	}
	for i := pre; i < len(s); i += 3 {
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(s[i : i+3])
	}
	return b.String()
}

func (s *Server) fail(w http.ResponseWriter, what string, err error) {
	if errors.Is(err, store.ErrInvalid) {
		http.Error(w, what+": "+err.Error(), http.StatusBadRequest)
		return
	}
	if errors.Is(err, store.ErrNotFound) {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	s.opts.Logger.Error().Err(err).Str("op", what).Msg("console request failed")
	http.Error(w, what+" failed", http.StatusServiceUnavailable)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	_ = enc.Encode(v)
}

func (s *Server) apiAlerts(w http.ResponseWriter, r *http.Request, p Principal) {
	q := r.URL.Query()
	orgs, err := s.orgFilter(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	aq := store.AlertQuery{Orgs: orgs, Text: q.Get("q"), After: q.Get("after"), Sort: store.AlertSort(q.Get("sort"))}
	if v := q.Get("status"); v != "" {
		aq.Status = strings.Split(v, ",")
	}
	if v := q.Get("rule"); v != "" {
		aq.RuleIDs = strings.Split(v, ",")
	}
	if v := q.Get("severity"); v != "" {
		sev, err := event.ParseSeverity(v)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		aq.MinSeverity = sev
	}
	if aq.Limit, err = intParam(q.Get("limit")); err != nil {
		http.Error(w, "limit: "+err.Error(), http.StatusBadRequest)
		return
	}
	page, err := s.opts.Store.Alerts(r.Context(), p.Scope, aq)
	if err != nil {
		s.fail(w, "query alerts", err)
		return
	}
	out := struct {
		Total  int64          `json:"total"`
		Next   string         `json:"next,omitempty"`
		Alerts []*event.Alert `json:"alerts"`
	}{Total: page.Total, Next: page.Next, Alerts: make([]*event.Alert, len(page.Alerts))}
	for i := range page.Alerts {
		out.Alerts[i] = &page.Alerts[i]
	}
	writeJSON(w, out)
}

func (s *Server) apiAlert(w http.ResponseWriter, r *http.Request, p Principal) {
	a, err := s.opts.Store.Alert(r.Context(), p.Scope, r.PathValue("id"))
	if err != nil {
		s.fail(w, "get alert", err)
		return
	}
	writeJSON(w, &a)
}

func (s *Server) apiEvents(w http.ResponseWriter, r *http.Request, p Principal) {
	q := r.URL.Query()
	orgs, err := s.orgFilter(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	eq := store.EventQuery{Orgs: orgs, Text: q.Get("q"), After: q.Get("after")}
	for _, f := range []string{"event.dataset", "event.category", "event.outcome", "host.name", "source.ip", "user.name"} {
		if v := q.Get(f); v != "" {
			eq.Terms = append(eq.Terms, store.Term{Field: f, Values: strings.Split(v, ",")})
		}
	}
	if eq.Limit, err = intParam(q.Get("limit")); err != nil {
		http.Error(w, "limit: "+err.Error(), http.StatusBadRequest)
		return
	}
	page, err := s.opts.Store.Events(r.Context(), p.Scope, eq)
	if err != nil {
		s.fail(w, "search events", err)
		return
	}
	out := struct {
		Total  int64             `json:"total"`
		Next   string            `json:"next,omitempty"`
		Events []json.RawMessage `json:"events"`
	}{Total: page.Total, Next: page.Next, Events: make([]json.RawMessage, len(page.Hits))}
	for i, h := range page.Hits {
		out.Events[i] = h.Source
	}
	writeJSON(w, out)
}

func (s *Server) apiSummary(w http.ResponseWriter, r *http.Request, p Principal) {
	now := s.opts.Now()
	ev, err := s.opts.Store.CountByOrg(r.Context(), p.Scope, store.KindEvent, now.Add(-24*time.Hour), now.Add(time.Minute))
	if err != nil {
		s.fail(w, "count events", err)
		return
	}
	al, err := s.opts.Store.CountByOrg(r.Context(), p.Scope, store.KindAlert, now.Add(-24*time.Hour), now.Add(time.Minute))
	if err != nil {
		s.fail(w, "count alerts", err)
		return
	}
	writeJSON(w, map[string]any{"events_24h": ev, "alerts_24h": al, "pipeline": s.opts.Pipeline()})
}

func intParam(s string) (int, error) {
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%q is not a non-negative integer", s)
	}
	return n, nil
}
