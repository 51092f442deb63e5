package elastic

import (
	"fmt"
	"testing"
	"time"

	"github.com/egovsoc/egovsoc/pipeline/event"
	"github.com/egovsoc/egovsoc/pipeline/store"
	"github.com/egovsoc/egovsoc/pipeline/store/storetest"
)

// BenchmarkPrepareEvents measures rendering events into bulk lines (the
// CPU Write spends before the network), beside the ceiling of merely
// decoding the same events.
func BenchmarkPrepareEvents(b *testing.B) {
	raw := make([][]byte, 1000)
	docs := make([]store.Doc, len(raw))
	for i := range raw {
		raw[i] = fmt.Appendf(nil, `{"@timestamp":%q,"message":"Failed password for root from 203.0.113.%d port %d ssh2","event":{"dataset":"system.auth","category":["authentication"],"outcome":"failure"},"host":{"name":"web%02d"},"source":{"ip":"203.0.113.%d","port":%d},"user":{"name":"root"},"organization":{"id":"hanoi"}}`,
			storetest.T0.Add(time.Duration(i)*time.Second).Format(time.RFC3339Nano), i%256, 40000+i, i%20, i%256, 40000+i)
		e, err := event.Decode(raw[i])
		if err != nil {
			b.Fatal(err)
		}
		t, _ := e.Time()
		docs[i] = store.Doc{Kind: store.KindEvent, ID: fmt.Sprintf("ev-%d", i), Org: "hanoi", Time: t, Event: e}
	}
	s := &Store{cfg: Config{Prefix: DefaultPrefix}}
	b.Run("decode", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			if _, err := event.Decode(raw[i%len(raw)]); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	})
	b.Run("prepare", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			if _, err := s.prepare(&docs[i%len(docs)]); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	})
}
