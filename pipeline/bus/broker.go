package bus

import (
	"errors"
	"fmt"
	"net"
	"strconv"

	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kfake"
)

// BrokerOptions configures the embedded broker.
type BrokerOptions struct {
	// DataDir keeps topics, records and committed offsets, so a restart
	// resumes where it stopped. Empty keeps everything in memory.
	DataDir string
	// Port to listen on, on 127.0.0.1; 0 picks a free one. Reuse the port
	// of a previous run so clients reconnect after a restart.
	Port int
	// Partitions of topics created without a count (default 3).
	Partitions int
	// Topics to create at start (with Partitions partitions).
	Topics []string
	// SyncWrites fsyncs every produce before acknowledging it: durable
	// across a power loss, much slower. Without it, acknowledged records
	// survive a crash of the process (they are in the OS page cache), as
	// with Kafka's default flush policy.
	SyncWrites bool
	Logger     zerolog.Logger
}

// Broker is the embedded Kafka-protocol broker (kfake) for `socd demo` and the
// tests. It speaks the Kafka wire protocol over TCP on 127.0.0.1, so the same
// kafka-go code that talks to a production cluster talks to it.
type Broker struct {
	c    *kfake.Cluster
	addr string
}

// StartBroker starts the embedded broker.
func StartBroker(opts BrokerOptions) (*Broker, error) {
	if opts.Partitions <= 0 {
		opts.Partitions = 3
	}
	port := opts.Port
	if port == 0 {
		p, err := freePort()
		if err != nil {
			return nil, err
		}
		port = p
	}
	kopts := []kfake.Opt{
		kfake.NumBrokers(1),
		kfake.Ports(port),
		kfake.ClusterID("egovsoc-embedded"),
		kfake.DefaultNumPartitions(opts.Partitions),
		kfake.AllowAutoTopicCreation(),
		kfake.WithLogger(kfakeLogger{opts.Logger}),
	}
	if opts.DataDir != "" {
		kopts = append(kopts, kfake.DataDir(opts.DataDir))
	}
	if opts.SyncWrites {
		kopts = append(kopts, kfake.SyncWrites())
	}
	if len(opts.Topics) > 0 {
		kopts = append(kopts, kfake.SeedTopics(int32(opts.Partitions), opts.Topics...))
	}
	c, err := kfake.NewCluster(kopts...)
	if err != nil {
		return nil, fmt.Errorf("start embedded broker on 127.0.0.1:%d: %w", port, err)
	}
	addrs := c.ListenAddrs()
	if len(addrs) == 0 {
		c.Close()
		return nil, errors.New("start embedded broker: no listener")
	}
	return &Broker{c: c, addr: addrs[0]}, nil
}

// Addr is the broker's host:port.
func (b *Broker) Addr() string { return b.addr }

// Port is the broker's port.
func (b *Broker) Port() int {
	_, p, _ := net.SplitHostPort(b.addr)
	n, _ := strconv.Atoi(p)
	return n
}

// Close stops the broker, writing its state to the data dir.
func (b *Broker) Close() { b.c.Close() }

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// kfakeLogger sends kfake's own logging to zerolog at debug level.
type kfakeLogger struct{ l zerolog.Logger }

func (k kfakeLogger) Logf(level kfake.LogLevel, msg string, args ...any) {
	ev := k.l.Debug()
	if level == kfake.LogLevelError {
		ev = k.l.Warn()
	}
	ev.Str("component", "kfake").Msgf(msg, args...)
}
