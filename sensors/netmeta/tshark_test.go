package netmeta

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/egovsoc/egovsoc/pipeline/event"
)

// What the agreement test compares, by kind: tshark's field(s) and ours.
var agreementKinds = []struct {
	kind   string
	tshark []string
	ours   []string
}{
	{"dns.name", []string{"dns.qry.name"}, []string{"dns.question.name", "egovsoc.dns.questions"}},
	{"http.host", []string{"http.host"}, []string{"url.domain"}},
	{"http.uri", []string{"http.request.uri"}, []string{"url.original"}},
	{"tls.sni", []string{"tls.handshake.extensions_server_name", "dtls.handshake.extensions_server_name"}, []string{"tls.client.server_name"}},
	{"tls.ja3", []string{"tls.handshake.ja3", "dtls.handshake.ja3"}, []string{"tls.client.ja3"}},
	{"tls.ja3s", []string{"tls.handshake.ja3s", "dtls.handshake.ja3s"}, []string{"tls.server.ja3s"}},
	{"ssh.hassh", []string{"ssh.kex.hassh"}, []string{"egovsoc.ssh.hassh"}},
	{"ssh.hassh_server", []string{"ssh.kex.hasshserver"}, []string{"egovsoc.ssh.hassh_server"}},
}

// tsharkView is what tshark reads from one capture.
type tsharkView struct {
	values     map[string]map[string]bool // kind → values
	tcp, udp   int                        // conversations
	err        error
	stderrTail string
}

const tsharkAgg = "\x1f"

func runTshark(path string) tsharkView {
	args := []string{"-n", "-r", path, "-T", "fields", "-E", "header=n", "-E", "separator=/t",
		"-E", "occurrence=a", "-E", "aggregator=" + tsharkAgg}
	var fields []string
	for _, k := range agreementKinds {
		fields = append(fields, k.tshark...)
	}
	for _, f := range fields {
		args = append(args, "-e", f)
	}
	args = append(args, "-z", "conv,tcp", "-z", "conv,udp")
	cmd := exec.Command("tshark", args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	v := tsharkView{values: map[string]map[string]bool{}}
	if err := cmd.Run(); err != nil {
		v.err = err
		v.stderrTail = errb.String()
		return v
	}
	sc := bufio.NewScanner(&out)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	section := ""
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "TCP Conversations"):
			section = "tcp"
			continue
		case strings.HasPrefix(line, "UDP Conversations"):
			section = "udp"
			continue
		case strings.HasPrefix(line, "====="):
			if section == "" {
				section = "stats"
			}
			continue
		}
		if section != "" {
			if strings.Contains(line, "<->") {
				if section == "tcp" {
					v.tcp++
				} else if section == "udp" {
					v.udp++
				}
			}
			continue
		}
		cols := strings.Split(line, "\t")
		i := 0
		for _, k := range agreementKinds {
			for range k.tshark {
				if i < len(cols) && cols[i] != "" {
					for _, val := range strings.Split(cols[i], tsharkAgg) {
						if val == "" {
							continue
						}
						if v.values[k.kind] == nil {
							v.values[k.kind] = map[string]bool{}
						}
						v.values[k.kind][normalizeTshark(k.kind, val)] = true
					}
				}
				i++
			}
		}
	}
	return v
}

// normalizeTshark brings tshark's rendering to ours: the root name, and
// the Host header's port (ours is url.domain, without it).
func normalizeTshark(kind, v string) string {
	switch kind {
	case "dns.name":
		if v == "<Root>" {
			return "."
		}
	case "http.host":
		if h, _, err := net.SplitHostPort(v); err == nil {
			v = h
		}
		v = strings.TrimSuffix(strings.Trim(v, "[]"), ".")
	}
	return v
}

// oursView is what our pipeline reports from one capture.
type oursView struct {
	values   map[string]map[string]bool
	tcp, udp int
}

func ourValues(evs []*event.Event) oursView {
	v := oursView{values: map[string]map[string]bool{}}
	for _, e := range evs {
		if e.Text(fDataset) == DatasetFlow {
			if e.Text(event.Path("egovsoc.flow.reason")) == reasonActive {
				continue
			}
			switch e.Text(event.Path("network.transport")) {
			case "tcp":
				v.tcp++
			case "udp":
				v.udp++
			}
			continue
		}
		for _, k := range agreementKinds {
			for _, f := range k.ours {
				for val := range e.Values(event.Path(f)) {
					if val.Text() == "" {
						continue
					}
					if v.values[k.kind] == nil {
						v.values[k.kind] = map[string]bool{}
					}
					v.values[k.kind][val.Text()] = true
				}
			}
		}
	}
	return v
}

// knownDifference is a line of testdata/tshark-differences.tsv: a value
// one reader reports and the other does not, and why.
type knownDifference struct {
	capture, kind, side, value, reason string
	used                               bool
}

func loadKnownDifferences(t *testing.T) map[string]*knownDifference {
	b, err := os.ReadFile(filepath.Join("testdata", "tshark-differences.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]*knownDifference{}
	for n, line := range strings.Split(string(b), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		c := strings.Split(line, "\t")
		if len(c) != 5 || c[2] != "ours" && c[2] != "tshark" {
			t.Fatalf("testdata/tshark-differences.tsv:%d: want 5 tab-separated columns (capture, kind, ours|tshark, value, reason)", n+1)
		}
		d := &knownDifference{capture: c[0], kind: c[1], side: c[2], value: unescapeTSV(c[3]), reason: c[4]}
		m[d.capture+"\t"+d.kind+"\t"+d.side+"\t"+d.value] = d
	}
	return m
}

// unescapeTSV reads \t, \n and \\ in a value column.
func unescapeTSV(s string) string {
	return strings.NewReplacer(`\\`, `\`, `\t`, "\t", `\n`, "\n").Replace(s)
}

func escapeTSV(s string) string {
	return strings.NewReplacer(`\`, `\\`, "\t", `\t`, "\n", `\n`).Replace(s)
}

// TestTsharkAgreement checks the sensor against an independent reader: for
// every capture of the corpus, the DNS query names, HTTP hosts and URIs,
// TLS server names, JA3/JA3S and SSH HASSH fingerprints we report must be
// the ones tshark reads from the same file. Each difference must be
// explained in testdata/tshark-differences.tsv, and every line there must
// still be needed. Flow counts are compared with tshark's conversations.
func TestTsharkAgreement(t *testing.T) {
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Fatalf("tshark is not installed: this test checks the sensor against it (apt-get install tshark; .ci/run installs it)")
	}
	root, files := corpusFiles(t)
	known := loadKnownDifferences(t)

	type result struct {
		ts   tsharkView
		ours oursView
	}
	results := make([]result, len(files))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 2)
	for i, f := range files {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			results[i].ts = runTshark(filepath.Join(root, f))
		}()
	}
	for i, f := range files {
		evs, _ := replay(t, filepath.Join(root, f), Options{})
		results[i].ours = ourValues(evs)
	}
	wg.Wait()

	type tally struct{ tshark, agree, oursOnly, tsharkOnly int }
	tallies := map[string]*tally{}
	var unexplained []string
	var flowT, flowO int
	for i, f := range files {
		ts, ours := results[i].ts, results[i].ours
		if ts.err != nil {
			t.Fatalf("tshark on %s: %v\n%s", f, ts.err, ts.stderrTail)
		}
		for _, k := range agreementKinds {
			tl := tallies[k.kind]
			if tl == nil {
				tl = &tally{}
				tallies[k.kind] = tl
			}
			for v := range ts.values[k.kind] {
				tl.tshark++
				if ours.values[k.kind][v] {
					tl.agree++
					continue
				}
				tl.tsharkOnly++
				if d := known[f+"\t"+k.kind+"\ttshark\t"+v]; d != nil {
					d.used = true
				} else {
					unexplained = append(unexplained, fmt.Sprintf("%s\t%s\ttshark\t%s\t?", f, k.kind, escapeTSV(v)))
				}
			}
			for v := range ours.values[k.kind] {
				if ts.values[k.kind][v] {
					continue
				}
				tl.oursOnly++
				if d := known[f+"\t"+k.kind+"\tours\t"+v]; d != nil {
					d.used = true
				} else {
					unexplained = append(unexplained, fmt.Sprintf("%s\t%s\tours\t%s\t?", f, k.kind, escapeTSV(v)))
				}
			}
		}
		flowT += ts.tcp + ts.udp
		flowO += ours.tcp + ours.udp
		// A flow of ours is a conversation of tshark's, unless a timeout or
		// a reused port split it: never fewer, and not many more.
		if ours.tcp < ts.tcp || ours.udp < ts.udp || ours.tcp > 2*ts.tcp+2 || ours.udp > 2*ts.udp+2 {
			t.Errorf("%s: flows tcp %d udp %d; tshark conversations tcp %d udp %d", f, ours.tcp, ours.udp, ts.tcp, ts.udp)
		}
	}
	kinds := make([]string, 0, len(tallies))
	for k := range tallies {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		tl := tallies[k]
		t.Logf("%-17s tshark %4d  agree %4d  tshark only %3d  ours only %3d", k, tl.tshark, tl.agree, tl.tsharkOnly, tl.oursOnly)
	}
	t.Logf("flows (tcp+udp): ours %d, tshark conversations %d", flowO, flowT)
	if len(unexplained) > 0 {
		sort.Strings(unexplained)
		t.Errorf("%d differences from tshark are not explained in testdata/tshark-differences.tsv:\n%s",
			len(unexplained), strings.Join(unexplained, "\n"))
	}
	for _, d := range known {
		if !d.used {
			t.Errorf("testdata/tshark-differences.tsv: %s %s %s %q no longer differs: remove the line", d.capture, d.kind, d.side, d.value)
		}
	}
}
