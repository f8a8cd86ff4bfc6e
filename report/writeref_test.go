package report

// The writers as they were before they used every core: what the parallel ones must
// write, byte for byte.

import (
	"bufio"
	"cmp"
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mattn/go-runewidth"
	"github.com/quotatop/quotatop/model"
)

func referenceCSV(w io.Writer, rows []Row) error {
	cw := csv.NewWriter(w)
	cw.Write(csvHeader)
	for n := range rows {
		r := &rows[n]
		a, j := r.Account, &r.Judgement
		reasons := make([]string, len(j.Reasons))
		for i, x := range j.Reasons {
			reasons[i] = string(x)
		}
		rec := []string{strconv.FormatInt(a.ID, 10), cell(a.Name), cell(a.Platform), cell(a.Type), cell(a.Status),
			strconv.FormatBool(a.Schedulable), string(j.State), strings.Join(reasons, ";"), "", "", strconv.FormatBool(j.Stale)}
		if at, age, ok := r.sampled(); ok {
			rec[8], rec[9] = at.UTC().Format(time.RFC3339), strconv.FormatInt(int64(age/time.Second), 10)
		}
		for i := range j.Windows {
			if !r.hasWindows() {
				rec = append(rec, "", "", "", "", "")
				continue
			}
			w, _ := r.window(i)
			reset := ""
			if !w.resetAt.IsZero() {
				reset = w.resetAt.UTC().Format(time.RFC3339)
			}
			rec = append(rec, strconv.FormatFloat(w.used, 'f', -1, 64), strconv.FormatFloat(w.threshold, 'f', -1, 64),
				string(w.source), reset, strconv.FormatBool(w.reset))
		}
		rec = append(rec, cell(a.Key))
		cw.Write(rec)
	}
	cw.Flush()
	return cw.Error()
}

// cell keeps a spreadsheet from running a name as a formula.
func cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// referenceTable prints the most urgent accounts first, one line each, and a summary line.
func referenceTable(w io.Writer, h Header, rows []Row) error {
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
	if err := referenceAlign(bw, cells, cols); err != nil {
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

// referenceAlign pads columns by display width (text/tabwriter counts runes, which misaligns
// CJK names) with one space between columns and no trailing blanks. cells holds the
// table row by row, cols to a row.
func referenceAlign(w *bufio.Writer, cells []string, cols int) error {
	widths := make([]int, cols)
	cellWidths := make([]int32, len(cells))
	for i, c := range cells {
		cw := len(c)
		if !isPrintableASCII(c) {
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
