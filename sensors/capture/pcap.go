//go:build pcap && cgo

package capture

import (
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcap"
)

// PcapSource captures through libpcap (gopacket/pcap, cgo), which also
// compiles filter expressions.
type PcapSource struct {
	h      *pcap.Handle
	lt     layers.LinkType
	mu     sync.Mutex
	closed atomic.Bool

	packets, bytes, drops, ifdrops atomic.Uint64
}

var _ Source = (*PcapSource)(nil)

// OpenPcap opens a live capture through libpcap. expr is a filter
// expression in pcap-filter(7) syntax ("" for none); opt.Filter is ignored.
// Fanout is not supported on this path.
func OpenPcap(opt LiveOptions, expr string) (Source, error) {
	if err := opt.defaults(); err != nil {
		return nil, err
	}
	in, err := pcap.NewInactiveHandle(opt.Interface)
	if err != nil {
		return nil, fmt.Errorf("capture on %s: %w", opt.Interface, err)
	}
	defer in.CleanUp()
	for _, set := range []func() error{
		func() error { return in.SetSnapLen(opt.SnapLen) },
		func() error { return in.SetPromisc(opt.Promiscuous) },
		func() error { return in.SetTimeout(opt.PollInterval) },
		func() error { return in.SetBufferSize(opt.ReceiveBuffer) },
	} {
		if err := set(); err != nil {
			return nil, fmt.Errorf("capture on %s: %w", opt.Interface, err)
		}
	}
	h, err := in.Activate()
	if err != nil {
		return nil, fmt.Errorf("capture on %s: %w", opt.Interface, err)
	}
	if expr != "" {
		if err := h.SetBPFFilter(expr); err != nil {
			h.Close()
			return nil, fmt.Errorf("filter %q: %w", expr, err)
		}
	}
	return &PcapSource{h: h, lt: h.LinkType()}, nil
}

// CompileFilter compiles a pcap-filter(7) expression for a link type with
// libpcap, into the program OpenLive and OpenAFPacket take.
func CompileFilter(lt layers.LinkType, snapLen int, expr string) ([]BPFInstruction, error) {
	prog, err := pcap.CompileBPFFilter(lt, snapLen, expr)
	if err != nil {
		return nil, err
	}
	out := make([]BPFInstruction, len(prog))
	for i, in := range prog {
		out[i] = BPFInstruction{Code: in.Code, Jt: in.Jt, Jf: in.Jf, K: in.K}
	}
	return out, nil
}

// ReadPacket implements Source.
func (s *PcapSource) ReadPacket() (Packet, error) {
	if s.closed.Load() {
		return Packet{}, ErrClosed
	}
	data, ci, err := s.h.ZeroCopyReadPacketData()
	switch {
	case err == nil:
	case errors.Is(err, pcap.NextErrorTimeoutExpired):
		return Packet{}, ErrTimeout
	case errors.Is(err, io.EOF):
		return Packet{}, io.EOF
	default:
		if s.closed.Load() {
			return Packet{}, ErrClosed
		}
		return Packet{}, fmt.Errorf("capture: %w", err)
	}
	s.packets.Add(1)
	s.bytes.Add(uint64(len(data)))
	return Packet{Data: data, Info: CaptureInfo{
		Timestamp: ci.Timestamp, CaptureLength: len(data), Length: ci.Length,
		InterfaceIndex: ci.InterfaceIndex, LinkType: s.lt,
	}}, nil
}

// Stats implements Source.
func (s *PcapSource) Stats() Stats {
	s.mu.Lock()
	if !s.closed.Load() {
		if st, err := s.h.Stats(); err == nil {
			s.drops.Store(uint64(st.PacketsDropped))
			s.ifdrops.Store(uint64(st.PacketsIfDropped))
		}
	}
	s.mu.Unlock()
	return Stats{Packets: s.packets.Load(), Bytes: s.bytes.Load(), KernelDrops: s.drops.Load(), IfDrops: s.ifdrops.Load()}
}

// Close implements Source.
func (s *PcapSource) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed.Swap(true) {
		s.h.Close()
	}
	return nil
}
