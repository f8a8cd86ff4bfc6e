package history

import (
	"database/sql"
	"maps"
	"math"
	"path/filepath"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/quotatop/quotatop/model"
	"github.com/quotatop/quotatop/trend"
)

// The packed form keeps what the file keeps: what Samples returns, before and after a
// restart, is the recorded sample at the file's precision.
func TestPackedRoundTrip(t *testing.T) {
	at := t0.Add(1500 * time.Millisecond)
	sec := t0.Add(time.Second) // at, to the second
	cases := []struct {
		name     string
		recorded trend.Sample
		want     trend.Sample
	}{
		{"both windows",
			trend.Sample{At: at, Present: [2]bool{true, true}, Used: [2]float64{12.345, 99.999}, ResetAt: [2]time.Time{at.Add(3 * time.Hour), at.Add(100 * time.Hour)}, State: model.StateOK},
			trend.Sample{At: sec, Present: [2]bool{true, true}, Used: [2]float64{12.35, 100}, ResetAt: [2]time.Time{sec.Add(3 * time.Hour), sec.Add(100 * time.Hour)}, State: model.StateOK}},
		{"5h absent",
			trend.Sample{At: at, Present: [2]bool{false, true}, Used: [2]float64{7, 30}, ResetAt: [2]time.Time{{}, at.Add(time.Hour)}, State: model.StateWarn},
			trend.Sample{At: sec, Present: [2]bool{false, true}, Used: [2]float64{0, 30}, ResetAt: [2]time.Time{{}, sec.Add(time.Hour)}, State: model.StateWarn}},
		{"both absent, no resets",
			trend.Sample{At: at, State: model.StateDisabled},
			trend.Sample{At: sec, State: model.StateDisabled}},
		{"resets now and past",
			trend.Sample{At: at, Present: [2]bool{true, true}, ResetAt: [2]time.Time{at, at.Add(-time.Hour)}, State: model.StatePaused},
			trend.Sample{At: sec, Present: [2]bool{true, true}, ResetAt: [2]time.Time{sec, sec}, State: model.StatePaused}},
		{"resets beyond what the file holds",
			trend.Sample{At: at, Present: [2]bool{true, true}, ResetAt: [2]time.Time{at.Add(24 * time.Hour), at.Add(30 * 24 * time.Hour)}, State: model.StateOK},
			trend.Sample{At: sec, Present: [2]bool{true, true}, ResetAt: [2]time.Time{sec.Add(maxMinutes5h * time.Minute), sec.Add(maxMinutes7d * time.Minute)}, State: model.StateOK}},
		{"used out of range",
			trend.Sample{At: at, Present: [2]bool{true, true}, Used: [2]float64{-5.5, math.MaxFloat64}, State: model.StateBlocked},
			trend.Sample{At: sec, Present: [2]bool{true, true}, Used: [2]float64{-5.5, math.MaxInt32 / 100.0}, State: model.StateBlocked}},
		{"used NaN",
			trend.Sample{At: at, Present: [2]bool{true, false}, Used: [2]float64{math.NaN(), 0}, State: model.StateError},
			trend.Sample{At: sec, Present: [2]bool{true, false}, State: model.StateError}},
		{"a state the model adds later",
			trend.Sample{At: at, Present: [2]bool{true, true}, Used: [2]float64{1, 2}, State: "resting"},
			trend.Sample{At: sec, Present: [2]bool{true, true}, Used: [2]float64{1, 2}, State: "resting"}},
	}
	// IDs from one up, and the extremes last: the newest-only load reads them back as text
	ids := make([]int64, len(cases))
	for i := range ids {
		ids[i] = int64(i + 1)
	}
	ids[len(ids)-2], ids[len(ids)-1] = math.MinInt64, math.MaxInt64
	path := filepath.Join(t.TempDir(), "h.db")
	s := open(t, path, t0)
	var rows []stored
	for i, c := range cases {
		id := ids[i]
		p := s.pack(c.recorded)
		s.accounts[s.slot(id)].remember(p)
		rows = append(rows, stored{id, p})
	}
	if err := s.insert(rows); err != nil {
		t.Fatal(err)
	}
	check := func(when string, s *Store) {
		t.Helper()
		// A reused buffer (as projections use AppendSamples) holds the last account's
		// sample: nothing of it may show through.
		buf := []trend.Sample{{At: t0, Present: [2]bool{true, true}, Used: [2]float64{42, 42}, ResetAt: [2]time.Time{t0, t0}, State: "dirty"}}
		for i, c := range cases {
			got := s.Samples(ids[i])
			if len(got) != 1 || !reflect.DeepEqual(got[0], c.want) {
				t.Errorf("%s, %s: got %+v, want %+v", when, c.name, got, c.want)
			}
			buf = s.AppendSamples(buf[:0], ids[i])
			if len(buf) != 1 || !reflect.DeepEqual(buf[0], c.want) {
				t.Errorf("%s, %s, into a reused buffer: got %+v, want %+v", when, c.name, buf, c.want)
			}
			buf = buf[:cap(buf)] // the next case writes over this one
		}
	}
	check("recorded", s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = open(t, path, t0.Add(time.Minute))
	check("after a restart", s)
	if got := s.Samples(int64(len(cases) + 1)); got != nil {
		t.Errorf("an account never seen has samples: %+v", got)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err := OpenToRecord(path, t0.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	check("opened to record", s)
}

// Samples hands out a slice of its own: changing it changes nothing in the store.
func TestSamplesFresh(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "h.db"), t0)
	defer s.Close()
	s.Record(fleet(1, t0, 10), model.DefaultPolicy(), t0)
	s.Flush()
	got := s.Samples(1)
	if len(got) != 1 {
		t.Fatalf("samples: %+v", got)
	}
	want := got[0]
	got[0].Used[0], got[0].State = 77, model.StatePaused
	if again := s.Samples(1); !reflect.DeepEqual(again[0], want) {
		t.Fatalf("the store's sample changed with the caller's copy: %+v", again[0])
	}
}

// A snapshot without a time is stamped with the poll's time: the same values polled
// again are not a change, other values or reset times are.
func TestSnapshotWithoutTime(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.db")
	s := open(t, path, t0)
	defer s.Close()
	poll := func(now time.Time, used float64, reset time.Time) {
		a := fleet(1, time.Time{}, used)
		a[0].Quota.HasUpdatedAt = false
		a[0].Quota.Windows[0].ResetAt = reset
		s.Record(a, model.DefaultPolicy(), now)
		s.Flush()
	}
	reset := t0.Add(3 * time.Hour)
	poll(t0, 10, reset)
	poll(t0.Add(time.Minute), 10, reset)                 // the same
	poll(t0.Add(2*time.Minute), 11, reset)               // used changed
	poll(t0.Add(3*time.Minute), 11, reset)               // the same
	poll(t0.Add(4*time.Minute), 11, t0.Add(4*time.Hour)) // the 5h reset moved
	got := s.Samples(1)
	if len(got) != 3 || !got[0].At.Equal(t0) || got[1].Used[0] != 11 || !got[2].ResetAt[0].Equal(t0.Add(4*time.Hour)) {
		t.Fatalf("samples: %+v", got)
	}
	if n := count(t, path, "samples"); n != 3 {
		t.Fatalf("%d rows, want 3", n)
	}
}

// An account's recent samples reach back Recent from its newest, also after a restart.
func TestRecentWindow(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.db")
	s := open(t, path, t0)
	policy := model.DefaultPolicy()
	for k := range 30 { // one every 10 minutes for 5 hours
		at := t0.Add(time.Duration(k) * 10 * time.Minute)
		s.Record(fleet(2, at, float64(k)), policy, at)
		s.Flush()
	}
	newest := t0.Add(290 * time.Minute)
	check := func(when string) {
		t.Helper()
		got := s.Samples(2)
		if len(got) != 13 || !got[0].At.Equal(newest.Add(-Recent)) || !got[12].At.Equal(newest) || got[12].Used[0] != 29.1 {
			t.Fatalf("%s: %d samples from %v to %v", when, len(got), got[0].At, got[len(got)-1].At)
		}
	}
	check("recorded")
	// An older snapshot than the newest is written but not remembered.
	s.Record(fleet(2, t0.Add(time.Minute), 50), policy, newest)
	s.Flush()
	check("after an older snapshot")
	s.Close()
	if n := count(t, path, "samples"); n != 2*31 {
		t.Fatalf("%d rows, want %d", n, 2*31)
	}
	s = open(t, path, newest)
	defer s.Close()
	check("after a restart")
}

// snapshotKey reads every field of a window: a change in any one is a new snapshot.
func TestSnapshotKeySeesEveryField(t *testing.T) {
	if n := reflect.TypeFor[model.WindowSnapshot]().NumField(); n != snapshotFields {
		t.Fatalf("model.WindowSnapshot has %d fields, snapshotKey reads %d: add the new ones", n, snapshotFields)
	}
	base := fleet(1, t0, 10)[0].Quota
	changes := map[string]func(q *model.Quota){
		"UpdatedAt":         func(q *model.Quota) { q.UpdatedAt = q.UpdatedAt.Add(time.Nanosecond) },
		"HasUpdatedAt":      func(q *model.Quota) { q.HasUpdatedAt = false },
		"Present":           func(q *model.Quota) { q.Windows[1].Present = false },
		"UsedPercent":       func(q *model.Quota) { q.Windows[0].UsedPercent += 0.001 },
		"ResetAt":           func(q *model.Quota) { q.Windows[1].ResetAt = q.Windows[1].ResetAt.Add(time.Second) },
		"HasResetAt":        func(q *model.Quota) { q.Windows[0].HasResetAt = false },
		"ResetAfterSeconds": func(q *model.Quota) { q.Windows[0].ResetAfterSeconds = 60 },
		"Threshold":         func(q *model.Quota) { q.Windows[0].Threshold = 0.9 },
		"ThresholdNaN":      func(q *model.Quota) { q.Windows[0].ThresholdNaN = true },
		"Disabled":          func(q *model.Quota) { q.Windows[1].Disabled = true },
		"HasUsed":           func(q *model.Quota) { q.Windows[0].HasUsed = true },
		"SchedResetAt":      func(q *model.Quota) { q.Windows[0].SchedResetAt = t0 },
		"HasSchedResetAt":   func(q *model.Quota) { q.Windows[1].HasSchedResetAt = true },
	}
	key := snapshotKey(base)
	for name, change := range changes {
		q := *base
		change(&q)
		if snapshotKey(&q) == key {
			t.Errorf("a change of %s is not seen", name)
		}
	}
	same := *base
	if snapshotKey(&same) != key || key == 0 {
		t.Errorf("a copy of a snapshot has another key, or the key is 0")
	}
}

// Samples may be read while the writer records (run with -race).
func TestSamplesWhileRecording(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "h.db"), t0)
	defer s.Close()
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
				for id := int64(1); id <= 50; id++ {
					for _, smp := range s.Samples(id) {
						if smp.State == "" {
							t.Error("a sample without a state")
							return
						}
					}
				}
			}
		}
	}()
	for k := range 20 {
		at := t0.Add(time.Duration(k) * time.Minute)
		s.Record(fleet(50, at, float64(k)), model.DefaultPolicy(), at)
		s.Flush()
	}
	close(stop)
	wg.Wait()
	if got := s.Samples(50); len(got) != 20 {
		t.Fatalf("%d samples, want 20", len(got))
	}
}

// The writer reads the states' names while polls add new ones (run with -race): every
// poll brings a state the store has not seen while the writer may still be writing the
// last poll's samples, and each sample reaches the file with its own state.
func TestNewStatesWhileWriting(t *testing.T) {
	defer func(d time.Duration) { writeEvery = d }(writeEvery)
	writeEvery = time.Millisecond
	policy := model.DefaultPolicy()
	states := []func(a *model.Account){
		func(a *model.Account) {},
		func(a *model.Account) { a.Quota.Windows[0].UsedPercent = 85 },
		func(a *model.Account) { a.Quota.Windows[0].UsedPercent = 99 },
		func(a *model.Account) { a.Schedulable = false },
		func(a *model.Account) { a.Status = "error" },
		func(a *model.Account) { a.Status = "disabled" },
	}
	const accounts = 1000
	for round := range 3 { // a new store each round: every state is new to it
		path := filepath.Join(t.TempDir(), "h.db")
		s := open(t, path, t0)
		want := map[model.State]int{}
		for k, set := range states {
			at := t0.Add(time.Duration(k) * time.Minute)
			fl := fleet(accounts, at, 10)
			for i := range fl {
				fl[i].Quota.Windows[0].UsedPercent = 10
				set(&fl[i])
			}
			want[model.Judge(&fl[0], policy, at).State] += accounts
			s.Record(fl, policy, at)
		}
		if len(want) != len(states) {
			t.Fatalf("the polls judge to %v: want a new state each", want)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		db, err := sql.Open("sqlite", "file:"+path)
		if err != nil {
			t.Fatal(err)
		}
		got := map[model.State]int{}
		rows, err := db.Query("SELECT state, COUNT(*) FROM readable GROUP BY state")
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var st string
			var n int
			if err := rows.Scan(&st, &n); err != nil {
				t.Fatal(err)
			}
			got[model.State(st)] = n
		}
		rows.Close()
		db.Close()
		if !maps.Equal(got, want) {
			t.Fatalf("round %d: samples by state %v, want %v", round, got, want)
		}
	}
}
