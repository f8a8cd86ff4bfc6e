package model

// PausePoint is the used percent at which the gateway stops scheduling an account for
// one window, as the judgement decides it: the lower of the effective auto-pause
// threshold (account, else gateway default, unless the window is exempt or the platform
// is not quota-paused) and, for an
// OpenAI window with a reset time, the scheduling threshold (which no exemption lifts).
// ok is false when neither applies. Projections (package trend) cross this point, so
// they and the judgement never disagree about where a pause starts.
func PausePoint(a *Account, p Policy, w WindowJudgement) (percent float64, ok bool) {
	// Where the gateway does not quota-pause the platform, the threshold pauses nothing.
	if w.Threshold > 0 && !w.Disabled && w.Verdict != VerdictNotQuota {
		percent, ok = ThresholdPercent(w.Threshold), true
	}
	if platform, s, has := schedThreshold(a, p); has && platform == "openai" && !a.IdentityMismatch && a.Quota != nil {
		i := 0
		if w.Name == Window7d {
			i = 1
		}
		if qw := a.Quota.Windows[i]; qw.HasUsed && qw.HasSchedResetAt && (!ok || s < percent) {
			percent, ok = s, true
		}
	}
	return percent, ok
}
