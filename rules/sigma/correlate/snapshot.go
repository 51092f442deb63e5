package correlate

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"encoding/gob"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"slices"
)

// ErrSnapshot is wrapped by Restore's errors about the snapshot itself: not
// a snapshot, another format version, truncated, checksum mismatch.
var ErrSnapshot = errors.New("correlate: invalid snapshot")

// The snapshot format: an 8-byte magic, the format version (uint32), the
// payload length (uint64) and the payload's CRC-32C (uint32), all
// big-endian, then the payload: a gob-encoded snapFile.
const (
	snapMagic   = "EGSCORR\x00"
	snapVersion = 1
	snapHeader  = 8 + 4 + 8 + 4
	maxPayload  = 1 << 36
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

type snapFile struct {
	HasMax  bool
	MaxTime int64
	Corrs   []snapCorr
}

type snapCorr struct {
	Key    string // Spec.ID, or Spec.Name without an ID
	Hash   []byte // Spec hash: state is restored only into the same spec
	Groups []snapGroup
}

type snapGroup struct {
	Key      string // the group-by values, each length-prefixed
	Fired    bool
	Consumed int64
	IDs      []idEntry
	Cells    []cell
	Values   []snapValue
	Occ      [][]int64
	Windows  []snapWindow
}

type snapValue struct {
	Val   string
	First int64
	Last  int64
	Rules uint64
}

type snapWindow struct {
	K           int64
	N           int
	First, Last int64
	Rules       uint64
	Sum         float64
	Min, Max    float64
	Set         []string
	Sat         bool
	Samples     []float64
	Seen        int64
	Occ         []occPoint
}

// Snapshot writes the engine's state: the watermark and every group with
// its windows in progress. Restore reads it back, into this engine or
// another one built from the same (or partly changed) specs.
func (e *Engine) Snapshot(w io.Writer) error {
	f := snapFile{HasMax: e.hasMax, MaxTime: e.maxTime}
	for _, c := range e.corrs {
		sc := snapCorr{Key: c.key, Hash: c.hash[:]}
		groups := make([]*group, 0, len(c.groups))
		for _, g := range c.groups {
			groups = append(groups, g)
		}
		slices.SortFunc(groups, func(a, b *group) int { return cmp.Compare(a.seq, b.seq) })
		for _, g := range groups {
			sc.Groups = append(sc.Groups, g.snapshot())
		}
		f.Corrs = append(f.Corrs, sc)
	}
	var payload bytes.Buffer
	if err := gob.NewEncoder(&payload).Encode(&f); err != nil {
		return fmt.Errorf("correlate: snapshot: encode: %w", err)
	}
	hdr := make([]byte, 0, snapHeader)
	hdr = append(hdr, snapMagic...)
	hdr = binary.BigEndian.AppendUint32(hdr, snapVersion)
	hdr = binary.BigEndian.AppendUint64(hdr, uint64(payload.Len()))
	hdr = binary.BigEndian.AppendUint32(hdr, crc32.Checksum(payload.Bytes(), castagnoli))
	if _, err := w.Write(hdr); err != nil {
		return fmt.Errorf("correlate: snapshot: write: %w", err)
	}
	if _, err := w.Write(payload.Bytes()); err != nil {
		return fmt.Errorf("correlate: snapshot: write: %w", err)
	}
	return nil
}

func (g *group) snapshot() snapGroup {
	s := snapGroup{Key: g.key, Fired: g.fired, Consumed: g.consumed, IDs: g.ids.ordered()}
	switch st := g.sl.(type) {
	case *cells:
		s.Cells = slices.Clone(st.live())
	case *distinct:
		for i := st.head; i >= 0; i = st.nodes[i].next {
			n := &st.nodes[i]
			s.Values = append(s.Values, snapValue{Val: n.val, First: n.first, Last: n.last, Rules: n.rules})
		}
	case *occs:
		for r := range st.cnt {
			s.Occ = append(s.Occ, slices.Clone(st.of(r)))
		}
	}
	for _, w := range g.wins {
		sw := snapWindow{K: w.K, N: w.N, First: w.First, Last: w.Last, Rules: w.Rules, Sum: w.Sum, Min: w.Min, Max: w.Max,
			Sat: w.Sat, Samples: w.Samples, Seen: w.Seen, Occ: w.Occ}
		for v := range w.Set {
			sw.Set = append(sw.Set, v)
		}
		slices.Sort(sw.Set)
		s.Windows = append(s.Windows, sw)
	}
	return s
}

// Restore replaces the engine's state with a snapshot's. State is kept only
// for correlations that still exist with the same spec (same ID, or Name,
// and the same hash of type, rules, group-by, aliases, timespan and
// condition); the groups of the others are counted in Stats.RestoreSkipped.
// Per-group bounds of the engine's Options apply to what is restored. On
// error the engine is unchanged.
func (e *Engine) Restore(r io.Reader) error {
	var hdr [snapHeader]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return fmt.Errorf("%w: header: %w", ErrSnapshot, err)
	}
	if string(hdr[:8]) != snapMagic {
		return fmt.Errorf("%w: not a correlation snapshot", ErrSnapshot)
	}
	if v := binary.BigEndian.Uint32(hdr[8:]); v != snapVersion {
		return fmt.Errorf("%w: format version %d, this engine reads %d", ErrSnapshot, v, snapVersion)
	}
	n := binary.BigEndian.Uint64(hdr[12:])
	if n > maxPayload {
		return fmt.Errorf("%w: payload of %d bytes", ErrSnapshot, n)
	}
	payload, err := io.ReadAll(io.LimitReader(r, int64(n)))
	if err != nil {
		return fmt.Errorf("%w: payload: %w", ErrSnapshot, err)
	}
	if uint64(len(payload)) != n {
		return fmt.Errorf("%w: truncated: %d of %d payload bytes", ErrSnapshot, len(payload), n)
	}
	if crc32.Checksum(payload, castagnoli) != binary.BigEndian.Uint32(hdr[20:]) {
		return fmt.Errorf("%w: checksum mismatch", ErrSnapshot)
	}
	var f snapFile
	if err := gob.NewDecoder(bytes.NewReader(payload)).Decode(&f); err != nil {
		return fmt.Errorf("%w: decode: %w", ErrSnapshot, err)
	}

	for _, c := range e.corrs {
		c.groups = map[string]*group{}
	}
	e.h, e.ngroups, e.seq = nil, 0, 0
	e.hasMax, e.maxTime = f.HasMax, min(max(f.MaxTime, minNanos), maxNanos)
	for _, sc := range f.Corrs {
		c := e.byKey[sc.Key]
		if c == nil || c.key != sc.Key || !bytes.Equal(c.hash[:], sc.Hash) {
			e.st.restoreSkipped += uint64(len(sc.Groups))
			continue
		}
		for i := range sc.Groups {
			if !e.restoreGroup(c, &sc.Groups[i]) {
				e.st.restoreSkipped++
			}
		}
	}
	return nil
}

// restoreGroup rebuilds one group, checking what it reads: a snapshot with
// a valid checksum was still written by someone.
func (e *Engine) restoreGroup(c *corr, s *snapGroup) bool {
	vals := decodeKey(s.Key, len(c.spec.GroupBy))
	if vals == nil && s.Key != "" || len(vals) != len(c.spec.GroupBy) || slices.Contains(vals, "") {
		return false
	}
	if _, dup := c.groups[s.Key]; dup {
		return false
	}
	nrules := len(c.spec.Rules)
	mask := uint64(1)<<uint(nrules) - 1
	if nrules == 64 {
		mask = math.MaxUint64
	}
	g := e.newGroup(c, s.Key)
	ok := false
	if c.eager {
		g.fired, g.consumed = s.Fired, min(max(s.Consumed, minNanos), maxNanos)
		switch st := g.sl.(type) {
		case *cells:
			cs := slices.Clone(s.Cells)
			cs = slices.DeleteFunc(cs, func(x cell) bool { return x.N == 0 || x.First > x.Last || x.First < minNanos || x.Last > maxNanos })
			slices.SortFunc(cs, func(a, b cell) int { return cmp.Compare(a.First, b.First) })
			var out []cell
			for _, x := range cs {
				x.Rules &= mask
				if n := len(out); n > 0 && floorDiv(out[n-1].First, st.width) == floorDiv(x.First, st.width) {
					p := &out[n-1]
					p.Last, p.N, p.Rules = max(p.Last, x.Last), p.N+min(x.N, math.MaxUint32-p.N), p.Rules|x.Rules
					p.Agg = st.combine(p.Agg, x.Agg)
					continue
				}
				out = append(out, x)
			}
			st.set(out)
		case *distinct:
			vs := slices.Clone(s.Values)
			slices.SortStableFunc(vs, func(a, b snapValue) int { return cmp.Compare(a.Last, b.Last) })
			for _, v := range vs {
				if v.Val != "" && v.Last >= minNanos && v.Last <= maxNanos {
					st.put(v.Val, max(v.First, minNanos), v.Last, v.Rules&mask)
				}
			}
		case *occs:
			if len(s.Occ) != nrules {
				e.remove(g)
				return false
			}
			for r, ts := range s.Occ {
				for _, t := range ts {
					if t >= minNanos && t <= maxNanos {
						st.put(r, t)
					}
				}
			}
		}
		ok = g.sl.newest() > minNanos || g.fired
	} else {
		lo, hi := floorDiv(minNanos, c.span), floorDiv(maxNanos, c.span)
		for _, sw := range s.Windows {
			if sw.K < lo || sw.K > hi || sw.N <= 0 {
				continue
			}
			if n := len(g.wins); n > 0 && g.wins[n-1].K >= sw.K {
				continue // out of order or duplicate
			}
			w := &window{K: sw.K, N: sw.N, First: sw.First, Last: sw.Last, Rules: sw.Rules & mask, Sum: sw.Sum, Min: sw.Min, Max: sw.Max, Sat: sw.Sat, Seen: sw.Seen}
			for _, v := range sw.Set {
				if len(w.Set) >= c.need {
					w.Sat = true
					break
				}
				if w.Set == nil {
					w.Set = map[string]struct{}{}
				}
				w.Set[v] = struct{}{}
			}
			w.Samples = slices.Clone(sw.Samples[:min(len(sw.Samples), e.opt.MaxValuesPerGroup)])
			per := make([]int, nrules)
			for _, p := range sw.Occ {
				if p.R >= 0 && p.R < nrules && per[p.R] < e.opt.MaxOccurrences {
					per[p.R]++
					w.Occ = append(w.Occ, p)
				}
			}
			g.wins = append(g.wins, w)
		}
		ok = len(g.wins) > 0
	}
	if !ok {
		e.remove(g)
		return false
	}
	for _, id := range s.IDs {
		g.ids.add(id.T, id.ID, e.opt.MaxEventIDs)
	}
	e.schedule(g)
	return true
}
