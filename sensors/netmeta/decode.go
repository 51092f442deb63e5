package netmeta

import (
	"encoding/binary"
	"errors"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

const (
	protoICMP   = 1
	protoTCP    = 6
	protoUDP    = 17
	protoICMPv6 = 58
)

// packet is what the decoder tells the rest of the worker about one frame.
type packet struct {
	ts       int64
	wireLen  int
	src, dst [16]byte
	v6       bool
	proto    uint8
	sport    uint16
	dport    uint16
	flags    uint8 // TCP flags
	seq      uint32
	payload  []byte
	icmpType uint8
	icmpCode uint8
	vlan     uint16
	// fragments this datagram was reassembled from (0 when it was not)
	frags, fragBytes int
}

// decoder holds one worker's gopacket decoding layers and the parsers over
// them: one DecodingLayerParser per first layer (the link type decides).
type decoder struct {
	eth    layers.Ethernet
	dot1q  layers.Dot1Q
	sll    layers.LinuxSLL
	loop   layers.Loopback
	gre    layers.GRE
	erspan layers.ERSPANII
	vxlan  layers.VXLAN
	mpls   mplsLayer
	ip4    layers.IPv4
	ip6    layers.IPv6
	ip6opt ipv6Options
	ip6frg ipv6Fragment
	tcp    layers.TCP
	udp    layers.UDP
	icmp4  layers.ICMPv4
	icmp6  layers.ICMPv6

	parsers map[gopacket.LayerType]*gopacket.DecodingLayerParser
	decoded []gopacket.LayerType
	last    *gopacket.DecodingLayerParser
}

func newDecoder() *decoder {
	d := &decoder{parsers: map[gopacket.LayerType]*gopacket.DecodingLayerParser{}}
	all := []gopacket.DecodingLayer{
		&d.eth, &d.dot1q, &d.sll, &d.loop, &d.gre, &d.erspan, &d.vxlan, &d.mpls,
		&d.ip4, &d.ip6, &d.ip6opt, &d.ip6frg, &d.tcp, &d.udp, &d.icmp4, &d.icmp6,
	}
	for _, first := range []gopacket.LayerType{
		layers.LayerTypeEthernet, layers.LayerTypeLinuxSLL, layers.LayerTypeLoopback,
		layers.LayerTypeIPv4, layers.LayerTypeIPv6,
		layers.LayerTypeTCP, layers.LayerTypeUDP, layers.LayerTypeICMPv4, layers.LayerTypeICMPv6,
	} {
		p := gopacket.NewDecodingLayerParser(first, all...)
		p.IgnoreUnsupported = true // stop quietly at the first layer we do not decode
		d.parsers[first] = p
	}
	d.decoded = make([]gopacket.LayerType, 0, 16)
	// Checksums are not verified and TCP options are not kept in a map:
	// the layers above reuse their storage across packets.
	return d
}

var (
	errNoIP       = errors.New("no IP layer")
	errLinkType   = errors.New("unsupported link type")
	errShortMPLS  = errors.New("MPLS label stack truncated")
	errDeepMPLS   = errors.New("MPLS label stack deeper than 16")
	errShortIPv6X = errors.New("IPv6 extension header truncated")
)

// firstLayer picks the layer a frame of a link type starts with.
func firstLayer(lt layers.LinkType, data []byte) (gopacket.LayerType, bool) {
	switch lt {
	case layers.LinkTypeEthernet:
		return layers.LayerTypeEthernet, true
	case layers.LinkTypeLinuxSLL:
		return layers.LayerTypeLinuxSLL, true
	case layers.LinkTypeNull, layers.LinkTypeLoop:
		return layers.LayerTypeLoopback, true
	case layers.LinkTypeRaw, layers.LinkTypeIPv4, layers.LinkTypeIPv6, 12, 14:
		if len(data) == 0 {
			return 0, false
		}
		switch data[0] >> 4 {
		case 4:
			return layers.LayerTypeIPv4, true
		case 6:
			return layers.LayerTypeIPv6, true
		}
	}
	return 0, false
}

// decode runs the parser for the link type over data and fills p. It
// reports fragment=true when the datagram is a fragment that must be
// reassembled before its transport header can be read.
func (d *decoder) decode(lt layers.LinkType, data []byte, p *packet) (fragment bool, err error) {
	first, ok := firstLayer(lt, data)
	if !ok {
		return false, errLinkType
	}
	return d.run(first, data, p)
}

func (d *decoder) run(first gopacket.LayerType, data []byte, p *packet) (fragment bool, err error) {
	parser := d.parsers[first]
	d.last = parser
	d.ip6frg.present, d.ip6opt.seen = false, false
	if err := parser.DecodeLayers(data, &d.decoded); err != nil {
		return false, err
	}
	var netLayer, transport gopacket.LayerType
	for _, t := range d.decoded {
		switch t {
		case layers.LayerTypeDot1Q:
			if p.vlan == 0 {
				p.vlan = d.dot1q.VLANIdentifier
			}
		case layers.LayerTypeIPv4, layers.LayerTypeIPv6:
			netLayer, transport = t, 0 // an inner header (tunnel) wins
		case layers.LayerTypeTCP, layers.LayerTypeUDP, layers.LayerTypeICMPv4, layers.LayerTypeICMPv6:
			transport = t
		}
	}
	switch netLayer {
	case layers.LayerTypeIPv4:
		ip := &d.ip4
		if len(ip.SrcIP) != 4 || len(ip.DstIP) != 4 {
			return false, errNoIP
		}
		p.v6 = false
		p.src = v4mapped(ip.SrcIP)
		p.dst = v4mapped(ip.DstIP)
		p.proto = uint8(ip.Protocol)
		if ip.Flags&layers.IPv4MoreFragments != 0 || ip.FragOffset != 0 {
			return true, nil
		}
	case layers.LayerTypeIPv6:
		ip := &d.ip6
		if len(ip.SrcIP) != 16 || len(ip.DstIP) != 16 {
			return false, errNoIP
		}
		p.v6 = true
		p.src = [16]byte(ip.SrcIP)
		p.dst = [16]byte(ip.DstIP)
		p.proto = uint8(ip.NextHeader)
		if ip.HopByHop != nil {
			p.proto = uint8(ip.HopByHop.NextHeader)
		}
		if d.ip6opt.seen {
			p.proto = uint8(d.ip6opt.NextHeader)
		}
		if f := &d.ip6frg; f.present {
			p.proto = uint8(f.NextHeader)
			if f.Offset != 0 || f.More {
				return true, nil
			}
		}
	case 0:
		if first != layers.LayerTypeTCP && first != layers.LayerTypeUDP &&
			first != layers.LayerTypeICMPv4 && first != layers.LayerTypeICMPv6 {
			return false, errNoIP
		}
	}
	d.transport(transport, p)
	return false, nil
}

// transport copies the transport header fields into p.
func (d *decoder) transport(t gopacket.LayerType, p *packet) {
	switch t {
	case layers.LayerTypeTCP:
		tcp := &d.tcp
		p.proto = protoTCP
		p.sport, p.dport = uint16(tcp.SrcPort), uint16(tcp.DstPort)
		p.seq = tcp.Seq
		var f uint8
		if tcp.SYN {
			f |= tcpSYN
			if tcp.ACK {
				f |= tcpSYNACK
			}
		}
		if tcp.FIN {
			f |= tcpFIN
		}
		if tcp.RST {
			f |= tcpRST
		}
		if tcp.ACK {
			f |= tcpACK
		}
		p.flags = f
		p.payload = tcp.Payload
	case layers.LayerTypeUDP:
		p.proto = protoUDP
		p.sport, p.dport = uint16(d.udp.SrcPort), uint16(d.udp.DstPort)
		p.payload = d.udp.Payload
	case layers.LayerTypeICMPv4:
		p.proto = protoICMP
		p.icmpType, p.icmpCode = d.icmp4.TypeCode.Type(), d.icmp4.TypeCode.Code()
	case layers.LayerTypeICMPv6:
		p.proto = protoICMPv6
		p.icmpType, p.icmpCode = d.icmp6.TypeCode.Type(), d.icmp6.TypeCode.Code()
	}
}

// fragmentPayload returns the fragment's place in its datagram.
func (d *decoder) fragmentPayload(p *packet) (id uint32, off int, more bool, data []byte) {
	if !p.v6 {
		ip := &d.ip4
		return uint32(ip.Id), int(ip.FragOffset) * 8, ip.Flags&layers.IPv4MoreFragments != 0, ip.Payload
	}
	f := &d.ip6frg
	return f.Identification, int(f.Offset) * 8, f.More, f.Payload
}

// transportLayer is the first layer of a reassembled datagram's payload.
func transportLayer(proto uint8) (gopacket.LayerType, bool) {
	switch proto {
	case protoTCP:
		return layers.LayerTypeTCP, true
	case protoUDP:
		return layers.LayerTypeUDP, true
	case protoICMP:
		return layers.LayerTypeICMPv4, true
	case protoICMPv6:
		return layers.LayerTypeICMPv6, true
	}
	return 0, false
}

// decodeTransport decodes a reassembled datagram's payload.
func (d *decoder) decodeTransport(proto uint8, data []byte, p *packet) error {
	first, ok := transportLayer(proto)
	if !ok {
		p.proto = proto
		return nil
	}
	parser := d.parsers[first]
	d.last = parser
	if err := parser.DecodeLayers(data, &d.decoded); err != nil {
		return err
	}
	if len(d.decoded) > 0 {
		d.transport(d.decoded[0], p)
	}
	return nil
}

// truncated reports whether the last parse met a truncated layer.
func (d *decoder) truncated() bool { return d.last != nil && d.last.Truncated }

func v4mapped(ip []byte) [16]byte {
	var a [16]byte
	a[10], a[11] = 0xff, 0xff
	copy(a[12:], ip)
	return a
}

// mplsLayer pops an MPLS label stack (gopacket's MPLS layer is not a
// DecodingLayer) and guesses what it carries from the first nibble: IPv4,
// IPv6, or an Ethernet pseudowire behind a control word.
type mplsLayer struct {
	layers.BaseLayer
	next gopacket.LayerType
}

func (m *mplsLayer) CanDecode() gopacket.LayerClass    { return layers.LayerTypeMPLS }
func (m *mplsLayer) NextLayerType() gopacket.LayerType { return m.next }
func (m *mplsLayer) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	i := 0
	for {
		if len(data) < i+4 {
			df.SetTruncated()
			return errShortMPLS
		}
		bottom := data[i+2]&1 != 0
		i += 4
		if bottom {
			break
		}
		if i >= 16*4 {
			return errDeepMPLS
		}
	}
	payload := data[i:]
	m.BaseLayer = layers.BaseLayer{Contents: data[:i], Payload: payload}
	m.next = gopacket.LayerTypePayload
	if len(payload) > 0 {
		switch payload[0] >> 4 {
		case 4:
			m.next = layers.LayerTypeIPv4
		case 6:
			m.next = layers.LayerTypeIPv6
		case 0:
			if len(payload) >= 4+14 { // pseudowire control word, then Ethernet
				m.Payload = payload[4:]
				m.next = layers.LayerTypeEthernet
			}
		}
	}
	return nil
}

// ipv6Options skips IPv6 routing and destination-options headers (the
// same layout: next header, length in 8-octet units past the first 8).
type ipv6Options struct {
	layers.BaseLayer
	NextHeader layers.IPProtocol
	seen       bool
}

func (o *ipv6Options) CanDecode() gopacket.LayerClass {
	return gopacket.NewLayerClassSlice([]gopacket.LayerType{layers.LayerTypeIPv6Routing, layers.LayerTypeIPv6Destination})
}
func (o *ipv6Options) NextLayerType() gopacket.LayerType { return o.NextHeader.LayerType() }
func (o *ipv6Options) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	if len(data) < 8 {
		df.SetTruncated()
		return errShortIPv6X
	}
	n := 8 + int(data[1])*8
	if len(data) < n {
		df.SetTruncated()
		return errShortIPv6X
	}
	o.NextHeader = layers.IPProtocol(data[0])
	o.BaseLayer = layers.BaseLayer{Contents: data[:n], Payload: data[n:]}
	o.seen = true
	return nil
}

// ipv6Fragment reads an IPv6 fragment header. NextLayerType stops the
// parser at a fragment (reassembly comes first); an atomic fragment
// (offset 0, no more) goes straight on to its payload.
type ipv6Fragment struct {
	layers.BaseLayer
	NextHeader     layers.IPProtocol
	Offset         uint16 // in 8-octet units
	More           bool
	Identification uint32
	present        bool
}

func (f *ipv6Fragment) CanDecode() gopacket.LayerClass { return layers.LayerTypeIPv6Fragment }
func (f *ipv6Fragment) NextLayerType() gopacket.LayerType {
	if f.Offset != 0 || f.More {
		return gopacket.LayerTypeFragment
	}
	return f.NextHeader.LayerType()
}
func (f *ipv6Fragment) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	if len(data) < 8 {
		df.SetTruncated()
		return errShortIPv6X
	}
	f.NextHeader = layers.IPProtocol(data[0])
	v := binary.BigEndian.Uint16(data[2:4])
	f.Offset = v >> 3
	f.More = v&1 != 0
	f.Identification = binary.BigEndian.Uint32(data[4:8])
	f.BaseLayer = layers.BaseLayer{Contents: data[:8], Payload: data[8:]}
	f.present = true
	return nil
}
