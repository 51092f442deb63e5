package netmeta

import (
	"bytes"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"net/netip"
)

// flowKey names a bidirectional flow: its two endpoints in canonical order
// (the lower address, then port, first), so both directions find one entry.
// IPv4 addresses are held IPv4-mapped. For ICMP the ports are the Community
// ID port equivalents of type and code, so a request and its reply meet.
type flowKey struct {
	lo, hi   [16]byte
	plo, phi uint16
	proto    uint8
	v6       bool
}

// makeKey orders the endpoints of a packet. fromLo reports whether the
// packet was sent by the lo endpoint.
func makeKey(src, dst [16]byte, sport, dport uint16, proto uint8, v6 bool) (k flowKey, fromLo bool) {
	c := bytes.Compare(src[:], dst[:])
	if c < 0 || c == 0 && sport <= dport {
		return flowKey{lo: src, hi: dst, plo: sport, phi: dport, proto: proto, v6: v6}, true
	}
	return flowKey{lo: dst, hi: src, plo: dport, phi: sport, proto: proto, v6: v6}, false
}

// Flow lists: each keeps its flows in order of last activity, and has its
// own idle timeout, so expiry only ever looks at list heads.
const (
	listTCPHandshake = iota // SYN seen, no answer yet
	listTCP                 // established, or joined midway
	listTCPClosed           // FIN from both sides, or RST
	listUDP
	listOther
	numLists
)

// TCP flag bits kept per direction.
const (
	tcpSYN uint8 = 1 << iota
	tcpSYNACK
	tcpFIN
	tcpRST
	tcpACK
	tcpData
)

// flow is one entry of the table. It is kept small: a million of them must
// fit in a few hundred megabytes.
type flow struct {
	key         flowKey
	start, last int64     // unix ns: start of this record's interval, last packet
	bytes       [2]uint64 // [0] originator to responder, [1] back
	pkts        [2]uint64
	prev, next  uint32 // list links (slot indexes; 0 is none)
	app         *app   // protocol state, nil for flows without parsed payload
	vlan        uint16
	seq         uint16   // records and events emitted for this flow
	flags       [2]uint8 // TCP flags seen, per direction (originator first)
	origLo      bool     // the originator is key.lo
	list        uint8
	used        bool
	noapp       bool // payload is not parsed (not a protocol we read, or given up)
	interim     bool // an interim record was emitted
	icmpType    uint8
	icmpCode    uint8
}

// table is one worker's flow table: a map from key to slot, slots in fixed
// chunks (no pointer-chasing for the GC in the map, no doubling copies).
type table struct {
	m       map[flowKey]uint32
	chunks  [][]flow
	free    []uint32
	n       int
	max     int
	lists   [numLists]struct{ head, tail uint32 }
	timeout [numLists]int64
}

const chunkBits = 12

func newTable(max int, timeouts [numLists]int64) *table {
	t := &table{m: make(map[flowKey]uint32, min(max, 1<<16)), max: max, timeout: timeouts}
	t.chunks = append(t.chunks, make([]flow, 1<<chunkBits)) // slot 0 is the nil slot
	for i := uint32(1<<chunkBits) - 1; i >= 1; i-- {
		t.free = append(t.free, i)
	}
	return t
}

func (t *table) at(i uint32) *flow { return &t.chunks[i>>chunkBits][i&(1<<chunkBits-1)] }

func (t *table) lookup(k *flowKey) (uint32, *flow) {
	i, ok := t.m[*k]
	if !ok {
		return 0, nil
	}
	return i, t.at(i)
}

// insert adds a flow; the caller has made room (len < max).
func (t *table) insert(k *flowKey) (uint32, *flow) {
	if len(t.free) == 0 {
		base := uint32(len(t.chunks)) << chunkBits
		t.chunks = append(t.chunks, make([]flow, 1<<chunkBits))
		for i := base + 1<<chunkBits - 1; i >= base; i-- {
			t.free = append(t.free, i)
			if i == 0 {
				break
			}
		}
	}
	i := t.free[len(t.free)-1]
	t.free = t.free[:len(t.free)-1]
	f := t.at(i)
	*f = flow{key: *k, used: true}
	t.m[*k] = i
	t.n++
	return i, f
}

// remove drops a flow from its list and the table.
func (t *table) remove(i uint32) {
	f := t.at(i)
	t.unlink(i, f)
	delete(t.m, f.key)
	*f = flow{}
	t.free = append(t.free, i)
	t.n--
}

func (t *table) unlink(i uint32, f *flow) {
	l := &t.lists[f.list]
	if f.prev != 0 {
		t.at(f.prev).next = f.next
	} else if l.head == i {
		l.head = f.next
	}
	if f.next != 0 {
		t.at(f.next).prev = f.prev
	} else if l.tail == i {
		l.tail = f.prev
	}
	f.prev, f.next = 0, 0
}

// touch moves a flow to the tail of list (the most recently active).
func (t *table) touch(i uint32, f *flow, list uint8) {
	l := &t.lists[f.list]
	if f.list == list && l.tail == i {
		return
	}
	if l.head == i || f.prev != 0 || f.next != 0 {
		t.unlink(i, f)
	}
	f.list = list
	l = &t.lists[list]
	f.prev = l.tail
	if l.tail != 0 {
		t.at(l.tail).next = i
	} else {
		l.head = i
	}
	l.tail = i
}

// expired returns a flow whose idle timeout passed at now, or 0.
func (t *table) expired(now int64) uint32 {
	for l := range t.lists {
		h := t.lists[l].head
		if h != 0 && now-t.at(h).last >= t.timeout[l] {
			return h
		}
	}
	return 0
}

// oldest returns the least recently active flow of all lists, to evict.
func (t *table) oldest() uint32 {
	var best uint32
	var bestLast int64
	for l := range t.lists {
		h := t.lists[l].head
		if h == 0 {
			continue
		}
		if f := t.at(h); best == 0 || f.last < bestLast {
			best, bestLast = h, f.last
		}
	}
	return best
}

// addr returns the addresses and ports of a flow, originator first.
func (f *flow) endpoints() (src, dst netip.Addr, sport, dport uint16) {
	lo, hi := addrOf(f.key.lo, f.key.v6), addrOf(f.key.hi, f.key.v6)
	if f.origLo {
		return lo, hi, f.key.plo, f.key.phi
	}
	return hi, lo, f.key.phi, f.key.plo
}

func addrOf(b [16]byte, v6 bool) netip.Addr {
	a := netip.AddrFrom16(b)
	if !v6 {
		return a.Unmap()
	}
	return a
}

// state names the TCP state of a flow as Zeek's conn_state does.
func (f *flow) state() string {
	if f.key.proto != protoTCP {
		return ""
	}
	o, r := f.flags[0], f.flags[1]
	synO := o&tcpSYN != 0
	synackR := r&tcpSYNACK != 0
	switch {
	case synO && !synackR:
		switch {
		case o&tcpRST != 0:
			return "RSTOS0"
		case r&tcpRST != 0:
			return "REJ"
		case o&tcpFIN != 0:
			return "SH"
		case r&(tcpData|tcpACK) != 0:
			return "OTH"
		}
		return "S0"
	case synackR && !synO:
		switch {
		case r&tcpRST != 0:
			return "RSTRH"
		case r&tcpFIN != 0:
			return "SHR"
		}
		return "OTH"
	case synO && synackR:
		switch {
		case o&tcpRST != 0:
			return "RSTO"
		case r&tcpRST != 0:
			return "RSTR"
		case o&tcpFIN != 0 && r&tcpFIN != 0:
			return "SF"
		case o&tcpFIN != 0:
			return "S2"
		case r&tcpFIN != 0:
			return "S3"
		}
		return "S1"
	}
	return "OTH"
}

// communityID is the Community ID v1 (seed 0) of a flow, seen from its
// originator: the hash Zeek, Suricata and packet brokers agree on.
func (f *flow) communityID() string {
	src, dst, sport, dport := f.endpoints()
	oneWay := false
	if f.key.proto == protoICMP || f.key.proto == protoICMPv6 {
		sport, dport, oneWay = icmpPorts(f.key.proto, f.icmpType, f.icmpCode)
	}
	return communityID(src, dst, sport, dport, f.key.proto, oneWay)
}

func communityID(src, dst netip.Addr, sport, dport uint16, proto uint8, oneWay bool) string {
	s, d := src.AsSlice(), dst.AsSlice()
	if !oneWay {
		if c := bytes.Compare(s, d); c > 0 || c == 0 && sport > dport {
			s, d, sport, dport = d, s, dport, sport
		}
	}
	var buf [2 + 16 + 16 + 2 + 4]byte
	b := buf[:2] // seed 0
	b = append(b, s...)
	b = append(b, d...)
	b = append(b, proto, 0)
	b = binary.BigEndian.AppendUint16(b, sport)
	b = binary.BigEndian.AppendUint16(b, dport)
	sum := sha1.Sum(b)
	return "1:" + base64.StdEncoding.EncodeToString(sum[:])
}

// icmpPorts maps an ICMP type and code to Community ID port equivalents:
// request and reply types map to each other, others are one-way.
func icmpPorts(proto, typ, code uint8) (sport, dport uint16, oneWay bool) {
	var peer int = -1
	if proto == protoICMP {
		switch typ {
		case 8:
			peer = 0
		case 0:
			peer = 8
		case 13:
			peer = 14
		case 14:
			peer = 13
		case 15:
			peer = 16
		case 16:
			peer = 15
		case 10:
			peer = 9
		case 9:
			peer = 10
		case 17:
			peer = 18
		case 18:
			peer = 17
		}
	} else {
		switch typ {
		case 128:
			peer = 129
		case 129:
			peer = 128
		case 130:
			peer = 131
		case 131:
			peer = 130
		case 133:
			peer = 134
		case 134:
			peer = 133
		case 135:
			peer = 136
		case 136:
			peer = 135
		case 139:
			peer = 140
		case 140:
			peer = 139
		case 144:
			peer = 145
		case 145:
			peer = 144
		}
	}
	if peer < 0 {
		return uint16(typ), uint16(code), true
	}
	return uint16(typ), uint16(peer), false
}
