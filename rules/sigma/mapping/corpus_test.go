package mapping

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/egovsoc/egovsoc/pipeline/event"
)

// The SigmaHQ folders whose rules must all route.
var corpusFolders = []string{"rules", "rules-emerging-threats", "rules-threat-hunting", "rules-compliance"}

// corpusDir finds the SigmaHQ corpus: $SIGMA_CORPUS, or shared/testdata/sigma
// in a parent of the package directory (shared/ sits beside the work tree).
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
			tb.Fatal("SigmaHQ corpus not found: no shared/testdata/sigma in any parent of the package directory; " +
				"set SIGMA_CORPUS to the folder holding rules/, rules-emerging-threats/, rules-threat-hunting/ and rules-compliance/")
		}
		dir = parent
	}
}

// corpusRule is what these tests read of a Sigma rule: just enough.
type corpusRule struct {
	file   string
	ls     LogSource
	fields []string // distinct field names its detection uses, fieldref targets included
}

// corpusSource is what the corpus uses of one log source.
type corpusSource struct {
	ls     LogSource
	rules  int
	fields map[string]int // field → rules using it
}

var (
	corpusOnce  sync.Once
	corpusRules []corpusRule
	corpusFiles int
	corpusErr   error
)

func readCorpus(tb testing.TB) ([]corpusRule, int) {
	tb.Helper()
	root := corpusDir(tb)
	for _, f := range corpusFolders {
		if fi, err := os.Stat(filepath.Join(root, f)); err != nil || !fi.IsDir() {
			tb.Fatalf("SigmaHQ corpus at %s has no %s/ folder; set SIGMA_CORPUS to the folder that holds %s",
				root, f, strings.Join(corpusFolders, ", "))
		}
	}
	corpusOnce.Do(func() { corpusRules, corpusFiles, corpusErr = parseCorpus(root) })
	if corpusErr != nil {
		tb.Fatal(corpusErr)
	}
	return corpusRules, corpusFiles
}

func parseCorpus(root string) ([]corpusRule, int, error) {
	var rules []corpusRule
	files := 0
	var errs []error
	for _, folder := range corpusFolders {
		err := filepath.WalkDir(filepath.Join(root, folder), func(path string, d fs.DirEntry, err error) error {
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
			files++
			rel, _ := filepath.Rel(root, path)
			rs, err := parseRuleFile(rel, data)
			if err != nil {
				errs = append(errs, err)
			}
			rules = append(rules, rs...)
			return nil
		})
		if err != nil {
			return nil, 0, err
		}
	}
	return rules, files, errors.Join(errs...)
}

// parseRuleFile reads the logsource and detection of each document of a
// Sigma file; documents without a logsource (correlations) are skipped.
func parseRuleFile(name string, data []byte) ([]corpusRule, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var out []corpusRule
	for {
		var doc struct {
			LogSource map[string]any `yaml:"logsource"`
			Detection map[string]any `yaml:"detection"`
		}
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, fmt.Errorf("%s: %w", name, err)
		}
		if doc.LogSource == nil {
			continue
		}
		str := func(k string) string {
			if v, ok := doc.LogSource[k]; ok && v != nil {
				return fmt.Sprint(v)
			}
			return ""
		}
		r := corpusRule{file: name, ls: LogSource{Product: str("product"), Category: str("category"), Service: str("service")}}
		seen := map[string]bool{}
		add := func(f string) {
			if f != "" && !seen[f] {
				seen[f] = true
				r.fields = append(r.fields, f)
			}
		}
		for key, sel := range doc.Detection {
			if key == "condition" || key == "timeframe" {
				continue
			}
			selectionFields(sel, add)
		}
		sort.Strings(r.fields)
		out = append(out, r)
	}
}

// selectionFields calls add with each field a selection names: the keys of
// its maps (modifiers cut off) and the fields a fieldref modifier names.
func selectionFields(sel any, add func(string)) {
	switch s := sel.(type) {
	case map[string]any:
		for k, v := range s {
			name, mods, _ := strings.Cut(k, "|")
			add(name) // "" for keyword lists ('|all'): ignored
			if slices.Contains(strings.Split(mods, "|"), "fieldref") {
				refs := []any{v}
				if l, ok := v.([]any); ok {
					refs = l
				}
				for _, ref := range refs {
					if s, ok := ref.(string); ok {
						add(s)
					}
				}
			}
		}
	case []any:
		for _, x := range s {
			if m, ok := x.(map[string]any); ok {
				selectionFields(m, add)
			}
		}
	}
}

func corpusSources(rules []corpusRule) []*corpusSource {
	by := map[LogSource]*corpusSource{}
	for _, r := range rules {
		s := by[r.ls]
		if s == nil {
			s = &corpusSource{ls: r.ls, fields: map[string]int{}}
			by[r.ls] = s
		}
		s.rules++
		for _, f := range r.fields {
			s.fields[f]++
		}
	}
	out := make([]*corpusSource, 0, len(by))
	for _, s := range by {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].rules != out[j].rules {
			return out[i].rules > out[j].rules
		}
		return out[i].ls.String() < out[j].ls.String()
	})
	return out
}

// TestCorpusRoutes: every log source the SigmaHQ corpus uses has a route.
func TestCorpusRoutes(t *testing.T) {
	rules, files := readCorpus(t)
	m := Default()
	sources := corpusSources(rules)
	var missing []string
	for _, s := range sources {
		if _, err := m.Route(s.ls); err != nil {
			example := ""
			for _, r := range rules {
				if r.ls == s.ls {
					example = r.file
					break
				}
			}
			missing = append(missing, fmt.Sprintf("%s (%d rules, e.g. %s): %v", s.ls, s.rules, example, err))
		}
	}
	t.Logf("%d files, %d rules, %d distinct log sources, %d routed", files, len(rules), len(sources), len(sources)-len(missing))
	if len(missing) > 0 {
		t.Errorf("%d log sources of the corpus have no route; add entries to ecs.yaml:\n  %s", len(missing), strings.Join(missing, "\n  "))
	}
}

// mustBeExplicit says which log sources of the corpus must have every field
// they use explicitly mapped: the network, web, DNS, firewall, proxy and
// Linux sources, and Windows process creation.
func mustBeExplicit(ls LogSource) bool {
	switch strings.ToLower(ls.Category) {
	case "webserver", "proxy", "dns", "dns_query", "firewall", "network_connection":
		return true
	case "process_creation":
		if strings.EqualFold(ls.Product, "windows") {
			return true
		}
	}
	switch strings.ToLower(ls.Product) {
	case "linux", "zeek":
		return true
	}
	return strings.EqualFold(ls.Service, "netflow")
}

// TestCorpusFields reports, per log source, how many distinct fields the
// corpus uses and how they map: explicitly, as ECS fields already (known to
// event.Schema), under an entry's unmapped prefix (Windows event data), or
// passed through as written. For the sources of mustBeExplicit every field
// must be explicit or ECS.
func TestCorpusFields(t *testing.T) {
	rules, _ := readCorpus(t)
	m := Default()
	var missing []string
	var total [5]int
	row := func(name, rules string, n [5]int) string {
		return fmt.Sprintf("%-72s %5s %6d %8d %4d %8d %11d", name, rules, n[0], n[1], n[2], n[3], n[4])
	}
	lines := []string{fmt.Sprintf("%-72s %5s %6s %8s %4s %8s %11s", "log source", "rules", "fields", "explicit", "ecs", "prefixed", "passthrough")}
	for _, s := range corpusSources(rules) {
		var n [5]int
		var unmapped []string
		for f := range s.fields {
			n[0]++
			ts, explicit := m.lookup(s.ls, f)
			_, known := event.Schema[f]
			switch {
			case explicit:
				n[1]++
			case known:
				n[2]++
			case len(ts) > 1:
				n[3]++
				unmapped = append(unmapped, f)
			default:
				n[4]++
				unmapped = append(unmapped, f)
			}
		}
		sort.Strings(unmapped)
		for i := range total {
			total[i] += n[i]
		}
		lines = append(lines, row(s.ls.String(), fmt.Sprint(s.rules), n))
		if mustBeExplicit(s.ls) && len(unmapped) > 0 {
			missing = append(missing, fmt.Sprintf("%s: %s", s.ls, strings.Join(unmapped, ", ")))
		}
	}
	lines = append(lines, row("total", "", total))
	t.Log("fields the corpus uses, per log source:\n" + strings.Join(lines, "\n"))
	if len(missing) > 0 {
		t.Errorf("fields used by the corpus without an explicit mapping, where every field must have one:\n  %s", strings.Join(missing, "\n  "))
	}
}
