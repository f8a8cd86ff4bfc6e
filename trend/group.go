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

// schedulable is the judgement's answer plus the projection: an account the gateway
// schedules at t, given that it pauses at a projected crossing until that window resets.
func schedulable(m *Member, p model.Policy, t time.Time) bool {
	s := model.Judge(m.Account, p, t).State
	if s != model.StateOK && s != model.StateWarn {
		return false
	}
	for _, w := range m.Forecast.Windows {
		if !w.PauseAt.IsZero() && !t.Before(w.PauseAt) && (w.ResetAt.IsZero() || t.Before(w.ResetAt)) {
			return false
		}
	}
	return true
}

// change is one account becoming schedulable (+1) or not (-1) at a time.
type change struct {
	at    time.Time
	delta int
}

// timeline lists when an account's schedulability flips after now, up to until: at the
// judgement's own change points (resets, block expiries, staleness) and the projected
// crossings.
func timeline(m *Member, p model.Policy, now, until time.Time, was bool) []change {
	var at []time.Time
	for t, n := now, 0; n < 32; n++ {
		t = model.NextChange(m.Account, p, t)
		if t.IsZero() || t.After(until) {
			break
		}
		at = append(at, t)
	}
	for _, w := range m.Forecast.Windows {
		if !w.PauseAt.IsZero() {
			at = append(at, w.PauseAt)
		}
	}
	slices.SortFunc(at, func(a, b time.Time) int { return a.Compare(b) })
	var out []change
	for k, t := range at {
		if t.After(until) || (k > 0 && t.Equal(at[k-1])) {
			continue
		}
		// A crossing already due counts from now.
		if t.Before(now) {
			t = now
		}
		if is := schedulable(m, p, t); is != was {
			d := 1
			if !is {
				d = -1
			}
			out = append(out, change{t, d})
			was = is
		}
	}
	return out
}

// Groups projects every group and platform's capacity (accounts whose value cannot be read belong to
// none, as their groups are unknown), ordered by dry time (soonest first, never-dry
// last), then by ID.
func Groups(members []Member, p model.Policy, o Options, now time.Time) []Group {
	type acc struct {
		g       Group
		changes []change
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
	until := now.Add(o.Ahead)
	// Each member's timeline (most of the work) on every core; the sums after, in order.
	timelines := make([][]change, len(members))
	inParallel(len(members), func(lo, hi int) {
		for k := lo; k < hi; k++ {
			m := &members[k]
			if m.Account.Invalid == "" {
				s := m.Judgement.State
				timelines[k] = timeline(m, p, now, until, s == model.StateOK || s == model.StateWarn)
			}
		}
	})
	for k := range members {
		m := &members[k]
		if m.Account.Invalid != "" {
			continue // an unreadable value's groups are unknown
		}
		ids := groupIDs(m.Account.GroupIDs)
		changes := timelines[k]
		for _, id := range ids {
			a := get(id, m.Account.Platform)
			a.g.Accounts++
			switch m.Judgement.State {
			case model.StateOK, model.StateWarn:
				a.g.Schedulable++
			case model.StatePaused, model.StateStaleProbe:
				a.g.Paused++
			default:
				a.g.Blocked++
			}
			a.g.Stale = a.g.Stale || m.Forecast.Stale
			a.changes = append(a.changes, changes...)
		}
	}
	out := make([]Group, 0, len(byID))
	for _, a := range byID {
		g := a.g
		slices.SortStableFunc(a.changes, func(x, y change) int { return x.at.Compare(y.at) })
		n := g.Schedulable
		if n == 0 {
			g.DryAt = now
		}
		h := 0
		for k, c := range a.changes {
			for h < len(o.Horizons) && c.at.After(now.Add(o.Horizons[h])) {
				g.Projected[h] = n
				h++
			}
			n += c.delta
			// Several accounts flipping at one instant count together.
			if n == 0 && g.DryAt.IsZero() && (k == len(a.changes)-1 || !a.changes[k+1].at.Equal(c.at)) {
				g.DryAt = c.at
			}
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

// groupIDs is the account's groups, with group 0 for an account in none.
func groupIDs(ids []int64) []int64 {
	var out []int64
	for _, id := range ids {
		if id > 0 && !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	if len(out) == 0 {
		return []int64{0}
	}
	return out
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
