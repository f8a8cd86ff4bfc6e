package tui

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/quotatop/quotatop/demo"
	"github.com/quotatop/quotatop/model"
)

var t0 = time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)

type fakeReader struct{}

func (fakeReader) Read(context.Context) ([]model.Account, error) { return nil, errors.New("not used") }

// newTestModel is the monitor at a fixed size and clock, with the demo fleet polled once.
func newTestModel(t testing.TB, width, height int, color bool) Model {
	t.Helper()
	m := New(Options{Reader: fakeReader{}, Source: SourceInfo{Address: "redis://127.0.0.1:6379/0", Prefix: "sched:", Mode: "standalone"},
		Policy: model.DefaultPolicy(), Interval: 2 * time.Second, Color: color, Clock: func() time.Time { return t0 }, Location: time.UTC})
	m = update(t, m, tea.WindowSizeMsg{Width: width, Height: height})
	accounts := demo.Accounts(t0)
	m.opts.History = demoHistory(t0) // history_test.go: the demo's seeded hour
	return update(t, m, pollDoneMsg{gen: 1, accounts: accounts, trends: project(m.opts.History, accounts, nil, judgeAll(accounts, m.ctx.Policy, t0), m.ctx.Policy, t0),
		started: t0.Add(-12 * time.Millisecond), finished: t0})
}

func update(t testing.TB, m Model, msgs ...tea.Msg) Model {
	t.Helper()
	for _, msg := range msgs {
		next, _ := m.Update(msg)
		m = next.(Model)
	}
	return m
}

func keys(t testing.TB, m Model, ks ...string) Model {
	t.Helper()
	for _, k := range ks {
		m = update(t, m, keyMsg(k))
	}
	return m
}

func keyMsg(k string) tea.KeyPressMsg {
	switch k {
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	case "esc":
		return tea.KeyPressMsg{Code: tea.KeyEscape}
	case "down":
		return tea.KeyPressMsg{Code: tea.KeyDown}
	case "pgdown":
		return tea.KeyPressMsg{Code: tea.KeyPgDown}
	case "ctrl+c", "ctrl+r", "ctrl+d", "ctrl+u":
		return tea.KeyPressMsg{Code: rune(k[5]), Mod: tea.ModCtrl}
	case "backspace":
		return tea.KeyPressMsg{Code: tea.KeyBackspace}
	}
	r := []rune(k)[0]
	return tea.KeyPressMsg{Code: r, Text: k}
}

func view(m Model) string { return ansi.Strip(m.View().Content) }

func cursorName(t testing.TB, m Model) string {
	t.Helper()
	r, ok := m.fleet.Cursor()
	if !ok {
		t.Fatal("no cursor")
	}
	return r.acc.DisplayName()
}

func TestGoldenViews(t *testing.T) {
	for _, size := range [][2]int{{60, 12}, {61, 20}, {80, 24}, {160, 48}} {
		for _, color := range []bool{true, false} {
			name := fmt.Sprintf("%dx%d", size[0], size[1])
			if !color {
				name += "-nocolor"
			}
			t.Run(name, func(t *testing.T) {
				m := newTestModel(t, size[0], size[1], color)
				out := m.View().Content
				if !color && strings.Contains(out, "\x1b[3") {
					t.Fatal("colourless view has colour")
				}
				for i, line := range strings.Split(out, "\n") {
					if w := ansi.StringWidth(line); w > size[0] {
						t.Fatalf("line %d is %d wide at %d columns: %q", i, w, size[0], ansi.Strip(line))
					}
				}
				if n := strings.Count(out, "\n") + 1; n != size[1] {
					t.Fatalf("view has %d lines, want %d", n, size[1])
				}
				golden.RequireEqual(t, out)
			})
		}
	}
}

func TestGoldenDetail(t *testing.T) {
	m := newTestModel(t, 100, 40, false)
	m = keys(t, m, "/")
	for _, r := range "2994" {
		m = keys(t, m, string(r))
	}
	m = keys(t, m, "enter", "enter")
	golden.RequireEqual(t, m.View().Content)
}

func TestNavigation(t *testing.T) {
	m := newTestModel(t, 80, 24, false)
	if cursorName(t, m) != "sched:meta:144" { // invalid sorts first
		t.Fatalf("first row %q", cursorName(t, m))
	}
	m = keys(t, m, "j", "down", "j")
	if m.fleet.CursorPos() != 3 {
		t.Fatalf("after 3 down: %d", m.fleet.CursorPos())
	}
	m = keys(t, m, "k")
	if m.fleet.CursorPos() != 2 {
		t.Fatalf("after up: %d", m.fleet.CursorPos())
	}
	m = keys(t, m, "G")
	// names are cut at 80 columns: the first ten cells say which row it is
	if m.fleet.CursorPos() != m.fleet.Len()-1 || !strings.Contains(view(m), ansi.Cut(cursorName(t, m), 0, 10)) {
		t.Fatalf("G: %d, cursor row not on screen", m.fleet.CursorPos())
	}
	m = keys(t, m, "g", "pgdown")
	if pos := m.fleet.CursorPos(); pos != m.tableRows() {
		t.Fatalf("pgdown moved to %d, want %d", pos, m.tableRows())
	}
	m = keys(t, m, "ctrl+u")
	if pos := m.fleet.CursorPos(); pos != m.tableRows()-m.tableRows()/2 {
		t.Fatalf("ctrl+u moved to %d", pos)
	}
}

func TestFilterIsLiveAndEscClears(t *testing.T) {
	m := newTestModel(t, 80, 24, false)
	m = keys(t, m, "/", "c", "l", "a", "u")
	if m.fleet.Len() != 3 || !strings.Contains(view(m), "claude-max-01") || strings.Contains(view(m), "codex-pro-20") {
		t.Fatalf("filter 'clau' shows %d rows:\n%s", m.fleet.Len(), view(m))
	}
	m = keys(t, m, "esc")
	if m.fleet.Len() != m.fleet.Total() || m.filterOn {
		t.Fatalf("esc did not clear: %d of %d", m.fleet.Len(), m.fleet.Total())
	}
	// Terms match ID, platform, state and group too, and all terms must match.
	for q, want := range map[string]int{"#120": 1, "#12": 0, "#12 paused": 0, "#101": 1, "anthropic": 3, "paused": 8, "g1 paused": 3, "stale_probe 2994": 1} {
		m = keys(t, m, "/")
		for _, r := range q {
			m = keys(t, m, string(r))
		}
		m = keys(t, m, "enter")
		if m.fleet.Len() != want {
			t.Errorf("filter %q shows %d, want %d", q, m.fleet.Len(), want)
		}
		m = keys(t, m, "esc")
	}
}

func TestSortAndStateFilter(t *testing.T) {
	m := newTestModel(t, 80, 24, false)
	m = keys(t, m, "s") // 5h %
	if first := m.fleet.Row(0).acc.DisplayName(); first != "codex-team-22" {
		t.Fatalf("5h sort starts with %q", first)
	}
	m = keys(t, m, "S")
	if last := m.fleet.Row(m.fleet.Len() - 1).acc.DisplayName(); last != "codex-team-22" {
		t.Fatalf("reversed 5h sort ends with %q", last)
	}
	m = keys(t, m, "S", "s", "s", "s", "s", "s") // 7d, age, reset, name, id
	if m.fleet.SortName() != "id ↓" || m.fleet.Row(0).acc.ID != 101 {
		t.Fatalf("sort %s starts with %d", m.fleet.SortName(), m.fleet.Row(0).acc.ID)
	}
	m = keys(t, m, "s") // back to severity
	counts := m.fleet.Counts()
	for _, c := range []struct {
		name string
		want int
	}{{"attention", m.fleet.Total() - counts[model.StateOK]}, {"paused", counts[model.StatePaused]}, {"stale_probe", counts[model.StateStaleProbe]}, {"blocked", counts[model.StateBlocked]}, {"all", m.fleet.Total()}} {
		m = keys(t, m, "f")
		if m.fleet.StatesName() != c.name || m.fleet.Len() != c.want {
			t.Fatalf("state filter %s shows %d, want %s %d", m.fleet.StatesName(), m.fleet.Len(), c.name, c.want)
		}
	}
}

// The cursor belongs to an account: a re-poll that reorders rows keeps it there, and one
// that removes its account leaves it at the same place in the list.
func TestCursorFollowsTheAccount(t *testing.T) {
	m := newTestModel(t, 80, 24, false)
	m = keys(t, m, "j", "j", "j", "j", "j", "j")
	picked := cursorName(t, m)
	pos := m.fleet.CursorPos()

	accounts := demo.Accounts(t0)
	// Two healthy accounts fall into error: they sort above the picked (blocked) one.
	for i := range accounts {
		if name := accounts[i].Name; name == "codex-pro-01" || name == "codex-pro-02" {
			accounts[i].Status = "error"
		}
	}
	m = update(t, m, pollDoneMsg{gen: 1, accounts: accounts, started: t0, finished: t0.Add(2 * time.Second)})
	if cursorName(t, m) != picked || m.fleet.CursorPos() != pos+2 {
		t.Fatalf("cursor moved to %q at %d, want %q at %d", cursorName(t, m), m.fleet.CursorPos(), picked, pos+2)
	}
	var without []model.Account
	for _, a := range accounts {
		if a.DisplayName() != picked {
			without = append(without, a)
		}
	}
	m = update(t, m, pollDoneMsg{gen: 1, accounts: without, started: t0, finished: t0.Add(4 * time.Second)})
	if m.fleet.CursorPos() != pos+2 || cursorName(t, m) == picked {
		t.Fatalf("after removal the cursor is %q at %d, want the next row at %d", cursorName(t, m), m.fleet.CursorPos(), pos+2)
	}
	// Marks too belong to accounts.
	m = keys(t, m, "g")
	m.fleet.ToggleMark()
	markedKey := m.fleet.Row(0).acc.Key
	m = keys(t, m, "s", "s")
	if !m.fleet.Marked(markedKey) || len(m.fleet.Targets()) != 1 || m.fleet.Targets()[0].acc.Key != markedKey {
		t.Fatal("mark lost by sorting")
	}
}

func TestDetailExplainsInWords(t *testing.T) {
	m := newTestModel(t, 120, 40, false)
	m = keys(t, m, "/", "#", "1", "2", "0", "enter", "enter")
	out := view(m)
	for _, want := range []string{
		"codex-pro-20", "sched:meta:120",
		"5h window at 97% is over its 95% threshold and the snapshot is 10m old: the gateway skips this account until",
		"threshold 95% from the account", "taken 09:50:00 (10m ago) · fresh · stale after 2h",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("detail lacks %q:\n%s", want, out)
		}
	}
	m = keys(t, m, "esc")
	if m.screen != screenTable {
		t.Fatal("esc did not close the detail")
	}
}

func TestNoSecretsOrEscapesOnScreen(t *testing.T) {
	m := newTestModel(t, 160, 48, true)
	m = keys(t, m, "/", "r", "e", "l", "a", "y", "enter", "enter")
	out := m.View().Content
	if strings.Contains(out, "sk-live") {
		t.Fatal("the api key reached the screen")
	}
	m = keys(t, m, "esc", "esc", "/", "r", "e", "d", "enter", "enter")
	out = m.View().Content
	if !strings.Contains(out, "codex-team-␛[31mred␛[0m-29") || strings.Contains(out, "\x1b[31mred") {
		t.Fatalf("escape sequence from storage not neutralised:\n%q", out)
	}
}

func TestErrorBannerKeepsDataAndRecovers(t *testing.T) {
	m := newTestModel(t, 100, 30, false)
	before := m.fleet.Total()
	m.pollGen, m.polling = 2, true
	m = update(t, m, pollDoneMsg{gen: 2, err: errors.New("scan sched:meta:*: dial tcp 127.0.0.1:6379: connect: connection refused"),
		started: t0.Add(2 * time.Second), finished: t0.Add(2 * time.Second)})
	m.pollGen, m.polling = 3, true
	m = update(t, m, pollDoneMsg{gen: 3, err: errors.New("connection refused"), started: t0.Add(16 * time.Second), finished: t0.Add(16 * time.Second)})
	out := view(m)
	if !strings.Contains(out, "Redis unreachable for 14s: connection refused; showing data from 10:00:00") || m.fleet.Total() != before {
		t.Fatalf("banner or data wrong:\n%s", out)
	}
	if m.retryAt.Sub(t0.Add(16*time.Second)) != 4*time.Second {
		t.Fatalf("second failure should back off to 4s, got %v", m.retryAt.Sub(t0.Add(16*time.Second)))
	}
	m.pollGen, m.polling = 4, true
	m = update(t, m, pollDoneMsg{gen: 4, accounts: demo.Accounts(t0), started: t0.Add(20 * time.Second), finished: t0.Add(20 * time.Second)})
	if strings.Contains(view(m), "unreachable") {
		t.Fatal("banner stayed after recovery")
	}
}

func TestStalePollResultsAreDropped(t *testing.T) {
	m := newTestModel(t, 80, 24, false)
	m.pollGen, m.polling = 5, true
	m = update(t, m, pollDoneMsg{gen: 4, accounts: nil, started: t0, finished: t0.Add(time.Second)})
	if m.fleet.Total() == 0 || !m.polling {
		t.Fatal("an older poll's result replaced the data")
	}
	// A timer armed before ctrl+r must not start a second poll.
	m.polling = false
	m.scheduleGen = 7
	next, cmd := m.Update(pollDueMsg{gen: 6})
	if cmd != nil || next.(Model).polling {
		t.Fatal("an old poll timer started a poll")
	}
}

func TestPollsNeverStack(t *testing.T) {
	m := newTestModel(t, 80, 24, false)
	m.polling = true
	next, cmd := m.Update(keyMsg("ctrl+r"))
	m = next.(Model)
	if cmd != nil || !m.pollAgain {
		t.Fatal("ctrl+r during a poll started another one")
	}
	next, cmd = m.Update(pollDoneMsg{gen: m.pollGen, accounts: demo.Accounts(t0), started: t0, finished: t0})
	if m = next.(Model); cmd == nil || !m.polling || m.pollGen != 2 {
		t.Fatal("the queued poll did not start when the running one finished")
	}
}

func TestFreezeAndInterval(t *testing.T) {
	m := newTestModel(t, 80, 24, false)
	m = keys(t, m, "z")
	if !m.frozen || !strings.Contains(view(m), "POLLING FROZEN") {
		t.Fatal("z did not freeze")
	}
	if _, cmd := m.Update(pollDueMsg{gen: m.scheduleGen}); cmd != nil {
		t.Fatal("a frozen monitor polled")
	}
	m = keys(t, m, "z", "+")
	if m.frozen || m.interval != time.Second {
		t.Fatalf("unfreeze/+: frozen %v interval %v", m.frozen, m.interval)
	}
	m = keys(t, m, "-", "-", "-")
	if m.interval != 10*time.Second {
		t.Fatalf("interval %v", m.interval)
	}
}

func TestTooSmallAndQuit(t *testing.T) {
	m := newTestModel(t, 50, 10, false)
	if !strings.Contains(view(m), "needs at least 60x12") {
		t.Fatalf("small screen:\n%s", view(m))
	}
	if _, cmd := m.Update(keyMsg("q")); cmd == nil || cmd() != tea.Quit() {
		t.Fatal("q does not quit on a small screen")
	}
	m = update(t, m, tea.WindowSizeMsg{Width: 80, Height: 24})
	if strings.Contains(view(m), "needs at least") {
		t.Fatal("resize did not restore the table")
	}
}

func TestHelpComesFromTheKeymap(t *testing.T) {
	m := newTestModel(t, 100, 40, false)
	m = keys(t, m, "?")
	out := view(m)
	for _, b := range m.ctx.Keys.FullHelp() {
		for _, k := range b {
			if k.Enabled() != strings.Contains(out, fmt.Sprintf("%-8s %s", k.Help().Key, k.Help().Desc)) {
				t.Errorf("help and keymap disagree on %q (enabled %v)", k.Help().Desc, k.Enabled())
			}
		}
	}
	if !strings.Contains(out, "read-only: no actions") || strings.Contains(out, "u        unpause") {
		t.Errorf("read-only help offers actions:\n%s", out)
	}
	m = keys(t, m, "?")
	if strings.Contains(view(m), "unpause") {
		t.Error("footer offers a disabled action")
	}
	// At 80 columns the state legend wraps and its second line keeps the indent.
	narrow := keys(t, update(t, m, tea.WindowSizeMsg{Width: 80, Height: 24}), "?")
	for _, l := range strings.Split(view(narrow), "\n") {
		if strings.Contains(l, "✓ ok") && !strings.HasPrefix(l, "  ") {
			t.Errorf("wrapped legend line lost its indent: %q", l)
		}
	}
	m = keys(t, m, "p")
	if !strings.Contains(view(m), "Read-only: no admin API configured (--api); p is refused.") {
		t.Errorf("p in read-only mode is not explained:\n%s", view(m))
	}
}

// Without a new poll, a tick re-judges when a change is due: a paused account whose
// snapshot crosses the stale bound turns stale_probe, and ages keep moving.
func TestTickRejudgesWhenDue(t *testing.T) {
	m := newTestModel(t, 120, 40, false)
	r, _ := m.fleet.Find(123) // codex-pro-23: paused, snapshot 1h58m30s old
	if r.j.State != model.StatePaused {
		t.Fatalf("start: %s", r.j.State)
	}
	m = update(t, m, tickMsg{now: t0.Add(time.Minute)})
	if r, _ = m.fleet.Find(123); r.j.State != model.StatePaused || !strings.Contains(view(m), "1h59m") {
		t.Fatalf("one minute on: %s", r.j.State)
	}
	m = update(t, m, tickMsg{now: t0.Add(2 * time.Minute)})
	if r, _ = m.fleet.Find(123); r.j.State != model.StateStaleProbe {
		t.Fatalf("after the stale bound: %s", r.j.State)
	}
}

// Read through the admin API, a page failing midway keeps the last good fleet and the
// banner says what failed; the header names the API with no prefix.
func TestAPISourcePageFailureKeepsTheFleet(t *testing.T) {
	m := newTestModel(t, 120, 30, false)
	m.ctx.Source = SourceInfo{Address: "admin API https://gw.example.com", API: true}
	before := m.fleet.Total()
	m.pollGen, m.polling = 2, true
	m = update(t, m, pollDoneMsg{gen: 2, err: errors.New("page 2 of the account list: the gateway answered HTTP 502"),
		started: t0.Add(2 * time.Second), finished: t0.Add(2 * time.Second)})
	out := view(m)
	if !strings.Contains(out, "admin API list failing for 0s: page 2 of the account list: the gateway answered HTTP 502; showing data from 10:00:00") || m.fleet.Total() != before {
		t.Fatalf("banner or data wrong:\n%s", out)
	}
	if !strings.Contains(out, "quotatop · admin API https://gw.example.com") || strings.Contains(out, "gw.example.com ·  ") {
		t.Fatalf("header:\n%s", out)
	}
}

// The rows' cache never shows what a row no longer says: across ticks (ages move, windows
// reset) and polls (usage and states change), the screen drawn from it equals the screen
// drawn afresh, in colour.
func TestRowCacheMatchesFreshDraw(t *testing.T) {
	m := newTestModel(t, 160, 40, true)
	accounts := demo.Accounts(t0)
	check := func(when string) {
		t.Helper()
		cached := m.render()
		clear(m.rowCache)
		if fresh := m.render(); cached != fresh {
			t.Fatalf("%s: the screen drawn from the rows' cache differs from a fresh one", when)
		}
	}
	check("start")
	now := t0
	for step := range 24 {
		now = now.Add(97 * time.Second)
		m = update(t, m, tickMsg{now: now})
		m.render() // fill the cache with this tick's rows
		check(fmt.Sprintf("tick %d", step))
		if step%3 == 0 { // the gateway probed some accounts and an operator paused one
			accounts = slices.Clone(accounts)
			for i := step % 4; i < len(accounts); i += 4 {
				a := &accounts[i]
				if a.Quota != nil {
					q := *a.Quota
					q.UpdatedAt, q.Windows[0].UsedPercent = now, float64((step*7+i)%101)
					a.Quota = &q
				}
				a.Schedulable = step%2 == 0 || i%3 != 0
				a.Rev++
			}
			m = update(t, m, pollDoneMsg{gen: m.pollGen, accounts: accounts, started: now, finished: now})
			check(fmt.Sprintf("poll %d", step))
		}
	}
}

// An empty filter shows its whole placeholder: without a width the input drew only its
// first letter, which read as a typed "n".
func TestEmptyFilterShowsItsPlaceholder(t *testing.T) {
	m := keys(t, newTestModel(t, 80, 24, false), "/")
	if out := view(m); !strings.Contains(out, "/ name, id, platform, state, g<group>") {
		t.Fatalf("filter line:\n%s", out)
	}
}
