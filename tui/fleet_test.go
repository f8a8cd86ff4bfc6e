package tui

import (
	"hash/maphash"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/quotatop/quotatop/model"
	"github.com/quotatop/quotatop/source"
	"github.com/quotatop/quotatop/source/redistest"
)

// dirtyAccounts decodes a dirty fleet the way the remembering reader does, with Revs.
func dirtyAccounts(n int, now time.Time) []model.Account {
	var out []model.Account
	var d source.Decoder
	fleet := redistest.DirtyFleet(n, "sched:", now)
	keys := slices.Sorted(maps.Keys(fleet))
	for _, k := range keys {
		if strings.HasPrefix(k, "sched:meta:") {
			a := d.Decode(k, fleet[k])
			a.Rev = maphash.String(revSeed, fleet[k]) | 1
			out = append(out, a)
		}
	}
	return out
}

var revSeed = maphash.MakeSeed()

// A fleet fed poll after poll, keeping the rows whose values did not change and
// re-judging only the rows that are due, shows what a fleet built afresh shows.
func TestIncrementalFleetMatchesFresh(t *testing.T) {
	p := model.DefaultPolicy()
	now := t0
	base := dirtyAccounts(600, now)
	inc := NewFleet()
	inc.SetAccounts(base, p, now)

	check := func(accounts []model.Account, at time.Time) {
		t.Helper()
		fresh := NewFleet()
		fresh.SetAccounts(slices.Clone(accounts), p, at)
		for sort := range sortKeys {
			inc.sortBy, fresh.sortBy = sort, sort
			inc.rebuild(at)
			fresh.rebuild(at)
			if inc.Len() != fresh.Len() {
				t.Fatalf("sort %d: %d rows, want %d", sort, inc.Len(), fresh.Len())
			}
			for i := range inc.Len() {
				g, w := inc.Row(i), fresh.Row(i)
				if g.acc.ID != w.acc.ID || g.j.State != w.j.State || !slices.Equal(g.j.Reasons, w.j.Reasons) {
					t.Fatalf("sort %d, row %d: got #%d %s %v, want #%d %s %v", sort, i, g.acc.ID, g.j.State, g.j.Reasons, w.acc.ID, w.j.State, w.j.Reasons)
				}
			}
		}
		for _, s := range model.States {
			if inc.Counts()[s] != fresh.Counts()[s] {
				t.Fatalf("%s: %d, want %d", s, inc.Counts()[s], fresh.Counts()[s])
			}
		}
		inc.sortBy = sortSeverity
		inc.rebuild(at)
	}

	// The same values a poll later: nothing is judged again.
	now = now.Add(2 * time.Second)
	same := dirtyAccounts(600, t0)
	inc.SetAccounts(same, p, now)
	for i := range inc.rows {
		if r := inc.rowAt(i); r.j.HasTimestamp && r.j.Age != t0.Sub(r.acc.Quota.UpdatedAt) {
			t.Fatalf("#%d was judged again though its value did not change", r.acc.ID)
		}
	}
	check(same, now)

	// Some values change, some accounts go: those rows are judged again.
	changed := dirtyAccounts(590, t0.Add(-30*time.Minute))
	now = now.Add(2 * time.Second)
	inc.SetAccounts(changed, p, now)
	check(changed, now)

	// Hours pass with no poll: ticks re-judge the rows that are due.
	for range 40 {
		now = now.Add(7 * time.Minute)
		inc.Tick(p, now)
	}
	check(changed, now)
}

// A poll judged under another policy (the gateway's thresholds changed) judges every row
// again, even one whose stored value did not change: rows keep no judgement of their
// own, and must never show one from the policy before.
func TestSetAccountsUnderANewPolicy(t *testing.T) {
	t0 := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	accounts := dirtyAccounts(300, t0)
	p := model.DefaultPolicy()
	f := NewFleet()
	f.SetAccounts(accounts, p, t0)
	strict := p
	strict.DefaultThreshold = [2]float64{0.05, 0.05}
	f.SetAccounts(slices.Clone(accounts), strict, t0.Add(2*time.Second))
	paused := 0
	for i := range f.Total() {
		r := f.rowAt(i)
		want := model.Judge(r.acc, strict, t0.Add(2*time.Second))
		if r.j.State != want.State || !slices.Equal(r.j.Reasons, want.Reasons) {
			t.Fatalf("#%d: %s %v under the new policy, want %s %v", r.acc.ID, r.j.State, r.j.Reasons, want.State, want.Reasons)
		}
		if r.j.State == model.StatePaused {
			paused++
		}
	}
	if before := model.Judge(f.rowAt(0).acc, p, t0); paused == 0 || f.Counts()[model.StatePaused] != paused {
		t.Fatalf("%d paused under a 5%% threshold, counted %d (first row was %s)", paused, f.Counts()[model.StatePaused], before.State)
	}
}

// Told which accounts changed, a poll that lists the same keys judges only those, and
// the fleet reads exactly as one built from scratch: rows, order under every sort, and
// counts. A change that moves no sort key leaves the order as it was.
func TestSetPollMatchesFresh(t *testing.T) {
	t0 := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	p := model.DefaultPolicy()
	first := dirtyAccounts(600, t0)
	inc := NewFleet()
	inc.SetPoll(first, nil, p, t0)

	next := slices.Clone(first)
	var fresh []int32
	for i := 3; i < len(next); i += 97 {
		a := &next[i]
		a.Schedulable, a.Rev = !a.Schedulable, a.Rev+1
		fresh = append(fresh, int32(i))
	}
	now := t0.Add(2 * time.Second)
	inc.SetPoll(next, fresh, p, now)
	want := NewFleet()
	want.SetAccounts(slices.Clone(next), p, now)
	for sort := range sortKeys {
		inc.sortBy, want.sortBy = sort, sort
		inc.rebuild(now)
		want.rebuild(now)
		for i := range want.Len() {
			g, w := inc.Row(i), want.Row(i)
			if g.acc.Key != w.acc.Key || g.j.State != w.j.State || !slices.Equal(g.j.Reasons, w.j.Reasons) || g.search != w.search {
				t.Fatalf("sort %d, row %d: got #%d %s %v, want #%d %s %v", sort, i, g.acc.ID, g.j.State, g.j.Reasons, w.acc.ID, w.j.State, w.j.Reasons)
			}
		}
	}
	for _, s := range model.States {
		if inc.Counts()[s] != want.Counts()[s] {
			t.Fatalf("%s: %d, want %d", s, inc.Counts()[s], want.Counts()[s])
		}
	}
	for n, e := range inc.rows {
		if e.acc != &next[inc.order[n]] {
			t.Fatalf("row %d still shows the last poll's account", n)
		}
	}
}

// Sorting again after a few keys moved merges them into the last order: the result is
// what sorting everything gives, whatever moved, whichever rows the view holds.
func TestSortKeysAfterChangesEqualsFullSort(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	f := NewFleet()
	f.sortBy = sortUsed5h
	f.rows, f.sums = make([]entry, 5000), make([]summary, 5000)
	for i := range f.sums {
		f.sums[i].used[0] = float32(rng.IntN(100))
	}
	key := func(s *summary, _ int) float32 { return -s.used[0] }
	want := func() []uint64 {
		var w []uint64
		for _, i := range f.view {
			w = append(w, uint64(orderedBits(key(&f.sums[i], i)))<<32|uint64(i))
		}
		slices.Sort(w)
		return w
	}
	for round := range 40 {
		f.view = f.view[:0]
		for i := range f.rows {
			if round%10 != 9 || i%3 != 0 { // every tenth round the view loses some rows
				f.view = append(f.view, i)
			}
		}
		for range rng.IntN(50) * (round % 4) { // some rounds move nothing
			f.sums[rng.IntN(len(f.sums))].used[0] = float32(rng.IntN(100))
		}
		if round == 20 {
			for i := range f.sums { // every key moves
				f.sums[i].used[0] = float32(rng.IntN(100))
			}
		}
		f.sortKeys(key)
		if !slices.Equal(f.sorted, want()) {
			t.Fatalf("round %d: the merged order is not the sorted one", round)
		}
	}
}

// Rows keep no search text while no filter is set; a filter makes it, polls keep it
// current while the filter stands, and clearing the filter drops it.
func TestSearchTextOnlyWhileFiltering(t *testing.T) {
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	p := model.DefaultPolicy()
	accounts := []model.Account{{ID: 1, Key: "sched:meta:1", Name: "alpha", Status: "active", Rev: 1}, {ID: 2, Key: "sched:meta:2", Name: "beta", Status: "active", Rev: 1}}
	f := NewFleet()
	f.SetPoll(accounts, nil, p, now)
	for i := range f.rows {
		if f.rows[i].search != "" {
			t.Fatalf("row %d keeps search text with no filter", i)
		}
	}
	f.SetQuery("gamma", now)
	if f.Len() != 0 {
		t.Fatalf("%d rows match gamma", f.Len())
	}
	next := slices.Clone(accounts)
	next[1].Name, next[1].Rev = "gamma", 2
	f.SetPoll(next, []int32{1}, p, now)
	if f.Len() != 1 || f.Row(0).acc.Name != "gamma" {
		t.Fatalf("the renamed account does not match the filter: %d rows", f.Len())
	}
	f.SetQuery("", now)
	for i := range f.rows {
		if f.rows[i].search != "" {
			t.Fatalf("row %d keeps search text after the filter was cleared", i)
		}
	}
	if f.Len() != 2 {
		t.Fatalf("%d rows without a filter", f.Len())
	}
}

// The filter matches reasons as the table and the JSON name them, and platform/type as
// the table shows it.
func TestFilterMatchesReasonsAndPlatformType(t *testing.T) {
	m, _ := judgeModel(t)
	m = update(t, m, gatewayMsg{info: GatewayInfo{SchedulingThresholds: map[string]float64{"openai": 95}, Version: "0.1.179"}})
	shown := func(q string) []string {
		m2 := filterTo(t, m, q)
		var names []string
		for i := range m2.fleet.Len() {
			names = append(names, m2.fleet.Row(i).acc.Name)
		}
		return names
	}
	if got := shown("auto_reset"); !slices.Contains(got, "codex-card-pending") || !slices.Contains(got, "codex-card-check") || !slices.Contains(got, "codex-card-ready") {
		t.Fatalf("auto_reset: %v", got)
	}
	if got := shown("sched_threshold_5h"); !slices.Contains(got, "codex-sched-thr") {
		t.Fatalf("sched_threshold_5h: %v", got)
	}
	for _, name := range shown("openai/apikey") {
		if r, _ := findName(m, name); r.acc.Platform != "openai" || r.acc.Type != "apikey" {
			t.Fatalf("openai/apikey shows %s (%s/%s)", name, r.acc.Platform, r.acc.Type)
		}
	}
	if got := shown("openai/apikey"); !slices.Contains(got, "relay-daily-cap") {
		t.Fatalf("openai/apikey: %v", got)
	}
}
