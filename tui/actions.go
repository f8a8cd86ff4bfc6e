package tui

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/quotatop/quotatop/action"
	"github.com/quotatop/quotatop/model"
)

// actionTimeout bounds a whole (bulk) action; each call has its own shorter timeout.
const actionTimeout = 2 * time.Minute

// messageFor is how long the message line stays.
const messageFor = 20 * time.Second

type actionDoneMsg struct {
	results []action.Result
	marked  bool // the action took the marks (not the detail view's one account)
}

// thresholdsMsg carries the gateway-wide default thresholds read from the admin API.
type thresholdsMsg struct {
	values [2]float64
	err    error
}

type thresholdsDueMsg struct{}

// confirm is a pending action waiting for y (or x for the alternative).
type confirm struct {
	title   string
	lines   []string
	jobs    []action.Job
	altJobs []action.Job
	altText string
}

// actionsEnabled reports whether action keys do anything.
func (m Model) actionsEnabled() bool {
	return m.opts.Actions != nil && m.opts.Actions.ReadOnly() == ""
}

// actionKey handles p, u, space, ctrl+a; ok is false when the key is none of them.
func (m Model) actionKey(msg tea.KeyPressMsg) (Model, tea.Cmd, bool) {
	all := DefaultKeyMap()
	if !key.Matches(msg, all.Probe, all.Unpause, all.Mark, all.MarkAll) {
		return m, nil, false
	}
	if !m.actionsEnabled() {
		why := "no admin API configured (--api)"
		if m.opts.Actions != nil {
			why = m.opts.Actions.ReadOnly()
		}
		m.say(fmt.Sprintf("Read-only: %s; %s is refused.", why, msg.String()))
		return m, nil, true
	}
	k := m.ctx.Keys
	switch {
	case key.Matches(msg, k.Mark):
		m.fleet.ToggleMark()
		m.move(1)
		m.invalidate()
	case key.Matches(msg, k.MarkAll):
		m.fleet.MarkShown()
		m.invalidate()
	case key.Matches(msg, k.Probe):
		return m.probe()
	case key.Matches(msg, k.Unpause):
		return m.unpause()
	}
	return m, nil, true
}

// targets are the marked rows (else the cursor's) that are not busy already; in the
// detail view, its account alone.
func (m Model) targets() ([]action.Target, int) {
	var out []action.Target
	busy := 0
	rows := m.fleet.Targets()
	if m.screen == screenDetail {
		rows = rows[:0:0]
		if r, ok := m.fleet.FindAt(m.detailID, m.detailKey); ok {
			rows = append(rows, r)
		}
	}
	for _, r := range rows {
		if m.inFlight[r.acc.Key] {
			busy++
			continue
		}
		acc := *r.acc
		out = append(out, action.Target{ID: r.acc.ID, Name: r.acc.DisplayName(), Reason: string(r.j.MainReason()), Before: &acc, Ambiguous: r.dup, Key: r.acc.Key})
	}
	return out, busy
}

func (m Model) probe() (Model, tea.Cmd, bool) {
	targets, busy := m.targets()
	if len(targets) == 0 {
		m.say(nothingToDo(busy))
		return m, nil, true
	}
	jobs := action.Same([]action.Kind{action.Probe}, targets)
	hidden := m.hiddenMarked()
	if len(targets) == 1 && !m.opts.ConfirmProbes && hidden == 0 {
		// A single probe changes nothing but the snapshot: no dialog unless asked for.
		return m, m.startAction(jobs), true
	}
	m.confirm = &confirm{
		title: fmt.Sprintf("Refresh probe of %s", countNames(targets)),
		lines: append(hiddenMarks(hidden), action.Probe.Describe()),
		jobs:  jobs,
	}
	return m, nil, true
}

// hiddenMarked is how many marked accounts the filter hides that the action takes: none
// from the detail view, which acts on its account alone.
func (m Model) hiddenMarked() int {
	if m.screen == screenDetail {
		return 0
	}
	_, hidden := m.fleet.MarkCounts()
	return hidden
}

// hiddenMarks is the dialog's line about marked accounts the filter hides, which the
// action takes too (the cursor's row is not what it acts on then).
func hiddenMarks(hidden int) []string {
	if hidden == 0 {
		return nil
	}
	return []string{fmt.Sprintf("%d of these marked account(s) are hidden by the filter: the action takes every mark (esc clears the filter; marks clear after an action)", hidden), ""}
}

func (m Model) unpause() (Model, tea.Cmd, bool) {
	targets, busy := m.targets()
	if len(targets) == 0 {
		m.say(nothingToDo(busy))
		return m, nil, true
	}
	c := &confirm{}
	var skipped, warnings []string
	alts := map[string]int{}
	var altWhy string
	for _, t := range targets {
		r, _ := m.fleet.FindAt(t.ID, t.Key)
		if t.Ambiguous != "" {
			skipped = append(skipped, fmt.Sprintf("%s: skipped, %s; fix the storage first", t.Name, t.Ambiguous))
			continue
		}
		plan := action.Unpause(r.acc, r.j)
		if plan.Blocked != "" {
			skipped = append(skipped, fmt.Sprintf("%s: skipped, %s", t.Name, plan.Blocked))
			continue
		}
		c.jobs = append(c.jobs, action.Job{Target: t, Steps: plan.Steps})
		c.lines = append(c.lines, fmt.Sprintf("%s (%s): %s", t.Name, blockingReasons(r.j), stepNames(plan.Steps)))
		for _, w := range plan.Warnings {
			warnings = append(warnings, fmt.Sprintf("⚠ %s: %s", t.Name, w))
		}
		if len(plan.Alternative) > 0 {
			c.altJobs = append(c.altJobs, action.Job{Target: t, Steps: plan.Alternative})
			if plan.AltWhy != "" {
				altWhy = plan.AltWhy
				continue
			}
			for _, k := range plan.Alternative {
				alts[string(k.Window())]++
			}
		}
	}
	if len(c.jobs) == 0 {
		m.say("Nothing to unpause: " + strings.Join(skipped, "; "))
		return m, nil, true
	}
	// The title names only the accounts acted on: a healthy marked account is skipped.
	acted := make([]action.Target, len(c.jobs))
	for i, j := range c.jobs {
		acted[i] = j.Target
	}
	c.title = "Unpause " + countNames(acted)
	if len(skipped) > 0 {
		c.title += fmt.Sprintf("; %d skipped", len(skipped))
	}
	c.lines = append(c.lines, skipped...)
	if len(c.lines) > 6 {
		c.lines = append(c.lines[:5], fmt.Sprintf("… and %d more", len(c.lines)-5))
	}
	if len(warnings) > 3 {
		warnings = append(warnings[:2], fmt.Sprintf("⚠ … and %d more warnings", len(warnings)-2))
	}
	c.lines = append(c.lines, warnings...)
	c.lines = append(c.lines, "")
	c.lines = append(c.lines, describeKinds(c.jobs)...)
	c.lines = append(hiddenMarks(m.hiddenMarked()), c.lines...)
	var ws []string
	for _, w := range []string{"5h", "7d"} {
		if alts[w] > 0 {
			ws = append(ws, w)
		}
	}
	switch {
	case altWhy != "" && len(ws) > 0:
		c.altText = fmt.Sprintf("x  instead %s, and exempt windows from quota auto-pause for the others (%d account(s) in all)", altWhy, len(c.altJobs))
	case altWhy != "":
		c.altText = fmt.Sprintf("x  instead %s (%d account(s))", altWhy, len(c.altJobs))
	case len(c.altJobs) > 0:
		c.altText = fmt.Sprintf("x  instead exempt their windows over the threshold (%s) from quota auto-pause for %d account(s): a lasting change to their settings (undo it in the gateway's web UI); they are used although over the threshold", strings.Join(ws, ", "), len(c.altJobs))
	}
	m.confirm = c
	return m, nil, true
}

// blockingReasons are the reasons that keep the account out of rotation, the first three:
// the plan answers all of them, not only the one the table shows.
func blockingReasons(j model.Judgement) string {
	var out []string
	for _, r := range j.Reasons {
		if r == model.ReasonNear5h || r == model.ReasonNear7d {
			continue
		}
		if len(out) == 3 {
			out = append(out, "…")
			break
		}
		out = append(out, string(r))
	}
	if len(out) == 0 {
		return string(j.MainReason())
	}
	return strings.Join(out, ", ")
}

// describeKinds says exactly what each call in the jobs does, once per kind.
func describeKinds(jobs []action.Job) []string {
	seen := map[action.Kind]bool{}
	var out []string
	for _, j := range jobs {
		for _, k := range j.Steps {
			if !seen[k] {
				seen[k] = true
				out = append(out, k.Short()+" = "+k.Describe())
			}
		}
	}
	return out
}

func nothingToDo(busy int) string {
	if busy > 0 {
		return "Already running for that account: wait for it to finish."
	}
	return "No account selected."
}

func stepNames(steps []action.Kind) string {
	names := make([]string, len(steps))
	for i, k := range steps {
		names[i] = k.Short()
	}
	return strings.Join(names, ", then ")
}

// countNames is "codex-pro-20" or "3 accounts (codex-pro-20, codex-pro-21, codex-pro-22)"
// or "12 accounts (a, b, c, and 9 more)".
func countNames(targets []action.Target) string {
	if len(targets) == 1 {
		return targets[0].Name
	}
	var names []string
	for _, t := range targets[:min(3, len(targets))] {
		names = append(names, t.Name)
	}
	if len(targets) > 3 {
		names = append(names, fmt.Sprintf("and %d more", len(targets)-3))
	}
	return fmt.Sprintf("%d accounts (%s)", len(targets), strings.Join(names, ", "))
}

// confirmKey: y runs, x runs the alternative, anything else (Enter too) cancels.
func (m Model) confirmKey(msg tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	c := m.confirm
	m.confirm = nil
	switch {
	case msg.String() == "y":
		return m, m.startAction(c.jobs)
	case msg.String() == "x" && len(c.altJobs) > 0:
		return m, m.startAction(c.altJobs)
	}
	m.say("Cancelled: nothing was changed.")
	return m, nil
}

func (m *Model) startAction(jobs []action.Job) tea.Cmd {
	for _, j := range jobs {
		m.inFlight[j.Target.Key] = true
		m.running[j.Target.Key] = j.Steps[0].Short()
	}
	// The line says what runs until the results replace it (it still said "Cancelled"
	// from an earlier dialog while a confirmed action ran).
	if len(jobs) == 1 {
		m.say(jobs[0].Target.Name + ": " + stepNames(jobs[0].Steps) + "…")
	} else {
		m.say(fmt.Sprintf("%d accounts: running…", len(jobs)))
	}
	m.invalidate()
	d, marked := m.opts.Actions, m.screen != screenDetail
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), actionTimeout)
		defer cancel()
		return actionDoneMsg{results: d.Run(ctx, jobs), marked: marked}
	}
}

func (m Model) actionDone(msg actionDoneMsg) (tea.Model, tea.Cmd) {
	failed := 0
	var firstFail string
	for _, r := range msg.results {
		delete(m.inFlight, r.Target.Key)
		delete(m.running, r.Target.Key)
		text := m.describeResult(r)
		m.results[r.Target.Key] = clock(&m.ctx, m.ctx.Now) + " " + text
		if r.Err != nil {
			failed++
			if firstFail == "" {
				firstFail = text
			}
		}
	}
	switch {
	case len(msg.results) == 1:
		m.say(m.results[msg.results[0].Target.Key][9:])
	case failed == 0:
		m.say(fmt.Sprintf("%d accounts: all done. Details per account in the detail view (enter).", len(msg.results)))
	default:
		m.say(fmt.Sprintf("%d accounts: %d done, %d failed; first failure: %s", len(msg.results), len(msg.results)-failed, failed, firstFail))
	}
	if msg.marked {
		m.fleet.ClearMarks()
	}
	m.invalidate()
	return m, m.pollNow()
}

// describeResult says what happened to one account, with before and after numbers.
func (m Model) describeResult(r action.Result) string {
	what := stepNames(r.Steps)
	if r.Err != nil && what == "" { // refused before any step
		return fmt.Sprintf("%s: %s", r.Target.Name, r.Err.Error())
	}
	if r.Err != nil {
		return fmt.Sprintf("%s: %s failed: %s", r.Target.Name, what, r.Err.Error())
	}
	text := fmt.Sprintf("%s: %s %s", r.Target.Name, what, r.Outcome)
	if r.After == nil {
		return text
	}
	after := model.Judge(r.After, m.ctx.Policy, m.ctx.Now)
	if b := r.Target.Before; b != nil && b.Quota != nil && r.After.Quota != nil {
		var parts []string
		for i, w := range model.WindowNames {
			parts = append(parts, fmt.Sprintf("%s %s → %s", w, model.FormatPercent(b.Quota.Windows[i].UsedPercent), model.FormatPercent(r.After.Quota.Windows[i].UsedPercent)))
		}
		text += "; " + strings.Join(parts, ", ")
		if after.HasTimestamp {
			text += fmt.Sprintf(", snapshot %s old", model.FormatAge(after.Age))
		}
	}
	return text + "; now " + string(after.State)
}

// say sets the message line; the text may quote a gateway or Redis, so it is made inert
// and bounded here, whatever its source already did.
func (m *Model) say(text string) {
	m.message, m.messageAt, m.events.onLine = model.Cut(text, messageMax), m.ctx.Now, false
}

// messageMax bounds the message line: enough for any sentence quotatop writes.
const messageMax = 1000

// messageRows is how many lines a long message may take: at 80 columns an action's
// result, or the instruction in it, was cut with no way to read the rest.
const messageRows = 3

// messageLine is the message, wrapped to at most messageRows lines; "" when none.
func (m Model) messageLine() string {
	if m.message == "" || m.ctx.Now.Sub(m.messageAt) > messageFor {
		return ""
	}
	w := m.ctx.Width
	lines := strings.Split(ansi.Wrap("» "+m.message, w, ""), "\n")
	if len(lines) > messageRows {
		lines[messageRows-1] = strings.Join(lines[messageRows-1:], " ")
		lines = lines[:messageRows]
	}
	for i, l := range lines {
		lines[i] = m.ctx.Styles.Notice.Render(fit(l, w, false))
	}
	return strings.Join(lines, "\n")
}

// dialog draws the confirmation box over the middle of the screen. A box taller than
// the screen gives up lines of its plan from the end, never its keys (at 80x24 a bulk
// unpause lost y and the cancel line below the screen).
func (m Model) dialog(screen string) string {
	c := m.confirm
	lines := strings.Split(screen, "\n")
	box := m.dialogBox(c.lines, 0)
	// Too tall: give up the calls' descriptions and plan lines from the end first, the
	// warnings (⚠) last; a hidden warning is said beside y.
	kept, hiddenWarnings := slices.Clone(c.lines), 0
	for len(kept) > 0 && lipgloss.Height(box) > len(lines) {
		drop := len(kept) - 1
		for i := len(kept) - 1; i > 0; i-- {
			if !strings.HasPrefix(kept[i], "⚠") {
				drop = i
				break
			}
		}
		if strings.HasPrefix(kept[drop], "⚠") {
			hiddenWarnings++
		}
		kept = slices.Delete(kept, drop, drop+1)
		box = m.dialogBox(append(slices.Clip(kept), fmt.Sprintf("… %d more line(s): a taller terminal shows them", len(c.lines)-len(kept))), hiddenWarnings)
	}
	boxLines := strings.Split(box, "\n")
	top := max((len(lines)-len(boxLines))/2, 0)
	left := max((m.ctx.Width-lipgloss.Width(boxLines[0]))/2, 0)
	for i, bl := range boxLines {
		if top+i < len(lines) {
			lines[top+i] = strings.Repeat(" ", left) + bl
		}
	}
	return strings.Join(lines, "\n")
}

// dialogBox is the confirmation box with these lines of plan; hiddenWarnings is how many
// warnings a short screen left out.
func (m Model) dialogBox(plan []string, hiddenWarnings int) string {
	c, st := m.confirm, m.ctx.Styles
	var body []string
	body = append(body, st.Bold.Render(c.title), "")
	body = append(body, plan...)
	yes := st.Key.Render("y") + "  do it"
	if hiddenWarnings > 0 {
		yes += st.Notice.Render(fmt.Sprintf(" (%d warning(s) not shown: make the terminal taller to read them first)", hiddenWarnings))
	}
	body = append(body, "", yes)
	if c.altText != "" {
		body = append(body, st.Key.Render(c.altText[:1])+c.altText[1:])
	}
	body = append(body, st.Dim.Render("any other key (Enter too) cancels"))
	return lipgloss.NewStyle().Border(lipgloss.NormalBorder()).Padding(0, 1).Width(min(m.ctx.Width-4, 100)).Render(strings.Join(body, "\n"))
}

// fetchThresholds reads the gateway's default thresholds (at start and every minute).
func (m Model) fetchThresholds() tea.Cmd {
	read := m.opts.Thresholds
	if read == nil {
		return nil
	}
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		v, err := read(ctx)
		return thresholdsMsg{values: v, err: err}
	}
}
