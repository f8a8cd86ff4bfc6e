package main

import (
	"sync"
	"time"

	"github.com/quotatop/quotatop/model"
	"github.com/quotatop/quotatop/trend"
)

// dryProjector gives `watch`'s --dry-horizon and time-to-pause metric their projections:
// the pipeline's Project hook projects each good poll from the history, and TimeToDry
// (forecastProjector's) answers from the latest one. Accounts the gateway no longer
// schedules are not projected: a paused one has its state change event instead.
type dryProjector struct {
	hist *historyFile
	// record hands each poll to the history too: `watch` has no screen doing it.
	record bool
	forecastProjector
}

// project is the pipeline's Project hook.
func (d *dryProjector) project(p model.Policy, now time.Time, accounts []model.Account, js []model.Judgement) {
	if d.record {
		d.hist.Record(accounts, p, now)
	}
	o := trend.DefaultOptions()
	pauses := make(map[int64][2]time.Time)
	var buf []trend.Sample
	for i := range accounts {
		a := &accounts[i]
		if a.Invalid != "" || (js[i].State != model.StateOK && js[i].State != model.StateWarn) {
			continue
		}
		buf = d.hist.AppendSamples(buf[:0], a.ID)
		if f := trend.Project(a, js[i], buf, p, o, now); !f.PauseAt.IsZero() {
			pauses[a.ID] = [2]time.Time{f.Windows[0].PauseAt, f.Windows[1].PauseAt}
		}
	}
	d.PauseTimes(pauses)
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
