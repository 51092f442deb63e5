package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/rs/zerolog"

	"github.com/egovsoc/egovsoc/pipeline/catalog"
	"github.com/egovsoc/egovsoc/rules/pack"
	"github.com/egovsoc/egovsoc/rules/sigma"
)

// rulesConfig says which detection rules socd runs. Rule trees are watched:
// a change is loaded, validated and swapped in while socd runs.
type rulesConfig struct {
	// Pack runs egovsoc's own rule pack (embedded in the binary).
	Pack bool `yaml:"pack"`
	// Dirs are more trees of Sigma rules (SigmaHQ's, an agency's own).
	Dirs []ruleDir `yaml:"dirs"`
	// Exceptions is a YAML file of exceptions (see sigma.ParseExceptions).
	Exceptions string `yaml:"exceptions"`
	// Placeholders are the values of %name% for rules using |expand.
	Placeholders map[string][]string `yaml:"placeholders"`
	// StateDir keeps correlation windows and folded alerts across restarts.
	StateDir string `yaml:"state_dir"`
	// Reload is how often the rule trees and exceptions are checked for
	// changes (default 10s; negative: never).
	Reload time.Duration `yaml:"reload"`
}

// ruleDir is one tree of rules and what its alerts say of their origin.
type ruleDir struct {
	Path    string `yaml:"path"`
	Ruleset string `yaml:"ruleset"` // rule.ruleset of its alerts, e.g. sigmahq
	License string `yaml:"license"` // rule.license when a rule names none, e.g. DRL-1.1
}

// ruleLoader builds rule sets and exceptions from a rulesConfig, and knows
// whether the files behind them changed.
type ruleLoader struct {
	cfg rulesConfig
	cat *catalog.Catalog
	log zerolog.Logger
}

// build loads every rule tree.
func (l *ruleLoader) build() (*sigma.RuleSet, *sigma.Report, error) {
	ld := sigma.NewLoader(sigma.LoadOptions{Placeholders: l.cfg.Placeholders})
	if l.cfg.Pack {
		if err := ld.AddFS(pack.FS(), ".", sigma.Origin{Ruleset: "egovsoc", License: "Apache-2.0"}); err != nil {
			return nil, nil, fmt.Errorf("rule pack: %w", err)
		}
	}
	for _, d := range l.cfg.Dirs {
		if err := ld.AddDir(d.Path, sigma.Origin{Ruleset: d.Ruleset, License: d.License}); err != nil {
			return nil, nil, fmt.Errorf("rules %s: %w", d.Path, err)
		}
	}
	rs, rep := ld.Build()
	return rs, rep, nil
}

func (l *ruleLoader) exceptions() (*sigma.Exceptions, error) {
	if l.cfg.Exceptions == "" {
		return nil, nil
	}
	b, err := os.ReadFile(l.cfg.Exceptions)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return sigma.ParseExceptions(b, l.cat.Subtree)
}

// fingerprint digests the names, sizes and times of every file behind the
// rules and exceptions: when it changes, they are loaded again.
func (l *ruleLoader) fingerprint() string {
	h := sha256.New()
	walk := func(root string) {
		filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return nil
			}
			if info, err := d.Info(); err == nil {
				fmt.Fprintf(h, "%s\x00%d\x00%d\n", p, info.Size(), info.ModTime().UnixNano())
			}
			return nil
		})
	}
	for _, d := range l.cfg.Dirs {
		walk(d.Path)
	}
	if l.cfg.Exceptions != "" {
		walk(l.cfg.Exceptions)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// newSigma loads the rules and starts the engine.
func newSigma(cfg rulesConfig, cat *catalog.Catalog, log zerolog.Logger) (*sigma.Engine, *ruleLoader, error) {
	l := &ruleLoader{cfg: cfg, cat: cat, log: log}
	rs, rep, err := l.build()
	if err != nil {
		return nil, nil, err
	}
	for _, r := range rep.Rejected {
		log.Debug().Str("rule", r.Pos.String()).Str("feature", r.Feature).Err(r.Err).Msg("sigma: rule rejected")
	}
	log.Info().Int("rules", rep.Rules).Int("correlations", rep.Correlations).Int("filters", rep.Filters).
		Int("rejected", len(rep.Rejected)).Str("index", rs.String()).Msg("sigma: rules loaded")
	e := sigma.New(rs, sigma.Options{StateDir: cfg.StateDir, Logger: log})
	xs, err := l.exceptions()
	if err != nil {
		return nil, nil, fmt.Errorf("exceptions %s: %w", cfg.Exceptions, err)
	}
	e.SetExceptions(xs)
	return e, l, nil
}

// watch reloads rules and exceptions when their files change. A new rule
// set replaces the running one only when it rejects nothing the running one
// loaded: a rule broken by an edit keeps its last good version running, and
// the error is logged until it is fixed.
func (l *ruleLoader) watch(ctx context.Context, e *sigma.Engine) error {
	every := l.cfg.Reload
	if every == 0 {
		every = 10 * time.Second
	}
	if every < 0 {
		return nil
	}
	last := l.fingerprint()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		fp := l.fingerprint()
		if fp == last {
			continue
		}
		last = fp
		l.reload(e)
	}
}

func (l *ruleLoader) reload(e *sigma.Engine) {
	rs, rep, err := l.build()
	if err != nil {
		l.log.Error().Err(err).Msg("sigma: reload failed; the running rules stay")
		return
	}
	if bad := newlyRejected(e.RuleSet().Report(), rep); len(bad) > 0 {
		for _, r := range bad {
			l.log.Error().Str("rule", r.Pos.String()).Str("feature", r.Feature).Err(r.Err).Msg("sigma: rule rejected on reload")
		}
		l.log.Error().Int("rejected", len(bad)).Msg("sigma: reload refused; the running rules stay until the rejected rules are fixed")
		return
	}
	if rs.Version() != e.RuleSet().Version() {
		e.Swap(rs)
	}
	xs, err := l.exceptions()
	if err != nil {
		l.log.Error().Err(err).Msg("sigma: exceptions not reloaded; the running ones stay")
		return
	}
	e.SetExceptions(xs)
}

// newlyRejected lists the rejections of next that prev did not have (by
// place and reason), so rules that never loaded do not block a reload.
func newlyRejected(prev, next *sigma.Report) []sigma.Rejection {
	known := map[string]bool{}
	if prev != nil {
		for _, r := range prev.Rejected {
			known[r.Pos.File+"\x00"+r.ID+"\x00"+r.Feature] = true
		}
	}
	var out []sigma.Rejection
	for _, r := range next.Rejected {
		if !known[r.Pos.File+"\x00"+r.ID+"\x00"+r.Feature] {
			out = append(out, r)
		}
	}
	return out
}
