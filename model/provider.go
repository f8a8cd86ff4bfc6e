package model

import (
	"time"
)

// ProviderJudgement is an account's other-platform usage (Anthropic, Kimi, Zhipu) as
// screens and reports show it in their 5h and 7d columns. Only the per-platform
// scheduling threshold can pause these accounts: the OpenAI quota auto-pause does not
// apply to them.
type ProviderJudgement struct {
	Provider string
	// Windows[1] is the weekly (Kimi, Zhipu) or 7d (Anthropic) window.
	Windows [2]ProviderWindowJudgement
	// ThresholdPercent is the scheduling threshold (the account's own, else its
	// platform's), 0 when none applies (absent or at least 100, or the usage is another
	// provider's).
	ThresholdPercent float64
	// SampledAt is when both windows were read (Anthropic only), valid when HasSampledAt.
	SampledAt    time.Time
	HasSampledAt bool
	Age          time.Duration // now - SampledAt, when HasSampledAt
}

// ThresholdScheduling is the threshold source of another platform's window whose
// platform sets a scheduling threshold: the only threshold that pauses it.
const ThresholdScheduling ThresholdSource = "scheduling"

// ProviderWindowJudgement is one window of a ProviderJudgement.
type ProviderWindowJudgement struct {
	Present     bool // the used key exists
	UsedPercent float64
	ResetAt     time.Time // zero when unknown
	// Reset says ResetAt has passed: UsedPercent belongs to the window before.
	Reset bool
	// Over says the scheduling threshold trips on this window now, as
	// judgeSchedThreshold reads it: used at or over it and a reset still ahead.
	Over bool
}

// JudgeProvider judges the account's ProviderUsage at now. ok is false when there is
// none to show: no usage, an undecodable value, or a Codex snapshot, which then fills
// the 5h and 7d columns itself.
func JudgeProvider(a *Account, p Policy, now time.Time) (j ProviderJudgement, ok bool) {
	u := a.ProviderUsage
	if u == nil || a.Quota != nil || a.Invalid != "" {
		return j, false
	}
	j.Provider, j.SampledAt, j.HasSampledAt = u.Provider, u.SampledAt, u.HasSampledAt
	if j.HasSampledAt {
		j.Age = now.Sub(u.SampledAt)
	}
	platform, threshold, applies := schedThreshold(a, p) // the account's own or its platform's
	applies = applies && u.Provider == platform
	if applies {
		j.ThresholdPercent = threshold
	}
	for i, w := range u.Windows {
		jw := &j.Windows[i]
		jw.Present, jw.UsedPercent = w.HasUsed, w.UsedPercent
		if w.HasResetAt {
			jw.ResetAt = w.ResetAt
			jw.Reset = !now.Before(w.ResetAt)
		}
		// Anthropic's candidates need usage above 0 (anthropicThresholdCandidates).
		counts := w.HasUsed && (platform != "anthropic" || w.UsedPercent > 0)
		jw.Over = applies && counts && w.HasResetAt && w.ResetAt.After(now) && w.UsedPercent >= threshold
	}
	return j, true
}
