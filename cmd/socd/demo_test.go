package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/egovsoc/egovsoc/pipeline/bus"
	"github.com/egovsoc/egovsoc/pipeline/catalog"
	"github.com/egovsoc/egovsoc/pipeline/ingest"
	"github.com/egovsoc/egovsoc/pipeline/store"
	"github.com/egovsoc/egovsoc/pipeline/store/sqlite"
)

// buildSocd builds the binary once per test run.
func buildSocd(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "socd")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

type socd struct {
	cmd *exec.Cmd
	url string
	log *os.File
}

func startSocd(t *testing.T, bin, data string, args ...string) *socd {
	t.Helper()
	addr := freeAddr(t)
	logf, err := os.CreateTemp(t.TempDir(), "socd-*.log")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, append([]string{"demo", "--data", data, "--listen", addr}, args...)...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &socd{cmd: cmd, url: "http://" + addr, log: logf}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
		if t.Failed() {
			b, _ := os.ReadFile(logf.Name())
			if len(b) > 8000 {
				b = b[len(b)-8000:]
			}
			t.Logf("socd log (tail):\n%s", b)
		}
	})
	return s
}

type summary struct {
	Events map[string]int64 `json:"events_24h"`
	Alerts map[string]int64 `json:"alerts_24h"`
}

func (s *socd) summary() (summary, error) {
	var sum summary
	resp, err := http.Get(s.url + "/api/v1/summary")
	if err != nil {
		return sum, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return sum, fmt.Errorf("status %s", resp.Status)
	}
	return sum, json.NewDecoder(resp.Body).Decode(&sum)
}

func (s *socd) stop(t *testing.T) {
	t.Helper()
	_ = s.cmd.Process.Signal(syscall.SIGINT)
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("socd did not stop cleanly: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("socd did not stop within 30s of Ctrl-C")
	}
}

// TestDemo runs `socd demo` as a newcomer would and checks, within the
// minute the README promises, that the console shows events and alerts for
// many organisations. Then it kills socd with SIGKILL, starts it again on
// the same data dir without the simulator, and proves by counting that no
// event was lost and none was indexed twice.
func TestDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs socd for about a minute")
	}
	bin := buildSocd(t)
	data := t.TempDir()
	s := startSocd(t, bin, data, "--malformed", "0", "--rate", "600")

	deadline := time.Now().Add(60 * time.Second)
	var sum summary
	for {
		var err error
		sum, err = s.summary()
		if err == nil && len(sum.Events) >= 10 && len(sum.Alerts) >= 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 60s: events from %d organisations, alerts from %d (%v); want ≥10 and ≥3", len(sum.Events), len(sum.Alerts), err)
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Logf("within 60s: events from %d organisations, alerts from %d", len(sum.Events), len(sum.Alerts))

	// The Sigma engine with egovsoc's rule pack catches the simulated
	// attacks: single-event rules (injection, scanners) and correlations
	// (brute force, spraying, scans, tunnelling).
	var packRules, correlations map[string]bool
	for {
		packRules, correlations = s.packAlerts(t)
		if len(packRules) >= 6 && len(correlations) >= 2 {
			break
		}
		if time.Now().After(deadline.Add(30 * time.Second)) {
			t.Fatalf("after 90s: alerts of %d pack rules (%v), %d of them correlations; want ≥6 and ≥2", len(packRules), packRules, len(correlations))
		}
		time.Sleep(time.Second)
	}
	t.Logf("pack rules that raised alerts: %d, correlations among them: %v", len(packRules), correlations)

	// The page shows them, in Vietnamese by default and in English on request.
	page := get(t, s.url+"/")
	cat, _ := catalog.Default()
	shown := 0
	for code := range sum.Events {
		if o, ok := cat.Org(code); ok && strings.Contains(page, o.NameVI) {
			shown++
		}
	}
	if shown < 10 || !strings.Contains(page, `id="alerts"`) || !strings.Contains(page, "Cảnh báo gần đây") {
		t.Errorf("overview page shows %d organisations by name, alerts table: %v", shown, strings.Contains(page, `id="alerts"`))
	}
	if en := get(t, s.url+"/?lang=en"); !strings.Contains(en, "Recent alerts") {
		t.Error("English page missing")
	}

	// SIGKILL in the middle of the stream.
	if err := s.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = s.cmd.Wait()

	// Start again on the same data dir, without new traffic, and let it
	// catch up.
	s2 := startSocd(t, bin, data, "--simulate=false")
	portB, err := os.ReadFile(filepath.Join(data, "kafka.port"))
	if err != nil {
		t.Fatal(err)
	}
	port, _ := strconv.Atoi(strings.TrimSpace(string(portB)))
	cfg := bus.Config{Brokers: []string{net.JoinHostPort("127.0.0.1", strconv.Itoa(port))}}
	admin, err := bus.NewAdmin(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var orgs []string
	for _, o := range cat.Orgs() {
		orgs = append(orgs, o.Code)
	}
	evTopics, _ := bus.OrgTopics(orgs, bus.StreamEvents)
	all, _ := bus.OrgTopics(orgs, bus.StreamEvents, bus.StreamChecks)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var records int64
	deadline = time.Now().Add(90 * time.Second)
	for {
		lag, err := admin.Lag(ctx, ingest.IndexGroup, append(all, bus.TopicAlerts))
		if err == nil && lag == 0 {
			records, err = admin.Records(ctx, evTopics)
			if err == nil {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("index group still lags by %d after the restart (%v)", lag, err)
		}
		time.Sleep(500 * time.Millisecond)
	}
	s2.stop(t)

	st, err := sqlite.Open(ctx, sqlite.Options{Path: filepath.Join(data, "socd.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	counts, err := st.CountByOrg(ctx, store.ScopeAll(), store.KindEvent, time.Unix(0, 0), time.Now().Add(48*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	var stored int64
	for _, n := range counts {
		stored += n
	}
	t.Logf("after SIGKILL and restart: %d event records in Kafka, %d events stored", records, stored)
	if stored != records || records == 0 {
		t.Fatalf("%d event records in Kafka but %d events stored: lost or duplicated", records, stored)
	}
}

// packAlerts lists the rules of egovsoc's pack that raised the newest
// alerts, and which of them are correlations.
func (s *socd) packAlerts(t *testing.T) (rules, correlations map[string]bool) {
	t.Helper()
	var page struct {
		Alerts []struct {
			Rule struct {
				Name    string `json:"name"`
				Ruleset string `json:"ruleset"`
			} `json:"rule"`
			Egovsoc struct {
				Alert struct {
					Matched map[string]string `json:"matched"`
				} `json:"alert"`
			} `json:"egovsoc"`
		} `json:"alerts"`
	}
	if err := json.Unmarshal([]byte(get(t, s.url+"/api/v1/alerts?limit=1000")), &page); err != nil {
		t.Fatal(err)
	}
	rules, correlations = map[string]bool{}, map[string]bool{}
	for _, a := range page.Alerts {
		if a.Rule.Ruleset != "egovsoc" {
			continue
		}
		rules[a.Rule.Name] = true
		if a.Egovsoc.Alert.Matched["correlation.type"] != "" {
			correlations[a.Rule.Name] = true
		}
	}
	return rules, correlations
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %s\n%s", url, resp.Status, b)
	}
	return string(b)
}

// TestDemoPcap plays a real capture through the network sensor into the
// demo: its flows and HTTP requests reach the organisation's topic and are
// stored under it (the detection group reads the same topic).
func TestDemoPcap(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs socd")
	}
	capture := filepath.Join("..", "..", "..", "shared", "testdata", "pcap", "http", "bro.org.pcap")
	if _, err := os.Stat(capture); err != nil {
		t.Fatalf("the test capture is missing (%v): ../shared/testdata/pcap is expected beside the project", err)
	}
	bin := buildSocd(t)
	s := startSocd(t, bin, t.TempDir(), "--simulate=false", "--pcap", capture, "--pcap-org", "hanoi")
	var page struct {
		Total  int64 `json:"total"`
		Events []struct {
			Event struct {
				Dataset string `json:"dataset"`
			} `json:"event"`
			Organization struct {
				ID string `json:"id"`
			} `json:"organization"`
			URL struct {
				Domain string `json:"domain"`
			} `json:"url"`
		} `json:"events"`
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		if resp, err := http.Get(s.url + "/api/v1/events?limit=1000"); err == nil {
			err = json.NewDecoder(resp.Body).Decode(&page)
			resp.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
		}
		if page.Total > 0 && int(page.Total) == len(page.Events) {
			// Wait until the count stops growing: the capture is finite.
			time.Sleep(2 * time.Second)
			before := page.Total
			if err := json.Unmarshal([]byte(get(t, s.url+"/api/v1/events?limit=1000")), &page); err != nil {
				t.Fatal(err)
			}
			if page.Total == before {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 30s: %d events stored from the capture", page.Total)
		}
		time.Sleep(500 * time.Millisecond)
	}
	datasets := map[string]int{}
	for _, e := range page.Events {
		datasets[e.Event.Dataset]++
		if e.Organization.ID != "hanoi" {
			t.Errorf("an event of %q, want hanoi", e.Organization.ID)
		}
	}
	if datasets["flow"] == 0 || datasets["http"] == 0 {
		t.Errorf("datasets stored: %v; want flows and HTTP requests", datasets)
	}
	t.Logf("%d events from the capture: %v", page.Total, datasets)
	s.stop(t)
}
