package model

import "time"

// Policy holds the gateway-wide knobs the judgement depends on.
type Policy struct {
	// StaleAfter is the snapshot age from which the gateway stops trusting it and lets a
	// probe request through (upstream: 2h).
	StaleAfter time.Duration
	// MissingTimestampStale judges a snapshot without codex_usage_updated_at as stale.
	// Upstream counts it as fresh (false); some forks count it as stale.
	MissingTimestampStale bool
	// DefaultThreshold is the gateway-wide threshold per window as a ratio (0 = off),
	// used where the account sets none.
	DefaultThreshold [2]float64
	// WarnPercent is the used percent from which an unreset window counts as near.
	WarnPercent float64
	// SchedulingThresholds is the gateway's account_scheduling_thresholds: percent per
	// platform (lower-case); absent or >= 100 is off.
	SchedulingThresholds map[string]float64
	// AutoResetLegacy7dOnly reads a lone auto_reset_credit_enabled as 7d only, as the
	// releases with per-window switches do; false reads it as both windows (PR #6121).
	AutoResetLegacy7dOnly bool
}

// DefaultPolicy returns upstream sub2api's behaviour and an 80 % warn level.
func DefaultPolicy() Policy {
	return Policy{StaleAfter: 2 * time.Hour, WarnPercent: 80, SchedulingThresholds: DefaultSchedulingThresholds()}
}
