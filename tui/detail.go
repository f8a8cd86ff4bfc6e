package tui

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/quotatop/quotatop/model"
)

// labelWidth is the detail view's column of field labels.
const labelWidth = 12

// detailLines describes one account in words: every window, threshold and where it came
// from, reset and snapshot times, each reason as a sentence, blocks, per-model limits,
// groups and the storage key. Credentials are never part of an Account, so never here.
func detailLines(ctx *Context, r *row, extra []string) []string {
	a, j, st := r.acc, r.j, ctx.Styles
	blk := a.Block()
	var lines []string
	add := func(format string, args ...any) { lines = append(lines, fmt.Sprintf(format, args...)) }
	field := func(name, value string) { add("%s %s", st.Dim.Render(fmt.Sprintf("%-*s", labelWidth, name)), value) }

	if a.Invalid != "" {
		// Whatever was decoded before the value broke off is zero values, not facts.
		return wrapDetail(ctx, invalidLines(ctx, r))
	}
	add("%s  %s  %s", st.Title.Render(a.DisplayName()), st.Dim.Render(fmt.Sprintf("#%d · %s/%s", a.ID, a.Platform, a.Type)),
		st.State[j.State].Render(j.State.Glyph()+" "+string(j.State)))
	add("")
	field("Key", a.Key)
	// The switch alone: "schedulable" beside a disabled status read as a verdict.
	sched := "scheduling switch on"
	if !a.Schedulable {
		sched = "scheduling switch OFF"
	}
	field("Status", fmt.Sprintf("%s · %s · priority %d · concurrency %d · %s", a.Status, sched, a.Priority, a.Concurrency, groupsText(a.GroupIDs)))
	switch {
	case !j.HasSnapshot && r.prov != nil:
		providerSnapshot(ctx, r.prov, field)
	case !j.HasSnapshot:
		field("Snapshot", "none: this account carries no Codex usage snapshot")
	case !j.HasTimestamp:
		verdict := "counts as fresh (upstream rule)"
		if ctx.Policy.MissingTimestampStale {
			verdict = "counts as stale (--missing-timestamp stale)"
		}
		what := "no codex_usage_updated_at"
		if a.Quota != nil && a.Quota.UpdatedAtStored {
			// stored, but not as RFC 3339 with an offset: the gateway cannot read it
			what = "codex_usage_updated_at is stored but unreadable to the gateway (it needs RFC 3339 with an offset)"
		}
		field("Snapshot", what+": "+verdict)
	default:
		freshness := "fresh"
		if j.Stale {
			freshness = "STALE: the gateway no longer trusts it and lets a probe through once nothing else keeps the account out"
		}
		when := relative(ctx, a.Quota.UpdatedAt)
		if a.Quota.UpdatedAt.After(ctx.Now) {
			when = model.FutureAge
		}
		field("Snapshot", fmt.Sprintf("taken %s (%s) · %s · stale after %s", clock(ctx, a.Quota.UpdatedAt), when, freshness, model.FormatAge(ctx.Policy.StaleAfter)))
	}
	judgeFields(ctx, r, field)
	if !a.LastUsedAt.IsZero() {
		field("Last used", fmt.Sprintf("%s (%s)", clock(ctx, a.LastUsedAt), relative(ctx, a.LastUsedAt)))
	}
	if !blk.ExpiresAt.IsZero() {
		auto := "auto-pause on expiry off"
		if a.AutoPauseOnExpired {
			auto = "auto-pause on expiry on"
		}
		field("Expires", fmt.Sprintf("%s (%s) · %s", clock(ctx, blk.ExpiresAt), relative(ctx, blk.ExpiresAt), auto))
	}

	if j.HasSnapshot {
		add("")
		for _, w := range j.Windows {
			field(string(w.Name)+" window", windowLine(ctx, w))
		}
	} else if r.prov != nil {
		add("")
		providerWindows(ctx, r.acc, r.prov, field)
	}

	add("")
	add("%s", st.Bold.Render("Why"))
	if len(j.Reasons) == 0 {
		add("  • Healthy: the gateway schedules this account.")
	}
	for _, reason := range j.Reasons {
		add("  • %s", explain(ctx, r, reason))
	}

	if blocks := blockLines(ctx, a); len(blocks) > 0 {
		add("")
		add("%s", st.Bold.Render("Blocks"))
		for _, b := range blocks {
			add("  %s", b)
		}
	}
	if len(blk.ModelLimits) > 0 {
		add("")
		add("%s", st.Bold.Render("Per-model limits"))
		for _, m := range blk.ModelLimits {
			state := "over"
			if ctx.Now.Before(m.ResetAt) {
				state = "cooling down"
			}
			add("  %s until %s (%s) · %s", m.Model, clock(ctx, m.ResetAt), relative(ctx, m.ResetAt), state)
		}
	}
	if len(extra) > 0 {
		add("")
		lines = append(lines, extra...)
	}
	return wrapDetail(ctx, lines)
}

// invalidLines are all the detail view says of an account whose value could not be
// decoded: its key, its ID when the key names one, and why.
func invalidLines(ctx *Context, r *row) []string {
	a, st := r.acc, ctx.Styles
	title := st.Title.Render(a.Key)
	if a.ID != 0 {
		title += "  " + st.Dim.Render(fmt.Sprintf("#%d", a.ID))
	}
	field := func(name, value string) string {
		return st.Dim.Render(fmt.Sprintf("%-*s", labelWidth, name)) + " " + value
	}
	lines := []string{title + "  " + st.State[r.j.State].Render(r.j.State.Glyph()+" "+string(r.j.State)), "", field("Key", a.Key)}
	if a.ID != 0 {
		lines = append(lines, field("ID", strconv.FormatInt(a.ID, 10)))
	}
	return append(lines, field("Unreadable", a.Invalid), "",
		"The stored value could not be read: nothing else about this account is known.")
}

// wrapDetail wraps lines to the screen, keeping continuation lines indented under their
// text.
func wrapDetail(ctx *Context, lines []string) []string {
	var out []string
	for _, l := range lines {
		for i, part := range strings.Split(ansi.Wordwrap(l, max(ctx.Width-4, 20), ""), "\n") {
			if i > 0 {
				part = "    " + part
			}
			out = append(out, part)
		}
	}
	return out
}

func windowLine(ctx *Context, w model.WindowJudgement) string {
	if !w.Present {
		return "not reported"
	}
	var parts []string
	used := model.FormatPercent(w.UsedPercent) + " used"
	if w.Reset {
		used += " (before the reset: no longer true)"
	}
	parts = append(parts, used)
	switch {
	case w.Disabled:
		parts = append(parts, "auto-pause disabled for this window")
	case w.ThresholdSource == model.ThresholdNone:
		parts = append(parts, "no threshold (neither the account nor the gateway sets one)")
	default:
		parts = append(parts, fmt.Sprintf("threshold %s from the %s", model.FormatPercent(model.ThresholdPercent(w.Threshold)), thresholdSource(w.ThresholdSource)))
	}
	parts = append(parts, resetPhrase(ctx, w.ResetAt, w.Reset))
	return strings.Join(parts, " · ")
}

// resetPhrase says when a window resets, or that it already has (reset: the snapshot's
// numbers predate it).
func resetPhrase(ctx *Context, at time.Time, reset bool) string {
	switch {
	case at.IsZero():
		return "reset time unknown"
	case reset:
		return fmt.Sprintf("reset at %s (%s)", clock(ctx, at), relative(ctx, at))
	}
	return fmt.Sprintf("resets %s (%s)", clock(ctx, at), relative(ctx, at))
}

func thresholdSource(s model.ThresholdSource) string {
	if s == model.ThresholdGateway {
		return "gateway default"
	}
	return "account"
}

// explain says a reason in one sentence, with the numbers that make it true.
func explain(ctx *Context, r *row, reason model.Reason) string {
	a, j := r.acc, r.j
	blk := a.Block()
	win := func(i int) model.WindowJudgement { return j.Windows[i] }
	age := ""
	if j.HasTimestamp {
		age = model.FormatSnapshotAge(ctx.Now.Sub(a.Quota.UpdatedAt))
	}
	switch reason {
	case model.ReasonQuota5h, model.ReasonQuota7d:
		w := win(windowIndex(reason))
		snap := "the snapshot has no time (counts as fresh)"
		if j.HasTimestamp {
			snap = "the snapshot is " + age + " old"
			if a.Quota.UpdatedAt.After(ctx.Now) {
				snap = "the snapshot time is " + model.FutureAge
			}
		}
		until := "its reset"
		if !w.ResetAt.IsZero() {
			until = clock(ctx, w.ResetAt)
		}
		return fmt.Sprintf("%s window at %s is over its %s threshold and %s: the gateway skips this account until %s.",
			w.Name, model.FormatPercent(w.UsedPercent), model.FormatPercent(model.ThresholdPercent(w.Threshold)), snap, until)
	case model.ReasonStale5h, model.ReasonStale7d:
		w := win(windowIndex(reason))
		old := "has no time (counted as stale)"
		if j.HasTimestamp {
			old = "is " + age + " old (stale after " + model.FormatAge(ctx.Policy.StaleAfter) + ")"
		}
		return fmt.Sprintf("%s window at %s is over its %s threshold, but the snapshot %s: the gateway lets the next request through as a probe, which refreshes the snapshot.",
			w.Name, model.FormatPercent(w.UsedPercent), model.FormatPercent(model.ThresholdPercent(w.Threshold)), old)
	case model.ReasonNear5h, model.ReasonNear7d:
		w := win(windowIndex(reason))
		tail := "no threshold applies"
		if w.Disabled {
			tail = "auto-pause is disabled for it"
		} else if w.Threshold > 0 {
			tail = "it pauses at " + model.FormatPercent(model.ThresholdPercent(w.Threshold))
		}
		return fmt.Sprintf("%s window at %s is at or above the %s warn level; %s.", w.Name, model.FormatPercent(w.UsedPercent), model.FormatPercent(ctx.Policy.WarnPercent), tail)
	case model.ReasonNoTimestamp:
		if a.Quota != nil && a.Quota.UpdatedAtStored {
			return "The snapshot's codex_usage_updated_at is stored without an offset (or otherwise not as RFC 3339), which the gateway cannot parse: to it the age is unknown, and reset_after_seconds cannot be anchored."
		}
		return "The snapshot has no codex_usage_updated_at, so its age is unknown and reset_after_seconds cannot be anchored."
	case model.ReasonDisabled:
		return fmt.Sprintf("The account's status is %q, not active: the gateway schedules only active accounts (the web UI's disable writes inactive).", a.Status)
	case model.ReasonError:
		return "The account's status is error: the gateway stops scheduling it until an administrator recovers it."
	case model.ReasonUnschedulable:
		return "Scheduling is switched off for this account (Schedulable is false)."
	case model.ReasonExpired:
		return fmt.Sprintf("The account expired at %s and auto-pause on expiry is on.", clock(ctx, blk.ExpiresAt))
	case model.ReasonOverloaded:
		return fmt.Sprintf("Overload cooldown until %s (%s).", clock(ctx, blk.OverloadUntil), relative(ctx, blk.OverloadUntil))
	case model.ReasonRateLimited:
		return fmt.Sprintf("Rate limited until %s (%s).", clock(ctx, blk.RateLimitResetAt), relative(ctx, blk.RateLimitResetAt))
	case model.ReasonTempUnschedulable:
		return fmt.Sprintf("Temporarily unschedulable until %s (%s)%s.", clock(ctx, blk.TempUnschedulableUntil), relative(ctx, blk.TempUnschedulableUntil), tempReason(blk.TempUnschedulableReason))
	case model.ReasonModelRateLimited:
		return "Some models are cooling down (see per-model limits); other models are still served."
	case model.ReasonInvalid:
		return "quotatop cannot decode the stored value (" + a.Invalid + "); the gateway's own view of it is unknown."
	}
	if text := explainJudge(ctx, r, reason); text != "" {
		return text
	}
	return string(reason)
}

func windowIndex(r model.Reason) int {
	if strings.HasSuffix(string(r), "_7d") {
		return 1
	}
	return 0
}

func blockLines(ctx *Context, a *model.Account) []string {
	blk := a.Block()
	var out []string
	add := func(name string, t time.Time, note string) {
		if t.IsZero() {
			return
		}
		state := "over"
		if ctx.Now.Before(t) {
			state = "in force"
		}
		out = append(out, fmt.Sprintf("%s until %s (%s) · %s%s", name, clock(ctx, t), relative(ctx, t), state, note))
	}
	add("Overloaded", blk.OverloadUntil, "")
	add("Rate limited", blk.RateLimitResetAt, "")
	add("Temporarily unschedulable", blk.TempUnschedulableUntil, tempReason(blk.TempUnschedulableReason))
	return out
}

// tempReason decodes the gateway's JSON reason when it is JSON, else quotes the text.
func tempReason(reason string) string {
	if reason == "" {
		return ""
	}
	var v struct {
		Source    string   `json:"source"`
		Window    string   `json:"window"`
		Used      *float64 `json:"used_percent"`
		Threshold *float64 `json:"threshold_percent"`
	}
	if err := json.Unmarshal([]byte(reason), &v); err != nil || (v.Window == "" && v.Source == "") {
		return ": " + strconv.Quote(reason)
	}
	var parts []string
	if v.Window != "" {
		parts = append(parts, v.Window+" window")
	}
	if v.Used != nil && v.Threshold != nil {
		parts = append(parts, fmt.Sprintf("used %s ≥ threshold %s", model.FormatPercent(*v.Used), model.FormatPercent(*v.Threshold)))
	}
	if v.Source != "" {
		parts = append(parts, "source "+model.Sanitize(v.Source))
	}
	return " — " + strings.Join(parts, ", ")
}

// clock is an absolute local time: the time of day when it is today, else with the date.
func clock(ctx *Context, t time.Time) string {
	lt, now := t.In(ctx.location()), ctx.Now.In(ctx.location())
	if lt.YearDay() == now.YearDay() && lt.Year() == now.Year() {
		return lt.Format("15:04:05")
	}
	return lt.Format("Mon 02 Jan 15:04")
}

// relative is "in 2h19m" or "12m ago".
func relative(ctx *Context, t time.Time) string {
	d := t.Sub(ctx.Now)
	if d >= 0 {
		return "in " + model.FormatAge(d)
	}
	return model.FormatAge(-d) + " ago"
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

// groupsText names an account's groups as the group view and the filter do (g3): a bare
// "groups 3" read as a count.
func groupsText(ids []int64) string {
	var names []string
	for _, g := range ids {
		if g != 0 {
			names = append(names, "g"+strconv.FormatInt(g, 10))
		}
	}
	switch len(names) {
	case 0:
		return "ungrouped"
	case 1:
		return "group " + names[0]
	}
	return "groups " + strings.Join(names, ", ")
}
