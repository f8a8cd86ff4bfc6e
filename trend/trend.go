// Package trend says where each account and group is heading: the burn rate of every
// quota window from its recent samples, the use projected at the window's reset, when it
// crosses its pause threshold, and how many accounts each group can still schedule in the
// hours ahead. It is pure like model: samples and the clock come in, projections go out.
package trend

import (
	"time"

	"github.com/quotatop/quotatop/model"
)

// Sample is one observed snapshot of an account: what a poll saw when the snapshot
// changed. The history store keeps them; the projections read them.
type Sample struct {
	// At is the snapshot time (codex_usage_updated_at), or the poll time when the
	// snapshot carries none.
	At      time.Time
	Present [2]bool
	Used    [2]float64   // used percent per window
	ResetAt [2]time.Time // effective reset time per window; zero when unknown
	State   model.State
}

// SampleOf is the sample an account's current snapshot gives, judged as j; false when it
// carries no snapshot.
func SampleOf(a *model.Account, j model.Judgement, now time.Time) (Sample, bool) {
	return sampleOf(a, &j, now)
}

// sampleOf is SampleOf without copying the judgement.
func sampleOf(a *model.Account, j *model.Judgement, now time.Time) (Sample, bool) {
	if a.Quota == nil {
		return Sample{}, false
	}
	s := Sample{At: now, State: j.State}
	if a.Quota.HasUpdatedAt {
		s.At = a.Quota.UpdatedAt
	}
	for i := range j.Windows {
		w := &j.Windows[i]
		s.Present[i], s.Used[i], s.ResetAt[i] = w.Present, w.UsedPercent, w.ResetAt
	}
	return s, true
}

// Same reports whether two samples say the same thing (time, use and reset of both
// windows), so only changes are kept.
func (s Sample) Same(o Sample) bool {
	if !s.At.Equal(o.At) || s.Present != o.Present || s.Used != o.Used || s.State != o.State {
		return false
	}
	return s.ResetAt[0].Equal(o.ResetAt[0]) && s.ResetAt[1].Equal(o.ResetAt[1])
}

// Options are the knobs of the projections. DefaultOptions gives the documented values.
type Options struct {
	// Span is how far back from the newest sample the rate is measured.
	Span time.Duration
	// MinSpan is the least time between the first and last sample of a rate.
	MinSpan time.Duration
	// StaleAfter marks a projection whose newest sample is at least this old.
	StaleAfter time.Duration
	// SameReset is how far two reset times may differ and still name the same window
	// (reset times derived from reset_after_seconds move by a second or two).
	SameReset time.Duration
	// Horizons are the look-aheads of the group projections.
	Horizons [3]time.Duration
	// Ahead bounds the search for a group's dry time.
	Ahead time.Duration
	// UnusedWithin and UnusedPercent flag a window resetting within that time with at
	// least that many percentage points left below its pause point.
	UnusedWithin  time.Duration
	UnusedPercent float64
}

// DefaultOptions: a one-hour rate from samples at least five minutes apart, +1/+2/+5 h
// group projections, dry times up to a week ahead, unused quota as 50 points left within
// 3 h of a reset.
func DefaultOptions() Options {
	return Options{Span: time.Hour, MinSpan: 5 * time.Minute, StaleAfter: 30 * time.Minute, SameReset: 2 * time.Minute,
		Horizons: [3]time.Duration{time.Hour, 2 * time.Hour, 5 * time.Hour}, Ahead: 7 * 24 * time.Hour,
		UnusedWithin: 3 * time.Hour, UnusedPercent: 50}
}

// Status says what a window's projection could be built from.
type Status string

// Window projection statuses.
const (
	StatusNone    Status = "none"    // the window is not reported
	StatusReset   Status = "reset"   // its reset passed: the old numbers say nothing
	StatusNoData  Status = "no_data" // not enough history for a rate
	StatusRate    Status = "rate"    // a rate and a projection
	StatusCrossed Status = "crossed" // already at or over its pause point
)

// Window is one window's projection.
type Window struct {
	Status Status
	// Target is the percent at which the gateway pauses the account for this window:
	// the effective threshold, else 100 (upstream refuses at 100 % anyway).
	Target float64
	// TargetFromThreshold says Target came from a threshold rather than the 100 % cap.
	TargetFromThreshold bool
	Used                float64
	ResetAt             time.Time
	// Rate is percent per hour over the measured span (StatusRate only).
	Rate float64
	// Span is the time the rate was measured over.
	Span time.Duration
	// Projected is the use at ResetAt at this rate (StatusRate with a known reset).
	Projected    float64
	HasProjected bool
	// PauseAt is when the use crosses Target, if that comes before the reset; zero
	// otherwise. A crossing already past is clamped to now on a fresh snapshot and
	// dropped on a stale one.
	PauseAt time.Time
	// Unused says the window resets soon with most of its quota left.
	Unused bool
	// Left is Target minus the projected (or current) use at the reset, in points.
	Left float64
	// Points are the samples of the current window, oldest first, for a sparkline.
	Points []Point
}

// Point is one use reading of a window.
type Point struct {
	At   time.Time
	Used float64
}

// Forecast is one account's projection.
type Forecast struct {
	Windows [2]Window
	// PauseAt is the earliest window crossing, zero when none is due before a reset.
	PauseAt time.Time
	// Stale says the newest sample is old: the projection extrapolates old data.
	Stale bool
}

// Project builds an account's forecast from its samples (any order of windows, oldest
// first) and its current snapshot as judged at now. The current snapshot counts as the
// newest sample, so an empty history still yields the current facts.
func Project(a *model.Account, j model.Judgement, samples []Sample, p model.Policy, o Options, now time.Time) Forecast {
	var f Forecast
	project(&f, a, &j, samples, p, o, now, nil)
	return f
}

// project is Project into f, a zero Forecast, cutting the points from slab when given.
func project(f *Forecast, a *model.Account, j *model.Judgement, samples []Sample, p model.Policy, o Options, now time.Time, slab *[]Point) {
	cur, ok := sampleOf(a, j, now)
	if !ok {
		for i := range f.Windows {
			f.Windows[i].Status = StatusNone
		}
		return
	}
	f.Stale = j.Stale || now.Sub(cur.At) >= o.StaleAfter
	pts := windowPoints(j, cur, samples, o, slab)
	for i := range j.Windows {
		projectWindow(&f.Windows[i], a, p, j, i, cur, pts[i], f.Stale, o, now)
		if t := f.Windows[i].PauseAt; !t.IsZero() && (f.PauseAt.IsZero() || t.Before(f.PauseAt)) {
			f.PauseAt = t
		}
	}
}

// projectWindow fills w, a zero Window, from window i's judgement and its points.
func projectWindow(w *Window, a *model.Account, p model.Policy, j *model.Judgement, i int, cur Sample, points []Point, stale bool, o Options, now time.Time) {
	wj := &j.Windows[i]
	w.Used, w.ResetAt, w.Target = wj.UsedPercent, wj.ResetAt, 100
	// The same threshold the judgement applies; an exempt window or none pauses nowhere
	// short of upstream's own 100 %.
	if pct, ok := model.PausePoint(a, p, j, i); ok && pct < 100 {
		w.Target, w.TargetFromThreshold = pct, true
	} else if ok {
		w.TargetFromThreshold = true
	}
	switch {
	case !wj.Present:
		w.Status = StatusNone
		return
	case wj.Reset:
		w.Status = StatusReset
		return
	}
	w.Points = points
	w.Left = w.Target - w.Used
	if w.Used >= w.Target {
		w.Status = StatusCrossed
		w.Left = 0
		return
	}
	w.Status = StatusNoData
	if rate, span, ok := rateOf(w.Points, o); ok {
		w.Status, w.Rate, w.Span = StatusRate, rate, span
		if !w.ResetAt.IsZero() {
			w.Projected = w.Used + rate*w.ResetAt.Sub(cur.At).Hours()
			w.HasProjected = true
			w.Left = max(w.Target-w.Projected, 0)
		}
		if rate > 0 {
			at := cur.At.Add(time.Duration((w.Target - w.Used) / rate * float64(time.Hour)))
			// A crossing already past on a fresh snapshot is due now; on a stale one it
			// never happened: the snapshot would have moved (sub2api refreshes it with
			// every request), so the account has been idle since.
			if (w.ResetAt.IsZero() || at.Before(w.ResetAt)) && (!stale || at.After(now)) {
				w.PauseAt = later(at, now)
			}
		}
	}
	w.Unused = !w.ResetAt.IsZero() && w.ResetAt.Sub(now) <= o.UnusedWithin && w.Left >= o.UnusedPercent
}

// later of two times.
func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// windowPoints are, for each window that is reported and has not reset, the readings of
// the current window (the same reset time as the current snapshot), oldest first, ending
// with the current one. A reading lower than the one after it cannot belong to the same
// use (a healed snapshot, a quiet reset), so the series restarts after it. Both windows
// are read in one pass and share one allocation (or the slab's).
func windowPoints(j *model.Judgement, cur Sample, samples []Sample, o Options, slab *[]Point) (out [2][]Point) {
	var need [2]bool
	n := 0
	for i := range j.Windows {
		if need[i] = j.Windows[i].Present && !j.Windows[i].Reset; need[i] {
			n += len(samples) + 1
		}
	}
	if n == 0 {
		return out
	}
	buf := take(slab, n)
	var pts [2][]Point
	for i, off := 0, 0; i < len(pts); i++ {
		if need[i] {
			pts[i] = buf[off : off : off+len(samples)+1]
			off += len(samples) + 1
		}
	}
	for k := range samples {
		s := &samples[k]
		if !s.At.Before(cur.At) {
			continue
		}
		for i := range pts {
			if need[i] && s.Present[i] && sameReset(s.ResetAt[i], cur.ResetAt[i], o.SameReset) {
				pts[i] = append(pts[i], Point{At: s.At, Used: s.Used[i]})
			}
		}
	}
	for i := range pts {
		if !need[i] {
			continue
		}
		p := append(pts[i], Point{At: cur.At, Used: cur.Used[i]})
		for k := len(p) - 1; k > 0; k-- {
			if p[k-1].Used > p[k].Used+readingSlack {
				p = p[k:]
				break
			}
		}
		out[i] = p[:len(p):len(p)] // an append must not run into the next window's
	}
	return out
}

// readingSlack is how far a reading may lie above the one after it and still count as the
// same use: the history's resolution. It keeps percents to hundredths, so the stored
// sample of the current snapshot can read up to half a hundredth more than the snapshot
// itself (the demo's 86.1875 % came back as 86.19 %), and that cut every series to the
// current reading alone until the use grew past it. A whole hundredth leaves room for
// the float arithmetic at exactly half.
const readingSlack = 0.01

// slabPoints is how many points ProjectAll allocates at a time.
const slabPoints = 4096

// take is an empty slice with room for n points, cut from slab (a fresh one when nil).
func take(slab *[]Point, n int) []Point {
	if slab == nil {
		return make([]Point, 0, n)
	}
	if cap(*slab)-len(*slab) < n {
		*slab = make([]Point, 0, max(n, slabPoints))
	}
	s := *slab
	*slab = s[:len(s)+n]
	return s[len(s) : len(s) : len(s)+n]
}

func sameReset(a, b time.Time, tol time.Duration) bool {
	if a == b {
		// The usual case, and the same answer as below without Sub's overflow check.
		return tol >= 0
	}
	d := a.Sub(b)
	return d <= tol && d >= -tol
}

// rateOf is the use gained per hour between the first reading of the span and the last.
// Readings are cumulative, so the end points carry the whole span's information.
func rateOf(pts []Point, o Options) (rate float64, span time.Duration, ok bool) {
	if len(pts) < 2 {
		return 0, 0, false
	}
	last := pts[len(pts)-1]
	first := -1
	for k := range pts {
		if span = last.At.Sub(pts[k].At); span <= o.Span {
			first = k
			break
		}
	}
	if first < 0 || first == len(pts)-1 {
		return 0, 0, false
	}
	if span < o.MinSpan {
		return 0, 0, false
	}
	return (last.Used - pts[first].Used) / span.Hours(), span, true
}
