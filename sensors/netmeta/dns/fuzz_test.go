package dns

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParse parses arbitrary bytes as a DNS message: it must never panic,
// and what it returns must stay within its bounds. Seeds in
// testdata/fuzz/FuzzParse are messages from the real captures (written by
// go test ./sensors/netmeta -run TestFuzzSeeds -update-fuzz-seeds).
func FuzzParse(f *testing.F) {
	f.Add([]byte("\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x03www\x07example\x03com\x00\x00\x01\x00\x01"), false)
	var m Message
	f.Fuzz(func(t *testing.T, msg []byte, mdns bool) {
		err := Parse(msg, &m, mdns)
		if len(m.Questions) > MaxQuestions || len(m.Answers) > MaxAnswers {
			t.Fatalf("kept %d questions, %d answers", len(m.Questions), len(m.Answers))
		}
		for _, q := range m.Questions {
			checkName(t, q.Name)
		}
		for _, a := range m.Answers {
			checkName(t, a.Name)
		}
		if err == nil && len(msg) < 12 {
			t.Fatal("no error for a message shorter than its header")
		}
	})
}

func checkName(t *testing.T, n string) {
	t.Helper()
	if !utf8.ValidString(n) || strings.ContainsFunc(n, func(r rune) bool { return r < 0x21 || r > 0x7e }) {
		t.Fatalf("name %q is not escaped presentation form", n)
	}
	if len(n) > 4*maxName {
		t.Fatalf("name of %d bytes", len(n))
	}
}
