// Package action decides what putting an account back into rotation takes, and carries
// it out through the gateway's admin API: one dispatcher that every action passes
// through, where read-only mode and the audit trail are enforced.
package action

import "github.com/quotatop/quotatop/model"

// Kind is one admin call.
type Kind string

// The calls quotatop can make.
const (
	Probe          Kind = "probe"
	ClearTemp      Kind = "clear_temp_unschedulable"
	ClearRateLimit Kind = "clear_rate_limit"
	Recover        Kind = "recover_state"
	Schedule       Kind = "set_schedulable"
	Exempt5h       Kind = "exempt_5h"
	Exempt7d       Kind = "exempt_7d"
)

// Describe says exactly what the call does, for the confirmation dialog.
func (k Kind) Describe() string {
	switch k {
	case Probe:
		return "refresh probe: the gateway spends one small upstream request and rewrites the snapshot (GET /accounts/:id/usage?force=true)"
	case ClearTemp:
		return "delete the temporary block (DELETE /accounts/:id/temp-unschedulable)"
	case ClearRateLimit:
		return "clear the rate limit, overload, temporary block and model limits (POST /accounts/:id/clear-rate-limit)"
	case Recover:
		return "clear the error status (POST /accounts/:id/recover-state)"
	case Schedule:
		return "turn scheduling back on (POST /accounts/:id/schedulable)"
	case Exempt5h, Exempt7d:
		return "exempt the " + string(k.Window()) + " window from quota auto-pause: the account will be used although the window is over its threshold (PUT /accounts/:id with extra.auto_pause_" + string(k.Window()) + "_disabled=true)"
	}
	return string(k)
}

// Short is the call's name in messages.
func (k Kind) Short() string {
	switch k {
	case Probe:
		return "probe"
	case ClearTemp:
		return "clear temp block"
	case ClearRateLimit:
		return "clear rate limit"
	case Recover:
		return "recover state"
	case Schedule:
		return "set schedulable"
	case Exempt5h, Exempt7d:
		return "exempt " + string(k.Window())
	}
	return string(k)
}

// Window is the window an exemption is for.
func (k Kind) Window() model.WindowName {
	if k == Exempt7d {
		return model.Window7d
	}
	return model.Window5h
}

// Plan is what unpausing one account takes.
type Plan struct {
	// Steps run in order when the operator confirms.
	Steps []Kind
	// Alternative is the explicit second choice, never a default: exempting a window
	// that is genuinely over its threshold.
	Alternative []Kind
	// Blocked says why nothing quotatop can do would help; Steps is then empty.
	Blocked string
}

// Unpause picks the calls for the reasons the account is not scheduled, in a sensible
// order: status first, then blocks, then the switch, then the snapshot.
func Unpause(a *model.Account, j model.Judgement) Plan {
	var p Plan
	switch {
	case j.State == model.StateInvalid:
		p.Blocked = "its stored value cannot be read; fix the account in the gateway's web UI"
		return p
	case j.Has(model.ReasonDisabled):
		p.Blocked = "it is disabled; only enabling it in the gateway's web UI brings it back"
		return p
	case j.Has(model.ReasonExpired):
		p.Blocked = "it has expired; extend its expiry in the gateway's web UI"
		return p
	}
	add := func(ok bool, k Kind) {
		if ok {
			p.Steps = append(p.Steps, k)
		}
	}
	rateLimit := j.Has(model.ReasonRateLimited) || j.Has(model.ReasonOverloaded) || j.Has(model.ReasonModelRateLimited)
	add(j.Has(model.ReasonError), Recover)
	// clear-rate-limit also clears a temporary block: one call does both.
	add(j.Has(model.ReasonTempUnschedulable) && !rateLimit, ClearTemp)
	add(rateLimit, ClearRateLimit)
	add(j.Has(model.ReasonUnschedulable), Schedule)
	stale := j.Has(model.ReasonStale5h) || j.Has(model.ReasonStale7d)
	quota := j.Has(model.ReasonQuota5h) || j.Has(model.ReasonQuota7d)
	// A stale snapshot is healed by a probe; a fresh one over threshold may be wrong too
	// (sub2api issue 2994), and a probe is the safe way to find out.
	add(stale || quota, Probe)
	if j.Has(model.ReasonQuota5h) {
		p.Alternative = append(p.Alternative, Exempt5h)
	}
	if j.Has(model.ReasonQuota7d) {
		p.Alternative = append(p.Alternative, Exempt7d)
	}
	if len(p.Steps) == 0 {
		p.Blocked = "nothing keeps it out of rotation"
	}
	return p
}
