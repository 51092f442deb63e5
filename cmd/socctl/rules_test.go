package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRulesTestOnThePack(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"rules", "test", "../../rules/pack"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out.String(), errb.String())
	}
	if !strings.Contains(out.String(), "ok\t../../rules/pack") || !strings.Contains(out.String(), "0 failures") {
		t.Errorf("output:\n%s", out.String())
	}
}

func TestRulesLintAndTestReportFailures(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("good.yml", `title: Admin panel probe
id: 6a1d3c0e-1111-4222-8333-444455556666
logsource: {category: webserver}
detection:
  selection:
    url.path|startswith: /phpmyadmin
  condition: selection
level: medium
`)
	write("good.test.yaml", `match:
  - {event: {category: [web]}, url: {path: /phpmyadmin/index.php}}
no_match:
  - {event: {category: [web]}, url: {path: /phpmyadmin/index.php}}
`)
	write("bad.yml", `title: Broken
id: 6a1d3c0e-1111-4222-8333-444455556667
logsource: {category: webserver}
detection:
  selection:
    url.path|nosuchmodifier: x
  condition: selection
`)
	var out, errb bytes.Buffer
	if code := run([]string{"rules", "lint", dir}, &out, &errb); code != 1 {
		t.Errorf("lint exit %d, want 1\n%s", code, out.String())
	}
	if !strings.Contains(out.String(), "bad.yml:6:") || !strings.Contains(out.String(), "nosuchmodifier") || !strings.Contains(out.String(), "1 of 2 load") {
		t.Errorf("lint output:\n%s", out.String())
	}
	out.Reset()
	if code := run([]string{"rules", "test", dir}, &out, &errb); code != 1 {
		t.Errorf("test exit %d, want 1\n%s", code, out.String())
	}
	// The look-alike in no_match does match: a failure, printed as a diff.
	if !strings.Contains(out.String(), "FAIL") || !strings.Contains(out.String(), "no_match[0]") || !strings.Contains(out.String(), "- expected: no alert") {
		t.Errorf("test output:\n%s", out.String())
	}
}
