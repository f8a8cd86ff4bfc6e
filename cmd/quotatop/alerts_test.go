package main

import (
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/quotatop/quotatop/events"
	"github.com/quotatop/quotatop/model"
	"github.com/quotatop/quotatop/tui"
	"github.com/quotatop/quotatop/watch"
)

// The live monitor's screen hides stderr: what the notifiers log (a failed delivery, a
// webhook file others can read) comes back with the next poll's events, bounded.
func TestLiveMonitorShowsWhatTheNotifiersLog(t *testing.T) {
	problems := newLoggedProblems()
	log := slog.New(problems)
	log.Info("delivered") // not a problem
	log.With("sink", "webhook").Warn("notification failed", "err", "HTTP 500\x1b[2J")
	for range 2 * maxProblems {
		log.Error("notifications dropped")
	}
	a := tuiAlerts{mu: new(sync.Mutex), p: &watch.Pipeline{Policy: model.DefaultPolicy(), Detector: events.New(events.DefaultConfig())},
		forecastProjector: &forecastProjector{}, problems: problems}
	now := time.Now()
	got := a.Observe(now, time.Millisecond, nil, model.DefaultPolicy(), nil, func(tui.Judged) {})
	if len(got) != maxProblems || got[0].Text != "notification failed; sink webhook; err HTTP 500␛[2J" || got[0].Severity != "warning" {
		t.Fatalf("%d alerts, first %+v", len(got), got[0])
	}
	if again := a.Observe(now.Add(time.Second), time.Millisecond, nil, model.DefaultPolicy(), nil, func(tui.Judged) {}); len(again) != 0 {
		t.Fatalf("shown twice: %+v", again)
	}
}
