package demo

import (
	"context"
	"testing"
	"time"

	"github.com/quotatop/quotatop/model"
)

// The demo shows one account of each case the gateway's newer rules decide, and its
// simulated API serves the routes quotatop uses for them.
func TestDemoCoversTheGatewaysNewerRules(t *testing.T) {
	g, admin := startWithAPI(t)
	var err error
	ctx := context.Background()
	p := model.DefaultPolicy()
	if p.SchedulingThresholds, err = admin.SchedulingThresholds(ctx); err != nil || p.SchedulingThresholds["openai"] != 98 {
		t.Fatalf("settings: %v %v", p.SchedulingThresholds, err)
	}
	if v, err := admin.GatewayVersion(ctx); v != "0.1.179" || err != nil {
		t.Fatalf("version %q %v", v, err)
	}
	accounts, err := g.Reader.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]*model.Account{}
	for i := range accounts {
		byName[accounts[i].DisplayName()] = &accounts[i]
	}
	for name, want := range map[string]model.Reason{
		"codex-disabled-ui": model.ReasonDisabled, "relay-daily-cap": model.ReasonLocalQuota, "codex-sched-thr": model.ReasonSchedThreshold5h,
		"codex-card-pending": model.ReasonAutoResetPending5h, "codex-card-check": model.ReasonAutoResetCheck7d,
		"codex-card-ready": model.ReasonAutoResetReady5h, "codex-no-offset": model.ReasonQuota5h,
	} {
		a := byName[name]
		if a == nil {
			t.Fatalf("no demo account %s", name)
		}
		if j := model.Judge(a, p, t0); !j.Has(want) {
			t.Errorf("%s: %s %v, want %s", name, j.State, j.Reasons, want)
		}
	}
	// reset-quota and enabling act on the storage.
	for name, call := range map[string]func(int64) (int, error){
		"relay-daily-cap":   func(id int64) (int, error) { return admin.ResetQuota(ctx, id) },
		"codex-disabled-ui": func(id int64) (int, error) { return admin.EnableStatus(ctx, id) },
	} {
		id := byName[name].ID
		if _, err := call(id); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		a, err := g.Reader.ReadAccount(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if j := model.Judge(&a, p, time.Now()); j.Has(model.ReasonLocalQuota) || j.Has(model.ReasonDisabled) || a.Status != "active" {
			t.Errorf("%s after the call: %s %v", name, j.State, j.Reasons)
		}
	}
}
