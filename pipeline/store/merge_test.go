package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/egovsoc/egovsoc/pipeline/event"
)

var t0 = time.Date(2025, time.March, 10, 8, 0, 0, 0, time.UTC)

// emission is alert "al" after n events a minute apart.
func emission(n int) event.Alert {
	at := t0.Add(time.Duration(n-1) * time.Minute)
	a := event.Alert{
		ID: "al", Time: at, Org: "a", Detector: "sigma", Rule: event.Rule{ID: "r1", Name: "SSH brute force"},
		Severity: event.SeverityHigh, Title: "SSH brute force against web01", Status: event.StatusOpen,
		Group: map[string]string{"source.ip": "203.0.113.5"}, Count: n, FirstSeen: t0, LastSeen: at, Created: t0,
	}
	for k := 1; k <= n; k++ {
		a.EventIDs = append(a.EventIDs, fmt.Sprintf("ev%d", k))
	}
	return a
}

func marshal(t *testing.T, a event.Alert) []byte {
	t.Helper()
	b, err := json.Marshal(&a)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestMergeAlertDocKeepsWhatItDoesNotMerge(t *testing.T) {
	// A stored alert triaged by a build that knows more fields than this
	// one: they must survive a merge.
	var doc map[string]any
	if err := json.Unmarshal(marshal(t, emission(1)), &doc); err != nil {
		t.Fatal(err)
	}
	alert := doc["egovsoc"].(map[string]any)["alert"].(map[string]any)
	alert["status"], alert["assignee"], alert["verdict"] = event.StatusClosed, "analyst-7", map[string]any{"kind": "true_positive"}
	doc["labels"] = map[string]any{"ticket": "SOC-1234"}
	stored, _ := json.Marshal(doc)

	e := emission(4)
	e.Status, e.Title, e.Severity = event.StatusOpen, "another title", event.SeverityCritical
	out, changed, err := MergeAlertDoc(stored, &e)
	if err != nil || !changed {
		t.Fatalf("MergeAlertDoc: changed %v, %v", changed, err)
	}
	var got map[string]any
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	want := doc
	want["@timestamp"] = e.Time.Format(time.RFC3339Nano)
	want["event"].(map[string]any)["end"] = e.LastSeen.Format(time.RFC3339Nano)
	alert["count"] = 4.0
	alert["event_ids"] = []any{"ev1", "ev2", "ev3", "ev4"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("merged document\n%s\nwant\n%v", out, want)
	}
	var back, before event.Alert
	if err := json.Unmarshal(stored, &before); err != nil {
		t.Fatal(err)
	}
	merged, _ := MergeAlert(&before, &e)
	if err := json.Unmarshal(out, &back); err != nil || !reflect.DeepEqual(back, merged) {
		t.Errorf("the document reads back as\n%+v (%v)\nwant the merged alert\n%+v", back, err, merged)
	}
	// Outside the merged values, the document is the stored one, byte for
	// byte: the members before @timestamp, say.
	if i := bytes.Index(stored, []byte(`"@timestamp"`)); i < 0 || !bytes.HasPrefix(out, stored[:i]) {
		t.Errorf("the document was rewritten:\n%s\nstored\n%s", out, stored)
	}

	// Merged again, the same emission changes nothing, and the document
	// comes back as it was given.
	again, changed, err := MergeAlertDoc(out, &e)
	if err != nil || changed || &again[0] != &out[0] {
		t.Errorf("a second merge of the same emission: changed %v, %v", changed, err)
	}
}

func TestMergeAlertDocRefuses(t *testing.T) {
	e := emission(2)
	other := emission(1)
	other.Org = "b"
	for name, stored := range map[string][]byte{
		"another organisation": marshal(t, other),
		"not an alert":         []byte(`{"message":"hello"}`),
		"not JSON":             []byte(`{`),
		"a key twice":          []byte(`{"organization":{"id":"a"},"event":{},"egovsoc":{"alert":{"count":1}},"egovsoc":{"alert":{}}}`),
	} {
		if _, _, err := MergeAlertDoc(stored, &e); !errors.Is(err, ErrRejected) {
			t.Errorf("%s: %v, want ErrRejected", name, err)
		}
	}
}

// Every order of a set of emissions, each merged into what the one before
// left, ends with the same count, times and set of event ids, and merging
// any emission again changes nothing.
func TestMergeAlertOrderInsensitiveAndIdempotent(t *testing.T) {
	ems := []event.Alert{emission(1), emission(3), emission(2), emission(6), emission(4)}
	ems[3].FirstSeen = time.Time{} // a zero first-seen time is no earlier
	ems[4].FirstSeen = t0.Add(-time.Hour)
	var first *event.Alert
	perm := []int{0, 1, 2, 3, 4}
	for range 40 {
		// The next permutation, in lexical order (40 of the 120).
		i := len(perm) - 2
		for i >= 0 && perm[i] >= perm[i+1] {
			i--
		}
		if i < 0 {
			break
		}
		j := len(perm) - 1
		for perm[j] <= perm[i] {
			j--
		}
		perm[i], perm[j] = perm[j], perm[i]
		slices.Reverse(perm[i+1:])

		acc := ems[perm[0]]
		for _, k := range perm[1:] {
			acc, _ = MergeAlert(&acc, &ems[k])
		}
		for k := range ems {
			if _, changed := MergeAlert(&acc, &ems[k]); changed {
				t.Fatalf("order %v: emission %d merged again changed the alert", perm, k)
			}
		}
		ids := slices.Clone(acc.EventIDs)
		slices.Sort(ids)
		acc.EventIDs = ids
		if first == nil {
			first = &acc
			if acc.Count != 6 || !acc.Time.Equal(ems[3].Time) || !acc.LastSeen.Equal(ems[3].LastSeen) || !acc.FirstSeen.Equal(t0.Add(-time.Hour)) || len(ids) != 6 {
				t.Fatalf("merged alert %+v", acc)
			}
			continue
		}
		if acc.Count != first.Count || !acc.Time.Equal(first.Time) || !acc.LastSeen.Equal(first.LastSeen) ||
			!acc.FirstSeen.Equal(first.FirstSeen) || !slices.Equal(acc.EventIDs, first.EventIDs) {
			t.Errorf("order %v gives\n%+v\nanother gave\n%+v", perm, acc, *first)
		}
	}
}

func TestMergeAlertEventIDsBounded(t *testing.T) {
	stored := emission(event.MaxAlertEvents - 1)
	e := emission(event.MaxAlertEvents + 5)
	slices.Reverse(e.EventIDs)
	m, changed := MergeAlert(&stored, &e)
	if !changed || len(m.EventIDs) != event.MaxAlertEvents || m.EventIDs[event.MaxAlertEvents-1] != fmt.Sprintf("ev%d", event.MaxAlertEvents+5) {
		t.Errorf("%d ids, last %q; want %d, the first new id of the emission", len(m.EventIDs), m.EventIDs[len(m.EventIDs)-1], event.MaxAlertEvents)
	}
	if len(stored.EventIDs) != event.MaxAlertEvents-1 {
		t.Errorf("the stored alert's ids were modified: %d", len(stored.EventIDs))
	}
	// At the bound no id is taken any more.
	e.Count++
	m2, changed := MergeAlert(&m, &e)
	if !changed || m2.Count != e.Count {
		t.Errorf("at the bound the count is still merged: changed %v, count %d", changed, m2.Count)
	}
	if len(m2.EventIDs) != event.MaxAlertEvents || !slices.Equal(m2.EventIDs, m.EventIDs) {
		t.Errorf("at the bound: %d ids", len(m2.EventIDs))
	}
}

// BenchmarkMergeAlertDoc merges an emission with a higher count and one more
// event id into a stored alert of 20 event ids, as a store does for each
// re-emission of a folded alert.
func BenchmarkMergeAlertDoc(b *testing.B) {
	stored, err := json.Marshal(&[]event.Alert{emission(20)}[0])
	if err != nil {
		b.Fatal(err)
	}
	e := emission(21)
	for b.Loop() {
		if _, changed, err := MergeAlertDoc(stored, &e); err != nil || !changed {
			b.Fatal(changed, err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "merges/s")
}

// FuzzMergeAlertDoc merges an emission into arbitrary stored documents: it
// must never panic, must give the document back as it was when nothing
// changes, and otherwise a valid document that differs from the stored one
// in the merged values only, which are those MergeAlert gives.
func FuzzMergeAlertDoc(f *testing.F) {
	base, _ := json.Marshal(&[]event.Alert{emission(2)}[0])
	f.Add(base)
	f.Add([]byte(`{"organization":{"id":"a"},"event":{},"egovsoc":{"alert":{}}}`))
	f.Add([]byte(` { "organization" : { "id" : "a" } , "event" : { "end" : null } ,` + "\n\t" + `"egovsoc":{"alert":{"count":1,"x":[{"}":"]"}]}},"@timestamp":"2025-03-10T08:00:00Z" } `))
	f.Add([]byte(`{"organization":{"id":"a"},"event":{"start":"2025-03-10T08:00:00Z"},"egovsoc":{"alert":{"count":9}},"egovsoc":{"alert":{"event_ids":["ev1"],"note":"\"}\\"}}}`))
	f.Add([]byte(`{"organization":{"id":"a"},"event":{},"egovsoc":{"alert":{"event_ids":["ev1"],"note":"\"}\\","count":1,"count":2}}}`))
	f.Add([]byte(`{"organization":{"\u0069d":"a"},"\u0065vent":{"end":"2025-03-10T09:00:00Z"},"egovsoc":{"alert":{"count":3,"event_ids":["ev1","ev2","ev3","ev4"]}}}`))
	f.Add([]byte(`{"organization":{"id":"b"},"event":{},"egovsoc":{"alert":{}}}`))
	e := emission(3)
	merged := []string{"@timestamp", "event.start", "event.end", "egovsoc.alert.count", "egovsoc.alert.event_ids"}
	strip := func(doc []byte) (map[string]any, error) {
		var m map[string]any
		if err := json.Unmarshal(doc, &m); err != nil {
			return nil, err
		}
		// Keys are matched ignoring case, as the store reads them.
		get := func(o map[string]any, key string) (string, any) {
			for k, v := range o {
				if strings.EqualFold(k, key) {
					return k, v
				}
			}
			return "", nil
		}
		for _, p := range merged {
			o := m
			parts := strings.Split(p, ".")
			for _, k := range parts[:len(parts)-1] {
				_, v := get(o, k)
				o, _ = v.(map[string]any)
			}
			if k, _ := get(o, parts[len(parts)-1]); k != "" {
				delete(o, k)
			}
		}
		return m, nil
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		out, changed, err := MergeAlertDoc(doc, &e)
		if err != nil {
			if !errors.Is(err, ErrRejected) {
				t.Fatalf("an error that is not ErrRejected: %v", err)
			}
			return
		}
		if !changed {
			if !bytes.Equal(out, doc) {
				t.Fatalf("nothing changed, but the document did:\n%s\n%s", doc, out)
			}
			return
		}
		before, err := strip(doc)
		if err != nil {
			t.Fatalf("the stored document was merged, but it does not decode: %v", err)
		}
		after, err := strip(out)
		if err != nil {
			t.Fatalf("the merged document is not JSON: %v\n%s", err, out)
		}
		if !reflect.DeepEqual(before, after) {
			t.Fatalf("the merge changed more than the merged fields:\n%s\n%s", doc, out)
		}
		// The merged values are MergeAlert's, of what the stored document
		// held (read as the store reads it, the last of a key given twice).
		var st, got struct {
			Timestamp time.Time `json:"@timestamp"`
			Event     struct {
				Start time.Time `json:"start"`
				End   time.Time `json:"end"`
			} `json:"event"`
			Egovsoc struct {
				Alert struct {
					Count    int      `json:"count"`
					EventIDs []string `json:"event_ids"`
				} `json:"alert"`
			} `json:"egovsoc"`
		}
		_ = json.Unmarshal(doc, &st)
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("the merged document does not decode: %v\n%s", err, out)
		}
		s := event.Alert{Org: e.Org, Time: st.Timestamp, FirstSeen: st.Event.Start, LastSeen: st.Event.End,
			Count: st.Egovsoc.Alert.Count, EventIDs: st.Egovsoc.Alert.EventIDs}
		want, _ := MergeAlert(&s, &e)
		if !got.Timestamp.Equal(want.Time) || !got.Event.Start.Equal(want.FirstSeen) || !got.Event.End.Equal(want.LastSeen) ||
			got.Egovsoc.Alert.Count != want.Count || !slices.Equal(got.Egovsoc.Alert.EventIDs, want.EventIDs) {
			t.Fatalf("merged values %+v, want %+v\n%s", got, want, out)
		}
	})
}
