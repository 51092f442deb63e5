package netmeta

import "github.com/egovsoc/egovsoc/sensors/capture"

// Stats are the sensor's health counters, for its heartbeat. Counters only
// grow, except FlowsActive and Buffered, which are gauges. The JSON names
// are those of the heartbeat's egovsoc.sensor.network object.
type Stats struct {
	// Source is what the capture source delivered and what the kernel or
	// interface dropped before it.
	Source capture.Stats `json:"source"`

	Packets uint64 `json:"packets"` // packets the workers read
	Bytes   uint64 `json:"bytes"`   // their wire bytes

	DecodeErrors uint64 `json:"decode_errors"` // a decoder rejected the packet
	Panics       uint64 `json:"panics"`        // a decoder or parser panicked on it
	NotIP        uint64 `json:"not_ip"`        // no IP layer we follow (ARP, LLDP, …)
	Truncated    uint64 `json:"truncated"`     // a layer was cut short (snap length, corruption)

	Fragments        uint64 `json:"fragments"`         // IP fragments seen
	Reassembled      uint64 `json:"reassembled"`       // datagrams reassembled from them
	FragmentsDropped uint64 `json:"fragments_dropped"` // over a limit, malformed or timed out
	FragmentOverlaps uint64 `json:"fragment_overlaps"` // overlapping fragments that disagree

	FlowsActive  uint64 `json:"flows_active"`
	FlowsCreated uint64 `json:"flows_created"`
	FlowsEnded   uint64 `json:"flows_ended"`   // records written at the end of a flow
	FlowsEvicted uint64 `json:"flows_evicted"` // the table was full: the least recent flow went
	FlowsInterim uint64 `json:"flows_interim"` // interim records of long flows

	TCPGaps        uint64 `json:"tcp_gaps"`        // holes in TCP streams the parsers skipped
	BufferPressure uint64 `json:"buffer_pressure"` // flows whose parsing stopped at MaxBuffered
	Buffered       uint64 `json:"buffered"`        // bytes held for parsing now

	Events     uint64 `json:"events"` // documents emitted
	FlowEvents uint64 `json:"flow_events"`
	DNSEvents  uint64 `json:"dns_events"`
	HTTPEvents uint64 `json:"http_events"`
	TLSEvents  uint64 `json:"tls_events"`
	SSHEvents  uint64 `json:"ssh_events"`

	DNSErrors  uint64 `json:"dns_errors"`  // malformed DNS messages
	HTTPErrors uint64 `json:"http_errors"` // HTTP directions abandoned
	TLSErrors  uint64 `json:"tls_errors"`  // malformed hellos or non-TLS records
	SSHErrors  uint64 `json:"ssh_errors"`  // banners or KEXINITs that were not SSH
}

func (s *Stats) add(o *Stats) {
	s.Packets += o.Packets
	s.Bytes += o.Bytes
	s.DecodeErrors += o.DecodeErrors
	s.Panics += o.Panics
	s.NotIP += o.NotIP
	s.Truncated += o.Truncated
	s.Fragments += o.Fragments
	s.Reassembled += o.Reassembled
	s.FragmentsDropped += o.FragmentsDropped
	s.FragmentOverlaps += o.FragmentOverlaps
	s.FlowsActive += o.FlowsActive
	s.FlowsCreated += o.FlowsCreated
	s.FlowsEnded += o.FlowsEnded
	s.FlowsEvicted += o.FlowsEvicted
	s.FlowsInterim += o.FlowsInterim
	s.TCPGaps += o.TCPGaps
	s.BufferPressure += o.BufferPressure
	s.Buffered += o.Buffered
	s.Events += o.Events
	s.FlowEvents += o.FlowEvents
	s.DNSEvents += o.DNSEvents
	s.HTTPEvents += o.HTTPEvents
	s.TLSEvents += o.TLSEvents
	s.SSHEvents += o.SSHEvents
	s.DNSErrors += o.DNSErrors
	s.HTTPErrors += o.HTTPErrors
	s.TLSErrors += o.TLSErrors
	s.SSHErrors += o.SSHErrors
}
