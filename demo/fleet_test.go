package demo

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/quotatop/quotatop/model"
	"github.com/quotatop/quotatop/source"
)

var t0 = time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)

func judged(t *testing.T, g *Gateway, now time.Time) map[string]model.Judgement {
	t.Helper()
	accounts, err := g.Reader.Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]model.Judgement{}
	for i := range accounts {
		out[accounts[i].DisplayName()] = model.Judge(&accounts[i], model.DefaultPolicy(), now)
	}
	return out
}

// The demo must show an operator every state and every reason quotatop knows.
func TestFleetCoversEveryStateAndReason(t *testing.T) {
	g, err := Start(t0, source.DefaultPrefix)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	fleet := judged(t, g, t0)
	if len(fleet) < 40 {
		t.Fatalf("demo has %d accounts, want at least 40", len(fleet))
	}
	states, reasons := map[model.State]bool{}, map[model.Reason]bool{}
	for _, j := range fleet {
		states[j.State] = true
		for _, r := range j.Reasons {
			reasons[r] = true
		}
	}
	for _, s := range model.States {
		if !states[s] {
			t.Errorf("no demo account is %s", s)
		}
	}
	for _, r := range []model.Reason{model.ReasonQuota5h, model.ReasonQuota7d, model.ReasonStale5h, model.ReasonStale7d, model.ReasonNear5h,
		model.ReasonNear7d, model.ReasonNoTimestamp, model.ReasonDisabled, model.ReasonError, model.ReasonUnschedulable, model.ReasonExpired,
		model.ReasonOverloaded, model.ReasonRateLimited, model.ReasonTempUnschedulable, model.ReasonModelRateLimited, model.ReasonInvalid} {
		if !reasons[r] {
			t.Errorf("no demo account has reason %s", r)
		}
	}
	// sub2api issue 2994: poisoned 99 % snapshot, stale, waiting for the probe.
	if j := fleet["codex-fresh-2994"]; j.State != model.StateStaleProbe || j.MainReason() != model.ReasonStale5h || j.Windows[0].UsedPercent != 99 {
		t.Fatalf("2994 case: %s %v", j.State, j.Reasons)
	}
}

// The simulator moves the fleet: traffic spends quota, stale snapshots get probed (the
// poisoned one heals), short blocks expire and paused snapshots age into stale.
func TestSimulatorMovesTheFleet(t *testing.T) {
	g, err := Start(t0, source.DefaultPrefix)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	before := judged(t, g, t0)
	now := t0
	for range 400 {
		now = now.Add(time.Second)
		if err := g.Sim.Step(context.Background(), now); err != nil {
			t.Fatal(err)
		}
	}
	after := judged(t, g, now)
	if j := after["codex-fresh-2994"]; j.State != model.StateStaleProbe {
		t.Errorf("the poisoned account should wait for the operator's probe: %s", j.State)
	}
	if err := g.Sim.probe(context.Background(), 124); err != nil {
		t.Fatal(err)
	}
	if j := judged(t, g, time.Now())["codex-fresh-2994"]; j.State != model.StateOK || j.Windows[0].UsedPercent > 5 {
		t.Errorf("the poisoned snapshot was not healed by a probe: %s %v %v%%", j.State, j.Reasons, j.Windows[0].UsedPercent)
	}
	// codex-pro-23 crossed the 2h bound 90 s in; then the gateway may already have
	// probed it, which confirms the exhaustion with a fresh snapshot.
	if j := after["codex-pro-23"]; j.State != model.StateStaleProbe && !(j.State == model.StatePaused && j.Age < 310*time.Second) {
		t.Errorf("a paused account did not age into stale_probe: %s, age %v", j.State, j.Age)
	}
	if j := after["codex-pro-32"]; j.State == model.StateBlocked {
		t.Errorf("the 75 s overload did not expire")
	}
	moved := 0
	for name, j := range after {
		if strings.HasPrefix(name, "codex-pro-0") && j.Windows[0].UsedPercent > before[name].Windows[0].UsedPercent {
			moved++
		}
	}
	if moved < 5 {
		t.Errorf("traffic raised used %% on only %d healthy accounts", moved)
	}
}

// The demo's seeded hour: one poll a minute, each account's use growing at its rate up to
// its current snapshot, and nothing from after it.
func TestPastPolls(t *testing.T) {
	now := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	sim := NewSim(Fleet(now), nil, "sched:")
	polls := sim.Past(now, time.Hour, time.Minute)
	if len(polls) != 60 {
		t.Fatalf("%d polls", len(polls))
	}
	var prev float64
	for _, p := range polls {
		for _, a := range p.Accounts {
			if !a.Quota.UpdatedAt.Equal(p.At) {
				t.Fatalf("%s: snapshot at %v in the poll of %v", a.Name, a.Quota.UpdatedAt, p.At)
			}
			if a.Name == "codex-eu-41" {
				if u := a.Quota.Windows[0].UsedPercent; u < prev || u >= 86 {
					t.Fatalf("codex-eu-41 at %v: %v after %v", p.At, u, prev)
				} else {
					prev = u
				}
			}
		}
	}
	if prev < 85 {
		t.Fatalf("codex-eu-41 ends the hour at %v", prev)
	}
}
