package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/egovsoc/egovsoc/pipeline/bus"
	"github.com/egovsoc/egovsoc/pipeline/store"
	"github.com/egovsoc/egovsoc/pipeline/store/elastic"
	"github.com/egovsoc/egovsoc/pipeline/store/sqlite"
	"github.com/egovsoc/egovsoc/ui"
)

// fileConfig is socd's configuration file. Secrets are never written in it:
// they are read from the files it names (password_file, api_key_file), so
// the configuration can be shown and versioned.
type fileConfig struct {
	Catalog string `yaml:"catalog"` // catalogue file; empty: the built-in one
	Log     struct {
		Level string `yaml:"level"`
	} `yaml:"log"`
	Kafka struct {
		Brokers []string `yaml:"brokers"`
		TLS     struct {
			Enabled  bool   `yaml:"enabled"`
			CAFile   string `yaml:"ca_file"`
			CertFile string `yaml:"cert_file"`
			KeyFile  string `yaml:"key_file"`
		} `yaml:"tls"`
		SASL struct {
			Mechanism    string `yaml:"mechanism"`
			Username     string `yaml:"username"`
			PasswordFile string `yaml:"password_file"`
		} `yaml:"sasl"`
		CreateTopics bool `yaml:"create_topics"`
		Partitions   int  `yaml:"partitions"`
		Replication  int  `yaml:"replication"`
	} `yaml:"kafka"`
	Store struct {
		Kind   string `yaml:"kind"` // elasticsearch (default) or sqlite
		SQLite struct {
			Path string `yaml:"path"`
		} `yaml:"sqlite"`
		Elasticsearch struct {
			Addresses      []string `yaml:"addresses"`
			Username       string   `yaml:"username"`
			PasswordFile   string   `yaml:"password_file"`
			APIKeyFile     string   `yaml:"api_key_file"`
			CAFile         string   `yaml:"ca_file"`
			Fingerprint    string   `yaml:"ca_fingerprint"`
			Prefix         string   `yaml:"prefix"`
			EventRetention string   `yaml:"event_retention"`
			AlertRetention string   `yaml:"alert_retention"`
			Shards         int      `yaml:"shards"`
			Replicas       *int     `yaml:"replicas"`
		} `yaml:"elasticsearch"`
	} `yaml:"store"`
	Roles struct {
		Detect *bool `yaml:"detect"`
		Index  *bool `yaml:"index"`
	} `yaml:"roles"`
	UI struct {
		Listen string `yaml:"listen"`
	} `yaml:"ui"`
	Rules rulesConfig `yaml:"rules"`
}

func loadConfig(path string) (*fileConfig, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	var c fileConfig
	c.Rules.Pack = true // egovsoc's rule pack runs unless the file says pack: false
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	if len(c.Kafka.Brokers) == 0 {
		return nil, fmt.Errorf("config %s: kafka.brokers: at least one is required", path)
	}
	if c.Kafka.Partitions == 0 {
		c.Kafka.Partitions = 6
	}
	if c.Kafka.Replication == 0 {
		c.Kafka.Replication = 3
	}
	if c.Store.Kind == "" {
		c.Store.Kind = "elasticsearch"
	}
	if c.UI.Listen != "" && !ui.IsLoopbackAddr(c.UI.Listen) {
		return nil, fmt.Errorf("config %s: ui.listen %s: the console has no user accounts yet, so it listens on loopback only (put a reverse proxy with authentication in front)", path, c.UI.Listen)
	}
	return &c, nil
}

func readSecret(field, path string) (string, error) {
	if path == "" {
		return "", nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("%s: %w", field, err)
	}
	return strings.TrimSpace(string(b)), nil
}

func (c *fileConfig) busConfig() (bus.Config, error) {
	cfg := bus.Config{Brokers: c.Kafka.Brokers, ClientID: "socd"}
	k := c.Kafka
	if k.TLS.Enabled {
		tc := &tls.Config{MinVersion: tls.VersionTLS12}
		if k.TLS.CAFile != "" {
			pem, err := os.ReadFile(k.TLS.CAFile)
			if err != nil {
				return cfg, fmt.Errorf("kafka.tls.ca_file: %w", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return cfg, fmt.Errorf("kafka.tls.ca_file: no certificate in %s", k.TLS.CAFile)
			}
			tc.RootCAs = pool
		}
		if k.TLS.CertFile != "" {
			cert, err := tls.LoadX509KeyPair(k.TLS.CertFile, k.TLS.KeyFile)
			if err != nil {
				return cfg, fmt.Errorf("kafka.tls.cert_file: %w", err)
			}
			tc.Certificates = []tls.Certificate{cert}
		}
		cfg.TLS = tc
	}
	if k.SASL.Mechanism != "" {
		pw, err := readSecret("kafka.sasl.password_file", k.SASL.PasswordFile)
		if err != nil {
			return cfg, err
		}
		cfg.SASL = bus.SASL{Mechanism: k.SASL.Mechanism, Username: k.SASL.Username, Password: pw}
	}
	return cfg, cfg.Validate()
}

func (c *fileConfig) openStore(ctx context.Context) (store.Store, error) {
	switch c.Store.Kind {
	case "sqlite":
		if c.Store.SQLite.Path == "" {
			return nil, errors.New("store.sqlite.path is required")
		}
		return sqlite.Open(ctx, sqlite.Options{Path: c.Store.SQLite.Path})
	case "elasticsearch":
		e := c.Store.Elasticsearch
		cfg := elastic.Config{Addresses: e.Addresses, Username: e.Username, Prefix: e.Prefix,
			CertificateFingerprint: e.Fingerprint, Shards: e.Shards, Replicas: e.Replicas}
		var err error
		if cfg.Password, err = readSecret("store.elasticsearch.password_file", e.PasswordFile); err != nil {
			return nil, err
		}
		if cfg.APIKey, err = readSecret("store.elasticsearch.api_key_file", e.APIKeyFile); err != nil {
			return nil, err
		}
		if e.CAFile != "" {
			if cfg.CACert, err = os.ReadFile(e.CAFile); err != nil {
				return nil, fmt.Errorf("store.elasticsearch.ca_file: %w", err)
			}
		}
		for _, d := range []struct {
			name, val string
			dst       *time.Duration
		}{{"event_retention", e.EventRetention, &cfg.EventRetention}, {"alert_retention", e.AlertRetention, &cfg.AlertRetention}} {
			if d.val == "" {
				continue
			}
			v, err := parseDays(d.val)
			if err != nil {
				return nil, fmt.Errorf("store.elasticsearch.%s: %w", d.name, err)
			}
			*d.dst = v
		}
		return elastic.Open(ctx, cfg)
	}
	return nil, fmt.Errorf("store.kind %q: want elasticsearch or sqlite", c.Store.Kind)
}

// parseDays accepts Go durations and a number of days ("180d").
func parseDays(s string) (time.Duration, error) {
	if d, ok := strings.CutSuffix(s, "d"); ok {
		var n int
		if _, err := fmt.Sscanf(d, "%d", &n); err != nil || n <= 0 {
			return 0, fmt.Errorf("%q is not a number of days", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	return time.ParseDuration(s)
}

func runCmd(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("socd run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "configuration file (YAML; see README)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *path == "" {
		return errors.New("run: --config is required")
	}
	cfg, err := loadConfig(*path)
	if err != nil {
		return err
	}
	log, err := newLogger(stderr, cfg.Log.Level)
	if err != nil {
		return err
	}
	cat, err := loadCatalog(cfg.Catalog)
	if err != nil {
		return err
	}
	busCfg, err := cfg.busConfig()
	if err != nil {
		return err
	}
	st, err := cfg.openStore(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	detect, index := true, true
	if cfg.Roles.Detect != nil {
		detect = *cfg.Roles.Detect
	}
	if cfg.Roles.Index != nil {
		index = *cfg.Roles.Index
	}
	pipe, err := newPipeline(ctx, pipelineConfig{Bus: busCfg, Store: st, Catalog: cat, Detect: detect, Index: index,
		CreateTopics: cfg.Kafka.CreateTopics, Partitions: cfg.Kafka.Partitions, Replication: cfg.Kafka.Replication, Rules: cfg.Rules, Log: log})
	if err != nil {
		return err
	}
	defer pipe.Close()
	pipeCtx, stopPipe := context.WithCancel(context.WithoutCancel(ctx))
	defer stopPipe()
	var wg sync.WaitGroup
	errc := make(chan error, 2)
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := pipe.Run(pipeCtx); err != nil {
			errc <- err
		}
	}()
	uiCtx, stopUI := context.WithCancel(context.WithoutCancel(ctx))
	defer stopUI()
	if cfg.UI.Listen != "" {
		console, err := ui.New(ui.Options{Store: st, Catalog: cat, Auth: ui.LoopbackOperator{}, Pipeline: pipe.Stats, Logger: log})
		if err != nil {
			return err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := console.Run(uiCtx, cfg.UI.Listen); err != nil {
				errc <- err
			}
		}()
	}
	log.Info().Strs("brokers", busCfg.Brokers).Str("store", cfg.Store.Kind).Bool("detect", detect).Bool("index", index).Msg("socd running")
	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-errc:
	}
	stopPipe()
	stopUI()
	wg.Wait()
	return runErr
}
