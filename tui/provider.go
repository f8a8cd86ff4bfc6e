package tui

import (
	"fmt"
	"strings"
	"time"

	"github.com/quotatop/quotatop/model"
)

// barWindow is what one 5h or 7d column draws: the Codex window, or another platform's
// (Anthropic's session and 7d windows, Kimi's and Zhipu's 5h and weekly ones).
type barWindow struct {
	present bool
	reset   bool // the reset passed: the number belongs to the window before
	over    bool // the threshold the mark shows is reached
	used    float64
	// mark is the threshold the bar marks as a ratio, 0 for none: the Codex auto-pause
	// threshold, or the platform's scheduling threshold on other platforms.
	mark    float64
	resetAt time.Time
}

// window is column i's window of the row, empty when the account carries none.
func (r *row) window(i int) barWindow {
	if r.j.HasSnapshot {
		w := &r.j.Windows[i]
		b := barWindow{present: w.Present, reset: w.Reset, over: w.Over, used: w.UsedPercent, resetAt: w.ResetAt}
		if w.Threshold > 0 && !w.Disabled {
			b.mark = w.Threshold
		}
		return b
	}
	if r.prov != nil {
		w := &r.prov.Windows[i]
		return barWindow{present: w.Present, reset: w.Reset, over: w.Over, used: w.UsedPercent, resetAt: w.ResetAt,
			mark: r.prov.ThresholdPercent / 100}
	}
	return barWindow{}
}

// sampledAt is when the row's usage numbers were taken: the Codex snapshot's time, or
// Anthropic's passive_usage_sampled_at.
func (r *row) sampledAt() (time.Time, bool) {
	if r.j.HasTimestamp {
		return r.acc.Quota.UpdatedAt, true
	}
	if r.prov != nil && r.prov.HasSampledAt {
		return r.prov.SampledAt, true
	}
	return time.Time{}, false
}

// providerWindowName is how the platform names its longer window.
func providerWindowName(p *model.ProviderJudgement, i int) string {
	if i == 0 {
		return "5h"
	}
	if p.Provider == "anthropic" {
		return "7d"
	}
	return "weekly"
}

// providerSnapshot is the detail view's line for when another platform's usage was
// sampled.
func providerSnapshot(ctx *Context, p *model.ProviderJudgement, field func(name, value string)) {
	sampled := "no sample time"
	if p.HasSampledAt {
		sampled = "sampled " + sampledAgo(ctx, p.SampledAt)
		if !p.SampledAt.After(ctx.Now) {
			sampled = fmt.Sprintf("sampled %s (%s)", clock(ctx, p.SampledAt), sampledAgo(ctx, p.SampledAt))
		}
	}
	field("Snapshot", fmt.Sprintf("no Codex snapshot · %s usage %s", p.Provider, sampled))
}

// providerWindows are the detail view's lines for another platform's windows and what,
// if anything, in the gateway pauses on them.
func providerWindows(ctx *Context, a *model.Account, p *model.ProviderJudgement, field func(name, value string)) {
	for i := range p.Windows {
		label := providerWindowName(p, i) + " window"
		if len(label) > labelWidth { // "weekly window" pushed its value out of line
			label = providerWindowName(p, i)
		}
		field(label, providerWindowLine(ctx, p, i))
	}
	if p.ThresholdPercent > 0 {
		field("Threshold", fmt.Sprintf("the gateway does not quota-pause %s accounts; %s %s pauses this one while a window is at or over it, until that window resets",
			p.Provider, schedThresholdOwner(a), model.FormatPercent(p.ThresholdPercent)))
		return
	}
	field("Threshold", fmt.Sprintf("the gateway does not quota-pause %s accounts; no scheduling threshold is set for %s", p.Provider, p.Provider))
}

func providerWindowLine(ctx *Context, p *model.ProviderJudgement, i int) string {
	w := p.Windows[i]
	if !w.Present {
		return "not reported"
	}
	used := model.FormatPercent(w.UsedPercent) + " used"
	if w.Reset {
		used += " (before the reset: no longer true)"
	}
	parts := []string{used}
	if w.Over {
		parts = append(parts, "at or over the scheduling threshold")
	}
	parts = append(parts, resetPhrase(ctx, w.ResetAt, w.Reset))
	if p.HasSampledAt {
		parts = append(parts, "sampled "+sampledAgo(ctx, p.SampledAt))
	}
	return strings.Join(parts, " · ")
}

// sampledAgo is "2m ago", or model.FutureAge for a time ahead of the clock.
func sampledAgo(ctx *Context, t time.Time) string {
	if t.After(ctx.Now) {
		return model.FutureAge
	}
	return model.FormatAge(ctx.Now.Sub(t)) + " ago"
}
