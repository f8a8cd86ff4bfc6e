package tui

import (
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
)

// At every width the monitor accepts, the columns that never give way get their full
// width: the minimum size and the column priorities agree.
func TestNarrowestLayoutKeepsEveryEssentialColumnWhole(t *testing.T) {
	for width := minWidth; width <= minWidth+25; width++ {
		l := newLayout(width)
		got := map[string]int{}
		total := gutter - 1
		for i, c := range l.cols {
			got[c.title] = l.widths[i]
			total += l.widths[i] + 1
		}
		for _, c := range columns {
			if c.priority == 1 && got[c.title] < c.width {
				t.Errorf("width %d: %s gets %d cells, needs %d", width, c.title, got[c.title], c.width)
			}
		}
		if total > width {
			t.Errorf("width %d: the columns take %d cells", width, total)
		}
	}
}

// At 80 columns with actions the footer keeps help, groups and both actions.
func TestFooterAt80Columns(t *testing.T) {
	m, _ := actingModel(t)
	m = update(t, m, tea.WindowSizeMsg{Width: 80, Height: 24})
	lines := strings.Split(view(m), "\n")
	footer := lines[len(lines)-1]
	if want := "? help · / filter · enter details · t groups · p probe · u unpause · q quit"; strings.TrimSpace(footer) != want {
		t.Errorf("footer %q, want %q", footer, want)
	}
	for width := minWidth; width <= 200; width++ {
		m = update(t, m, tea.WindowSizeMsg{Width: width, Height: 24})
		f := m.footer()
		if w := ansi.StringWidth(f); w > width || !strings.HasPrefix(ansi.Strip(f), "? help") {
			t.Fatalf("width %d: footer %q is %d wide", width, ansi.Strip(f), w)
		}
	}
}

// The events pane's empty line wraps to the screen rather than being cut.
func TestEmptyEventsPaneFits(t *testing.T) {
	m := newTestModel(t, 80, 24, false)
	out := view(keys(t, m, "e"))
	for i, l := range strings.Split(out, "\n") {
		if w := ansi.StringWidth(l); w > 80 {
			t.Errorf("line %d is %d wide: %q", i, w, l)
		}
	}
	if !strings.Contains(strings.Join(strings.Fields(out), " "), "groups at their floor and storage outages show here") {
		t.Errorf("the empty line is cut:\n%s", out)
	}
	if !strings.HasPrefix(out, "Events · none yet") {
		t.Errorf("the empty pane's title: %q", strings.SplitN(out, "\n", 2)[0])
	}
}
