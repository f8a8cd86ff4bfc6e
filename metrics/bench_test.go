package metrics

import (
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/quotatop/quotatop/model"
)

// bigFleet is n judged accounts in 50 groups, most with both windows, a few paused.
func bigFleet(n int) ([]model.Account, []model.Judgement) {
	accounts := make([]model.Account, n)
	js := make([]model.Judgement, n)
	p := model.DefaultPolicy()
	for i := range accounts {
		q := &model.Quota{UpdatedAt: t0.Add(-time.Duration(i%600) * time.Second), HasUpdatedAt: true}
		q.Windows[0] = model.WindowSnapshot{Present: true, UsedPercent: float64(i % 101), ResetAt: t0.Add(time.Hour)}
		q.Windows[1] = model.WindowSnapshot{Present: i%7 != 0, UsedPercent: float64(i % 53), ResetAt: t0.Add(72 * time.Hour)}
		accounts[i] = model.Account{ID: int64(i + 1), Key: fmt.Sprintf("sched:meta:%d", i+1), Name: fmt.Sprintf("acct-%05d@example.com", i),
			Platform: "openai", Type: "oauth", Status: "active", Schedulable: true, GroupIDs: []int64{int64(i % 50)}, Quota: q}
		js[i] = model.Judge(&accounts[i], p, t0)
	}
	return accounts, js
}

// BenchmarkScrape is one Prometheus scrape of a 10,000-account fleet over loopback HTTP,
// the body read to the end, compressed as Prometheus asks by default and not: what a
// scraper costs the monitor it scrapes.
func BenchmarkScrape(b *testing.B) {
	m := New(Options{Projector: projector{}, Clock: func() time.Time { return t0 }})
	accounts, js := bigFleet(10000)
	m.Update(t0, time.Millisecond, model.DefaultPolicy(), accounts, js)
	base := listen(b, m)
	for _, enc := range []string{"gzip", "identity"} {
		b.Run(enc, func(b *testing.B) {
			req, _ := http.NewRequest("GET", base+"/metrics", nil)
			req.Header.Set("Accept-Encoding", enc)
			b.ReportAllocs()
			var size int64
			for b.Loop() {
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				size, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					b.Fatalf("status %d", resp.StatusCode)
				}
			}
			b.ReportMetric(float64(size), "wire-bytes")
		})
	}
}

// BenchmarkUpdate is what a poll costs the metrics: the snapshot of 10,000 accounts.
func BenchmarkUpdate(b *testing.B) {
	m := New(Options{})
	accounts, js := bigFleet(10000)
	b.ReportAllocs()
	for b.Loop() {
		m.Update(t0, time.Millisecond, model.DefaultPolicy(), accounts, js)
	}
}
