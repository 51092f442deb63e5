package mapping

import (
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "record the version and digest of ecs.yaml in testdata/ecs.sum")

const sumFile = "testdata/ecs.sum"

// TestVersionBumped holds ecs.yaml to its rule: every change bumps the
// version. testdata/ecs.sum records the version and the SHA-256 of the
// file; after editing ecs.yaml and bumping its version, record them with
//
//	go test ./rules/sigma/mapping -run TestVersionBumped -update
func TestVersionBumped(t *testing.T) {
	m := Default()
	digest := sha256.Sum256(ecsYAML)
	now := fmt.Sprintf("%s %s\n", m.Version(), hex.EncodeToString(digest[:]))
	old, err := os.ReadFile(sumFile)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	oldVersion, oldDigest, _ := strings.Cut(strings.TrimSpace(string(old)), " ")
	changed := oldDigest != hex.EncodeToString(digest[:])
	if *update {
		if changed && oldVersion == m.Version() {
			t.Fatalf("ecs.yaml changed but its version is still %s: bump version before recording", m.Version())
		}
		if err := os.WriteFile(sumFile, []byte(now), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	switch {
	case !changed && oldVersion == m.Version():
	case changed && oldVersion == m.Version():
		t.Errorf("ecs.yaml changed but its version is still %s: bump version, then run with -update to record it", m.Version())
	default:
		t.Errorf("%s records %q, ecs.yaml is %q: run go test -run TestVersionBumped -update to record the new version", sumFile, strings.TrimSpace(string(old)), strings.TrimSpace(now))
	}
}
