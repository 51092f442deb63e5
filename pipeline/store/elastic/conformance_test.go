package elastic

import (
	"testing"
	"time"

	"github.com/egovsoc/egovsoc/pipeline/store"
	"github.com/egovsoc/egovsoc/pipeline/store/elastic/estest"
	"github.com/egovsoc/egovsoc/pipeline/store/storetest"
)

// openDouble opens a Store on a fresh double, with writes that wait for
// refresh (the suite reads its own writes) and quick retries.
func openDouble(t *testing.T, edit ...func(*Config)) (*Store, *estest.Server) {
	t.Helper()
	srv := estest.NewServer(t)
	cfg := Config{
		Addresses: []string{srv.URL},
		Refresh:   "wait_for",
		Backoff:   func(int) time.Duration { return time.Millisecond },
	}
	for _, e := range edit {
		e(&cfg)
	}
	s, err := Open(t.Context(), cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s, srv
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, _ := openDouble(t)
		return s
	})
}
