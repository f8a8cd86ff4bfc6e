package history

import (
	"bytes"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/quotatop/quotatop/model"
)

// fileState is what a test checks of a file another program owns: its journal mode and
// its tables, read without changing either.
func fileState(t *testing.T, path string) (mode string, tables []string) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil {
		t.Fatal(err)
	}
	rows, err := db.Query("SELECT name FROM sqlite_master ORDER BY name")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, name)
	}
	return mode, tables
}

// --history pointed at another program's SQLite database: Open refuses it in one
// sentence and leaves it as it was (no WAL, no tables of quotatop's); an empty file and a
// new path are still made history files.
func TestRefusesAnotherProgramsFile(t *testing.T) {
	dir := t.TempDir()
	for name, ddl := range map[string]string{
		"shop.db":  "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO customers VALUES (1, 'Ada')",
		"other.db": "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT); INSERT INTO meta VALUES ('owner', 'someone else')",
		"view.db":  "CREATE VIEW answer AS SELECT 42",
	} {
		path := filepath.Join(dir, name)
		db, err := sql.Open("sqlite", "file:"+path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(ddl); err != nil {
			t.Fatal(err)
		}
		db.Close()
		before, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		wantMode, wantTables := fileState(t, path)

		s, err := Open(path, t0)
		if err == nil {
			s.Close()
			t.Fatalf("%s: opened as a history file", name)
		}
		if msg := err.Error(); !strings.Contains(msg, "is not a quotatop history file") || !strings.Contains(msg, "--history off") || !strings.Contains(msg, path) {
			t.Errorf("%s: %v", name, err)
		}
		if mode, tables := fileState(t, path); mode != wantMode || !slices.Equal(tables, wantTables) {
			t.Errorf("%s after the refused open: journal %s, objects %v; want %s, %v", name, mode, tables, wantMode, wantTables)
		}
		if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
			t.Errorf("%s: the refused open changed the file", name)
		}
		if _, err := os.Stat(path + "-wal"); err == nil {
			t.Errorf("%s: the refused open left a WAL file", name)
		}
	}

	empty := filepath.Join(dir, "empty.db")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{empty, filepath.Join(dir, "new", "h.db")} {
		s := open(t, path, t0)
		s.Record(fleet(3, t0, 10), model.DefaultPolicy(), t0)
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if n := count(t, path, "samples"); n != 3 {
			t.Fatalf("%s: %d samples, want 3", path, n)
		}
		if mode, _ := fileState(t, path); mode != "wal" {
			t.Fatalf("%s: journal mode %s, want wal", path, mode)
		}
		open(t, path, t0).Close() // and it opens again as ours
	}
}

// A file damaged after it was opened cleanly: the next write names it damaged with the
// advice, writing stops (no retry can heal it) and every sample dropped is counted,
// down to Close's report.
func TestDamagedWhileOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.db")
	s := open(t, path, t0)
	defer s.Close()
	policy := model.DefaultPolicy()
	s.Record(fleet(2000, t0, 10), policy, t0)
	s.Flush()
	if _, err := s.db.Exec("PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		t.Fatal(err)
	}
	// Every page but the first overwritten; another program's write to the file makes
	// the store read its pages again.
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	garbage := bytes.Repeat([]byte("overwritten "), int(info.Size())/12)
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(garbage[:info.Size()-4096], 4096); err != nil {
		t.Fatal(err)
	}
	f.Close()
	other, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Exec("PRAGMA user_version = 7"); err != nil {
		t.Fatal(err)
	}
	other.Close()

	at := t0.Add(time.Minute)
	s.Record(fleet(2000, at, 11), policy, at)
	s.Flush()
	note := s.Note()
	for _, want := range []string{"damaged", path, "move it away", "--history off", "nothing more is written", "2000 sample(s) not recorded"} {
		if !strings.Contains(note, want) {
			t.Fatalf("note %q does not say %q", note, want)
		}
	}
	if strings.Contains(note, "retrying") {
		t.Fatalf("note %q: a damaged file is not retried", note)
	}
	// Later polls are dropped at once and counted, not kept for a retry.
	at = at.Add(time.Minute)
	s.Record(fleet(2000, at, 12), policy, at)
	s.Flush()
	if n := s.backlogLen(); n != 0 {
		t.Fatalf("%d samples kept for a retry of a damaged file", n)
	}
	if note := s.Note(); !strings.Contains(note, "4000 sample(s) not recorded") {
		t.Fatalf("note after a second poll: %q", note)
	}
	var lost *NotRecordedError
	if err := s.Close(); !errors.As(err, &lost) || lost.Samples != 4000 || !strings.Contains(err.Error(), "damaged") {
		t.Fatalf("close: %v", err)
	}
}

// holdWriteLock holds a write transaction on path, as another program's BEGIN
// IMMEDIATE would, until the returned function is called.
func holdWriteLock(t *testing.T, path string) (release func()) {
	t.Helper()
	other, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := other.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(t.Context(), "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	return func() {
		conn.ExecContext(t.Context(), "ROLLBACK")
		conn.Close()
		other.Close()
	}
}

// A one-shot run against a file another program holds locked: the final write is one
// attempt (Close does not wait again for samples Flush just failed to write, even once
// the lock is gone), and Close says how many samples were not recorded and why.
func TestCloseMakesOneAttempt(t *testing.T) {
	defer func(d time.Duration) { busyTimeout = d }(busyTimeout)
	busyTimeout = 200 * time.Millisecond
	policy := model.DefaultPolicy()

	t.Run("flush then close", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "h.db")
		open(t, path, t0).Close()
		s, err := OpenToRecord(path, t0)
		if err != nil {
			t.Fatal(err)
		}
		release := holdWriteLock(t, path)
		s.Record(fleet(5, t0, 10), policy, t0)
		s.Flush() // the one attempt
		release()
		err = s.Close()
		var lost *NotRecordedError
		if !errors.As(err, &lost) || lost.Samples != 5 || !strings.Contains(err.Error(), "5 sample(s) not recorded: history file "+path+" is locked") {
			t.Fatalf("close: %v", err)
		}
		if again := s.Close(); again != err {
			t.Fatalf("a second close: %v", again)
		}
		s.Flush() // returns after Close
		if n := count(t, path, "samples"); n != 0 {
			t.Fatalf("%d samples: Close tried again what Flush had just failed to write", n)
		}
	})

	t.Run("close alone", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "h.db")
		s := open(t, path, t0)
		release := holdWriteLock(t, path)
		defer release()
		s.Record(fleet(7, t0, 10), policy, t0)
		var lost *NotRecordedError
		if err := s.Close(); !errors.As(err, &lost) || lost.Samples != 7 || !strings.Contains(err.Error(), "locked") {
			t.Fatalf("close: %v", err)
		}
	})

	t.Run("new samples after a failed write", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "h.db")
		s := open(t, path, t0)
		release := holdWriteLock(t, path)
		s.Record(fleet(3, t0, 10), policy, t0)
		s.Flush()
		release()
		at := t0.Add(time.Minute)
		s.Record(fleet(3, at, 11), policy, at) // news since the failure: Close writes all
		if err := s.Close(); err != nil {
			t.Fatalf("close: %v", err)
		}
		if n := count(t, path, "samples"); n != 6 {
			t.Fatalf("%d samples, want 6", n)
		}
	})
}

// The WAL is cut back to walLimit once a checkpoint has emptied it, rather than staying
// at the size of the largest transaction.
func TestWALCutBack(t *testing.T) {
	defer func(n int) { walLimit = n }(walLimit)
	walLimit = 64 << 10
	path := filepath.Join(t.TempDir(), "h.db")
	s := open(t, path, t0)
	defer s.Close()
	policy := model.DefaultPolicy()
	s.Record(fleet(20000, t0, 10), policy, t0) // about 2 MB of pages in one transaction
	s.Flush()
	if size := walSize(t, path); size < 4*int64(walLimit) {
		t.Fatalf("WAL after a large write: %d bytes, want it large", size)
	}
	// The auto-checkpoint does this after 1000 pages; a large transaction needs fewer here.
	if _, err := s.db.Exec("PRAGMA wal_checkpoint(PASSIVE)"); err != nil {
		t.Fatal(err)
	}
	at := t0.Add(time.Minute)
	s.Record(fleet(3, at, 11), policy, at) // the next write starts the WAL over
	s.Flush()
	if size := walSize(t, path); size > int64(walLimit) {
		t.Fatalf("WAL after a checkpoint and a small write: %d bytes, want at most %d", size, walLimit)
	}
}

func walSize(t testing.TB, path string) int64 {
	t.Helper()
	info, err := os.Stat(path + "-wal")
	if err != nil {
		t.Fatal(err)
	}
	return info.Size()
}
