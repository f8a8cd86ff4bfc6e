package tui

import (
	"strconv"
	"time"

	"github.com/quotatop/quotatop/model"
	"github.com/quotatop/quotatop/trend"
)

// History is the sample store as the monitor needs it (package history implements it):
// each poll is handed over without waiting, and the recent samples feed the projections.
type History interface {
	Record(accounts []model.Account, p model.Policy, now time.Time)
	AppendSamples(dst []trend.Sample, id int64) []trend.Sample
	// Note is one sentence about a problem with the history, "" when there is none.
	Note() string
}

// trends are one poll's projections: per account (by ID) and per group.
type trends struct {
	forecasts map[int64]*trend.Forecast
	groups    []trend.Group
	note      string
}

// project records a poll and projects it from its judgements (js, parallel to
// accounts). It runs inside the poll's command, off the UI loop: 10,000 accounts take a
// few milliseconds.
func project(h History, accounts []model.Account, js []model.Judgement, p model.Policy, now time.Time) *trends {
	t := &trends{forecasts: make(map[int64]*trend.Forecast, len(accounts))}
	if h != nil {
		h.Record(accounts, p, now)
		t.note = h.Note()
	}
	o := trend.DefaultOptions()
	// One allocation each rather than one per account: fewer objects for the collector.
	members := make([]trend.Member, len(accounts))
	fs := make([]trend.Forecast, len(accounts))
	for i := range accounts {
		a := &accounts[i]
		t.forecasts[a.ID] = &fs[i]
		members[i] = trend.Member{Account: a, Judgement: &js[i], Forecast: &fs[i]}
	}
	var samples trend.SampleSource
	if h != nil {
		samples = h.AppendSamples
	}
	trend.ProjectAll(members, samples, p, o, now)
	t.groups = trend.Groups(members, p, o, now)
	return t
}

// judgeAll judges a poll where no event pipeline does (tests and embedders without one).
func judgeAll(accounts []model.Account, p model.Policy, now time.Time) []model.Judgement {
	js := make([]model.Judgement, len(accounts))
	for i := range accounts {
		js[i] = model.Judge(&accounts[i], p, now)
	}
	return js
}

// setTrends takes a poll's projections; a new problem with the history is said once on
// the message line (it stays in the group and detail views).
func (m *Model) setTrends(t *trends) {
	if t == nil {
		return // this poll did not project: the last projections stand
	}
	if t.note != "" && (m.trends == nil || m.trends.note != t.note) {
		m.say(t.note)
	}
	m.fleet.SetTrends(t, m.ctx.Now)
	m.trends = t
}

// schedulable is what the ETA column and the pause sort look at: a time to pause means
// something only for an account the gateway still schedules.
func schedulable(s model.State) bool { return s == model.StateOK || s == model.StateWarn }

// pauseIn is the time until the row's account pauses, false when none is due.
func pauseIn(r *row, now time.Time) (time.Duration, bool) {
	if r.f == nil || r.f.PauseAt.IsZero() || !schedulable(r.j.State) {
		return 0, false
	}
	return max(r.f.PauseAt.Sub(now), 0), true
}

// unusedLeft is the most quota left at a near reset among an account's windows, 0 if
// none; state is the account's.
func unusedLeft(e *entry, state model.State) float64 {
	if e.f == nil || !schedulable(state) {
		return 0
	}
	left := 0.0
	for _, w := range e.f.Windows {
		if w.Unused {
			left = max(left, w.Left)
		}
	}
	return left
}

// bucketOf names a group and platform: sub2api schedules per both.
func bucketOf(id int64, platform string) string { return platform + "/" + strconv.FormatInt(id, 10) }

// pauseAt is when an account in state is projected to pause, noTime when none is due.
func pauseAt(e *entry, state model.State) int64 {
	if e.f == nil || e.f.PauseAt.IsZero() || !schedulable(state) {
		return noTime
	}
	return e.f.PauseAt.UnixNano()
}

// dryAtOf is when the first of the account's groups runs dry, noTime when none is due.
func (f *Fleet) dryAtOf(r *entry) int64 {
	best := int64(noTime)
	ids := r.acc.GroupIDs
	if len(ids) == 0 {
		ids = []int64{0}
	}
	for _, id := range ids {
		if at, ok := f.dryAt[bucketOf(id, r.acc.Platform)]; ok {
			best = min(best, at.UnixNano())
		}
	}
	return best
}

// trendSums fills summary i's projection keys from its entry; state is its account's.
func (f *Fleet) trendSums(i int, state model.State) {
	e := &f.rows[i]
	f.sums[i].pause, f.sums[i].dry, f.sums[i].unused = pauseAt(e, state), f.dryAtOf(e), float32(unusedLeft(e, state))
}

// SetTrends attaches a poll's projections to the rows and re-sorts; rows keep them
// across ticks until the next poll.
func (f *Fleet) SetTrends(t *trends, now time.Time) {
	if t == nil {
		return
	}
	f.dryAt = make(map[string]time.Time, len(t.groups))
	for _, g := range t.groups {
		if !g.DryAt.IsZero() {
			f.dryAt[bucketOf(g.ID, g.Platform)] = g.DryAt
		}
	}
	for i := range f.rows {
		f.rows[i].f = t.forecasts[f.rows[i].acc.ID]
		f.trendSums(i, model.States[f.sums[i].severity])
	}
	f.rebuild(now)
}

// A projection moves slowly: its times are absolute, so a few seconds old it still reads
// right. It is made again after projectBudget times what the last one took, capped at
// projectEvery: a small fleet is projected every poll, 10,000 accounts (about 15 ms)
// every 15 s, 100,000 every 30 s. What does not wait is a change of state (an account
// paused or back): the group counts must follow it, so it is projected after a sixth of
// that wait. At 100,000 accounts, projecting every poll was 40 % of the live monitor's CPU.
const (
	projectEvery  = 30 * time.Second
	projectBudget = 1000 // a tenth of a percent of a core
)

// projectDue says whether the next poll projects.
func (m *Model) projectDue() bool {
	wait := min(projectEvery, projectBudget*m.projectTook)
	if m.fleet.stateChanges != m.projectedStates {
		wait /= 6
	}
	return m.trends == nil || m.ctx.Now.Sub(m.projectedAt) >= wait
}
