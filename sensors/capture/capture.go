// Package capture is where soc-sensor's packets come from: pcap and pcapng
// files, and live capture on Linux AF_PACKET sockets.
//
// Every source yields packets through the one-method-plus-housekeeping Source
// interface, so the pipeline that decodes them (sensors/netmeta) does not know
// whether it reads a capture from an incident or a mirror port.
//
// The sources, and how they are built:
//
//   - OpenFile / NewReader: pcap (microsecond and nanosecond, either byte order)
//     and pcapng (any number of sections and interfaces), pure Go.
//   - OpenLive: an AF_PACKET socket read with recvmsg, pure Go (golang.org/x/sys/unix),
//     with a classic-BPF filter and optional PACKET_FANOUT. The default: the
//     sensor stays one static binary.
//   - OpenAFPacket (build tag afpacket, cgo): gopacket's TPACKET_V3 memory-mapped
//     ring with fanout across workers, for high packet rates.
//   - OpenPcap (build tag pcap, cgo): libpcap, which also compiles filter
//     expressions.
//   - NewMemorySource: packets held in memory, for benchmarks and demos.
//
// The pure-Go readers are our own rather than gopacket/pcapgo's: ours never
// allocate per packet, bound every length they read from the file, and are
// fuzzed (FuzzReader).
//
// This package imports no other egovsoc package.
package capture

import (
	"errors"
	"time"

	"github.com/google/gopacket/layers"
)

// CaptureInfo describes one captured frame.
type CaptureInfo struct {
	Timestamp      time.Time
	CaptureLength  int             // bytes captured (len(Packet.Data))
	Length         int             // bytes on the wire
	InterfaceIndex int             // the capture interface (pcapng interface id or ifindex)
	LinkType       layers.LinkType // link-layer header type of Data
}

// Packet is one captured frame.
type Packet struct {
	Data []byte
	Info CaptureInfo
}

// Stats counts what a source delivered and what it lost. Counters only grow.
type Stats struct {
	Packets uint64 `json:"packets"` // frames delivered by ReadPacket
	Bytes   uint64 `json:"bytes"`   // captured bytes delivered
	// KernelDrops counts frames the kernel dropped because the reader did not
	// keep up (socket buffer or ring full); for a file, the drops recorded in
	// pcapng interface statistics.
	KernelDrops uint64 `json:"kernel_drops"`
	// IfDrops counts frames the interface or driver dropped, where known.
	IfDrops uint64 `json:"if_drops"`
	// Skipped counts records of a file that were malformed and skipped.
	Skipped uint64 `json:"skipped"`
}

// Source yields captured packets.
//
// ReadPacket returns the next packet. Its Data is owned by the source and is
// valid only until the next call of ReadPacket or Close: a caller that keeps
// packet bytes must copy them. At the end of a file it returns io.EOF. A live
// source returns ErrTimeout when no packet arrived within its poll interval,
// so the reader can look at its context and advance its clocks; it returns
// ErrClosed once Close was called.
//
// ReadPacket is not safe for concurrent use; Stats and Close may be called
// from any goroutine.
type Source interface {
	ReadPacket() (Packet, error)
	Stats() Stats
	Close() error
}

// Sharded is implemented by live sources made of several sockets in one
// kernel fanout group. The kernel hashes both directions of a flow to the
// same shard, so each shard can feed its own worker without a dispatcher.
type Sharded interface {
	Source
	// Shards returns the member sources; each is read by one goroutine.
	Shards() []Source
}

var (
	// ErrTimeout is returned by a live source when no packet arrived within
	// its poll interval. It is not a failure: call ReadPacket again.
	ErrTimeout = errors.New("capture: no packet within the poll interval")
	// ErrClosed is returned by ReadPacket after Close.
	ErrClosed = errors.New("capture: source closed")
	// ErrFormat wraps every error about a malformed capture file.
	ErrFormat = errors.New("capture: malformed capture file")
	// ErrUnsupported is returned for a capture path not built into this binary
	// (see the build tags afpacket and pcap) or not available on this system.
	ErrUnsupported = errors.New("capture: not supported by this build")
)
