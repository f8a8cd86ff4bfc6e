package model

import (
	"slices"
	"testing"
	"time"
)

var now = time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)

// codex builds an active, schedulable OpenAI account with a snapshot taken age ago.
func codex(age time.Duration, w5h, w7d WindowSnapshot) *Account {
	return &Account{ID: 1, Platform: "openai", Status: "active", Schedulable: true,
		Quota: &Quota{UpdatedAt: now.Add(-age), HasUpdatedAt: true, Windows: [2]WindowSnapshot{w5h, w7d}}}
}

func win(used, threshold float64) WindowSnapshot {
	return WindowSnapshot{Present: true, UsedPercent: used, Threshold: threshold}
}

func TestQuotaDecision(t *testing.T) {
	def := DefaultPolicy()
	withDefaults := def
	withDefaults.DefaultThreshold = [2]float64{0.9, 0.8}
	missingStale := def
	missingStale.MissingTimestampStale = true

	noTimestamp := func(w WindowSnapshot) *Account {
		a := codex(0, w, WindowSnapshot{})
		a.Quota.HasUpdatedAt, a.Quota.UpdatedAt = false, time.Time{}
		return a
	}
	resetAt := func(w WindowSnapshot, at time.Time) WindowSnapshot { w.ResetAt, w.HasResetAt = at, true; return w }
	resetAfter := func(w WindowSnapshot, s int) WindowSnapshot { w.ResetAfterSeconds = s; return w }
	disabled := func(w WindowSnapshot) WindowSnapshot { w.Disabled = true; return w }

	cases := []struct {
		name    string
		a       *Account
		p       Policy
		state   State
		reasons []Reason
	}{
		{"at threshold pauses", codex(time.Minute, win(95, 0.95), win(0, 0)), def, StatePaused, []Reason{ReasonQuota5h}},
		{"just under threshold warns", codex(time.Minute, win(94.9, 0.95), win(0, 0)), def, StateWarn, []Reason{ReasonNear5h}},
		{"no threshold anywhere never pauses", codex(time.Minute, win(100, 0), win(100, 0)), def, StateWarn, []Reason{ReasonNear5h, ReasonNear7d}},
		{"used 0 never pauses, even with threshold 0.0001", codex(time.Minute, win(0, 0.0001), win(0, 0)), def, StateOK, nil},
		{"negative used never pauses", codex(time.Minute, win(-5, 0.5), win(0, 0)), def, StateOK, nil},
		{"used over 100 pauses", codex(time.Minute, win(0, 0), win(130, 1)), def, StatePaused, []Reason{ReasonQuota7d}},
		{"threshold clamps to 1: 99.9 does not pause", codex(time.Minute, win(99.9, 1), win(0, 0)), def, StateWarn, []Reason{ReasonNear5h}},
		{"5h decided before 7d", codex(time.Minute, win(99, 0.9), win(99, 0.9)), def, StatePaused, []Reason{ReasonQuota5h, ReasonQuota7d}},
		{"gateway default applies when account has none", codex(time.Minute, win(91, 0), win(10, 0)), withDefaults, StatePaused, []Reason{ReasonQuota5h}},
		{"account threshold beats gateway default", codex(time.Minute, win(91, 0.95), win(10, 0)), withDefaults, StateWarn, []Reason{ReasonNear5h}},
		{"7d default, 5h account", codex(time.Minute, win(50, 0.6), win(85, 0)), withDefaults, StatePaused, []Reason{ReasonQuota7d}},
		{"disabled window is exempt", codex(time.Minute, disabled(win(99, 0.9)), win(0, 0)), def, StateWarn, []Reason{ReasonNear5h}},
		{"disabled 5h, 7d still pauses", codex(time.Minute, disabled(win(99, 0.9)), win(99, 0.9)), withDefaults, StatePaused, []Reason{ReasonQuota7d, ReasonNear5h}},
		{"reset_at passed skips", codex(time.Minute, resetAt(win(99, 0.9), now), win(0, 0)), def, StateOK, nil},
		{"reset_at one second ahead still pauses", codex(time.Minute, resetAt(win(99, 0.9), now.Add(time.Second)), win(0, 0)), def, StatePaused, []Reason{ReasonQuota5h}},
		{"reset_after counted from snapshot time: passed", codex(10*time.Minute, resetAfter(win(99, 0.9), 600), win(0, 0)), def, StateOK, nil},
		{"reset_after counted from snapshot time: not yet", codex(10*time.Minute, resetAfter(win(99, 0.9), 601), win(0, 0)), def, StatePaused, []Reason{ReasonQuota5h}},
		{"reset_at wins over reset_after", codex(time.Hour, resetAfter(resetAt(win(99, 0.9), now.Add(time.Hour)), 60), win(0, 0)), def, StatePaused, []Reason{ReasonQuota5h}},
		{"stale bound: one ns short is fresh", codex(2*time.Hour-1, win(99, 0.9), win(0, 0)), def, StatePaused, []Reason{ReasonQuota5h}},
		{"stale bound: exactly 2h is stale", codex(2*time.Hour, win(99, 0.9), win(0, 0)), def, StateStaleProbe, []Reason{ReasonStale5h}},
		{"stale but under threshold is just near", codex(3*time.Hour, win(85, 0.9), win(0, 0)), def, StateWarn, []Reason{ReasonNear5h}},
		{"reset checked before staleness", codex(3*time.Hour, resetAt(win(99, 0.9), now.Add(-time.Minute)), win(0, 0)), def, StateOK, nil},
		{"missing timestamp counts as fresh upstream", noTimestamp(win(99, 0.9)), def, StatePaused, []Reason{ReasonQuota5h, ReasonNoTimestamp}},
		{"missing timestamp counts as stale when configured", noTimestamp(win(99, 0.9)), missingStale, StateStaleProbe, []Reason{ReasonStale5h, ReasonNoTimestamp}},
		{"reset_after without timestamp never resets", noTimestamp(resetAfter(win(99, 0.9), 1)), def, StatePaused, []Reason{ReasonQuota5h, ReasonNoTimestamp}},
		{"custom stale-after", codex(31*time.Minute, win(99, 0.9), win(0, 0)), Policy{StaleAfter: 30 * time.Minute, WarnPercent: 80}, StateStaleProbe, []Reason{ReasonStale5h}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			j := Judge(c.a, c.p, now)
			if j.State != c.state || !slices.Equal(j.Reasons, c.reasons) {
				t.Fatalf("got %s %v, want %s %v", j.State, j.Reasons, c.state, c.reasons)
			}
		})
	}
}

func TestNotOpenAINeverQuotaPaused(t *testing.T) {
	a := codex(time.Minute, win(99, 0.9), win(0, 0))
	a.Platform = "anthropic"
	j := Judge(a, DefaultPolicy(), now)
	if j.State != StateWarn || j.Windows[0].Verdict != VerdictNotQuota {
		t.Fatalf("got %s %v verdict %q", j.State, j.Reasons, j.Windows[0].Verdict)
	}
}

// The bug this locks: used percent was once read as remaining. A fresh account whose
// snapshot says 1 % used must be shown as 1 % and be healthy.
func TestUsedMeansUsed(t *testing.T) {
	j := Judge(codex(time.Minute, win(1, 0.95), win(1, 0.95)), DefaultPolicy(), now)
	if j.State != StateOK || j.Windows[0].UsedPercent != 1 || j.Windows[1].UsedPercent != 1 {
		t.Fatalf("1%% used judged as %s with %v%%", j.State, j.Windows[0].UsedPercent)
	}
	j = Judge(codex(time.Minute, win(99, 0.95), win(0, 0)), DefaultPolicy(), now)
	if j.State != StatePaused {
		t.Fatalf("99%% used judged as %s", j.State)
	}
}

func TestWindowFacts(t *testing.T) {
	a := codex(10*time.Minute, WindowSnapshot{Present: true, UsedPercent: 97, ResetAfterSeconds: 3600}, win(40, 0))
	p := DefaultPolicy()
	p.DefaultThreshold[0] = 0.95
	j := Judge(a, p, now)
	w := j.Windows[0]
	if w.Threshold != 0.95 || w.ThresholdSource != ThresholdGateway || !w.ResetAt.Equal(now.Add(50*time.Minute)) || w.Reset || !w.Over {
		t.Fatalf("5h facts: %+v", w)
	}
	if j.Windows[1].ThresholdSource != ThresholdNone || j.Age != 10*time.Minute || j.Stale {
		t.Fatalf("7d/age facts: %+v age %v", j.Windows[1], j.Age)
	}
}

func TestBlocksAndPrecedence(t *testing.T) {
	base := func() *Account { return codex(time.Minute, win(99, 0.9), win(0, 0)) }
	cases := []struct {
		name   string
		mod    func(*Account)
		state  State
		reason Reason
	}{
		{"disabled beats everything", func(a *Account) { a.Status = "disabled"; a.Schedulable = false }, StateDisabled, ReasonDisabled},
		{"error beats blocked", func(a *Account) { a.Status = "error"; a.EditBlocks().OverloadUntil = now.Add(time.Minute) }, StateError, ReasonError},
		{"unschedulable", func(a *Account) { a.Schedulable = false }, StateBlocked, ReasonUnschedulable},
		{"expired with auto pause", func(a *Account) { a.EditBlocks().ExpiresAt, a.AutoPauseOnExpired = now, true }, StateBlocked, ReasonExpired},
		{"overloaded", func(a *Account) { a.EditBlocks().OverloadUntil = now.Add(time.Second) }, StateBlocked, ReasonOverloaded},
		{"rate limited", func(a *Account) { a.EditBlocks().RateLimitResetAt = now.Add(time.Second) }, StateBlocked, ReasonRateLimited},
		{"temp unschedulable", func(a *Account) { a.EditBlocks().TempUnschedulableUntil = now.Add(time.Second) }, StateBlocked, ReasonTempUnschedulable},
		{"expired block over", func(a *Account) { a.EditBlocks().TempUnschedulableUntil = now }, StatePaused, ReasonQuota5h},
		{"expiry without auto pause", func(a *Account) { a.EditBlocks().ExpiresAt = now.Add(-time.Hour) }, StatePaused, ReasonQuota5h},
		{"invalid", func(a *Account) { a.Invalid = "not valid JSON" }, StateInvalid, ReasonInvalid},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := base()
			c.mod(a)
			j := Judge(a, DefaultPolicy(), now)
			if j.State != c.state || j.MainReason() != c.reason {
				t.Fatalf("got %s %v, want %s first %s", j.State, j.Reasons, c.state, c.reason)
			}
		})
	}
}

func TestModelLimitIsInformational(t *testing.T) {
	a := codex(time.Minute, win(10, 0.9), win(0, 0))
	a.EditBlocks().ModelLimits = []ModelLimit{{Model: "gpt-image", ResetAt: now.Add(-time.Minute)}, {Model: "o3", ResetAt: now.Add(time.Minute)}}
	j := Judge(a, DefaultPolicy(), now)
	if j.State != StateOK || !slices.Equal(j.Reasons, []Reason{ReasonModelRateLimited}) {
		t.Fatalf("got %s %v", j.State, j.Reasons)
	}
}

func TestStateOrder(t *testing.T) {
	if !(StateInvalid.Severity() < StateDisabled.Severity() && StatePaused.Severity() < StateStaleProbe.Severity() && StateWarn.Severity() < StateOK.Severity()) {
		t.Fatal("severity order broken")
	}
	if s, ok := ParseState("stale_probe"); !ok || s != StateStaleProbe {
		t.Fatal("ParseState")
	}
	if _, ok := ParseState("nope"); ok {
		t.Fatal("ParseState accepted nope")
	}
}

// Between now and NextChange the judgement must not change; at NextChange it may.
func TestNextChange(t *testing.T) {
	a := codex(90*time.Minute, WindowSnapshot{Present: true, UsedPercent: 99, Threshold: 0.9, ResetAt: now.Add(3 * time.Hour), HasResetAt: true}, win(10, 0))
	a.EditBlocks().OverloadUntil = now.Add(10 * time.Minute)
	p := DefaultPolicy()
	next := NextChange(a, p, now)
	if !next.Equal(now.Add(10 * time.Minute)) {
		t.Fatalf("next change %v, want the overload's end", next)
	}
	before := Judge(a, p, next.Add(-time.Nanosecond))
	if j := Judge(a, p, now); j.State != before.State || !slices.Equal(j.Reasons, before.Reasons) {
		t.Fatal("the judgement changed before NextChange")
	}
	if Judge(a, p, next).State == before.State {
		t.Fatal("nothing changed at NextChange")
	}
	// Then the snapshot goes stale at 2h, then the window resets.
	if n := NextChange(a, p, next); !n.Equal(now.Add(30 * time.Minute)) {
		t.Fatalf("second change %v", n)
	}
	if n := NextChange(a, p, now.Add(30*time.Minute)); !n.Equal(now.Add(3 * time.Hour)) {
		t.Fatalf("third change %v", n)
	}
	if n := NextChange(&Account{}, p, now); !n.IsZero() {
		t.Fatalf("an account with nothing due: %v", n)
	}
}
