package history

import (
	"encoding/binary"
	"hash/maphash"
	"math"
	"slices"
	"time"

	"github.com/quotatop/quotatop/model"
	"github.com/quotatop/quotatop/trend"
)

// packed is a sample as the file stores it, a quarter the size of a trend.Sample: a
// live monitor keeps two hours of them for every account.
type packed struct {
	at     int64    // unix seconds
	used   [2]int32 // hundredths of a percent; noUse when the window is absent
	resets uint32   // packResets's minutes to both resets
	state  uint16   // index in Store.names
}

// noUse marks an absent window; used percents are clamped to the range above it.
const noUse = math.MinInt32

// account is what the store keeps of one account.
type account struct {
	// recent are the samples up to Recent before the newest, oldest first; the newest
	// is the one new snapshots are compared with.
	recent []packed
	// snapshot is a hash of the snapshot values last seen (0: none), so that an
	// unchanged snapshot is not judged again; rev is the stored value's fingerprint
	// (model.Account.Rev) it came from, which spares the hash when it is the same.
	// Only Record uses them.
	snapshot uint64
	rev      uint64
}

// slot is the index of an account in s.accounts, adding it when new. The caller holds
// s.mu for writing (or is init, before the writer starts).
func (s *Store) slot(id int64) int32 {
	i, ok := s.index[id]
	if !ok {
		i = int32(len(s.accounts))
		s.index[id] = i
		s.accounts = append(s.accounts, account{})
	}
	return i
}

// remember adds a sample to an account's recent ones, dropping those older than Recent
// before it. The slice is never handed out, so it is compacted in place.
func (a *account) remember(p packed) {
	rs := a.recent
	if n := len(rs); n > 0 && p.at < rs[n-1].at {
		return // an older snapshot than one already seen: not news
	}
	k := 0
	for k < len(rs) && p.at-rs[k].at > int64(Recent/time.Second) {
		k++
	}
	if k > 0 {
		rs = rs[:copy(rs, rs[k:])]
	}
	if len(rs) == cap(rs) {
		rs = slices.Grow(rs, headroom(len(rs)))
	}
	a.recent = append(rs, p)
}

// headroom is the room for samples beyond n an account's slice is given: appending
// would double it, and an account's count over Recent stays about the same.
func headroom(n int) int {
	return n/4 + 2
}

// pack turns a sample into the precision the file stores. A used percent beyond
// ±21 million is clamped and NaN read as 0: the file could not store them either.
func (s *Store) pack(smp trend.Sample) packed {
	at := smp.At.Truncate(time.Second)
	p := packed{at: at.Unix(), state: s.stateIndex(smp.State)}
	smp.At = at
	p.resets = uint32(packResets(smp))
	for i, u := range smp.Used {
		p.used[i] = noUse
		if smp.Present[i] {
			p.used[i] = hundredths(u)
		}
	}
	return p
}

func hundredths(percent float64) int32 {
	h := math.Round(percent * 100)
	if h != h {
		return 0
	}
	return int32(min(max(h, -math.MaxInt32), math.MaxInt32))
}

// unpack is the inverse of pack, into *smp, which it overwrites whole. The caller holds
// s.mu.
func (s *Store) unpack(p packed, smp *trend.Sample) {
	*smp = trend.Sample{At: time.Unix(p.at, 0).UTC(), State: s.names[p.state]} // dst may be reused
	for i, at := range resetInstants(p) {
		if at != math.MinInt64 {
			smp.ResetAt[i] = time.Unix(at, 0).UTC()
		}
	}
	for i, u := range p.used {
		if u != noUse {
			smp.Present[i], smp.Used[i] = true, float64(u)/100
		}
	}
}

// stateIndex is a state's index in s.names, adding it when new. The caller holds s.mu
// for writing (or is init).
func (s *Store) stateIndex(st model.State) uint16 {
	if i, ok := s.stateIndexes[st]; ok {
		return i
	}
	if len(s.names) > math.MaxUint16 {
		return 0 // a model with 65,536 states is not one this store was built for
	}
	i := uint16(len(s.names))
	s.names = append(s.names, st)
	s.stateIndexes[st] = i
	return i
}

// sameValues reports whether two samples say the same but for their time: a snapshot
// without one gets the poll's time each poll. Reset times are compared as instants.
func sameValues(a, b packed) bool {
	return a.used == b.used && a.state == b.state && resetInstants(a) == resetInstants(b)
}

// resetInstants are a sample's reset times in unix seconds, math.MinInt64 when unknown.
func resetInstants(p packed) [2]int64 {
	out := [2]int64{math.MinInt64, math.MinInt64}
	if m := int64(p.resets % resetBase); m != unknown5h {
		out[0] = p.at + 60*m
	}
	if m := int64(p.resets / resetBase); m != unknown7d {
		out[1] = p.at + 60*m
	}
	return out
}

var snapshotSeed = maphash.MakeSeed()

// snapshotKey hashes what a snapshot stores that a sample depends on: 8 bytes an
// account instead of a copy of the snapshot. Two different snapshots share a key with
// a chance of 2^-63; the cost would be one missed sample. Never 0.
func snapshotKey(q *model.Quota) uint64 {
	var buf [128]byte // 121 used
	b := appendTime(append(buf[:0], flag(q.HasUpdatedAt)), q.UpdatedAt)
	for _, w := range q.Windows {
		b = append(b, flag(w.Present), flag(w.HasResetAt), flag(w.ThresholdNaN), flag(w.Disabled), flag(w.HasUsed), flag(w.HasSchedResetAt))
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(w.UsedPercent))
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(w.Threshold))
		b = binary.LittleEndian.AppendUint64(b, uint64(w.ResetAfterSeconds))
		b = appendTime(appendTime(b, w.ResetAt), w.SchedResetAt)
	}
	return maphash.Bytes(snapshotSeed, b) | 1
}

// snapshotFields is how many fields of model.WindowSnapshot snapshotKey reads; a test
// fails when the model adds one.
const snapshotFields = 11

func appendTime(b []byte, t time.Time) []byte {
	b = binary.LittleEndian.AppendUint64(b, uint64(t.Unix()))
	return binary.LittleEndian.AppendUint32(b, uint32(t.Nanosecond()))
}

func flag(b bool) byte {
	if b {
		return 1
	}
	return 0
}
