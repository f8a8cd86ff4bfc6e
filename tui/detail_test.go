package tui

import (
	"strings"
	"testing"
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
