// Package netmeta turns packets into what a SOC reads: bidirectional flow
// records and DNS, HTTP, TLS and SSH metadata, as ECS JSON documents.
//
// A Pipeline runs Workers goroutines. Each owns a gopacket DecodingLayerParser
// (Ethernet, 802.1Q and QinQ, MPLS, Linux SLL, loopback, GRE/ERSPAN and VXLAN
// tunnels, IPv4 with fragments, IPv6 with extension headers and fragments,
// TCP, UDP, ICMP), an IP reassembler, a flow table and the protocol parsers
// of sensors/netmeta/{dns,http,tls,ssh}. Both directions of a flow always go
// to the same worker, so no state is shared and nothing is locked per packet.
//
// Everything is bounded: flows (MaxFlows, the oldest evicted and counted),
// fragments in reassembly, out-of-order TCP data, header and handshake
// buffers (MaxBuffered across a worker's flows). A packet that makes a
// decoder or parser fail or panic is counted in Stats and skipped: hostile
// traffic never stops the sensor.
//
// Events go to an EmitFunc with a partition key, the flow's Community ID, so
// a flow's records and its protocol events meet in one Kafka partition.
//
// This package knows pipeline/event (for JSON string encoding and ids) and
// sensors/capture; it never imports the bus, the store or the rules.
package netmeta

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/egovsoc/egovsoc/sensors/capture"
)

// EmitFunc receives one ECS document and its partition key (the flow's
// Community ID). Both slices are valid only during the call: keep copies.
// Calls are never concurrent. An error stops the pipeline; Run returns it.
type EmitFunc func(key, doc []byte) error

// FlowTimeouts says when a flow record is written. Zero fields take the
// defaults (in brackets).
type FlowTimeouts struct {
	TCP          time.Duration // idle established TCP flow [5m]
	TCPHandshake time.Duration // idle TCP flow whose SYN was not answered [30s]
	TCPClosed    time.Duration // after FIN from both sides or a RST [5s]
	UDP          time.Duration // idle UDP flow [1m]
	Other        time.Duration // idle ICMP or other IP flow [1m]
	// Active is the longest a record may cover: a flow active for longer
	// gets an interim record (egovsoc.flow.reason "active") and goes on [30m].
	Active time.Duration
}

func (t FlowTimeouts) withDefaults() FlowTimeouts {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&t.TCP, 5*time.Minute)
	def(&t.TCPHandshake, 30*time.Second)
	def(&t.TCPClosed, 5*time.Second)
	def(&t.UDP, time.Minute)
	def(&t.Other, time.Minute)
	def(&t.Active, 30*time.Minute)
	return t
}

// Options configure a Pipeline. Zero values take the defaults.
type Options struct {
	// Org is the organisation code written as organization.id (the bus
	// overwrites it from the topic; it helps a reader of printed events).
	Org string
	// Observer names the sensor (observer.name). Required.
	Observer string
	// Workers is the number of decoding goroutines [1]. With more than one,
	// a dispatcher reads the source and hashes flows to workers, unless the
	// source is capture.Sharded with as many shards (kernel fanout).
	Workers int
	// MaxFlows bounds the flows tracked at once, across workers [1,000,000].
	MaxFlows int
	// FlowTimeouts say when flow records are written.
	FlowTimeouts FlowTimeouts
	// MaxBuffered bounds the bytes held for protocol parsing (out-of-order
	// TCP segments, header blocks, handshakes), across workers [256 MiB].
	MaxBuffered int
	// MaxFragments bounds the datagrams in IP reassembly, across workers
	// [4096], and MaxFragmentBytes their bytes [32 MiB].
	MaxFragments     int
	MaxFragmentBytes int
	// NoFlows turns flow records off: only protocol events are emitted.
	NoFlows bool
	// Logger receives warnings (emit failures, source errors); zero: silent.
	Logger zerolog.Logger
}

// Validate checks the options, naming the field at fault.
func (o *Options) Validate() error {
	switch {
	case o.Observer == "":
		return errors.New("netmeta: Options.Observer is required")
	case o.Workers < 0:
		return errors.New("netmeta: Options.Workers must not be negative")
	case o.MaxFlows < 0:
		return errors.New("netmeta: Options.MaxFlows must not be negative")
	case o.MaxBuffered < 0:
		return errors.New("netmeta: Options.MaxBuffered must not be negative")
	case o.MaxFragments < 0 || o.MaxFragmentBytes < 0:
		return errors.New("netmeta: Options.MaxFragments and MaxFragmentBytes must not be negative")
	}
	return nil
}

func (o Options) withDefaults() Options {
	if o.Workers == 0 {
		o.Workers = 1
	}
	if o.MaxFlows == 0 {
		o.MaxFlows = 1_000_000
	}
	if o.MaxBuffered == 0 {
		o.MaxBuffered = 256 << 20
	}
	if o.MaxFragments == 0 {
		o.MaxFragments = 4096
	}
	if o.MaxFragmentBytes == 0 {
		o.MaxFragmentBytes = 32 << 20
	}
	o.FlowTimeouts = o.FlowTimeouts.withDefaults()
	return o
}

// Pipeline is the sensor's packet pipeline. Run it once.
type Pipeline struct {
	opt     Options
	workers []*worker
	emitMu  sync.Mutex
	emit    EmitFunc
	src     capture.Source
	srcMu   sync.Mutex
	errOnce sync.Once
	err     error
	cancel  context.CancelFunc
}

// New checks the options and builds a pipeline.
func New(opt Options) (*Pipeline, error) {
	if err := opt.Validate(); err != nil {
		return nil, err
	}
	opt = opt.withDefaults()
	p := &Pipeline{opt: opt}
	for i := 0; i < opt.Workers; i++ {
		p.workers = append(p.workers, newWorker(p, i))
	}
	return p, nil
}

// Run reads src until it ends (io.EOF), ctx is cancelled or emit fails, and
// writes every flow still open as a record with reason "end" before it
// returns. It does not close src. A source error other than io.EOF and
// capture.ErrTimeout is returned after the flows are written.
func (p *Pipeline) Run(ctx context.Context, src capture.Source, emit EmitFunc) error {
	if emit == nil {
		return errors.New("netmeta: Run needs an EmitFunc")
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	p.cancel = cancel
	p.emit = emit
	p.srcMu.Lock()
	p.src = src
	p.srcMu.Unlock()

	var srcErr error
	if sh, ok := src.(capture.Sharded); ok && len(sh.Shards()) >= len(p.workers) && len(p.workers) > 1 {
		shards := sh.Shards()
		var wg sync.WaitGroup
		errs := make([]error, len(p.workers))
		for i, w := range p.workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = w.read(ctx, shards[i])
			}()
		}
		wg.Wait()
		srcErr = errors.Join(errs...)
	} else if len(p.workers) == 1 {
		srcErr = p.workers[0].read(ctx, src)
	} else {
		srcErr = p.dispatch(ctx, src)
	}
	for _, w := range p.workers {
		w.flushAll()
		w.publish()
	}
	if p.err != nil {
		return p.err
	}
	return srcErr
}

// fail records the first emit error and stops the pipeline.
func (p *Pipeline) fail(err error) {
	p.errOnce.Do(func() {
		p.err = err
		p.opt.Logger.Error().Err(err).Msg("netmeta: emit failed; stopping")
		if p.cancel != nil {
			p.cancel()
		}
	})
}

func (p *Pipeline) failed() bool {
	return p.err != nil
}

// sendDoc hands a document to emit, serialised across workers.
func (p *Pipeline) sendDoc(key, doc []byte) bool {
	if p.err != nil {
		return false
	}
	if len(p.workers) > 1 {
		p.emitMu.Lock()
		defer p.emitMu.Unlock()
	}
	if err := p.emit(key, doc); err != nil {
		p.fail(fmt.Errorf("emit event: %w", err))
		return false
	}
	return true
}

// readErr sorts a source error: nil to go on, io.EOF to stop cleanly.
func readErr(ctx context.Context, err error) (stop bool, ret error) {
	switch {
	case err == nil, errors.Is(err, capture.ErrTimeout):
		return ctx.Err() != nil, nil
	case errors.Is(err, io.EOF), errors.Is(err, capture.ErrClosed):
		return true, nil
	}
	return true, fmt.Errorf("read packets: %w", err)
}

// Stats returns the pipeline's counters, summed over workers, and the
// source's. It may be called at any time from any goroutine; worker
// counters are published every few thousand packets and at the end.
func (p *Pipeline) Stats() Stats {
	var s Stats
	for _, w := range p.workers {
		w.pubMu.Lock()
		s.add(&w.pub)
		w.pubMu.Unlock()
	}
	p.srcMu.Lock()
	if p.src != nil {
		s.Source = p.src.Stats()
		if sh, ok := p.src.(capture.Sharded); ok {
			s.Source = capture.Stats{}
			for _, x := range sh.Shards() {
				st := x.Stats()
				s.Source.Packets += st.Packets
				s.Source.Bytes += st.Bytes
				s.Source.KernelDrops += st.KernelDrops
				s.Source.IfDrops += st.IfDrops
				s.Source.Skipped += st.Skipped
			}
		}
	}
	p.srcMu.Unlock()
	return s
}

// dispatch reads src on this goroutine and hands packets to workers by flow
// hash, in batches, copying them (the source reuses its buffers).
func (p *Pipeline) dispatch(ctx context.Context, src capture.Source) error {
	n := len(p.workers)
	var wg sync.WaitGroup
	for _, w := range p.workers {
		w.in = make(chan *batch, 8)
		w.free = make(chan *batch, 10)
		for range 10 {
			w.free <- newBatch()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.consume()
		}()
	}
	cur := make([]*batch, n)
	get := func(i int) *batch {
		if cur[i] == nil {
			select {
			case cur[i] = <-p.workers[i].free:
			case <-ctx.Done():
				return nil
			}
			cur[i].reset()
		}
		return cur[i]
	}
	send := func(i int) {
		if cur[i] != nil && len(cur[i].pkts) > 0 {
			p.workers[i].in <- cur[i]
			cur[i] = nil
		}
	}
	var ret error
	for {
		pkt, err := src.ReadPacket()
		if err != nil {
			stop, e := readErr(ctx, err)
			for i := range cur {
				send(i)
			}
			if errors.Is(err, capture.ErrTimeout) {
				now := time.Now().UnixNano()
				for i, w := range p.workers {
					if b := get(i); b != nil {
						b.tick = now
						w.in <- b
						cur[i] = nil
					}
				}
			}
			if stop {
				ret = e
				break
			}
			continue
		}
		i := int(flowHash(pkt.Info.LinkType, pkt.Data) % uint64(n))
		b := get(i)
		if b == nil {
			break
		}
		b.add(pkt)
		if b.full() {
			send(i)
		}
		if p.failed() {
			break
		}
	}
	for i := range cur {
		send(i)
	}
	for _, w := range p.workers {
		close(w.in)
	}
	wg.Wait()
	return ret
}

// batch carries copies of packets from the dispatcher to a worker.
type batch struct {
	arena []byte
	pkts  []capture.Packet
	tick  int64 // when set: no packets for a while, the time now
}

const (
	batchPackets = 256
	batchBytes   = 256 << 10
)

func newBatch() *batch {
	return &batch{arena: make([]byte, 0, batchBytes+capture.MaxRecord), pkts: make([]capture.Packet, 0, batchPackets)}
}

func (b *batch) reset() {
	b.arena = b.arena[:0]
	b.pkts = b.pkts[:0]
	b.tick = 0
}

func (b *batch) add(p capture.Packet) {
	start := len(b.arena)
	b.arena = append(b.arena, p.Data...)
	p.Data = b.arena[start:len(b.arena):len(b.arena)]
	b.pkts = append(b.pkts, p)
}

func (b *batch) full() bool { return len(b.pkts) >= batchPackets || len(b.arena) >= batchBytes }

// ReplayFile runs a pipeline over a pcap or pcapng file and returns its
// counters: the entry point for `socctl replay` and `socd demo --pcap`.
func ReplayFile(ctx context.Context, path string, opt Options, emit EmitFunc) (Stats, error) {
	p, err := New(opt)
	if err != nil {
		return Stats{}, err
	}
	src, err := capture.OpenFile(path)
	if err != nil {
		return Stats{}, err
	}
	defer src.Close()
	err = p.Run(ctx, src, emit)
	return p.Stats(), err
}
