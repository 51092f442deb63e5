package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/egovsoc/egovsoc/rules/sigma"
	"github.com/egovsoc/egovsoc/rules/sigma/mapping"
)

func init() {
	register("rules", "lint and test detection rules (rules lint DIR…, rules test DIR…)", rulesMain)
}

func rulesMain(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: socctl rules lint|test [flags] DIR...")
		return flag.ErrHelp
	}
	switch args[0] {
	case "lint":
		return rulesLint(args[1:], stdout, stderr)
	case "test":
		return rulesTest(args[1:], stdout, stderr)
	}
	fmt.Fprintf(stderr, "socctl rules: unknown subcommand %q (lint, test)\n", args[0])
	return flag.ErrHelp
}

// ruleFlags are what lint and test share: the field mapping and the
// placeholders of |expand.
type ruleFlags struct {
	mapping, placeholders string
}

func (f *ruleFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.mapping, "mapping", "", "field mapping YAML (default: the embedded ECS mapping)")
	fs.StringVar(&f.placeholders, "placeholders", "", "YAML map of placeholder name to values, for |expand")
}

func (f *ruleFlags) load() (*mapping.Mapping, map[string][]string, error) {
	m := mapping.Default()
	if f.mapping != "" {
		b, err := os.ReadFile(f.mapping)
		if err != nil {
			return nil, nil, err
		}
		if m, err = mapping.Load(b); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", f.mapping, err)
		}
	}
	var ph map[string][]string
	if f.placeholders != "" {
		b, err := os.ReadFile(f.placeholders)
		if err != nil {
			return nil, nil, err
		}
		if err := yaml.Unmarshal(b, &ph); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", f.placeholders, err)
		}
	}
	return m, ph, nil
}

func rulesLint(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("socctl rules lint", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var rf ruleFlags
	rf.register(fs)
	quiet := fs.Bool("q", false, "print only the summary and the reasons, not every rejected rule")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: socctl rules lint [flags] DIR...\n\nLoads every rule under the directories and reports each rule that is rejected, and why.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return flag.ErrHelp
	}
	m, ph, err := rf.load()
	if err != nil {
		return err
	}
	l := sigma.NewLoader(sigma.LoadOptions{Mapping: m, Placeholders: ph})
	for _, dir := range fs.Args() {
		if err := l.AddDir(dir, sigma.Origin{}); err != nil {
			return err
		}
	}
	rs, rep := l.Build()
	if !*quiet {
		for _, r := range rep.Rejected {
			fmt.Fprintln(stdout, r)
		}
	}
	// Reasons, most frequent first.
	byFeature := map[string]int{}
	for _, r := range rep.Rejected {
		byFeature[r.Feature]++
	}
	feats := make([]string, 0, len(byFeature))
	for f := range byFeature {
		feats = append(feats, f)
	}
	sort.Slice(feats, func(i, j int) bool {
		if byFeature[feats[i]] != byFeature[feats[j]] {
			return byFeature[feats[i]] > byFeature[feats[j]]
		}
		return feats[i] < feats[j]
	})
	total := rep.Rules + rep.Correlations + rep.Filters + len(rep.Rejected)
	loaded := total - len(rep.Rejected)
	pct := 100.0
	if total > 0 {
		pct = 100 * float64(loaded) / float64(total)
	}
	fmt.Fprintf(stdout, "\n%d files, %d documents: %d of %d load (%.1f%%): %d rules, %d correlations, %d filters; %d rejected\n",
		rep.Files, rep.Documents, loaded, total, pct, rep.Rules, rep.Correlations, rep.Filters, len(rep.Rejected))
	for _, f := range feats {
		fmt.Fprintf(stdout, "  %5d  %s\n", byFeature[f], f)
	}
	fmt.Fprintf(stdout, "index: %s\n", rs)
	if len(rep.Rejected) > 0 {
		return errFailed
	}
	return nil
}

func rulesTest(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("socctl rules test", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var rf ruleFlags
	rf.register(fs)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: socctl rules test [flags] DIR...\n\nRuns the test file (x"+sigma.TestFileSuffix+") beside each rule file (x.yml) and prints every failed expectation as a diff.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return flag.ErrHelp
	}
	m, ph, err := rf.load()
	if err != nil {
		return err
	}
	failed := false
	for _, dir := range fs.Args() {
		abs, err := filepath.Abs(dir)
		if err != nil {
			return err
		}
		rep, err := sigma.RunTests(os.DirFS(abs), ".", m, ph)
		if err != nil {
			return fmt.Errorf("%s: %w", dir, err)
		}
		for _, f := range rep.Failures {
			fmt.Fprintf(stdout, "FAIL %s: %s\n%s\n\n", filepath.Join(dir, f.File), f.Case, f.Diff)
		}
		if len(rep.Untested) > 0 {
			fmt.Fprintf(stdout, "%s: %d rule files without tests: %s\n", dir, len(rep.Untested), strings.Join(rep.Untested, ", "))
		}
		status := "ok"
		if len(rep.Failures) > 0 {
			status, failed = "FAIL", true
		}
		fmt.Fprintf(stdout, "%s\t%s\t%d rule files, %d cases, %d failures\n", status, dir, rep.Files, rep.Cases, len(rep.Failures))
	}
	if failed {
		return errFailed
	}
	return nil
}
