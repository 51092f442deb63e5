package corpus

import (
	"testing"

	"github.com/egovsoc/egovsoc/pipeline/event"
)

func TestEventsDecodeAndValidate(t *testing.T) {
	for i, doc := range Events(5000, 1) {
		e, err := event.Decode(doc)
		if err != nil {
			t.Fatalf("event %d: %v\n%s", i, err, doc)
		}
		if err := e.Validate(); err != nil {
			t.Fatalf("event %d: %v\n%s", i, err, doc)
		}
	}
}
