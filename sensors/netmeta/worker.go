package netmeta

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/egovsoc/egovsoc/sensors/capture"
	"github.com/egovsoc/egovsoc/sensors/netmeta/dns"
	"github.com/egovsoc/egovsoc/sensors/netmeta/http"
	"github.com/egovsoc/egovsoc/sensors/netmeta/tls"
)

// worker owns one share of the flows and everything that parses them.
type worker struct {
	p    *Pipeline
	id   int
	dec  *decoder
	frag *defrag
	tab  *table
	now  int64 // packet clock: the latest packet time seen, unix ns
	pkt  packet
	cur  *flow // the flow being processed (for the stream sinks)
	doc  doc
	key  []byte

	st     Stats // counters, owned by the worker goroutine
	pubMu  sync.Mutex
	pub    Stats // last published copy
	unpub  int
	active int64 // active timeout, ns

	mem, memMax int // bytes held for parsing, and the bound

	dnsMsg  dns.Message
	certs   map[[32]byte]tls.Certificate // parsed certificates by SHA-256
	httpCnt http.Counters
	sinks   [2]dirSink
	scratch []byte

	in, free chan *batch // dispatcher mode
}

func newWorker(p *Pipeline, id int) *worker {
	o := p.opt
	n := o.Workers
	t := o.FlowTimeouts
	var to [numLists]int64
	to[listTCPHandshake] = int64(t.TCPHandshake)
	to[listTCP] = int64(t.TCP)
	to[listTCPClosed] = int64(t.TCPClosed)
	to[listUDP] = int64(t.UDP)
	to[listOther] = int64(t.Other)
	w := &worker{
		p:      p,
		id:     id,
		dec:    newDecoder(),
		frag:   newDefrag(max(o.MaxFragments/n, 16), max(o.MaxFragmentBytes/n, 1<<20)),
		tab:    newTable(max(o.MaxFlows/n, 1), to),
		active: int64(t.Active),
		memMax: max(o.MaxBuffered/n, 1<<20),
	}
	w.sinks[0] = dirSink{w: w, fromLo: true}
	w.sinks[1] = dirSink{w: w, fromLo: false}
	return w
}

// read processes a source on this goroutine (one worker, or one shard).
func (w *worker) read(ctx context.Context, src capture.Source) error {
	for n := 0; ; n++ {
		if n&255 == 0 && (ctx.Err() != nil || w.p.failed()) {
			return nil
		}
		pkt, err := src.ReadPacket()
		if err != nil {
			if errors.Is(err, capture.ErrTimeout) {
				w.tick(time.Now().UnixNano())
			}
			stop, e := readErr(ctx, err)
			if stop {
				return e
			}
			continue
		}
		w.packet(pkt)
	}
}

// consume processes batches from the dispatcher.
func (w *worker) consume() {
	for b := range w.in {
		if w.p.failed() {
			w.free <- b
			continue
		}
		for _, pkt := range b.pkts {
			w.packet(pkt)
		}
		if b.tick != 0 {
			w.tick(b.tick)
		}
		w.free <- b
	}
}

// tick advances the clock when no packets come, so idle flows still end.
func (w *worker) tick(now int64) {
	if now > w.now {
		w.now = now
	}
	w.guard(func() { w.expire() })
	w.publish()
}

// guard runs f, counting a panic instead of dying of it.
func (w *worker) guard(f func()) {
	defer func() {
		if r := recover(); r != nil {
			w.st.Panics++
			w.abandonCurrent()
		}
	}()
	f()
}

// packet is the per-packet path: decode, reassemble, flow, parse.
func (w *worker) packet(cp capture.Packet) {
	defer func() {
		if r := recover(); r != nil {
			w.st.Panics++
			w.abandonCurrent()
		}
	}()
	w.st.Packets++
	wire := cp.Info.Length
	if wire < len(cp.Data) {
		wire = len(cp.Data)
	}
	w.st.Bytes += uint64(wire)
	if w.unpub++; w.unpub >= 4096 {
		w.publish()
	}
	ts := cp.Info.Timestamp.UnixNano()
	if ts > w.now {
		w.now = ts
	}
	w.expire()

	p := &w.pkt
	*p = packet{ts: w.now, wireLen: wire}
	frag, err := w.dec.decode(cp.Info.LinkType, cp.Data, p)
	if w.dec.truncated() {
		w.st.Truncated++
	}
	if err != nil {
		if err == errNoIP || err == errLinkType {
			w.st.NotIP++
		} else {
			w.st.DecodeErrors++
		}
		return
	}
	if frag {
		if !w.fragment(p) {
			return
		}
	}
	w.flowPacket(p)
}

// fragment files an IP fragment; it returns true when p now holds the
// reassembled datagram.
func (w *worker) fragment(p *packet) bool {
	w.st.Fragments++
	id, off, more, data := w.dec.fragmentPayload(p)
	k := fragKey{src: p.src, dst: p.dst, id: id, proto: p.proto, v6: p.v6}
	res, payload, frames, wireBytes := w.frag.add(w.now, k, off, more, data, p.wireLen)
	switch res {
	case fragDropped:
		w.st.FragmentsDropped++
		return false
	case fragOverlap:
		w.st.FragmentOverlaps++
		return false
	case fragPending:
		return false
	}
	w.st.Reassembled++
	if err := w.dec.decodeTransport(p.proto, payload, p); err != nil {
		w.st.DecodeErrors++
		return false
	}
	p.frags, p.fragBytes = frames, wireBytes
	return true
}

// publish copies the counters where Stats can read them.
func (w *worker) publish() {
	w.unpub = 0
	w.st.FlowsActive = uint64(w.tab.n)
	w.st.Buffered = uint64(max(w.mem, 0))
	w.st.HTTPErrors = w.httpCnt.Abandoned
	w.pubMu.Lock()
	w.pub = w.st
	w.pubMu.Unlock()
}

// Flow end reasons (egovsoc.flow.reason).
const (
	reasonIdle    = "idle"
	reasonActive  = "active"
	reasonFIN     = "fin"
	reasonRST     = "rst"
	reasonEvicted = "evicted"
	reasonEnd     = "end"
)

// expire ends the flows whose idle timeout has passed.
func (w *worker) expire() {
	for {
		i := w.tab.expired(w.now)
		if i == 0 {
			return
		}
		f := w.tab.at(i)
		reason := reasonIdle
		if f.list == listTCPClosed {
			reason = reasonFIN
			if (f.flags[0]|f.flags[1])&tcpRST != 0 {
				reason = reasonRST
			}
		}
		w.endFlow(i, f, reason)
	}
}

// flushAll ends every flow (the source ended or the pipeline stops).
func (w *worker) flushAll() {
	w.guard(func() {
		for l := range w.tab.lists {
			for w.tab.lists[l].head != 0 {
				i := w.tab.lists[l].head
				f := w.tab.at(i)
				reason := reasonEnd
				if f.list == listTCPClosed {
					reason = reasonFor(f) // closed already, waiting for stragglers
				}
				w.endFlow(i, f, reason)
			}
		}
	})
}

// endFlow writes a flow's protocol leftovers and its record, and drops it.
func (w *worker) endFlow(i uint32, f *flow, reason string) {
	if f.app != nil {
		w.cur = f
		w.closeApp(f)
		w.cur = nil
	}
	if !w.p.opt.NoFlows {
		w.emitFlow(f, reason, true)
	}
	if reason == reasonEvicted {
		w.st.FlowsEvicted++
	} else {
		w.st.FlowsEnded++
	}
	w.tab.remove(i)
}

// likelyServer reports a port that servers listen on: a packet from it to
// an ephemeral port is probably a reply, when no SYN says otherwise.
func likelyServer(port uint16) bool {
	if port < 1024 {
		return true
	}
	switch port {
	case 1433, 1521, 3128, 3306, 3389, 5060, 5222, 5269, 5353, 5355, 5432, 5900, 6379, 6443,
		8000, 8008, 8080, 8081, 8443, 8888, 9090, 9200, 9300, 11211, 27017:
		return true
	}
	return false
}

// flowPacket files a decoded packet in its flow and parses its payload.
func (w *worker) flowPacket(p *packet) {
	sport, dport := p.sport, p.dport
	if p.proto == protoICMP || p.proto == protoICMPv6 {
		sport, dport, _ = icmpPorts(p.proto, p.icmpType, p.icmpCode)
	} else if p.proto != protoTCP && p.proto != protoUDP {
		sport, dport = 0, 0
	}
	key, fromLo := makeKey(p.src, p.dst, sport, dport, p.proto, p.v6)
	i, f := w.tab.lookup(&key)
	if f != nil && f.list == listTCPClosed && p.flags&(tcpSYN|tcpACK) == tcpSYN {
		// A new connection on the tuple of a closed one.
		w.endFlow(i, f, reasonFor(f))
		f = nil
	}
	if f == nil {
		if w.tab.n >= w.tab.max {
			if o := w.tab.oldest(); o != 0 {
				w.endFlow(o, w.tab.at(o), reasonEvicted)
			}
		}
		i, f = w.tab.insert(&key)
		f.start, f.last = p.ts, p.ts
		f.origLo = fromLo
		f.vlan = p.vlan
		f.icmpType, f.icmpCode = p.icmpType, p.icmpCode
		switch {
		case p.proto == protoTCP && p.flags&tcpSYNACK != 0:
			f.origLo = !fromLo // we missed the SYN: the receiver of SYN-ACK began
		case p.proto == protoTCP && p.flags&tcpSYN != 0:
		case (p.proto == protoTCP || p.proto == protoUDP) && likelyServer(p.sport) && !likelyServer(p.dport):
			f.origLo = !fromLo
		}
		w.st.FlowsCreated++
	}
	fromOrig := fromLo == f.origLo
	d := 0
	if !fromOrig {
		d = 1
	}
	frames, bytes := 1, p.wireLen
	if p.frags > 0 {
		frames, bytes = p.frags, p.fragBytes
	}
	f.pkts[d] += uint64(frames)
	f.bytes[d] += uint64(bytes)
	f.last = p.ts
	if p.proto == protoTCP {
		fl := p.flags
		if len(p.payload) > 0 {
			fl |= tcpData
		}
		f.flags[d] |= fl
	}
	w.tab.touch(i, f, listFor(f))

	switch p.proto {
	case protoTCP:
		if len(p.payload) > 0 && !f.noapp {
			w.tcpPayload(f, fromLo, p)
		}
	case protoUDP:
		if len(p.payload) > 0 {
			w.udpPayload(f, fromLo == f.origLo, p)
		}
	}
	if p.ts-f.start >= w.active && f.used {
		w.interim(f)
	}
}

func reasonFor(f *flow) string {
	if (f.flags[0]|f.flags[1])&tcpRST != 0 {
		return reasonRST
	}
	return reasonFIN
}

func listFor(f *flow) uint8 {
	switch f.key.proto {
	case protoTCP:
		o, r := f.flags[0], f.flags[1]
		switch {
		case (o|r)&tcpRST != 0, o&tcpFIN != 0 && r&tcpFIN != 0:
			return listTCPClosed
		case o&tcpSYN != 0 && r&(tcpSYNACK|tcpData) == 0:
			return listTCPHandshake
		}
		return listTCP
	case protoUDP:
		return listUDP
	}
	return listOther
}

// interim writes a record of a long flow and starts the next interval.
func (w *worker) interim(f *flow) {
	if !w.p.opt.NoFlows {
		w.emitFlow(f, reasonActive, false)
	}
	w.st.FlowsInterim++
	f.interim = true
	f.start = f.last
	f.bytes, f.pkts = [2]uint64{}, [2]uint64{}
}
