package tui

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/quotatop/quotatop/demo"
	"github.com/quotatop/quotatop/model"
)

// namedReader returns the demo fleet renamed, so the screen shows which gateway answered.
type namedReader struct{ name string }

func (r namedReader) Read(context.Context) ([]model.Account, error) {
	accs := demo.Accounts(t0)[:3]
	for i := range accs {
		accs[i].Name = r.name + "-" + accs[i].Name
	}
	return accs, nil
}

func switchingModel(t *testing.T, closed *[]string) Model {
	t.Helper()
	m := New(Options{Reader: namedReader{"prod"}, Source: SourceInfo{Address: "redis://prod:6379/0", Prefix: "sched:"},
		Policy: model.DefaultPolicy(), Interval: 2 * time.Second, Color: false, Clock: func() time.Time { return t0 }, Location: time.UTC,
		Context:  ContextInfo{Name: "prod", Color: "196"},
		Contexts: []ContextInfo{{Name: "prod", Color: "196"}, {Name: "staging"}},
		Close:    func() { *closed = append(*closed, "prod") },
		Switch: func(name string) (Target, error) {
			return Target{Context: ContextInfo{Name: name}, Reader: namedReader{name},
				Source: SourceInfo{Address: "redis://" + name + ":6379/0", Prefix: "sched:"}, Policy: model.DefaultPolicy(),
				Interval: 15 * time.Second, PollTimeout: time.Minute, Close: func() { *closed = append(*closed, name) }}, nil
		}})
	m = update(t, m, tea.WindowSizeMsg{Width: 100, Height: 24})
	accs, _ := namedReader{"prod"}.Read(context.Background())
	return update(t, m, pollDoneMsg{gen: 1, accounts: accs, started: t0, finished: t0})
}

// exec runs a command and its batch the way Bubble Tea would, returning the messages.
func exec(cmd tea.Cmd) []tea.Msg {
	if cmd == nil {
		return nil
	}
	msg := cmd()
	if batch, ok := msg.(tea.BatchMsg); ok {
		var out []tea.Msg
		for _, c := range batch {
			out = append(out, exec(c)...)
		}
		return out
	}
	if msg == nil {
		return nil
	}
	return []tea.Msg{msg}
}

func TestContextSwitchKeepsOnePoller(t *testing.T) {
	var closed []string
	m := switchingModel(t, &closed)
	if first := strings.Split(view(m), "\n")[0]; !strings.Contains(first, "quotatop  prod  · redis://prod") {
		t.Fatalf("the header does not name the context: %q", first)
	}
	// A poll of prod is in flight when the operator switches.
	next, inflight := m.Update(keyMsg("ctrl+r"))
	m = next.(Model)
	m = keys(t, m, "c")
	if v := view(m); !strings.Contains(v, "● prod") || !strings.Contains(v, "staging") {
		t.Fatalf("switcher:\n%s", v)
	}
	m = keys(t, m, "j")
	next, open := m.Update(keyMsg("enter"))
	m = next.(Model)
	if !strings.Contains(view(m), "opening…") {
		t.Fatalf("no sign of the switch in flight:\n%s", view(m))
	}
	msgs := exec(open)
	if len(msgs) != 1 {
		t.Fatalf("switch gave %d messages", len(msgs))
	}
	next, after := m.Update(msgs[0])
	m = next.(Model)
	// The new gateway is polled; prod's connections are released.
	var polled bool
	for _, msg := range exec(after) {
		if p, ok := msg.(pollDoneMsg); ok {
			polled = true
			m = update(t, m, p)
		}
	}
	if !polled || strings.Join(closed, ",") != "prod" {
		t.Fatalf("polled %v, closed %v", polled, closed)
	}
	// prod's late answer is dropped: its generation is old.
	m = update(t, m, exec(inflight)...)
	v := view(m)
	if !strings.Contains(strings.Split(v, "\n")[0], "staging") || !strings.Contains(v, "staging-") || strings.Contains(v, "prod-") || m.interval != 15*time.Second || m.opts.PollTimeout != time.Minute {
		t.Fatalf("after the switch:\n%s", v)
	}
}

func TestSupersededSwitchIsClosed(t *testing.T) {
	var closed []string
	m := switchingModel(t, &closed)
	m = keys(t, m, "c", "j")
	next, first := m.Update(keyMsg("enter"))
	m = next.(Model)
	m.switcher.gen++ // a second switch was asked for meanwhile
	next, cmd := m.Update(exec(first)[0])
	m = next.(Model)
	exec(cmd)
	if strings.Join(closed, ",") != "staging" || m.switcher.current.Name != "prod" {
		t.Fatalf("closed %v, current %q", closed, m.switcher.current.Name)
	}
}

func TestNoContextsNoKey(t *testing.T) {
	m := newTestModel(t, 100, 24, false)
	if m.ctx.Keys.Contexts.Enabled() || strings.Contains(view(keys(t, m, "c")), "Contexts") {
		t.Fatal("the context key works without a config file")
	}
}

// With more contexts than rows, the cursor stays on screen.
func TestSwitcherScrolls(t *testing.T) {
	var closed []string
	m := switchingModel(t, &closed)
	for i := 0; i < 40; i++ {
		m.switcher.items = append(m.switcher.items, ContextInfo{Name: fmt.Sprintf("gw-%02d", i)})
	}
	m = keys(t, m, "c")
	for i := 0; i < 41; i++ {
		m = keys(t, m, "j")
	}
	v := view(m)
	if !strings.Contains(v, "▸   gw-39") || len(strings.Split(v, "\n")) != 24 {
		t.Fatalf("cursor row not shown or screen not 24 lines:\n%s", v)
	}
}

// The new gateway's first poll is the events' baseline: its accounts did not change
// state, quotatop began watching other ones (the same IDs on two gateways were
// announced as changed, with the bell and the notifications).
func TestContextSwitchIsABaseline(t *testing.T) {
	var closed []string
	seen, rebaselines := 0, 0
	m := switchingModel(t, &closed)
	m.opts.Alerts = rebaselineAlerts{fakeAlerts{seen: &seen}, &rebaselines}
	m = keys(t, m, "c", "j")
	next, open := m.Update(keyMsg("enter"))
	m = next.(Model)
	next, after := m.Update(exec(open)[0])
	m = next.(Model)
	for _, msg := range exec(after) {
		if p, ok := msg.(pollDoneMsg); ok {
			m = update(t, m, p)
		}
	}
	if rebaselines != 1 {
		t.Fatalf("%d rebaselines after switching gateways, want 1", rebaselines)
	}
	m = update(t, m, m.startPoll()())
	if rebaselines != 1 {
		t.Fatalf("the poll after the baseline was one too (%d)", rebaselines)
	}
}

// Warnings printed before the full screen took over (an admin key in clear text) stay in
// the header, and a switch shows the new gateway's own.
func TestWarningsSaidBeforeTheScreenStay(t *testing.T) {
	var closed []string
	m := switchingModel(t, &closed)
	m.warnings = warningsLine([]string{"--api http://10.0.0.5:8080 is plain http to another host: the admin key travels in clear text\x1b[2J"})
	out := view(m)
	if !strings.Contains(out, "⚠ --api http://10.0.0.5:8080 is plain http") || strings.Contains(out, "\x1b[2J") {
		t.Fatalf("header:\n%s", out)
	}
	m.opts.Switch = func(name string) (Target, error) {
		return Target{Context: ContextInfo{Name: name}, Reader: namedReader{name}, Policy: model.DefaultPolicy(),
			Warnings: []string{"the admin key file staging.key is readable by other users"}}, nil
	}
	m = keys(t, m, "c", "j")
	next, open := m.Update(keyMsg("enter"))
	m = next.(Model)
	m = update(t, m, exec(open)[0])
	if out := view(m); strings.Contains(out, "clear text") || !strings.Contains(out, "⚠ the admin key file staging.key is readable") {
		t.Fatalf("after the switch:\n%s", out)
	}
}
