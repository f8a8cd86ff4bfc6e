package main

import (
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/quotatop/quotatop/source/redistest"
	_ "modernc.org/sqlite"
)

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
