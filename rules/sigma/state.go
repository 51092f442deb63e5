package sigma

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/egovsoc/egovsoc/pipeline/event"
	"github.com/egovsoc/egovsoc/rules/sigma/correlate"
)

// State across restarts. Each stream's correlation windows are written to
// StateDir/corr/<stream>.state (correlate's versioned, checksummed
// snapshot) every SaveEvery and on Close, and read back when the stream is
// first seen again; the alerts being folded go to StateDir/folds.json. A
// file is written beside its final name and renamed over it, so a crash
// leaves the old state or the new one, never half of one.

// stream returns the state of a stream, building its correlation engine for
// rs (restored from disk, or carried over from the previous rule set).
func (e *Engine) stream(name string, rs *RuleSet) *stream {
	e.mu.Lock()
	st := e.streams[name]
	if st == nil {
		st = &stream{name: name}
		e.streams[name] = st
	}
	e.mu.Unlock()
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.rs == rs {
		return st
	}
	var prev []byte
	if st.corr != nil {
		var buf bytes.Buffer
		if err := st.corr.Snapshot(&buf); err == nil {
			prev = buf.Bytes()
		}
	} else if e.opt.StateDir != "" {
		b, err := os.ReadFile(e.corrPath(name))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			e.opt.Logger.Warn().Err(err).Str("stream", name).Msg("sigma: correlation state not read")
		}
		prev = b
	}
	st.rs, st.corr = rs, nil
	if len(rs.corrSpecs) == 0 {
		return st
	}
	c, err := correlate.New(rs.corrSpecs, rs.corrOpts)
	if err != nil { // validated when the set was built: cannot happen
		e.opt.Logger.Error().Err(err).Msg("sigma: correlations not started")
		return st
	}
	if len(prev) > 0 {
		if err := c.Restore(bytes.NewReader(prev)); err != nil {
			e.opt.Logger.Warn().Err(err).Str("stream", name).Msg("sigma: correlation state not restored; windows start afresh")
		}
	}
	st.corr = c
	return st
}

func (e *Engine) corrPath(stream string) string {
	safe := strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r == ':' || r < ' ' {
			return '_'
		}
		return r
	}, stream)
	return filepath.Join(e.opt.StateDir, "corr", safe+".state")
}

// maybeSave writes a stream's state when it changed and SaveEvery passed.
func (e *Engine) maybeSave(st *stream, now time.Time) {
	if e.opt.StateDir == "" || !st.dirty || now.Sub(st.saved) < e.opt.SaveEvery {
		return
	}
	if err := e.saveStream(st); err != nil {
		e.opt.Logger.Warn().Err(err).Str("stream", st.name).Msg("sigma: correlation state not saved")
	}
	if err := e.saveFolds(); err != nil {
		e.opt.Logger.Warn().Err(err).Msg("sigma: suppression state not saved")
	}
	st.saved = now
}

func (e *Engine) saveStream(st *stream) error {
	if st.corr == nil {
		return nil
	}
	var buf bytes.Buffer
	if err := st.corr.Snapshot(&buf); err != nil {
		return err
	}
	st.dirty = false
	return writeFileAtomic(e.corrPath(st.name), buf.Bytes())
}

// foldState is the saved form of one fold.
type foldState struct {
	Key     string          `json:"key"`
	End     time.Time       `json:"end"`
	Emitted int             `json:"emitted"`
	Alert   json.RawMessage `json:"alert"`
}

func (e *Engine) saveFolds() error {
	f := e.folds
	f.mu.Lock()
	list := make([]foldState, 0, len(f.m))
	for k, fd := range f.m {
		b, err := fd.a.MarshalJSON()
		if err != nil {
			continue
		}
		list = append(list, foldState{Key: k, End: fd.end, Emitted: fd.emitted, Alert: b})
	}
	f.mu.Unlock()
	b, err := json.Marshal(list)
	if err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(e.opt.StateDir, "folds.json"), b)
}

func (e *Engine) loadFolds() error {
	b, err := os.ReadFile(filepath.Join(e.opt.StateDir, "folds.json"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var list []foldState
	if err := json.Unmarshal(b, &list); err != nil {
		return fmt.Errorf("folds.json: %w", err)
	}
	f := e.folds
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, s := range list {
		var a event.Alert
		if err := a.UnmarshalJSON(s.Alert); err != nil {
			continue
		}
		if len(f.m) < f.max {
			f.m[s.Key] = &fold{a: a, end: s.End, emitted: s.Emitted}
		}
	}
	return nil
}

// Close writes the state of every stream (when StateDir is set).
func (e *Engine) Close() error {
	if e.opt.StateDir == "" {
		return nil
	}
	e.mu.Lock()
	streams := make([]*stream, 0, len(e.streams))
	for _, st := range e.streams {
		streams = append(streams, st)
	}
	e.mu.Unlock()
	var errs []error
	for _, st := range streams {
		st.mu.Lock()
		errs = append(errs, e.saveStream(st))
		st.mu.Unlock()
	}
	errs = append(errs, e.saveFolds())
	return errors.Join(errs...)
}

// Flush ends every correlation window of a stream as if event time had
// moved past it (what `socctl rules test` does at the end of a case), and
// returns the alerts that raises.
func (e *Engine) Flush(streamName, org string, until time.Time) []event.Alert {
	rs := e.rs.Load()
	st := e.stream(streamName, rs)
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.corr == nil {
		return nil
	}
	w := e.workers.Get().(*worker)
	defer e.workers.Put(w)
	w.use(rs)
	w.batch = batchSeq.Add(1)
	now := e.opt.Now()
	for _, res := range st.corr.Advance(until) {
		e.correlationAlert(w, rs, org, res, now)
	}
	return e.folds.flush(w, nil)
}

func writeFileAtomic(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
	return err
}
