package model

import "time"

// ThresholdSource says where a window's effective threshold came from.
type ThresholdSource string

// Threshold sources, as shown to operators and in the JSON output.
const (
	ThresholdAccount ThresholdSource = "account"
	ThresholdGateway ThresholdSource = "gateway"
	ThresholdNone    ThresholdSource = "none"
)

// Verdict is what the gateway's quota check concludes about one window.
type Verdict string

// Per-window verdicts. Only VerdictPaused stops the gateway from scheduling the account.
const (
	VerdictNone     Verdict = ""         // nothing to say: under threshold, unset or no usage
	VerdictExempt   Verdict = "exempt"   // auto_pause_<w>_disabled is set
	VerdictReset    Verdict = "reset"    // over threshold, but the window rolled over
	VerdictStale    Verdict = "stale"    // over threshold, but the snapshot is too old to trust
	VerdictPaused   Verdict = "paused"   // over threshold on a fresh snapshot
	VerdictNotQuota Verdict = "notquota" // the gateway does not quota-pause this platform
)

// WindowJudgement is one window as the gateway sees it at a given time. The booleans
// come last, where they share one word.
type WindowJudgement struct {
	Name        WindowName
	UsedPercent float64
	// Threshold is the effective ratio (account, else gateway default), clamped to [0,1].
	Threshold       float64
	ThresholdSource ThresholdSource
	// ResetAt is when the window rolls over: codex_<w>_reset_at, else derived from
	// reset_after_seconds and the snapshot time; zero when unknown.
	ResetAt time.Time
	Verdict Verdict

	Present  bool
	Disabled bool
	Reset    bool // ResetAt has passed: UsedPercent is no longer true
	// Over says used has reached the effective threshold (what step 6 compares).
	Over bool
}

// judgeWindow mirrors the gateway's per-window quota check (sub2api.md section 2),
// step for step, and keeps the intermediate facts so they can be shown. It fills j, a
// zero WindowJudgement; stale is step 5's verdict on the snapshot (Judgement.Stale).
func judgeWindow(j *WindowJudgement, q *Quota, i int, isOpenAI bool, p Policy, now time.Time, stale bool) {
	w := &q.Windows[i]
	j.Name, j.Present, j.UsedPercent, j.Disabled = WindowNames[i], w.Present, w.UsedPercent, w.Disabled

	// Step 1: the account's threshold if > 0, else the gateway default; clamp to [0,1].
	switch {
	case w.ThresholdNaN: // resolveOpenAIQuotaAutoPauseThresholds: no default replaces NaN
		j.ThresholdSource = ThresholdAccount
	case w.Threshold > 0:
		j.Threshold, j.ThresholdSource = ClampRatio(w.Threshold), ThresholdAccount
	case ClampRatio(p.DefaultThreshold[i]) > 0:
		j.Threshold, j.ThresholdSource = ClampRatio(p.DefaultThreshold[i]), ThresholdGateway
	default:
		j.ThresholdSource = ThresholdNone
	}

	// Step 4's reset time, computed up front because it is worth showing either way.
	j.ResetAt, j.Reset = windowReset(q, w, now)
	j.Over = j.Threshold > 0 && w.UsedPercent > 0 && w.UsedPercent/100 >= j.Threshold

	switch {
	case !isOpenAI:
		j.Verdict = VerdictNotQuota
	case w.Disabled: // step 2
		j.Verdict = VerdictExempt
	case j.Threshold <= 0 || w.UsedPercent <= 0: // steps 2 and 3
		j.Verdict = VerdictNone
	case j.Reset: // step 4
		if j.Over {
			j.Verdict = VerdictReset
		}
	case stale: // step 5
		if j.Over {
			j.Verdict = VerdictStale
		}
	case j.Over: // step 6
		j.Verdict = VerdictPaused
	}
}

// windowReset follows the gateway: an absolute reset_at wins; otherwise reset_after_seconds
// counted from the snapshot time, or from now when there is none (which never resets).
func windowReset(q *Quota, w *WindowSnapshot, now time.Time) (time.Time, bool) {
	if w.HasResetAt {
		return w.ResetAt, !now.Before(w.ResetAt)
	}
	if w.ResetAfterSeconds <= 0 {
		return time.Time{}, false
	}
	if !q.HasUpdatedAt {
		return time.Time{}, false
	}
	at := q.UpdatedAt.Add(time.Duration(w.ResetAfterSeconds) * time.Second)
	return at, !now.Before(at)
}

// ClampRatio clamps a threshold ratio to [0,1] as the gateway does (NaN counts as 0).
func ClampRatio(v float64) float64 {
	switch {
	case v > 1:
		return 1
	case v > 0:
		return v
	default: // also NaN
		return 0
	}
}
