package capture

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"github.com/google/gopacket/layers"
	"golang.org/x/sys/unix"
)

// LiveOptions configure a live capture.
type LiveOptions struct {
	// Interface to capture on ("eth1", "lo"). Required.
	Interface string
	// Filter is a compiled classic BPF program (see ParseBPF); nil keeps
	// every packet.
	Filter []BPFInstruction
	// SnapLen is the most bytes kept of a packet [65535].
	SnapLen int
	// Promiscuous puts the interface in promiscuous mode (a mirror port
	// needs it) for as long as the source is open.
	Promiscuous bool
	// Fanout, when above 1, opens that many sockets in one PACKET_FANOUT
	// group hashed by flow (both directions to one socket, IP fragments
	// defragmented first); the source is then Sharded, one shard per worker.
	Fanout int
	// FanoutGroup names the fanout group [derived from the process id].
	FanoutGroup uint16
	// PollInterval bounds how long ReadPacket waits before it returns
	// ErrTimeout [200ms].
	PollInterval time.Duration
	// ReceiveBuffer is the socket buffer per socket, in bytes [16 MiB]: what
	// absorbs bursts while a worker is busy.
	ReceiveBuffer int
}

func (o *LiveOptions) defaults() error {
	if o.Interface == "" {
		return errors.New("capture: LiveOptions.Interface is required")
	}
	if o.SnapLen <= 0 {
		o.SnapLen = 65535
	}
	if o.SnapLen > MaxRecord {
		o.SnapLen = MaxRecord
	}
	if o.PollInterval <= 0 {
		o.PollInterval = 200 * time.Millisecond
	}
	if o.ReceiveBuffer <= 0 {
		o.ReceiveBuffer = 16 << 20
	}
	if o.FanoutGroup == 0 {
		o.FanoutGroup = uint16(os.Getpid())
	}
	if len(o.Filter) > maxBPF {
		return errors.New("capture: LiveOptions.Filter is longer than 4096 instructions")
	}
	return nil
}

// LiveSource reads one AF_PACKET socket with recvmmsg, up to liveBatch
// frames per system call: pure Go, one copy per packet into reused buffers,
// kernel timestamps (SO_TIMESTAMPNS) and VLAN tags put back from
// PACKET_AUXDATA (the kernel strips them).
type LiveSource struct {
	fd       int
	ifindex  int
	loopback bool
	snap     int
	// A batch of frames received by one recvmmsg: buffers, control
	// messages, addresses, and which of them are still to be read.
	bufs  [][]byte
	oobs  [][]byte
	addrs []unix.RawSockaddrLinklayer
	iovs  []unix.Iovec
	msgs  []unix.Mmsghdr
	n, i  int
	mu    sync.Mutex // guards fd against Close during Stats

	packets, bytes, drops atomic.Uint64
	closed                atomic.Bool
}

// LiveGroup is a Sharded live source: sockets of one fanout group.
type LiveGroup struct {
	shards []Source
}

var (
	_ Source  = (*LiveSource)(nil)
	_ Sharded = (*LiveGroup)(nil)
)

// OpenLive opens a live capture on an interface through AF_PACKET sockets,
// without cgo. It needs CAP_NET_RAW. With Fanout above 1 it returns a
// *LiveGroup (Sharded), otherwise a *LiveSource.
func OpenLive(opt LiveOptions) (Source, error) {
	if err := opt.defaults(); err != nil {
		return nil, err
	}
	ifc, err := net.InterfaceByName(opt.Interface)
	if err != nil {
		return nil, fmt.Errorf("capture on %s: %w", opt.Interface, err)
	}
	n := max(opt.Fanout, 1)
	var shards []Source
	for i := 0; i < n; i++ {
		s, err := openSocket(ifc, opt, n > 1)
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
	return &LiveGroup{shards: shards}, nil
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

func openSocket(ifc *net.Interface, opt LiveOptions, fanout bool) (*LiveSource, error) {
	// Protocol 0: no packet is queued before the filter is attached and the
	// socket bound to the interface.
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open AF_PACKET socket: %w", err)
	}
	s := &LiveSource{
		fd:       fd,
		ifindex:  ifc.Index,
		loopback: ifc.Flags&net.FlagLoopback != 0,
		snap:     opt.SnapLen,
	}
	s.initBatch(opt.SnapLen)
	fail := func(what string, err error) (*LiveSource, error) {
		unix.Close(fd)
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	filter := opt.Filter
	if s.loopback && len(filter) < maxBPF-3 {
		filter = dropOutgoing(filter)
	}
	if len(filter) > 0 {
		prog := make([]unix.SockFilter, len(filter))
		for i, in := range filter {
			prog[i] = unix.SockFilter{Code: in.Code, Jt: in.Jt, Jf: in.Jf, K: in.K}
		}
		fp := unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}
		defer runtime.KeepAlive(prog)
		if err := unix.SetsockoptSockFprog(fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, &fp); err != nil {
			return fail("attach BPF filter", err)
		}
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_AUXDATA, 1); err != nil {
		return fail("enable PACKET_AUXDATA", err)
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1); err != nil {
		return fail("enable SO_TIMESTAMPNS", err)
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, opt.ReceiveBuffer); err != nil {
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, opt.ReceiveBuffer); err != nil {
			return fail("set SO_RCVBUF", err)
		}
	}
	tv := unix.NsecToTimeval(opt.PollInterval.Nanoseconds())
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		return fail("set SO_RCVTIMEO", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: ifc.Index}); err != nil {
		return fail("bind to interface", err)
	}
	if opt.Promiscuous {
		mreq := unix.PacketMreq{Ifindex: int32(ifc.Index), Type: unix.PACKET_MR_PROMISC}
		if err := unix.SetsockoptPacketMreq(fd, unix.SOL_PACKET, unix.PACKET_ADD_MEMBERSHIP, &mreq); err != nil {
			return fail("enable promiscuous mode", err)
		}
	}
	if fanout {
		arg := int(opt.FanoutGroup) | (unix.PACKET_FANOUT_HASH|unix.PACKET_FANOUT_FLAG_DEFRAG)<<16
		if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_FANOUT, arg); err != nil {
			return fail("join PACKET_FANOUT group", err)
		}
	}
	return s, nil
}

// liveBatch is the most frames one recvmmsg returns.
const liveBatch = 32

func (s *LiveSource) initBatch(snap int) {
	oobLen := unix.CmsgSpace(auxLen) + unix.CmsgSpace(tsLen)
	// One allocation per kind; each frame's buffer has 4 bytes in front to
	// put a VLAN tag back.
	frames := make([]byte, liveBatch*(snap+4))
	oobs := make([]byte, liveBatch*oobLen)
	s.bufs = make([][]byte, liveBatch)
	s.oobs = make([][]byte, liveBatch)
	s.addrs = make([]unix.RawSockaddrLinklayer, liveBatch)
	s.iovs = make([]unix.Iovec, liveBatch)
	s.msgs = make([]unix.Mmsghdr, liveBatch)
	for k := range liveBatch {
		s.bufs[k] = frames[k*(snap+4) : (k+1)*(snap+4) : (k+1)*(snap+4)]
		s.oobs[k] = oobs[k*oobLen : (k+1)*oobLen : (k+1)*oobLen]
	}
}

// ReadPacket implements Source.
func (s *LiveSource) ReadPacket() (Packet, error) {
	for {
		if s.closed.Load() {
			return Packet{}, ErrClosed
		}
		for s.i < s.n {
			k := s.i
			s.i++
			if p, ok := s.frame(k); ok {
				s.packets.Add(1)
				s.bytes.Add(uint64(len(p.Data)))
				return p, nil
			}
		}
		if err := s.receive(); err != nil {
			return Packet{}, err
		}
	}
}

const (
	cmsgHdrLen = int(unsafe.Sizeof(unix.Cmsghdr{}))
	auxLen     = int(unsafe.Sizeof(unix.TpacketAuxdata{}))
	tsLen      = int(unsafe.Sizeof(unix.Timespec{}))
)

// receive fills the batch with one recvmmsg: it waits (up to the poll
// interval) for the first frame and takes what else is queued.
func (s *LiveSource) receive() error {
	for k := range liveBatch {
		s.iovs[k].Base = &s.bufs[k][4]
		s.iovs[k].SetLen(s.snap)
		h := &s.msgs[k].Hdr
		h.Name = (*byte)(unsafe.Pointer(&s.addrs[k]))
		h.Namelen = uint32(unsafe.Sizeof(s.addrs[k]))
		h.Iov = &s.iovs[k]
		h.Iovlen = 1
		h.Control = &s.oobs[k][0]
		h.SetControllen(len(s.oobs[k]))
		h.Flags = 0
		s.msgs[k].Len = 0
	}
	s.i, s.n = 0, 0
	// Raw syscall: unix has no recvmmsg, and Recvmsg allocates.
	r, _, e := syscall.Syscall6(unix.SYS_RECVMMSG, uintptr(s.fd), uintptr(unsafe.Pointer(&s.msgs[0])),
		liveBatch, unix.MSG_TRUNC|unix.MSG_WAITFORONE, 0, 0)
	switch e {
	case 0:
		s.n = int(r)
		return nil
	case unix.EAGAIN, unix.EINTR:
		return ErrTimeout
	case unix.EBADF:
		return ErrClosed
	}
	if s.closed.Load() {
		return ErrClosed
	}
	return fmt.Errorf("capture: recvmmsg: %w", e)
}

// frame decodes the k-th frame of the batch; ok is false for a frame that
// is skipped (the outgoing copy of a loopback packet, seen again incoming).
func (s *LiveSource) frame(k int) (Packet, bool) {
	sa := &s.addrs[k]
	if s.loopback && sa.Pkttype == unix.PACKET_OUTGOING {
		return Packet{}, false
	}
	buf := s.bufs[k]
	wire := int(s.msgs[k].Len) // MSG_TRUNC: the frame's full length
	capLen := min(wire, len(buf)-4)
	info := CaptureInfo{Length: wire, InterfaceIndex: int(sa.Ifindex), LinkType: linkTypeOf(sa.Hatype)}
	var vlan uint16
	haveVLAN := false
	oob := s.oobs[k][:min(int(s.msgs[k].Hdr.Controllen), len(s.oobs[k]))]
	for len(oob) >= cmsgHdrLen {
		h := (*unix.Cmsghdr)(unsafe.Pointer(&oob[0]))
		if int(h.Len) < cmsgHdrLen || int(h.Len) > len(oob) {
			break
		}
		data := oob[cmsgHdrLen:h.Len]
		switch {
		case h.Level == unix.SOL_PACKET && h.Type == unix.PACKET_AUXDATA && len(data) >= auxLen:
			aux := (*unix.TpacketAuxdata)(unsafe.Pointer(&data[0]))
			info.Length = int(aux.Len)
			if aux.Status&unix.TP_STATUS_VLAN_VALID != 0 {
				vlan, haveVLAN = aux.Vlan_tci, true
			}
		case h.Level == unix.SOL_SOCKET && h.Type == unix.SO_TIMESTAMPNS && len(data) >= tsLen:
			ts := (*unix.Timespec)(unsafe.Pointer(&data[0]))
			info.Timestamp = time.Unix(int64(ts.Sec), int64(ts.Nsec))
		}
		oob = oob[min(unix.CmsgSpace(int(h.Len)-cmsgHdrLen), len(oob)):]
	}
	if info.Timestamp.IsZero() {
		info.Timestamp = time.Now()
	}
	data := buf[4 : 4+capLen]
	if haveVLAN && info.LinkType == layers.LinkTypeEthernet && capLen >= 12 {
		// Put the 802.1Q tag back where the wire had it, after the MACs.
		copy(buf[0:12], buf[4:16])
		binary.BigEndian.PutUint16(buf[12:], 0x8100)
		binary.BigEndian.PutUint16(buf[14:], vlan)
		data = buf[:4+capLen]
		info.Length += 4
	}
	info.CaptureLength = len(data)
	return Packet{Data: data, Info: info}, true
}

// linkTypeOf maps an ARPHRD type to the link type of the frames received.
func linkTypeOf(hatype uint16) layers.LinkType {
	switch hatype {
	case unix.ARPHRD_ETHER, unix.ARPHRD_LOOPBACK:
		return layers.LinkTypeEthernet
	}
	return layers.LinkTypeRaw // tun, GRE, WireGuard: IP without a link header
}

// Stats implements Source. The kernel's drop counter (PACKET_STATISTICS)
// resets when read, so it is accumulated here.
func (s *LiveSource) Stats() Stats {
	s.mu.Lock()
	if !s.closed.Load() {
		if ts, err := unix.GetsockoptTpacketStats(s.fd, unix.SOL_PACKET, unix.PACKET_STATISTICS); err == nil {
			s.drops.Add(uint64(ts.Drops))
		}
	}
	s.mu.Unlock()
	return Stats{Packets: s.packets.Load(), Bytes: s.bytes.Load(), KernelDrops: s.drops.Load()}
}

// Close implements Source: a ReadPacket in progress returns ErrClosed
// within the poll interval.
func (s *LiveSource) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed.Swap(true) {
		return nil
	}
	return unix.Close(s.fd)
}

// Shards implements Sharded.
func (g *LiveGroup) Shards() []Source { return g.shards }

// ReadPacket reads the first shard; a pipeline reads each shard on its own.
func (g *LiveGroup) ReadPacket() (Packet, error) { return g.shards[0].ReadPacket() }

// Stats sums the shards.
func (g *LiveGroup) Stats() Stats {
	var t Stats
	for _, s := range g.shards {
		st := s.Stats()
		t.Packets += st.Packets
		t.Bytes += st.Bytes
		t.KernelDrops += st.KernelDrops
		t.IfDrops += st.IfDrops
	}
	return t
}

// Close closes every shard.
func (g *LiveGroup) Close() error {
	var errs []error
	for _, s := range g.shards {
		errs = append(errs, s.Close())
	}
	return errors.Join(errs...)
}
