package trend

import (
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/quotatop/quotatop/model"
)

// variedFleet is n accounts of every kind the projections tell apart, with their samples:
// paused, blocked until a time inside and past the look-ahead, resetting soon, stale,
// without a timestamp, expiring, rate limited per model (more changes than a timeline
// follows), with reset credits or a local quota, other platforms, undecodable values,
// and groups large and small, overlapping, repeated, or none.
func variedFleet(r *rand.Rand, n int, now time.Time) ([]*model.Account, [][]Sample) {
	pick := func(ds ...time.Duration) time.Duration { return ds[r.IntN(len(ds))] }
	at := func(ds ...time.Duration) time.Time { return now.Add(pick(ds...)) }
	groups := [][]int64{nil, {0}, {1}, {1, 2}, {2, 2, -1}, {3}, {2, 3, 4}, {5}, {-4}}
	accounts := make([]*model.Account, n)
	samples := make([][]Sample, n)
	for i := range n {
		a := &model.Account{ID: int64(i + 1), Platform: "openai", Type: "oauth", Status: "active", Schedulable: true,
			GroupIDs: groups[r.IntN(len(groups))]}
		accounts[i] = a
		if r.IntN(3) == 0 {
			a.GroupIDs = append(a.GroupIDs, int64(100+i/6)) // small groups, which run dry
		}
		switch r.IntN(20) {
		case 0:
			a.Status = "inactive"
		case 1:
			a.Status = "error"
		case 2:
			a.Schedulable = false
		case 3:
			a.Invalid = "bad json"
		}
		if r.IntN(4) == 0 {
			a.EditBlocks().OverloadUntil = at(-time.Hour, 10*time.Minute, 90*time.Minute, 4*time.Hour, 200*time.Hour)
		}
		if r.IntN(6) == 0 {
			a.EditBlocks().RateLimitResetAt = at(30*time.Minute, 2*time.Hour, 3*time.Hour, 9*24*time.Hour)
		}
		if r.IntN(8) == 0 {
			a.EditBlocks().TempUnschedulableUntil = at(time.Minute, time.Hour, 6*time.Hour)
		}
		if r.IntN(10) == 0 {
			a.AutoPauseOnExpired, a.EditBlocks().ExpiresAt = true, at(-time.Minute, 45*time.Minute, 5*time.Hour, 30*time.Hour)
		}
		if r.IntN(15) == 0 {
			// more changes ahead than a timeline follows
			for k := range 40 {
				// and an overload ending after the last one followed
				a.EditBlocks().OverloadUntil = now.Add(time.Duration(k+1) * 7 * time.Minute).Add(time.Duration(r.IntN(3)) * time.Hour)
				a.EditBlocks().ModelLimits = append(a.Block().ModelLimits, model.ModelLimit{Model: "m", ResetAt: now.Add(time.Duration(k+1) * 7 * time.Minute)})
			}
		}
		switch r.IntN(12) {
		case 0: // no snapshot
			continue
		case 1:
			a.Platform, a.Quota = "anthropic", nil
			a.ProviderUsage = &model.ProviderUsage{Provider: "anthropic", Windows: [2]model.ProviderWindow{
				{HasUsed: true, UsedPercent: float64(r.IntN(100)), ResetAt: at(20*time.Minute, 3*time.Hour), HasResetAt: true},
				{HasUsed: true, UsedPercent: float64(r.IntN(100)), ResetAt: at(50*time.Hour, 8*24*time.Hour), HasResetAt: true}}}
			continue
		case 2:
			a.Type = "apikey"
			a.LocalQuota = &model.LocalQuota{Daily: model.QuotaPeriod{Limit: 10, Used: float64(r.IntN(15)),
				Start: now.Add(-pick(time.Hour, 20*time.Hour)), Fixed: r.IntN(2) == 0, ResetHour: r.IntN(24)}}
		}
		age := pick(0, -5*time.Minute, 10*time.Minute, 50*time.Minute, 119*time.Minute, 2*time.Hour, 3*time.Hour)
		q := &model.Quota{UpdatedAt: now.Add(-age), HasUpdatedAt: r.IntN(10) != 0}
		a.Quota = q
		thresholds := []float64{0, 0.8, 0.9, 0.95, 1, 0.333}
		resets := [2][]time.Duration{
			{-10 * time.Minute, 5 * time.Minute, 40 * time.Minute, 2 * time.Hour, 3 * time.Hour, 290 * time.Minute},
			{-time.Hour, 6 * time.Hour, 50 * time.Hour, 100 * time.Hour, 160 * time.Hour, 200 * time.Hour}}
		for w := range q.Windows {
			if r.IntN(10) == 0 {
				continue
			}
			ws := &q.Windows[w]
			ws.Present, ws.HasUsed = true, true
			ws.UsedPercent = float64(r.IntN(1100)) / 10
			ws.Threshold = thresholds[r.IntN(len(thresholds))]
			ws.ThresholdNaN = r.IntN(30) == 0
			ws.Disabled = r.IntN(12) == 0
			reset := now.Add(pick(resets[w]...))
			switch r.IntN(5) {
			case 0:
				ws.ResetAfterSeconds = int(reset.Sub(q.UpdatedAt) / time.Second)
			case 1: // unknown
			default:
				ws.ResetAt, ws.HasResetAt = reset, true
			}
			if r.IntN(3) == 0 {
				ws.SchedResetAt, ws.HasSchedResetAt = reset, true
			}
		}
		if r.IntN(8) == 0 {
			q.AutoReset = &model.AutoReset{Legacy: true, Card: &model.CardState{Status: "available", AvailableCount: 1,
				CheckedAt: now.Add(-pick(time.Minute, 8*time.Minute, time.Hour)), HasCheckedAt: true}}
		}
		if r.IntN(6) == 0 {
			continue // no history
		}
		// An hour or two of readings climbing at some rate, some from the window before or
		// healed (a drop), some out of order of spacing.
		rate := float64(r.IntN(60)) - 5
		for m := pick(130*time.Minute, 70*time.Minute, 20*time.Minute); m > 0; m -= pick(time.Minute, 5*time.Minute, 10*time.Minute, 17*time.Minute) {
			t := q.UpdatedAt.Add(-m)
			s := Sample{At: t, Present: [2]bool{q.Windows[0].Present, q.Windows[1].Present}}
			for w := range q.Windows {
				ws := &q.Windows[w]
				s.Used[w] = max(ws.UsedPercent-rate*m.Hours(), 0)
				s.ResetAt[w] = ws.ResetAt
				if !ws.HasResetAt {
					s.ResetAt[w] = time.Time{}
				}
				switch r.IntN(25) {
				case 0:
					s.ResetAt[w] = s.ResetAt[w].Add(-5 * time.Hour) // the window before
				case 1:
					s.Used[w] = 100 // healed since
				case 2:
					s.ResetAt[w] = s.ResetAt[w].Add(time.Minute) // a reset time that moved a little
				}
			}
			samples[i] = append(samples[i], s)
		}
	}
	return accounts, samples
}

// The projections equal the reference (the first, simple way of computing them) for a
// varied fleet under several policies, options and clocks: every forecast and every
// group, times and floats included.
func TestProjectionsEqualReference(t *testing.T) {
	gateway := model.DefaultPolicy()
	gateway.DefaultThreshold = [2]float64{0.8, 0.9}
	gateway.SchedulingThresholds = map[string]float64{"openai": 90, "anthropic": 70}
	gateway.MissingTimestampStale = true
	gateway.AutoResetLegacy7dOnly = true
	short := DefaultOptions()
	short.Ahead, short.Horizons = 3*time.Hour, [3]time.Duration{10 * time.Minute, time.Hour, 4 * time.Hour}
	clocks := []time.Time{now, time.Now()} // the second carries a monotonic reading
	for seed := range uint64(6) {
		r := rand.New(rand.NewPCG(seed, 1))
		p := []model.Policy{model.DefaultPolicy(), gateway}[seed%2]
		o := []Options{DefaultOptions(), short, DefaultOptions()}[seed%3]
		clock := clocks[seed/3%2]
		n := []int{50, 400, 2500}[seed%3] // small, and past parallelFrom
		accounts, samples := variedFleet(r, n, clock)
		members, ref := make([]Member, n), make([]Member, n)
		js, fs, refFs := make([]model.Judgement, n), make([]Forecast, n), make([]Forecast, n)
		for i, a := range accounts {
			js[i] = model.Judge(a, p, clock)
			if a.Quota == nil && a.ProviderUsage == nil && i%2 == 0 {
				js[i] = model.Judgement{State: model.StateOK} // as a caller may pass it
			}
			members[i] = Member{Account: a, Judgement: &js[i], Forecast: &fs[i]}
			refFs[i] = refProject(a, js[i], samples[i], p, o, clock)
			ref[i] = Member{Account: a, Judgement: &js[i], Forecast: &refFs[i]}
			if f := Project(a, js[i], samples[i], p, o, clock); !reflect.DeepEqual(f, refFs[i]) {
				t.Fatalf("seed %d account %d: Project\n%+v\nwant\n%+v", seed, a.ID, f, refFs[i])
			}
		}
		ProjectAll(members, func(dst []Sample, id int64) []Sample { return append(dst, samples[id-1]...) }, p, o, clock)
		for i := range fs {
			if !reflect.DeepEqual(fs[i], refFs[i]) {
				t.Fatalf("seed %d account %d: ProjectAll\n%+v\nwant\n%+v", seed, i+1, fs[i], refFs[i])
			}
		}
		// Forecasts made some other way: crossings after their reset, long past, far
		// ahead, or at one of the account's own change points.
		for i := range fs {
			if r.IntN(8) != 0 && len(accounts[i].Block().ModelLimits) == 0 {
				continue
			}
			w := &fs[i].Windows[r.IntN(2)]
			w.PauseAt = clock.Add(time.Duration(r.IntN(600)-60) * time.Minute)
			if r.IntN(4) == 0 {
				w.PauseAt = clock.Add(time.Duration(r.IntN(40)+1) * 7 * time.Minute)
			}
			w.ResetAt = []time.Time{{}, w.PauseAt.Add(-time.Hour), w.PauseAt.Add(time.Hour), w.PauseAt}[r.IntN(4)]
			refFs[i] = fs[i]
		}
		// Every timeline, whole and cut at some instant then continued.
		until := clock.Add(o.Ahead)
		for i := range members {
			m, was := &members[i], schedulableState(js[i].State)
			want := refTimeline(m, p, clock, until, was)
			s := span{p: p, now: clock, split: clock.Add(time.Duration(r.Int64N(int64(o.Ahead)))), until: until}
			// or exactly at a crossing or a change point
			if at := m.Forecast.Windows[0].PauseAt; r.IntN(3) == 0 && !at.Before(clock) && !at.After(until) {
				s.split = at
			} else if at := model.NextChange(m.Account, p, clock); r.IntN(2) == 0 && !at.IsZero() && !at.After(until) {
				s.split = at
			}
			got := s.timeline(&scratch{}, nil, m, was, until, false)
			head := s.timeline(&scratch{}, nil, m, was, s.split, false)
			if len(head) > 0 {
				was = head[len(head)-1].delta > 0
			}
			cut := s.timeline(&scratch{}, head, m, was, until, true)
			if (len(got) > 0 || len(want) > 0) && (!reflect.DeepEqual(got, want) || !reflect.DeepEqual(cut, want)) {
				t.Fatalf("seed %d account %d: timeline\n%+v\ncut at %v\n%+v\nwant\n%+v", seed, i+1, got, s.split, cut, want)
			}
		}
		got, want := Groups(members, p, o, clock), refGroups(ref, p, o, clock)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("seed %d: groups\n%+v\nwant\n%+v", seed, got, want)
		}
		var dry, paused, rising int
		for _, g := range want {
			if !g.DryAt.IsZero() && g.DryAt.After(clock) {
				dry++
			}
			if g.Projected[2] != g.Schedulable {
				rising++
			}
		}
		for _, f := range refFs {
			if !f.PauseAt.IsZero() {
				paused++
			}
		}
		if n >= 400 && (paused == 0 || rising == 0 || dry == 0) {
			t.Fatalf("seed %d: the fleet does not exercise the timelines (%d pausing, %d groups changing, %d running dry)", seed, paused, rising, dry)
		}
		t.Logf("seed %d: %d accounts, %d pausing, %d groups, %d running dry ahead, %d changing", seed, n, paused, len(want), dry, rising)
	}
}

// Past the last horizon a group runs dry only when its members are down together: ones
// down at different times keep it up, ones down at once (or one back at the instant
// another goes) are told apart.
func TestGroupsPastTheHorizons(t *testing.T) {
	p := model.DefaultPolicy()
	var members []Member
	// down [from, to) hours from now, by a projected 7d crossing until the window resets
	add := func(group int64, down ...[2]int) {
		for _, d := range down {
			a := account(0, 10, 0.95, now.Add(3*time.Hour))
			a.ID, a.GroupIDs = int64(len(members)+1), []int64{group}
			a.Quota.Windows[1].ResetAt = now.Add(time.Duration(d[1]) * time.Hour)
			j := model.Judge(a, p, now)
			f := Project(a, j, nil, p, DefaultOptions(), now)
			f.Windows[1].PauseAt = now.Add(time.Duration(d[0]) * time.Hour)
			members = append(members, Member{Account: a, Judgement: &j, Forecast: &f})
		}
	}
	add(50, [2]int{10, 20}, [2]int{30, 40})
	add(51, [2]int{10, 20}, [2]int{15, 25})
	add(52, [2]int{10, 20}, [2]int{20, 30})
	add(53, [2]int{10, 20}, [2]int{15, 25}, [2]int{18, 19})
	add(54, [2]int{10, 20}, [2]int{15, 25}, [2]int{30, 40})
	add(55, [2]int{10, 20}, [2]int{15, 25}, [2]int{16, 26}, [2]int{30, 40}, [2]int{12, 17})
	groups := Groups(members, p, DefaultOptions(), now)
	if want := refGroups(members, p, DefaultOptions(), now); !reflect.DeepEqual(groups, want) {
		t.Fatalf("groups\n%+v\nwant\n%+v", groups, want)
	}
	dry := map[int64]time.Duration{}
	for _, g := range groups {
		if !g.DryAt.IsZero() {
			dry[g.ID] = g.DryAt.Sub(now)
		}
	}
	if want := map[int64]time.Duration{51: 15 * time.Hour, 53: 18 * time.Hour}; !reflect.DeepEqual(dry, want) {
		t.Fatalf("dry at %v, want %v", dry, want)
	}
}
