package history

import (
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/quotatop/quotatop/model"
)

const benchAccounts = 10000

// generateRecent writes Recent of history for n accounts through Record, as a live
// monitor does: every account's snapshot changes once per 5 minutes, the accounts
// staggered over those 5 minutes. It returns the file and the time of its last poll.
func generateRecent(tb testing.TB, n int) (string, time.Time) {
	path := filepath.Join(tb.TempDir(), "h.db")
	end := t0
	s := open(tb, path, end.Add(-Recent))
	defer s.Close()
	for at := end.Add(-Recent); !at.After(end); at = at.Add(5 * time.Minute) {
		s.Record(changingFleet(n, at), model.DefaultPolicy(), at)
		s.Flush()
	}
	if n := s.Note(); n != "" {
		tb.Fatal(n)
	}
	return path, end
}

// changingFleet is n accounts as polled at now: each one's snapshot was taken in the
// last 5 minutes and its use grows with time.
func changingFleet(n int, now time.Time) []model.Account {
	out := fleet(n, now, 0)
	for i := range out {
		q := out[i].Quota
		q.UpdatedAt = now.Add(-time.Duration(i%300) * time.Second)
		minutes := float64(q.UpdatedAt.Unix()/60) + float64(i)
		q.Windows[0].UsedPercent = float64(int(minutes*0.37)%95) + 0.25
		q.Windows[1].UsedPercent = float64(int(minutes*0.011)%99) + 0.5
	}
	return out
}

// heapInUse is the live heap after a collection.
func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// BenchmarkOpen10k times opening a file holding Recent of samples of 10,000 accounts
// (what a one-shot does first) and reports the heap the open store holds per account,
// right after opening and after a first poll in which every snapshot changed.
func BenchmarkOpen10k(b *testing.B) {
	path, now := generateRecent(b, benchAccounts)
	pollAccounts, pollAt := changingFleet(benchAccounts, now.Add(time.Minute)), now.Add(time.Minute)
	var opened, polled uint64
	for b.Loop() {
		b.StopTimer()
		before := heapInUse()
		b.StartTimer()
		s, err := Open(path, now)
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		opened = heapInUse() - before
		if len(s.Samples(1)) == 0 {
			b.Fatal("no samples loaded")
		}
		s.changes(pollAccounts, nil, model.DefaultPolicy(), pollAt)
		polled = heapInUse() - before
		s.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(opened)/benchAccounts, "heap-B/account")
	b.ReportMetric(float64(polled)/benchAccounts, "polled-B/account")
}

// BenchmarkSamples10k times what a projection reads: every account's samples.
func BenchmarkSamples10k(b *testing.B) {
	path, now := generateRecent(b, benchAccounts)
	s := open(b, path, now)
	defer s.Close()
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		for id := int64(1); id <= benchAccounts; id++ {
			n += len(s.Samples(id))
		}
		if n < benchAccounts {
			b.Fatalf("%d samples", n)
		}
	}
}

// BenchmarkChanges10k times the writer's search for changes among 10,000 accounts:
// "first-*" is the first poll after Open (every account is judged, as in a one-shot)
// with the snapshots last recorded or all new ones, "steady" a later poll in which 70
// snapshots changed.
func BenchmarkChanges10k(b *testing.B) {
	path, end := generateRecent(b, benchAccounts)
	policy := model.DefaultPolicy()
	for _, c := range []struct {
		name  string
		taken time.Time // when the polled snapshots were taken
	}{{"first-same", end}, {"first-changed", end.Add(time.Minute)}} {
		b.Run(c.name, func(b *testing.B) {
			now := end.Add(time.Minute)
			accounts := changingFleet(benchAccounts, c.taken)
			for b.Loop() {
				b.StopTimer()
				s := open(b, path, now)
				b.StartTimer()
				out := s.changes(accounts, nil, policy, now)
				b.StopTimer()
				if changed := c.taken.After(end); (len(out) == benchAccounts) != changed {
					b.Fatalf("%d changes", len(out))
				}
				s.Close()
				b.StartTimer()
			}
		})
	}
	b.Run("steady", func(b *testing.B) {
		s := open(b, path, end)
		defer s.Close()
		now := end.Add(time.Minute)
		accounts := changingFleet(benchAccounts, now)
		s.changes(accounts, nil, policy, now)
		next := 0
		for b.Loop() {
			now = now.Add(2 * time.Second)
			for range 70 {
				q := accounts[next].Quota
				q.UpdatedAt = now
				q.Windows[0].UsedPercent += 0.5
				next = (next + 1) % len(accounts)
			}
			s.changes(accounts, nil, policy, now)
		}
	})
}
