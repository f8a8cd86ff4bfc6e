package watch

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/quotatop/quotatop/events"
	"github.com/quotatop/quotatop/metrics"
	"github.com/quotatop/quotatop/model"
)

var t0 = time.Date(2026, 11, 28, 6, 0, 0, 0, time.UTC)

func textLog(buf *bytes.Buffer) *slog.Logger {
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}}))
}

func TestPipelineLogsOneLinePerEvent(t *testing.T) {
	var buf bytes.Buffer
	cfg := events.Config{Hold: 1, OutageAfter: 0}
	p := &Pipeline{Policy: model.DefaultPolicy(), Detector: events.New(cfg), Log: textLog(&buf)}
	accounts := []model.Account{{ID: 1, Name: "a", Status: "active", Schedulable: true, GroupIDs: []int64{4}}}
	p.Observe(t0, time.Millisecond, accounts, nil)
	accounts[0].Status = "disabled"
	p.Observe(t0.Add(time.Second), time.Millisecond, accounts, nil)
	p.Observe(t0.Add(2*time.Second), time.Millisecond, nil, errors.New("connection refused"))
	want := `level=ERROR msg="account #1 a ok → disabled (disabled)" kind=account_state severity=critical items=1
level=ERROR msg="group 4 has no schedulable account (0 of 1 schedulable)" kind=group severity=critical items=1
level=ERROR msg="storage unreachable for 0s: connection refused" kind=storage severity=critical
`
	if buf.String() != want {
		t.Fatalf("log\n%s\nwant\n%s", buf.String(), want)
	}
	if r := p.Recent(); len(r) != 3 || r[2].Kind != events.KindStorage {
		t.Fatalf("recent %+v", r)
	}
}

// flaky fails its first reads, then succeeds; it counts reads.
type flaky struct {
	mu    sync.Mutex
	fails int
	reads int
	done  chan struct{}
}

func (f *flaky) Read(context.Context) ([]model.Account, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads++
	if f.reads == f.fails+2 {
		close(f.done)
	}
	if f.reads <= f.fails {
		return nil, errors.New("down")
	}
	return nil, nil
}

func TestLoopSurvivesFailuresAndStops(t *testing.T) {
	var buf bytes.Buffer
	f := &flaky{fails: 3, done: make(chan struct{})}
	p := &Pipeline{Detector: events.New(events.Config{Hold: 1, OutageAfter: time.Hour})}
	l := &Loop{Reader: f, Pipeline: p, Interval: time.Millisecond, Timeout: time.Second, MaxBackoff: 2 * time.Millisecond, Log: textLog(&buf)}
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() { l.Run(ctx); close(stopped) }()
	<-f.done
	cancel()
	<-stopped
	if got := strings.Count(buf.String(), "poll failed"); got != 1 {
		t.Errorf("%d 'poll failed' lines for one failure streak, want 1:\n%s", got, buf.String())
	}
	if !strings.Contains(buf.String(), `level=INFO msg="poll succeeded again" failed_polls=3`) {
		t.Errorf("no recovery line:\n%s", buf.String())
	}
}

// down always fails, each read taking took on the test's clock.
type down struct {
	now  *time.Time
	took time.Duration
}

func (d down) Read(context.Context) ([]model.Account, error) {
	*d.now = d.now.Add(d.took)
	return nil, errors.New("connection refused")
}

// While the storage fails, the loop backs off, but polls again the moment the outage
// becomes reportable: the event comes --outage-after past the first failure (plus one
// read), not a back-off step later. Before and after, the back-off is unchanged.
func TestLoopReportsTheOutageWhenDue(t *testing.T) {
	const took = 30 * time.Millisecond
	cases := []struct {
		name                  string
		interval, outageAfter time.Duration
		sleeps                []time.Duration // every wait, in order, until the loop is stopped
	}{
		{
			// Seen: the event came at 3.6 s, after the 2 s back-off step.
			name: "500ms interval, 2s bound", interval: 500 * time.Millisecond, outageAfter: 2 * time.Second,
			sleeps: []time.Duration{500 * time.Millisecond, time.Second, 440 * time.Millisecond, 4 * time.Second, 8 * time.Second},
		},
		{
			// The 32 s step would have cut to 30 s and reported at about 62 s.
			name: "2s interval, 45s bound", interval: 2 * time.Second, outageAfter: 45 * time.Second,
			sleeps: []time.Duration{2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 14880 * time.Millisecond, 30 * time.Second},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			now := t0
			p := &Pipeline{Detector: events.New(events.Config{Hold: 1, OutageAfter: tc.outageAfter})}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var sleeps []time.Duration
			l := &Loop{Reader: down{now: &now, took: took}, Pipeline: p, Interval: tc.interval, Timeout: time.Second,
				Clock: func() time.Time { return now },
				Sleep: func(_ context.Context, d time.Duration) {
					sleeps = append(sleeps, d)
					now = now.Add(d)
					if len(sleeps) == len(tc.sleeps) {
						cancel()
					}
				}}
			l.Run(ctx)
			if !slices.Equal(sleeps, tc.sleeps) {
				t.Errorf("waits %v, want %v", sleeps, tc.sleeps)
			}
			failSince := t0.Add(took) // the first failed poll's end
			var outages []time.Time
			for _, e := range p.Recent() {
				if e.Kind == events.KindStorage {
					outages = append(outages, e.Time)
				}
			}
			if want := failSince.Add(tc.outageAfter + took); len(outages) != 1 || !outages[0].Equal(want) {
				t.Fatalf("outage events at %v after the first failure, want one at %v",
					offsets(outages, failSince), want.Sub(failSince))
			}
		})
	}
}

func offsets(ts []time.Time, from time.Time) []time.Duration {
	out := make([]time.Duration, len(ts))
	for i, t := range ts {
		out[i] = t.Sub(from)
	}
	return out
}

// The metrics export the threshold the pipeline's policy pauses at, the one in force at
// that poll: the gateway's scheduling threshold (refreshed before a poll) reaches them,
// not only the account's auto-pause threshold.
func TestPipelineMetricsUseThePolicy(t *testing.T) {
	m := metrics.New(metrics.Options{Clock: func() time.Time { return t0 }})
	p := &Pipeline{Policy: model.DefaultPolicy(), Detector: events.New(events.Config{Hold: 1}), Metrics: m}
	soon := t0.Add(time.Hour)
	q := &model.Quota{UpdatedAt: t0.Add(-time.Minute), HasUpdatedAt: true}
	q.Windows[0] = model.WindowSnapshot{Present: true, HasUsed: true, UsedPercent: 93, Threshold: 0.95,
		ResetAt: soon, HasResetAt: true, SchedResetAt: soon, HasSchedResetAt: true}
	accounts := []model.Account{{ID: 1, Platform: "openai", Status: "active", Schedulable: true, Quota: q}}
	threshold := func() string {
		t.Helper()
		rec := httptest.NewRecorder()
		m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
		for line := range strings.Lines(rec.Body.String()) {
			if strings.HasPrefix(line, `quotatop_window_threshold_ratio{account_id="1",window="5h"} `) {
				return strings.TrimSpace(line[strings.IndexByte(line, ' ')+1:])
			}
		}
		return "absent"
	}
	p.Observe(t0, time.Millisecond, accounts, nil)
	if got := threshold(); got != "0.95" {
		t.Fatalf("auto-pause threshold alone: got %s, want 0.95", got)
	}
	p.Policy.SchedulingThresholds = map[string]float64{"openai": 90}
	p.Observe(t0.Add(time.Second), time.Millisecond, accounts, nil)
	if got := threshold(); got != "0.9" {
		t.Fatalf("with openai=90 the account pauses at 0.9: got %s", got)
	}
}
