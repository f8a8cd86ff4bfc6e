package report

import (
	"bufio"
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
	// Order indexes, not rows: a Row with its judgement is a few hundred bytes.
	order := make([]int32, len(rows))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortStableFunc(order, func(a, b int32) int {
		return cmp.Compare(rows[a].Judgement.State.Severity(), rows[b].Judgement.State.Severity())
	})
	const cols = 7
	cells := make([]string, 0, cols*(len(rows)+1))
	cells = append(cells, "STATE", "ID", "NAME", "5H", "7D", "AGE", "REASON")
	for _, i := range order {
		r := &rows[i]
		a, j := r.Account, &r.Judgement
		age := "-"
		if _, d, ok := r.sampled(); ok {
			age = model.FormatSnapshotAge(d)
		}
		cells = append(cells, j.State.Glyph()+" "+string(j.State), strconv.FormatInt(a.ID, 10),
			runewidth.Truncate(a.DisplayName(), nameWidth, "…"), windowCell(r, 0), windowCell(r, 1), age, string(j.MainReason()))
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	if err := align(bw, cells, cols); err != nil {
		return err
	}
	counted := fmt.Sprintf("%d accounts", len(rows))
	if len(rows) > 0 {
		counted += ": " + summary(rows)
	}
	from := h.Source + " (prefix " + h.Prefix + ")"
	if h.API {
		from = "the admin API at " + h.Source
	}
	if _, err := fmt.Fprintf(bw, "\n%s\nread %s at %s\n", counted, from, h.GeneratedAt.Local().Format(time.DateTime)); err != nil {
		return err
	}
	return bw.Flush()
}

// windowCell shows used percent; a rolled-over window says so instead of its old number.
func windowCell(r *Row, i int) string {
	w, present := r.window(i)
	switch {
	case !present:
		return "-"
	case w.reset:
		return "reset"
	}
	return model.FormatPercent(w.used)
}

// align pads columns by display width (text/tabwriter counts runes, which misaligns
// CJK names) with one space between columns and no trailing blanks. cells holds the
// table row by row, cols to a row.
func align(w *bufio.Writer, cells []string, cols int) error {
	widths := make([]int, cols)
	cellWidths := make([]int32, len(cells))
	for i, c := range cells {
		cw := len(c)
		if !isASCII(c) {
			cw = runewidth.StringWidth(c)
		}
		cellWidths[i] = int32(cw)
		widths[i%cols] = max(widths[i%cols], cw)
	}
	line := make([]byte, 0, 256)
	for at := 0; at < len(cells); at += cols {
		line = line[:0]
		for i := range cols {
			line = append(line, cells[at+i]...)
			if i < cols-1 {
				for range widths[i] - int(cellWidths[at+i]) + 1 {
					line = append(line, ' ')
				}
			}
		}
		for len(line) > 0 && line[len(line)-1] == ' ' {
			line = line[:len(line)-1]
		}
		line = append(line, '\n')
		if _, err := w.Write(line); err != nil {
			return err
		}
	}
	return nil
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
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
