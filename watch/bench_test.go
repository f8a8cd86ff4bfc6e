package watch

import (
	"context"
	"testing"
	"time"

	"github.com/quotatop/quotatop/events"
	"github.com/quotatop/quotatop/metrics"
	"github.com/quotatop/quotatop/model"
	"github.com/quotatop/quotatop/source"
	"github.com/quotatop/quotatop/source/redistest"
)

// BenchmarkPoll10k measures what events and metrics add to a 10,000-account poll read
// from a real redis-server: each iteration times the bare poll (read and judge) and the
// full one (read, judge, detect events, update metrics) back to back, so both see the
// same machine load, and reports the overhead in percent (the budget is 10 %).
func BenchmarkPoll10k(b *testing.B) {
	srv := redistest.Start(b)
	now := time.Now()
	redistest.Seed(b, srv.Client(), redistest.Fleet(10000, "sched:", now))
	r, err := source.OpenRedis(source.Conn{URL: srv.URL(), Timeout: 10 * time.Second}, "sched:")
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	ctx := context.Background()
	policy := model.DefaultPolicy()
	m := metrics.New(metrics.Options{})
	p := &Pipeline{Policy: policy, Detector: events.New(events.DefaultConfig()), Metrics: m}

	// tJudge and tObserve time the part after the read, which is all events and metrics
	// change, so the added cost can also be read apart from the read's noise.
	var tJudge, tObserve time.Duration
	bare := func() {
		accounts, err := r.Read(ctx)
		if err != nil {
			b.Fatal(err)
		}
		t := time.Now()
		js := make([]model.Judgement, len(accounts))
		for i := range accounts {
			js[i] = model.Judge(&accounts[i], policy, now)
		}
		tJudge += time.Since(t)
	}
	full := func() {
		t := time.Now()
		accounts, err := r.Read(ctx)
		if err != nil {
			b.Fatal(err)
		}
		t2 := time.Now()
		p.Observe(now, t2.Sub(t), accounts, nil)
		tObserve += time.Since(t2)
	}
	bare()
	full() // the baseline poll
	var tBare, tFull time.Duration
	tJudge, tObserve = 0, 0
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		// Alternate the order so neither always runs on a warm cache.
		first, second := bare, full
		if i%2 == 1 {
			first, second = full, bare
		}
		t1 := time.Now()
		first()
		t2 := time.Now()
		second()
		t3 := time.Now()
		if i%2 == 0 {
			tBare, tFull = tBare+t2.Sub(t1), tFull+t3.Sub(t2)
		} else {
			tFull, tBare = tFull+t2.Sub(t1), tBare+t3.Sub(t2)
		}
	}
	b.ReportMetric(float64(tBare.Milliseconds())/float64(b.N), "bare-ms/poll")
	b.ReportMetric(float64(tFull.Milliseconds())/float64(b.N), "full-ms/poll")
	b.ReportMetric(100*(float64(tFull)/float64(tBare)-1), "overhead-%")
	b.ReportMetric(100*float64(tObserve-tJudge)/float64(tBare), "added-%")
}
