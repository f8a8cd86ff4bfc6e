package tui

import (
	"fmt"
	"strings"
	"time"

	"github.com/quotatop/quotatop/model"
	"github.com/quotatop/quotatop/trend"
)

// etaCell is the time until the account pauses at its current pace, "—" when none is due
// before a reset (or it is not schedulable now); "~" marks a pace from stale data.
func etaCell(ctx *Context, r *row, p paint, _ int) string {
	d, ok := pauseIn(r, ctx.Now)
	if !ok {
		return p(ctx.Styles.Dim, "—")
	}
	text := model.FormatAge(d)
	if d < time.Minute {
		text = "now"
	}
	limit := 5
	if r.o.stale {
		limit = 4
	}
	if len(text) > limit { // "10h04m" -> "10h": the column is five cells
		text = text[:strings.IndexAny(text, "hd")+1]
	}
	if r.o.stale {
		text = "~" + text
	}
	style := ctx.Styles.State[model.StateWarn]
	if d <= time.Hour {
		style = ctx.Styles.State[model.StatePaused]
	}
	return p(style, text)
}

// sparkLevels fill a braille cell from the bottom: narrow in every locale, unlike the
// block elements, which are ambiguous-width.
var sparkLevels = []rune("⡀⣀⣄⣤⣦⣶⣷⣿")

// sparkline draws a window's readings over width cells, each cell the last reading at or
// before its time, scaled from the lowest reading to the highest so the shape shows; the
// caller prints the range beside it.
func sparkline(pts []trend.Point, width int) string {
	if len(pts) == 0 || width <= 0 {
		return ""
	}
	lo, hi := pts[0].Used, pts[0].Used
	for _, p := range pts {
		lo, hi = min(lo, p.Used), max(hi, p.Used)
	}
	first, last := pts[0].At, pts[len(pts)-1].At
	span := last.Sub(first)
	cells := width
	if span <= 0 {
		cells = 1
	}
	var b strings.Builder
	k := 0
	for c := range cells {
		at := last
		if cells > 1 {
			at = first.Add(time.Duration(float64(span) * float64(c) / float64(cells-1)))
		}
		for k+1 < len(pts) && !pts[k+1].At.After(at) {
			k++
		}
		lvl := len(sparkLevels) / 2
		if hi > lo {
			lvl = int((pts[k].Used - lo) / (hi - lo) * float64(len(sparkLevels)-1))
		}
		b.WriteRune(sparkLevels[min(max(lvl, 0), len(sparkLevels)-1)])
	}
	return b.String()
}

// trendLines say where the account is heading: per window a sparkline of its recent
// readings, the pace, when it crosses its pause point and the use at the reset; then
// quota about to go unused and the groups that run dry.
func trendLines(ctx *Context, r *row, f *trend.Forecast, t *trends, note string) []string {
	st := ctx.Styles
	lines := []string{st.Bold.Render("Where it is heading")}
	if note != "" {
		lines = append(lines, "  "+st.Notice.Render(note))
	}
	if f == nil || !r.j.HasSnapshot {
		switch {
		case r.prov != nil: // its windows show above; projections are of Codex snapshots
			return append(lines, "  No projection: quotatop projects Codex usage snapshots only.")
		case !r.j.HasSnapshot:
			return append(lines, "  No Codex usage snapshot: nothing to project.")
		case note != "": // it says why (history off, or a problem with the file)
			return lines
		}
		return append(lines, "  No projection yet: the first comes with the next poll.")
	}
	for i, w := range f.Windows {
		name := string(model.WindowNames[i])
		lines = append(lines, fmt.Sprintf("  %-3s %s", name, windowTrend(ctx, w, f.Stale)))
	}
	for i, w := range f.Windows {
		if w.Unused && schedulable(r.j.State) {
			lines = append(lines, fmt.Sprintf("  Unused: the %s window resets %s (%s) with about %s of its quota left.",
				model.WindowNames[i], clock(ctx, w.ResetAt), relative(ctx, w.ResetAt), model.FormatPercent(w.Left)))
		}
	}
	if t != nil {
		for _, g := range t.groups {
			if g.DryAt.IsZero() || g.Platform != r.acc.Platform || !inGroup(r.acc, g.ID) {
				continue
			}
			lines = append(lines, fmt.Sprintf("  Group %d for %s (%d of %d accounts schedulable now) runs dry %s.", g.ID, g.Platform, g.Schedulable, g.Accounts, dryText(ctx, g)))
		}
	}
	return lines
}

func inGroup(a *model.Account, id int64) bool {
	if len(a.GroupIDs) == 0 {
		return id == 0
	}
	for _, g := range a.GroupIDs {
		if g == id {
			return true
		}
	}
	return false
}

// windowTrend is one window's projection in words.
func windowTrend(ctx *Context, w trend.Window, stale bool) string {
	target := model.FormatPercent(w.Target)
	if w.TargetFromThreshold {
		target += " (its pause threshold)"
	} else {
		target += " (no threshold: upstream's limit)"
	}
	spark := ""
	if len(w.Points) > 1 {
		spark = sparkline(w.Points, 20) + " " + model.FormatPercent(w.Points[0].Used) + "→" + model.FormatPercent(w.Points[len(w.Points)-1].Used) + "  "
	}
	switch w.Status {
	case trend.StatusNone:
		return "not reported"
	case trend.StatusReset:
		return "reset: the old window's pace says nothing about the new one"
	case trend.StatusCrossed:
		return spark + "at " + model.FormatPercent(w.Used) + ", at or past " + target
	case trend.StatusNoData:
		return spark + "not enough history for a pace (two readings 5 minutes apart within the hour)"
	}
	parts := []string{fmt.Sprintf("%s%s an hour over %s", spark, signed(w.Rate), model.FormatAge(w.Span))}
	switch {
	case !w.PauseAt.IsZero():
		parts = append(parts, fmt.Sprintf("reaches %s at %s (%s)", target, clock(ctx, w.PauseAt), relative(ctx, w.PauseAt)))
	case w.Rate <= 0:
		parts = append(parts, "not moving")
	default:
		parts = append(parts, "stays under "+target+" until the reset")
	}
	switch {
	case w.HasProjected && w.Projected > 100:
		// A pace, not a reading: upstream refuses the account at 100 %.
		parts = append(parts, fmt.Sprintf("this pace would make %s by the reset %s; upstream stops it at 100%%", model.FormatPercent(w.Projected), clock(ctx, w.ResetAt)))
	case w.HasProjected:
		parts = append(parts, fmt.Sprintf("%s at the reset %s at this pace", model.FormatPercent(w.Projected), clock(ctx, w.ResetAt)))
	}
	s := strings.Join(parts, " · ")
	if stale {
		s += " · from stale data"
	}
	return s
}

func signed(rate float64) string {
	if rate >= 0 {
		return "+" + model.FormatPercent(rate)
	}
	return model.FormatPercent(rate)
}
