package http

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the want sections of testdata/cases")

// Each file of testdata/cases is a case: a "-- client --" section, a
// "-- server --" section (bytes of each direction; "\r\n" is written as a
// line end, every line of the file ends in CR LF on the wire) and a
// "-- want --" section with one line per transaction emitted. The client's
// bytes are fed first, then the server's, in pieces of 7 bytes.
func TestCases(t *testing.T) {
	files, _ := filepath.Glob("testdata/cases/*.txt")
	if len(files) == 0 {
		t.Fatal("no cases")
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			b, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			sec := sections(string(b))
			client := wire(sec["client"])
			server := wire(sec["server"])
			var got []string
			var cnt Counters
			c := NewConn(func(tx *Transaction) { got = append(got, describe(tx)) }, &cnt)
			const step = 7
			for i := 0; i < len(client); i += step {
				c.Feed(true, client[i:min(i+step, len(client))], 0)
			}
			for i := 0; i < len(server); i += step {
				c.Feed(false, server[i:min(i+step, len(server))], 0)
			}
			c.Close()
			out := strings.Join(got, "\n")
			if *update {
				i := strings.Index(string(b), "-- want --\n")
				if i < 0 {
					i = len(b)
				}
				os.WriteFile(file, []byte(string(b[:i])+"-- want --\n"+out+"\n"), 0o644)
				return
			}
			if want := strings.TrimSpace(sec["want"]); out != want {
				t.Errorf("got\n%s\nwant\n%s", out, want)
			}
		})
	}
}

func sections(s string) map[string]string {
	m := map[string]string{}
	name := ""
	for _, line := range strings.SplitAfter(s, "\n") {
		if strings.HasPrefix(line, "-- ") && strings.HasSuffix(strings.TrimSpace(line), " --") {
			name = strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(line), "-- "), " --")
			continue
		}
		m[name] += line
	}
	return m
}

// wire turns a section into bytes: lines end in CR LF, except a line that
// ends in "<no-eol>".
func wire(s string) []byte {
	s = strings.ReplaceAll(s, "\n", "\r\n")
	s = strings.ReplaceAll(s, "<no-eol>\r\n", "")
	return []byte(s)
}

func describe(tx *Transaction) string {
	var b strings.Builder
	if r := tx.Request; r != nil {
		fmt.Fprintf(&b, "%s %q v=%s host=%q ua=%q req=%d", r.Method, r.URI, r.Version, r.Host, r.UserAgent, r.BodyBytes)
	} else {
		b.WriteString("-")
	}
	if r := tx.Response; r != nil {
		fmt.Fprintf(&b, " | %d v=%s type=%q resp=%d", r.Status, r.Version, r.ContentType, r.BodyBytes)
	} else {
		b.WriteString(" | -")
	}
	return b.String()
}

func TestLooksLikeRequest(t *testing.T) {
	for s, want := range map[string]bool{
		"GET / HTTP/1.1\r\n":              true,
		"GET /index.ht":                   true,
		"CCM_POST / HTTP/1.1\r\n":         true,
		"OPTIONS\r\nHost: a\r\n":          true,
		"QUERY /users HTTP/1.1\r\n":       true,
		"EHLO mail.example.com\r\n":       false,
		"MAIL FROM:<a@b>\r\n":             false,
		"OPTIONS sip:a@b SIP/2.0\r\n":     false,
		"SSH-2.0-OpenSSH\r\n":             false,
		"\x16\x03\x01\x00\x10":            false,
		"get / HTTP/1.0\r\n":              true,
		"PLAY rtsp://x/ RTSP/1.0\r\n":     false,
		"DESCRIBE rtsp://x/ RTSP/1.0\r\n": false,
	} {
		if got := LooksLikeRequest([]byte(s)); got != want {
			t.Errorf("LooksLikeRequest(%q) = %v, want %v", s, got, want)
		}
	}
}
