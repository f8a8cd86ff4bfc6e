package report

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/clipperhouse/displaywidth"
	"github.com/quotatop/quotatop/model"
)

// nameWidth keeps the table within 80 columns.
const nameWidth = 20

// writeTable prints the most urgent accounts first, one line each, and a summary line.
// A large fleet's cells and lines are made on every core.
func writeTable(w io.Writer, h Header, rows []Row) error {
	order := bySeverity(rows)
	shared := sharedIDs(rows)
	dups := duplicateOf(rows, shared)
	const cols = 7
	// Cells row by row, cols to a row, the header first; their display widths beside.
	cells := make([]string, cols*(len(rows)+1))
	cellWidths := make([]int32, len(cells))
	copy(cells, []string{"STATE", "ID", "NAME", "5H", "7D", "AGE", "REASON"})
	measure(cells[:cols], cellWidths[:cols])
	eachChunk(len(rows), tableChunk, func(lo, hi int) {
		for n := lo; n < hi; n++ {
			r := &rows[order[n]]
			a, j := r.Account, &r.Judgement
			age := "-"
			if _, d, ok := r.sampled(); ok {
				age = model.FormatSnapshotAge(d)
			}
			id := strconv.FormatInt(a.ID, 10)
			if dups != nil {
				if _, ok := dups[order[n]]; ok {
					id += sharedIDMark
				}
			}
			at := (n + 1) * cols
			c := cells[at : at+cols]
			c[0], c[1], c[2], c[3], c[4], c[5], c[6] = stateCell(j.State), id,
				nameCell(a.DisplayName()), windowCell(r, 0), windowCell(r, 1), age, string(j.MainReason())
			measure(c, cellWidths[at:at+cols])
		}
	})
	widths := make([]int, cols)
	for i, cw := range cellWidths {
		widths[i%cols] = max(widths[i%cols], int(cw))
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	err := writeChunks(bw, len(rows)+1, tableChunk, func() encodeFunc {
		return func(b []byte, lo, hi int) ([]byte, error) {
			for n := lo; n < hi; n++ {
				b = appendLine(b, cells[n*cols:(n+1)*cols], cellWidths[n*cols:(n+1)*cols], widths)
			}
			return b, nil
		}
	})
	if err != nil {
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
	if _, err := fmt.Fprintf(bw, "\n%s%s\nread %s at %s\n", sharedIDNotes(rows, shared), counted, from, h.GeneratedAt.Local().Format(time.DateTime)); err != nil {
		return err
	}
	return bw.Flush()
}

// sharedIDMark follows the ID of a row whose ID another row claims too; a line under the
// table names the keys.
const sharedIDMark = "*"

// maxIDNotes bounds the lines naming shared IDs: more would push the summary off screen.
const maxIDNotes = 10

// sharedIDNotes is one line for each ID more than one key claims, naming the keys, and
// "" when there is none.
func sharedIDNotes(rows []Row, shared [][]int32) string {
	var b strings.Builder
	for n, g := range shared {
		if n == maxIDNotes {
			fmt.Fprintf(&b, "%s and %d more IDs claimed by more than one key (the JSON output names them)\n", sharedIDMark, len(shared)-n)
			break
		}
		fmt.Fprintf(&b, "%s ID %d is claimed by ", sharedIDMark, rows[g[0]].Account.ID)
		for k, i := range g {
			switch {
			case k == len(g)-1:
				b.WriteString(" and ")
			case k > 0:
				b.WriteString(", ")
			}
			b.WriteString(rows[i].Account.Key)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// tableChunk is how many lines a goroutine makes at a time.
const tableChunk = 256

// bySeverity is the rows' indexes, the most urgent state first and in row order within
// a state, as a stable sort by severity orders them. Severities are few: it counts.
func bySeverity(rows []Row) []int32 {
	starts := make([]int, len(model.States)+2) // Severity is 0 to len(model.States)
	sev := make([]uint8, len(rows))
	for i := range rows {
		sev[i] = uint8(rows[i].Judgement.State.Severity())
		starts[sev[i]+1]++
	}
	for s := 1; s < len(starts); s++ {
		starts[s] += starts[s-1]
	}
	order := make([]int32, len(rows))
	for i, s := range sev {
		order[starts[s]] = int32(i)
		starts[s]++
	}
	return order
}

// stateCells are the STATE column's cells, by severity.
var stateCells = func() []string {
	cells := make([]string, len(model.States))
	for i, s := range model.States {
		cells[i] = s.Glyph() + " " + string(s)
	}
	return cells
}()

// stateCell is a state's STATE cell: its glyph and its name.
func stateCell(s model.State) string {
	if i := s.Severity(); i < len(stateCells) {
		return stateCells[i]
	}
	return s.Glyph() + " " + string(s)
}

// windowCell shows used percent; a rolled-over window says so instead of its old number.
func windowCell(r *Row, i int) string {
	w, present := r.window(i)
	switch {
	case !present:
		return "-"
	case w.reset:
		return "reset"
	case !finite(w.used):
		return "-"
	}
	return model.FormatPercent(w.used)
}

// nameCell is a name cut to nameWidth columns, with an ellipsis when cut. Most names are
// printable ASCII, a column a byte: for them the cut is a slice (the grapheme walk cost a
// tenth of a 10,000-account table's CPU).
func nameCell(name string) string {
	if !isPrintableASCII(name) {
		return displaywidth.TruncateString(name, nameWidth, "…")
	}
	if len(name) <= nameWidth {
		return name
	}
	return name[:nameWidth-1] + "…"
}

// isPrintableASCII says s is a column a byte.
func isPrintableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// measure sets each cell's display width: text/tabwriter counts runes, which misaligns
// CJK names.
func measure(cells []string, widths []int32) {
	for i, c := range cells {
		cw := len(c)
		if !isPrintableASCII(c) {
			cw = displaywidth.String(c)
		}
		widths[i] = int32(cw)
	}
}

// appendLine appends one line of cells padded to the columns' widths, with one space
// between columns and no trailing blanks.
func appendLine(b []byte, cells []string, cellWidths []int32, widths []int) []byte {
	start := len(b)
	for i, c := range cells {
		b = append(b, c...)
		if i < len(cells)-1 {
			for range widths[i] - int(cellWidths[i]) + 1 {
				b = append(b, ' ')
			}
		}
	}
	for len(b) > start && b[len(b)-1] == ' ' {
		b = b[:len(b)-1]
	}
	return append(b, '\n')
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
