package report

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/quotatop/quotatop/model"
)

// rowsOf judges accounts into rows in the order given (Judge orders them by ID).
func rowsOf(now time.Time, accounts ...model.Account) []Row {
	rows := make([]Row, len(accounts))
	for i := range accounts {
		rows[i] = Row{Account: &accounts[i], Judgement: model.Judge(&accounts[i], model.DefaultPolicy(), now)}
	}
	return rows
}

// duplicatesInJSON is each account's duplicate_of by key, "" where the field is absent.
func duplicatesInJSON(t *testing.T, rows []Row, now time.Time) map[string]string {
	t.Helper()
	var b bytes.Buffer
	if err := Write(&b, "json", Header{GeneratedAt: now}, rows); err != nil {
		t.Fatal(err)
	}
	var doc struct{ Accounts []map[string]any }
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, a := range doc.Accounts {
		dup, present := a["duplicate_of"]
		if present && (dup == nil || dup == "") {
			t.Fatalf("%v: duplicate_of present but empty", a["key"])
		}
		out[a["key"].(string)], _ = dup.(string)
	}
	return out
}

// Two keys claiming one account ID are visible in the one-shot output: each account in
// the JSON names the other key, and the table marks both rows and names the keys under
// it, whatever order the rows come in.
func TestSharedIDsAreShown(t *testing.T) {
	now := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	accounts := []model.Account{{ID: 99, Key: "sched:meta:99", Name: "dup-a"}, {ID: 7, Key: "sched:meta:7", Name: "single"}, {ID: 99, Key: "sched:meta:15", Name: "dup-b"}}
	for name, rows := range map[string][]Row{
		"judged":   Judge(accounts, model.DefaultPolicy(), now),
		"as given": rowsOf(now, accounts...),
	} {
		got := duplicatesInJSON(t, rows, now)
		if got["sched:meta:99"] != "sched:meta:15" || got["sched:meta:15"] != "sched:meta:99" || got["sched:meta:7"] != "" {
			t.Errorf("%s: JSON duplicate_of %v", name, got)
		}

		var b bytes.Buffer
		if err := Write(&b, "table", Header{GeneratedAt: now, Source: "redis://x", Prefix: "sched:"}, rows); err != nil {
			t.Fatal(err)
		}
		table := b.String()
		lines := strings.Split(strings.TrimSuffix(table, "\n"), "\n")
		marked := 0
		for _, line := range lines[1:4] {
			id := strings.Fields(line)[2] // after the state's glyph and name
			switch {
			case strings.Contains(line, "dup-"):
				if id != "99"+sharedIDMark {
					t.Errorf("%s: row %q is not marked", name, line)
				}
				marked++
			case id != "7":
				t.Errorf("%s: row %q", name, line)
			}
		}
		note := sharedIDMark + " ID 99 is claimed by "
		if marked != 2 || !strings.Contains(table, note+"sched:meta:99 and sched:meta:15\n") && !strings.Contains(table, note+"sched:meta:15 and sched:meta:99\n") {
			t.Errorf("%s: table\n%s", name, table)
		}
		if !strings.HasPrefix(lines[len(lines)-1], "read redis://x") {
			t.Errorf("%s: the last line is %q", name, lines[len(lines)-1])
		}
	}
}

// Of three keys claiming an ID each names the one before it, the first the second; past
// maxIDNotes shared IDs the table says how many more there are.
func TestManySharedIDs(t *testing.T) {
	now := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	var accounts []model.Account
	for id := range maxIDNotes + 3 {
		for k := range 3 {
			accounts = append(accounts, model.Account{ID: int64(id), Key: "k" + strconv.Itoa(k) + ":meta:" + strconv.Itoa(id)})
		}
	}
	accounts = append(accounts, model.Account{ID: 1000, Key: "sched:meta:1000"})
	rows := rowsOf(now, accounts...)
	got := duplicatesInJSON(t, rows, now)
	if got["k0:meta:4"] != "k1:meta:4" || got["k1:meta:4"] != "k0:meta:4" || got["k2:meta:4"] != "k1:meta:4" || got["sched:meta:1000"] != "" {
		t.Errorf("JSON duplicate_of %v", got)
	}
	var b bytes.Buffer
	if err := Write(&b, "table", Header{GeneratedAt: now}, rows); err != nil {
		t.Fatal(err)
	}
	table := b.String()
	if n := strings.Count(table, "is claimed by"); n != maxIDNotes || !strings.Contains(table, "ID 0 is claimed by k0:meta:0, k1:meta:0 and k2:meta:0\n") ||
		!strings.Contains(table, "and 3 more IDs claimed by more than one key") {
		t.Errorf("%d notes:\n%s", n, table)
	}
}

// A fleet without shared IDs, in Judge's order, costs one pass and no allocation.
func TestSharedIDsCostNothingWithout(t *testing.T) {
	now := time.Now()
	rows := Judge(dirtyAccounts(2000, now), model.DefaultPolicy(), now)
	if g := sharedIDs(rows); g != nil {
		t.Fatalf("shared IDs in a fleet without any: %v", g)
	}
	if n := testing.AllocsPerRun(10, func() { duplicateOf(rows, sharedIDs(rows)) }); n != 0 {
		t.Fatalf("%v allocations", n)
	}
}
