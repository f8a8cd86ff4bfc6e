package history

import (
	"database/sql"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/quotatop/quotatop/model"
	"github.com/quotatop/quotatop/trend"
)

// newest reads the latest table as account -> (at, used_5h).
func newest(t *testing.T, path string) map[int64][2]int64 {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query("SELECT account_id, at, used_5h FROM latest")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[int64][2]int64{}
	for rows.Next() {
		var id, at, used int64
		if err := rows.Scan(&id, &at, &used); err != nil {
			t.Fatal(err)
		}
		out[id] = [2]int64{at, used}
	}
	return out
}

// A store opened only to record writes exactly what one that loaded every recent sample
// writes: nothing for snapshots already in the file, a sample for each new one.
func TestOpenToRecordWritesWhatOpenWrites(t *testing.T) {
	policy := model.DefaultPolicy()
	dirs := [2]string{t.TempDir(), t.TempDir()}
	for k, dir := range dirs {
		path := filepath.Join(dir, "h.db")
		s := open(t, path, t0)
		for m := range 4 { // four snapshots an account, each newer
			taken := t0.Add(time.Duration(m) * time.Minute)
			s.Record(fleet(5, taken, 40+float64(m)), policy, taken)
			s.Flush()
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		openAgain := Open
		if k == 1 {
			openAgain = OpenToRecord
		}
		now := t0.Add(5 * time.Minute)
		s, err := openAgain(path, now)
		if err != nil {
			t.Fatal(err)
		}
		s.Record(fleet(5, t0.Add(3*time.Minute), 43), policy, now) // the newest snapshot again
		s.Flush()
		if n := count(t, path, "samples"); n != 20 {
			t.Fatalf("open #%d: %d samples after recording a known snapshot, want 20", k, n)
		}
		s.Record(fleet(5, now, 50), policy, now)
		s.Flush()
		if n := count(t, path, "samples"); n != 25 {
			t.Fatalf("open #%d: %d samples after a new snapshot, want 25", k, n)
		}
		if k == 1 {
			if got := s.Samples(3); len(got) != 2 || !got[0].At.Equal(t0.Add(3*time.Minute)) {
				t.Fatalf("OpenToRecord holds %+v of account 3, want its newest stored sample and the new one", got)
			}
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if got := newest(t, path)[3]; got != [2]int64{now.Unix(), 5020} {
			t.Fatalf("latest row of account 3: %v, want the new snapshot", got)
		}
	}
}

// The latest table keeps the newest snapshot even when an older one is written after it
// (another quotatop on the file, or a snapshot that went back).
func TestLatestKeepsNewest(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.db")
	s := open(t, path, t0)
	policy := model.DefaultPolicy()
	s.Record(fleet(2, t0.Add(10*time.Minute), 60), policy, t0.Add(10*time.Minute))
	s.Flush()
	s.Record(fleet(2, t0.Add(5*time.Minute), 55), policy, t0.Add(11*time.Minute))
	s.Flush()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if n := count(t, path, "samples"); n != 4 {
		t.Fatalf("%d samples, want both snapshots of both accounts", n)
	}
	if got := newest(t, path)[1]; got != [2]int64{t0.Add(10 * time.Minute).Unix(), 6000} {
		t.Fatalf("latest row of account 1: %v, want the newer snapshot", got)
	}
}

// A file written before the latest table existed gets it, filled from its samples, the
// first time it is opened.
func TestLatestAddedToOlderFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.db")
	s := open(t, path, t0)
	policy := model.DefaultPolicy()
	for m := range 3 {
		taken := t0.Add(time.Duration(m) * time.Minute)
		s.Record(fleet(3, taken, 40+float64(m)), policy, taken)
		s.Flush()
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// make it the older file: no trigger, no table
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("DROP TRIGGER samples_latest; DROP TABLE latest"); err != nil {
		t.Fatal(err)
	}
	db.Close()

	s, err = OpenToRecord(path, t0.Add(3*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Samples(2); len(got) != 1 || got[0].Used[0] != 42.1 {
		t.Fatalf("account 2 after the upgrade: %+v, want its newest sample", got)
	}
	s.Record(fleet(3, t0.Add(2*time.Minute), 42), policy, t0.Add(3*time.Minute))
	s.Flush()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if n := count(t, path, "samples"); n != 9 {
		t.Fatalf("%d samples, want 9: the known snapshot is not written again", n)
	}
	if got := newest(t, path); len(got) != 3 || got[2] != [2]int64{t0.Add(2 * time.Minute).Unix(), 4210} {
		t.Fatalf("latest after the upgrade: %v", got)
	}
}

// The recent samples are read in slices of time: a gap between samples, or a sample far
// in the future (a gateway clock gone wrong), costs a query, not one a slice, and every
// sample comes back in time order.
func TestLoadAcrossGapsAndTheFuture(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.db")
	now := t0.Add(3 * time.Hour)
	s := open(t, path, now)
	smp := func(at time.Time, used float64) packed {
		return s.pack(trend.Sample{At: at, Present: [2]bool{true, false}, Used: [2]float64{used, 0}, State: model.StateOK})
	}
	since := now.Add(-Recent)
	rows := []stored{
		{1, smp(since.Add(time.Minute), 10)},
		{1, smp(since.Add(55*time.Minute), 20)},
		{1, smp(since.Add(100*time.Minute), 30)},
		{2, smp(now.AddDate(200, 0, 0), 40)},
		{3, smp(since.Add(-time.Minute), 50)}, // before the window: not loaded
	}
	if err := s.insert(rows); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	done := make(chan *Store)
	go func() { done <- open(t, path, now) }()
	select {
	case s = <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("opening a file with a sample 200 years ahead did not finish")
	}
	defer s.Close()
	got := s.Samples(1)
	if len(got) != 3 || got[0].Used[0] != 10 || got[1].Used[0] != 20 || got[2].Used[0] != 30 {
		t.Fatalf("account 1: %+v, want its three samples in time order", got)
	}
	if got := s.Samples(2); len(got) != 1 || got[0].Used[0] != 40 {
		t.Fatalf("account 2: %+v, want its sample from the future", got)
	}
	if got := s.Samples(3); len(got) != 0 {
		t.Fatalf("account 3: %+v, want nothing from before the window", got)
	}
}

// A store opened since a later time, with the earlier samples of some accounts loaded
// after, holds for those accounts exactly what Open holds, and for the others what Open
// holds from that time on: over random samples of random states, both sides of the
// boundary, before the window and in the future.
func TestOpenSinceAndLoadEarlierEqualOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.db")
	now := t0.Add(3 * time.Hour)
	s := open(t, path, now)
	rng := rand.New(rand.NewPCG(3, 4))
	states := []model.State{model.StateOK, model.StateWarn, model.StatePaused, model.StateBlocked}
	var rows []stored
	for id := int64(1); id <= 40; id++ {
		at := now.Add(-Recent - 20*time.Minute).Add(time.Duration(rng.IntN(600)) * time.Second)
		for at.Before(now.Add(10 * time.Minute)) {
			rows = append(rows, stored{id, s.pack(trend.Sample{At: at, Present: [2]bool{true, id%3 != 0},
				Used: [2]float64{rng.Float64() * 100, rng.Float64() * 100}, State: states[rng.IntN(len(states))],
				ResetAt: [2]time.Time{at.Add(time.Duration(rng.IntN(300)) * time.Minute), at.Add(time.Duration(rng.IntN(9000)) * time.Minute)}})})
			at = at.Add(time.Duration(1+rng.IntN(15)) * time.Minute)
		}
	}
	if err := s.insert(rows); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	full := open(t, path, now)
	defer full.Close()
	since := now.Add(-70 * time.Minute)
	part, err := OpenSince(path, now, since)
	if err != nil {
		t.Fatal(err)
	}
	defer part.Close()
	var earlier []int64
	for id := int64(1); id <= 40; id += 3 {
		earlier = append(earlier, id)
	}
	if err := part.LoadEarlier(earlier); err != nil {
		t.Fatal(err)
	}
	for id := int64(1); id <= 40; id++ {
		want := full.Samples(id)
		if !slices.Contains(earlier, id) {
			want = slices.DeleteFunc(want, func(s trend.Sample) bool { return s.At.Before(since) })
		}
		got := part.Samples(id)
		if len(want) == 0 || !reflect.DeepEqual(got, want) {
			t.Fatalf("account %d: %d samples, want %d (earlier loaded: %v)", id, len(got), len(want), slices.Contains(earlier, id))
		}
	}
}
