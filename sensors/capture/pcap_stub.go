//go:build !(pcap && cgo)

package capture

import "github.com/google/gopacket/layers"

// OpenPcap needs the build tag pcap (and cgo, with libpcap): it returns
// ErrUnsupported in this build.
func OpenPcap(LiveOptions, string) (Source, error) { return nil, ErrUnsupported }

// CompileFilter needs the build tag pcap: it returns ErrUnsupported in
// this build. Compile with `tcpdump -dd EXPR` and ParseBPF instead.
func CompileFilter(layers.LinkType, int, string) ([]BPFInstruction, error) {
	return nil, ErrUnsupported
}
