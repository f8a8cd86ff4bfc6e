package report

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mattn/go-runewidth"
	"github.com/quotatop/quotatop/model"
)

// nameWidth keeps the table within 80 columns.
const nameWidth = 20

// writeTable prints the most urgent accounts first, one line each, and a summary line.
func writeTable(w io.Writer, h Header, rows []Row) error {
	rows = slices.Clone(rows)
	slices.SortStableFunc(rows, func(a, b Row) int {
		return cmp.Compare(a.Judgement.State.Severity(), b.Judgement.State.Severity())
	})
	cells := [][]string{{"STATE", "ID", "NAME", "5H", "7D", "AGE", "REASON"}}
	for _, r := range rows {
		a, j := r.Account, r.Judgement
		age := "-"
		if j.HasTimestamp {
			age = model.FormatSnapshotAge(j.Age)
		}
		cells = append(cells, []string{j.State.Glyph() + " " + string(j.State), strconv.FormatInt(a.ID, 10),
			runewidth.Truncate(a.DisplayName(), nameWidth, "…"), windowCell(j, 0), windowCell(j, 1), age, string(j.MainReason())})
	}
	if _, err := io.WriteString(w, align(cells)); err != nil {
		return err
	}
	counted := fmt.Sprintf("%d accounts", len(rows))
	if len(rows) > 0 {
		counted += ": " + summary(rows)
	}
	_, err := fmt.Fprintf(w, "\n%s\nread %s (prefix %s) at %s\n", counted, h.Source, h.Prefix,
		h.GeneratedAt.Local().Format(time.DateTime))
	return err
}

// windowCell shows used percent; a rolled-over window says so instead of its old number.
func windowCell(j model.Judgement, i int) string {
	w := j.Windows[i]
	switch {
	case !j.HasSnapshot || !w.Present:
		return "-"
	case w.Reset:
		return "reset"
	}
	return model.FormatPercent(w.UsedPercent)
}

// align pads columns by display width (text/tabwriter counts runes, which misaligns
// CJK names) with one space between columns and no trailing blanks.
func align(rows [][]string) string {
	var widths []int
	for _, r := range rows {
		for i, c := range r {
			if i == len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], runewidth.StringWidth(c))
		}
	}
	var b strings.Builder
	for _, r := range rows {
		line := ""
		for i, c := range r {
			line += c
			if i < len(r)-1 {
				line += strings.Repeat(" ", widths[i]-runewidth.StringWidth(c)+1)
			}
		}
		b.WriteString(strings.TrimRight(line, " "))
		b.WriteByte('\n')
	}
	return b.String()
}

func summary(rows []Row) string {
	n := Count(rows)
	var parts []string
	for _, s := range model.States {
		if n[s] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n[s], s))
		}
	}
	return strings.Join(parts, ", ")
}
