package model

// PausePoint is the used percent at which the gateway stops scheduling an account for
// one window, as the judgement decides it: the effective auto-pause threshold (account,
// else gateway default) unless the window is exempt. ok is false when no threshold
// applies. Projections (package trend) cross this point, so they and the judgement
// never disagree about where a pause starts.
func PausePoint(a *Account, p Policy, w WindowJudgement) (percent float64, ok bool) {
	if w.Threshold > 0 && !w.Disabled {
		return ThresholdPercent(w.Threshold), true
	}
	return 0, false
}
