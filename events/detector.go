package events

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/quotatop/quotatop/model"
)

// Config tunes the detector.
type Config struct {
	// Hold is how many successive polls a new state must be seen before it counts
	// (1 = at once). It damps flapping.
	Hold int
	// WarnPercent is the used percent a window crosses (model.Policy.WarnPercent); 0 = off.
	WarnPercent float64
	// GroupFloor is the schedulable count at or under which a group is reported (0 =
	// only when none is left).
	GroupFloor int
	// OutageAfter is how long the storage must stay unreachable before it is reported.
	OutageAfter time.Duration
	// DryHorizon and Projector report a window whose projected time to dry comes within
	// the horizon. Both come from the trends work; nil or 0 turns this off.
	DryHorizon time.Duration
	Projector  Projector
}

// DefaultConfig damps over two polls and reports an outage after a minute.
func DefaultConfig() Config {
	return Config{Hold: 2, WarnPercent: 80, OutageAfter: time.Minute}
}

// Projector projects when a window runs dry (reaches its pause threshold) at its recent
// rate. It is declared here, where it is used, so history/trend code can satisfy it
// without this package importing them.
type Projector interface {
	TimeToDry(id int64, w model.WindowName, now time.Time) (time.Duration, bool)
}

// damped is a value that changes only after the new value was seen hold times in a row.
type damped[T comparable] struct {
	shown, next T
	count       int32
}

func (d *damped[T]) observe(v T, hold int) (from T, changed bool) {
	if v == d.shown {
		d.count = 0
		return from, false
	}
	if v != d.next || d.count == 0 {
		d.next, d.count = v, 0
	}
	d.count++
	if int(d.count) < hold {
		return from, false
	}
	from, d.shown, d.count = d.shown, v, 0
	return from, true
}

type accountTrack struct {
	seen uint32
	// shared says two storage keys claim the account's ID (see Observe).
	shared bool
	state  damped[int8] // the state's index in model.States: a byte, not a string, per account
	warn   [2]damped[bool]
	dry    [2]damped[bool]
	// The account's buckets as last seen, kept so an unchanged account finds its group
	// tracks without a map lookup per group.
	platform string
	groupIDs []int64
	buckets  []*groupTrack
}

type groupTrack struct {
	seen               uint32
	schedulable, total int
	level              damped[GroupLevel]
}

// Detector remembers what it last reported and turns each poll into the events it causes.
// It is not safe for concurrent use: one poll at a time.
type Detector struct {
	cfg      Config
	gen      uint32
	accounts map[int64]*accountTrack
	groups   map[GroupKey]*groupTrack
	// ids and tracks are the last poll's accounts in order: a poll that returns the same
	// IDs in the same places (the usual one) finds each track without a map lookup.
	ids    []int64
	tracks []*accountTrack

	failing   bool
	failSince time.Time
	lastErr   string
	announced bool
}

// New returns a detector whose first poll sets the baseline: what is already true at start
// is not announced (the metrics and the screen show it).
func New(cfg Config) *Detector {
	cfg.Hold = max(cfg.Hold, 1)
	cfg.GroupFloor = max(cfg.GroupFloor, 0)
	return &Detector{cfg: cfg, accounts: map[int64]*accountTrack{}, groups: map[GroupKey]*groupTrack{}}
}

// Rebaseline makes the next poll a baseline, as the first one is: nothing it finds is
// announced. The storage's outage state is kept.
func (d *Detector) Rebaseline() {
	clear(d.accounts)
	clear(d.groups)
	d.ids, d.tracks = d.ids[:0], d.tracks[:0]
}

// Fail records a poll that could not read the storage. The outage is reported once, when
// it has lasted Config.OutageAfter.
func (d *Detector) Fail(now time.Time, err error) []Event {
	if !d.failing {
		d.failing, d.failSince = true, now
	}
	if err != nil {
		d.lastErr = model.Sanitize(err.Error())
	}
	if d.announced || now.Sub(d.failSince) < d.cfg.OutageAfter {
		return nil
	}
	d.announced = true
	since := now.Sub(d.failSince)
	return []Event{{Time: now, Kind: KindStorage, Severity: Critical,
		Summary: fmt.Sprintf("storage unreachable for %s: %s", model.FormatAge(since), d.lastErr),
		Storage: &StorageChange{Down: true, Since: d.failSince, For: since, Error: d.lastErr}}}
}

// OutageDue says when the outage under way becomes reportable: a Fail at or after that
// time reports it. ok is false while the storage answers or once the outage is reported.
// Fail only runs when a poll fails, so a poller that backs off asks this to poll again
// at that moment, not a back-off step later.
func (d *Detector) OutageDue() (due time.Time, ok bool) {
	if !d.failing || d.announced {
		return time.Time{}, false
	}
	return d.failSince.Add(d.cfg.OutageAfter), true
}

// Observe takes one successful poll: the accounts and their judgements (parallel slices)
// at time now, and returns the events it caused, at most one per kind.
func (d *Detector) Observe(now time.Time, accounts []model.Account, js []model.Judgement) []Event {
	return d.ObserveUnchanged(now, accounts, JudgementsOf(js), Unchanged{})
}

// Judgements gives the judgement of account i of a poll. The pointer is good until the
// next call: a source may judge again on demand rather than keep every judgement.
type Judgements func(i int) *model.Judgement

// JudgementsOf gives the judgements of a slice, parallel to the accounts.
func JudgementsOf(js []model.Judgement) Judgements {
	return func(i int) *model.Judgement { return &js[i] }
}

// Unchanged says what a poll shares with the one before it: Same, that it lists the same
// storage keys in the same order; then Fresh[i] is false for an account judged exactly
// as in the last poll (its stored value did not change and nothing about it came due).
type Unchanged struct {
	Same  bool
	Fresh []bool
}

// ObserveUnchanged is Observe told which accounts cannot have changed: those it counts in
// their groups and asks the projector about, without reading their account or
// judgement again. At 100,000 accounts, reading them all was a sixth of the monitor's CPU.
func (d *Detector) ObserveUnchanged(now time.Time, accounts []model.Account, js Judgements, u Unchanged) []Event {
	var out []Event
	if d.failing {
		if d.announced {
			since := now.Sub(d.failSince)
			out = append(out, Event{Time: now, Kind: KindStorage, Severity: Resolved,
				Summary: "storage reachable again after " + model.FormatAge(since),
				Storage: &StorageChange{Since: d.failSince, For: since}})
		}
		d.failing, d.announced, d.lastErr = false, false, ""
	}
	d.gen++
	hold := d.cfg.Hold
	var states []AccountChange
	var windows, dries []WindowChange
	for _, g := range d.groups {
		g.schedulable, g.total = 0, 0
	}
	quietOK := u.Same && len(u.Fresh) == len(accounts) && len(d.ids) == len(accounts)
	sameOrder := quietOK || slices.EqualFunc(accounts, d.ids, func(a model.Account, id int64) bool { return a.ID == id })
	dryOn := d.cfg.Projector != nil && d.cfg.DryHorizon > 0
	if !sameOrder {
		d.ids, d.tracks = d.ids[:0], d.tracks[:0]
	}
	for i := range accounts {
		if quietOK && !u.Fresh[i] {
			if t := d.tracks[i]; t.seen != d.gen && t.quiet() {
				t.seen = d.gen
				dries = d.quietPoll(now, t, i, accounts, js, dryOn, dries)
				continue
			}
		}
		a, j := &accounts[i], js(i)
		var t *accountTrack
		known := true
		if sameOrder {
			t = d.tracks[i]
		} else if t, known = d.accounts[a.ID]; !known {
			t = &accountTrack{}
			d.accounts[a.ID] = t
			t.state.shown = int8(j.State.Severity())
		}
		if !sameOrder {
			d.ids, d.tracks = append(d.ids, a.ID), append(d.tracks, t)
		}
		// A second key with the same ID (flagged on screen) is counted in its groups but
		// not observed twice: one track per ID.
		dup := t.seen == d.gen
		t.seen = d.gen
		if dup {
			t.shared = true // its buckets may be the other key's: never quiet again
			d.count(t, a, j)
			continue
		}
		if from, ok := t.state.observe(int8(j.State.Severity()), hold); ok {
			states = append(states, AccountChange{ID: a.ID, Name: model.Sanitize(a.DisplayName()), From: model.States[from], To: j.State, Reasons: j.Reasons})
		}
		for w := range j.Windows {
			wj := &j.Windows[w]
			over := d.cfg.WarnPercent > 0 && wj.Present && !wj.Reset && wj.UsedPercent >= d.cfg.WarnPercent
			if !known {
				t.warn[w].shown = over
			} else if _, ok := t.warn[w].observe(over, hold); ok {
				windows = append(windows, WindowChange{ID: a.ID, Name: model.Sanitize(a.DisplayName()), Window: wj.Name, Up: over, UsedPercent: wj.UsedPercent})
			}
			if !dryOn {
				continue
			}
			if ttd, changed := d.observeDry(&t.dry[w], Schedulable(j.State), Schedulable(model.States[t.state.shown]), !known, a.ID, w, now); changed {
				dries = append(dries, WindowChange{ID: a.ID, Name: model.Sanitize(a.DisplayName()), Window: wj.Name, Up: t.dry[w].shown, UsedPercent: wj.UsedPercent, TimeToDry: ttd})
			}
		}
		d.count(t, a, j)
	}
	if !sameOrder { // else every track was seen
		for id, t := range d.accounts {
			if t.seen != d.gen {
				delete(d.accounts, id) // gone from the storage: a return starts a new baseline
			}
		}
	}
	var groups []GroupChange
	for k, g := range d.groups {
		if g.seen != d.gen {
			delete(d.groups, k)
			continue
		}
		level := d.level(g.schedulable)
		if g.level.shown == "" {
			g.level.shown = level
			continue
		}
		if from, ok := g.level.observe(level, hold); ok {
			groups = append(groups, GroupChange{ID: k.ID, Platform: model.Sanitize(k.Platform), From: from, To: level, Schedulable: g.schedulable, Total: g.total, Floor: d.cfg.GroupFloor})
		}
	}
	if len(states) > 0 {
		out = append(out, stateEvent(now, states))
	}
	if len(groups) > 0 {
		out = append(out, groupEvent(now, groups))
	}
	if len(windows) > 0 {
		out = append(out, windowEvent(now, KindWindow, windows, d.cfg.WarnPercent))
	}
	if len(dries) > 0 {
		out = append(out, windowEvent(now, KindDry, dries, 0))
	}
	return out
}

// observeDry observes whether window w of account id is projected to run dry soon on its
// track (at baseline it only notes it) and returns the projection and whether the track
// changed. Only an account the gateway schedules can run dry. One it no longer schedules
// (sched: this poll's state; shownSched: the state its events have reported) had its
// state change event, so its track ends without one of its own: "no longer projected to
// run dry" said of an account that has just paused read as good news. While a new state
// waits out its hold, the track waits too.
func (d *Detector) observeDry(track *damped[bool], sched, shownSched, baseline bool, id int64, w int, now time.Time) (time.Duration, bool) {
	switch {
	case !shownSched:
		*track = damped[bool]{}
		return 0, false
	case !sched:
		return 0, false
	}
	ttd, ok := d.cfg.Projector.TimeToDry(id, model.WindowNames[w], now)
	soon := d.drySoon(track.shown, ok, ttd)
	if baseline {
		track.shown = soon
		return ttd, false
	}
	_, changed := track.observe(soon, d.cfg.Hold)
	return ttd, changed
}

// drySoon says whether a projected time to dry (ok: there is one) counts as soon: within
// the horizon, or for a window already reported within half as much again. A rate that
// wobbles around the horizon (the demo's did, by a few minutes a poll) would otherwise
// raise and resolve the same warning poll after poll.
func (d *Detector) drySoon(shown, ok bool, ttd time.Duration) bool {
	limit := d.cfg.DryHorizon
	if shown {
		limit += limit / 2
	}
	return ok && ttd <= limit
}

// quiet reports whether no change of state or warn level is waiting out its hold: then an
// account judged as last poll sees exactly what it saw then.
func (t *accountTrack) quiet() bool {
	return !t.shared && t.state.count == 0 && t.warn[0].count == 0 && t.warn[1].count == 0
}

// quietPoll observes account i, judged exactly as last poll and with nothing waiting:
// only its projection can have moved, and its groups count it as before.
func (d *Detector) quietPoll(now time.Time, t *accountTrack, i int, accounts []model.Account, js Judgements, dryOn bool, dries []WindowChange) []WindowChange {
	sched := Schedulable(model.States[t.state.shown])
	if dryOn {
		for w := range t.dry {
			// Judged as last poll with nothing waiting: the state is the one shown.
			if ttd, changed := d.observeDry(&t.dry[w], sched, sched, false, d.ids[i], w, now); changed {
				a, wj := &accounts[i], &js(i).Windows[w]
				dries = append(dries, WindowChange{ID: a.ID, Name: model.Sanitize(a.DisplayName()), Window: wj.Name, Up: t.dry[w].shown, UsedPercent: wj.UsedPercent, TimeToDry: ttd})
			}
		}
	}
	for _, g := range t.buckets {
		if g.seen != d.gen {
			g.seen, g.schedulable, g.total = d.gen, 0, 0
		}
		g.total++
		if sched {
			g.schedulable++
		}
	}
	return dries
}

// count adds the account to its groups' totals.
func (d *Detector) count(t *accountTrack, a *model.Account, j *model.Judgement) {
	sched := Schedulable(j.State)
	for _, g := range d.bucketsOf(t, a) {
		if g.seen != d.gen {
			g.seen, g.schedulable, g.total = d.gen, 0, 0
		}
		g.total++
		if sched {
			g.schedulable++
		}
	}
}

// bucketsOf is the account's group tracks, looked up again only when its platform or
// groups changed. A cached track is never one deleted since: a group with a member this
// poll is seen this poll.
func (d *Detector) bucketsOf(t *accountTrack, a *model.Account) []*groupTrack {
	if t.buckets != nil && t.platform == a.Platform && slices.Equal(t.groupIDs, a.GroupIDs) {
		return t.buckets
	}
	t.platform, t.groupIDs, t.buckets = a.Platform, slices.Clone(a.GroupIDs), t.buckets[:0]
	GroupKeys(a, func(k GroupKey) {
		g := d.groups[k]
		if g == nil {
			g = &groupTrack{}
			d.groups[k] = g
		}
		if !slices.Contains(t.buckets, g) {
			t.buckets = append(t.buckets, g)
		}
	})
	return t.buckets
}

func (d *Detector) level(schedulable int) GroupLevel {
	switch {
	case schedulable == 0:
		return GroupZero
	case schedulable <= d.cfg.GroupFloor:
		return GroupFloor
	}
	return GroupOK
}

// listed is how many items a summary names before it says "and N more".
const listed = 3

func stateEvent(now time.Time, ch []AccountChange) Event {
	slices.SortFunc(ch, func(a, b AccountChange) int { return cmp.Compare(a.ID, b.ID) })
	sev := Resolved
	byState := map[model.State]int{}
	for _, c := range ch {
		byState[c.To]++
		switch c.To {
		case model.StateOK:
		case model.StateWarn, model.StateStaleProbe: // still served, or about to be probed
			if sev == Resolved {
				sev = Warning
			}
		default:
			sev = Critical
		}
	}
	var summary string
	if len(ch) == 1 {
		summary = "account " + describeChange(ch[0])
	} else {
		var parts []string
		for _, s := range model.States {
			if n := byState[s]; n > 0 {
				parts = append(parts, fmt.Sprintf("%d now %s", n, s))
			}
		}
		var names []string
		for _, c := range ch[:min(len(ch), listed)] {
			names = append(names, describeChange(c))
		}
		summary = fmt.Sprintf("%d accounts changed state (%s): %s%s", len(ch), strings.Join(parts, ", "), strings.Join(names, "; "), more(len(ch)))
	}
	return Event{Time: now, Kind: KindState, Severity: sev, Summary: summary, Accounts: ch}
}

func describeChange(c AccountChange) string {
	s := fmt.Sprintf("#%d %s %s → %s", c.ID, c.Name, c.From, c.To)
	if len(c.Reasons) > 0 {
		rs := make([]string, len(c.Reasons))
		for i, r := range c.Reasons {
			rs[i] = string(r)
		}
		s += " (" + strings.Join(rs, ", ") + ")"
	}
	return s
}

func more(n int) string {
	if n <= listed {
		return ""
	}
	return fmt.Sprintf("; and %d more", n-listed)
}

func groupEvent(now time.Time, ch []GroupChange) Event {
	slices.SortFunc(ch, func(a, b GroupChange) int {
		return cmp.Or(cmp.Compare(a.ID, b.ID), cmp.Compare(a.Platform, b.Platform))
	})
	sev := Resolved
	var parts []string
	for _, c := range ch {
		switch c.To {
		case GroupZero:
			sev = Critical
		case GroupFloor:
			if sev != Critical {
				sev = Warning
			}
		}
		word := map[GroupLevel]string{GroupZero: "has no schedulable account", GroupFloor: "is at its floor", GroupOK: "recovered"}[c.To]
		name := fmt.Sprintf("group %d", c.ID)
		if c.Platform != "" {
			name += " " + c.Platform
		}
		parts = append(parts, fmt.Sprintf("%s %s (%d of %d schedulable)", name, word, c.Schedulable, c.Total))
	}
	return Event{Time: now, Kind: KindGroup, Severity: sev, Summary: strings.Join(parts, "; "), Groups: ch}
}

// windows is "1 window" or "3 windows".
func windows(n int) string {
	if n == 1 {
		return "1 window"
	}
	return fmt.Sprintf("%d windows", n)
}

func windowEvent(now time.Time, kind Kind, ch []WindowChange, warn float64) Event {
	slices.SortFunc(ch, func(a, b WindowChange) int {
		return cmp.Or(cmp.Compare(a.ID, b.ID), cmp.Compare(a.Window, b.Window))
	})
	up := 0
	for _, c := range ch {
		if c.Up {
			up++
		}
	}
	sev := Resolved
	if up > 0 {
		sev = Warning
	}
	var head []string
	down := len(ch) - up
	if kind == KindDry {
		if up > 0 {
			head = append(head, windows(up)+" projected to run dry soon")
		}
		if down > 0 {
			head = append(head, windows(down)+" no longer projected to run dry soon")
		}
	} else {
		level := "the " + model.FormatPercent(warn) + " warn level"
		if up > 0 {
			head = append(head, windows(up)+" crossed "+level)
		}
		if down > 0 && up > 0 {
			head = append(head, fmt.Sprintf("%d fell back under it", down))
		} else if down > 0 {
			head = append(head, windows(down)+" fell back under "+level)
		}
	}
	var names []string
	for _, c := range ch[:min(len(ch), listed)] {
		s := fmt.Sprintf("#%d %s %s %s", c.ID, c.Name, c.Window, model.FormatPercent(c.UsedPercent))
		if kind == KindDry && c.Up {
			s += " dry in " + model.FormatAge(c.TimeToDry)
		}
		names = append(names, s)
	}
	return Event{Time: now, Kind: kind, Severity: sev,
		Summary: strings.Join(head, ", ") + ": " + strings.Join(names, "; ") + more(len(ch)), Windows: ch}
}
