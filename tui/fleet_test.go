package tui

import (
	"hash/maphash"
	"maps"
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
		if r := &inc.rows[i]; r.j.HasTimestamp && r.j.Age != t0.Sub(r.acc.Quota.UpdatedAt) {
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
