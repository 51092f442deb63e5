package elastic

import (
	"encoding/json"
	"errors"
	"testing"
	"unicode/utf8"

	"github.com/egovsoc/egovsoc/pipeline/store"
)

// FuzzDecodeCursor feeds arbitrary cursors (they come back from the UI, so
// from anyone): they are refused with ErrInvalid or accepted as values that
// re-encode to the same cursor, never anything else.
func FuzzDecodeCursor(f *testing.F) {
	f.Add(encodeCursor("events", []json.RawMessage{json.RawMessage(`1741593600000000000`), json.RawMessage(`"a"`), json.RawMessage(`"ev-1"`)}), "events")
	f.Add(encodeCursor("alerts.severity", []json.RawMessage{json.RawMessage(`4`), json.RawMessage(`1741593600000000000`), json.RawMessage(`"al-1"`)}), "alerts.severity")
	f.Add("bm90IGEgY3Vyc29y", "alerts.newest")
	f.Add("%%%", "events")
	f.Fuzz(func(t *testing.T, c, sort string) {
		if _, ok := sorts[sort]; !ok {
			return
		}
		after, err := decodeCursor(c, sort)
		if err != nil {
			if !errors.Is(err, store.ErrInvalid) {
				t.Fatalf("decodeCursor(%q): %v, want ErrInvalid", c, err)
			}
			return
		}
		if len(after) != len(sorts[sort]) {
			t.Fatalf("decodeCursor(%q) accepted %d values for %d keys", c, len(after), len(sorts[sort]))
		}
		again, err := decodeCursor(encodeCursor(sort, after), sort)
		if err != nil || len(again) != len(after) {
			t.Fatalf("a decoded cursor does not decode again: %v", err)
		}
	})
}

func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "plain", `q"uote\back`, "tab\tnl\n\x00\x1f", "Hà Nội", "<&>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			return
		}
		var back string
		if err := json.Unmarshal(appendString(nil, s), &back); err != nil || back != s {
			t.Fatalf("appendString(%q) = %s: %v, %q", s, appendString(nil, s), err, back)
		}
	})
}
