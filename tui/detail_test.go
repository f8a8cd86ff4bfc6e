package tui

import (
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
)

// An unreadable account's detail says what is known and nothing decoded from the
// broken value.
func TestInvalidDetailSaysOnlyWhatIsKnown(t *testing.T) {
	m := newTestModel(t, 100, 24, false)
	if cursorName(t, m) != "sched:meta:144" {
		t.Fatalf("first row %q", cursorName(t, m))
	}
	out := view(keys(t, m, "enter"))
	for _, want := range []string{"sched:meta:144  #144  ? invalid", "Key          sched:meta:144", "ID           144",
		"Unreadable   not valid JSON", "The stored value could not be read: nothing else about this account is known."} {
		if !strings.Contains(out, want) {
			t.Errorf("detail lacks %q:\n%s", want, out)
		}
	}
	for _, never := range []string{"schedulable", "Status", "Snapshot", "priority", "Why", "Thresholds"} {
		if strings.Contains(out, never) {
			t.Errorf("detail shows %q, decoded from a broken value:\n%s", never, out)
		}
	}
}

// G goes to the end of the detail view, and j past the end does not pile up presses
// that k must undo.
func TestDetailScrollStopsAtTheEnd(t *testing.T) {
	m, _ := actingModel(t)
	m = update(t, m, tea.WindowSizeMsg{Width: 80, Height: 24})
	m = keys(t, filterTo(t, m, "#133"), "enter")
	top := view(m)
	m = keys(t, m, "G")
	bottom := view(m)
	if bottom == top {
		t.Fatal("G did not scroll the detail view")
	}
	m = keys(t, m, "j", "j", "j", "k")
	if view(m) == bottom {
		t.Fatal("k after j past the end did not scroll back")
	}
}
