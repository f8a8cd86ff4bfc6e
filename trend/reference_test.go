package trend

import (
	"cmp"
	"slices"
	"time"

	"github.com/quotatop/quotatop/model"
)

// The projections as first written, kept as the reference the faster ones must equal
// value for value (see TestProjectionsEqualReference).

func refSchedulable(m *Member, p model.Policy, t time.Time) bool {
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

func refTimeline(m *Member, p model.Policy, now, until time.Time, was bool) []change {
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
		if t.Before(now) {
			t = now
		}
		if is := refSchedulable(m, p, t); is != was {
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

func refGroups(members []Member, p model.Policy, o Options, now time.Time) []Group {
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
	for k := range members {
		m := &members[k]
		if m.Account.Invalid != "" {
			continue
		}
		s := m.Judgement.State
		changes := refTimeline(m, p, now, until, s == model.StateOK || s == model.StateWarn)
		for _, id := range refGroupIDs(m.Account.GroupIDs) {
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

func refGroupIDs(ids []int64) []int64 {
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

func refProject(a *model.Account, j model.Judgement, samples []Sample, p model.Policy, o Options, now time.Time) Forecast {
	var f Forecast
	cur, ok := SampleOf(a, j, now)
	if !ok {
		for i := range f.Windows {
			f.Windows[i].Status = StatusNone
		}
		return f
	}
	f.Stale = j.Stale || now.Sub(cur.At) >= o.StaleAfter
	for i, wj := range j.Windows {
		f.Windows[i] = refProjectWindow(a, p, &j, i, wj, cur, samples, f.Stale, o, now)
		if t := f.Windows[i].PauseAt; !t.IsZero() && (f.PauseAt.IsZero() || t.Before(f.PauseAt)) {
			f.PauseAt = t
		}
	}
	return f
}

func refProjectWindow(a *model.Account, p model.Policy, j *model.Judgement, i int, wj model.WindowJudgement, cur Sample, samples []Sample, stale bool, o Options, now time.Time) Window {
	w := Window{Used: wj.UsedPercent, ResetAt: wj.ResetAt, Target: 100}
	if pct, ok := model.PausePoint(a, p, j, i); ok && pct < 100 {
		w.Target, w.TargetFromThreshold = pct, true
	} else if ok {
		w.TargetFromThreshold = true
	}
	switch {
	case !wj.Present:
		w.Status = StatusNone
		return w
	case wj.Reset:
		w.Status = StatusReset
		return w
	}
	w.Points = refWindowPoints(i, cur, samples, o)
	w.Left = w.Target - w.Used
	if w.Used >= w.Target {
		w.Status = StatusCrossed
		w.Left = 0
		return w
	}
	w.Status = StatusNoData
	if rate, span, ok := refRateOf(w.Points, o); ok {
		w.Status, w.Rate, w.Span = StatusRate, rate, span
		if !w.ResetAt.IsZero() {
			w.Projected = w.Used + rate*w.ResetAt.Sub(cur.At).Hours()
			w.HasProjected = true
			w.Left = max(w.Target-w.Projected, 0)
		}
		if rate > 0 {
			at := cur.At.Add(time.Duration((w.Target - w.Used) / rate * float64(time.Hour)))
			if (w.ResetAt.IsZero() || at.Before(w.ResetAt)) && (!stale || at.After(now)) {
				w.PauseAt = now
				if at.After(now) {
					w.PauseAt = at
				}
			}
		}
	}
	w.Unused = !w.ResetAt.IsZero() && w.ResetAt.Sub(now) <= o.UnusedWithin && w.Left >= o.UnusedPercent
	return w
}

func refWindowPoints(i int, cur Sample, samples []Sample, o Options) []Point {
	pts := make([]Point, 0, len(samples)+1)
	for _, s := range samples {
		d := s.ResetAt[i].Sub(cur.ResetAt[i])
		if !s.Present[i] || !s.At.Before(cur.At) || d > o.SameReset || d < -o.SameReset {
			continue
		}
		pts = append(pts, Point{At: s.At, Used: s.Used[i]})
	}
	pts = append(pts, Point{At: cur.At, Used: cur.Used[i]})
	for k := len(pts) - 1; k > 0; k-- {
		if pts[k-1].Used-pts[k].Used > 0.01 { // the history's resolution
			return pts[k:]
		}
	}
	return pts
}

func refRateOf(pts []Point, o Options) (rate float64, span time.Duration, ok bool) {
	if len(pts) < 2 {
		return 0, 0, false
	}
	last := pts[len(pts)-1]
	first := -1
	for k, p := range pts {
		if last.At.Sub(p.At) <= o.Span {
			first = k
			break
		}
	}
	if first < 0 || first == len(pts)-1 {
		return 0, 0, false
	}
	span = last.At.Sub(pts[first].At)
	if span < o.MinSpan {
		return 0, 0, false
	}
	return (last.Used - pts[first].Used) / span.Hours(), span, true
}
