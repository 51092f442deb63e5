package capture

import (
	"bufio"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// BPFInstruction is one classic BPF instruction, as the kernel's
// SO_ATTACH_FILTER takes it (struct sock_filter).
type BPFInstruction struct {
	Code   uint16
	Jt, Jf uint8
	K      uint32
}

// maxBPF is the kernel's limit on a classic BPF program (BPF_MAXINSNS).
const maxBPF = 4096

// ParseBPF reads a compiled filter as tcpdump prints it: `tcpdump -dd EXPR`
// (C initialisers: `{ 0x28, 0, 0, 0x0000000c },`) or `tcpdump -ddd EXPR`
// (an instruction count, then `code jt jf k` decimal lines).
//
// The pure-Go capture path has no filter compiler: a filter expression is
// compiled once, on any machine with tcpdump (`tcpdump -y EN10MB -dd 'not
// port 22'`), and its program is given to the sensor. The kernel checks the
// program when it is attached. With the build tag pcap, libpcap compiles
// expressions itself (CompileFilter).
func ParseBPF(text string) ([]BPFInstruction, error) {
	var out []BPFInstruction
	sc := bufio.NewScanner(strings.NewReader(text))
	first := true
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, "//") {
			continue
		}
		line = strings.Trim(line, "{},")
		fields := strings.FieldsFunc(line, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '{' || r == '}' })
		if first && len(fields) == 1 {
			first = false // the -ddd count line
			continue
		}
		first = false
		if len(fields) != 4 {
			return nil, fmt.Errorf("BPF program line %d: want 4 fields (code jt jf k), got %q", n, sc.Text())
		}
		var v [4]uint64
		for i, f := range fields {
			x, err := strconv.ParseUint(f, 0, 32)
			if err != nil {
				return nil, fmt.Errorf("BPF program line %d: %w", n, err)
			}
			v[i] = x
		}
		if v[0] > 0xffff || v[1] > 0xff || v[2] > 0xff {
			return nil, fmt.Errorf("BPF program line %d: field out of range", n)
		}
		out = append(out, BPFInstruction{Code: uint16(v[0]), Jt: uint8(v[1]), Jf: uint8(v[2]), K: uint32(v[3])})
		if len(out) > maxBPF {
			return nil, errors.New("BPF program longer than 4096 instructions")
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, errors.New("empty BPF program")
	}
	return out, nil
}

// dropOutgoing prefixes a program (nil: accept all) with a test of the
// packet type that drops PACKET_OUTGOING frames in the kernel. On a
// loopback interface every frame is seen twice, outgoing and incoming;
// this keeps one copy without the reader paying for the other.
func dropOutgoing(prog []BPFInstruction) []BPFInstruction {
	const (
		ldbAbs    = 0x30       // BPF_LD|BPF_B|BPF_ABS
		jeqK      = 0x15       // BPF_JMP|BPF_JEQ|BPF_K
		retK      = 0x06       // BPF_RET|BPF_K
		adPktType = 0xfffff004 // SKF_AD_OFF + SKF_AD_PKTTYPE
		outgoing  = 4          // PACKET_OUTGOING
	)
	if len(prog) == 0 {
		prog = []BPFInstruction{{Code: retK, K: MaxRecord}}
	}
	out := []BPFInstruction{
		{Code: ldbAbs, K: adPktType},
		{Code: jeqK, Jt: 0, Jf: 1, K: outgoing},
		{Code: retK, K: 0},
	}
	return append(out, prog...)
}
