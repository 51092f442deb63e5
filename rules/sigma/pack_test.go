package sigma

import (
	"testing"

	"github.com/egovsoc/egovsoc/rules/pack"
)

// TestRulePack runs the test cases beside every rule of egovsoc's pack
// through the engine (what `socctl rules test rules/pack` does): events
// that must raise an alert, look-alikes that must not, and sequences for
// the correlations.
func TestRulePack(t *testing.T) {
	l := NewLoader(LoadOptions{})
	if err := l.AddFS(pack.FS(), ".", Origin{Ruleset: "egovsoc"}); err != nil {
		t.Fatal(err)
	}
	rs, rep := l.Build()
	for _, r := range rep.Rejected {
		t.Errorf("pack rule rejected: %s", r)
	}
	if rep.Rules < 60 || rep.Correlations < 10 {
		t.Errorf("pack: %d rules and %d correlations; want ≥60 rules", rep.Rules, rep.Correlations)
	}
	tr, err := RunTests(pack.FS(), ".", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range tr.Failures {
		t.Errorf("%s", f)
	}
	if len(tr.Untested) > 0 {
		t.Errorf("rule files without tests: %v", tr.Untested)
	}
	t.Logf("pack: %s; %d rule files, %d cases", rs, tr.Files, tr.Cases)
}
