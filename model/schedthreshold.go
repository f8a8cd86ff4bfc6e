package model

import (
	"strings"
	"time"
)

// SchedThresholdOff is the percent at and above which a scheduling threshold is off.
const SchedThresholdOff = 100

// DefaultSchedulingThresholds is the gateway's default account_scheduling_thresholds:
// every platform at 100 %, which is off.
func DefaultSchedulingThresholds() map[string]float64 {
	return map[string]float64{"openai": 100, "anthropic": 100, "grok": 100}
}

// SchedThresholdJudgement is the window of the gateway's per-platform scheduling
// threshold (EvaluateAccountSchedulingThreshold) that trips, if any.
type SchedThresholdJudgement struct {
	Tripped bool
	// InForce says a threshold applies to the account at all (ThresholdPercent is then
	// set even when nothing trips): a block it wrote is not written again when it is off.
	InForce          bool
	Window           WindowName
	UsedPercent      float64
	ThresholdPercent float64
	// Until is the window's reset: the temporary block the gateway writes lasts until then.
	Until time.Time
}

// judgeSchedThreshold mirrors EvaluateAccountSchedulingThreshold for OpenAI, Kimi and Zhipu
// and Anthropic accounts (Grok reads keys the meta form does not carry). For OpenAI a
// window counts when its used_percent
// key exists, it has not reset and the snapshot is not stale (the quota rule's steps 4 and
// 5), its reset_at is in the future, and used >= threshold percent. auto_pause_<w>_disabled
// is not consulted. Of several windows the latest reset wins, then the higher usage.
// stale is Judgement.Stale.
func judgeSchedThreshold(a *Account, p Policy, now time.Time, stale bool) SchedThresholdJudgement {
	platform, threshold, ok := schedThreshold(a, p)
	if !ok {
		return SchedThresholdJudgement{}
	}
	win := SchedThresholdJudgement{InForce: true, ThresholdPercent: threshold}
	consider := func(i int, used float64, until time.Time, hasUntil bool) {
		if !hasUntil || !until.After(now) || used < threshold {
			return
		}
		if !win.Tripped || until.After(win.Until) || (until.Equal(win.Until) && used > win.UsedPercent) {
			win = SchedThresholdJudgement{Tripped: true, InForce: true, Window: WindowNames[i], UsedPercent: used, ThresholdPercent: threshold, Until: until}
		}
	}
	switch platform {
	case "openai":
		q := a.Quota
		if q == nil || a.IdentityMismatch {
			return win
		}
		if stale {
			return win
		}
		for i := range q.Windows {
			w := &q.Windows[i]
			if !w.HasUsed {
				continue
			}
			if _, reset := windowReset(q, w, now); reset {
				continue
			}
			consider(i, w.UsedPercent, w.SchedResetAt, w.HasSchedResetAt)
		}
	case "anthropic":
		// anthropicThresholdCandidates: only windows with usage above 0; no reset or
		// staleness check beyond a future reset time.
		if u := a.ProviderUsage; u != nil && u.Provider == platform {
			for i, w := range u.Windows {
				if w.HasUsed && w.UsedPercent > 0 {
					consider(i, w.UsedPercent, w.ResetAt, w.HasResetAt)
				}
			}
		}
	case "kimi", "zhipu":
		// cnThresholdCandidate: no reset or staleness check, only a future reset time.
		if u := a.ProviderUsage; u != nil && u.Provider == platform {
			for i, w := range u.Windows {
				if w.HasUsed {
					consider(i, w.UsedPercent, w.ResetAt, w.HasResetAt)
				}
			}
		}
	}
	return win
}

// schedThreshold is the scheduling threshold in percent that applies to the account, and
// its platform as the gateway normalises it; ok is false when none applies (off at 100).
func schedThreshold(a *Account, p Policy) (platform string, threshold float64, ok bool) {
	platform = strings.ToLower(strings.TrimSpace(a.Platform))
	threshold, ok = p.SchedulingThresholds[platform]
	if a.SchedThresholdOverride > 0 && SchedThresholdPlatform(platform) {
		// resolveEffectiveAccountSchedulingThreshold: the account's own wins.
		threshold, ok = float64(a.SchedThresholdOverride), true
	}
	return platform, threshold, ok && threshold < SchedThresholdOff
}

// SchedThresholdFor is the scheduling threshold in percent that applies to a under p
// (the account's own, else its platform's); ok is false when none is in force.
func SchedThresholdFor(a *Account, p Policy) (percent float64, ok bool) {
	_, percent, ok = schedThreshold(a, p)
	return percent, ok
}

// SchedThresholdPlatform mirrors AllowedSchedulingThresholdPlatforms: the platforms a
// scheduling threshold applies to.
func SchedThresholdPlatform(p string) bool {
	switch p {
	case "openai", "anthropic", "grok", "kimi", "zhipu":
		return true
	}
	return false
}

// ProviderUsage is the usage snapshot the scheduling threshold reads on other platforms:
// Kimi and Zhipu Coding Plan 5h and weekly windows, Anthropic's session window
// (session_window_utilization until SessionWindowEnd) and passive 7d usage.
// Windows[1] is the weekly or 7d window.
type ProviderUsage struct {
	Provider string // kimi, zhipu (the key prefix) or anthropic
	Windows  [2]ProviderWindow
	// SampledAt is Anthropic's passive_usage_sampled_at: when the gateway last read both
	// windows from response headers or the usage route, their freshness.
	SampledAt    time.Time
	HasSampledAt bool
}

// ProviderWindow is one window of a ProviderUsage.
type ProviderWindow struct {
	HasUsed     bool // <provider>_<w>_used_percent exists
	UsedPercent float64
	// ResetAt is <provider>_<w>_reset_at as the scheduling threshold reads it.
	ResetAt    time.Time
	HasResetAt bool
}

// Temp block sources that mean "a quota pause", whose block lasts only until the next
// request re-evaluates the usage.
const (
	TempSourceSchedThreshold = "account_scheduling_threshold"
	TempSourceOpenAIQuota    = "openai_quota_auto_pause"
	TempSourceGrokQuota      = "grok_quota_auto_pause"
	TempSourceQuotaCounter   = "quota_counter"
)

// IsQuotaTempSource reports whether a temp block's source is one of the quota pauses.
func IsQuotaTempSource(s string) bool {
	switch s {
	case TempSourceSchedThreshold, TempSourceOpenAIQuota, TempSourceGrokQuota, TempSourceQuotaCounter:
		return true
	}
	return false
}

// TempBlock is a temporary block's JSON reason, as the gateway's quota pauses write it.
type TempBlock struct {
	Source           string
	Platform         string
	Window           string
	UsedPercent      float64
	ThresholdPercent float64
	Message          string // error_message
}

// BlockUsage is what quotatop can tell, now, of the usage behind a quota temp block.
type BlockUsage uint8

const (
	// BlockUsageUnder: nothing quotatop reads would write the block again; deleting it
	// sticks.
	BlockUsageUnder BlockUsage = iota
	// BlockUsageOver: the usage is still over a threshold that pauses the account, so a
	// deleted block lasts only until the next request.
	BlockUsageOver
	// BlockUsageUnknown: quotatop reads no usage for the block's window (a fork's own
	// counter, Grok's rolling quota, a window the meta form does not carry); only the
	// block's own figures say whether it is still over.
	BlockUsageUnknown
)

// QuotaBlockNow says whether the usage behind b, a quota temp block on a judged as j,
// would be written again by the next request that considers the account.
func QuotaBlockNow(a *Account, j *Judgement, b *TempBlock) BlockUsage {
	st := j.SchedThreshold
	// A fork writes its quota auto-pause as a block, again on the next request while the
	// rule still pauses; the gateway's threshold block follows only the threshold.
	forkPause := b.Source == TempSourceOpenAIQuota && (j.Has(ReasonQuota5h) || j.Has(ReasonQuota7d) ||
		j.Has(ReasonAutoResetPending5h) || j.Has(ReasonAutoResetPending7d) ||
		j.Has(ReasonAutoResetCheck5h) || j.Has(ReasonAutoResetCheck7d))
	switch {
	case st.Tripped, forkPause:
		return BlockUsageOver
	case b.Source == TempSourceSchedThreshold && !st.InForce:
		return BlockUsageUnder
	case b.Source == TempSourceGrokQuota, b.Source == TempSourceQuotaCounter:
		return BlockUsageUnknown
	}
	// Where quotatop reads the usage the gateway's rule reads, the judgement above is the
	// gateway's own: nothing over means nothing writes the block again.
	platform := strings.ToLower(strings.TrimSpace(a.Platform))
	if platform == "openai" && a.Quota != nil {
		return BlockUsageUnder
	}
	if u := a.ProviderUsage; b.Source == TempSourceSchedThreshold && u != nil && u.Provider == platform {
		return BlockUsageUnder
	}
	return BlockUsageUnknown
}
