package main

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/quotatop/quotatop/events"
	"github.com/quotatop/quotatop/history"
	"github.com/quotatop/quotatop/model"
	"github.com/quotatop/quotatop/source"
)

// Two accounts climb 10 points an hour to a 90 % threshold; the one still scheduled gets a
// time to dry, the one the gateway already refuses (manual switch off) does not.
func TestDryProjector(t *testing.T) {
	t0 := time.Now().Add(-time.Hour).Truncate(time.Second)
	store, err := history.Open(filepath.Join(t.TempDir(), "h.db"), t0)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	p := model.DefaultPolicy()
	p.DefaultThreshold = [2]float64{0.9, 0}
	reset := t0.Add(5 * time.Hour).UTC().Format(time.RFC3339)
	fleet := func(now time.Time, used float64) []model.Account {
		value := func(id int) string {
			return fmt.Sprintf(`{"ID":%d,"Platform":"openai","Type":"oauth","Status":"active","Schedulable":%v,"Extra":{"codex_5h_used_percent":%g,"codex_5h_reset_at":%q,"codex_7d_used_percent":10,"codex_usage_updated_at":%q}}`,
				id, id == 1, used, reset, now.UTC().Format(time.RFC3339))
		}
		return []model.Account{source.DecodeMeta("sched:meta:1", value(1)), source.DecodeMeta("sched:meta:2", value(2))}
	}
	for i := range 4 {
		at := t0.Add(time.Duration(i) * 20 * time.Minute)
		store.Record(fleet(at, 50+float64(i)*10/3), p, at)
		store.Flush()
	}
	now := t0.Add(time.Hour)
	accounts := fleet(now, 60)
	js := []model.Judgement{model.Judge(&accounts[0], p, now), model.Judge(&accounts[1], p, now)}
	d := &dryProjector{hist: &historyFile{store: store}}
	d.project(p, now, accounts, events.JudgementsOf(js), events.Unchanged{})
	ttd, ok := d.TimeToDry(1, model.Window5h, now)
	// 60 % now, 10 points an hour, paused at 90 %: three hours (the 5h reset is later).
	if !ok || ttd < 2*time.Hour+50*time.Minute || ttd > 3*time.Hour+10*time.Minute {
		t.Fatalf("time to dry %v %v", ttd, ok)
	}
	if _, ok := d.TimeToDry(2, model.Window5h, now); ok {
		t.Fatal("an account the gateway refuses has a time to dry")
	}
	if _, ok := d.TimeToDry(1, model.Window7d, now); ok {
		t.Fatal("a window with no threshold and a flat use has a time to dry")
	}

	// The next poll, account 2 is switched on and account 1 off: only they are projected
	// again, and the answers are a full projection's.
	accounts[0].Schedulable, accounts[1].Schedulable = false, true
	js = []model.Judgement{model.Judge(&accounts[0], p, now), model.Judge(&accounts[1], p, now)}
	d.fullTook = time.Second // the last full projection is not due again yet
	d.project(p, now, accounts, events.JudgementsOf(js), events.Unchanged{Same: true, Fresh: []bool{true, true}})
	full := &dryProjector{hist: &historyFile{store: store}}
	full.project(p, now, accounts, events.JudgementsOf(js), events.Unchanged{})
	for _, id := range []int64{1, 2} {
		got, gotOK := d.TimeToDry(id, model.Window5h, now)
		want, wantOK := full.TimeToDry(id, model.Window5h, now)
		if got != want || gotOK != wantOK {
			t.Errorf("account %d after the switch: %v %v, a full projection %v %v", id, got, gotOK, want, wantOK)
		}
	}
	if _, ok := d.TimeToDry(2, model.Window5h, now); !ok {
		t.Fatal("the account switched on has no time to dry")
	}
}

// A partial projection's crossing times replace those of the accounts it projected, a
// zero one clears an account's, and the others stand.
func TestPatchPauseTimes(t *testing.T) {
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	var f forecastProjector
	f.PauseTimes(map[int64][2]time.Time{1: {now.Add(time.Hour)}, 2: {{}, now.Add(2 * time.Hour)}, 3: {now.Add(3 * time.Hour)}})
	f.PatchPauseTimes(map[int64][2]time.Time{1: {}, 2: {now.Add(30 * time.Minute)}, 4: {{}, now.Add(time.Minute)}})
	for _, c := range []struct {
		id   int64
		w    model.WindowName
		want time.Duration
		ok   bool
	}{
		{1, model.Window5h, 0, false},
		{2, model.Window5h, 30 * time.Minute, true},
		{2, model.Window7d, 0, false},
		{3, model.Window5h, 3 * time.Hour, true},
		{4, model.Window7d, time.Minute, true},
	} {
		if got, ok := f.TimeToDry(c.id, c.w, now); got != c.want || ok != c.ok {
			t.Errorf("account %d %s: %v %v, want %v %v", c.id, c.w, got, ok, c.want, c.ok)
		}
	}
}
