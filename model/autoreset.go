package model

import "time"

// AutoReset is the reset-credit automation of an OpenAI OAuth account (sub2api PR #6121
// and its later shapes; not in 0.1.179), as stored in Extra.
type AutoReset struct {
	// Legacy is auto_reset_credit_enabled: both windows in the first shape, 7d only once
	// per-window switches exist (see Policy.AutoResetLegacy7dOnly).
	Legacy bool
	// WindowSet says auto_reset_credit_<w>_enabled is stored; WindowOn is its value.
	WindowSet, WindowOn [2]bool
	// Threshold is auto_reset_credit_<w>_threshold as a ratio; valid when HasThreshold
	// (default 1.0; a stored 0 turns the window off).
	Threshold    [2]float64
	HasThreshold [2]bool
	// ExpiryEnabled and ExpiryLeadMinutes drive spending a card before it expires; they
	// do not change the pause decision and are shown only.
	ExpiryEnabled     bool
	ExpiryLeadMinutes int

	Card *CardState // codex_auto_reset_credit_state; nil when absent
}

// CardState is codex_auto_reset_credit_state.
type CardState struct {
	Status         string // checking, available, resetting, success, no_credit, failed
	AvailableCount int
	CheckedAt      time.Time
	HasCheckedAt   bool
	TriggerWindow  string
	LastResultAt   time.Time
	ErrorCode      string
}

// CardFreshFor is how long an "available" card state counts as ready.
const CardFreshFor = 10 * time.Minute

// Ready says a card can be spent now: available, counted, checked less than 10 minutes
// ago (a check time in the future counts as fresh, like any snapshot time).
func (c *CardState) Ready(now time.Time) bool {
	return c != nil && c.Status == "available" && c.AvailableCount > 0 && c.HasCheckedAt && now.Sub(c.CheckedAt) < CardFreshFor
}

// AutoResetVerdict is what the reset-credit branch decides for one window.
type AutoResetVerdict string

// Per-window verdicts of the reset-credit branch.
const (
	AutoResetNone    AutoResetVerdict = ""
	AutoResetPending AutoResetVerdict = "pending" // usage reached the card threshold: paused
	AutoResetCheck   AutoResetVerdict = "check"   // over the ordinary threshold, no ready card: paused
	AutoResetReady   AutoResetVerdict = "ready"   // over the ordinary threshold, a card is ready: scheduled
)

// autoResetApplies mirrors the gate of the new first branch: an OpenAI OAuth account.
// (The gateway also skips spark shadow accounts, which the meta form does not mark.)
func autoResetApplies(a *Account) bool {
	q := a.Quota
	return q != nil && q.AutoReset != nil && a.Platform == "openai" && a.Type == "oauth"
}

// Covers says whether the automation covers window i under p.
func (r *AutoReset) Covers(i int, p Policy) bool { return r.windowOn(i, p) }

// CardThreshold is window i's card threshold as a ratio (default 1.0).
func (r *AutoReset) CardThreshold(i int) float64 { return r.threshold(i) }

// windowOn says whether the automation covers window i.
func (r *AutoReset) windowOn(i int, p Policy) bool {
	if r.HasThreshold[i] && r.Threshold[i] <= 0 {
		return false
	}
	if r.WindowSet[i] {
		return r.WindowOn[i]
	}
	if !r.Legacy {
		return false
	}
	// The first shape's switch covers both windows; once per-window switches exist (or
	// the gateway is known to be of that shape) it means 7d only.
	perWindow := r.WindowSet[0] || r.WindowSet[1]
	return i == 1 || (!perWindow && !p.AutoResetLegacy7dOnly)
}

func (r *AutoReset) threshold(i int) float64 {
	if !r.HasThreshold[i] {
		return 1
	}
	return ClampRatio(r.Threshold[i])
}

// judgeAutoReset runs the new first branch of shouldAutoPauseOpenAIAccountByQuota over
// the windows already judged by the ordinary rule. Usage counts only where the ordinary
// rule would look at it: used > 0, not reset, snapshot not stale (stale is Judgement.Stale).
func judgeAutoReset(a *Account, ws *[2]WindowJudgement, p Policy, now time.Time, stale bool) [2]AutoResetVerdict {
	var out [2]AutoResetVerdict
	if !autoResetApplies(a) {
		return out
	}
	r := a.Quota.AutoReset
	usable := func(i int) bool { return ws[i].UsedPercent > 0 && !ws[i].Reset && !stale }
	// 1. the card threshold, even for a window exempt from auto-pause
	for i := range ws {
		if r.windowOn(i, p) && usable(i) && ws[i].UsedPercent/100 >= r.threshold(i) {
			out[i] = AutoResetPending
			return out
		}
	}
	// 2. the ordinary rule, unless a card is ready to be spent (the gateway names the
	// first window, 5h before 7d; both are marked so that both are shown)
	ready := r.Card.Ready(now)
	for i := range ws {
		if r.windowOn(i, p) && ws[i].Verdict == VerdictPaused {
			out[i] = AutoResetCheck
			if ready {
				out[i] = AutoResetReady
			}
		}
	}
	return out
}
