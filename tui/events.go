package tui

import (
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/quotatop/quotatop/model"
)

// Alert is one event as the monitor shows it.
type Alert struct {
	Time time.Time
	// Severity is "critical", "warning" or "resolved".
	Severity string
	// Text is the event's one-sentence summary, already sanitised.
	Text string
}

// Alerts is the event pipeline as the monitor needs it: it takes each poll's outcome and
// says which events it caused (and delivers them elsewhere on its own). Observe runs
// inside the poll command, never in Update, one call at a time.
type Alerts interface {
	// p is the policy the screen judges with, which the gateway's thresholds may have
	// changed since the start: events judge alike. For a good poll, judged gets the
	// accounts' judgements (parallel to accounts) before events are detected, valid only
	// during the call: the poll projects from them instead of judging again.
	Observe(now time.Time, took time.Duration, accounts []model.Account, p model.Policy, err error, judged func(Judged)) []Alert
}

// OutageScheduler is an Alerts that says when the storage outage under way becomes
// reportable: only a failed poll reports it, so the back-off polls again then rather
// than a step later.
type OutageScheduler interface {
	OutageDue() (time.Time, bool)
}

// Rebaseliner is an Alerts that can take the next poll as a new baseline: the first
// poll judged with the gateway's thresholds, where the ones before used the flags'. A
// start otherwise announced every account those thresholds pause as a change of state.
type Rebaseliner interface {
	Rebaseline()
}

// Judged is a poll's judgements and what the poll shares with the one before: Judgement
// gives account i's (the pointer good until the next call: the pipeline may judge it
// again on demand rather than keep it), Same says the poll lists the same storage keys
// in the same order, and then Fresh[i] is false for an account judged exactly as before.
// All of it is valid only while the hook runs.
type Judged struct {
	Judgement func(i int) *model.Judgement
	Same      bool
	Fresh     []bool
}

// judgedOf is Judged for judgements held in a slice.
func judgedOf(js []model.Judgement) Judged {
	return Judged{Judgement: func(i int) *model.Judgement { return &js[i] }}
}

// ForecastSink is an Alerts that takes each poll's projected crossing times (per window,
// by account ID, only accounts with one due) before its events are detected, for its
// time-to-dry events and metrics: the poll projects once for both.
type ForecastSink interface {
	PauseTimes(map[int64][2]time.Time)
	// PatchPauseTimes takes a partial projection's: only the accounts it projected, a
	// zero value clearing an account's.
	PatchPauseTimes(map[int64][2]time.Time)
}

// eventsLen is how many events the pane keeps.
const eventsLen = 200

// eventsPane lists the last events, newest first, with their times.
type eventsPane struct {
	ctx    *Context
	alerts []Alert // oldest first
	scroll int
	onLine bool // the message line shows an event, which a newer event may replace
}

func (p *eventsPane) add(alerts []Alert) {
	p.alerts = append(p.alerts, alerts...)
	if len(p.alerts) > eventsLen {
		p.alerts = append([]Alert(nil), p.alerts[len(p.alerts)-eventsLen:]...)
	}
}

// severityGlyph reuses the state glyphs, so a severity reads the same as a state.
func (p eventsPane) style(sev string) (string, string) {
	st := p.ctx.Styles
	switch sev {
	case "critical":
		return st.State[model.StatePaused].Render("✗ critical"), sev
	case "warning":
		return st.State[model.StateWarn].Render("▴ warning "), sev
	}
	return st.State[model.StateOK].Render("✓ resolved"), sev
}

// View draws the pane in w x h cells: a title, the events and a footer.
func (p eventsPane) View(w, h int) string {
	ctx := p.ctx
	st := ctx.Styles
	count := "none yet"
	if len(p.alerts) > 0 {
		count = fmt.Sprintf("last %d, newest first", len(p.alerts))
	}
	lines := []string{fit(st.Title.Render("Events")+st.Dim.Render(" · "+count), w, false)}
	var body []string
	for i := len(p.alerts) - 1; i >= 0; i-- {
		a := p.alerts[i]
		sev, _ := p.style(a.Severity)
		when := a.Time.In(ctx.location()).Format("15:04:05")
		if ctx.Now.Sub(a.Time) >= 24*time.Hour {
			when = a.Time.In(ctx.location()).Format("01-02 15:04")
		}
		body = append(body, fit(st.Dim.Render(when)+"  "+sev+"  "+a.Text, w, false))
	}
	if len(body) == 0 {
		const empty = "no events yet: state changes, warn crossings, groups at their floor and storage outages show here"
		for _, l := range strings.Split(ansi.Wordwrap(empty, max(w-2, 20), ""), "\n") {
			body = append(body, st.Dim.Render(fit("  "+l, w, false)))
		}
	}
	height := max(h-2, 1)
	scroll := min(p.scroll, max(len(body)-height, 0))
	lines = append(lines, body[scroll:min(scroll+height, len(body))]...)
	for len(lines) < h-1 {
		lines = append(lines, "")
	}
	lines = append(lines, st.Help.Render(fit("esc back · j/k scroll · ? help", w, false)))
	return strings.Join(lines, "\n")
}

// terminalNotice is the bell and a desktop notification (OSC 9 for iTerm2, Windows
// Terminal, kitty; OSC 777 for VTE terminals and foot) for new events. Terminals that know
// neither ignore them. Text is sanitised so it cannot end the sequence early.
func terminalNotice(alerts []Alert) string {
	loud := false
	for _, a := range alerts {
		loud = loud || a.Severity != "resolved"
	}
	text := alerts[len(alerts)-1].Text
	if len(alerts) > 1 {
		text = fmt.Sprintf("%d events: %s", len(alerts), text)
	}
	// Cut by characters: a cut by bytes split one and sent invalid UTF-8.
	text = strings.ReplaceAll(model.Cut(text, 200), ";", ",")
	out := "\x1b]9;quotatop: " + text + "\x07" + "\x1b]777;notify;quotatop;" + text + "\x07"
	if loud {
		out = "\a" + out
	}
	return out
}
