package trend

import (
	"cmp"
	"slices"
	"time"

	"github.com/quotatop/quotatop/model"
)

// Member is one account as the group projection reads it.
type Member struct {
	// Pointers, not copies: a member is built per account per poll, and copying a
	// judgement and a forecast was a tenth of a 10,000-account one-shot.
	Account   *model.Account
	Judgement *model.Judgement
	Forecast  *Forecast
}

// Group is one scheduling bucket's capacity now and ahead. sub2api schedules per group
// and platform (a request for one platform only ever gets that platform's accounts);
// group 0 gathers the accounts that belong to none (sub2api's ungrouped bucket).
type Group struct {
	ID       int64
	Platform string
	Accounts int
	// Schedulable counts ok and warn accounts: the ones the gateway hands requests to.
	Schedulable int
	// Paused counts paused and stale_probe accounts (over a threshold).
	Paused int
	// Blocked counts everything else: blocked, disabled, error, invalid.
	Blocked int
	// Projected is the schedulable count at each of Options.Horizons.
	Projected [3]int
	// DryAt is the first time no account is schedulable, zero when that is not due
	// within Options.Ahead; now when the group is dry already.
	DryAt time.Time
	// Stale says some member's projection comes from stale data.
	Stale bool
}

// pausedAt says a projected crossing stops the account at t: at or after it and before
// that window resets.
func pausedAt(f *Forecast, t time.Time) bool {
	for i := range f.Windows {
		w := &f.Windows[i]
		if !w.PauseAt.IsZero() && !t.Before(w.PauseAt) && (w.ResetAt.IsZero() || t.Before(w.ResetAt)) {
			return true
		}
	}
	return false
}

// change is one account becoming schedulable (+1) or not (-1) at a time.
type change struct {
	at    time.Time
	delta int
}

// maxSteps bounds how many of an account's own change points a timeline follows.
const maxSteps = 32

// span is what the timelines of one projection share: the policy, now, the last
// horizon (split) and the end of the look-ahead (until).
type span struct {
	p                 model.Policy
	now, split, until time.Time
}

// scratch is a timeline's working space, reused from one account to the next (zeroing
// it per account showed in profiles).
type scratch struct {
	steps, at []time.Time
}

// timeline appends to dst when an account's schedulability flips after now, up to end:
// at the judgement's own change points (resets, block expiries, staleness) and the
// projected crossings. The gateway schedules an account at t when the judgement says ok
// or warn and no projected crossing has paused it until its window resets. With
// pastSplit, only the flips after s.split are appended, was being the schedulability
// there: a timeline cut at the split and then continued is the whole one.
func (s *span) timeline(sc *scratch, dst []change, m *Member, was bool, end time.Time, pastSplit bool) []change {
	// The judgement stays the same from one model.NextChange to the next, so it is made
	// once per change point (and only where no crossing pauses the account anyway), not
	// at every instant looked at.
	steps := sc.steps[:0]
	followed := true
	for t := s.now; ; {
		if len(steps) == maxSteps {
			followed = false // past the last step the judgement is made at each instant
			break
		}
		t = model.NextChange(m.Account, s.p, t)
		if t.IsZero() || t.After(end) {
			break
		}
		steps = append(steps, t)
	}
	n := len(steps)
	at := append(sc.at[:0], steps...)
	for i := range m.Forecast.Windows {
		if t := m.Forecast.Windows[i].PauseAt; !t.IsZero() {
			at = append(at, t)
		}
	}
	sc.steps, sc.at = steps, at
	slices.SortFunc(at, func(a, b time.Time) int { return a.Compare(b) })
	// step is how many change points lie at or before the instant; judged says the
	// judgement of that stretch is known, and ok is its answer.
	step, judged, ok := 0, -1, false
	for k, t := range at {
		if t.After(end) || (k > 0 && t.Equal(at[k-1])) || (pastSplit && !t.After(s.split)) {
			continue
		}
		// A crossing already due counts from now.
		if t.Before(s.now) {
			t = s.now
		}
		is := !pausedAt(m.Forecast, t)
		if is {
			for step < n && !t.Before(steps[step]) {
				step++
			}
			switch {
			case step == n && !followed:
				ok = schedulableState(model.Judge(m.Account, s.p, t).State)
				judged = -1
			case step != judged:
				from := s.now
				if step > 0 {
					from = steps[step-1]
				}
				ok, judged = schedulableState(model.Judge(m.Account, s.p, from).State), step
			}
			is = ok
		}
		if is != was {
			d := 1
			if !is {
				d = -1
			}
			dst = append(dst, change{t, d})
			was = is
		}
	}
	return dst
}

// schedulableState says the gateway hands requests to an account in state s.
func schedulableState(s model.State) bool { return s == model.StateOK || s == model.StateWarn }

// Groups projects every group and platform's capacity (accounts whose value cannot be read belong to
// none, as their groups are unknown), ordered by dry time (soonest first, never-dry
// last), then by ID.
func Groups(members []Member, p model.Policy, o Options, now time.Time) []Group {
	type acc struct {
		g       Group
		changes []change
		members []int // indices into members, to continue their timelines past the split
	}
	type bucket struct {
		id       int64
		platform string
	}
	byID := map[bucket]*acc{}
	get := func(id int64, platform string) *acc {
		k := bucket{id, platform}
		if a := byID[k]; a != nil {
			return a
		}
		a := &acc{g: Group{ID: id, Platform: platform}}
		byID[k] = a
		return a
	}
	s := span{p: p, now: now, until: now.Add(o.Ahead)}
	// The horizons need every member's timeline up to the last of them; past it only a
	// dry time is left to find, and most groups keep a member schedulable to the end.
	s.split = s.until
	if last := now.Add(slices.Max(o.Horizons[:])); !last.Before(now) && last.Before(s.until) {
		s.split = last
	}
	// Each member's timeline to the split (most of the work) on every core, each chunk
	// appending to one slice; the sums after, in order.
	timelines := make([][]change, len(members))
	up := make([]bool, len(members)) // schedulable at the split
	inParallel(len(members), func(lo, hi int) {
		var all []change
		var sc scratch
		ends := make([]int, hi-lo)
		for k := lo; k < hi; k++ {
			m := &members[k]
			if m.Account.Invalid == "" {
				from := len(all)
				up[k] = schedulableState(m.Judgement.State)
				all = s.timeline(&sc, all, m, up[k], s.split, false)
				if len(all) > from {
					up[k] = all[len(all)-1].delta > 0
				}
			}
			ends[k-lo] = len(all)
		}
		from := 0
		for k := lo; k < hi; k++ {
			end := ends[k-lo]
			timelines[k] = all[from:end:end]
			from = end
		}
	})
	split := s.split.Before(s.until)
	var ids []int64
	for k := range members {
		m := &members[k]
		if m.Account.Invalid != "" {
			continue // an unreadable value's groups are unknown
		}
		ids = groupIDs(ids[:0], m.Account.GroupIDs)
		changes := timelines[k]
		for _, id := range ids {
			a := get(id, m.Account.Platform)
			a.g.count(classOf(m.Account, m.Judgement.State), 1)
			a.g.Stale = a.g.Stale || m.Forecast.Stale
			a.changes = append(a.changes, changes...)
			if split {
				a.members = append(a.members, k)
			}
		}
	}

	// The timelines past the split, made when a group needs them, once per member.
	var tails [][]change
	var made []bool
	continueTimelines := func(ks []int) {
		if tails == nil {
			tails, made = make([][]change, len(members)), make([]bool, len(members))
		}
		var todo []int
		for _, k := range ks {
			if !made[k] {
				todo, made[k] = append(todo, k), true
			}
		}
		inParallel(len(todo), func(lo, hi int) {
			var all []change
			var sc scratch
			for i := lo; i < hi; i++ {
				from := len(all)
				all = s.timeline(&sc, all, &members[todo[i]], up[todo[i]], s.until, true)
				tails[todo[i]] = all[from:len(all):len(all)]
			}
		})
	}
	// staysUp says some of the members schedulable at the split are, together, to the
	// end: then the group never runs dry. Tried in doubling batches, most groups are
	// settled by their first such member.
	staysUp := func(ks []int) bool {
		var cand []int
		for _, k := range ks {
			if up[k] {
				cand = append(cand, k)
			}
		}
		for tried := 0; tried < len(cand); {
			batch := cand[tried:min(len(cand), max(2*tried, 1))]
			continueTimelines(batch)
			tried += len(batch)
			for _, k := range batch {
				if len(tails[k]) == 0 {
					return true
				}
			}
			var cs []change
			for _, k := range cand[:tried] {
				cs = append(cs, tails[k]...)
			}
			slices.SortFunc(cs, func(x, y change) int { return x.at.Compare(y.at) })
			n, covered := tried, true
			for i, c := range cs {
				if n += c.delta; n == 0 && (i == len(cs)-1 || !cs[i+1].at.Equal(c.at)) {
					covered = false
					break
				}
			}
			if covered {
				return true
			}
		}
		return false
	}
	sweep := func(g *Group, changes []change, n, h int) (int, int) {
		for k, c := range changes {
			for h < len(o.Horizons) && c.at.After(now.Add(o.Horizons[h])) {
				g.Projected[h] = n
				h++
			}
			n += c.delta
			// Several accounts flipping at one instant count together.
			if n == 0 && g.DryAt.IsZero() && (k == len(changes)-1 || !changes[k+1].at.Equal(c.at)) {
				g.DryAt = c.at
			}
		}
		return n, h
	}

	out := make([]Group, 0, len(byID))
	for _, a := range byID {
		g := a.g
		slices.SortStableFunc(a.changes, func(x, y change) int { return x.at.Compare(y.at) })
		n := g.Schedulable
		if n == 0 {
			g.DryAt = now
		}
		n, h := sweep(&g, a.changes, n, 0)
		// Every horizon lies before the split; a dry time may lie past it.
		if split && g.DryAt.IsZero() && !staysUp(a.members) {
			continueTimelines(a.members)
			var rest []change
			for _, k := range a.members {
				rest = append(rest, tails[k]...)
			}
			slices.SortStableFunc(rest, func(x, y change) int { return x.at.Compare(y.at) })
			n, h = sweep(&g, rest, n, h)
		}
		for ; h < len(o.Horizons); h++ {
			g.Projected[h] = n
		}
		out = append(out, g)
	}
	slices.SortFunc(out, func(x, y Group) int {
		switch {
		case x.DryAt.IsZero() != y.DryAt.IsZero():
			if x.DryAt.IsZero() {
				return 1
			}
			return -1
		case !x.DryAt.Equal(y.DryAt):
			return x.DryAt.Compare(y.DryAt)
		}
		if c := cmp.Compare(x.ID, y.ID); c != 0 {
			return c
		}
		return cmp.Compare(x.Platform, y.Platform)
	})
	return out
}

// groupIDs appends the account's groups to dst, group 0 for an account in none.
func groupIDs(dst, ids []int64) []int64 {
	n := len(dst)
	for _, id := range ids {
		if id > 0 && !slices.Contains(dst[n:], id) {
			dst = append(dst, id)
		}
	}
	if len(dst) == n {
		return append(dst, 0)
	}
	return dst
}

// EarliestDry is the soonest dry time among groups, zero when none is due.
func EarliestDry(groups []Group) (Group, bool) {
	for _, g := range groups {
		if !g.DryAt.IsZero() {
			return g, true // Groups orders by dry time
		}
	}
	return Group{}, false
}

// Counter keeps the groups of a projection counted as the accounts' judgements change,
// without projecting again: what each group holds now (Accounts, Schedulable, Paused,
// Blocked). What was projected ahead (Projected, DryAt, Stale) is kept: it moves slowly,
// and projecting 100,000 accounts again for every state change was most of the live
// monitor's CPU. Each update costs only the accounts that changed. A Counter is not safe
// for concurrent use.
type Counter struct {
	groups []Group
	index  map[bucket]int32
	// Per account (by index into the accounts it was made from): how it counts (a
	// class), and in which groups: indexes into groups, account k's being
	// in[off[k]:off[k+1]] (one slice for all, not one per account, for the collector).
	class []int8
	off   []int32
	in    []int32
	// moved are the groups of the accounts whose groups changed since (by index).
	moved map[int32][]int32
	ok    bool
}

type bucket struct {
	id       int64
	platform string
}

// Classes of accounts as a group counts them.
const (
	classNone int8 = iota // unreadable: in no group
	classSchedulable
	classPaused
	classBlocked
)

func classOf(a *model.Account, s model.State) int8 {
	switch {
	case a.Invalid != "":
		return classNone
	case schedulableState(s):
		return classSchedulable
	case s == model.StatePaused || s == model.StateStaleProbe:
		return classPaused
	}
	return classBlocked
}

// NewCounter counts accounts (judged as js says) into the groups Groups made of them.
func NewCounter(groups []Group, accounts []model.Account, js []model.Judgement) *Counter {
	c := &Counter{groups: slices.Clone(groups), index: make(map[bucket]int32, len(groups)),
		class: make([]int8, len(accounts)), off: make([]int32, len(accounts)+1), in: make([]int32, 0, len(accounts)), ok: true}
	for i, g := range c.groups {
		c.index[bucket{g.ID, g.Platform}] = int32(i)
	}
	for k := range accounts {
		a := &accounts[k]
		c.class[k] = classOf(a, js[k].State)
		var found bool
		if c.in, found = c.groupsOf(c.in, a, c.class[k]); !found {
			c.ok = false // not the accounts the groups were made of
			return c
		}
		c.off[k+1] = int32(len(c.in))
	}
	return c
}

// groupsOf appends to dst the indexes of the account's groups, none when it is unreadable;
// false when one is not among the groups.
func (c *Counter) groupsOf(dst []int32, a *model.Account, class int8) ([]int32, bool) {
	if class == classNone {
		return dst, true
	}
	ids := a.GroupIDs
	if len(ids) == 1 && ids[0] > 0 {
		i, found := c.index[bucket{ids[0], a.Platform}]
		return append(dst, i), found
	}
	for _, id := range groupIDs(nil, ids) {
		i, found := c.index[bucket{id, a.Platform}]
		if !found {
			return dst, false
		}
		dst = append(dst, i)
	}
	return dst, true
}

// Update counts the accounts listed in fresh (indexes into accounts, the same accounts in
// the same places as before) as js now judges them (js[k] is account fresh[k]'s), and
// returns the groups so counted,
// a new slice. It returns false when only a new projection can answer: an account joined
// a group the projection has not seen, a group emptied, or one ran dry or came back.
// After false the Counter stays unusable.
func (c *Counter) Update(accounts []model.Account, fresh []int32, js []model.Judgement) ([]Group, bool) {
	if !c.ok || len(accounts) != len(c.class) {
		c.ok = false
		return nil, false
	}
	was := make([]int, len(c.groups))
	for i := range c.groups {
		was[i] = c.groups[i].Schedulable
	}
	var in []int32
	for n, k := range fresh {
		a := &accounts[k]
		class := classOf(a, js[n].State)
		var found bool
		in, found = c.groupsOf(in[:0], a, class)
		if !found {
			c.ok = false // a group the projection has not seen: it is made again
			return nil, false
		}
		groups := c.in[c.off[k]:c.off[k+1]]
		if m, ok := c.moved[k]; ok {
			groups = m
		}
		c.count(c.class[k], groups, -1)
		c.count(class, in, 1)
		c.class[k] = class
		if !slices.Equal(in, groups) {
			if c.moved == nil {
				c.moved = map[int32][]int32{}
			}
			c.moved[k] = slices.Clone(in)
		}
	}
	for i := range c.groups {
		if g := &c.groups[i]; g.Accounts == 0 || (g.Schedulable == 0) != (was[i] == 0) {
			c.ok = false
			return nil, false
		}
	}
	return slices.Clone(c.groups), true
}

// count adds n accounts of class to the groups in.
func (c *Counter) count(class int8, in []int32, n int) {
	for _, i := range in {
		c.groups[i].count(class, n)
	}
}

// count adds n accounts of class (not classNone) to the group.
func (g *Group) count(class int8, n int) {
	g.Accounts += n
	switch class {
	case classSchedulable:
		g.Schedulable += n
	case classPaused:
		g.Paused += n
	case classBlocked:
		g.Blocked += n
	}
}

// A projection moves slowly: its times are absolute, so a minute old it still reads
// right. Between full projections, monitors project only the accounts that changed (and
// keep the groups counted with a Counter); the whole fleet is projected again, for what
// time alone moves (rates over the last hour, crossings of accounts that did not change),
// after RefreshBudget times the CPU the last full projection took, at most RefreshEvery
// later: a small fleet every poll, 10,000 accounts (about 15 ms on two cores) every 30 s,
// 100,000 every 2 minutes.
const (
	RefreshEvery  = 2 * time.Minute
	RefreshBudget = 1000 // a tenth of a percent of a core
)

// RefreshAfter is how long a full projection that cost cpu stands.
func RefreshAfter(cpu time.Duration) time.Duration { return min(RefreshEvery, RefreshBudget*cpu) }
