package demo

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/quotatop/quotatop/model"
)

// use is what traffic moves on an account: its snapshot (time and both windows' use) and
// its last use.
type use struct {
	updatedAt, lastUsed time.Time
	used                [2]float64
}

func (u use) String() string {
	return fmt.Sprintf("%.2f%%/%.2f%% taken %s, last used %s", u.used[0], u.used[1],
		u.updatedAt.UTC().Format(time.TimeOnly), u.lastUsed.UTC().Format(time.TimeOnly))
}

func useOf(a *model.Account) use {
	u := use{lastUsed: a.LastUsedAt}
	if q := a.Quota; q != nil {
		u.updatedAt, u.used = q.UpdatedAt, [2]float64{q.Windows[0].UsedPercent, q.Windows[1].UsedPercent}
	}
	return u
}

// The simulator sends traffic only where the gateway would, judging each account with the
// thresholds the demo's admin API serves: an account paused by the scheduling threshold or
// by the quota rule keeps its use and its last use, blocked and disabled ones too, while
// ok and warn accounts (a ready reset card among them) take traffic, and a stale snapshot
// lets one request through, once.
func TestSimulatorSendsTrafficOnlyWhereTheGatewaySchedules(t *testing.T) {
	ctx := context.Background()
	g, admin := startWithAPI(t)
	var err error
	p := model.DefaultPolicy()
	if p.DefaultThreshold, err = admin.DefaultThresholds(ctx); err != nil {
		t.Fatal(err)
	}
	if p.SchedulingThresholds, err = admin.SchedulingThresholds(ctx); err != nil {
		t.Fatal(err)
	}
	read := func() map[string]model.Account {
		t.Helper()
		accounts, err := g.Reader.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]model.Account{}
		for _, a := range accounts {
			out[a.DisplayName()] = a
		}
		return out
	}

	start := read()
	idle := map[string]model.Reason{
		"codex-sched-thr": model.ReasonSchedThreshold5h, // 98.6 % of 5h, its quota rule off
		"codex-pro-28":    model.ReasonSchedThreshold7d, // 7d exempt from the quota rule, 100 %
		"codex-pro-20":    model.ReasonQuota5h,          // 97 % over its own 95 %
		"codex-pro-27":    model.ReasonQuota7d,          // 91 % over the gateway's default 90 %
	}
	for name, want := range idle {
		a := start[name]
		if j := model.Judge(&a, p, t0); j.State != model.StatePaused || !j.Has(want) {
			t.Fatalf("%s at the start: %s %v, want paused by %s", name, j.State, j.Reasons, want)
		}
	}
	if a := start["codex-card-ready"]; model.Judge(&a, p, t0).State != model.StateWarn {
		t.Fatalf("codex-card-ready does not start scheduled on its ready card")
	}

	// Ten simulated minutes at the monitor's one step a second, each step checked against
	// the judgement the simulator had to make at its instant.
	prev, now := start, t0
	probes, usedWhile := map[string]int{}, map[string]map[model.State]int{}
	for range 600 {
		now = now.Add(time.Second)
		states := map[string]model.State{}
		for name, a := range prev {
			states[name] = model.Judge(&a, p, now).State
		}
		if err := g.Sim.Step(ctx, now); err != nil {
			t.Fatal(err)
		}
		cur := read()
		for name, a := range cur {
			b := prev[name]
			before, after := useOf(&b), useOf(&a)
			if before == after {
				continue
			}
			if usedWhile[name] == nil {
				usedWhile[name] = map[model.State]int{}
			}
			usedWhile[name][states[name]]++
			switch states[name] {
			case model.StateOK, model.StateWarn:
			case model.StateStaleProbe:
				probes[name]++
				if after.used[0] > before.used[0] || after.used[1] > before.used[1] {
					t.Errorf("%s: the stale probe spent quota: %v -> %v", name, before.used, after.used)
				}
			default:
				if usedWhile[name][states[name]] == 1 { // the first time is enough to read
					t.Errorf("%s was used %v in while %s: %v -> %v", name, now.Sub(t0), states[name], before, after)
				}
			}
		}
		prev = cur
	}

	for name := range idle {
		a, b := start[name], prev[name]
		if useOf(&a) != useOf(&b) {
			t.Errorf("%s, paused, moved: %v -> %v", name, useOf(&a), useOf(&b))
		}
	}
	for name, n := range probes {
		if n > 1 {
			t.Errorf("%s: %d requests on a stale snapshot, want at most one", name, n)
		}
	}
	if probes["codex-pro-23"] != 1 {
		t.Errorf("codex-pro-23 turned stale 90 s in and never got its request (%d)", probes["codex-pro-23"])
	}
	if probes["codex-fresh-2994"] != 0 {
		t.Errorf("the poisoned snapshot is the operator's to probe, not the simulator's")
	}
	for _, name := range []string{"codex-pro-01", "codex-pro-09", "codex-pro-16", "codex-eu-41", "codex-idle-44"} {
		a, b := start[name], prev[name]
		before, after := useOf(&a), useOf(&b)
		if !after.lastUsed.After(before.lastUsed) || !after.updatedAt.After(before.updatedAt) || after.used[0] <= before.used[0] {
			t.Errorf("%s, schedulable, took no traffic: %v -> %v", name, before, after)
		}
	}
	// The ready card kept codex-card-ready scheduled until its use reached the 98 %
	// scheduling threshold, which pauses it for good.
	a := prev["codex-card-ready"]
	if usedWhile["codex-card-ready"][model.StateWarn] == 0 {
		t.Errorf("codex-card-ready took no traffic on its ready card")
	}
	if j := model.Judge(&a, p, now); j.State != model.StatePaused || !j.Has(model.ReasonSchedThreshold5h) || a.Quota.Windows[0].UsedPercent > 99 {
		t.Errorf("codex-card-ready after ten minutes: %s %v at %v %%", j.State, j.Reasons, a.Quota.Windows[0].UsedPercent)
	}
}
