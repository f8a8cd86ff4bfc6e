package source

import (
	"encoding/binary"
	"math/bits"
	"slices"
	"time"
	"unsafe"

	"github.com/quotatop/quotatop/model"
)

// Values from one gateway are alike: most members of the next value (its platform, its
// status, the nulls, a window's reset time, the skipped credentials) hold the very bytes
// the same member of the last value held, often many members in a row. The Decoder keeps
// a copy of the last value it read, and memos remembers, for each position in one kind
// of object, where the member read there lies in that copy, with what its value decoded
// to. When the next value's bytes at a member agree with the copy's up to and including
// the byte after a remembered member's value, its value is those bytes and ends where
// they do (that byte ends any number), so the remembered result is its result, and it is
// neither scanned nor parsed again; one comparison covers a whole run of members. Only
// results that are plain values are remembered; what the account keeps of them is copied
// from them, never shared.
type memos struct {
	// pos and res are indexed by the member's position: pos is what a run walks member
	// by member, kept apart from the results so that a run reads a few cache lines
	pos     []memberPos
	res     []memoResult
	scratch memoResult // for members past the bound, never remembered
}

const (
	memoMembers  = 96      // members remembered per kind of object
	memoValueMax = 1 << 16 // the longest value kept for the next to be compared with
)

// memberPos is where one member was last read at its position: off, end and next are its
// key, the index after its value and the next member's key (-1 when none was read) in
// the value the Decoder read as gen; gen 0 means nothing is remembered. Offsets fit in
// 32 bits: longer values than memoValueMax are not kept.
type memberPos struct {
	off, end, next int32
	kind           uint8
	gen            uint64
}

// memoResult is what a member's value decoded to, by its kind: see parseTop and
// parseExtra for which fields a kind sets.
type memoResult struct {
	t, t2  time.Time
	s      string // immutable, so shared by every account that gets it
	f      float64
	n      int64
	ok     bool
	ok2    bool
	b      bool
	ids    []int64         // GroupIDs: read-only, shared by every account that has them
	block  model.TempBlock // TempBlock when hasBlk, copied out
	hasBlk bool
}

// keepValue starts reading raw: a copy of it becomes what the members read from it are
// remembered in, and the copy of the value before stays for them to be compared with.
func (d *Decoder) keepValue(raw string) {
	d.gen++
	d.kept = len(raw) <= memoValueMax
	if d.kept {
		b := &d.vals[d.gen&1]
		*b = append((*b)[:0], raw...)
	}
}

// valueOf is the copy of the value read as gen, which must be d.gen or the one before.
func (d *Decoder) valueOf(gen uint64) string {
	b := d.vals[gen&1]
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// run finds the remembered members that the member at i, the m-th of its object, and
// those after it repeat byte for byte: it returns how many (0 for none) and where the
// last one's value ends in s. They are remembered again as read from s.
func (d *Decoder) run(ms *memos, m int, s string, i int) (n, end int) {
	if !d.kept || m >= len(ms.pos) {
		return 0, 0
	}
	pos := ms.pos
	g := pos[m].gen
	if g == 0 || g != d.gen && g+1 != d.gen {
		return 0, 0
	}
	prev := d.valueOf(g)
	base := pos[m].off
	// a member repeats when its bytes and the one after its value agree: when its value
	// ends at or before last
	last := base + int32(commonPrefix(s[i:], prev[base:])) - 1
	if pos[m].end > last {
		return 0, 0
	}
	delta := int32(i) - base
	k := m
	for {
		e := &pos[k]
		next := e.next
		e.off, e.end, e.gen = e.off+delta, e.end+delta, d.gen
		if next >= 0 {
			e.next = next + delta
		}
		// the member after it in the same value, if that one was remembered there
		if k++; next < 0 || k >= len(pos) {
			break
		}
		if f := &pos[k]; f.gen != g || f.off != next || f.end > last {
			break
		}
	}
	return k - m, int(pos[k-1].end)
}

// commonPrefix is the length of the longest common prefix of a and b. It reads sixteen
// bytes a step without bounds checks: runs of members agree for hundreds of bytes.
func commonPrefix(a, b string) int {
	n := min(len(a), len(b))
	pa, pb := unsafe.Pointer(unsafe.StringData(a)), unsafe.Pointer(unsafe.StringData(b))
	i := 0
	for ; i+16 <= n; i += 16 {
		x := le64(unsafe.Add(pa, i)) ^ le64(unsafe.Add(pb, i))
		y := le64(unsafe.Add(pa, i+8)) ^ le64(unsafe.Add(pb, i+8))
		if x|y != 0 {
			if x != 0 {
				return i + bits.TrailingZeros64(x)>>3
			}
			return i + 8 + bits.TrailingZeros64(y)>>3
		}
	}
	for i < n && a[i] == b[i] {
		i++
	}
	return i
}

// le64 reads the eight bytes at p, the first in the low byte on any machine.
func le64(p unsafe.Pointer) uint64 { return binary.LittleEndian.Uint64((*[8]byte)(p)[:]) }

// slot is where the m-th member's result is decoded: its memo, forgotten until keep
// remembers it again, or the scratch one past the bound.
func (ms *memos) slot(m int) *memoResult {
	if m >= memoMembers {
		return &ms.scratch
	}
	for len(ms.pos) <= m {
		ms.pos, ms.res = append(ms.pos, memberPos{}), append(ms.res, memoResult{})
	}
	ms.pos[m].gen = 0
	return &ms.res[m]
}

// forget forgets the m-th member: the one read there now is not remembered, so no run
// may take the one before for it.
func (ms *memos) forget(m int) {
	if m < len(ms.pos) {
		ms.pos[m].gen = 0
	}
}

// keep remembers the m-th member, of the given kind, as s[from:end], once its result is
// in its slot. A member that ends the input is not remembered: no byte after it says
// that a number ended there.
func (d *Decoder) keep(ms *memos, m int, kind uint8, s string, from, end int) {
	if m >= len(ms.pos) || !d.kept || end < 0 || end >= len(s) {
		return
	}
	ms.pos[m] = memberPos{off: int32(from), end: int32(end), next: -1, kind: kind, gen: d.gen}
}

// follows records where the member after the m-th starts (at, unless done or -1); m
// is -1 for a member that has no memo.
func (ms *memos) follows(m int, at int, done bool) {
	if m >= 0 && m < len(ms.pos) && ms.pos[m].gen != 0 {
		e := &ms.pos[m]
		e.next = int32(at)
		if done {
			e.next = -1
		}
	}
}

// memoTop reports whether a value's member of this kind can be remembered: all but
// Extra, which is read member by member with memos of its own.
func memoTop(kind uint8) bool { return kind != fExtra }

// parseTop decodes the value of a member of the given kind at at into r and returns the
// index after the value, or -1.
func (d *Decoder) parseTop(r *memoResult, kind uint8, s string, at int) int {
	var v jval
	i := 0
	switch kind {
	case fGroupIDs:
		// a fleet has a few sets of groups: the last set read is kept while it repeats
		d.ids, i = d.groupIDs(d.ids[:0], s, at)
		if !slices.Equal(d.ids, r.ids) {
			r.ids = slices.Clone(d.ids)[:len(d.ids):len(d.ids)]
		}
		return i
	case fSkip:
		return skipAny(s, at, 2)
	}
	v, i = scalarAt(s, at, 2)
	switch kind {
	case fID:
		r.n, r.ok = d.intOf(v)
		r.b = v.kind == jNull
	case fName, fPlatform, fType, fStatus:
		r.s = d.textOf(v)
	case fSchedulable, fAutoPauseOnExpired:
		r.b = d.flexBool(v)
	case fPriority, fConcurrency:
		r.n, _ = d.intOf(v)
	case fLastUsedAt, fExpiresAt, fRateLimitedAt, fRateLimitResetAt, fOverloadUntil,
		fTempUnschedulableUntil, fSessionWindowEnd:
		r.t, r.ok = d.flexTime(v)
	case fTempUnschedulableReason:
		r.s = d.textOf(v)
		r.block, r.hasBlk = d.tempBlock(v)
	}
	return i
}

// applyTop sets what a member of the given kind, decoded to r, sets in a (its blocks in
// blk, which the account gets at the end of the value).
func applyTop(a *model.Account, blk *model.Blocks, kind uint8, r *memoResult, idSeen *bool, problems *[]string) {
	switch kind {
	case fID:
		if r.ok {
			a.ID, *idSeen = r.n, true
		} else if !r.b {
			*problems = append(*problems, "ID is not a number")
		}
	case fName:
		a.Name = r.s
	case fPlatform:
		a.Platform = r.s
	case fType:
		a.Type = r.s
	case fStatus:
		a.Status = r.s
	case fSchedulable:
		a.Schedulable = r.b
	case fPriority:
		a.Priority = int(r.n)
	case fConcurrency:
		a.Concurrency = int(r.n)
	case fGroupIDs:
		// shared, with no room to grow: a second GroupIDs member's append copies
		if a.GroupIDs == nil {
			a.GroupIDs = r.ids[:len(r.ids):len(r.ids)]
			if len(r.ids) == 0 {
				a.GroupIDs = nil // as appending none to none leaves it
			}
		} else {
			a.GroupIDs = append(a.GroupIDs, r.ids...)
		}
	case fLastUsedAt:
		a.LastUsedAt = unlessZero(r.t, r.ok)
	case fExpiresAt:
		blk.ExpiresAt = unlessZero(r.t, r.ok)
	case fAutoPauseOnExpired:
		a.AutoPauseOnExpired = r.b
	case fRateLimitedAt:
		blk.RateLimitedAt = unlessZero(r.t, r.ok)
	case fRateLimitResetAt:
		blk.RateLimitResetAt = unlessZero(r.t, r.ok)
	case fOverloadUntil:
		blk.OverloadUntil = unlessZero(r.t, r.ok)
	case fTempUnschedulableUntil:
		blk.TempUnschedulableUntil = unlessZero(r.t, r.ok)
	case fSessionWindowEnd:
		if r.ok && (a.Platform == "anthropic" || a.Platform == "") {
			if u := anthropicUsage(a); u != nil {
				u.Windows[0].ResetAt, u.Windows[0].HasResetAt = r.t, true
			}
		}
	case fTempUnschedulableReason:
		blk.TempUnschedulableReason = r.s
		blk.TempBlock = nil
		if r.hasBlk {
			b := r.block
			blk.TempBlock = &b
		}
	}
}

// memoExtra reports whether an Extra member of this kind can be remembered: the
// snapshot's plain fields and skipped keys; the rest build what the account keeps.
func memoExtra(kind uint8) bool { return kind == xSkip || kind == xUpdatedAt || kind >= xWindow }

// parseExtra is parseTop for a remembered kind of Extra member.
func (d *Decoder) parseExtra(r *memoResult, kind uint8, s string, at int) int {
	if kind == xSkip {
		return skipAny(s, at, 3)
	}
	v, i := scalarAt(s, at, 3)
	if kind == xUpdatedAt {
		r.t, r.ok = d.flexTime(v)
		return i
	}
	d.parseWindow(r, (kind-xWindow)%windowFields, v)
	return i
}

// applyExtra is applyTop for a remembered kind of Extra member.
func applyExtra(q *model.Quota, kind uint8, r *memoResult, has *bool) {
	switch {
	case kind == xUpdatedAt:
		q.UpdatedAt, q.HasUpdatedAt, q.UpdatedAtStored = r.t, r.ok, true
		*has = true
	case kind >= xWindow:
		applyWindow(&q.Windows[(kind-xWindow)/windowFields], (kind-xWindow)%windowFields, r, has)
	}
}
