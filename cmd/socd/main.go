// Command socd is egovsoc's centre: it consumes what the sensors send
// through Kafka, runs detection, indexes events, alerts and checks in the
// store, and serves the console.
//
//	socd demo               the whole system in one process on the embedded
//	                        defaults (Kafka-protocol broker, SQLite) with a
//	                        simulated nation of sites
//	socd run --config FILE  production: a Kafka cluster and Elasticsearch
//
// This is the composition root: the only place that builds concrete
// adapters (broker, store) and wires them into the pipeline. The stop order
// is written down in stopAll.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/rs/zerolog"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	os.Exit(run(os.Args[1:], os.Stderr))
}

func usage(w io.Writer) {
	fmt.Fprint(w, `socd — egovsoc monitoring centre

Usage:
  socd demo [flags]           run everything on the embedded defaults with a simulated nation
  socd run --config FILE      run against a Kafka cluster and Elasticsearch (or SQLite)
  socd version                print the version

Run "socd demo -h" or "socd run -h" for the flags.
`)
}

func run(args []string, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch args[0] {
	case "demo":
		err = demoCmd(ctx, args[1:], stderr)
	case "run":
		err = runCmd(ctx, args[1:], stderr)
	case "version":
		fmt.Fprintln(os.Stdout, "socd", version)
	case "-h", "--help", "help":
		usage(os.Stdout)
	default:
		fmt.Fprintf(stderr, "socd: unknown command %q\n\n", args[0])
		usage(stderr)
		return 2
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "socd: %v\n", err)
		return 1
	}
	return 0
}

// newLogger logs JSON, or readable lines when stderr is a terminal.
func newLogger(w io.Writer, level string) (zerolog.Logger, error) {
	lvl := zerolog.InfoLevel
	if level != "" {
		l, err := zerolog.ParseLevel(level)
		if err != nil {
			return zerolog.Logger{}, fmt.Errorf("log level %q: %w", level, err)
		}
		lvl = l
	}
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			w = zerolog.ConsoleWriter{Out: f, TimeFormat: time.TimeOnly}
		}
	}
	return zerolog.New(w).Level(lvl).With().Timestamp().Logger(), nil
}
