package tui

import (
	"fmt"
	"strings"

	"github.com/quotatop/quotatop/model"
)

// judgeFields are the detail view's lines for the gateway's newer rules: the local USD
// quota, the scheduling threshold, a quota temp block and the reset-credit card.
func judgeFields(ctx *Context, r *row, field func(name, value string)) {
	a, j := r.acc, r.j
	if lq := a.LocalQuota; lq != nil {
		zone := lq.ZoneName
		if zone == "" {
			zone = "UTC"
		}
		text := fmt.Sprintf("total %s · daily %s · weekly %s · zone %s",
			usedOf(lq.Used, lq.Limit), usedOf(lq.Daily.Used, lq.Daily.Limit), usedOf(lq.Weekly.Used, lq.Weekly.Limit), zone)
		if j.LocalQuota.Exceeded {
			text = reachedText(lq, j.LocalQuota) + resetsText(ctx, j.LocalQuota) + " · " + text
		}
		field("Local quota", text)
	}
	if st := j.SchedThreshold; st.Tripped {
		field("Sched. thr.", fmt.Sprintf("%s used %s ≥ %s %s, until %s (%s)",
			schedWindowName(r, st.Window), model.FormatPercent(st.UsedPercent), schedThresholdOwner(a), model.FormatPercent(st.ThresholdPercent), clock(ctx, st.Until), relative(ctx, st.Until)))
	}
	if blk := a.Block(); blk.TempBlock != nil && ctx.Now.Before(blk.TempUnschedulableUntil) {
		b := blk.TempBlock
		// Whether deleting it sticks depends on the threshold in force now, which the
		// unpause plan also reads; it may differ from the one the block was written with.
		now := "no scheduling threshold is in force, so usage is not over the scheduling threshold now: u deletes it"
		pct, inForce := model.SchedThresholdFor(a, ctx.Policy)
		usage := model.QuotaBlockNow(a, &j, b)
		switch {
		case j.SchedThreshold.Tripped:
			now = fmt.Sprintf("the threshold in force is %s and usage is still over the scheduling threshold: deleting it lasts only until the next request, so u probes first", model.FormatPercent(pct))
		case usage == model.BlockUsageOver:
			now = "usage is still over the quota auto-pause threshold: deleting it lasts only until the next request, so u probes first"
		case usage == model.BlockUsageUnknown:
			now = "quotatop cannot see this window's usage now; if it is still over, deleting it lasts only until the next request, so u probes first"
		case b.Source != model.TempSourceSchedThreshold:
			now = "usage is not over the quota auto-pause threshold now: u deletes it"
		case inForce:
			now = fmt.Sprintf("the gateway's scheduling threshold in force now is %s, so usage is not over it and the block would not be written again: u deletes it", model.FormatPercent(pct))
		}
		// Deleting the block does not return an account its quota rule pauses too.
		if usage == model.BlockUsageUnder && (j.Has(model.ReasonQuota5h) || j.Has(model.ReasonQuota7d)) {
			now += ", but the quota auto-pause still pauses the account, so u then probes"
		}
		field("Quota block", fmt.Sprintf("%s window, used %s ≥ threshold %s (source %s); %s",
			orDash(b.Window), model.FormatPercent(b.UsedPercent), model.FormatPercent(b.ThresholdPercent), b.Source, now))
	}
	if a.Quota != nil && a.Quota.AutoReset != nil {
		field("Reset cards", cardText(ctx, a.Quota.AutoReset))
		field("Card rules", cardRules(ctx, a.Quota.AutoReset))
	}
}

// usedOf is "$12.50 of $40.00", or "$0.00, no limit" where none is set ("of $—" read as
// a missing number).
func usedOf(used, limit float64) string {
	if limit <= 0 {
		return fmt.Sprintf("$%.2f, no limit", used)
	}
	return fmt.Sprintf("$%.2f of $%.2f", used, limit)
}

// reachedText names every limit reached, in the gateway's order: the account is free
// only when all of them have reset.
func reachedText(q *model.LocalQuota, lq model.LocalQuotaJudgement) string {
	var reached []string
	for _, d := range model.LocalQuotaDims {
		if lq.Over(d) {
			used, limit := q.Amount(d)
			reached = append(reached, fmt.Sprintf("%s limit reached ($%.2f of $%.2f)", d, used, limit))
		}
	}
	return strings.Join(reached, ", ")
}

func resetsText(ctx *Context, lq model.LocalQuotaJudgement) string {
	if lq.ResetsAt.IsZero() {
		return ", until reset-quota"
	}
	return fmt.Sprintf(", resets %s (%s)", clock(ctx, lq.ResetsAt), relative(ctx, lq.ResetsAt))
}

// cardText is the reset-credit card state and its age; these accounts' snapshots are
// refreshed every minute by the gateway's worker, without traffic.
func cardText(ctx *Context, r *model.AutoReset) string {
	c := r.Card
	state := "no card state yet"
	if c != nil {
		state = fmt.Sprintf("card %s, %d available", orDash(c.Status), c.AvailableCount)
		switch {
		case !c.HasCheckedAt:
			state += ", never checked"
		case c.CheckedAt.After(ctx.Now):
			state += ", checked " + model.FutureAge
		default:
			state += ", checked " + model.FormatAge(ctx.Now.Sub(c.CheckedAt)) + " ago"
		}
		switch {
		case c.Ready(ctx.Now):
			state += " (ready)"
		case c.Status == "available" && c.AvailableCount > 0:
			state += " (not counted as ready: checked over 10 minutes ago)"
		}
		if c.ErrorCode != "" {
			state += ", error " + c.ErrorCode
		}
	}
	return state + " · the gateway's worker refreshes this account's snapshot every minute without traffic"
}

// cardStatus is the card state's status for a sentence, or why there is none.
func cardStatus(a *model.Account) string {
	if a.Quota == nil || a.Quota.AutoReset == nil || a.Quota.AutoReset.Card == nil {
		return "no card state yet"
	}
	c := a.Quota.AutoReset.Card
	if c.Status == "" {
		return "card status unknown"
	}
	return "card " + c.Status
}

// cardRules is what the automation is set to do: the windows it covers and at what use,
// and whether it spends a card before it expires.
func cardRules(ctx *Context, r *model.AutoReset) string {
	var covered []string
	for i, name := range model.WindowNames {
		if r.Covers(i, ctx.Policy) {
			covered = append(covered, fmt.Sprintf("%s at %s", name, model.FormatPercent(r.CardThreshold(i)*100)))
		}
	}
	text := "covers no window"
	if len(covered) > 0 {
		text = "spends a card for " + strings.Join(covered, ", ")
	}
	if r.Legacy && !r.WindowSet[0] && !r.WindowSet[1] {
		text += " (the one switch auto_reset_credit_enabled, read as both windows: releases with per-window switches read it as 7d only)"
	}
	if r.ExpiryEnabled {
		text += fmt.Sprintf(" · before a card expires (%d min ahead)", r.ExpiryLeadMinutes)
	}
	if c := r.Card; c != nil {
		if c.TriggerWindow != "" {
			text += " · last trigger " + c.TriggerWindow
		}
		if !c.LastResultAt.IsZero() {
			text += " · last result " + clock(ctx, c.LastResultAt) + " (" + relative(ctx, c.LastResultAt) + ")"
		}
	}
	return text
}

// explainJudge says the newer reasons in one sentence each; "" for other reasons.
func explainJudge(ctx *Context, r *row, reason model.Reason) string {
	a, j := r.acc, r.j
	w := j.Windows[windowIndex(reason)]
	switch reason {
	case model.ReasonLocalQuota:
		lq := j.LocalQuota
		return fmt.Sprintf("The account's %s USD quota, kept by the gateway, is used up ($%.2f of $%.2f)%s: apikey and bedrock accounts are not scheduled past it.", lq.Dim, lq.Used, lq.Limit, resetsText(ctx, lq))
	case model.ReasonSchedThreshold5h, model.ReasonSchedThreshold7d:
		st := j.SchedThreshold
		text := fmt.Sprintf("%s window at %s is at or over %s (%s): the next request that considers it writes a temporary block until %s",
			schedWindowName(r, st.Window), model.FormatPercent(st.UsedPercent), schedThresholdOwner(a), model.FormatPercent(st.ThresholdPercent), clock(ctx, st.Until))
		if !j.HasSnapshot {
			return text + "."
		}
		return text + fmt.Sprintf(", whatever auto_pause_%s_disabled says.", st.Window)
	case model.ReasonAutoResetPending5h, model.ReasonAutoResetPending7d:
		return fmt.Sprintf("%s window at %s reached the reset-credit threshold: the gateway pauses it until a card resets the window (even with auto-pause disabled for it).", w.Name, model.FormatPercent(w.UsedPercent))
	case model.ReasonAutoResetCheck5h, model.ReasonAutoResetCheck7d:
		return fmt.Sprintf("%s window at %s is over its threshold and no reset card is ready (%s): the gateway keeps it paused until a card is ready and spent, or the window resets.", w.Name, model.FormatPercent(w.UsedPercent), cardStatus(a))
	case model.ReasonAutoResetReady5h, model.ReasonAutoResetReady7d:
		if j.SchedThreshold.Tripped {
			return fmt.Sprintf("%s window at %s is over its threshold, but a reset card is ready: the quota rule would keep scheduling it and spend the card; the scheduling threshold pauses it first.", w.Name, model.FormatPercent(w.UsedPercent))
		}
		return fmt.Sprintf("%s window at %s is over its threshold, but a reset card is ready: the gateway keeps scheduling it and will spend the card.", w.Name, model.FormatPercent(w.UsedPercent))
	}
	return ""
}

// schedWindowName is the tripped window as its platform names it (Kimi's and Zhipu's
// longer window is "weekly").
func schedWindowName(r *row, w model.WindowName) string {
	if r.prov != nil && w == model.Window7d {
		return providerWindowName(r.prov, 1)
	}
	return string(w)
}

// schedThresholdOwner says whose scheduling threshold applies: the account's own
// (credentials.account_scheduling_threshold, seen only through the admin API) wins over
// its platform's.
func schedThresholdOwner(a *model.Account) string {
	if a.SchedThresholdOverride > 0 {
		return "this account's own scheduling threshold"
	}
	return "the gateway's " + a.Platform + " scheduling threshold"
}
