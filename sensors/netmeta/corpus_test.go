package netmeta

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/egovsoc/egovsoc/pipeline/event"
)

// corpusDir finds the real captures: $EGOVSOC_PCAP_CORPUS, or
// shared/testdata/pcap beside the repository (shared/ sits next to the work
// tree, in CI too).
func corpusDir(tb testing.TB) string {
	tb.Helper()
	if d := os.Getenv("EGOVSOC_PCAP_CORPUS"); d != "" {
		return d
	}
	dir, err := filepath.Abs(".")
	if err != nil {
		tb.Fatal(err)
	}
	for {
		d := filepath.Join(dir, "shared", "testdata", "pcap")
		if fi, err := os.Stat(d); err == nil && fi.IsDir() {
			return d
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Fatalf("pcap corpus not found: no shared/testdata/pcap in any parent of the package directory; " +
				"set EGOVSOC_PCAP_CORPUS to the folder of the captures")
		}
		dir = parent
	}
}

// corpusFiles lists the captures, relative to the corpus folder, sorted.
func corpusFiles(tb testing.TB) (string, []string) {
	tb.Helper()
	root := corpusDir(tb)
	var files []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && (strings.HasSuffix(path, ".pcap") || strings.HasSuffix(path, ".pcapng")) {
			rel, _ := filepath.Rel(root, path)
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	sort.Strings(files)
	if len(files) < 100 {
		tb.Fatalf("pcap corpus at %s has %d captures; expected the 130 of shared/testdata/pcap", root, len(files))
	}
	return root, files
}

// replay runs a pipeline over a capture and returns its events, each
// decoded and validated, and the counters.
func replay(tb testing.TB, path string, opt Options) ([]*event.Event, Stats) {
	tb.Helper()
	if opt.Observer == "" {
		opt.Observer = "test-sensor"
	}
	var evs []*event.Event
	st, err := ReplayFile(context.Background(), path, opt, func(key, doc []byte) error {
		e, err := event.Decode(append([]byte(nil), doc...))
		if err != nil {
			tb.Errorf("%s: undecodable event: %v\n%s", path, err, doc)
			return nil
		}
		if err := e.Validate(); err != nil {
			tb.Errorf("%s: invalid event: %v\n%s", path, err, doc)
		}
		if string(key) != e.Text(fCommunityID) {
			tb.Errorf("%s: partition key %q is not the community id %q", path, key, e.Text(fCommunityID))
		}
		evs = append(evs, e)
		return nil
	})
	if err != nil {
		tb.Errorf("%s: %v", path, err)
	}
	return evs, st
}

var (
	fCommunityID = event.Path("network.community_id")
	fDataset     = event.Path("event.dataset")
)
