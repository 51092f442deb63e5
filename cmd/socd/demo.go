package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/egovsoc/egovsoc/pipeline/bus"
	"github.com/egovsoc/egovsoc/pipeline/catalog"
	"github.com/egovsoc/egovsoc/pipeline/store/sqlite"
	"github.com/egovsoc/egovsoc/sensors/netmeta"
	"github.com/egovsoc/egovsoc/sensors/simulate"
	"github.com/egovsoc/egovsoc/ui"
)

type demoFlags struct {
	data      string
	listen    string
	kafkaPort int
	simulate  bool
	sites     int
	rate      float64
	seed      int64
	malformed float64
	catalog   string
	logLevel  string
	sigmaHQ   string
	pcap      string
	pcapOrg   string
}

// defaultSigmaHQ is where a checkout keeps the SigmaHQ corpus (the test
// material beside the project); the demo uses it when it is there.
const defaultSigmaHQ = "../shared/testdata/sigma"

// sigmaHQDemoTrees are the SigmaHQ rules the demo runs: those for the data
// the simulated sites produce (network, web and Linux).
var sigmaHQDemoTrees = []string{"rules/network", "rules/web", "rules/linux"}

func demoCmd(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("socd demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f demoFlags
	fs.StringVar(&f.data, "data", "data", "data directory: the broker's log, the SQLite store; a second run resumes from it")
	fs.StringVar(&f.listen, "listen", "127.0.0.1:8080", "console address (loopback only)")
	fs.IntVar(&f.kafkaPort, "kafka-port", 0, "port of the embedded Kafka broker on 127.0.0.1 (0: the port of the last run, or a free one)")
	fs.BoolVar(&f.simulate, "simulate", true, "play a simulated nation of sites into the broker")
	fs.IntVar(&f.sites, "sites", 40, "simulated sites")
	fs.Float64Var(&f.rate, "rate", 400, "simulated background events per second, over all sites")
	fs.Int64Var(&f.seed, "seed", 1, "seed of the simulation")
	fs.Float64Var(&f.malformed, "malformed", 0.001, "fraction of simulated records sent malformed, to exercise the dead-letter path")
	fs.StringVar(&f.catalog, "catalog", "", "catalogue of organisations and services (default: the built-in one)")
	fs.StringVar(&f.logLevel, "log-level", "info", "log level: debug, info, warn, error")
	fs.StringVar(&f.sigmaHQ, "sigmahq", "", "a SigmaHQ checkout whose network, web and Linux rules run beside egovsoc's pack (default: "+defaultSigmaHQ+" when present; \"none\" for none)")
	fs.StringVar(&f.pcap, "pcap", "", "a pcap or pcapng capture to play through the network sensor into the bus, as the events of --pcap-org")
	fs.StringVar(&f.pcapOrg, "pcap-org", "vn", "the organisation whose sensor the capture comes from")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("demo: unexpected argument %q", fs.Arg(0))
	}
	if !ui.IsLoopbackAddr(f.listen) {
		return fmt.Errorf("demo: --listen %s: the demo console has no accounts, so it listens on loopback only", f.listen)
	}
	log, err := newLogger(stderr, f.logLevel)
	if err != nil {
		return err
	}
	return demo(ctx, f, log)
}

func loadCatalog(path string) (*catalog.Catalog, error) {
	if path == "" {
		return catalog.Default()
	}
	return catalog.Load(path)
}

// demo runs everything in one process. Start order: broker, store, pipeline
// (sinks), console, simulator (the source). Stop order is the reverse: the
// simulator first, then the pipeline, the console, the store and the broker.
func demo(ctx context.Context, f demoFlags, log zerolog.Logger) error {
	cat, err := loadCatalog(f.catalog)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(f.data, 0o750); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	port, err := brokerPort(f.data, f.kafkaPort)
	if err != nil {
		return err
	}
	broker, err := bus.StartBroker(bus.BrokerOptions{
		DataDir: filepath.Join(f.data, "kafka"), Port: port, Partitions: 2,
		Logger: log.With().Str("component", "broker").Logger(),
	})
	if err != nil {
		return err
	}
	defer broker.Close()
	if err := os.WriteFile(filepath.Join(f.data, "kafka.port"), []byte(strconv.Itoa(broker.Port())+"\n"), 0o640); err != nil {
		return fmt.Errorf("remember broker port: %w", err)
	}
	log.Info().Str("addr", broker.Addr()).Str("data", f.data).Msg("embedded Kafka broker started")

	st, err := sqlite.Open(ctx, sqlite.Options{Path: filepath.Join(f.data, "socd.db")})
	if err != nil {
		return err
	}
	defer st.Close()

	rules := rulesConfig{Pack: true, StateDir: filepath.Join(f.data, "detect")}
	switch hq := f.sigmaHQ; {
	case hq == "none":
	case hq == "":
		if _, err := os.Stat(defaultSigmaHQ); err != nil {
			log.Info().Msg("SigmaHQ rules not found at " + defaultSigmaHQ + "; running egovsoc's pack only (see --sigmahq)")
			break
		}
		hq = defaultSigmaHQ
		fallthrough
	default:
		for _, sub := range sigmaHQDemoTrees {
			rules.Dirs = append(rules.Dirs, ruleDir{Path: filepath.Join(hq, sub), Ruleset: "sigmahq", License: "DRL-1.1"})
		}
	}
	busCfg := bus.Config{Brokers: []string{broker.Addr()}, ClientID: "socd-demo"}
	pipe, err := newPipeline(ctx, pipelineConfig{
		Bus: busCfg, Store: st, Catalog: cat, Detect: true, Index: true,
		CreateTopics: true, Partitions: 2, Replication: 1, Rules: rules, Log: log,
	})
	if err != nil {
		return err
	}
	defer pipe.Close()

	console, err := ui.New(ui.Options{Store: st, Catalog: cat, Auth: ui.LoopbackOperator{}, Pipeline: pipe.Stats, Logger: log.With().Str("component", "ui").Logger()})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", f.listen)
	if err != nil {
		return fmt.Errorf("console: %w", err)
	}

	var sim *simulate.Simulator
	var simProducer *bus.Producer
	if f.pcap != "" {
		if _, ok := cat.Org(f.pcapOrg); !ok {
			return fmt.Errorf("demo: --pcap-org %q is not an organisation of the catalogue", f.pcapOrg)
		}
		if _, err := os.Stat(f.pcap); err != nil {
			return fmt.Errorf("demo: --pcap: %w", err)
		}
	}
	if f.simulate || f.pcap != "" {
		simProducer, err = bus.NewProducer(busCfg, bus.ProducerOptions{Logger: log})
		if err != nil {
			return err
		}
		defer simProducer.Close()
	}
	if f.simulate {
		malformed := f.malformed
		if malformed == 0 {
			malformed = -1 // the simulator's word for none
		}
		sim, err = simulate.New(simulate.Options{Catalog: cat, Sites: f.sites, Rate: f.rate, Seed: f.seed, Malformed: malformed, Logger: log.With().Str("component", "simulator").Logger()})
		if err != nil {
			return err
		}
	}

	pipeCtx, stopPipe := context.WithCancel(context.WithoutCancel(ctx))
	uiCtx, stopUI := context.WithCancel(context.WithoutCancel(ctx))
	simCtx, stopSim := context.WithCancel(ctx)
	defer stopSim()
	errc := make(chan error, 3)
	var pipeWG, uiWG, simWG sync.WaitGroup
	goRun := func(wg *sync.WaitGroup, name string, fn func() error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := fn(); err != nil {
				errc <- fmt.Errorf("%s: %w", name, err)
			}
		}()
	}
	goRun(&pipeWG, "pipeline", func() error { return pipe.Run(pipeCtx) })
	goRun(&uiWG, "console", func() error { return console.Serve(uiCtx, ln) })
	if sim != nil {
		goRun(&simWG, "simulator", func() error { return sim.Run(simCtx, publishSim(simProducer)) })
	}
	if f.pcap != "" {
		goRun(&simWG, "pcap", func() error {
			return replayPcap(simCtx, f.pcap, f.pcapOrg, publishSim(simProducer), log.With().Str("component", "pcap").Logger())
		})
	}
	log.Info().Str("url", "http://"+ln.Addr().String()+"/").Int("sites", f.sites).Msg("egovsoc demo running; Ctrl-C stops it")

	var runErr error
	select {
	case <-ctx.Done():
		log.Info().Msg("stopping")
	case runErr = <-errc:
		log.Error().Err(runErr).Msg("stopping after a failure")
	}
	// The stop order: sources first, sinks last.
	stopSim()
	simWG.Wait()
	stopPipe()
	pipeWG.Wait()
	stopUI()
	uiWG.Wait()
	close(errc)
	for err := range errc {
		if runErr == nil && !errors.Is(err, context.Canceled) {
			runErr = err
		}
	}
	log.Info().Msg("stopped")
	return runErr
}

// publishSim sends the simulator's records to their organisations' topics
// and returns once every one is acknowledged, retrying only those that
// failed, so a hiccup of the broker neither loses nor duplicates a record.
// replayPcap plays a capture through the network sensor's pipeline and
// publishes its events as the organisation's sensor would: keyed by flow
// (community_id), so a flow's records meet in one partition.
func replayPcap(ctx context.Context, path, org string, publish func(context.Context, []simulate.Record) error, log zerolog.Logger) error {
	var batch []simulate.Record
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := publish(ctx, batch)
		batch = batch[:0]
		return err
	}
	st, err := netmeta.ReplayFile(ctx, path, netmeta.Options{Org: org, Observer: "demo-pcap", Logger: log}, func(key, doc []byte) error {
		batch = append(batch, simulate.Record{Org: org, Key: bytes.Clone(key), Value: bytes.Clone(doc), Time: time.Now()})
		if len(batch) >= 500 {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return err
	}
	log.Info().Str("file", path).Interface("stats", st).Msg("capture played into the bus")
	return nil
}

func publishSim(p *bus.Producer) func(context.Context, []simulate.Record) error {
	return func(ctx context.Context, recs []simulate.Record) error {
		msgs := make([]bus.Message, len(recs))
		for i, r := range recs {
			topic := bus.EventsTopic(r.Org)
			if r.Check {
				topic = bus.ChecksTopic(r.Org)
			}
			msgs[i] = bus.Message{Topic: topic, Key: r.Key, Value: r.Value, Time: r.Time}
		}
		for {
			err := p.Produce(ctx, msgs)
			var pe *bus.ProduceError
			if err == nil || !errors.As(err, &pe) || ctx.Err() != nil {
				return err
			}
			var again []bus.Message
			for i, e := range pe.Errs {
				if e != nil {
					again = append(again, msgs[i])
				}
			}
			msgs = again
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(200 * time.Millisecond):
			}
		}
	}
}

// brokerPort picks the broker's port: the flag, else the last run's if it is
// free, else a free one.
func brokerPort(dir string, flagPort int) (int, error) {
	if flagPort != 0 {
		return flagPort, nil
	}
	b, err := os.ReadFile(filepath.Join(dir, "kafka.port"))
	if err == nil {
		if p, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && p > 0 && p < 65536 {
			if l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p))); err == nil {
				l.Close()
				return p, nil
			}
		}
	}
	return 0, nil
}
