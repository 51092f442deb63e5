package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/egovsoc/egovsoc/pipeline/bus"
	"github.com/egovsoc/egovsoc/sensors/netmeta"
)

func init() {
	register("replay", "run the sensor pipeline on a capture and print ECS events", replayMain)
}

// replayMain runs the network sensor's pipeline (sensors/netmeta) over a
// pcap or pcapng file: flows and DNS, HTTP, TLS and SSH metadata, as NDJSON
// on stdout, or produced to Kafka with --kafka.
func replayMain(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("socctl replay", flag.ContinueOnError)
	fs.SetOutput(stderr)
	org := fs.String("org", "local", "organisation code of the capture (the topic is soc.events.<org>)")
	observer := fs.String("observer", "socctl-replay", "sensor name written as observer.name")
	brokers := fs.String("kafka", "", "comma-separated Kafka brokers: produce the events there instead of printing them")
	topic := fs.String("topic", "", "topic to produce to (default soc.events.<org>)")
	stats := fs.Bool("stats", false, "print the pipeline's counters to stderr at the end")
	workers := fs.Int("workers", 1, "decoding workers (events of different flows may then interleave differently)")
	noFlows := fs.Bool("no-flows", false, "write protocol events only, no flow records")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: socctl replay [flags] FILE.pcap\n\nRuns the sensor pipeline on a capture and prints its ECS events as NDJSON.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return flag.ErrHelp
	}
	if !bus.ValidOrg(*org) {
		return fmt.Errorf("--org %q is not a valid organisation code", *org)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	opt := netmeta.Options{Org: *org, Observer: *observer, Workers: *workers, NoFlows: *noFlows}

	var (
		emit  netmeta.EmitFunc
		flush func() error
	)
	if *brokers == "" {
		w := bufio.NewWriterSize(stdout, 256<<10)
		emit = func(_, doc []byte) error {
			w.Write(doc)
			return w.WriteByte('\n')
		}
		flush = w.Flush
	} else {
		t := *topic
		if t == "" {
			t = bus.EventsTopic(*org)
		}
		p, err := bus.NewProducer(bus.Config{Brokers: strings.Split(*brokers, ","), ClientID: "socctl-replay"}, bus.ProducerOptions{})
		if err != nil {
			return fmt.Errorf("connect to Kafka: %w", err)
		}
		defer p.Close()
		var batch []bus.Message
		produce := func() error {
			if len(batch) == 0 {
				return nil
			}
			pctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if err := p.Produce(pctx, batch); err != nil {
				return fmt.Errorf("produce to %s: %w", t, err)
			}
			batch = batch[:0]
			return nil
		}
		emit = func(key, doc []byte) error {
			batch = append(batch, bus.Message{
				Topic: t,
				Key:   append([]byte(nil), key...),
				Value: append([]byte(nil), doc...),
			})
			if len(batch) >= 1000 {
				return produce()
			}
			return nil
		}
		flush = produce
	}
	st, err := netmeta.ReplayFile(ctx, fs.Arg(0), opt, emit)
	if ferr := flush(); err == nil {
		err = ferr
	}
	if *stats {
		b, _ := json.MarshalIndent(st, "", "  ")
		fmt.Fprintf(stderr, "%s\n", b)
	}
	return err
}
