package tui

import (
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/quotatop/quotatop/model"
)

// Two storage keys claiming one ID are two rows, each drawn once, each flagged, and no
// action reaches the admin API for either.
func TestDuplicateIDsAreTwoRowsAndRefused(t *testing.T) {
	m, admin := actingModel(t)
	accounts := []model.Account{
		{ID: 99, Key: "sched:meta:99", Name: "dup-a", Platform: "openai", Status: "active", Schedulable: true},
		{ID: 99, Key: "sched:meta:15", Name: "dup-b", Platform: "openai", Status: "active", Schedulable: true},
		{ID: 100, Key: "sched:meta:100", Name: "solo", Platform: "openai", Status: "active", Schedulable: true},
	}
	m = update(t, m, pollDoneMsg{gen: 1, accounts: accounts, started: t0, finished: t0.Add(time.Millisecond)})
	screen := view(m)
	for _, name := range []string{"dup-a", "dup-b", "solo"} {
		if strings.Count(screen, name) != 1 {
			t.Fatalf("%s drawn %d times:\n%s", name, strings.Count(screen, name), screen)
		}
	}
	// The cursor stays on the second account across a re-poll in another order.
	m = filterTo(t, m, "dup-b")
	m = keys(t, m, "enter")
	if v := view(m); !strings.Contains(v, "dup-b") || !strings.Contains(v, "ID 99 also in sched:meta:99") {
		t.Fatalf("detail does not flag the duplicate:\n%s", v)
	}
	m = update(t, m, pollDoneMsg{gen: 1, accounts: []model.Account{accounts[2], accounts[1], accounts[0]}, started: t0, finished: t0.Add(2 * time.Millisecond)})
	if v := view(m); !strings.Contains(v, "dup-b") {
		t.Fatalf("detail lost its account after a re-poll:\n%s", v)
	}
	m = keys(t, m, "esc")
	next, cmd := m.Update(tea.KeyPressMsg{Code: 'p', Text: "p"})
	m = next.(Model)
	if cmd != nil {
		m = run(t, m, cmd)
	}
	if len(admin.calls) != 0 {
		t.Fatalf("an ambiguous ID reached the admin API: %v", admin.calls)
	}
	if !strings.Contains(view(m), "ambiguous") {
		t.Fatalf("no refusal said:\n%s", view(m))
	}
	// The refusal is dup-b's (the cursor's) alone: dup-a's detail shows no last action.
	if v := view(keys(t, m, "enter")); !strings.Contains(v, "dup-b") || !strings.Contains(v, "Last action") {
		t.Fatalf("dup-b's detail lacks its last action:\n%s", v)
	}
	m.filter.SetValue("")
	if v := view(keys(t, filterTo(t, m, "dup-a"), "enter")); !strings.Contains(v, "dup-a") || strings.Contains(v, "Last action") {
		t.Fatalf("dup-a's detail shows dup-b's action:\n%s", v)
	}
}
