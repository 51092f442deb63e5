package netmeta

import (
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/egovsoc/egovsoc/sensors/capture"
)

var updateSeeds = flag.Bool("update-fuzz-seeds", false, "rewrite the fuzz seed corpora (testdata/fuzz) of netmeta, its parsers and capture from the real captures")

// maxSeeds bounds each seed corpus.
const maxSeeds = 50

// seedDirs are the seed corpora this test writes, relative to this package.
var seedDirs = []string{
	"testdata/fuzz/FuzzPacket",
	"dns/testdata/fuzz/FuzzParse",
	"http/testdata/fuzz/FuzzConn",
	"tls/testdata/fuzz/FuzzStream",
	"ssh/testdata/fuzz/FuzzStream",
	"../capture/testdata/fuzz/FuzzReader",
}

// TestFuzzSeeds checks that every fuzz target has a seed corpus taken from
// the real captures, of at most maxSeeds files. With -update-fuzz-seeds it
// rewrites them.
func TestFuzzSeeds(t *testing.T) {
	if *updateSeeds {
		writeSeeds(t)
	}
	for _, d := range seedDirs {
		ents, err := os.ReadDir(d)
		if err != nil || len(ents) == 0 {
			t.Errorf("%s: no seed corpus (go test ./sensors/netmeta -run TestFuzzSeeds -update-fuzz-seeds)", d)
			continue
		}
		if len(ents) > maxSeeds {
			t.Errorf("%s: %d seeds, at most %d", d, len(ents), maxSeeds)
		}
	}
}

// corpusEntry renders values in the go test fuzz v1 format.
func corpusEntry(vals ...any) []byte {
	var b strings.Builder
	b.WriteString("go test fuzz v1\n")
	for _, v := range vals {
		switch x := v.(type) {
		case []byte:
			fmt.Fprintf(&b, "[]byte(%q)\n", x)
		case bool:
			fmt.Fprintf(&b, "bool(%v)\n", x)
		case uint8:
			fmt.Fprintf(&b, "byte(%q)\n", x)
		}
	}
	return []byte(b.String())
}

type seedSet struct {
	dir  string
	seen map[string]bool
	n    int
}

func newSeedSet(t *testing.T, dir string) *seedSet {
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return &seedSet{dir: dir, seen: map[string]bool{}}
}

func (s *seedSet) add(t *testing.T, name string, vals ...any) {
	if s.n >= maxSeeds {
		return
	}
	body := corpusEntry(vals...)
	sum := sha256.Sum256(body)
	id := hex.EncodeToString(sum[:8])
	if s.seen[id] {
		return
	}
	s.seen[id] = true
	s.n++
	name = strings.NewReplacer("/", "_", ".pcapng", "", ".pcap", "").Replace(name)
	if err := os.WriteFile(filepath.Join(s.dir, name+"-"+id), body, 0o644); err != nil {
		t.Fatal(err)
	}
}

// flowStreams decodes a capture and returns, per TCP connection, the
// payload of each direction in sequence order (initiator first), and the
// UDP payloads on DNS ports.
type tcpConn struct {
	key    string
	client []byte
	server []byte
}

func captureStreams(t *testing.T, path string) ([]tcpConn, [][]byte) {
	pkts, _ := capture.ReadAll(path)
	d := newDecoder()
	type seg struct {
		seq  uint32
		data []byte
	}
	dirs := map[string][]seg{}
	var order []string
	var dnsMsgs [][]byte
	for _, cp := range pkts {
		var p packet
		frag, err := d.decode(cp.Info.LinkType, cp.Data, &p)
		if err != nil || frag {
			continue
		}
		switch {
		case p.proto == protoUDP && (isDNSPort(p.sport) || isDNSPort(p.dport)) && len(p.payload) > 0:
			dnsMsgs = append(dnsMsgs, append([]byte(nil), p.payload...))
		case p.proto == protoTCP && len(p.payload) > 0:
			k := fmt.Sprintf("%x:%d>%x:%d", p.src, p.sport, p.dst, p.dport)
			if _, ok := dirs[k]; !ok {
				order = append(order, k)
			}
			dirs[k] = append(dirs[k], seg{p.seq, append([]byte(nil), p.payload...)})
		}
	}
	assemble := func(segs []seg) []byte {
		slices.SortStableFunc(segs, func(a, b seg) int { return int(int32(a.seq - b.seq)) })
		var out []byte
		var next uint32
		for i, s := range segs {
			if i == 0 {
				next = s.seq
			}
			if d := int32(next - s.seq); d > 0 {
				if int(d) >= len(s.data) {
					continue
				}
				s.data = s.data[d:]
			}
			out = append(out, s.data...)
			next = s.seq + uint32(len(s.data))
		}
		return out
	}
	var conns []tcpConn
	done := map[string]bool{}
	for _, k := range order {
		if done[k] {
			continue
		}
		a, b, _ := strings.Cut(k, ">")
		rev := b + ">" + a
		done[k], done[rev] = true, true
		conns = append(conns, tcpConn{key: k, client: assemble(dirs[k]), server: assemble(dirs[rev])})
	}
	return conns, dnsMsgs
}

func clipBytes(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}

func writeSeeds(t *testing.T) {
	root, files := corpusFiles(t)
	pkt := newSeedSet(t, seedDirs[0])
	dnsS := newSeedSet(t, seedDirs[1])
	httpS := newSeedSet(t, seedDirs[2])
	tlsS := newSeedSet(t, seedDirs[3])
	sshS := newSeedSet(t, seedDirs[4])
	capS := newSeedSet(t, seedDirs[5])

	// FuzzPacket: the first frames of every third capture (the framing
	// variety — VLAN, QinQ, MPLS, fragments, SLL, raw IP — always).
	for i, f := range files {
		special := strings.Contains(f, "vlan") || strings.Contains(f, "q-in-q") || strings.Contains(f, "fragment") ||
			strings.Contains(f, "dtls") || strings.Contains(f, "mdns")
		if i%3 != 0 && !special {
			continue
		}
		pkts, _ := capture.ReadAll(filepath.Join(root, f))
		if len(pkts) == 0 {
			continue
		}
		var frames [][]byte
		size := 0
		for _, p := range pkts {
			if len(frames) == 12 || size+len(p.Data) > 16<<10 {
				break
			}
			if p.Info.LinkType != pkts[0].Info.LinkType {
				continue
			}
			frames = append(frames, p.Data)
			size += len(p.Data)
		}
		pkt.add(t, f, encodeFrames(pkts[0].Info.LinkType, frames))
	}
	for _, f := range files {
		path := filepath.Join(root, f)
		conns, dnsMsgs := captureStreams(t, path)
		for _, m := range dnsMsgs[:min(len(dnsMsgs), 2)] {
			dnsS.add(t, f, m, strings.Contains(f, "mdns"))
		}
		for _, c := range conns {
			switch {
			case strings.HasPrefix(f, "http/"):
				if len(c.client) > 0 {
					httpS.add(t, f, clipBytes(c.client, 4096), clipBytes(c.server, 4096), uint8(len(c.client)%251))
				}
			case strings.HasPrefix(f, "tls/"):
				if len(c.client) > 0 {
					tlsS.add(t, f+"-client", clipBytes(c.client, 8192), uint8(97))
				}
				if len(c.server) > 0 {
					tlsS.add(t, f+"-server", clipBytes(c.server, 16384), uint8(255))
				}
			case strings.HasPrefix(f, "ssh/"):
				if len(c.client) > 0 {
					sshS.add(t, f+"-client", clipBytes(c.client, 4096), true, uint8(61))
				}
				if len(c.server) > 0 {
					sshS.add(t, f+"-server", clipBytes(c.server, 4096), false, uint8(13))
				}
			}
			if httpS.n+tlsS.n+sshS.n > 3*maxSeeds {
				break
			}
		}
	}
	for i, f := range files {
		if i%4 != 0 && !strings.HasSuffix(f, ".pcapng") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			t.Fatal(err)
		}
		capS.add(t, f, clipBytes(b, 3072))
	}
	t.Logf("seeds: packet %d, dns %d, http %d, tls %d, ssh %d, capture %d", pkt.n, dnsS.n, httpS.n, tlsS.n, sshS.n, capS.n)
}
