package tui

import (
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/quotatop/quotatop/model"
)

// providerModel is the monitor on two accounts of other platforms, under policy p.
func providerModel(t *testing.T, p model.Policy, width int) Model {
	t.Helper()
	m := New(Options{Reader: fakeReader{}, Source: SourceInfo{Address: "x", Prefix: "sched:"}, Policy: p,
		Clock: func() time.Time { return t0 }, Location: time.UTC})
	m = update(t, m, tea.WindowSizeMsg{Width: width, Height: 20})
	accounts := []model.Account{
		{ID: 1, Key: "sched:meta:1", Name: "claude", Platform: "anthropic", Type: "oauth", Status: "active", Schedulable: true,
			ProviderUsage: &model.ProviderUsage{Provider: "anthropic", SampledAt: t0.Add(-3 * time.Minute), HasSampledAt: true,
				Windows: [2]model.ProviderWindow{{HasUsed: true, UsedPercent: 42, ResetAt: t0.Add(2 * time.Hour), HasResetAt: true},
					{HasUsed: true, UsedPercent: 96, ResetAt: t0.Add(50 * time.Hour), HasResetAt: true}}}},
		{ID: 2, Key: "sched:meta:2", Name: "kimi", Platform: "kimi", Type: "apikey", Status: "active", Schedulable: true,
			ProviderUsage: &model.ProviderUsage{Provider: "kimi",
				Windows: [2]model.ProviderWindow{{HasUsed: true, UsedPercent: 30, ResetAt: t0.Add(-time.Minute), HasResetAt: true},
					{HasUsed: true, UsedPercent: 20, ResetAt: t0.Add(90 * time.Hour), HasResetAt: true}}}},
	}
	return update(t, m, pollDoneMsg{gen: 1, accounts: accounts, started: t0, finished: t0})
}

// rowOf is the table line that names an account.
func rowOf(t *testing.T, m Model, name string) string {
	t.Helper()
	for _, l := range strings.Split(view(m), "\n") {
		if strings.Contains(l, " "+name+" ") {
			return l
		}
	}
	t.Fatalf("no row for %s:\n%s", name, view(m))
	return ""
}

// Anthropic's and Kimi's windows are drawn as the 5h and 7d bars with their own age;
// the scheduling threshold is marked only where the platform sets one.
func TestProviderWindowsAsBars(t *testing.T) {
	p := model.DefaultPolicy()
	m := providerModel(t, p, 120)
	claude := rowOf(t, m, "claude")
	for _, want := range []string{"42%", "96%", " 3m "} {
		if !strings.Contains(claude, want) {
			t.Errorf("claude row lacks %q: %s", want, claude)
		}
	}
	if strings.Contains(claude, barMark) {
		t.Errorf("a threshold is marked where the gateway has none: %s", claude)
	}
	if kimi := rowOf(t, m, "kimi"); !strings.Contains(kimi, "reset") || !strings.Contains(kimi, "20%") || !strings.Contains(kimi, "passed") {
		t.Errorf("kimi row: %s", kimi)
	}

	p.SchedulingThresholds = map[string]float64{"anthropic": 95}
	m = providerModel(t, p, 120)
	claude = rowOf(t, m, "claude")
	if n := strings.Count(claude, barMark); n != 2 {
		t.Errorf("the 95%% scheduling threshold is marked %d times, want on both bars: %s", n, claude)
	}
	if strings.Contains(rowOf(t, m, "kimi"), barMark) {
		t.Error("anthropic's threshold is marked on a kimi account")
	}
	if j := m.fleet.rowAt(0).j; j.State != model.StatePaused || j.MainReason() != model.ReasonSchedThreshold7d {
		t.Fatalf("claude at 96%% of a 95%% threshold: %s %v", j.State, j.Reasons)
	}
	if w := m.fleet.rowAt(0).window(1); !w.over || w.mark != 0.95 {
		t.Errorf("7d window: %+v", w)
	}
}

// The 5h and 7d sorts read other platforms' numbers too; a rolled-over window sorts last.
func TestProviderWindowsSort(t *testing.T) {
	m := keys(t, providerModel(t, model.DefaultPolicy(), 120), "s")
	if m.fleet.SortName() != "5h % ↓" || cursorNames(m) != "claude kimi" { // kimi's 5h has reset
		t.Errorf("%s: %s", m.fleet.SortName(), cursorNames(m))
	}
	m = keys(t, m, "S")
	if got := cursorNames(m); got != "kimi claude" {
		t.Errorf("%s: %s", m.fleet.SortName(), got)
	}
	m = keys(t, m, "S", "s")
	if m.fleet.SortName() != "7d % ↓" || cursorNames(m) != "claude kimi" {
		t.Errorf("%s: %s", m.fleet.SortName(), cursorNames(m))
	}
	m = keys(t, m, "s")
	if m.fleet.SortName() != "snapshot age ↓" || cursorNames(m) != "claude kimi" { // kimi has no sample time
		t.Errorf("%s: %s", m.fleet.SortName(), cursorNames(m))
	}
}

func cursorNames(m Model) string {
	var names []string
	for i := 0; i < m.fleet.Len(); i++ {
		names = append(names, m.fleet.Row(i).acc.DisplayName())
	}
	return strings.Join(names, " ")
}

// The detail view lists the windows with their reset and sample age, and says in one
// line what pauses them.
func TestProviderDetail(t *testing.T) {
	m := keys(t, providerModel(t, model.DefaultPolicy(), 120), "enter")
	out := view(m)
	for _, want := range []string{
		"Snapshot     no Codex snapshot · anthropic usage sampled 09:57:00 (3m ago)",
		"5h window    42% used · resets 12:00:00 (in 2h) · sampled 3m ago",
		"7d window    96% used · resets Sat 28 Nov 12:00 (in 2d2h) · sampled 3m ago",
		"Threshold    the gateway does not quota-pause anthropic accounts; no scheduling threshold is set for anthropic",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("detail lacks %q:\n%s", want, out)
		}
	}
	p := model.DefaultPolicy()
	p.SchedulingThresholds = map[string]float64{"kimi": 15}
	m = keys(t, providerModel(t, p, 120), "enter") // paused, so first
	out = view(m)
	for _, want := range []string{
		"Snapshot     no Codex snapshot · kimi usage no sample time",
		"5h window    30% used (before the reset: no longer true) · reset at 09:59:00 (1m ago)",
		"weekly       20% used · at or over the scheduling threshold · resets",
		"the gateway's kimi scheduling threshold 15% pauses this",
		"weekly window at 20% is at or over the gateway's kimi scheduling threshold (15%)",
	} {
		if !strings.Contains(strings.Join(strings.Fields(out), " "), strings.Join(strings.Fields(want), " ")) {
			t.Errorf("detail lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "auto_pause_") {
		t.Errorf("a kimi account's reason names the OpenAI auto-pause switch:\n%s", out)
	}
}

// The demo's Anthropic account in detail, as an operator sees it.
func TestGoldenProviderDetail(t *testing.T) {
	m := newTestModel(t, 100, 24, false)
	m = filterTo(t, m, "claude-max-01")
	golden.RequireEqual(t, keys(t, m, "enter").View().Content)
}
