package main

import (
	"sync"
	"time"

	"github.com/quotatop/quotatop/events"
	"github.com/quotatop/quotatop/model"
	"github.com/quotatop/quotatop/trend"
)

// dryProjector gives `watch`'s --dry-horizon and time-to-pause metric their projections:
// the pipeline's Project hook projects each good poll from the history, and TimeToDry
// (forecastProjector's) answers from the latest one. Accounts the gateway no longer
// schedules are not projected: a paused one has its state change event instead. Like
// the live monitor, a poll projects only the accounts judged afresh, and the whole fleet
// again when trend.RefreshAfter says: projecting 100,000 accounts every poll cost a
// third of a core.
type dryProjector struct {
	hist *historyFile
	// record hands each poll to the history too: `watch` has no screen doing it.
	record bool
	forecastProjector
	fullAt   time.Time // when every account was last projected
	fullTook time.Duration
	buf      []trend.Sample
}

// project is the pipeline's Project hook.
func (d *dryProjector) project(p model.Policy, now time.Time, accounts []model.Account, js events.Judgements, u events.Unchanged) {
	partial := u.Same && len(u.Fresh) == len(accounts) && !d.fullAt.IsZero() && now.Sub(d.fullAt) < trend.RefreshAfter(d.fullTook)
	if !partial {
		if d.record {
			d.hist.Record(accounts, p, now)
		}
		started := time.Now()
		pauses := make(map[int64][2]time.Time)
		for i := range accounts {
			if at, ok := d.pausesOf(&accounts[i], js(i), p, now); ok {
				pauses[accounts[i].ID] = at
			}
		}
		d.PauseTimes(pauses)
		d.fullAt, d.fullTook = now, time.Since(started)
		return
	}
	var fresh []int32
	for i, f := range u.Fresh {
		if f {
			fresh = append(fresh, int32(i))
		}
	}
	if d.record {
		d.hist.RecordChanged(accounts, fresh, p, now)
	}
	patch := make(map[int64][2]time.Time, len(fresh))
	for _, i := range fresh {
		at, _ := d.pausesOf(&accounts[i], js(int(i)), p, now)
		patch[accounts[i].ID] = at // a zero one clears the account's
	}
	d.PatchPauseTimes(patch)
}

// pausesOf projects an account the gateway still schedules: its windows' crossing
// times, false when none is due.
func (d *dryProjector) pausesOf(a *model.Account, j *model.Judgement, p model.Policy, now time.Time) ([2]time.Time, bool) {
	if a.Invalid != "" || (j.State != model.StateOK && j.State != model.StateWarn) {
		return [2]time.Time{}, false
	}
	d.buf = d.hist.AppendSamples(d.buf[:0], a.ID)
	f := trend.Project(a, *j, d.buf, p, trend.DefaultOptions(), now)
	if f.PauseAt.IsZero() {
		return [2]time.Time{}, false
	}
	return [2]time.Time{f.Windows[0].PauseAt, f.Windows[1].PauseAt}, true
}

// forecastProjector answers from the live monitor's own projections, handed over by each
// poll before its events are detected, so the poll projects once for the screen and the
// events.
type forecastProjector struct {
	mu     sync.Mutex
	pauses map[int64][2]time.Time // per window, the accounts with a crossing due
}

// PauseTimes takes a poll's projected crossing times (tui.ForecastSink).
func (f *forecastProjector) PauseTimes(m map[int64][2]time.Time) {
	f.mu.Lock()
	f.pauses = m
	f.mu.Unlock()
}

// PatchPauseTimes takes a partial projection's (tui.ForecastSink).
func (f *forecastProjector) PatchPauseTimes(m map[int64][2]time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.pauses == nil {
		f.pauses = make(map[int64][2]time.Time, len(m))
	}
	for id, at := range m {
		if at == ([2]time.Time{}) {
			delete(f.pauses, id)
		} else {
			f.pauses[id] = at
		}
	}
}

// TimeToDry is how long until the window crosses its pause point, as last projected.
func (f *forecastProjector) TimeToDry(id int64, w model.WindowName, now time.Time) (time.Duration, bool) {
	f.mu.Lock()
	at := f.pauses[id]
	f.mu.Unlock()
	t := at[0]
	if w == model.Window7d {
		t = at[1]
	}
	if t.IsZero() {
		return 0, false
	}
	return max(t.Sub(now), 0), true
}
