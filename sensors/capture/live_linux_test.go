package capture

import (
	"encoding/binary"
	"errors"
	"net"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// udpPortFilter is `udp dst port 54321` on Ethernet, IPv4 without options,
// in `tcpdump -ddd` form.
const udpPortFilter = `8
40 0 0 12
21 0 5 2048
48 0 0 23
21 0 3 17
40 0 0 36
21 0 1 54321
6 0 0 65535
6 0 0 0
`

const testPort = 54321

func needRoot(tb testing.TB) {
	tb.Helper()
	if os.Geteuid() != 0 {
		tb.Skip("live capture needs CAP_NET_RAW: run as root")
	}
}

func TestParseBPF(t *testing.T) {
	ddd, err := ParseBPF(udpPortFilter)
	if err != nil || len(ddd) != 8 || ddd[5] != (BPFInstruction{Code: 0x15, Jt: 0, Jf: 1, K: 54321}) {
		t.Fatalf("-ddd: %v %v", ddd, err)
	}
	dd, err := ParseBPF("{ 0x28, 0, 0, 0x0000000c },\n{ 0x15, 0, 5, 0x00000800 },\n{ 0x6, 0, 0, 0x00040000 },\n")
	if err != nil || len(dd) != 3 || dd[2].K != 0x40000 {
		t.Fatalf("-dd: %v %v", dd, err)
	}
	for _, bad := range []string{"", "1 2 3", "0x10000 0 0 0", "a b c d"} {
		if _, err := ParseBPF(bad); err == nil {
			t.Errorf("ParseBPF(%q) accepted", bad)
		}
	}
}

// blast injects n Ethernet frames of size bytes (IPv4/UDP to
// 198.51.100.1:testPort, which the stack then drops) on lo through an
// AF_PACKET socket, with sendmmsg, 64 frames per call.
func blast(tb testing.TB, n, size int) time.Duration {
	tb.Helper()
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW, 0)
	if err != nil {
		tb.Fatal(err)
	}
	defer unix.Close(fd)
	lo, err := net.InterfaceByName("lo")
	if err != nil {
		tb.Fatal(err)
	}
	unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF, 8<<20)
	frame := make([]byte, max(size, 42))
	binary.BigEndian.PutUint16(frame[12:], 0x0800)
	ip := frame[14:]
	ip[0] = 0x45
	binary.BigEndian.PutUint16(ip[2:], uint16(len(ip)))
	ip[8], ip[9] = 64, 17
	copy(ip[12:], []byte{198, 51, 100, 2, 198, 51, 100, 1})
	binary.BigEndian.PutUint16(ip[20:], 40000)
	binary.BigEndian.PutUint16(ip[22:], testPort)
	binary.BigEndian.PutUint16(ip[24:], uint16(len(ip)-20))
	var sa unix.RawSockaddrLinklayer
	sa.Family = unix.AF_PACKET
	sa.Ifindex = int32(lo.Index)
	sa.Halen = 6
	const batch = 64
	iov := make([]unix.Iovec, batch)
	msgs := make([]unix.Mmsghdr, batch)
	for i := range msgs {
		iov[i].Base = &frame[0]
		iov[i].SetLen(len(frame))
		msgs[i].Hdr.Name = (*byte)(unsafe.Pointer(&sa))
		msgs[i].Hdr.Namelen = uint32(unsafe.Sizeof(sa))
		msgs[i].Hdr.Iov = &iov[i]
		msgs[i].Hdr.Iovlen = 1
	}
	start := time.Now()
	for sent := 0; sent < n; {
		k := min(batch, n-sent)
		r, _, e := syscall.Syscall6(unix.SYS_SENDMMSG, uintptr(fd), uintptr(unsafe.Pointer(&msgs[0])), uintptr(k), 0, 0, 0)
		if e != 0 {
			if e == unix.EAGAIN || e == unix.ENOBUFS {
				continue
			}
			tb.Fatalf("sendmmsg: %v", e)
		}
		sent += int(r)
	}
	return time.Since(start)
}

// sink listens on the test port so the datagrams are delivered (no ICMP).
func sink(tb testing.TB) func() {
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: testPort})
	if err != nil {
		tb.Fatal(err)
	}
	c.SetReadBuffer(1 << 20)
	go func() {
		buf := make([]byte, 2048)
		for {
			if _, _, err := c.ReadFrom(buf); err != nil {
				return
			}
		}
	}()
	return func() { c.Close() }
}

// drain reads a source until total reaches want or the deadline passes.
func drain(src Source, want int, total *atomic.Int64, deadline time.Time, check func(Packet) error) (int, error) {
	got := 0
	for int(total.Load()) < want && time.Now().Before(deadline) {
		p, err := src.ReadPacket()
		if errors.Is(err, ErrTimeout) {
			continue
		}
		if err != nil {
			return got, err
		}
		if check != nil {
			if err := check(p); err != nil {
				return got, err
			}
		}
		got++
		total.Add(1)
	}
	return got, nil
}

func checkUDP(p Packet) error {
	d := p.Data
	if len(d) < 42 || binary.BigEndian.Uint16(d[12:]) != 0x0800 || d[23] != 17 || binary.BigEndian.Uint16(d[36:]) != testPort {
		return errors.New("the filter let through a packet it should drop")
	}
	if time.Since(p.Info.Timestamp) > time.Minute || p.Info.Length < len(d) {
		return errors.New("bad capture info")
	}
	return nil
}

// TestLiveLoopback captures on lo through the pure-Go AF_PACKET source,
// with the BPF filter, single and as a fanout group of two.
func TestLiveLoopback(t *testing.T) {
	needRoot(t)
	filter, err := ParseBPF(udpPortFilter)
	if err != nil {
		t.Fatal(err)
	}
	defer sink(t)()
	for _, fanout := range []int{1, 2} {
		src, err := OpenLive(LiveOptions{Interface: "lo", Filter: filter, Fanout: fanout, PollInterval: 50 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		const n = 2000
		// Traffic that the filter drops, then traffic it keeps.
		if c, err := net.Dial("udp4", "127.0.0.1:9"); err == nil {
			c.Write([]byte("dropped"))
			c.Close()
		}
		blast(t, n, 100)
		var total atomic.Int64
		var wg sync.WaitGroup
		shards := []Source{src}
		if g, ok := src.(Sharded); ok {
			shards = g.Shards()
		}
		errs := make(chan error, len(shards))
		for _, s := range shards {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := drain(s, n, &total, time.Now().Add(2*time.Second), checkUDP)
				if err != nil {
					errs <- err
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		st := src.Stats()
		if int(total.Load())+int(st.KernelDrops) < n || st.Packets != uint64(total.Load()) {
			t.Errorf("fanout %d: captured %d + dropped %d of %d sent; stats %+v", fanout, total.Load(), st.KernelDrops, n, st)
		}
		src.Close()
		if _, err := src.ReadPacket(); !errors.Is(err, ErrClosed) {
			t.Errorf("after Close: %v", err)
		}
	}
}

// measureLive blasts n datagrams at lo while workers read them through the
// source open makes, and reports the rate captured and the kernel's drops.
func measureLive(b *testing.B, open func(LiveOptions) (Source, error), fanout int) {
	needRoot(b)
	filter, _ := ParseBPF(udpPortFilter)
	defer sink(b)()
	src, err := open(LiveOptions{Interface: "lo", Filter: filter, Fanout: fanout, PollInterval: 20 * time.Millisecond})
	if errors.Is(err, ErrUnsupported) {
		b.Skip("this capture path is not built in (build tags afpacket, pcap)")
	}
	if err != nil {
		b.Fatal(err)
	}
	defer src.Close()
	shards := []Source{src}
	if g, ok := src.(Sharded); ok {
		shards = g.Shards()
	}
	n := b.N
	var got atomic.Int64
	var readerCPU atomic.Int64 // ns of CPU the reading threads used
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for _, s := range shards {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runtime.LockOSThread() // so the thread's CPU time is the reader's
			defer runtime.UnlockOSThread()
			t0 := threadCPU()
			defer func() { readerCPU.Add(threadCPU() - t0) }()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := s.ReadPacket(); err == nil {
					got.Add(1)
				} else if !errors.Is(err, ErrTimeout) {
					return
				}
			}
		}()
	}
	b.ResetTimer()
	el := blast(b, n, 100)
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		if int(got.Load())+int(src.Stats().KernelDrops) >= n {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	st := src.Stats()
	b.ReportMetric(float64(n)/el.Seconds(), "sent/s")
	b.ReportMetric(float64(got.Load())/el.Seconds(), "captured/s")
	b.ReportMetric(float64(st.KernelDrops)/float64(n)*100, "%dropped")
	if c := readerCPU.Load(); c > 0 {
		// What one core spent per packet in the reader: its ceiling.
		b.ReportMetric(float64(got.Load())/(float64(c)/1e9), "packets/reader-cpu-s")
	}
}

// threadCPU is the CPU time of the calling thread, in ns.
func threadCPU() int64 {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_THREAD, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// BenchmarkLivePureGo measures the default path (recvmsg on AF_PACKET).
func BenchmarkLivePureGo(b *testing.B)        { measureLive(b, OpenLive, 1) }
func BenchmarkLivePureGoFanout2(b *testing.B) { measureLive(b, OpenLive, 2) }

// BenchmarkLiveAFPacket measures TPACKET_V3 (build tag afpacket).
func BenchmarkLiveAFPacket(b *testing.B)        { measureLive(b, OpenAFPacket, 1) }
func BenchmarkLiveAFPacketFanout2(b *testing.B) { measureLive(b, OpenAFPacket, 2) }

// BenchmarkLivePcap measures libpcap (build tag pcap).
func BenchmarkLivePcap(b *testing.B) {
	measureLive(b, func(o LiveOptions) (Source, error) { return OpenPcap(o, "udp dst port 54321") }, 1)
}
