package metrics

import (
	"cmp"
	"math"
	"slices"
	"sync/atomic"
	"time"

	"github.com/quotatop/quotatop/events"
	"github.com/quotatop/quotatop/model"
)

// snapshot is what a scrape reads of one poll: a small row per account and the counts,
// made by Update while the poll's accounts and judgements are valid. A scrape never
// touches the poll's own memory, which the next polls reuse while a slow scraper may
// still be reading.
type snapshot struct {
	rows   []row
	counts []int        // per model.States
	groups []groupCount // by group, then platform
	// dups counts accounts left out of the per-account series because an earlier one
	// has the same ID: two series with the same labels make Prometheus reject the scrape.
	dups int
	// readers counts scrapes still reading it; Update refills it only at zero.
	readers atomic.Int32

	seen     ids // fill's, kept for its memory
	groupsAt map[events.GroupKey]int
}

// row is one account as the metrics show it.
type row struct {
	id        int64
	platform  string // sanitised
	name      string // sanitised; empty unless AccountNames
	state     int    // index in model.States
	sched     bool   // the gateway schedules it (state ok or warn)
	hasAge    bool
	updatedAt time.Time // the snapshot's time, when hasAge
	windows   [2]windowRow
}

type windowRow struct {
	used float64 // 0-1
	// threshold is where the judgement pauses the account for the window (0-1), valid
	// when hasThreshold.
	threshold    float64
	present      bool
	hasThreshold bool
}

type groupCount struct {
	events.GroupKey
	sched, total int
}

// fill makes s the snapshot of one poll judged under p, reusing its memory. At 10,000
// accounts a poll costs about two milliseconds more with metrics on, a third of it the
// windows' pause points.
func (s *snapshot) fill(accounts []model.Account, js []model.Judgement, p *model.Policy, names bool) {
	s.rows = slices.Grow(s.rows[:0], len(accounts))
	s.counts = slices.Grow(s.counts[:0], len(model.States))[:len(model.States)]
	clear(s.counts)
	s.groups = s.groups[:0]
	s.dups = 0
	s.seen.reset(accounts)
	if s.groupsAt == nil {
		s.groupsAt = map[events.GroupKey]int{}
	}
	clear(s.groupsAt)
	last := -1 // the group counted last: neighbours often share it
	for i := range accounts {
		a, j := &accounts[i], &js[i]
		st := slices.Index(model.States, j.State)
		sched := events.Schedulable(j.State)
		if st >= 0 {
			s.counts[st]++
		}
		events.GroupKeys(a, func(k events.GroupKey) {
			if last < 0 || s.groups[last].GroupKey != k {
				g, ok := s.groupsAt[k]
				if !ok {
					g = len(s.groups)
					s.groups = append(s.groups, groupCount{GroupKey: k})
					s.groupsAt[k] = g
				}
				last = g
			}
			s.groups[last].total++
			if sched {
				s.groups[last].sched++
			}
		})
		if !s.seen.add(a.ID) {
			s.dups++
			continue
		}
		r := row{id: a.ID, platform: model.Sanitize(a.Platform), state: st, sched: sched}
		if names {
			r.name = model.Sanitize(a.Name)
		}
		if a.Quota != nil && a.Quota.HasUpdatedAt {
			r.hasAge, r.updatedAt = true, a.Quota.UpdatedAt
		}
		for w := range j.Windows {
			r.windows[w] = windowRow{present: j.Windows[w].Present, used: j.Windows[w].UsedPercent / 100}
			if pct, ok := model.PausePoint(a, *p, j, w); ok {
				r.windows[w].threshold, r.windows[w].hasThreshold = pct/100, true
			}
		}
		s.rows = append(s.rows, r)
	}
	slices.SortFunc(s.groups, func(a, b groupCount) int {
		return cmp.Or(cmp.Compare(a.ID, b.ID), cmp.Compare(a.Platform, b.Platform))
	})
}

// ids is a set of account IDs: a bitmap over their range when that is dense enough (it
// is, for a gateway's sequential IDs), else a map.
type ids struct {
	lo   int64
	bits []uint64
	m    map[int64]struct{}
}

func (x *ids) reset(accounts []model.Account) {
	lo, hi := int64(math.MaxInt64), int64(math.MinInt64)
	for i := range accounts {
		lo, hi = min(lo, accounts[i].ID), max(hi, accounts[i].ID)
	}
	x.lo, x.m = lo, nil
	if n := len(accounts); n > 0 && uint64(hi-lo) < uint64(64*max(n, 1024)) {
		x.bits = slices.Grow(x.bits[:0], int(uint64(hi-lo)/64+1))[:uint64(hi-lo)/64+1]
		clear(x.bits)
		return
	}
	x.bits, x.m = x.bits[:0], make(map[int64]struct{}, len(accounts))
}

// add adds id, false when it was there already.
func (x *ids) add(id int64) bool {
	if x.m != nil {
		if _, ok := x.m[id]; ok {
			return false
		}
		x.m[id] = struct{}{}
		return true
	}
	d := uint64(id - x.lo)
	w, b := d/64, uint64(1)<<(d%64)
	if x.bits[w]&b != 0 {
		return false
	}
	x.bits[w] |= b
	return true
}
