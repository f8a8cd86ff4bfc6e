// Package action decides what putting an account back into rotation takes, and carries
// it out through the gateway's admin API: one dispatcher that every action passes
// through, where read-only mode and the audit trail are enforced.
package action

import (
	"fmt"
	"strings"
	"time"

	"github.com/quotatop/quotatop/model"
)

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
	ResetQuota     Kind = "reset_quota"
	Enable         Kind = "enable_status"
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
	case ResetQuota:
		return "reset the account's local USD quota usage to zero (POST /accounts/:id/reset-quota)"
	case Enable:
		return "set the status back to active, undoing an administrator's decision to disable it (PUT /accounts/:id with status=active)"
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
	case ResetQuota:
		return "reset quota"
	case Enable:
		return "enable"
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
	// AltWhy says in one sentence what the alternative does and why it is second; empty
	// for window exemptions, which the dialog describes itself.
	AltWhy string
	// Warnings are what the operator must read before confirming.
	Warnings []string
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
		p.Steps = []Kind{Enable}
		p.Warnings = []string{fmt.Sprintf("its status is %q: enabling it undoes an administrator's decision to disable it", a.Status)}
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
	// Clearing a block the gateway would write again at once (a quota temp block while
	// usage is still over, or the rate limit of an exhausted window) only returns the
	// account for one request: probe first, clearing is the explicit second choice.
	tb := a.Block().TempBlock
	var blockUsage model.BlockUsage
	if j.Has(model.ReasonTempUnschedulable) && tb != nil && model.IsQuotaTempSource(tb.Source) {
		blockUsage = model.QuotaBlockNow(a, &j, tb)
	}
	quotaBlock := blockUsage != model.BlockUsageUnder
	exhausted, until := exhaustedWindow(a, j)
	holdRateLimit := j.Has(model.ReasonRateLimited) && exhausted != ""
	holdTemp := quotaBlock && !rateLimit
	add(j.Has(model.ReasonError), Recover)
	// clear-rate-limit also clears a temporary block: one call does both.
	add(j.Has(model.ReasonTempUnschedulable) && !rateLimit && !holdTemp, ClearTemp)
	add(rateLimit && !holdRateLimit && !(quotaBlock && rateLimit), ClearRateLimit)
	add(j.Has(model.ReasonUnschedulable), Schedule)
	if j.Has(model.ReasonLocalQuota) && a.LocalQuota != nil {
		add(true, ResetQuota)
		p.Warnings = append(p.Warnings, localQuotaWarning(a.LocalQuota, j.LocalQuota))
	}
	stale := j.Has(model.ReasonStale5h) || j.Has(model.ReasonStale7d)
	quota := j.Has(model.ReasonQuota5h) || j.Has(model.ReasonQuota7d)
	autoReset := j.Has(model.ReasonAutoResetPending5h) || j.Has(model.ReasonAutoResetPending7d) ||
		j.Has(model.ReasonAutoResetCheck5h) || j.Has(model.ReasonAutoResetCheck7d)
	sched := j.Has(model.ReasonSchedThreshold5h) || j.Has(model.ReasonSchedThreshold7d)
	// A stale snapshot is healed by a probe; a fresh one over threshold may be wrong too
	// (sub2api issue 2994), and a probe is the safe way to find out.
	add(stale || quota || autoReset || sched || holdRateLimit || quotaBlock, Probe)
	if autoReset {
		p.Warnings = append(p.Warnings, autoResetWarning(j))
	}
	switch {
	case holdRateLimit:
		p.Alternative = []Kind{ClearRateLimit}
		p.AltWhy = "clear the rate limit anyway: the account returns to rotation although its " + string(exhausted) + " window is exhausted"
		p.Warnings = append(p.Warnings, fmt.Sprintf("its %s window is at or over 100%% until %s: clearing the rate limit returns an exhausted account to rotation; the probe shows whether it has really recovered", exhausted, until.UTC().Format("2006-01-02 15:04 UTC")))
	case quotaBlock:
		k := ClearTemp
		if rateLimit {
			k = ClearRateLimit
		}
		p.Alternative = []Kind{k}
		p.AltWhy = "delete the temporary block anyway: it lasts only until the next request while usage is over the threshold"
		p.Warnings = append(p.Warnings, quotaBlockWarning(j, tb, blockUsage))
	}
	// Exempting a window is the second choice only where no held-back clear is and no
	// scheduling threshold trips: it would lift neither a rate limit nor the threshold
	// (which ignores the exemption), and only change the account's settings for good.
	for i, r := range [2]model.Reason{model.ReasonQuota5h, model.ReasonQuota7d} {
		if p.AltWhy != "" || j.SchedThreshold.Tripped || !j.Has(r) {
			continue
		}
		k := [2]Kind{Exempt5h, Exempt7d}[i]
		p.Alternative = append(p.Alternative, k)
		if w := j.Windows[i]; w.UsedPercent >= 100 {
			when := ""
			if !w.ResetAt.IsZero() {
				when = " until " + w.ResetAt.UTC().Format("2006-01-02 15:04 UTC")
			}
			p.Warnings = append(p.Warnings, fmt.Sprintf("its %s window is at %s: exempting it (x) puts an exhausted account back in rotation%s, where upstream refuses its requests", w.Name, model.FormatPercent(w.UsedPercent), when))
		}
	}
	if len(p.Steps) == 0 {
		p.Blocked = "nothing keeps it out of rotation"
	}
	return p
}

// exhaustedWindow names the first window whose snapshot is at or over 100 % and has not
// reset (PR #6208 persists such a 429 until the upstream reset), and that reset.
func exhaustedWindow(a *model.Account, j model.Judgement) (model.WindowName, time.Time) {
	if !j.HasSnapshot {
		return "", time.Time{}
	}
	for _, w := range j.Windows {
		if w.Present && w.UsedPercent >= 100 && !w.Reset {
			until := w.ResetAt
			if until.IsZero() {
				until = a.Block().RateLimitResetAt
			}
			return w.Name, until
		}
	}
	return "", time.Time{}
}

// quotaBlockWarning says why deleting a quota temp block is the second choice.
func quotaBlockWarning(j model.Judgement, b *model.TempBlock, usage model.BlockUsage) string {
	wrote := fmt.Sprintf("a quota pause (source %s, %s used %s >= %s) wrote this block", b.Source, orWindow(b.Window), model.FormatPercent(b.UsedPercent), model.FormatPercent(b.ThresholdPercent))
	if st := j.SchedThreshold; st.Tripped {
		wrote = fmt.Sprintf("the gateway's scheduling threshold (%s used %s >= %s) wrote this block", st.Window, model.FormatPercent(st.UsedPercent), model.FormatPercent(st.ThresholdPercent))
	}
	if usage == model.BlockUsageUnknown {
		return wrote + ": quotatop cannot see that window's usage now, and if it is still over, deleting the block lasts only until the next request; probe first"
	}
	return wrote + ": deleting it lasts only until the next request while usage is still over; probe first"
}

func orWindow(w string) string {
	if w == "" {
		return "window"
	}
	return w + " window"
}

// localQuotaWarning names every amount reset-quota forgets: the gateway zeroes the total,
// daily and weekly usage at once, whichever limit was reached.
func localQuotaWarning(q *model.LocalQuota, lq model.LocalQuotaJudgement) string {
	amounts := make([]string, 0, len(model.LocalQuotaDims))
	for _, d := range model.LocalQuotaDims {
		used, limit := q.Amount(d)
		text := fmt.Sprintf("$%.2f %s", used, d)
		if limit > 0 {
			text += fmt.Sprintf(" (limit $%.2f", limit)
			if lq.Over(d) {
				text += ", reached"
			}
			text += ")"
		}
		amounts = append(amounts, text)
	}
	when := "only reset-quota clears it"
	if !lq.ResetsAt.IsZero() {
		when = "left alone, it is free again at " + lq.ResetsAt.UTC().Format("2006-01-02 15:04 UTC")
	}
	return fmt.Sprintf("this forgets all the local usage the gateway counted: %s; %s", strings.Join(amounts, ", "), when)
}

// autoResetWarning says what a probe cannot do for an account the reset-card branch
// pauses: only a spent card or the window's reset returns it.
func autoResetWarning(j model.Judgement) string {
	for i, w := range j.Windows {
		if j.AutoReset[i] == model.AutoResetPending || j.AutoReset[i] == model.AutoResetCheck {
			when := ""
			if !w.ResetAt.IsZero() {
				when = " at " + w.ResetAt.UTC().Format("2006-01-02 15:04 UTC")
			}
			return fmt.Sprintf("the gateway keeps it paused until a reset card is spent or the %s window resets%s: the probe only refreshes the snapshot and the card state", w.Name, when)
		}
	}
	return "the gateway keeps it paused until a reset card is spent or the window resets: the probe only refreshes the snapshot"
}
