package trend

import (
	"math"
	"testing"
	"time"

	"github.com/quotatop/quotatop/model"
)

var now = time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)

// account is an OpenAI account whose 5h window reads used at the snapshot taken age ago,
// resetting at reset, with the account's own 5h threshold (0 = none).
func account(age time.Duration, used, threshold float64, reset time.Time) *model.Account {
	return &model.Account{ID: 7, Platform: "openai", Status: "active", Schedulable: true, GroupIDs: []int64{3},
		Quota: &model.Quota{UpdatedAt: now.Add(-age), HasUpdatedAt: true, Windows: [2]model.WindowSnapshot{
			{Present: true, UsedPercent: used, Threshold: threshold, ResetAt: reset, HasResetAt: !reset.IsZero()},
			{Present: true, UsedPercent: 10, ResetAt: now.Add(100 * time.Hour), HasResetAt: true},
		}}}
}

// history is 5h readings at the given minutes before now, all in the window ending at reset.
func history(reset time.Time, points ...[2]float64) []Sample {
	var out []Sample
	for _, p := range points {
		out = append(out, Sample{At: now.Add(-time.Duration(p[0]) * time.Minute), Present: [2]bool{true, true},
			Used: [2]float64{p[1], 10}, ResetAt: [2]time.Time{reset, now.Add(100 * time.Hour)}})
	}
	return out
}

func TestProject(t *testing.T) {
	reset := now.Add(3 * time.Hour)
	gateway := model.DefaultPolicy()
	gateway.DefaultThreshold = [2]float64{0.8, 0}
	cases := []struct {
		name      string
		a         *model.Account
		samples   []Sample
		p         model.Policy
		status    Status
		rate      float64
		projected float64 // NaN: none
		pauseIn   time.Duration
		target    float64
		stale     bool
		unused    bool
	}{
		{"steady rate crosses the account threshold before the reset",
			account(0, 50, 0.95, reset), history(reset, [2]float64{60, 30}, [2]float64{30, 40}), model.DefaultPolicy(),
			StatusRate, 20, 110, 135 * time.Minute, 95, false, false},
		{"rate zero never crosses",
			account(0, 50, 0.95, reset), history(reset, [2]float64{60, 50}, [2]float64{30, 50}), model.DefaultPolicy(),
			StatusRate, 0, 50, 0, 95, false, false},
		{"a crossing after the reset is no pause",
			account(0, 50, 0.95, now.Add(time.Hour)), history(now.Add(time.Hour), [2]float64{60, 40}), model.DefaultPolicy(),
			StatusRate, 10, 60, 0, 95, false, false},
		{"a reset in between wipes the old window's rate",
			account(0, 5, 0.95, reset), history(now.Add(-10*time.Minute), [2]float64{60, 70}, [2]float64{20, 90}), model.DefaultPolicy(),
			StatusNoData, 0, math.NaN(), 0, 95, false, true},
		{"samples closer than 5 minutes are not enough",
			account(0, 50, 0.95, reset), history(reset, [2]float64{4, 49}), model.DefaultPolicy(),
			StatusNoData, 0, math.NaN(), 0, 95, false, false},
		{"samples older than the span are not used",
			account(0, 50, 0.95, reset), history(reset, [2]float64{90, 10}), model.DefaultPolicy(),
			StatusNoData, 0, math.NaN(), 0, 95, false, false},
		{"stale data projects but says so; a crossing it says is past never happened",
			account(50*time.Minute, 90, 0.95, reset), history(reset, [2]float64{110, 70}), model.DefaultPolicy(),
			StatusRate, 20, 90 + 20*(3+50.0/60), 0, 95, true, false},
		{"stale data with a crossing ahead keeps it",
			account(40*time.Minute, 60, 0.95, reset), history(reset, [2]float64{100, 50}), model.DefaultPolicy(),
			StatusRate, 10, 60 + 10*(3+40.0/60), 170 * time.Minute, 95, true, false},
		{"a fresh snapshot whose crossing is past is due now",
			account(20*time.Minute, 90, 0.95, reset), history(reset, [2]float64{80, 60}), model.DefaultPolicy(),
			StatusRate, 30, 90 + 30*(3+20.0/60), 0, 95, false, false},
		{"gateway default threshold when the account has none",
			account(0, 60, 0, reset), history(reset, [2]float64{60, 40}), gateway,
			StatusRate, 20, 120, time.Hour, 80, false, false},
		{"no threshold anywhere: 100 %",
			account(0, 60, 0, reset), history(reset, [2]float64{60, 40}), model.DefaultPolicy(),
			StatusRate, 20, 120, 2 * time.Hour, 100, false, false},
		{"an exempt window pauses only at 100 %",
			func() *model.Account { a := account(0, 60, 0.8, reset); a.Quota.Windows[0].Disabled = true; return a }(), history(reset, [2]float64{60, 40}), model.DefaultPolicy(),
			StatusRate, 20, 120, 2 * time.Hour, 100, false, false},
		{"a window over 100 % has crossed",
			account(0, 130, 0, reset), history(reset, [2]float64{60, 100}), model.DefaultPolicy(),
			StatusCrossed, 0, math.NaN(), 0, 100, false, false},
		{"quota left at a near reset is unused",
			account(0, 10, 0.95, now.Add(2*time.Hour)), history(now.Add(2*time.Hour), [2]float64{60, 5}), model.DefaultPolicy(),
			StatusRate, 5, 20, 0, 95, false, true},
		{"no history still has the facts",
			account(0, 50, 0.95, reset), nil, model.DefaultPolicy(),
			StatusNoData, 0, math.NaN(), 0, 95, false, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			j := model.Judge(c.a, c.p, now)
			f := Project(c.a, j, c.samples, c.p, DefaultOptions(), now)
			w := f.Windows[0]
			if w.Status != c.status || math.Abs(w.Rate-c.rate) > 1e-9 || w.Target != c.target || f.Stale != c.stale || w.Unused != c.unused {
				t.Fatalf("got status %s rate %v target %v stale %v unused %v; want %s %v %v %v %v", w.Status, w.Rate, w.Target, f.Stale, w.Unused,
					c.status, c.rate, c.target, c.stale, c.unused)
			}
			if math.IsNaN(c.projected) != !w.HasProjected || (w.HasProjected && math.Abs(w.Projected-c.projected) > 1e-6) {
				t.Fatalf("projected %v (%v), want %v", w.Projected, w.HasProjected, c.projected)
			}
			var pauseIn time.Duration
			if !w.PauseAt.IsZero() {
				pauseIn = w.PauseAt.Sub(now)
			}
			if pauseIn != c.pauseIn || !f.PauseAt.Equal(w.PauseAt) {
				t.Fatalf("pause in %v (account %v), want %v", pauseIn, f.PauseAt, c.pauseIn)
			}
		})
	}
}

func TestProjectEdges(t *testing.T) {
	// An account without a snapshot has nothing to project.
	f := Project(&model.Account{ID: 1}, model.Judgement{}, nil, model.DefaultPolicy(), DefaultOptions(), now)
	if f.Windows[0].Status != StatusNone || !f.PauseAt.IsZero() {
		t.Fatalf("no snapshot: %+v", f)
	}
	// A window whose reset passed says so.
	a := account(time.Hour, 90, 0.95, now.Add(-time.Minute))
	if f := Project(a, model.Judge(a, model.DefaultPolicy(), now), nil, model.DefaultPolicy(), DefaultOptions(), now); f.Windows[0].Status != StatusReset {
		t.Fatalf("reset window: %s", f.Windows[0].Status)
	}
	// A healed snapshot (use dropped within the same window) restarts the series.
	reset := now.Add(3 * time.Hour)
	a = account(0, 12, 0.95, reset)
	f = Project(a, model.Judge(a, model.DefaultPolicy(), now), history(reset, [2]float64{50, 99}, [2]float64{40, 99}, [2]float64{20, 2}), model.DefaultPolicy(), DefaultOptions(), now)
	if w := f.Windows[0]; w.Status != StatusRate || w.Rate != 30 || len(w.Points) != 2 {
		t.Fatalf("healed: %+v", w)
	}
	// The history's copy of the current snapshot, a whole second earlier and rounded to
	// hundredths (86.1875 % kept as 86.19 %), is the same use, not a drop: the series and
	// its rate stay.
	a = account(1500*time.Millisecond, 86.1875, 0.95, reset)
	samples := history(reset, [2]float64{40, 80}, [2]float64{20, 83})
	samples = append(samples, Sample{At: now.Add(-2 * time.Second), Present: [2]bool{true, true},
		Used: [2]float64{86.19, 10}, ResetAt: [2]time.Time{reset, now.Add(100 * time.Hour)}})
	f = Project(a, model.Judge(a, model.DefaultPolicy(), now), samples, model.DefaultPolicy(), DefaultOptions(), now)
	if w := f.Windows[0]; w.Status != StatusRate || len(w.Points) != 4 || w.Rate < 9 {
		t.Fatalf("the rounded copy of the current snapshot cut the series: %s, %d points, rate %v", w.Status, len(w.Points), w.Rate)
	}
}

func TestGroups(t *testing.T) {
	p := model.DefaultPolicy()
	reset := now.Add(4 * time.Hour)
	mk := func(id int64, groups []int64, used float64, hist []Sample, mod func(*model.Account)) Member {
		a := account(0, used, 0.95, reset)
		a.ID, a.GroupIDs = id, groups
		if mod != nil {
			mod(a)
		}
		j := model.Judge(a, p, now)
		f := Project(a, j, hist, p, DefaultOptions(), now)
		return Member{Account: a, Judgement: &j, Forecast: &f}
	}
	members := []Member{
		// Group 3: one account pauses in 1h, one in 1h30, one is blocked for 3h.
		mk(1, []int64{3}, 75, history(reset, [2]float64{60, 55}), nil),                                               // +20/h: pauses in 1h
		mk(2, []int64{3, 4}, 65, history(reset, [2]float64{60, 45}), nil),                                            // +20/h: pauses in 1h30
		mk(3, []int64{3}, 10, nil, func(a *model.Account) { a.EditBlocks().OverloadUntil = now.Add(3 * time.Hour) }), // back at +3h
		// Group 4: one more account that never pauses.
		mk(4, []int64{4}, 10, history(reset, [2]float64{60, 10}), nil),
		// Ungrouped, paused now until its reset at +4h.
		mk(5, nil, 99, nil, nil),
	}
	// A group's accounts of another platform are another bucket.
	members = append(members, Member{Account: &model.Account{ID: 9, Platform: "anthropic", Status: "active", Schedulable: true, GroupIDs: []int64{3}},
		Judgement: &model.Judgement{State: model.StateOK}, Forecast: &Forecast{}})
	groups := Groups(members, p, DefaultOptions(), now)
	if len(groups) != 4 || groups[2].ID != 3 || groups[2].Platform != "anthropic" || groups[2].Schedulable != 1 || groups[1].Platform != "openai" {
		t.Fatalf("groups: %+v", groups)
	}
	g0, g3, g4 := groups[0], groups[1], groups[3]
	if g0.ID != 0 || g3.ID != 3 || g4.ID != 4 {
		t.Fatalf("order by dry time: %d %d %d", g0.ID, g3.ID, g4.ID)
	}
	if g0.Accounts != 1 || g0.Schedulable != 0 || g0.Paused != 1 || !g0.DryAt.Equal(now) || g0.Projected != [3]int{0, 0, 1} {
		t.Fatalf("ungrouped: %+v", g0)
	}
	if g3.Accounts != 3 || g3.Schedulable != 2 || g3.Blocked != 1 || !g3.DryAt.Equal(now.Add(90*time.Minute)) || g3.Projected != [3]int{1, 0, 3} {
		t.Fatalf("group 3: %+v", g3)
	}
	if g4.Accounts != 2 || g4.Schedulable != 2 || !g4.DryAt.IsZero() || g4.Projected != [3]int{2, 1, 2} {
		t.Fatalf("group 4: %+v", g4)
	}
	if g, ok := EarliestDry(groups); !ok || g.ID != 0 {
		t.Fatalf("earliest dry: %+v", g)
	}
}

// A Counter follows a projection's groups as accounts change state: its counts are what
// a new projection counts, its look ahead stays, and it gives up when the groups
// themselves changed or one ran dry or came back.
func TestCounter(t *testing.T) {
	p := model.DefaultPolicy()
	reset := now.Add(4 * time.Hour)
	var accounts []model.Account
	for id := int64(1); id <= 5; id++ {
		a := account(0, 10, 0.95, reset)
		a.ID, a.GroupIDs = id, []int64{3}
		accounts = append(accounts, *a)
	}
	accounts[3].GroupIDs = []int64{3, 4}
	accounts[4].GroupIDs = nil // ungrouped: group 0
	judge := func() []model.Judgement {
		js := make([]model.Judgement, len(accounts))
		for i := range accounts {
			js[i] = model.Judge(&accounts[i], p, now)
		}
		return js
	}
	groupsOf := func(js []model.Judgement) []Group {
		ms := make([]Member, len(accounts))
		fs := make([]Forecast, len(accounts))
		for i := range accounts {
			fs[i] = Project(&accounts[i], js[i], nil, p, DefaultOptions(), now)
			ms[i] = Member{Account: &accounts[i], Judgement: &js[i], Forecast: &fs[i]}
		}
		return Groups(ms, p, DefaultOptions(), now)
	}
	js := judge()
	groups := groupsOf(js)
	c := NewCounter(groups, accounts, js)
	counts := func(g Group) [5]int { return [5]int{int(g.ID), g.Accounts, g.Schedulable, g.Paused, g.Blocked} }
	// of is the judgements of the accounts listed in fresh, as Update takes them.
	of := func(js []model.Judgement, fresh []int32) []model.Judgement {
		var out []model.Judgement
		for _, i := range fresh {
			out = append(out, js[i])
		}
		return out
	}

	// Account 1 pauses, account 2 is blocked, account 3 is unchanged: group 3 loses
	// two schedulable accounts, groups 4 and 0 are as they were.
	accounts[0].Quota.Windows[0].UsedPercent = 99
	accounts[1].EditBlocks().OverloadUntil = now.Add(time.Hour)
	js = judge()
	got, ok := c.Update(accounts, []int32{0, 1, 2}, of(js, []int32{0, 1, 2}))
	if !ok {
		t.Fatal("the counter gave up on plain state changes")
	}
	want := groupsOf(js)
	if len(got) != len(want) {
		t.Fatalf("%d groups, a projection has %d", len(got), len(want))
	}
	for i := range want {
		if counts(got[i]) != counts(want[i]) {
			t.Errorf("group %d: counted %v, projected %v", want[i].ID, counts(got[i]), counts(want[i]))
		}
		if got[i].Projected != groups[i].Projected || !got[i].DryAt.Equal(groups[i].DryAt) {
			t.Errorf("group %d: the look ahead moved: %+v, was %+v", want[i].ID, got[i], groups[i])
		}
	}
	if groups[1].ID != 3 || groups[1].Schedulable != 4 {
		t.Fatalf("the projection's groups were written to: %+v", groups)
	}
	// Account 1 comes back: counted again from where the last update left it.
	accounts[0].Quota.Windows[0].UsedPercent = 10
	js = judge()
	if got, ok = c.Update(accounts, []int32{0}, of(js, []int32{0})); !ok || counts(got[1]) != counts(groupsOf(js)[1]) {
		t.Fatalf("after account 1 came back: %v %v, projected %v", ok, got, groupsOf(js))
	}

	// Group 0's only account pauses: the group runs dry, which only a projection dates.
	c = NewCounter(groupsOf(js), accounts, js)
	accounts[4].Quota.Windows[0].UsedPercent = 99
	if _, ok := c.Update(accounts, []int32{4}, of(judge(), []int32{4})); ok {
		t.Error("the counter kept a group that ran dry")
	}
	accounts[4].Quota.Windows[0].UsedPercent = 10
	// An account moves to a group the projection has not seen.
	// An account moves between known groups, and back: it is counted where it is.
	accounts[2].GroupIDs = []int64{3}
	js = judge()
	c = NewCounter(groupsOf(js), accounts, js)
	for _, to := range [][]int64{{4}, {3, 4}, {3}} {
		accounts[2].GroupIDs = to
		js = judge()
		got, ok := c.Update(accounts, []int32{2}, of(js, []int32{2}))
		if want := groupsOf(js); !ok || len(got) != len(want) {
			t.Fatalf("moved to %v: %v %v", to, ok, got)
		}
		for i, w := range groupsOf(js) {
			if counts(got[i]) != counts(w) {
				t.Errorf("moved to %v: group %d counted %v, projected %v", to, w.ID, counts(got[i]), counts(w))
			}
		}
	}
	accounts[2].GroupIDs = []int64{5}
	if _, ok := c.Update(accounts, []int32{2}, of(judge(), []int32{2})); ok {
		t.Error("the counter kept counting an account that joined a group it has not seen")
	}
	if _, ok := c.Update(accounts, nil, of(judge(), nil)); ok {
		t.Error("a counter that gave up answered again")
	}
}
