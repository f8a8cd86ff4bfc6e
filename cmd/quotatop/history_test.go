package main

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/quotatop/quotatop/history"
	"github.com/quotatop/quotatop/model"
	"github.com/quotatop/quotatop/report"
	"github.com/quotatop/quotatop/source/redistest"
	"github.com/quotatop/quotatop/trend"
	_ "modernc.org/sqlite"
)

// The demo shows, from its first screen, accounts heading for a pause (an ETA), the groups
// dry already and the next to run dry (in the 80-column header), the group that runs dry
// within the hour (in the group view) and the groups' counts.
func TestDemoProjectionsInTmux(t *testing.T) {
	script := filepath.Join(t.TempDir(), "run.sh")
	os.WriteFile(script, []byte(fmt.Sprintf("#!/bin/sh\n%s --demo --interval 500ms\necho EXITED:$?\nsleep 60\n", binary)), 0o755)
	tm := startTmux(t, 80, 24, script)

	s := tm.waitFor("the groups dry now and the next", 20*time.Second, regexp.MustCompile(`· \d dry · g4/openai ~\d\d:\d\d`).MatchString)
	if !strings.Contains(s, "ETA") {
		t.Fatalf("no ETA column at 80 columns:\n%s", s)
	}
	for range 7 { // severity -> ... -> time to pause
		tm.keys("s")
	}
	tm.keys("g")
	eta := regexp.MustCompile(`codex-(plus-19|eu-41|eu-42|pro-17) .* (\d+m|now) +\d+s`)
	tm.waitFor("an ETA on top of the time-to-pause order", 10*time.Second, func(s string) bool {
		return strings.Contains(s, "sort time to pause") && eta.MatchString(s)
	})

	tm.keys("t")
	s = tm.waitFor("the group view", 5*time.Second, contains("RUNS DRY"))
	if !regexp.MustCompile(`(?m)^g4 +openai +3 .*~\d\d:\d\d \(in \d+m\)`).MatchString(s) {
		t.Fatalf("group 4 does not say when it runs dry:\n%s", s)
	}
	tm.keys("Escape")
	tm.waitFor("the table", 5*time.Second, contains("sort time to pause"))
	tm.keys("q")
	tm.waitFor("quotatop to exit", 10*time.Second, contains("EXITED:0"))
}

// --once reads and writes the history file: a second run a while later has a rate.
func TestOnceBuildsHistory(t *testing.T) {
	srv := redistest.Start(t)
	now := time.Now()
	// Snapshot taken 10 minutes ago at 50 %, then one now at 60 %: +60 %/h.
	srv.Client().Set(t.Context(), "sched:meta:7", redistest.MetaValue(7, now, 50, 10, 10*time.Minute), 0)
	path := filepath.Join(t.TempDir(), "h.db")
	env := []string{"QUOTATOP_REDIS=" + srv.URL()}
	r := runBinary(t, env, "--once", "--output", "json", "--history", path)
	if r.code != 0 {
		t.Fatalf("first run: %d %s", r.code, r.stderr)
	}
	srv.Client().Set(t.Context(), "sched:meta:7", redistest.MetaValue(7, now, 60, 10, 0), 0)
	r = runBinary(t, env, "--once", "--output", "json", "--history", path)
	if r.code != 0 {
		t.Fatalf("second run: %d %s", r.code, r.stderr)
	}
	var doc struct {
		Accounts []struct {
			Windows map[string]struct {
				Rate     *float64 `json:"rate_percent_per_hour"`
				PauseETA *string  `json:"pause_eta"`
			} `json:"windows"`
		} `json:"accounts"`
		Groups []struct {
			ID          int64 `json:"id"`
			Schedulable int   `json:"schedulable"`
		} `json:"groups"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatal(err)
	}
	w := doc.Accounts[0].Windows["5h"]
	if w.Rate == nil || *w.Rate < 59 || *w.Rate > 61 || w.PauseETA == nil {
		t.Fatalf("5h after two runs: rate %v eta %v\n%s", w.Rate, w.PauseETA, r.stdout)
	}
	if len(doc.Groups) != 1 || doc.Groups[0].ID != 3 || doc.Groups[0].Schedulable != 1 {
		t.Fatalf("groups: %+v", doc.Groups)
	}
	db, _ := sql.Open("sqlite", "file:"+path)
	defer db.Close()
	var n int
	if err := db.QueryRow("SELECT COUNT(*) FROM readable WHERE account_id = 7").Scan(&n); err != nil || n != 2 {
		t.Fatalf("%d samples in the file (%v)", n, err)
	}

	// A damaged file: one sentence, and the run goes on without history.
	bad := filepath.Join(t.TempDir(), "bad.db")
	os.WriteFile(bad, []byte(strings.Repeat("garbage", 1000)), 0o600)
	r = runBinary(t, env, "--once", "--history", bad)
	if r.code != 0 || !strings.Contains(r.stderr, "damaged or not a quotatop history") || !strings.Contains(r.stdout, "1 accounts") {
		t.Fatalf("damaged history: %d\n%s\n%s", r.code, r.stderr, r.stdout)
	}
	// --history off writes nothing, not even under the default path.
	home := t.TempDir()
	r = runBinary(t, append(env, "XDG_STATE_HOME="+home), "--once", "--history", "off")
	if entries, _ := os.ReadDir(filepath.Join(home, "quotatop")); r.code != 0 || len(entries) != 0 {
		t.Fatalf("--history off wrote %v", entries)
	}
}

// A one-shot JSON document reads the history since an hour and ten minutes ago, and the
// earlier samples of the accounts whose snapshots are older: the document is the one a
// full load gives, byte for byte, with busy accounts, idle ones whose last snapshot is
// 50 minutes or 3 hours old, and an account without a snapshot time.
func TestOneShotProjectionLoadsWhatRatesNeed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.db")
	now := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
	p := model.DefaultPolicy()
	reset := now.Add(3 * time.Hour)
	fleetAt := func(at time.Time) []model.Account {
		out := make([]model.Account, 40)
		for i := range out {
			taken := at
			if idle := [4]time.Duration{1: 50 * time.Minute, 2: 3 * time.Hour}[i%4]; idle > 0 && at.After(now.Add(-idle)) {
				taken = now.Add(-idle) // idle since
			}
			m := taken.Sub(now.Add(-2 * time.Hour)).Minutes()
			used := 10 + float64(i) + m/8 + m*m/2000 // speeding up: a rate depends on its span
			out[i] = model.Account{ID: int64(i + 1), Name: fmt.Sprintf("a%d", i), Platform: "openai", Status: "active", Schedulable: true, GroupIDs: []int64{int64(i % 3)},
				Quota: &model.Quota{UpdatedAt: taken, HasUpdatedAt: i != 39, Windows: [2]model.WindowSnapshot{
					{Present: true, UsedPercent: used, Threshold: 0.95, ResetAt: reset, HasResetAt: true},
					{Present: true, UsedPercent: used / 2, ResetAt: now.Add(90 * time.Hour), HasResetAt: true},
				}}}
		}
		return out
	}
	s, err := history.Open(path, now.Add(-2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	for at := now.Add(-2 * time.Hour); at.Before(now); at = at.Add(5 * time.Minute) {
		s.Record(fleetAt(at), p, at)
		s.Flush()
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	accounts := fleetAt(now.Add(-time.Minute))
	document := func(h *historyFile) string {
		defer h.store.Close()
		rows := report.Judge(accounts, p, now)
		var b strings.Builder
		if err := report.Write(&b, "json", report.Header{GeneratedAt: now, Groups: h.project(accounts, rows, p, now)}, rows); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	full, err := history.Open(path, now)
	if err != nil {
		t.Fatal(err)
	}
	want := document(&historyFile{store: full})
	since := now.Add(-trend.DefaultOptions().Span - freshFor)
	part, err := history.OpenSince(path, now, since)
	if err != nil {
		t.Fatal(err)
	}
	got := document(&historyFile{store: part, since: since, warn: io.Discard})
	if got != want {
		t.Fatalf("the document differs from a full load's:\n%s\nwant\n%s", got, want)
	}
	if !regexp.MustCompile(`"rate_percent_per_hour": [0-9]`).MatchString(want) {
		t.Fatalf("the fleet projected no rate; the comparison proves little:\n%.2000s", want)
	}
}

// A one-shot run against a history file another program holds a write lock on makes one
// attempt, exits 0 with its output, and says how many samples were not recorded (it said
// "retrying every 10s" as it exited, and lost them without a word).
func TestOnceSaysWhatALockedHistoryLost(t *testing.T) {
	srv := redistest.Start(t)
	now := time.Now()
	srv.Client().Set(t.Context(), "sched:meta:7", redistest.MetaValue(7, now, 50, 10, 10*time.Minute), 0)
	path := filepath.Join(t.TempDir(), "h.db")
	env := []string{"QUOTATOP_REDIS=" + srv.URL()}
	if r := runBinary(t, env, "--once", "--history", path); r.code != 0 {
		t.Fatalf("first run: %d %s", r.code, r.stderr)
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	conn, err := db.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(t.Context(), "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	srv.Client().Set(t.Context(), "sched:meta:7", redistest.MetaValue(7, now, 60, 10, 0), 0)
	r := runBinary(t, env, "--once", "--history", path)
	if r.code != 0 || !strings.Contains(r.stdout, "1 account") ||
		!regexp.MustCompile(`(?m)^quotatop: warning: \d+ sample\(s\) not recorded: .*locked`).MatchString(r.stderr) || strings.Contains(r.stderr, "retrying") {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	conn.ExecContext(t.Context(), "ROLLBACK")
}
