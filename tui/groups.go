package tui

import (
	"fmt"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"strconv"
	"strings"

	"github.com/clipperhouse/displaywidth"
	"github.com/quotatop/quotatop/model"
	"github.com/quotatop/quotatop/trend"
)

// groupsView lists every scheduling group and platform (sub2api's buckets): its accounts, how many the gateway can
// schedule now and at +1/+2/+5 h, and when it runs dry, soonest first (trend.Groups
// orders them).
type groupsView struct {
	ctx    *Context
	groups []trend.Group
	note   string // a problem with the history, if any
	scroll int
	// haveHistory says rates feed the projections; without, only resets and block
	// expiries do.
	haveHistory bool
}

// View draws the group table in width x height cells.
func (g groupsView) View(width, height int) string {
	ctx, st := g.ctx, g.ctx.Styles
	// Narrow, the counts of paused and blocked accounts give way before RUNS DRY, the
	// column the view is sorted by.
	compact := width < 78
	cols := fmt.Sprintf("%-8s %-9s %5s %5s %6s %7s %4s %4s %4s  %s", "GROUP", "PLATFORM", "ACCTS", "SCHED", "PAUSED", "BLOCKED", "+1H", "+2H", "+5H", "RUNS DRY")
	if compact {
		cols = fmt.Sprintf("%-8s %-9s %5s %4s %4s %4s  %s", "GROUP", "PLATFORM", "SCHED", "+1H", "+2H", "+5H", "RUNS DRY")
	}
	lines := []string{st.ColumnHeader.Render(fit(cols, width, false))}
	if len(g.groups) == 0 {
		lines = append(lines, st.Dim.Render("  no accounts yet"))
	}
	body := make([]string, 0, len(g.groups))
	for _, gr := range g.groups {
		name := "g" + strconv.FormatInt(gr.ID, 10)
		if gr.ID == 0 {
			name = "ungroupd"
		}
		platform := displaywidth.TruncateString(gr.Platform, 9, "…")
		line := fmt.Sprintf("%-8s %-9s %5d %5d %6d %7d %4d %4d %4d  %s", name, platform, gr.Accounts, gr.Schedulable, gr.Paused, gr.Blocked,
			gr.Projected[0], gr.Projected[1], gr.Projected[2], dryText(ctx, gr))
		if compact {
			line = fmt.Sprintf("%-8s %-9s %5d %4d %4d %4d  %s", name, platform, gr.Schedulable, gr.Projected[0], gr.Projected[1], gr.Projected[2], dryText(ctx, gr))
		}
		switch {
		case gr.Schedulable == 0:
			line = st.State[model.StatePaused].Render(fit(line, width, false))
		case !gr.DryAt.IsZero() && gr.DryAt.Sub(ctx.Now) <= trend.DefaultOptions().Horizons[2]:
			line = st.State[model.StateWarn].Render(fit(line, width, false))
		}
		body = append(body, fit(line, width, false))
	}
	scroll := min(g.scroll, max(len(body)-(height-3), 0))
	for _, l := range body[scroll:] {
		if len(lines) >= height-2 {
			break
		}
		lines = append(lines, l)
	}
	for len(lines) < height-2 {
		lines = append(lines, "")
	}
	explain := "SCHED: ok and warn accounts; PAUSED: paused and stale_probe; +1H..+5H: schedulable then, from resets, block expiries"
	if g.haveHistory {
		explain += " and projected pauses"
	} else {
		explain += " (no history: no projected pauses)"
	}
	if displaywidth.String(explain) > width { // cut, it lost what the +1H columns mean
		explain = "SCHED: ok+warn · PAUSED: paused+stale_probe · +1H..+5H: schedulable then"
	}
	lines = append(lines, st.Dim.Render(fit(explain, width, false)))
	note := ""
	if g.note != "" {
		note = st.Notice.Render(fit(g.note, width, false))
	}
	lines = append(lines, note)
	return strings.Join(lines, "\n")
}

// dryText is "now", "~14:20 (in 43m)" or "—", with "?" when projected from stale data.
func dryText(ctx *Context, g trend.Group) string {
	switch {
	case g.DryAt.IsZero():
		return "—"
	case !g.DryAt.After(ctx.Now):
		return "now"
	}
	s := "~" + g.DryAt.In(ctx.location()).Format("15:04") + " (" + relative(ctx, g.DryAt) + ")"
	if g.Stale {
		s += " stale data"
	}
	return s
}

// dryNote is the fleet header's word on when groups run dry: buckets dry already, then
// the next one due; below 100 columns only the first of those (a group with no account
// now matters more than one that runs dry later). "" when none is due within the
// projections' reach.
func dryNote(ctx *Context, t *trends, narrow bool) string {
	if t == nil {
		return ""
	}
	st := ctx.Styles
	var next, first *trend.Group
	dryNow := 0
	for i := range t.groups {
		g := &t.groups[i]
		switch {
		case g.DryAt.IsZero():
			continue
		case !g.DryAt.After(ctx.Now):
			dryNow++
			if first == nil {
				first = g
			}
		case next == nil:
			next = g
		}
	}
	// Where the long form does not fit both stay, shorter: groups that stay dry for good
	// (their only account blocked) hid the next group to run dry.
	var parts []string
	switch {
	case dryNow == 1 && !narrow:
		parts = append(parts, st.State[model.StatePaused].Render(bucketName(*first)+" dry now"))
	case dryNow > 1 && !narrow:
		parts = append(parts, st.State[model.StatePaused].Render(fmt.Sprintf("%d groups dry now", dryNow)))
	case dryNow > 0:
		parts = append(parts, st.State[model.StatePaused].Render(fmt.Sprintf("%d dry", dryNow)))
	}
	if next != nil {
		dry := " dry ~"
		if narrow && dryNow > 0 {
			dry = " ~"
		}
		parts = append(parts, st.State[model.StateWarn].Render(bucketName(*next)+dry+next.DryAt.In(ctx.location()).Format("15:04")))
	}
	return strings.Join(parts, st.Dim.Render(" · "))
}

func bucketName(g trend.Group) string {
	if g.ID == 0 {
		return "ungrouped/" + g.Platform
	}
	return "g" + strconv.FormatInt(g.ID, 10) + "/" + g.Platform
}

// groupsKey routes keys while the group view is in front.
func (m Model) groupsKey(msg tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	k := m.ctx.Keys
	switch {
	case key.Matches(msg, k.Back, k.Groups):
		m.screen = screenTable
	case key.Matches(msg, k.Down):
		m.scroll++
	case key.Matches(msg, k.Up):
		m.scroll = max(m.scroll-1, 0)
	case key.Matches(msg, k.Help):
		m.screen, m.scroll = screenHelp, 0
	case key.Matches(msg, k.Refresh):
		return m, m.pollNow()
	}
	return m, nil
}

// groupsScreen is the group view under a title, with the keys at the bottom.
func (m Model) groupsScreen() string {
	ctx := &m.ctx
	g := groupsView{ctx: ctx, scroll: m.scroll, haveHistory: m.opts.History != nil}
	if m.trends != nil {
		g.groups, g.note = m.trends.groups, m.trends.note
	}
	title := ctx.Styles.Title.Render("Groups") + ctx.Styles.Dim.Render(" · sorted by time to dry · "+clock(ctx, ctx.Now))
	help := ctx.Styles.Help.Render(fit("esc or t back · j/k scroll · ctrl+r poll now · ? help", ctx.Width, false))
	return fit(title, ctx.Width, false) + "\n" + g.View(ctx.Width, ctx.Height-2) + "\n" + help
}

// trendDetail are the detail view's projection lines for a row.
func (m Model) trendDetail(r *row) []string {
	note := ""
	if m.trends != nil {
		note = m.trends.note
	}
	if m.opts.History == nil {
		note = "History is off (--history off): no pace or pause time, only resets and block expiries."
	}
	return trendLines(&m.ctx, r, m.forecastOf(r), m.trends, note)
}
