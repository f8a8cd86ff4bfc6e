package history

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/quotatop/quotatop/model"
	"github.com/quotatop/quotatop/source"
	"github.com/quotatop/quotatop/source/redistest"
	"github.com/quotatop/quotatop/trend"
)

// BenchmarkPoll times a poll of 10,000 accounts (read, decode, judge) with the history
// off and on, alternating in the same run; before each poll 70 snapshots change (one
// change per account per 5 minutes at a 2 s interval). The "x-off" metric is the ratio
// (goal <= 1.10). The writer runs concurrently on the same cores, as it does live.
func BenchmarkPoll(b *testing.B) {
	const n = 10000
	srv := redistest.Start(b)
	now := time.Now()
	redistest.Seed(b, srv.Client(), redistest.Fleet(n, "sched:", now))
	ctx := context.Background()
	reader := source.NewRedis(srv.Client(), "sched:", srv.URL())
	store := open(b, filepath.Join(b.TempDir(), "h.db"), now)
	defer store.Close()
	policy := model.DefaultPolicy()
	next := 0
	change := func() {
		pipe := srv.Client().Pipeline()
		for range 70 {
			next = next%n + 1
			pipe.Set(ctx, "sched:meta:"+strconv.Itoa(next), redistest.MetaValue(int64(next), now, float64(next%90)+1, 5, time.Second), 0)
		}
		if _, err := pipe.Exec(ctx); err != nil {
			b.Fatal(err)
		}
	}
	poll := func(record bool) time.Duration {
		start := time.Now()
		accounts, err := reader.Read(ctx)
		if err != nil || len(accounts) != n {
			b.Fatalf("read %d: %v", len(accounts), err)
		}
		for i := range accounts {
			model.Judge(&accounts[i], policy, now)
		}
		if record {
			store.Record(accounts, policy, time.Now())
		}
		return time.Since(start)
	}
	poll(true) // the first poll records every account
	store.Flush()
	var off, on time.Duration
	for b.Loop() {
		change()
		off += poll(false)
		change()
		on += poll(true)
	}
	b.ReportMetric(float64(on)/float64(off), "x-off")
	b.ReportMetric(float64(off.Microseconds())/1000/float64(b.N), "off-ms")
	b.ReportMetric(float64(on.Microseconds())/1000/float64(b.N), "on-ms")
}

// generateWeek writes eight days of accounts changing once per 5 minutes through the
// store's own insert and retention, as a live monitor leaves the file: every sample is
// written, and Retain thins them at the writer's pace (retainEvery). It returns the
// sizes of the file and of its WAL as they stand while quotatop runs, and the rows kept. The
// writer's transactions differ: one a 5-minute step here, one every writeEvery live,
// which changes what passes through the WAL, not what the file keeps.
func generateWeek(tb testing.TB, accounts int) (db, wal int64, rows int) {
	return generateWeekAt(tb, accounts, filepath.Join(tb.TempDir(), "h.db"))
}

func generateWeekAt(tb testing.TB, accounts int, path string) (db, wal int64, rows int) {
	end := t0
	start := end.Add(-Keep)
	s := open(tb, path, start)
	defer s.Close()
	step := 5 * time.Minute
	var lastRetain time.Time
	poll := make([]stored, 0, accounts)
	for at := start; at.Before(end); at = at.Add(step) {
		poll = poll[:0]
		for id := 1; id <= accounts; id++ {
			t := at.Add(time.Duration(id%300) * time.Second)
			minute := float64(t.Unix()/60) + float64(id)
			smp := trend.Sample{At: t, Present: [2]bool{true, true}, State: model.StateOK,
				Used: [2]float64{float64(int(minute*0.37)%95) + 0.5, float64(int(minute*0.011) % 99)},
				ResetAt: [2]time.Time{t.Add(time.Duration(18000-int(minute*60)%18000) * time.Second),
					t.Add(time.Duration(604800-int(minute*60)%604800) * time.Second)}}
			poll = append(poll, stored{int64(id), s.pack(smp)})
		}
		if err := s.insert(poll); err != nil {
			tb.Fatal(err)
		}
		if now := at.Add(step); now.Sub(lastRetain) >= retainEvery {
			if err := s.Retain(now); err != nil {
				tb.Fatal(err)
			}
			lastRetain = now
		}
	}
	s.Flush()
	var size [2]int64
	for i, name := range []string{path, path + "-wal"} {
		info, err := os.Stat(name)
		if err != nil {
			tb.Fatal(err)
		}
		size[i] = info.Size()
	}
	return size[0], size[1], count(tb, path, "samples") + count(tb, path, "hourly")
}

// TestSizeEightDays checks the size budget on a small fleet, scaled to 10,000 accounts:
// the file grows with rows, and the row count is exact but for the hour the retention
// has not thinned yet (it thins whole hours). The WAL is counted as it is, not scaled:
// walLimit bounds it at any fleet size.
func TestSizeEightDays(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a week of samples")
	}
	const accounts = 200
	db, wal, rows := generateWeek(t, accounts)
	want := accounts * (48*12 + 6*24)
	if rows < want-2*accounts || rows > want+12*accounts {
		t.Fatalf("%d rows kept, want about %d", rows, want)
	}
	if wal > int64(walLimit)+1<<20 {
		t.Fatalf("the WAL stays at %d bytes, over walLimit (%d) by more than a poll's write", wal, walLimit)
	}
	scaled := float64(db)/float64(rows)*float64(want)*10000/accounts + float64(wal)
	t.Logf("%d accounts: %d bytes for %d rows (%.1f bytes a row) and a %d-byte WAL; 10,000 accounts: %.0f MB",
		accounts, db, rows, float64(db)/float64(rows), wal, scaled/1e6)
	if scaled >= 200e6 {
		t.Fatalf("8 days of 10,000 accounts would take %.0f MB, over the 200 MB budget", scaled/1e6)
	}
}

// BenchmarkSizeEightDays builds the real thing: 10,000 accounts, 8 days; it reports MB,
// the WAL included. Run it once: go test -run '^$' -bench SizeEightDays -benchtime 1x ./history
func BenchmarkSizeEightDays(b *testing.B) {
	for b.Loop() {
		db, wal, rows := generateWeek(b, 10000)
		b.ReportMetric(float64(db+wal)/1e6, "MB")
		b.ReportMetric(float64(wal)/1e6, "WAL-MB")
		b.ReportMetric(float64(rows), "rows")
		b.ReportMetric(float64(db)/float64(rows), "bytes/row")
	}
}
