package report

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"
	"time"

	"github.com/quotatop/quotatop/model"
)

// A name from storage must not run as a spreadsheet formula when the CSV is opened.
func TestCSVNeutralisesFormulas(t *testing.T) {
	accounts := []model.Account{{ID: 1, Name: "=HYPERLINK(\"http://x\")", Status: "active", Schedulable: true}, {ID: 2, Name: "plain"}}
	var buf bytes.Buffer
	if err := Write(&buf, "csv", Header{GeneratedAt: time.Now()}, Judge(accounts, model.DefaultPolicy(), time.Now())); err != nil {
		t.Fatal(err)
	}
	records, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if records[1][1] != `'=HYPERLINK("http://x")` || records[2][1] != "plain" {
		t.Fatalf("names: %q %q", records[1][1], records[2][1])
	}
}

func TestTableAlignsWideNames(t *testing.T) {
	accounts := []model.Account{{ID: 1, Name: "账号一号", Status: "active", Schedulable: true}, {ID: 22, Name: "codex", Status: "active", Schedulable: true}}
	var buf bytes.Buffer
	Write(&buf, "table", Header{GeneratedAt: time.Now()}, Judge(accounts, model.DefaultPolicy(), time.Now()))
	lines := strings.Split(buf.String(), "\n")
	// The 5H column ("-" for no snapshot) starts at the same display column on both rows.
	if c1, c2 := displayCol(lines[1], "-"), displayCol(lines[2], "-"); c1 != c2 {
		t.Fatalf("columns misaligned (%d vs %d):\n%s", c1, c2, buf.String())
	}
}

// displayCol is the display column where sub starts (CJK runes count two).
func displayCol(line, sub string) int {
	i := strings.Index(line, sub)
	n := 0
	for _, r := range line[:i] {
		if r >= 0x2E80 {
			n += 2
		} else {
			n++
		}
	}
	return n
}

func TestEmptyFleetHasNoDanglingColon(t *testing.T) {
	var b strings.Builder
	if err := Write(&b, "table", Header{GeneratedAt: time.Now(), Source: "redis://x", Prefix: "sched:"}, nil); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "\n0 accounts\n") {
		t.Fatalf("%q", b.String())
	}
}
