package action

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/quotatop/quotatop/model"
	"github.com/quotatop/quotatop/source"
)

func TestPlansForTheGatewaysNewerReasons(t *testing.T) {
	over := func(a *model.Account) {
		a.Quota.Windows[0].HasUsed, a.Quota.Windows[0].UsedPercent = true, 95
		a.Quota.Windows[0].Threshold = 0
		a.Quota.Windows[0].SchedResetAt, a.Quota.Windows[0].HasSchedResetAt = now.Add(time.Hour), true
		a.Quota.Windows[0].ResetAt, a.Quota.Windows[0].HasResetAt = now.Add(time.Hour), true
	}
	policy := model.DefaultPolicy()
	policy.SchedulingThresholds = map[string]float64{"openai": 90}
	cases := []struct {
		name    string
		mod     func(a *model.Account)
		steps   []Kind
		alt     []Kind
		warning string
	}{
		{"inactive: enable, with a warning", func(a *model.Account) { a.Status = "inactive" }, []Kind{Enable}, nil, `status is "inactive": enabling it undoes an administrator's decision`},
		{"local quota: reset, naming the amount", func(a *model.Account) {
			a.Type, a.LocalQuota = "apikey", &model.LocalQuota{Limit: 50, Used: 62.5}
		}, []Kind{ResetQuota}, nil, "forgets all the local usage the gateway counted: $62.50 total (limit $50.00, reached), $0.00 daily, $0.00 weekly; only reset-quota clears it"},
		{"local quota over two periods: every amount, free again when both have reset", func(a *model.Account) {
			a.Type, a.LocalQuota = "apikey", &model.LocalQuota{Used: 120.25,
				Daily:  model.QuotaPeriod{Limit: 20, Used: 25, Start: now.Add(-2 * time.Hour)},
				Weekly: model.QuotaPeriod{Limit: 100, Used: 130, Start: now.Add(-24 * time.Hour)}}
		}, []Kind{ResetQuota}, nil, "$120.25 total, $25.00 daily (limit $20.00, reached), $130.00 weekly (limit $100.00, reached); left alone, it is free again at 2026-12-02 10:00 UTC"},
		{"scheduling threshold block while still over: probe first", func(a *model.Account) {
			over(a)
			a.EditBlocks().TempUnschedulableUntil = now.Add(time.Hour)
			a.EditBlocks().TempBlock = &model.TempBlock{Source: model.TempSourceSchedThreshold, Window: "5h", UsedPercent: 95, ThresholdPercent: 90}
		}, []Kind{Probe}, []Kind{ClearTemp}, "lasts only until the next request"},
		{"scheduling threshold without a block yet: probe", over, []Kind{Probe}, nil, ""},
		{"over the quota threshold and the scheduling threshold: no exemption, which would lift neither", func(a *model.Account) {
			over(a)
			a.Quota.Windows[0].Threshold = 0.9
		}, []Kind{Probe}, nil, ""},
		{"an exhausted window: the exemption warns", func(a *model.Account) {
			a.Quota.Windows[0].UsedPercent = 100
			a.Quota.Windows[0].ResetAt, a.Quota.Windows[0].HasResetAt = now.Add(time.Hour), true
		}, []Kind{Probe}, []Kind{Exempt5h}, "its 5h window is at 100%: exempting it (x) puts an exhausted account back in rotation until 2026-11-26 11:00 UTC"},
		{"an ordinary temp block is simply deleted", func(a *model.Account) {
			a.EditBlocks().TempUnschedulableUntil = now.Add(time.Hour)
			a.EditBlocks().TempBlock = &model.TempBlock{Source: model.TempSourceSchedThreshold}
		}, []Kind{ClearTemp}, nil, ""},
		{"a fork's quota pause block while still over: probe first", func(a *model.Account) {
			a.Quota.Windows[0].UsedPercent = 95
			a.EditBlocks().TempUnschedulableUntil = now.Add(time.Hour)
			a.EditBlocks().TempBlock = &model.TempBlock{Source: model.TempSourceOpenAIQuota, Window: "5h", UsedPercent: 95, ThresholdPercent: 90}
		}, []Kind{Probe}, []Kind{ClearTemp}, "(source openai_quota_auto_pause, 5h window used 95% >= 90%) wrote this block: deleting it lasts only until the next request"},
		{"a fork's quota pause block once usage is under: delete it", func(a *model.Account) {
			a.EditBlocks().TempUnschedulableUntil = now.Add(time.Hour)
			a.EditBlocks().TempBlock = &model.TempBlock{Source: model.TempSourceOpenAIQuota, Window: "5h", UsedPercent: 95, ThresholdPercent: 90}
		}, []Kind{ClearTemp}, nil, ""},
		{"a Grok quota block, whose usage quotatop cannot see: probe first", func(a *model.Account) {
			a.Platform, a.Quota = "grok", nil
			a.EditBlocks().TempUnschedulableUntil = now.Add(time.Hour)
			a.EditBlocks().TempBlock = &model.TempBlock{Source: model.TempSourceGrokQuota, Window: "quota", UsedPercent: 97, ThresholdPercent: 90}
		}, []Kind{Probe}, []Kind{ClearTemp}, "quotatop cannot see that window's usage now"},
		{"an Anthropic threshold block without the session window in storage: probe first", func(a *model.Account) {
			a.Platform, a.Quota, a.SchedThresholdOverride = "anthropic", nil, 90
			a.EditBlocks().TempUnschedulableUntil = now.Add(time.Hour)
			a.EditBlocks().TempBlock = &model.TempBlock{Source: model.TempSourceSchedThreshold, Window: "5h", UsedPercent: 97, ThresholdPercent: 90}
		}, []Kind{Probe}, []Kind{ClearTemp}, "quotatop cannot see that window's usage now"},
		{"an Anthropic threshold block once the threshold is off: delete it", func(a *model.Account) {
			a.Platform, a.Quota = "anthropic", nil
			a.EditBlocks().TempUnschedulableUntil = now.Add(time.Hour)
			a.EditBlocks().TempBlock = &model.TempBlock{Source: model.TempSourceSchedThreshold, Window: "5h", UsedPercent: 97, ThresholdPercent: 90}
		}, []Kind{ClearTemp}, nil, ""},
		{"exhausted rate limit: probe first", func(a *model.Account) {
			a.EditBlocks().RateLimitResetAt = now.Add(time.Hour)
			a.Quota.Windows[1].UsedPercent = 100
			a.Quota.Windows[1].Threshold = 0
			a.Quota.Windows[1].ResetAt, a.Quota.Windows[1].HasResetAt = now.Add(3*time.Hour), true
		}, []Kind{Probe}, []Kind{ClearRateLimit}, "7d window is at or over 100% until 2026-11-26 13:00 UTC: clearing the rate limit returns an exhausted account"},
		{"rate limit on a window that has reset is cleared", func(a *model.Account) {
			a.EditBlocks().RateLimitResetAt = now.Add(time.Hour)
			a.Quota.Windows[1].UsedPercent = 100
			a.Quota.Windows[1].Threshold = 0
			a.Quota.Windows[1].ResetAt, a.Quota.Windows[1].HasResetAt = now.Add(-time.Minute), true
		}, []Kind{ClearRateLimit}, nil, ""},
		{"reset credit pending: probe", func(a *model.Account) {
			a.Type = "oauth"
			a.Quota.Windows[0].UsedPercent = 100
			a.Quota.AutoReset = &model.AutoReset{Legacy: true}
		}, []Kind{Probe}, nil, "the gateway keeps it paused until a reset card is spent or the 5h window resets: the probe only refreshes"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a, _ := judged(c.mod)
			p := Unpause(a, model.Judge(a, policy, now))
			if !slices.Equal(p.Steps, c.steps) || !slices.Equal(p.Alternative, c.alt) || p.Blocked != "" ||
				(c.warning == "") != (len(p.Warnings) == 0) || (c.warning != "" && !strings.Contains(p.Warnings[0], c.warning)) {
				t.Fatalf("got %+v", p)
			}
			if len(p.Alternative) > 0 && p.AltWhy == "" && p.Alternative[0] != Exempt5h && p.Alternative[0] != Exempt7d {
				t.Fatal("an alternative needs its sentence (the dialog describes exemptions itself)")
			}
		})
	}
}

// A loopback admin server behind the real client: reset-quota and enable reach it.
func TestResetQuotaAndEnableThroughTheAdminClient(t *testing.T) {
	var mu sync.Mutex
	var calls []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		calls = append(calls, strings.TrimSpace(r.Method+" "+r.URL.Path+" "+string(b)))
		mu.Unlock()
		io.WriteString(w, `{"code":0,"message":"success","data":null}`)
	}))
	defer srv.Close()
	admin, err := source.NewAdmin(source.AdminConfig{BaseURL: srv.URL, Key: "admin-test"})
	if err != nil {
		t.Fatal(err)
	}
	// The account shows both changes on the second read.
	var reads int
	reread := func(context.Context, int64) (model.Account, error) {
		mu.Lock()
		defer mu.Unlock()
		reads++
		a := model.Account{ID: 5, Type: "apikey", Status: "inactive", Schedulable: true, LocalQuota: &model.LocalQuota{Limit: 1, Used: 2}}
		if reads >= 2 {
			a.Status, a.LocalQuota.Used = "active", 0
		}
		return a, nil
	}
	d := NewDispatcher(admin, NewAudit(filepath.Join(t.TempDir(), "a.jsonl"), os.Getenv), reread, "").VisibleWithin(2 * time.Second)
	res := d.Run(context.Background(), Same([]Kind{Enable, ResetQuota}, []Target{{ID: 5, Name: "relay"}}))[0]
	if res.Err != nil || res.After == nil || res.After.Status != "active" || strings.Contains(res.Outcome, "not yet visible") {
		t.Fatalf("%+v", res)
	}
	want := []string{`PUT /api/v1/admin/accounts/5 {"status":"active"}`, "POST /api/v1/admin/accounts/5/reset-quota"}
	if !slices.Equal(calls, want) {
		t.Fatalf("calls %q", calls)
	}
}

// set schedulable reaches Redis through a queue: the outcome waits for it, and says
// "not yet visible" rather than a state read too early.
func TestOutcomeWaitsUntilVisible(t *testing.T) {
	for _, c := range []struct {
		visibleAfter int // reads before the switch shows; 0 = never
		want         string
	}{{3, "ok"}, {0, "not yet visible"}} {
		reads := 0
		reread := func(context.Context, int64) (model.Account, error) {
			reads++
			return model.Account{ID: 1, Status: "active", Schedulable: c.visibleAfter > 0 && reads >= c.visibleAfter}, nil
		}
		d := NewDispatcher(&fakeAdmin{}, NewAudit(filepath.Join(t.TempDir(), "a.jsonl"), os.Getenv), reread, "").VisibleWithin(600 * time.Millisecond)
		res := d.Run(context.Background(), Same([]Kind{Schedule}, []Target{{ID: 1}}))[0]
		if !strings.Contains(res.Outcome, c.want) || (c.visibleAfter == 0) != (res.After == nil) {
			t.Fatalf("visible after %d: %q after=%v", c.visibleAfter, res.Outcome, res.After)
		}
	}
}

// A probe's snapshot shows long before a schedulable switch does: the outcome of
// [set schedulable, probe] waits for the switch too, and reports no state until it shows.
func TestOutcomeAfterAProbeWaitsForTheSwitch(t *testing.T) {
	before := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		switchAfter int // reads before the switch shows; 0 = never
		want        string
	}{{4, "refreshed"}, {0, "not yet visible"}} {
		reads := 0
		reread := func(context.Context, int64) (model.Account, error) {
			reads++
			q := &model.Quota{UpdatedAt: before.Add(time.Minute), HasUpdatedAt: true}
			return model.Account{ID: 1, Status: "active", Quota: q, Schedulable: c.switchAfter > 0 && reads >= c.switchAfter}, nil
		}
		d := NewDispatcher(&fakeAdmin{}, NewAudit(filepath.Join(t.TempDir(), "a.jsonl"), os.Getenv), reread, "").VisibleWithin(600 * time.Millisecond)
		target := Target{ID: 1, Before: &model.Account{ID: 1, Quota: &model.Quota{UpdatedAt: before, HasUpdatedAt: true}}}
		res := d.Run(context.Background(), Same([]Kind{Schedule, Probe}, []Target{target}))[0]
		if !strings.Contains(res.Outcome, c.want) {
			t.Fatalf("switch after %d reads: outcome %q", c.switchAfter, res.Outcome)
		}
		if c.switchAfter == 0 && res.After != nil {
			t.Fatalf("the switch never showed, yet a state is reported: %+v", res.After)
		}
		if c.switchAfter > 0 && (res.After == nil || !res.After.Schedulable) {
			t.Fatalf("the switch showed after %d reads, yet the state reported is %+v", c.switchAfter, res.After)
		}
	}
}
