package tui

import (
	"strconv"
	"strings"
	"time"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/quotatop/quotatop/model"
)

// paint styles a cell, or leaves it plain on the cursor row (whose own style covers the
// whole line: nested colour resets would cut its background short).
type paint func(s lipgloss.Style, text string) string

func styled(s lipgloss.Style, text string) string { return s.Render(text) }
func plain(_ lipgloss.Style, text string) string  { return text }

// column is one table column. Columns give way by priority as the terminal narrows.
type column struct {
	title    string
	width    int
	priority int // 1 never goes; higher numbers go first
	right    bool
	cell     func(ctx *Context, r *row, p paint, width int) string
}

var columns = []column{
	{title: "STATE", width: 13, priority: 1, cell: stateCell},
	{title: "ID", width: 6, priority: 4, right: true, cell: func(_ *Context, r *row, _ paint, _ int) string { return strconv.FormatInt(r.acc.ID, 10) }},
	{title: "NAME", width: 12, priority: 1, cell: func(_ *Context, r *row, _ paint, _ int) string { return r.acc.DisplayName() }},
	{title: "PLATFORM", width: 14, priority: 6, cell: platformCell},
	{title: "5H USED", width: 12, priority: 1, cell: func(ctx *Context, r *row, p paint, w int) string { return barCell(ctx, r, 0, p, w) }},
	{title: "7D USED", width: 12, priority: 1, cell: func(ctx *Context, r *row, p paint, w int) string { return barCell(ctx, r, 1, p, w) }},
	{title: "5H RESET", width: 8, priority: 5, right: true, cell: func(ctx *Context, r *row, p paint, _ int) string { return resetCell(ctx, r, 0, p) }},
	{title: "7D RESET", width: 8, priority: 7, right: true, cell: func(ctx *Context, r *row, p paint, _ int) string { return resetCell(ctx, r, 1, p) }},
	{title: "ETA", width: 5, priority: 3, right: true, cell: etaCell}, // time to pause (trendview.go)
	{title: "AGE", width: 6, priority: 1, right: true, cell: ageCell},
	{title: "REASON", width: 11, priority: 2, cell: reasonCell},
}

// nameRoom is the room the name keeps while columns of priority prio may still go.
func nameRoom(prio int) int {
	if prio > 3 {
		return 4
	}
	return 0
}

// layout picks the columns that fit and their widths.
type layout struct {
	cols   []column
	widths []int
}

const gutter = 1 // the mark column

func newLayout(width int) layout {
	chosen := make([]bool, len(columns))
	for i := range columns {
		chosen[i] = true
	}
	need := func() int {
		n := gutter
		for i, c := range columns {
			if chosen[i] {
				n += c.width + 1
			}
		}
		return n - 1
	}
	// The minor columns (priority 4 and up) give way before the name shrinks under 16
	// cells; the ETA (3) and reason (2) only when nothing else fits.
	for prio := 7; prio > 1 && need()+nameRoom(prio) > width; prio-- {
		for i, c := range columns {
			if c.priority == prio {
				chosen[i] = false
			}
		}
	}
	// Spare room goes to the name first (up to 20), then longer bars, then the reason and
	// the platform (auto_reset_pending_5h is 21 cells, anthropic/setup-token 21), then
	// more name, and the rest to the reason.
	spare := max(width-need(), 0)
	take := func(n int) int { n = min(n, spare); spare -= n; return n }
	name := take(8)
	bars := take(12) / 2
	reason := take(10) // auto_reset_pending_5h is 21 cells
	platform := take(7)
	name += take(20)
	var l layout
	for i, c := range columns {
		if !chosen[i] {
			continue
		}
		w := c.width
		switch c.title {
		case "NAME":
			w += name
		case "5H USED", "7D USED":
			w += bars
		case "PLATFORM":
			w += platform
		case "REASON":
			w += reason + spare
		}
		l.cols = append(l.cols, c)
		l.widths = append(l.widths, w)
	}
	return l
}

func (l layout) header(ctx *Context) string {
	var b strings.Builder
	b.WriteString(strings.Repeat(" ", gutter))
	for i, c := range l.cols {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(fit(c.title, l.widths[i], c.right))
	}
	return ctx.Styles.ColumnHeader.Render(b.String())
}

// render draws one row; cursor rows are drawn plain under the cursor style.
func (l layout) render(ctx *Context, r *row, cursor, marked bool) string {
	if cursor {
		return ctx.Styles.Cursor.Render(l.line(ctx, r, plain, marked))
	}
	return l.line(ctx, r, styled, marked)
}

// line is one row's cells painted with p.
func (l layout) line(ctx *Context, r *row, p paint, marked bool) string {
	var b strings.Builder
	if marked {
		b.WriteString(p(ctx.Styles.Marked, "*"))
	} else {
		b.WriteByte(' ')
	}
	for i, c := range l.cols {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(fit(c.cell(ctx, r, p, l.widths[i]), l.widths[i], c.right))
	}
	return b.String()
}

// fit pads or truncates styled text to exactly width cells.
func fit(s string, width int, right bool) string {
	w := ansi.StringWidth(s)
	if w > width {
		return ansi.Truncate(s, width, "…")
	}
	pad := strings.Repeat(" ", width-w)
	if right {
		return pad + s
	}
	return s + pad
}

func reasonCell(ctx *Context, r *row, p paint, width int) string {
	if run := ctx.Running[r.acc.Key]; run != "" {
		return p(ctx.Styles.Notice, "⟳ "+run+"…")
	}
	main := string(r.j.MainReason())
	// "+2" says more reasons keep the account out (the detail lists them), where it fits.
	more := 0
	for _, x := range r.j.Reasons {
		if x != r.j.MainReason() && x != model.ReasonNear5h && x != model.ReasonNear7d {
			more++
		}
	}
	if more > 0 {
		if withMore := main + " +" + strconv.Itoa(more); len(withMore) <= width {
			return withMore
		}
	}
	return main
}

func platformCell(_ *Context, r *row, _ paint, _ int) string {
	if r.acc.Platform == "" {
		return "—"
	}
	return r.acc.Platform + "/" + r.acc.Type
}

func stateCell(ctx *Context, r *row, p paint, _ int) string {
	s := r.j.State
	return p(ctx.Styles.State[s], s.Glyph()+" "+string(s))
}

// The bar is drawn in braille cells: narrow in every locale (block and box characters
// are East Asian ambiguous and turn double-width on some CJK terminals).
const (
	barFull  = "⣿"
	barHalf  = "⡇"
	barEmpty = "⣀"
	barMark  = "|"
)

// barCell draws a window's used percent as a bar with a mark at the threshold, then the
// percent. A window whose reset has passed is drawn empty with "reset": its old number is
// no longer true.
func barCell(ctx *Context, r *row, i int, p paint, width int) string {
	w := r.window(i)
	st := ctx.Styles
	pctWidth := 6
	barWidth := max(width-pctWidth, 3)
	if !w.present {
		return p(st.Dim, fit("", barWidth, false)+fit("—", pctWidth, true))
	}
	if w.reset {
		return p(st.BarReset, strings.Repeat(barEmpty, barWidth)) + p(st.Dim, fit("reset", pctWidth, true))
	}
	fill := st.BarFill
	switch {
	case w.over:
		fill = st.BarOver
	case ctx.Policy.WarnPercent > 0 && w.used >= ctx.Policy.WarnPercent:
		fill = st.BarWarn
	}
	halves := int(min(max(w.used, 0), 100)/100*float64(barWidth*2) + 0.5)
	mark := -1
	if w.mark > 0 {
		mark = min(int(w.mark*float64(barWidth)+0.5), barWidth) - 1
	}
	// Emit runs of one style rather than a style per cell: fewer bytes per frame.
	const (
		kindEmpty = iota
		kindFill
		kindMark
	)
	styles := [3]lipgloss.Style{st.BarEmpty, fill, st.BarMark}
	var b, run strings.Builder
	runKind := kindEmpty
	flush := func() {
		if run.Len() > 0 {
			b.WriteString(p(styles[runKind], run.String()))
			run.Reset()
		}
	}
	for c := 0; c < barWidth; c++ {
		glyph, kind := barEmpty, kindEmpty
		switch {
		case c == mark:
			glyph, kind = barMark, kindMark
		case halves >= 2*(c+1):
			glyph, kind = barFull, kindFill
		case halves == 2*c+1:
			glyph, kind = barHalf, kindFill
		}
		if kind != runKind {
			flush()
			runKind = kind
		}
		run.WriteString(glyph)
	}
	flush()
	pct := model.FormatPercent(w.used)
	return b.String() + p(fill, fit(pct, pctWidth, true))
}

func resetCell(ctx *Context, r *row, i int, p paint) string {
	w := r.window(i)
	switch {
	case !w.present || w.resetAt.IsZero():
		return p(ctx.Styles.Dim, "—")
	case w.reset:
		return p(ctx.Styles.Dim, "passed")
	}
	return model.FormatAge(w.resetAt.Sub(ctx.Now))
}

// ageCell turns from fresh to aging (half the stale bound) to stale (the bound itself);
// a stale age also carries a "!" so it reads without colour. Other platforms' usage has
// no stale bound in the gateway: it only ages.
func ageCell(ctx *Context, r *row, p paint, _ int) string {
	taken, ok := r.sampledAt() // not r.j.Age: rows are re-judged only when due
	if !ok {
		return p(ctx.Styles.Dim, "—")
	}
	age := ctx.Now.Sub(taken)
	if age < 0 {
		// fresh to the gateway; an age would hide a clock that is off on one side
		return p(ctx.Styles.AgeAging, "future?")
	}
	text := model.FormatAge(age)
	switch {
	case r.j.Stale:
		return p(ctx.Styles.AgeStale, text+"!")
	case age >= ctx.Policy.StaleAfter/2:
		return p(ctx.Styles.AgeAging, text)
	}
	return p(ctx.Styles.AgeFresh, text)
}

// ageSince is for headers: "3s ago".
func ageSince(now, t time.Time) string { return model.FormatAge(now.Sub(t)) + " ago" }
