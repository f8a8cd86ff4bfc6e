package tui

import (
	"context"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/quotatop/quotatop/action"
	"github.com/quotatop/quotatop/demo"
	"github.com/quotatop/quotatop/model"
)

type recordingAdmin struct {
	mu    sync.Mutex
	calls []string
}

func (r *recordingAdmin) rec(s string, id int64) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, s+" "+strconv.FormatInt(id, 10))
	return 200, nil
}
func (r *recordingAdmin) Probe(_ context.Context, id int64) (int, error) { return r.rec("probe", id) }
func (r *recordingAdmin) ClearRateLimit(_ context.Context, id int64) (int, error) {
	return r.rec("clear-rate-limit", id)
}
func (r *recordingAdmin) RecoverState(_ context.Context, id int64) (int, error) {
	return r.rec("recover", id)
}
func (r *recordingAdmin) ClearTempUnschedulable(_ context.Context, id int64) (int, error) {
	return r.rec("clear-temp", id)
}
func (r *recordingAdmin) SetSchedulable(_ context.Context, id int64) (int, error) {
	return r.rec("schedulable", id)
}
func (r *recordingAdmin) ExemptWindow(_ context.Context, id int64, w model.WindowName) (int, error) {
	return r.rec("exempt-"+string(w), id)
}

func actingModel(t *testing.T) (Model, *recordingAdmin) {
	t.Helper()
	admin := &recordingAdmin{}
	audit := action.NewAudit(filepath.Join(t.TempDir(), "audit.jsonl"), func(string) string { return "" })
	accounts := demo.Accounts(t0)
	reread := func(_ context.Context, id int64) (model.Account, error) {
		for _, a := range accounts {
			if a.ID == id {
				return a, nil
			}
		}
		return model.Account{}, nil
	}
	d := action.NewDispatcher(admin, audit, reread, "")
	m := New(Options{Reader: fakeReader{}, Source: SourceInfo{Address: "x", Prefix: "sched:"}, Policy: model.DefaultPolicy(),
		Clock: func() time.Time { return t0 }, Location: time.UTC, Actions: d})
	m = update(t, m, tea.WindowSizeMsg{Width: 120, Height: 40})
	m = update(t, m, pollDoneMsg{gen: 1, accounts: accounts, started: t0, finished: t0})
	return m, admin
}

func filterTo(t *testing.T, m Model, q string) Model {
	m = keys(t, m, "/")
	for _, r := range q {
		m = keys(t, m, string(r))
	}
	return keys(t, m, "enter")
}

// answer presses k (y or x in a dialog) and runs the action it starts.
func answer(t *testing.T, m Model, k string) Model {
	t.Helper()
	next, cmd := m.Update(keyMsg(k))
	return run(t, next.(Model), cmd)
}

// run executes the command a key returned and feeds its result back, as Bubble Tea would.
func run(t *testing.T, m Model, cmd tea.Cmd) Model {
	t.Helper()
	if cmd == nil {
		t.Fatal("no command to run")
	}
	msg := cmd()
	if done, ok := msg.(actionDoneMsg); ok {
		next, _ := m.Update(done)
		return next.(Model)
	}
	t.Fatalf("command returned %T", msg)
	return m
}

func TestUnpauseConfirmsAndEnterCancels(t *testing.T) {
	m, admin := actingModel(t)
	m = filterTo(t, m, "#133") // temp block + quota_5h
	m = keys(t, m, "u")
	out := view(m)
	for _, want := range []string{"Unpause codex-pro-33", "codex-pro-33 (temp_unschedulable, quota_5h): clear temp block, then probe", "y  do it",
		"x  instead exempt their windows over the threshold (5h)", "any other key (Enter too) cancels"} {
		if !strings.Contains(out, want) {
			t.Fatalf("dialog lacks %q:\n%s", want, out)
		}
	}
	m = keys(t, m, "enter")
	if m.confirm != nil || len(admin.calls) != 0 || !strings.Contains(view(m), "Cancelled: nothing was changed.") {
		t.Fatalf("enter did not cancel: %v", admin.calls)
	}
	m = keys(t, m, "u")
	next, cmd := m.Update(keyMsg("y"))
	m = next.(Model)
	if !strings.Contains(view(m), "⟳ clear") {
		t.Fatalf("row does not show the running action:\n%s", view(m))
	}
	m = run(t, m, cmd)
	if strings.Join(admin.calls, ",") != "clear-temp 133,probe 133" {
		t.Fatalf("calls %v", admin.calls)
	}
	if !strings.Contains(view(m), "codex-pro-33: clear temp block, then probe") {
		t.Fatalf("no outcome message:\n%s", view(m))
	}
}

func TestExemptIsTheExplicitAlternative(t *testing.T) {
	m, admin := actingModel(t)
	m = filterTo(t, m, "#121") // quota_7d, fresh
	m = keys(t, m, "u")
	answer(t, m, "x")
	if strings.Join(admin.calls, ",") != "exempt-7d 121" {
		t.Fatalf("calls %v", admin.calls)
	}
}

func TestProbeNoDoubleStartAndBulkMarks(t *testing.T) {
	m, admin := actingModel(t)
	m = filterTo(t, m, "#124")
	next, cmd := m.Update(keyMsg("p")) // a single probe needs no confirmation
	m = next.(Model)
	if cmd == nil || m.confirm != nil {
		t.Fatal("single probe did not start at once")
	}
	next, cmd2 := m.Update(keyMsg("p"))
	m = next.(Model)
	if cmd2 != nil || !strings.Contains(view(m), "Already running") {
		t.Fatal("a second p started the probe twice")
	}
	m = run(t, m, cmd)
	if len(admin.calls) != 1 {
		t.Fatalf("calls %v", admin.calls)
	}

	// Mark two paused accounts; u asks once for both.
	admin.calls = nil
	m = keys(t, m, "esc")
	m = filterTo(t, m, "paused")
	m = keys(t, m, "g", "space", "space")
	if len(m.fleet.Targets()) != 2 {
		t.Fatalf("%d marked", len(m.fleet.Targets()))
	}
	m = keys(t, m, "u")
	if !strings.Contains(view(m), "Unpause 2 accounts (") {
		t.Fatalf("bulk dialog:\n%s", view(m))
	}
	next, cmd = m.Update(keyMsg("y"))
	m = run(t, next.(Model), cmd)
	if len(admin.calls) != 2 || len(m.fleet.Targets()) != 1 {
		t.Fatalf("bulk calls %v; marks should be cleared after the action", admin.calls)
	}
	// ctrl+a marks every shown row.
	m = update(t, m, tea.KeyPressMsg{Code: 'a', Mod: tea.ModCtrl})
	if len(m.fleet.Targets()) != m.fleet.Len() {
		t.Fatal("ctrl+a did not mark every shown row")
	}
}

func TestConfirmProbesFlag(t *testing.T) {
	m, _ := actingModel(t)
	m.opts.ConfirmProbes = true
	m = filterTo(t, m, "#124")
	m = keys(t, m, "p")
	if m.confirm == nil || !strings.Contains(view(m), "Refresh probe of codex-fresh-2994") {
		t.Fatal("--confirm-probes did not ask")
	}
}

// While a confirmed action runs, the message line says so; it kept "Cancelled" from the
// dialog before, inviting the operator to run it again.
func TestARunningActionReplacesTheLastMessage(t *testing.T) {
	m, _ := actingModel(t)
	m = filterTo(t, m, "#133")
	m = keys(t, m, "u", "enter", "u")
	next, _ := m.Update(keyMsg("y"))
	out := view(next.(Model))
	if strings.Contains(out, "Cancelled") || !strings.Contains(out, "» codex-pro-33: clear temp block, then probe…") {
		t.Fatalf("message line while running:\n%s", out)
	}
}

// Marks the filter hides are counted on the status line, and an action that takes them
// asks first, even a single probe, and says so.
func TestHiddenMarksAreCountedAndConfirmed(t *testing.T) {
	m, admin := actingModel(t)
	m = filterTo(t, m, "#101")
	m = keys(t, m, "space")
	if out := view(m); !strings.Contains(out, "1 of 55 shown · 1 marked") {
		t.Fatalf("status line lacks the mark:\n%s", out)
	}
	m = keys(t, m, "/", "ctrl+u")
	m = filterTo(t, m, "#133")
	out := view(m)
	if !strings.Contains(out, "1 marked, 1 hidden") {
		t.Fatalf("status line lacks the hidden mark:\n%s", out)
	}
	m = keys(t, m, "p")
	if m.confirm == nil || !strings.Contains(strings.Join(strings.Fields(view(m)), " "), "1 of these marked account(s) are hidden by the filter") {
		t.Fatalf("a probe of a hidden mark did not ask:\n%s", view(m))
	}
	answer(t, m, "y")
	if strings.Join(admin.calls, ",") != "probe 101" {
		t.Fatalf("calls %v", admin.calls)
	}
}

// At 80x24 a bulk unpause's dialog gives up plan lines, never its keys or its border;
// its title names only the accounts it acts on.
func TestBulkDialogFitsTheScreen(t *testing.T) {
	m, _ := actingModel(t)
	m = update(t, m, tea.WindowSizeMsg{Width: 80, Height: 24})
	m = keys(t, m, "ctrl+a", "u")
	out := view(m)
	lines := strings.Split(out, "\n")
	if len(lines) > 24 {
		t.Fatalf("%d lines", len(lines))
	}
	flat := strings.Join(strings.Fields(out), " ")
	for _, want := range []string{"y do it", "any other key (Enter too) cancels", "more line(s): a taller terminal shows them", "skipped"} {
		if !strings.Contains(flat, want) {
			t.Fatalf("dialog lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(flat, "codex-pro-01") {
		t.Fatalf("the title names a healthy account it skips:\n%s", out)
	}
	bottom := false
	for _, l := range lines {
		if strings.Contains(l, "└") {
			bottom = true
		}
	}
	if !bottom {
		t.Fatalf("the box's bottom border is off the screen:\n%s", out)
	}
}

// --read-only says so in the header, not only when a refused key is pressed.
func TestReadOnlyIsInTheHeader(t *testing.T) {
	audit := action.NewAudit(filepath.Join(t.TempDir(), "audit.jsonl"), func(string) string { return "" })
	d := action.NewDispatcher(&recordingAdmin{}, audit, nil, "--read-only")
	m := New(Options{Reader: fakeReader{}, Source: SourceInfo{Address: "x", Prefix: "sched:"}, Policy: model.DefaultPolicy(),
		Clock: func() time.Time { return t0 }, Location: time.UTC, Actions: d})
	m = update(t, m, tea.WindowSizeMsg{Width: 80, Height: 24})
	m = update(t, m, pollDoneMsg{gen: 1, accounts: demo.Accounts(t0), started: t0, finished: t0})
	if second := strings.Split(view(m), "\n")[1]; !strings.HasSuffix(second, "read-only") {
		t.Fatalf("header's second line: %q", second)
	}
	acting, _ := actingModel(t)
	if second := strings.Split(view(acting), "\n")[1]; strings.Contains(second, "read-only") {
		t.Fatalf("a monitor that acts says read-only: %q", second)
	}
}

// At 80 columns a long message wraps (up to three lines) instead of losing the
// instruction at its end, and the screen keeps its height.
func TestLongMessageWrapsAt80Columns(t *testing.T) {
	m, _ := actingModel(t)
	m = update(t, m, tea.WindowSizeMsg{Width: 80, Height: 24})
	m = keys(t, filterTo(t, m, "#134"), "u")
	out := view(m)
	if n := len(strings.Split(out, "\n")); n != 24 {
		t.Fatalf("%d lines", n)
	}
	if !strings.Contains(strings.Join(strings.Fields(out), " "), "skipped, it has expired; extend its expiry in the gateway's web UI") {
		t.Fatalf("message cut:\n%s", out)
	}
}

// A refusal before any call reads as one sentence ("sched:meta:144:  failed: refused:"
// had an empty step list in it).
func TestRefusalReadsAsOneSentence(t *testing.T) {
	m, admin := actingModel(t)
	m = keys(t, filterTo(t, m, "invalid"), "ctrl+a")
	next, cmd := m.Update(keyMsg("p"))
	if m = next.(Model); m.confirm != nil {
		next, cmd = m.Update(keyMsg("y"))
		m = next.(Model)
	}
	out := view(run(t, m, cmd))
	if len(admin.calls) != 0 || !strings.Contains(out, "» sched:meta:144: refused: its stored value cannot be read") {
		t.Fatalf("calls %v:\n%s", admin.calls, out)
	}
}

// The detail view tells to press u or p: they act on its account alone, whatever is
// marked, and leave the marks for the table.
func TestActionsFromTheDetailView(t *testing.T) {
	m, admin := actingModel(t)
	m = filterTo(t, m, "#134")
	m = keys(t, m, " ") // marked: the table's u would take it
	m.filter.SetValue("")
	m = keys(t, filterTo(t, m, "#133"), "enter")
	if !strings.Contains(view(m), "p probe · u unpause") {
		t.Fatalf("the detail's footer does not offer the actions:\n%s", view(m))
	}
	m = keys(t, m, "u")
	out := view(m)
	if !strings.Contains(out, "Unpause codex-pro-33") || strings.Contains(out, "hidden by the filter") {
		t.Fatalf("dialog:\n%s", out)
	}
	m = answer(t, m, "y")
	for _, c := range admin.calls {
		if !strings.HasSuffix(c, " 133") {
			t.Fatalf("the detail's action reached another account: %v", admin.calls)
		}
	}
	if len(admin.calls) == 0 || m.screen != screenDetail {
		t.Fatalf("calls %v, screen %v", admin.calls, m.screen)
	}
	if marked, _ := m.fleet.MarkCounts(); marked != 1 {
		t.Fatalf("%d marks left, want the table's 1", marked)
	}
}

// A dialog on a short screen gives up the calls' descriptions before the warnings, and
// when even a warning cannot fit, the y line says so.
func TestShortScreenDialogKeepsWarnings(t *testing.T) {
	for _, c := range []struct {
		height int
		want   string
	}{{18, "⚠ relay-daily-cap: this forgets all the local usage"}, {12, "y do it (1 warning(s) not shown"}} {
		m, _ := actingModel(t)
		m = update(t, m, tea.WindowSizeMsg{Width: 60, Height: c.height})
		m = keys(t, filterTo(t, m, "relay-daily-cap"), "u")
		out := view(m)
		if !strings.Contains(strings.Join(strings.Fields(out), " "), c.want) || !strings.Contains(out, "y  do it") {
			t.Fatalf("60x%d dialog lacks %q:\n%s", c.height, c.want, out)
		}
	}
}
