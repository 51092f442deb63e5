//go:build afpacket && linux && cgo

package capture

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/gopacket/afpacket"
	"github.com/google/gopacket/layers"
	"golang.org/x/net/bpf"
)

// AFPacketSource reads a TPACKET_V3 memory-mapped ring through gopacket's
// afpacket (cgo): the kernel fills blocks of frames and the reader walks
// them without a system call per packet.
type AFPacketSource struct {
	tp     *afpacket.TPacket
	mu     sync.Mutex
	closed atomic.Bool

	packets, bytes, drops atomic.Uint64
}

var _ Source = (*AFPacketSource)(nil)

// AFPacketGroup is several TPACKET_V3 rings in one fanout group.
type AFPacketGroup struct{ shards []Source }

var _ Sharded = (*AFPacketGroup)(nil)

// AFPacketRingBytes is the ring size per socket (blocks of 1 MiB).
const AFPacketRingBytes = 64 << 20

// OpenAFPacket opens TPACKET_V3 rings on an interface; with Fanout above 1,
// that many rings in one PACKET_FANOUT group (flow hash, defragmented), as
// a Sharded source. Filter, SnapLen, FanoutGroup and PollInterval are used
// as by OpenLive; the ring replaces ReceiveBuffer.
func OpenAFPacket(opt LiveOptions) (Source, error) {
	if err := opt.defaults(); err != nil {
		return nil, err
	}
	n := max(opt.Fanout, 1)
	var shards []Source
	for range n {
		s, err := openTPacket(opt, n > 1)
		if err != nil {
			for _, x := range shards {
				x.Close()
			}
			return nil, fmt.Errorf("capture on %s: %w", opt.Interface, err)
		}
		shards = append(shards, s)
	}
	if n == 1 {
		return shards[0], nil
	}
	return &AFPacketGroup{shards: shards}, nil
}

func openTPacket(opt LiveOptions, fanout bool) (*AFPacketSource, error) {
	const block = 1 << 20
	frame := 2048 // a power of two: gopacket wants it to divide the block
	for frame < opt.SnapLen+128 && frame < block {
		frame *= 2
	}
	tp, err := afpacket.NewTPacket(
		afpacket.OptInterface(opt.Interface),
		afpacket.TPacketVersion3,
		afpacket.OptFrameSize(frame),
		afpacket.OptBlockSize(block),
		afpacket.OptNumBlocks(AFPacketRingBytes/block),
		afpacket.OptBlockTimeout(10*time.Millisecond),
		afpacket.OptPollTimeout(opt.PollInterval),
		afpacket.OptAddVLANHeader(true),
	)
	if err != nil {
		return nil, fmt.Errorf("open TPACKET_V3 ring: %w", err)
	}
	filter := opt.Filter
	if ifc, err := net.InterfaceByName(opt.Interface); err == nil && ifc.Flags&net.FlagLoopback != 0 && len(filter) < maxBPF-3 {
		filter = dropOutgoing(filter) // one copy of each loopback frame
	}
	if len(filter) > 0 {
		prog := make([]bpf.RawInstruction, len(filter))
		for i, in := range filter {
			prog[i] = bpf.RawInstruction{Op: in.Code, Jt: in.Jt, Jf: in.Jf, K: in.K}
		}
		if err := tp.SetBPF(prog); err != nil {
			tp.Close()
			return nil, fmt.Errorf("attach BPF filter: %w", err)
		}
	}
	if fanout {
		if err := tp.SetFanout(afpacket.FanoutHashWithDefrag, opt.FanoutGroup); err != nil {
			tp.Close()
			return nil, fmt.Errorf("join PACKET_FANOUT group: %w", err)
		}
	}
	return &AFPacketSource{tp: tp}, nil
}

// ReadPacket implements Source (zero copy: Data points into the ring).
func (s *AFPacketSource) ReadPacket() (Packet, error) {
	if s.closed.Load() {
		return Packet{}, ErrClosed
	}
	data, ci, err := s.tp.ZeroCopyReadPacketData()
	if err != nil {
		if errors.Is(err, afpacket.ErrTimeout) {
			return Packet{}, ErrTimeout
		}
		if s.closed.Load() {
			return Packet{}, ErrClosed
		}
		return Packet{}, fmt.Errorf("capture: %w", err)
	}
	s.packets.Add(1)
	s.bytes.Add(uint64(len(data)))
	return Packet{Data: data, Info: CaptureInfo{
		Timestamp: ci.Timestamp, CaptureLength: len(data), Length: ci.Length,
		InterfaceIndex: ci.InterfaceIndex, LinkType: layers.LinkTypeEthernet,
	}}, nil
}

// Stats implements Source.
func (s *AFPacketSource) Stats() Stats {
	s.mu.Lock()
	if !s.closed.Load() {
		if _, v3, err := s.tp.SocketStats(); err == nil {
			s.drops.Store(uint64(v3.Drops()))
		}
	}
	s.mu.Unlock()
	return Stats{Packets: s.packets.Load(), Bytes: s.bytes.Load(), KernelDrops: s.drops.Load()}
}

// Close implements Source.
func (s *AFPacketSource) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed.Swap(true) {
		s.tp.Close()
	}
	return nil
}

// Shards implements Sharded.
func (g *AFPacketGroup) Shards() []Source { return g.shards }

// ReadPacket reads the first ring; a pipeline reads each ring on its own.
func (g *AFPacketGroup) ReadPacket() (Packet, error) { return g.shards[0].ReadPacket() }

// Stats sums the rings.
func (g *AFPacketGroup) Stats() Stats {
	var t Stats
	for _, s := range g.shards {
		st := s.Stats()
		t.Packets += st.Packets
		t.Bytes += st.Bytes
		t.KernelDrops += st.KernelDrops
	}
	return t
}

// Close closes every ring.
func (g *AFPacketGroup) Close() error {
	for _, s := range g.shards {
		s.Close()
	}
	return nil
}
