package report

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/quotatop/quotatop/model"
)

// largeRows judges a dirty fleet of n accounts, other platforms among them, with their
// projections, at a time with nanoseconds and in a zone east of UTC.
func largeRows(n int) (Header, []Row) {
	now := time.Date(2026, 11, 26, 10, 0, 0, 123456789, time.FixedZone("CST", 8*3600))
	accounts := dirtyAccounts(n, now)
	withProviders(accounts, now)
	p := model.DefaultPolicy()
	rows := Judge(accounts, p, now)
	h := Header{GeneratedAt: now, Source: "redis://127.0.0.1:6379/0", Prefix: "sched:", ThresholdsSource: "gateway", Groups: Project(rows, nil, p, now)}
	return h, rows
}

// writeOn writes rows in format with GOMAXPROCS set to procs.
func writeOn(t *testing.T, procs int, format string, h Header, rows []Row) []byte {
	t.Helper()
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
	var b bytes.Buffer
	if err := Write(&b, format, h, rows); err != nil {
		t.Fatalf("%s on %d cores: %v", format, procs, err)
	}
	return b.Bytes()
}

// references are the writers that defined each format.
var references = map[string]func(io.Writer, Header, []Row) error{
	"json":  referenceJSON,
	"table": referenceTable,
	"csv":   func(w io.Writer, _ Header, rows []Row) error { return referenceCSV(w, rows) },
}

// A large fleet is written on every core; the document is the one a single goroutine
// writes and the one the format's reference writes, byte for byte, in every format and
// at sizes around the chunk edges.
func TestWriteInParallelMatchesSerial(t *testing.T) {
	h, all := largeRows(7000)
	for _, n := range []int{parallelFrom - 1, parallelFrom, parallelFrom + jsonChunk*3 + 1, len(all)} {
		rows := all[:n]
		for _, format := range Formats {
			serial := writeOn(t, 1, format, h, rows)
			for _, procs := range []int{2, 3, 8} {
				if got := writeOn(t, procs, format, h, rows); !bytes.Equal(got, serial) {
					t.Fatalf("%s, %d accounts on %d cores: %s", format, n, procs, firstDifference(got, serial))
				}
			}
			var want bytes.Buffer
			if err := references[format](&want, h, rows); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(serial, want.Bytes()) {
				t.Fatalf("%s, %d accounts, against the reference: %s", format, n, firstDifference(serial, want.Bytes()))
			}
		}
	}
}

func firstDifference(got, want []byte) string {
	at := 0
	for at < min(len(got), len(want)) && got[at] == want[at] {
		at++
	}
	return fmt.Sprintf("differs at byte %d:\ngot  %q\nwant %q", at, got[max(at-200, 0):min(at+200, len(got))], want[max(at-200, 0):min(at+200, len(want))])
}

// The first value the document cannot hold, in row order, is the error, as it is when
// one goroutine writes: nothing from its chunk on is written. A number that is not finite
// is not such a value. A failing writer's error comes back. Neither hangs.
func TestWriteInParallelErrors(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	h, rows := largeRows(6000)
	var snapshots []int
	for i := range rows {
		if rows[i].Judgement.HasSnapshot {
			snapshots = append(snapshots, i)
		}
	}
	rows[snapshots[len(snapshots)/4]].Judgement.Windows[0].UsedPercent = math.Inf(1)
	rows[snapshots[len(snapshots)/3]].Judgement.Windows[0].UsedPercent = math.NaN()
	earlier, later := len(rows)/2, len(rows)-1
	rows[earlier].Account.LastUsedAt = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
	rows[later].Account.LastUsedAt = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
	var b bytes.Buffer
	err := Write(&b, "json", h, rows)
	if err == nil || !strings.Contains(err.Error(), "year outside of range") {
		t.Fatalf("got %v, want the year of the earlier row", err)
	}
	if before := rows[earlier-jsonChunk].Account.Key; !strings.Contains(b.String(), `"key": "`+before+`"`) {
		t.Fatalf("the chunks before the earlier row's were not written (%d bytes)", b.Len())
	}
	if strings.Contains(b.String(), `"key": "`+rows[earlier].Account.Key+`"`) {
		t.Fatal("the earlier row was written: the error is the later row's")
	}

	_, rows = largeRows(6000)
	for _, format := range Formats {
		for _, after := range []int{0, 1000, 300000} {
			full := errors.New("disk full")
			if err := Write(&failingWriter{left: after, err: full}, format, h, rows); !errors.Is(err, full) {
				t.Errorf("%s, writer failing after %d bytes: got %v", format, after, err)
			}
		}
	}
}

// failingWriter takes left bytes, then fails.
type failingWriter struct {
	left int
	err  error
}

func (w *failingWriter) Write(p []byte) (int, error) {
	if len(p) > w.left {
		n := w.left
		w.left = 0
		return n, w.err
	}
	w.left -= len(p)
	return len(p), nil
}
