package model

import (
	"slices"
	"testing"
	"time"
)

func TestEveryStatus(t *testing.T) {
	cases := []struct {
		status string
		state  State
		reason Reason
	}{
		{"active", StateOK, ""},
		{"error", StateError, ReasonError},
		{"inactive", StateDisabled, ReasonDisabled}, // the web UI's "disable"
		{"disabled", StateDisabled, ReasonDisabled},
		{"", StateDisabled, ReasonDisabled},
		{"Active", StateDisabled, ReasonDisabled}, // the gateway compares exactly
		{"deleted", StateDisabled, ReasonDisabled},
	}
	for _, c := range cases {
		a := &Account{ID: 1, Platform: "openai", Status: c.status, Schedulable: true}
		j := Judge(a, DefaultPolicy(), now)
		if j.State != c.state || j.MainReason() != c.reason {
			t.Errorf("status %q: %s %v, want %s %s", c.status, j.State, j.Reasons, c.state, c.reason)
		}
	}
}

func TestLocalQuota(t *testing.T) {
	shanghai, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Skip("no zone database:", err)
	}
	// now is Thursday 2026-11-26 10:00 UTC = 18:00 in Shanghai.
	daily := func(start time.Time, fixed bool, hour int) *LocalQuota {
		return &LocalQuota{Daily: QuotaPeriod{Limit: 10, Used: 10, Start: start, Fixed: fixed, ResetHour: hour}, Weekly: QuotaPeriod{ResetDay: 1}}
	}
	weekly := func(start time.Time, fixed bool, day, hour int) *LocalQuota {
		return &LocalQuota{Weekly: QuotaPeriod{Limit: 50, Used: 60, Start: start, Fixed: fixed, ResetDay: day, ResetHour: hour}}
	}
	zoned := func(q *LocalQuota, z *time.Location) *LocalQuota { q.Zone = z; return q }
	cases := []struct {
		name     string
		typ      string
		q        *LocalQuota
		exceeded bool
		dim      LocalQuotaDim
		resets   time.Time
	}{
		{"total reached", "apikey", &LocalQuota{Limit: 200, Used: 200}, true, LocalQuotaTotal, time.Time{}},
		{"total under", "apikey", &LocalQuota{Limit: 200, Used: 199.99}, false, "", time.Time{}},
		{"total off at limit 0", "apikey", &LocalQuota{Limit: 0, Used: 5}, false, "", time.Time{}},
		{"bedrock too", "bedrock", &LocalQuota{Limit: 1, Used: 2}, true, LocalQuotaTotal, time.Time{}},
		{"oauth accounts are not checked", "oauth", &LocalQuota{Limit: 1, Used: 2}, false, "", time.Time{}},
		{"daily missing start has expired", "apikey", daily(time.Time{}, false, 0), false, "", time.Time{}},
		{"daily rolling, 1ns before 24h", "apikey", daily(now.Add(-24*time.Hour+1), false, 0), true, LocalQuotaDaily, now.Add(1)},
		{"daily rolling, exactly 24h", "apikey", daily(now.Add(-24*time.Hour), false, 0), false, "", time.Time{}},
		{"daily under limit", "apikey", &LocalQuota{Daily: QuotaPeriod{Limit: 10, Used: 9, Start: now}}, false, "", time.Time{}},
		// fixed at 00:00 UTC: last reset 2026-11-26T00:00Z
		{"daily fixed UTC, start at reset", "apikey", daily(time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC), true, 0), true, LocalQuotaDaily, time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)},
		{"daily fixed UTC, start 1ns before reset", "apikey", daily(time.Date(2026, 11, 25, 23, 59, 59, 999999999, time.UTC), true, 0), false, "", time.Time{}},
		// fixed at 19:00 Shanghai: now is 18:00 there, so the last reset was yesterday 19:00 (11:00Z on the 25th)
		{"daily fixed Shanghai, before today's reset", "apikey", zoned(daily(time.Date(2026, 11, 25, 11, 0, 0, 0, time.UTC), true, 19), shanghai), true, LocalQuotaDaily, time.Date(2026, 11, 26, 11, 0, 0, 0, time.UTC)},
		{"daily fixed Shanghai, start before last reset", "apikey", zoned(daily(time.Date(2026, 11, 25, 10, 59, 0, 0, time.UTC), true, 19), shanghai), false, "", time.Time{}},
		{"daily fixed at 18:00 Shanghai, reset is now", "apikey", zoned(daily(time.Date(2026, 11, 26, 9, 59, 0, 0, time.UTC), true, 18), shanghai), false, "", time.Time{}},
		{"weekly rolling, 6 days", "apikey", weekly(now.Add(-6*24*time.Hour), false, 1, 0), true, LocalQuotaWeekly, now.Add(24 * time.Hour)},
		{"weekly rolling, 7 days", "apikey", weekly(now.Add(-7*24*time.Hour), false, 1, 0), false, "", time.Time{}},
		// fixed Monday 00:00 UTC: last reset Monday 2026-11-23
		{"weekly fixed Monday, start Monday", "apikey", weekly(time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC), true, 1, 0), true, LocalQuotaWeekly, time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)},
		{"weekly fixed Monday, start Sunday", "apikey", weekly(time.Date(2026, 11, 22, 23, 0, 0, 0, time.UTC), true, 1, 0), false, "", time.Time{}},
		// fixed Thursday 12:00 UTC: today's reset is still ahead, so the last was a week ago
		{"weekly fixed Thursday noon, before today's reset", "apikey", weekly(time.Date(2026, 11, 19, 12, 0, 0, 0, time.UTC), true, 4, 12), true, LocalQuotaWeekly, time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)},
		{"weekly fixed Sunday (day 0)", "apikey", weekly(time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC), true, 0, 0), true, LocalQuotaWeekly, time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC)},
		{"total decides before daily", "apikey", &LocalQuota{Limit: 1, Used: 1, Daily: QuotaPeriod{Limit: 1, Used: 1, Start: now}}, true, LocalQuotaTotal, time.Time{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := &Account{ID: 1, Platform: "openai", Type: c.typ, Status: "active", Schedulable: true, LocalQuota: c.q}
			j := Judge(a, DefaultPolicy(), now)
			if j.LocalQuota.Exceeded != c.exceeded || j.LocalQuota.Dim != c.dim || !j.LocalQuota.ResetsAt.Equal(c.resets) {
				t.Fatalf("got %+v, want exceeded=%v %s resets %v", j.LocalQuota, c.exceeded, c.dim, c.resets)
			}
			if want := c.exceeded; (j.State == StateBlocked && j.MainReason() == ReasonLocalQuota) != want {
				t.Fatalf("state %s %v", j.State, j.Reasons)
			}
			if c.exceeded && !c.resets.IsZero() {
				if next := NextChange(a, DefaultPolicy(), now); !next.Equal(c.resets) {
					t.Fatalf("NextChange %v, want %v", next, c.resets)
				}
				if after := Judge(a, DefaultPolicy(), c.resets); after.LocalQuota.Exceeded {
					t.Fatalf("still exceeded at its reset %v", c.resets)
				}
			}
		})
	}
}

func TestSchedulingThreshold(t *testing.T) {
	p := DefaultPolicy()
	p.SchedulingThresholds = map[string]float64{"openai": 90}
	w := func(used float64, resetIn time.Duration) WindowSnapshot {
		return WindowSnapshot{Present: true, HasUsed: true, UsedPercent: used, ResetAt: now.Add(resetIn), HasResetAt: true, SchedResetAt: now.Add(resetIn), HasSchedResetAt: true}
	}
	afterOnly := func(used float64, secs int) WindowSnapshot {
		return WindowSnapshot{Present: true, HasUsed: true, UsedPercent: used, ResetAfterSeconds: secs}
	}
	disabled := func(s WindowSnapshot) WindowSnapshot { s.Disabled = true; return s }
	off := DefaultPolicy()
	cases := []struct {
		name    string
		a       *Account
		p       Policy
		state   State
		reasons []Reason
		until   time.Time
	}{
		{"5h over trips", codex(time.Minute, w(92, time.Hour), WindowSnapshot{}), p, StatePaused, []Reason{ReasonSchedThreshold5h, ReasonNear5h}, now.Add(time.Hour)},
		{"at threshold trips", codex(time.Minute, WindowSnapshot{}, w(90, 48*time.Hour)), p, StatePaused, []Reason{ReasonSchedThreshold7d, ReasonNear7d}, now.Add(48 * time.Hour)},
		{"under threshold", codex(time.Minute, w(89.9, time.Hour), WindowSnapshot{}), p, StateWarn, []Reason{ReasonNear5h}, time.Time{}},
		{"default 100 is off", codex(time.Minute, w(100, time.Hour), WindowSnapshot{}), off, StateWarn, []Reason{ReasonNear5h}, time.Time{}},
		{"latest reset wins", codex(time.Minute, w(99, time.Hour), w(91, 72*time.Hour)), p, StatePaused, []Reason{ReasonSchedThreshold7d, ReasonNear5h, ReasonNear7d}, now.Add(72 * time.Hour)},
		{"ignores auto_pause disabled", codex(time.Minute, disabled(w(95, time.Hour)), WindowSnapshot{}), p, StatePaused, []Reason{ReasonSchedThreshold5h, ReasonNear5h}, now.Add(time.Hour)},
		{"reset_after only never trips", codex(time.Minute, afterOnly(95, 3600), WindowSnapshot{}), p, StateWarn, []Reason{ReasonNear5h}, time.Time{}},
		{"reset passed", codex(time.Minute, w(95, 0), WindowSnapshot{}), p, StateOK, nil, time.Time{}},
		{"stale snapshot", codex(2*time.Hour, w(95, time.Hour), WindowSnapshot{}), p, StateWarn, []Reason{ReasonNear5h}, time.Time{}},
		{"anthropic not evaluated from meta", func() *Account {
			a := codex(time.Minute, w(95, time.Hour), WindowSnapshot{})
			a.Platform = "anthropic"
			return a
		}(), Policy{StaleAfter: 2 * time.Hour, WarnPercent: 80, SchedulingThresholds: map[string]float64{"anthropic": 50}}, StateWarn, []Reason{ReasonNear5h}, time.Time{}},
	}
	cn := func(platform, provider string, used5h, usedWeek float64, reset5h, resetWeek time.Duration) *Account {
		return &Account{ID: 2, Platform: platform, Type: "apikey", Status: "active", Schedulable: true, ProviderUsage: &ProviderUsage{Provider: provider,
			Windows: [2]ProviderWindow{{HasUsed: true, UsedPercent: used5h, ResetAt: now.Add(reset5h), HasResetAt: true},
				{HasUsed: true, UsedPercent: usedWeek, ResetAt: now.Add(resetWeek), HasResetAt: true}}}}
	}
	cnPolicy := DefaultPolicy()
	cnPolicy.SchedulingThresholds = map[string]float64{"kimi": 80, "zhipu": 80}
	cnPolicy2 := DefaultPolicy()
	cnPolicy2.SchedulingThresholds = map[string]float64{"anthropic": 80}
	cases = append(cases, []struct {
		name    string
		a       *Account
		p       Policy
		state   State
		reasons []Reason
		until   time.Time
	}{
		{"kimi 5h trips", cn("kimi", "kimi", 85, 10, time.Hour, 48*time.Hour), cnPolicy, StatePaused, []Reason{ReasonSchedThreshold5h}, now.Add(time.Hour)},
		{"zhipu weekly trips as 7d", cn("zhipu", "zhipu", 10, 80, time.Hour, 48*time.Hour), cnPolicy, StatePaused, []Reason{ReasonSchedThreshold7d}, now.Add(48 * time.Hour)},
		{"kimi reset passed", cn("kimi", "kimi", 85, 85, 0, -time.Second), cnPolicy, StateOK, nil, time.Time{}},
		{"another provider's keys do not count", cn("kimi", "zhipu", 99, 99, time.Hour, time.Hour), cnPolicy, StateOK, nil, time.Time{}},
		{"anthropic session window trips", cn("anthropic", "anthropic", 85, 0, time.Hour, 0), cnPolicy2, StatePaused, []Reason{ReasonSchedThreshold5h}, now.Add(time.Hour)},
		{"anthropic without usage never trips, even at threshold 0", cn("anthropic", "anthropic", 0, 0, time.Hour, time.Hour), Policy{StaleAfter: 2 * time.Hour, SchedulingThresholds: map[string]float64{"anthropic": 0}}, StateOK, nil, time.Time{}},
		{"kimi threshold off by default", cn("kimi", "kimi", 99, 99, time.Hour, time.Hour), DefaultPolicy(), StateOK, nil, time.Time{}},
		{"the account's own threshold beats the platform's", func() *Account {
			a := cn("kimi", "kimi", 70, 10, time.Hour, 48*time.Hour)
			a.SchedThresholdOverride = 60
			return a
		}(), cnPolicy, StatePaused, []Reason{ReasonSchedThreshold5h}, now.Add(time.Hour)},
		{"an own threshold of 100 turns the platform's off", func() *Account {
			a := cn("kimi", "kimi", 85, 10, time.Hour, 48*time.Hour)
			a.SchedThresholdOverride = 100
			return a
		}(), cnPolicy, StateOK, nil, time.Time{}},
		{"an own threshold applies where the platform has none", func() *Account {
			a := cn("zhipu", "zhipu", 55, 10, time.Hour, 48*time.Hour)
			a.SchedThresholdOverride = 50
			return a
		}(), DefaultPolicy(), StatePaused, []Reason{ReasonSchedThreshold5h}, now.Add(time.Hour)},
		{"no own threshold on a platform the gateway does not evaluate", func() *Account {
			a := cn("gemini", "gemini", 99, 99, time.Hour, time.Hour)
			a.SchedThresholdOverride = 10
			return a
		}(), DefaultPolicy(), StateOK, nil, time.Time{}},
	}...)
	cases = append(cases, struct {
		name    string
		a       *Account
		p       Policy
		state   State
		reasons []Reason
		until   time.Time
	}{"openai snapshot of another identity is ignored", func() *Account {
		a := codex(time.Minute, w(95, time.Hour), WindowSnapshot{})
		a.IdentityMismatch = true
		return a
	}(), p, StateWarn, []Reason{ReasonNear5h}, time.Time{}})
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			j := Judge(c.a, c.p, now)
			if j.State != c.state || !slices.Equal(j.Reasons, c.reasons) || !j.SchedThreshold.Until.Equal(c.until) {
				t.Fatalf("got %s %v until %v, want %s %v until %v", j.State, j.Reasons, j.SchedThreshold.Until, c.state, c.reasons, c.until)
			}
			if !c.until.IsZero() {
				if next := NextChange(c.a, c.p, now); next.After(c.until) {
					t.Fatalf("NextChange %v after the block's end %v", next, c.until)
				}
			}
		})
	}
}

func TestAutoReset(t *testing.T) {
	p := DefaultPolicy()
	card := func(status string, count int, age time.Duration) *CardState {
		return &CardState{Status: status, AvailableCount: count, CheckedAt: now.Add(-age), HasCheckedAt: true}
	}
	acct := func(r *AutoReset, w5, w7 WindowSnapshot) *Account {
		a := codex(time.Minute, w5, w7)
		a.Type, a.Quota.AutoReset = "oauth", r
		return a
	}
	legacy := func(c *CardState) *AutoReset { return &AutoReset{Legacy: true, Card: c} }
	perWindow := func(on5, on7 bool) *AutoReset {
		return &AutoReset{WindowSet: [2]bool{true, true}, WindowOn: [2]bool{on5, on7}}
	}
	zero5h := &AutoReset{Legacy: true, HasThreshold: [2]bool{true, false}}
	lowCard := &AutoReset{Legacy: true, Threshold: [2]float64{0.9, 0.9}, HasThreshold: [2]bool{true, true}}
	exempt := func(s WindowSnapshot) WindowSnapshot { s.Disabled = true; return s }
	legacy7 := p
	legacy7.AutoResetLegacy7dOnly = true
	cases := []struct {
		name    string
		a       *Account
		p       Policy
		state   State
		reasons []Reason
	}{
		{"pending at 100%", acct(legacy(nil), win(100, 0.95), WindowSnapshot{}), p, StatePaused, []Reason{ReasonAutoResetPending5h}},
		{"pending ignores auto_pause disabled", acct(legacy(nil), exempt(win(100, 0.95)), WindowSnapshot{}), p, StatePaused, []Reason{ReasonAutoResetPending5h, ReasonNear5h}},
		{"card threshold 0.9", acct(lowCard, WindowSnapshot{}, win(91, 0)), p, StatePaused, []Reason{ReasonAutoResetPending7d, ReasonNear7d}},
		{"check: over ordinary, no card", acct(legacy(nil), win(96, 0.95), WindowSnapshot{}), p, StatePaused, []Reason{ReasonAutoResetCheck5h}},
		{"check: card not available", acct(legacy(card("no_credit", 0, time.Minute)), win(96, 0.95), WindowSnapshot{}), p, StatePaused, []Reason{ReasonAutoResetCheck5h}},
		{"check: available but none left", acct(legacy(card("available", 0, time.Minute)), win(96, 0.95), WindowSnapshot{}), p, StatePaused, []Reason{ReasonAutoResetCheck5h}},
		{"check: card state 10 min old", acct(legacy(card("available", 1, 10*time.Minute)), win(96, 0.95), WindowSnapshot{}), p, StatePaused, []Reason{ReasonAutoResetCheck5h}},
		{"ready: fresh available card", acct(legacy(card("available", 2, 10*time.Minute-1)), win(96, 0.95), WindowSnapshot{}), p, StateWarn, []Reason{ReasonAutoResetReady5h}},
		{"ready: card checked in the future", acct(legacy(card("available", 1, -time.Hour)), win(96, 0.95), WindowSnapshot{}), p, StateWarn, []Reason{ReasonAutoResetReady5h}},
		{"per-window 7d only: 5h ordinary pause", acct(perWindow(false, true), win(96, 0.95), WindowSnapshot{}), p, StatePaused, []Reason{ReasonQuota5h}},
		{"per-window 5h on", acct(perWindow(true, false), win(96, 0.95), WindowSnapshot{}), p, StatePaused, []Reason{ReasonAutoResetCheck5h}},
		{"legacy with per-window keys means 7d", acct(&AutoReset{Legacy: true, WindowSet: [2]bool{true, false}}, WindowSnapshot{}, win(96, 0.95)), p, StatePaused, []Reason{ReasonAutoResetCheck7d}},
		{"an explicit 7d switch beats the legacy one", acct(&AutoReset{Legacy: true, WindowSet: [2]bool{false, true}, WindowOn: [2]bool{false, false}}, WindowSnapshot{}, win(96, 0.95)), p, StatePaused, []Reason{ReasonQuota7d}},
		{"legacy read as 7d only by policy", acct(legacy(nil), win(96, 0.95), WindowSnapshot{}), legacy7, StatePaused, []Reason{ReasonQuota5h}},
		{"zero threshold turns the window off", acct(zero5h, win(100, 0.95), WindowSnapshot{}), p, StatePaused, []Reason{ReasonQuota5h}},
		{"switch off: ordinary rule", acct(&AutoReset{}, win(96, 0.95), WindowSnapshot{}), p, StatePaused, []Reason{ReasonQuota5h}},
		{"apikey accounts do not use it", func() *Account { a := acct(legacy(nil), win(96, 0.95), WindowSnapshot{}); a.Type = "apikey"; return a }(), p, StatePaused, []Reason{ReasonQuota5h}},
		{"stale snapshot: no branch", func() *Account {
			a := acct(legacy(nil), win(100, 0.95), WindowSnapshot{})
			a.Quota.UpdatedAt = now.Add(-3 * time.Hour)
			return a
		}(), p, StateStaleProbe, []Reason{ReasonStale5h}},
		{"under everything", acct(legacy(nil), win(50, 0.95), WindowSnapshot{}), p, StateOK, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			j := Judge(c.a, c.p, now)
			if j.State != c.state || !slices.Equal(j.Reasons, c.reasons) {
				t.Fatalf("got %s %v, want %s %v", j.State, j.Reasons, c.state, c.reasons)
			}
		})
	}
	// A ready card stops being ready 10 minutes after its check: NextChange says when.
	a := acct(legacy(card("available", 1, 5*time.Minute)), win(96, 0.95), WindowSnapshot{UsedPercent: 0})
	if next := NextChange(a, p, now); !next.Equal(now.Add(5 * time.Minute)) {
		t.Fatalf("NextChange %v", next)
	}
	if j := Judge(a, p, now.Add(5*time.Minute)); j.MainReason() != ReasonAutoResetCheck5h {
		t.Fatalf("after the card state aged: %v", j.Reasons)
	}
}

func TestVersionNote(t *testing.T) {
	for v, wantEmpty := range map[string]bool{"0.1.179": true, "v0.1.178": true, "0.1.179-rc1": true, "0.1.180": false, "0.2": false, "": false, "dev": false} {
		if got := VersionNote(v); (got == "") != wantEmpty {
			t.Errorf("%q: %q", v, got)
		}
	}
	if FormatSnapshotAge(-time.Second) != FutureAge || FormatSnapshotAge(90*time.Second) != "1m" {
		t.Error("FormatSnapshotAge")
	}
}

// A per-account threshold the gateway parses as NaN is kept as NaN by its clamp: the
// gateway default does not replace it and no usage ever reaches it.
func TestNaNThresholdNeverPauses(t *testing.T) {
	p := DefaultPolicy()
	p.DefaultThreshold = [2]float64{0.9, 0.9}
	a := codex(time.Minute, WindowSnapshot{Present: true, HasUsed: true, UsedPercent: 99, ThresholdNaN: true, ResetAt: now.Add(time.Hour), HasResetAt: true}, WindowSnapshot{})
	j := Judge(a, p, now)
	if j.State == StatePaused || j.Windows[0].Threshold != 0 || j.Windows[0].ThresholdSource != ThresholdAccount {
		t.Fatalf("got %s %v, window %+v", j.State, j.Reasons, j.Windows[0])
	}
	a.Quota.Windows[0].ThresholdNaN = false
	if j := Judge(a, p, now); j.State != StatePaused {
		t.Fatalf("without NaN the default pauses: got %s", j.State)
	}
}

// The pause point a projection aims at is the lower of the auto-pause threshold and the
// scheduling threshold; an exemption lifts only the former, and the scheduling threshold
// needs the window's reset time.
func TestPausePoint(t *testing.T) {
	w := WindowSnapshot{Present: true, HasUsed: true, UsedPercent: 50, Threshold: 0.95, ResetAt: now.Add(time.Hour), HasResetAt: true, SchedResetAt: now.Add(time.Hour), HasSchedResetAt: true}
	p := DefaultPolicy()
	p.SchedulingThresholds = map[string]float64{"openai": 90}
	point := func(a *Account, p Policy) (float64, bool) {
		j := Judge(a, p, now)
		return PausePoint(a, p, &j, 0)
	}
	cases := []struct {
		name string
		mod  func(a *Account, p *Policy)
		want float64
		ok   bool
	}{
		{"scheduling threshold is lower", func(*Account, *Policy) {}, 90, true},
		{"auto-pause is lower", func(a *Account, _ *Policy) { a.Quota.Windows[0].Threshold = 0.8 }, 80, true},
		{"exempt: only the scheduling threshold", func(a *Account, _ *Policy) { a.Quota.Windows[0].Disabled = true }, 90, true},
		{"no reset time: only auto-pause", func(a *Account, _ *Policy) { a.Quota.Windows[0].HasSchedResetAt = false }, 95, true},
		{"the account's own scheduling threshold", func(a *Account, _ *Policy) { a.SchedThresholdOverride = 70 }, 70, true},
		{"scheduling threshold off", func(_ *Account, p *Policy) { p.SchedulingThresholds = nil }, 95, true},
		{"another identity's snapshot", func(a *Account, _ *Policy) { a.IdentityMismatch = true }, 95, true},
		{"exempt and off", func(a *Account, p *Policy) { a.Quota.Windows[0].Disabled = true; p.SchedulingThresholds = nil }, 0, false},
		// Reset cards: the card threshold pauses (pending) exempt or not, and a ready card
		// keeps the account scheduled past the ordinary threshold.
		{"reset cards, none ready: the ordinary threshold", func(a *Account, p *Policy) {
			a.Type, a.Quota.AutoReset = "oauth", &AutoReset{Legacy: true}
			p.SchedulingThresholds = nil
		}, 95, true},
		{"reset cards, one ready: past the ordinary threshold to the card's", func(a *Account, p *Policy) {
			a.Type = "oauth"
			a.Quota.AutoReset = &AutoReset{Legacy: true, Card: &CardState{Status: "available", AvailableCount: 1, CheckedAt: now, HasCheckedAt: true}}
			a.Quota.Windows[0].UsedPercent = 96
			p.SchedulingThresholds = nil
		}, 100, true},
		{"reset cards, one ready: the scheduling threshold still pauses", func(a *Account, _ *Policy) {
			a.Type = "oauth"
			a.Quota.AutoReset = &AutoReset{Legacy: true, Card: &CardState{Status: "available", AvailableCount: 1, CheckedAt: now, HasCheckedAt: true}}
			a.Quota.Windows[0].UsedPercent = 96
			a.SchedThresholdOverride = 98 // the account's own, above its 96 %
		}, 98, true},
		{"reset cards, exempt window: the card threshold", func(a *Account, p *Policy) {
			a.Type, a.Quota.AutoReset = "oauth", &AutoReset{Legacy: true, HasThreshold: [2]bool{true}, Threshold: [2]float64{0.97}}
			a.Quota.Windows[0].Disabled = true
			p.SchedulingThresholds = nil
		}, 97, true},
	}
	for _, c := range cases {
		a := codex(time.Minute, w, WindowSnapshot{})
		pc := p
		c.mod(a, &pc)
		if got, ok := point(a, pc); got != c.want || ok != c.ok {
			t.Errorf("%s: got %v %v, want %v %v", c.name, got, ok, c.want, c.ok)
		}
	}
}
