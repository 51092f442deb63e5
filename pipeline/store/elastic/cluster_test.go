package elastic

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"testing"
	"time"

	"github.com/elastic/go-elasticsearch/v8"
	"github.com/elastic/go-elasticsearch/v8/esapi"

	"github.com/egovsoc/egovsoc/pipeline/event"
	"github.com/egovsoc/egovsoc/pipeline/store"
	"github.com/egovsoc/egovsoc/pipeline/store/storetest"
)

// The conformance suite against a real cluster, when one is named:
//
//	EGOVSOC_TEST_ELASTICSEARCH_URL      https://elastic:secret@localhost:9200
//	EGOVSOC_TEST_ELASTICSEARCH_API_KEY  optional, instead of a user in the URL
//	EGOVSOC_TEST_ELASTICSEARCH_CA       optional, a PEM file of the cluster's CA
//
// Every store the suite opens gets its own random prefix, and everything
// created under it is deleted when its test ends.
func TestConformanceRealCluster(t *testing.T) {
	url := os.Getenv("EGOVSOC_TEST_ELASTICSEARCH_URL")
	if url == "" {
		t.Skip("EGOVSOC_TEST_ELASTICSEARCH_URL is not set: skipping the conformance suite against a real Elasticsearch 8 cluster " +
			"(the suite runs against the estest double in TestConformance)")
	}
	base := Config{
		Addresses: []string{url},
		APIKey:    os.Getenv("EGOVSOC_TEST_ELASTICSEARCH_API_KEY"),
		Refresh:   "wait_for",
		Replicas:  new(int), // a single-node test cluster stays green
	}
	if ca := os.Getenv("EGOVSOC_TEST_ELASTICSEARCH_CA"); ca != "" {
		pem, err := os.ReadFile(ca)
		if err != nil {
			t.Fatalf("EGOVSOC_TEST_ELASTICSEARCH_CA: %v", err)
		}
		base.CACert = pem
	}
	storetest.Run(t, func(t *testing.T) store.Store {
		cfg := base
		var b [6]byte
		_, _ = rand.Read(b[:])
		cfg.Prefix = "egovsoc-test-" + hex.EncodeToString(b[:])
		t.Cleanup(func() { deleteEverything(t, cfg) }) // runs after Close
		s, err := Open(t.Context(), cfg)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

// deleteEverything removes what a Store with cfg created: data streams and
// alert indices, index and component templates, lifecycle policies. It
// names everything (a cluster refuses wildcard deletes by default).
func deleteEverything(t *testing.T, cfg Config) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		t.Errorf("cleanup: %v", err)
		return
	}
	es, err := elasticsearch.NewClient(elasticsearch.Config{Addresses: cfg.Addresses, APIKey: cfg.APIKey, CACert: cfg.CACert})
	if err != nil {
		t.Errorf("cleanup: %v", err)
		return
	}
	// The test's context is done by now.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s := &Store{cfg: cfg}
	run := func(what string, req request) io.ReadCloser {
		res, err := req.Do(ctx, es)
		if err != nil {
			t.Errorf("cleanup: %s: %v", what, err)
			return nil
		}
		if res.IsError() && res.StatusCode != 404 {
			t.Errorf("cleanup: %s: %s", what, res.String())
		}
		return res.Body
	}
	closeBody := func(b io.ReadCloser) {
		if b != nil {
			b.Close()
		}
	}
	p := cfg.Prefix
	for _, ds := range []string{p + "-events", p + "-checks"} {
		closeBody(run("delete data stream "+ds, esapi.IndicesDeleteDataStreamRequest{Name: []string{ds}}))
	}

	var indices []struct {
		Index string `json:"index"`
	}
	if body := run("list alert indices", esapi.CatIndicesRequest{Index: []string{p + "-alerts-*"}, Format: "json", H: []string{"index"}}); body != nil {
		_ = json.NewDecoder(body).Decode(&indices)
		body.Close()
	}
	for _, ix := range indices {
		closeBody(run("delete index "+ix.Index, esapi.IndicesDeleteRequest{Index: []string{ix.Index}}))
	}
	for _, it := range s.indexTemplates() {
		closeBody(run("delete index template "+it.name, esapi.IndicesDeleteIndexTemplateRequest{Name: it.name}))
	}
	for _, c := range s.componentTemplates() {
		closeBody(run("delete component template "+c.name, esapi.ClusterDeleteComponentTemplateRequest{Name: c.name}))
	}
	for name := range s.policies() {
		// After the indices that used it are gone.
		closeBody(run("delete lifecycle policy "+name, esapi.ILMDeleteLifecycleRequest{Policy: name}))
	}
}

// TestCleanup checks deleteEverything against the double, which refuses
// what a cluster refuses (wildcard deletes, deleting what is in use).
func TestCleanup(t *testing.T) {
	s, srv := openDouble(t, func(c *Config) { c.Prefix = "egovsoc-test-cleanup" })
	storetest.MustWrite(t, s,
		storetest.EventDoc(t, "a", "e1", storetest.T0, `{}`),
		storetest.AlertDoc(storetest.NewAlert("a", "al-1", storetest.T0, event.SeverityLow)),
		storetest.AlertDoc(storetest.NewAlert("a", "al-2", storetest.T0.AddDate(0, 2, 0), event.SeverityLow)),
	)
	deleteEverything(t, Config{Addresses: []string{srv.URL}, Prefix: "egovsoc-test-cleanup"})
	if ds, ix := srv.DataStreams(), srv.Indices(); len(ds)+len(ix) != 0 {
		t.Errorf("left behind: data streams %v, indices %v", ds, ix)
	}
	for _, c := range s.componentTemplates() {
		if _, ok := srv.ComponentTemplate(c.name); ok {
			t.Errorf("left behind: component template %s", c.name)
		}
	}
	for _, it := range s.indexTemplates() {
		if _, ok := srv.IndexTemplate(it.name); ok {
			t.Errorf("left behind: index template %s", it.name)
		}
	}
	for name := range s.policies() {
		if _, ok := srv.Policy(name); ok {
			t.Errorf("left behind: policy %s", name)
		}
	}
}
