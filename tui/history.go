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
	// RecordChanged takes a poll; fresh lists the accounts (indexes) that may have
	// changed since the last, which listed the same keys in the same order, nil when
	// that is not known (see Fleet.SetPoll).
	RecordChanged(accounts []model.Account, fresh []int32, p model.Policy, now time.Time)
	AppendSamples(dst []trend.Sample, id int64) []trend.Sample
	// Note is one sentence about a problem with the history, "" when there is none.
	Note() string
}

// trends are one poll's projections: what the table needs per account (by ID) and per
// group. A full forecast is 350 bytes with its sparkline points; the detail view
// projects its one account again instead (forecastOf).
type trends struct {
	outlooks map[int64]outlook
	// pauses are the windows' crossing times of the accounts with one due, for the
	// events' time to dry (ForecastSink).
	pauses map[int64][2]time.Time
	groups []trend.Group
	note   string
	// partial says this is projectFresh's: outlooks and pauses hold only the accounts
	// that changed (a zero value clears one), fresh lists them (indexes into the poll's
	// accounts), and groups are nil when they could not be recounted.
	partial bool
	fresh   []int32
	// counter keeps a full projection's groups counted for the partial ones after it.
	counter *trend.Counter
}

// outlook is what the table keeps of an account's projection, for the ETA column and the
// pause and unused sorts. Accounts with neither a pause due nor quota going unused have
// none (the zero outlook).
type outlook struct {
	pause  int64   // earliest crossing in unix ns, 0 when none is due before a reset
	unused float32 // most quota left at a near reset, 0 when none goes unused
	stale  bool    // projected from stale data
}

// outlookOf keeps what the table shows of a forecast.
func outlookOf(f *trend.Forecast) outlook {
	o := outlook{stale: f.Stale}
	if !f.PauseAt.IsZero() {
		o.pause = f.PauseAt.UnixNano()
	}
	for _, w := range f.Windows {
		if w.Unused {
			o.unused = max(o.unused, float32(w.Left))
		}
	}
	return o
}

// project records a poll (fresh as History.RecordChanged has it) and projects it from
// its judgements (js, parallel to accounts). It runs inside the poll's command, off the UI loop: 10,000 accounts take a
// few milliseconds.
func project(h History, accounts []model.Account, fresh []int32, js []model.Judgement, p model.Policy, now time.Time) *trends {
	t := &trends{outlooks: map[int64]outlook{}, pauses: map[int64][2]time.Time{}}
	if h != nil {
		h.RecordChanged(accounts, fresh, p, now)
		t.note = h.Note()
	}
	o := trend.DefaultOptions()
	// One allocation each rather than one per account: fewer objects for the collector.
	members := make([]trend.Member, len(accounts))
	fs := make([]trend.Forecast, len(accounts))
	for i := range accounts {
		members[i] = trend.Member{Account: &accounts[i], Judgement: &js[i], Forecast: &fs[i]}
	}
	var samples trend.SampleSource
	if h != nil {
		samples = h.AppendSamples
	}
	trend.ProjectAll(members, samples, p, o, now)
	t.groups = trend.Groups(members, p, o, now)
	t.counter = trend.NewCounter(t.groups, accounts, js)
	for i := range fs {
		f, id := &fs[i], accounts[i].ID
		if ol := outlookOf(f); ol.pause != 0 || ol.unused != 0 {
			t.outlooks[id] = ol
		}
		if w := f.Windows; !w[0].PauseAt.IsZero() || !w[1].PauseAt.IsZero() {
			t.pauses[id] = [2]time.Time{w[0].PauseAt, w[1].PauseAt}
		}
	}
	return t
}

// projectFresh records a poll and projects only what changed since the last: the
// accounts listed in fresh, and the groups' counts now (by the last full projection's
// counter). The look ahead of the rest stands until the
// next full projection (projectDue): at 100,000 accounts a full one costs about half a
// second of CPU, and a few accounts change every poll.
func projectFresh(h History, accounts []model.Account, fresh []int32, judgement func(int) *model.Judgement, counter *trend.Counter, p model.Policy, now time.Time) *trends {
	t := &trends{outlooks: make(map[int64]outlook, len(fresh)), pauses: make(map[int64][2]time.Time, len(fresh)), partial: true, fresh: fresh}
	h.RecordChanged(accounts, fresh, p, now)
	t.note = h.Note()
	members := make([]trend.Member, len(fresh))
	fs := make([]trend.Forecast, len(fresh))
	js := make([]model.Judgement, len(fresh)) // judgement's pointers last one call
	for k, i := range fresh {
		js[k] = *judgement(int(i))
		members[k] = trend.Member{Account: &accounts[i], Judgement: &js[k], Forecast: &fs[k]}
	}
	trend.ProjectAll(members, h.AppendSamples, p, trend.DefaultOptions(), now)
	for k, i := range fresh {
		f, id := &fs[k], accounts[i].ID
		t.outlooks[id] = outlookOf(f)
		t.pauses[id] = [2]time.Time{f.Windows[0].PauseAt, f.Windows[1].PauseAt}
	}
	if counter != nil {
		if groups, ok := counter.Update(accounts, fresh, js); ok {
			t.groups = groups
		}
	}
	return t
}

// forecastOf projects the row's account afresh, in full, for the detail view: nil before
// the first projection, as the table has none either.
func (m Model) forecastOf(r *row) *trend.Forecast {
	if m.trends == nil || m.opts.History == nil {
		return nil
	}
	j := model.Judge(r.acc, m.ctx.Policy, m.ctx.Now)
	f := trend.Project(r.acc, j, m.opts.History.AppendSamples(nil, r.acc.ID), m.ctx.Policy, trend.DefaultOptions(), m.ctx.Now)
	return &f
}

// allJudgements copies a poll's judgements into one slice, for a full projection.
func allJudgements(jd Judged, n int) []model.Judgement {
	js := make([]model.Judgement, n)
	for i := range js {
		js[i] = *jd.Judgement(i)
	}
	return js
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
	if !t.partial {
		m.fleet.SetTrends(t, m.ctx.Now)
		m.trends = t
		return
	}
	if m.trends == nil {
		return // nothing to patch: the next poll projects in full
	}
	for id, o := range t.outlooks {
		if o == (outlook{}) {
			delete(m.trends.outlooks, id)
		} else {
			m.trends.outlooks[id] = o
		}
	}
	m.trends.note = t.note
	if t.groups == nil {
		m.regroup = true
	} else {
		m.trends.groups = t.groups
	}
	m.fleet.PatchTrends(t.fresh, t.outlooks, m.ctx.Now)
}

// schedulable is what the ETA column and the pause sort look at: a time to pause means
// something only for an account the gateway still schedules.
func schedulable(s model.State) bool { return s == model.StateOK || s == model.StateWarn }

// pauseIn is the time until the row's account pauses, false when none is due.
func pauseIn(r *row, now time.Time) (time.Duration, bool) {
	if r.o.pause == 0 || !schedulable(r.j.State) {
		return 0, false
	}
	return max(time.Unix(0, r.o.pause).Sub(now), 0), true
}

// unusedLeft is the most quota left at a near reset among an account's windows, 0 if
// none; state is the account's.
func unusedLeft(e *entry, state model.State) float64 {
	if !schedulable(state) {
		return 0
	}
	return float64(e.o.unused)
}

// bucketOf names a group and platform: sub2api schedules per both.
func bucketOf(id int64, platform string) string { return platform + "/" + strconv.FormatInt(id, 10) }

// pauseAt is when an account in state is projected to pause, noTime when none is due.
func pauseAt(e *entry, state model.State) int64 {
	if e.o.pause == 0 || !schedulable(state) {
		return noTime
	}
	return e.o.pause
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
		f.rows[i].o = t.outlooks[f.rows[i].acc.ID]
		f.trendSums(i, model.States[f.sums[i].severity])
	}
	f.rebuild(now)
}

// takeOutlooks gives the rows of a poll about to be set (SetPoll, with the same fresh)
// the outlooks of a partial projection.
func (f *Fleet) takeOutlooks(fresh []int32, outlooks map[int64]outlook) {
	if len(f.pos) != len(f.rows) {
		return
	}
	for _, i := range fresh {
		if int(i) < len(f.pos) {
			e := &f.rows[f.pos[i]]
			e.o = outlooks[e.acc.ID]
		}
	}
}

// PatchTrends attaches a partial projection (projectFresh's) to the rows of the accounts
// it projected (fresh: indexes into the poll just set) and re-sorts if a sort key moved:
// nothing is left to do when takeOutlooks gave them to the rows before SetPoll, unless
// the rows were made anew.
func (f *Fleet) PatchTrends(fresh []int32, outlooks map[int64]outlook, now time.Time) {
	if len(f.pos) != len(f.rows) {
		return
	}
	f.takeOutlooks(fresh, outlooks)
	changed := false
	for _, i := range fresh {
		if int(i) >= len(f.pos) {
			continue
		}
		n := int(f.pos[i])
		old := f.sums[n]
		f.trendSums(n, model.States[old.severity])
		changed = changed || f.sums[n] != old
	}
	if changed {
		f.settle(now)
	}
}

// projectDue says whether the next poll projects in full (trend.RefreshAfter, counting
// the last one's time on every core it ran on); polls in between project the accounts
// that changed (projectFresh), and a group that appears, empties, runs dry or comes back
// makes the next poll project in full. At 100,000 accounts, projecting every poll was
// 40 % of the live monitor's CPU, and in full after every state change still 30 %.
func (m *Model) projectDue() bool {
	wait := trend.RefreshAfter(m.projectTook * time.Duration(m.cores))
	return m.trends == nil || m.regroup || m.ctx.Now.Sub(m.projectedAt) >= wait
}
