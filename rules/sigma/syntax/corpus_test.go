package syntax

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// corpusDir finds the SigmaHQ rules: $SIGMA_CORPUS, or shared/testdata/sigma
// beside the repository (shared/ sits next to the work tree, in CI too).
func corpusDir(tb testing.TB) string {
	tb.Helper()
	if d := os.Getenv("SIGMA_CORPUS"); d != "" {
		return d
	}
	dir, err := filepath.Abs(".")
	if err != nil {
		tb.Fatal(err)
	}
	for {
		d := filepath.Join(dir, "shared", "testdata", "sigma")
		if fi, err := os.Stat(d); err == nil && fi.IsDir() {
			return d
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Fatalf("SigmaHQ corpus not found: no shared/testdata/sigma in any parent of the package directory; " +
				"set SIGMA_CORPUS to the folder of the SigmaHQ rules")
		}
		dir = parent
	}
}

type corpusFile struct {
	name string
	data []byte
}

func readCorpus(tb testing.TB) []corpusFile {
	tb.Helper()
	root := corpusDir(tb)
	var files []corpusFile
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || (!strings.HasSuffix(path, ".yml") && !strings.HasSuffix(path, ".yaml")) {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		files = append(files, corpusFile{name: rel, data: data})
		return nil
	})
	if err != nil {
		tb.Fatalf("read the SigmaHQ corpus in %s: %v", root, err)
	}
	if len(files) == 0 {
		tb.Fatalf("no .yml file in the SigmaHQ corpus folder %s", root)
	}
	return files
}

// reasonRE takes out what varies in a message, to group failures by reason.
var reasonRE = regexp.MustCompile(`"[^"]*"|\d+`)

// TestCorpus parses every file of the SigmaHQ corpus: at least 99% must
// parse; the failures are logged grouped by reason.
func TestCorpus(t *testing.T) {
	files := readCorpus(t)
	var ok, rules, warned int
	reasons := make(map[string][]string)
	warnings := make(map[string]int)
	for _, f := range files {
		docs, errs := ParseFile(f.name, f.data)
		for _, err := range errs {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("%s: error of type %T, want *Error: %v", f.name, err, err)
			}
			key := e.Feature + ": " + reasonRE.ReplaceAllString(e.Msg, "…")
			reasons[key] = append(reasons[key], err.Error())
		}
		if len(errs) == 0 {
			ok++
		}
		for _, d := range docs {
			if _, isRule := d.(*Rule); isRule {
				rules++
			}
			if ws := d.Metadata().Warnings; len(ws) > 0 {
				warned++
				for _, w := range ws {
					warnings[w.Feature+": "+reasonRE.ReplaceAllString(w.Msg, "…")]++
				}
			}
		}
	}
	t.Logf("SigmaHQ corpus: %d/%d files parse (%d rules); %d documents with warnings", ok, len(files), rules, warned)
	logGroups(t, "failure", reasons)
	for _, k := range sortedKeys(warnings) {
		t.Logf("warning ×%d: %s", warnings[k], k)
	}
	if ok*100 < len(files)*99 {
		t.Errorf("only %d of %d files parse; want at least 99%%", ok, len(files))
	}
}

func logGroups(t *testing.T, what string, groups map[string][]string) {
	keys := sortedKeys(groups)
	sort.SliceStable(keys, func(i, j int) bool { return len(groups[keys[i]]) > len(groups[keys[j]]) })
	for _, k := range keys {
		t.Logf("%s ×%d: %s", what, len(groups[k]), k)
		for i, e := range groups[k] {
			if i == 5 {
				t.Logf("    … and %d more", len(groups[k])-i)
				break
			}
			t.Logf("    %s", e)
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// BenchmarkParseCorpus parses the whole SigmaHQ corpus, held in memory.
func BenchmarkParseCorpus(b *testing.B) {
	files := readCorpus(b)
	var bytes int64
	for _, f := range files {
		bytes += int64(len(f.data))
	}
	b.SetBytes(bytes)
	b.ReportAllocs()
	for b.Loop() {
		for _, f := range files {
			ParseFile(f.name, f.data)
		}
	}
	b.ReportMetric(float64(len(files))*float64(b.N)/b.Elapsed().Seconds(), "files/s")
}
