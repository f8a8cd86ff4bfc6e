package tui

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/quotatop/quotatop/demo"
	"github.com/quotatop/quotatop/model"
)

// fakeAlerts turns every poll into the alerts it is given, and records what it saw.
type fakeAlerts struct {
	out  []Alert
	seen *int
}

func (f fakeAlerts) Observe(now time.Time, _ time.Duration, accounts []model.Account, p model.Policy, err error, judged func(Judged)) []Alert {
	*f.seen = len(accounts)
	if err == nil {
		judged(judgedOf(judgeAll(accounts, p, now)))
	}
	return f.out
}

type demoReader struct{}

func (demoReader) Read(context.Context) ([]model.Account, error) { return demo.Accounts(t0), nil }

func TestEventsPane(t *testing.T) {
	seen := -1
	alerts := []Alert{
		{Time: t0.Add(-26 * time.Hour), Severity: "resolved", Text: "storage reachable again after 3m"},
		{Time: t0, Severity: "critical", Text: "2 accounts changed state (2 now paused): #1 a ok → paused (quota_5h); #2 b ok → paused (quota_5h)"},
		{Time: t0, Severity: "warning", Text: "group 7 is at its floor (1 of 3 schedulable)"},
	}
	m := New(Options{Reader: demoReader{}, Source: SourceInfo{Address: "x", Prefix: "sched:"}, Policy: model.DefaultPolicy(),
		Clock: func() time.Time { return t0 }, Location: time.UTC, Alerts: fakeAlerts{out: alerts, seen: &seen}, NotifyTerminal: true})
	m = update(t, m, tea.WindowSizeMsg{Width: 80, Height: 24})

	// The pipeline runs inside the poll command, with the poll's accounts.
	msg := m.pollCmd(m.pollGen)().(pollDoneMsg)
	if seen != len(demo.Accounts(t0)) || len(msg.alerts) != 3 {
		t.Fatalf("Observe saw %d accounts and returned %d alerts", seen, len(msg.alerts))
	}
	next, cmd := m.Update(msg)
	m = next.(Model)
	if cmd == nil || !strings.Contains(m.View().Content, "» ⚑ group 7 is at its floor (1 of 3 schedulable) (e: events)") {
		t.Fatalf("no message line for the new events:\n%s", m.View().Content)
	}
	m = keys(t, m, "e")
	out := m.View().Content
	if n := strings.Count(out, "\n") + 1; n != 24 {
		t.Fatalf("pane has %d lines", n)
	}
	golden.RequireEqual(t, out)
	m = keys(t, m, "esc")
	if m.screen != screenTable {
		t.Error("esc does not close the events pane")
	}
}

func TestTerminalNotice(t *testing.T) {
	got := terminalNotice([]Alert{{Severity: "resolved", Text: "ok; fine"}, {Severity: "critical", Text: "evil\x07\x1b]0;x"}})
	want := "\a\x1b]9;quotatop: 2 events: evil␇␛]0,x\x07\x1b]777;notify;quotatop;2 events: evil␇␛]0,x\x07"
	if got != want {
		t.Fatalf("notice %q\nwant   %q", got, want)
	}
	if got := terminalNotice([]Alert{{Severity: "resolved", Text: "back"}}); strings.HasPrefix(got, "\a") {
		t.Error("a recovery should not ring the bell")
	}
	// A long text is cut on a character, never inside one.
	if got := terminalNotice([]Alert{{Severity: "warning", Text: "a" + strings.Repeat("→", 300)}}); !utf8.ValidString(got) || !strings.Contains(got, "→…\x07") {
		t.Errorf("cut notice %q", got)
	}
}

// rebaselineAlerts counts the polls it was told to take as a new baseline.
type rebaselineAlerts struct {
	fakeAlerts
	rebaselines *int
}

func (r rebaselineAlerts) Rebaseline() { *r.rebaselines++ }

// The first poll judged with the gateway's thresholds is the events' baseline: the
// accounts those thresholds pause did not change state, quotatop learned how to judge
// them (a start announced them all).
func TestLearningTheGatewaysThresholdsIsABaseline(t *testing.T) {
	seen, rebaselines := 0, 0
	m := New(Options{Reader: demoReader{}, Source: SourceInfo{Address: "x", Prefix: "sched:"}, Policy: model.DefaultPolicy(),
		Clock: func() time.Time { return t0 }, Location: time.UTC, Alerts: rebaselineAlerts{fakeAlerts{seen: &seen}, &rebaselines}})
	m = update(t, m, tea.WindowSizeMsg{Width: 80, Height: 24})
	poll := func() {
		cmd := m.startPoll()
		m = update(t, m, cmd())
	}
	poll()
	if rebaselines != 0 {
		t.Fatalf("%d rebaselines before the gateway was read", rebaselines)
	}
	m = update(t, m, gatewayMsg{info: GatewayInfo{SchedulingThresholds: map[string]float64{"openai": 95}, Version: "0.1.179"}})
	poll()
	poll()
	m = update(t, m, gatewayMsg{info: GatewayInfo{SchedulingThresholds: map[string]float64{"openai": 90}, Version: "0.1.179"}})
	poll() // a later change of the gateway's settings is news: no new baseline
	if rebaselines != 1 {
		t.Fatalf("%d rebaselines, want 1 (the poll after the thresholds were first learned)", rebaselines)
	}
}

// outageAlerts says an outage becomes reportable at due.
type outageAlerts struct {
	fakeAlerts
	due time.Time
}

func (o outageAlerts) OutageDue() (time.Time, bool) { return o.due, !o.due.IsZero() }

type downReader struct{}

func (downReader) Read(context.Context) ([]model.Account, error) {
	return nil, errors.New("connection refused")
}

// Only a failed poll reports an outage: while one is pending the back-off polls again
// when it becomes reportable, not a back-off step later.
func TestBackoffPollsWhenTheOutageIsDue(t *testing.T) {
	seen := 0
	due := t0.Add(3 * time.Second)
	m := New(Options{Reader: downReader{}, Source: SourceInfo{Address: "x", Prefix: "sched:"}, Policy: model.DefaultPolicy(),
		Interval: 2 * time.Second, Clock: func() time.Time { return t0 }, Location: time.UTC, Alerts: outageAlerts{fakeAlerts{seen: &seen}, due}})
	m = update(t, m, tea.WindowSizeMsg{Width: 80, Height: 24})
	m.failures = 4 // the next back-off step is 2 s << 4 = 32 s, capped at 30 s
	m = update(t, m, m.startPoll()())
	if got := m.retryAt.Sub(t0); got != 3*time.Second {
		t.Fatalf("retry in %v, want 3s (when the outage is due)", got)
	}
	m.opts.Alerts = outageAlerts{fakeAlerts{seen: &seen}, time.Time{}} // reported: back off as usual
	m = update(t, m, m.startPoll()())
	if got := m.retryAt.Sub(t0); got != maxBackoff {
		t.Fatalf("retry in %v, want the %v back-off", got, maxBackoff)
	}
}

// vanishingReader is demoReader whose last full read found keys gone.
type vanishingDemo struct {
	demoReader
	n int
}

func (v vanishingDemo) Vanished() int { return v.n }

// Keys that SCAN listed but were gone when read (accounts deleted during the poll) are
// said once, as --once says them on stderr.
func TestVanishedKeysAreSaid(t *testing.T) {
	seen := 0
	m := New(Options{Reader: vanishingDemo{n: 2}, Source: SourceInfo{Address: "x", Prefix: "sched:"}, Policy: model.DefaultPolicy(),
		Clock: func() time.Time { return t0 }, Location: time.UTC, Alerts: fakeAlerts{seen: &seen}})
	m = update(t, m, tea.WindowSizeMsg{Width: 100, Height: 24})
	m = update(t, m, m.startPoll()())
	if !strings.Contains(view(m), "2 key(s) that SCAN listed were gone when read") {
		t.Fatalf("not said:\n%s", view(m))
	}
	m.message = ""
	m = update(t, m, m.startPoll()())
	if strings.Contains(view(m), "were gone when read") {
		t.Fatal("the same count said again")
	}
}
