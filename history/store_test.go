package history

import (
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/quotatop/quotatop/model"
	"github.com/quotatop/quotatop/trend"
)

var t0 = time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)

// fleet is n OpenAI accounts whose 5h use is base+minute at snapshot time taken.
func fleet(n int, taken time.Time, used float64) []model.Account {
	out := make([]model.Account, n)
	for i := range out {
		out[i] = model.Account{ID: int64(i + 1), Platform: "openai", Status: "active", Schedulable: true,
			Quota: &model.Quota{UpdatedAt: taken, HasUpdatedAt: true, Windows: [2]model.WindowSnapshot{
				{Present: true, UsedPercent: used + float64(i)/10, Threshold: 0.95, ResetAt: t0.Add(5 * time.Hour), HasResetAt: true},
				{Present: true, UsedPercent: 12.34, ResetAt: t0.Add(100 * time.Hour), HasResetAt: true},
			}}}
	}
	return out
}

func open(t testing.TB, path string, now time.Time) *Store {
	t.Helper()
	s, err := Open(path, now)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func count(t testing.TB, path, table string) int {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow("SELECT COUNT(*) FROM " + table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestRecordOnlyChangesAndRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.db")
	s := open(t, path, t0)
	policy := model.DefaultPolicy()
	for k := range 6 {
		now := t0.Add(time.Duration(k) * time.Minute)
		taken := t0.Add(time.Duration(k/2*2) * time.Minute) // a new snapshot every other poll
		s.Record(fleet(3, taken, 40+float64(k/2*2)), policy, now)
		s.Flush()
	}
	s.Flush()
	if n := count(t, path, "samples"); n != 9 {
		t.Fatalf("%d samples, want 3 accounts x 3 changes", n)
	}
	if got := s.Samples(2); len(got) != 3 || got[2].Used[0] != 44.1 || got[2].Used[1] != 12.34 || got[2].State != model.StateOK {
		t.Fatalf("recent samples of #2: %+v", got)
	}
	if s.Note() != "" {
		t.Fatalf("note: %q", s.Note())
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// A restart reads the same samples back and does not write the unchanged one again.
	s = open(t, path, t0.Add(10*time.Minute))
	defer s.Close()
	got := s.Samples(2)
	if len(got) != 3 || !got[0].At.Equal(t0) || got[2].Used[0] != 44.1 || !got[2].ResetAt[0].Equal(t0.Add(5*time.Hour)) || got[2].State != model.StateOK {
		t.Fatalf("after restart: %+v", got)
	}
	s.Record(fleet(3, t0.Add(4*time.Minute), 44), policy, t0.Add(10*time.Minute))
	s.Flush()
	if n := count(t, path, "samples"); n != 9 {
		t.Fatalf("%d samples after an unchanged poll, want 9", n)
	}
	var readable int
	db, _ := sql.Open("sqlite", "file:"+path)
	defer db.Close()
	if err := db.QueryRow("SELECT COUNT(*) FROM readable WHERE state = 'ok' AND used_7d_percent = 12.34 AND tier = 'full'").Scan(&readable); err != nil || readable != 9 {
		t.Fatalf("readable view: %d %v", readable, err)
	}
}

func TestRetention(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.db")
	s := open(t, path, t0)
	defer s.Close()
	// Ten days of one account, a sample every 10 minutes.
	start := t0.Add(-10 * 24 * time.Hour)
	var rows []stored
	for at := start; at.Before(t0); at = at.Add(10 * time.Minute) {
		rows = append(rows, stored{1, s.pack(trendSample(at, 50))})
	}
	if err := s.insert(rows); err != nil {
		t.Fatal(err)
	}
	if err := s.Retain(t0); err != nil {
		t.Fatal(err)
	}
	full, hourly := count(t, path, "samples"), count(t, path, "hourly")
	// 48 h at 6 an hour; then one an hour from 8 days back to 48 h back.
	if full != 48*6 || hourly != 6*24 {
		t.Fatalf("%d full and %d hourly samples, want %d and %d", full, hourly, 48*6, 6*24)
	}
	// The hourly one is the last of its hour, and running again changes nothing.
	if err := s.Retain(t0); err != nil {
		t.Fatal(err)
	}
	var maxMin int
	db, _ := sql.Open("sqlite", "file:"+path)
	defer db.Close()
	db.QueryRow("SELECT MAX(at % 3600) / 60 FROM hourly").Scan(&maxMin)
	if c := count(t, path, "hourly"); c != hourly || maxMin != 50 {
		t.Fatalf("second run: %d hourly, last minute %d", c, maxMin)
	}
}

// Two quotatops on one file: a second process writes the same fleet while this one does.
func TestTwoWriters(t *testing.T) {
	if path := os.Getenv("QUOTATOP_HISTORY_CHILD"); path != "" {
		s, err := Open(path, t0)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		for k := range 30 {
			s.Record(fleet(200, t0.Add(time.Duration(k)*time.Minute), float64(k)), model.DefaultPolicy(), t0.Add(time.Duration(k)*time.Minute))
			s.Flush()
		}
		if n := s.Note(); n != "" {
			fmt.Fprintln(os.Stderr, n)
			os.Exit(1)
		}
		s.Close()
		os.Exit(0)
	}
	path := filepath.Join(t.TempDir(), "h.db")
	s := open(t, path, t0)
	child := exec.Command(os.Args[0], "-test.run=^TestTwoWriters$")
	child.Env = append(os.Environ(), "QUOTATOP_HISTORY_CHILD="+path)
	var out strings.Builder
	child.Stdout, child.Stderr = &out, &out
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	for k := range 30 {
		s.Record(fleet(200, t0.Add(time.Duration(k)*time.Minute), float64(k)), model.DefaultPolicy(), t0.Add(time.Duration(k)*time.Minute))
		s.Flush()
	}
	if err := child.Wait(); err != nil {
		t.Fatalf("second writer: %v: %s", err, out.String())
	}
	if n := s.Note(); n != "" {
		t.Fatalf("first writer: %s", n)
	}
	s.Close()
	if n := count(t, path, "samples"); n != 30*200 {
		t.Fatalf("%d samples, want each of 6000 once", n)
	}
	db, _ := sql.Open("sqlite", "file:"+path)
	defer db.Close()
	var check string
	if err := db.QueryRow("PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity: %q %v", check, err)
	}
}

func TestCorruptFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.db")
	os.WriteFile(path, []byte(strings.Repeat("this is not sqlite\n", 400)), 0o600)
	_, err := Open(path, t0)
	if err == nil || !strings.Contains(err.Error(), "damaged or not a quotatop history") || !strings.Contains(err.Error(), "--history off") {
		t.Fatalf("corrupt file: %v", err)
	}
	if _, err := Open(filepath.Join(path, "sub", "h.db"), t0); err == nil {
		t.Fatal("a path under a file opened")
	}
}

// A file another program holds a write lock on: Record does not block, the problem is
// told in one sentence, and writing resumes once the lock is gone.
func TestLockedFile(t *testing.T) {
	defer func(d time.Duration) { busyTimeout = d }(busyTimeout)
	busyTimeout = 300 * time.Millisecond
	path := filepath.Join(t.TempDir(), "h.db")
	s := open(t, path, t0)
	defer s.Close()
	other, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	other.SetMaxOpenConns(1)
	tx, err := other.Begin()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec("INSERT INTO meta VALUES ('lock', 'held')"); err != nil {
		t.Fatal(err)
	}
	s.Record(fleet(5, t0, 10), model.DefaultPolicy(), t0)
	for range 7 {
		s.Record(fleet(5, t0, 10), model.DefaultPolicy(), t0) // never blocks on the locked file
	}
	s.Flush()
	if n := s.Note(); !strings.Contains(n, "cannot write") || !strings.Contains(n, "locked") {
		t.Fatalf("note while locked: %q", n)
	}
	tx.Rollback()
	s.Record(fleet(5, t0.Add(time.Minute), 11), model.DefaultPolicy(), t0.Add(time.Minute))
	s.Flush()
	if n := s.Note(); strings.Contains(n, "cannot write") {
		t.Fatalf("note after the lock went: %q", n)
	}
	if c := count(t, path, "samples"); c != 10 { // the locked-out samples too
		t.Fatalf("%d samples after the lock", c)
	}
}

func TestFileName(t *testing.T) {
	cases := map[[2]string]string{
		{"redis://127.0.0.1:6379/0", "sched:"}:                            "redis_127.0.0.1_6379_0_sched.db",
		{"redis://quotatop:xxxxx@10.0.0.5:6379/0", "sched:"}:              "redis_10.0.0.5_6379_0_sched.db",
		{"redis-cluster://n1:7000,n2:7001", "sched:{sub2api:scheduler}:"}: "redis-cluster_n1_7000_n2_7001_sched_sub2api_scheduler.db",
		{"../../etc/passwd", "/"}:                                         "etc_passwd.db",
		{"", ""}:                                                          "default.db",
	}
	for in, want := range cases {
		if got := FileName(in[0], in[1]); got != want {
			t.Errorf("FileName(%q, %q) = %q, want %q", in[0], in[1], got, want)
		}
	}
	env := map[string]string{"HOME": "/home/op"}
	if got := DefaultPath(func(k string) string { return env[k] }, "redis://h:1/0", "s:"); got != "/home/op/.local/state/quotatop/redis_h_1_0_s.db" {
		t.Errorf("default path %q", got)
	}
	env["XDG_STATE_HOME"] = "/st"
	if got := DefaultPath(func(k string) string { return env[k] }, "redis://h:1/0", "s:"); got != "/st/quotatop/redis_h_1_0_s.db" {
		t.Errorf("default path %q", got)
	}
}

// trendSample is one account's sample at at: 5h at used, 7d at 30 %.
func trendSample(at time.Time, used float64) trend.Sample {
	return trend.Sample{At: at, Present: [2]bool{true, true}, Used: [2]float64{used, 30},
		ResetAt: [2]time.Time{at.Add(3 * time.Hour), at.Add(100 * time.Hour)}, State: model.StateOK}
}

// A file another program holds exclusively when quotatop starts: Open says so in one
// sentence (the command then runs without history).
func TestLockedAtOpen(t *testing.T) {
	defer func(d time.Duration) { busyTimeout = d }(busyTimeout)
	busyTimeout = 300 * time.Millisecond
	path := filepath.Join(t.TempDir(), "h.db")
	other, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(DELETE)")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	other.SetMaxOpenConns(1)
	if _, err := other.Exec("CREATE TABLE x (a)"); err != nil {
		t.Fatal(err)
	}
	conn, err := other.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(t.Context(), "BEGIN EXCLUSIVE"); err != nil {
		t.Fatal(err)
	}
	_, err = Open(path, t0)
	if err == nil || !strings.Contains(err.Error(), "locked by another program") || !strings.Contains(err.Error(), "--history off") {
		t.Fatalf("locked at open: %v", err)
	}
	conn.ExecContext(t.Context(), "ROLLBACK")
}

// Accounts carrying a fingerprint (Rev) are compared by it, and by position while the
// poll lists the same IDs in the same order: a changed value is still recorded for the
// right account after the order changes, an invalid account in the list shifts nothing,
// and an unchanged Rev is not recorded again.
func TestRecordByRevAndPosition(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "h.db"), t0)
	defer s.Close()
	p := model.DefaultPolicy()
	poll := func(at time.Time, used float64, revs ...uint64) []model.Account {
		accounts := fleet(len(revs), at, used)
		for i := range accounts {
			accounts[i].Rev = revs[i]
		}
		return accounts
	}
	first := poll(t0, 10, 11, 21, 31)
	s.Record(first, p, t0)
	s.Record(first, p, t0.Add(2*time.Second)) // same values, same Revs
	// Account 2 changes (new Rev); the list is reversed and an unreadable value joins it.
	second := poll(t0.Add(time.Minute), 40, 11, 22, 31)
	second[0].Quota, second[2].Quota = first[0].Quota, first[2].Quota
	reversed := []model.Account{{ID: 9, Invalid: "not JSON"}, second[2], second[1], second[0]}
	s.Record(reversed, p, t0.Add(time.Minute))
	s.Record(reversed, p, t0.Add(time.Minute+2*time.Second))
	// Same length, another order: account 1 changes.
	third := poll(t0.Add(2*time.Minute), 50, 12)
	shuffled := []model.Account{second[1], third[0], reversed[0], second[2]}
	s.Record(shuffled, p, t0.Add(2*time.Minute))
	s.Flush()
	for id, want := range map[int64]int{1: 2, 2: 2, 3: 1, 9: 0} {
		if got := len(s.Samples(id)); got != want {
			t.Errorf("account %d: %d samples, want %d", id, got, want)
		}
	}
	if got := s.Samples(2); len(got) == 2 && got[1].Used[0] != 40.1 {
		t.Errorf("account 2's new sample reads %v %%, want 40.1", got[1].Used[0])
	}
}

// Told which accounts may have changed, RecordChanged keeps exactly the samples Record
// keeps reading every account, over polls where a few snapshots move at a time.
func TestRecordChangedEqualsRecord(t *testing.T) {
	dir := t.TempDir()
	all, told := open(t, filepath.Join(dir, "all.db"), t0), open(t, filepath.Join(dir, "told.db"), t0)
	defer all.Close()
	defer told.Close()
	p := model.DefaultPolicy()
	accounts := fleet(50, t0, 10)
	for i := range accounts {
		accounts[i].Rev = uint64(1000 + i)
	}
	all.Record(accounts, p, t0)
	told.RecordChanged(accounts, nil, p, t0)
	for step := 1; step <= 20; step++ {
		at := t0.Add(time.Duration(step) * time.Minute)
		next := slices.Clone(accounts)
		var fresh []int32
		for i := step % 7; i < len(next); i += 9 {
			q := *next[i].Quota
			q.UpdatedAt, q.Windows[0].UsedPercent = at, q.Windows[0].UsedPercent+float64(step)
			next[i].Quota, next[i].Rev = &q, next[i].Rev+100
			fresh = append(fresh, int32(i))
		}
		all.Record(next, p, at)
		told.RecordChanged(next, fresh, p, at)
		accounts = next
	}
	all.Flush()
	told.Flush()
	moved := 0
	for _, a := range accounts {
		got, want := told.Samples(a.ID), all.Samples(a.ID)
		if !slices.Equal(got, want) {
			t.Fatalf("account %d: told %d samples %v, reading all %d %v", a.ID, len(got), got, len(want), want)
		}
		if len(want) > 1 {
			moved++
		}
	}
	if moved < 10 {
		t.Fatalf("only %d accounts have more than one sample: the polls changed too little to compare", moved)
	}
}

// A long-running monitor lets go of the samples of accounts the gateway no longer lists,
// once they are older than Recent; accounts still listed keep theirs however old, since
// an idle account's rate is measured up to its own last snapshot.
func TestForgetsDepartedAccounts(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "h.db"), t0)
	defer s.Close()
	policy := model.DefaultPolicy()
	s.Record(fleet(3, t0, 10), policy, t0)
	s.Flush()
	later := t0.Add(Recent + time.Minute)
	s.Record(fleet(2, t0, 10), policy, later) // account 3 is gone; 1 and 2 are idle
	s.Flush()
	if got := len(s.Samples(3)); got != 0 {
		t.Fatalf("the departed account keeps %d samples in memory", got)
	}
	for id := int64(1); id <= 2; id++ {
		if got := len(s.Samples(id)); got != 1 {
			t.Fatalf("listed account %d keeps %d samples, want 1", id, got)
		}
	}
	// Back again with the same snapshot: it is recorded anew.
	s.Record(fleet(3, t0, 10), policy, later.Add(time.Minute))
	s.Flush()
	if got := len(s.Samples(3)); got != 1 {
		t.Fatalf("the returning account has %d samples, want 1", got)
	}
}

// The writer gathers polls into one transaction: nothing reaches the file before
// writeEvery unless the caller flushes, and everything does after it.
func TestWriterGathersPolls(t *testing.T) {
	defer func(d time.Duration) { writeEvery = d }(writeEvery)
	writeEvery = time.Hour
	path := filepath.Join(t.TempDir(), "h.db")
	s := open(t, path, t0)
	policy := model.DefaultPolicy()
	for k := range 3 {
		at := t0.Add(time.Duration(k) * time.Minute)
		s.Record(fleet(5, at, float64(10+k)), policy, at)
	}
	if n := count(t, path, "samples"); n != 0 {
		t.Fatalf("%d samples written before the writer's gathering time", n)
	}
	s.Flush()
	if n := count(t, path, "samples"); n != 15 {
		t.Fatalf("%d samples after Flush, want 15", n)
	}
	s.Close()

	writeEvery = 20 * time.Millisecond
	s = open(t, path, t0)
	defer s.Close()
	at := t0.Add(time.Hour)
	s.Record(fleet(5, at, 50), policy, at)
	for deadline := time.Now().Add(10 * time.Second); count(t, path, "samples") != 20; {
		if time.Now().After(deadline) {
			t.Fatalf("%d samples: the gathered poll was never written", count(t, path, "samples"))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A large backlog is written at once, without waiting for the gathering time.
func TestWriterWritesALargeBacklogAtOnce(t *testing.T) {
	defer func(d time.Duration) { writeEvery = d }(writeEvery)
	writeEvery = time.Hour
	path := filepath.Join(t.TempDir(), "h.db")
	s := open(t, path, t0)
	defer s.Close()
	s.Record(fleet(writeNow, t0, 10), model.DefaultPolicy(), t0)
	for deadline := time.Now().Add(30 * time.Second); count(t, path, "samples") != writeNow; {
		if time.Now().After(deadline) {
			t.Fatalf("%d samples: a backlog of %d waited for the gathering time", count(t, path, "samples"), writeNow)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
