package source

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/quotatop/quotatop/model"
)

// One fixture per case the gateway's newer rules decide, decoded and judged at a fixed
// clock (2026-11-26 10:00 UTC); the scheduling threshold case sets 90 % for OpenAI.
func TestJudgeFixtures(t *testing.T) {
	now := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	p := model.DefaultPolicy()
	p.SchedulingThresholds = map[string]float64{"openai": 100}
	sched := p
	sched.SchedulingThresholds = map[string]float64{"openai": 90, "anthropic": 90, "kimi": 90}
	cases := []struct {
		file    string
		p       model.Policy
		state   model.State
		reasons []model.Reason
		check   func(t *testing.T, a model.Account, j model.Judgement)
	}{
		{"judge-inactive.json", p, model.StateDisabled, []model.Reason{model.ReasonDisabled}, func(t *testing.T, a model.Account, j model.Judgement) {
			if a.Status != "inactive" {
				t.Errorf("raw status %q", a.Status)
			}
		}},
		{"judge-local-quota.json", p, model.StateBlocked, []model.Reason{model.ReasonLocalQuota}, func(t *testing.T, a model.Account, j model.Judgement) {
			lq := j.LocalQuota
			// daily fixed at 01:00 Shanghai: the period started today 01:00 (17:00Z yesterday), next reset 17:00Z today
			if lq.Dim != model.LocalQuotaDaily || lq.Used != 20.5 || lq.Limit != 20 || !lq.ResetsAt.Equal(time.Date(2026, 11, 26, 17, 0, 0, 0, time.UTC)) {
				t.Errorf("%+v", lq)
			}
			if a.LocalQuota.ZoneName != "Asia/Shanghai" || a.LocalQuota.Limit != 500 {
				t.Errorf("%+v", a.LocalQuota)
			}
		}},
		{"judge-sched-threshold.json", sched, model.StateBlocked, []model.Reason{model.ReasonTempUnschedulable, model.ReasonSchedThreshold7d, model.ReasonNear5h, model.ReasonNear7d}, func(t *testing.T, a model.Account, j model.Judgement) {
			// the 7d reset_at is unix seconds (2026-11-30T00:00Z), later than the trimmed 5h one
			if st := j.SchedThreshold; st.Window != model.Window7d || st.UsedPercent != 93 || st.ThresholdPercent != 90 || !st.Until.Equal(time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)) {
				t.Errorf("%+v", st)
			}
			if b := a.Block().TempBlock; b == nil || b.Source != model.TempSourceSchedThreshold || b.Window != "7d" || b.UsedPercent != 93 || b.ThresholdPercent != 90 {
				t.Errorf("temp block %+v", b)
			}
			// the quota rule reads reset_at strictly: the padded 5h string is no reset time to it
			if a.Quota.Windows[0].HasResetAt || !a.Quota.Windows[0].HasSchedResetAt {
				t.Errorf("5h reset forms: %+v", a.Quota.Windows[0])
			}
		}},
		// Kimi: no staleness check (the snapshot is six days old); the weekly window has
		// the later reset and wins; it is reported as 7d.
		{"judge-kimi-sched-threshold.json", sched, model.StatePaused, []model.Reason{model.ReasonSchedThreshold7d}, func(t *testing.T, a model.Account, j model.Judgement) {
			if st := j.SchedThreshold; st.UsedPercent != 95 || !st.Until.Equal(time.Date(2026, 11, 28, 16, 0, 0, 0, time.UTC)) {
				t.Errorf("%+v", st)
			}
		}},
		// Anthropic: 0.93 is a ratio (93 %) until SessionWindowEnd; "0.40" of 7d is 40 %.
		{"judge-anthropic-sched-threshold.json", sched, model.StatePaused, []model.Reason{model.ReasonSchedThreshold5h}, func(t *testing.T, a model.Account, j model.Judgement) {
			if st := j.SchedThreshold; st.UsedPercent != 93 || !st.Until.Equal(time.Date(2026, 11, 26, 13, 0, 0, 0, time.UTC)) || a.ProviderUsage.Windows[1].UsedPercent != 40 ||
				!a.ProviderUsage.HasSampledAt || !a.ProviderUsage.SampledAt.Equal(time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)) {
				t.Errorf("%+v %+v", st, a.ProviderUsage)
			}
		}},
		{"judge-auto-reset-pending.json", p, model.StatePaused, []model.Reason{model.ReasonAutoResetPending5h, model.ReasonNear5h}, nil},
		{"judge-auto-reset-check.json", p, model.StatePaused, []model.Reason{model.ReasonAutoResetCheck7d}, func(t *testing.T, a model.Account, j model.Judgement) {
			r := a.Quota.AutoReset
			if r.Card == nil || r.Card.Status != "available" || r.Card.AvailableCount != 1 || !r.ExpiryEnabled || r.ExpiryLeadMinutes != 30 {
				t.Errorf("%+v %+v", r, r.Card)
			}
		}},
		{"judge-auto-reset-ready.json", p, model.StateWarn, []model.Reason{model.ReasonAutoResetReady5h}, nil},
		// An offset-less updated_at is missing (fresh upstream), the space-separated
		// reset_at falls back to reset_after_seconds, which without a base never resets.
		{"judge-no-offset.json", p, model.StatePaused, []model.Reason{model.ReasonQuota5h, model.ReasonNoTimestamp}, nil},
		{"judge-future-snapshot.json", p, model.StatePaused, []model.Reason{model.ReasonQuota5h}, func(t *testing.T, a model.Account, j model.Judgement) {
			if j.Age >= 0 || j.Stale {
				t.Errorf("age %v stale %v", j.Age, j.Stale)
			}
		}},
		// PR #6208: a 429 on an exhausted window is persisted as a rate limit until the
		// window's upstream reset. No threshold is set, so only the rate limit blocks.
		{"judge-rate-limit-exhausted.json", p, model.StateBlocked, []model.Reason{model.ReasonRateLimited, model.ReasonNear7d}, func(t *testing.T, a model.Account, j model.Judgement) {
			until := time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC)
			w := j.Windows[1]
			if !a.Block().RateLimitResetAt.Equal(until) || w.UsedPercent != 100 || w.Reset || !w.ResetAt.Equal(until) || w.Verdict != model.VerdictNone {
				t.Errorf("rate limit %v, 7d %+v", a.Block().RateLimitResetAt, w)
			}
			if next := model.NextChange(&a, p, now); !next.Equal(time.Date(2026, 11, 26, 11, 40, 0, 0, time.UTC)) {
				t.Errorf("NextChange %v: the snapshot goes stale first", next)
			}
			if j := model.Judge(&a, p, until.Add(-1)); !j.Has(model.ReasonRateLimited) || !j.Has(model.ReasonNear7d) {
				t.Errorf("1ns before the reset: %s %v", j.State, j.Reasons)
			}
			if j := model.Judge(&a, p, until); j.State != model.StateOK || len(j.Reasons) != 0 {
				t.Errorf("at the reset both the limit and the window are over: %s %v", j.State, j.Reasons)
			}
		}},
		// The same from the 5h window, whose reset comes only from reset_after_seconds
		// (counted from the snapshot), with a threshold: the quota pause shows too.
		{"judge-rate-limit-exhausted-5h.json", p, model.StateBlocked, []model.Reason{model.ReasonRateLimited, model.ReasonQuota5h}, func(t *testing.T, a model.Account, j model.Judgement) {
			until := time.Date(2026, 11, 26, 11, 25, 0, 0, time.UTC)
			w := j.Windows[0]
			if !a.Block().RateLimitResetAt.Equal(until) || w.UsedPercent != 101.5 || w.Reset || !w.ResetAt.Equal(until) || w.Verdict != model.VerdictPaused {
				t.Errorf("rate limit %v, 5h %+v", a.Block().RateLimitResetAt, w)
			}
			if j := model.Judge(&a, p, until); j.State != model.StateOK || len(j.Reasons) != 0 {
				t.Errorf("at the reset: %s %v", j.State, j.Reasons)
			}
		}},
		// The forks' quota pauses are temp blocks with their own JSON source; each is
		// decoded, and whether deleting it would stick depends on what quotatop can see.
		{"judge-temp-openai-quota-auto-pause.json", p, model.StateBlocked, []model.Reason{model.ReasonTempUnschedulable, model.ReasonQuota5h}, func(t *testing.T, a model.Account, j model.Judgement) {
			b := a.Block().TempBlock
			if b == nil || b.Source != model.TempSourceOpenAIQuota || b.Platform != "openai" || b.Window != "5h" || b.UsedPercent != 96.5 || b.ThresholdPercent != 95 || !strings.Contains(b.Message, "96.5%") {
				t.Fatalf("temp block %+v", b)
			}
			if u := model.QuotaBlockNow(&a, &j, b); u != model.BlockUsageOver {
				t.Errorf("block usage %v: the 5h window is still over its threshold", u)
			}
		}},
		{"judge-temp-grok-quota-auto-pause.json", p, model.StateBlocked, []model.Reason{model.ReasonTempUnschedulable}, func(t *testing.T, a model.Account, j model.Judgement) {
			b := a.Block().TempBlock
			if b == nil || b.Source != model.TempSourceGrokQuota || b.Window != "quota" || b.UsedPercent != 97 || b.ThresholdPercent != 90 {
				t.Fatalf("temp block %+v", b)
			}
			if u := model.QuotaBlockNow(&a, &j, b); u != model.BlockUsageUnknown {
				t.Errorf("block usage %v: quotatop reads no Grok usage", u)
			}
		}},
		{"judge-temp-quota-counter.json", p, model.StateBlocked, []model.Reason{model.ReasonTempUnschedulable}, func(t *testing.T, a model.Account, j model.Judgement) {
			b := a.Block().TempBlock
			until := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
			if b == nil || b.Source != model.TempSourceQuotaCounter || b.Window != "7d" || b.UsedPercent != 100 || !a.Block().TempUnschedulableUntil.Equal(until) {
				t.Fatalf("temp block %+v until %v", b, a.Block().TempUnschedulableUntil)
			}
			if u := model.QuotaBlockNow(&a, &j, b); u != model.BlockUsageUnknown {
				t.Errorf("block usage %v: a fork's own counter is not in storage", u)
			}
			if j := model.Judge(&a, p, until); j.State != model.StateOK {
				t.Errorf("at its end the block is over: %s %v", j.State, j.Reasons)
			}
		}},
		// The gateway schedules only Status == "active" (Account.IsActive, an exact
		// comparison): every other status, a capitalised or empty one included, is
		// disabled; "error" is unschedulable too and shown as error.
		{"judge-status-disabled.json", p, model.StateDisabled, []model.Reason{model.ReasonDisabled}, statusIs("disabled")},
		{"judge-status-banned.json", p, model.StateDisabled, []model.Reason{model.ReasonDisabled, model.ReasonUnschedulable}, statusIs("banned")},
		{"judge-status-empty.json", p, model.StateDisabled, []model.Reason{model.ReasonDisabled}, statusIs("")},
		{"judge-status-capital.json", p, model.StateDisabled, []model.Reason{model.ReasonDisabled}, statusIs("Active")},
		{"judge-status-missing.json", p, model.StateDisabled, []model.Reason{model.ReasonDisabled}, statusIs("")},
		{"judge-status-error.json", p, model.StateError, []model.Reason{model.ReasonError}, statusIs("error")},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			raw := string(fixture(t, c.file))
			a := DecodeMeta("sched:meta:1", raw)
			if a.Invalid != "" {
				t.Fatal(a.Invalid)
			}
			if strings.Contains(dump(a), Canary) {
				t.Fatal("secret leaked")
			}
			j := model.Judge(&a, c.p, now)
			if j.State != c.state || !slices.Equal(j.Reasons, c.reasons) {
				t.Fatalf("got %s %v, want %s %v", j.State, j.Reasons, c.state, c.reasons)
			}
			if c.check != nil {
				c.check(t, a, j)
			}
		})
	}
}

// statusIs checks that the status is kept exactly as stored: not trimmed, not lower-cased.
func statusIs(want string) func(t *testing.T, a model.Account, j model.Judgement) {
	return func(t *testing.T, a model.Account, _ model.Judgement) {
		if a.Status != want {
			t.Errorf("raw status %q, want %q", a.Status, want)
		}
	}
}

// Any value decodes and judges without a panic, and never leaks the canary.
func FuzzDecodeJudge(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "fixtures", "*.json"))
	for _, file := range files {
		b, _ := os.ReadFile(file)
		f.Add(string(b))
	}
	f.Add(`{"ID":1,"Extra":{"quota_weekly_reset_day":"9","quota_weekly_limit":1,"quota_weekly_used":2,"quota_weekly_start":"2026-11-26T00:00:00Z","quota_weekly_reset_mode":"fixed","quota_reset_timezone":"Nowhere/Land"}}`)
	f.Add(`{"ID":1,"Type":"apikey","Extra":{"quota_daily_reset_hour":-1e15,"quota_daily_limit":1,"quota_daily_used":2,"quota_daily_start":"2026-11-26T09:00:00Z","quota_daily_reset_mode":"fixed"}}`)
	f.Add(`{"ID":1,"TempUnschedulableReason":"{\"source\":\"quota_counter\",\"used_percent\":\"x\"}","Extra":{"kimi_5h_used_percent":1e308,"kimi_5h_reset_at":-1}}`)
	now := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	p := model.DefaultPolicy()
	p.SchedulingThresholds = map[string]float64{"openai": 1, "kimi": 1, "zhipu": 1}
	f.Fuzz(func(t *testing.T, raw string) {
		a := DecodeMeta("sched:meta:1", raw)
		j := model.Judge(&a, p, now)
		model.NextChange(&a, p, now)
		if j.State == "" {
			t.Fatal("no state")
		}
	})
}

// "NaN" as a per-account threshold: the gateway parses it, its clamp keeps NaN, and the
// window then never pauses, not even at the gateway default.
func TestNaNThresholdDecoded(t *testing.T) {
	now := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	raw := `{"ID":5,"Platform":"openai","Type":"oauth","Status":"active","Schedulable":true,"Extra":{"codex_5h_used_percent":99,` +
		`"codex_5h_reset_at":"2026-11-26T12:00:00Z","codex_usage_updated_at":"2026-11-26T09:59:00Z","auto_pause_5h_threshold":" nan "}}`
	a := DecodeMeta("sched:meta:5", raw)
	if !a.Quota.Windows[0].ThresholdNaN || a.Quota.Windows[0].Threshold != 0 {
		t.Fatalf("%+v", a.Quota.Windows[0])
	}
	p := model.DefaultPolicy()
	p.DefaultThreshold = [2]float64{0.9, 0.9}
	if j := model.Judge(&a, p, now); j.State == model.StatePaused {
		t.Fatalf("judged %s %v", j.State, j.Reasons)
	}
	b := DecodeMeta("sched:meta:5", strings.Replace(raw, `" nan "`, `"0.5"`, 1))
	if b.Quota.Windows[0].ThresholdNaN || model.Judge(&b, p, now).State != model.StatePaused {
		t.Fatal("a number threshold is not NaN")
	}
}
