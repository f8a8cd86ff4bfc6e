package tui

import "testing"

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
