package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/egovsoc/egovsoc/pipeline/event"
	"github.com/egovsoc/egovsoc/pipeline/store"
)

// testConcurrency writes from several goroutines at once, some of them the
// same documents, while others read; run it with -race. Reads must never
// fail, and since writes only add, what a reader counts never shrinks.
func testConcurrency(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	const writers, batches, per = 4, 8, 40
	orgs := []string{"a", "b", "c"}

	// Documents are built here: EventDoc may call t.Fatal, which only the
	// test's goroutine may.
	work := make([][][]store.Doc, writers)
	for w := range writers {
		work[w] = make([][]store.Doc, batches)
		for b := range batches {
			var docs []store.Doc
			for i := range per {
				at := T0.Add(time.Duration(b*per+i) * time.Second)
				docs = append(docs, EventDoc(t, orgs[i%3], fmt.Sprintf("w%d-b%d-%d", w, b, i), at,
					fmt.Sprintf(`{"message":"writer %d batch %d","event":{"dataset":"load"},"host":{"name":"h%d"}}`, w, b, i%5)))
			}
			// Every writer writes these too, racing the others.
			docs = append(docs,
				EventDoc(t, "a", fmt.Sprintf("shared-%d", b), T0, `{"message":"shared","event":{"dataset":"load"}}`),
				AlertDoc(NewAlert(orgs[b%3], fmt.Sprintf("al-shared-%d", b), T0.Add(time.Duration(b)*time.Minute), event.SeverityMedium)),
				CheckDoc(NewCheck("b", fmt.Sprintf("sensor-%d", b), "portal", event.CheckUp, T0)),
			)
			work[w][b] = docs
		}
	}

	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for b, docs := range work[w] {
				res, err := s.Write(t.Context(), docs)
				if err != nil {
					t.Errorf("writer %d batch %d: %v", w, b, err)
					return
				}
				for i, err := range res {
					if err != nil {
						t.Errorf("writer %d batch %d doc %d: %v", w, b, i, err)
					}
				}
			}
		})
	}

	done := make(chan struct{})
	var rg sync.WaitGroup
	for r := range 3 {
		rg.Go(func() {
			var last int64
			for n := 0; ; n++ {
				scope := store.ScopeAll()
				if r == 1 {
					scope = store.ScopeOrgs("a", "b")
				}
				p, err := s.Events(t.Context(), scope, store.EventQuery{Terms: []store.Term{{Field: "event.dataset", Values: []string{"load"}}}, Limit: 20})
				if err != nil {
					t.Errorf("reader %d: Events: %v", r, err)
					return
				}
				if p.Total < last {
					t.Errorf("reader %d: Events total went from %d to %d", r, last, p.Total)
				}
				last = p.Total
				if len(p.Hits) > 20 || int64(len(p.Hits)) > p.Total {
					t.Errorf("reader %d: %d hits of total %d", r, len(p.Hits), p.Total)
				}
				if _, err := s.Alerts(t.Context(), scope, store.AlertQuery{Sort: store.SortSeverity, Limit: 5}); err != nil {
					t.Errorf("reader %d: Alerts: %v", r, err)
					return
				}
				if _, err := s.Histogram(t.Context(), scope, store.HistogramQuery{Kind: store.KindEvent, From: T0, To: T0.Add(time.Hour), Interval: time.Minute}); err != nil {
					t.Errorf("reader %d: Histogram: %v", r, err)
					return
				}
				if _, err := s.CountByOrg(t.Context(), scope, store.KindCheck, time.Time{}, time.Time{}); err != nil {
					t.Errorf("reader %d: CountByOrg: %v", r, err)
					return
				}
				select {
				case <-done:
					return
				default:
				}
			}
		})
	}
	wg.Wait()
	close(done)
	rg.Wait()

	wantEvents := int64(writers*batches*per + batches)
	var total int64
	for _, n := range counts(t, s, store.ScopeAll(), store.KindEvent) {
		total += n
	}
	if total != wantEvents {
		t.Errorf("%d events stored, want %d", total, wantEvents)
	}
	if got := counts(t, s, store.ScopeAll(), store.KindAlert); got["a"]+got["b"]+got["c"] != batches {
		t.Errorf("alerts stored %v, want %d in all", got, batches)
	}
	if got := counts(t, s, store.ScopeAll(), store.KindCheck); got["b"] != batches {
		t.Errorf("checks stored %v, want %d of b", got, batches)
	}
}
