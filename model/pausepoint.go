package model

// PausePoint is the used percent at which the gateway stops scheduling an account for
// window i, as the judgement j decides it: the lowest of
//   - the effective auto-pause threshold (account, else gateway default), unless the
//     window is exempt, the platform is not quota-paused, or a ready reset card keeps
//     the account scheduled past it (the gateway will spend the card);
//   - for a window the reset-card automation covers, the card threshold (which pauses
//     whatever the exemption says);
//   - for an OpenAI window with a reset time, the scheduling threshold (which no
//     exemption lifts).
//
// ok is false when none applies. Projections (package trend) and the metrics cross this
// point, so they and the judgement never disagree about where a pause starts.
func PausePoint(a *Account, p Policy, j *Judgement, i int) (percent float64, ok bool) {
	w := &j.Windows[i]
	lower := func(pct float64) {
		if !ok || pct < percent {
			percent, ok = pct, true
		}
	}
	if w.Threshold > 0 && !w.Disabled && w.Verdict != VerdictNotQuota && j.AutoReset[i] != AutoResetReady {
		lower(ThresholdPercent(w.Threshold))
	}
	if autoResetApplies(a) {
		if r := a.Quota.AutoReset; r.windowOn(i, p) {
			lower(r.threshold(i) * 100)
		}
	}
	if platform, s, has := schedThreshold(a, p); has && platform == "openai" && !a.IdentityMismatch && a.Quota != nil {
		if qw := a.Quota.Windows[i]; qw.HasUsed && qw.HasSchedResetAt {
			lower(s)
		}
	}
	return percent, ok
}
