package report

import (
	"bytes"
	"encoding/csv"
	"testing"
	"time"
)

// csvLine is what encoding/csv writes for one record, without the line end.
func csvLine(t *testing.T, fields ...string) string {
	t.Helper()
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	if err := w.Write(fields); err != nil {
		t.Fatal(err)
	}
	w.Flush()
	return string(bytes.TrimSuffix(b.Bytes(), []byte("\n")))
}

var csvSeeds = []string{"", "plain", `\.`, `\..`, " lead", "\u00a0nbsp", "\u3000ideographic", "trail ",
	"a,b", `say "hi"`, `""`, "cr\rlf\n", "=SUM(A1)", "+1", "-1", "@x", "\tx", "\rx", "=a,b", `=a"b`,
	"'quoted", "\xff\xfe", "名前, 2"}

// A field, and a cell from outside, come out as encoding/csv writes them.
func TestCSVFieldsAsEncodingCSV(t *testing.T) {
	for _, s := range csvSeeds {
		checkCSVField(t, s)
	}
}

func FuzzCSVField(f *testing.F) {
	for _, s := range csvSeeds {
		f.Add(s)
	}
	f.Fuzz(checkCSVField)
}

func checkCSVField(t *testing.T, s string) {
	if got, want := string(appendCSVField(nil, s)), csvLine(t, s); got != want {
		t.Fatalf("field %q: %q, want %q", s, got, want)
	}
	if got, want := string(appendCSVCell(nil, s)), csvLine(t, cell(s)); got != want {
		t.Fatalf("cell %q: %q, want %q", s, got, want)
	}
}

// Times are whole seconds in UTC, as Format(time.RFC3339) writes them, in the years
// appendRFC3339 writes and outside them.
func TestCSVTimeAsFormat(t *testing.T) {
	east := time.FixedZone("CST", 8*3600)
	for _, tm := range []time.Time{
		time.Date(2026, 11, 29, 7, 59, 59, 999999999, east),
		time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC),
		time.Date(0, 1, 1, 0, 0, 0, 1, time.UTC),
		time.Date(-1, 12, 31, 23, 59, 59, 500, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999, time.UTC),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Unix(-1, 999999999),
	} {
		if got, want := string(appendCSVTime(nil, tm)), tm.UTC().Format(time.RFC3339); got != want {
			t.Errorf("%v: %q, want %q", tm, got, want)
		}
	}
}
