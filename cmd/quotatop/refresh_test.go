package main

import (
	"bytes"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/quotatop/quotatop/events"
	"github.com/quotatop/quotatop/model"
	"github.com/quotatop/quotatop/source"
	"github.com/quotatop/quotatop/watch"
)

// watch's thresholds: learning the gateway's is a baseline, not a wave of state changes,
// and a short failure of the admin API keeps the last values read instead of flipping
// every account the gateway's threshold pauses back and forth.
func TestWatchKeepsTheGatewaysThresholdsThroughAFailure(t *testing.T) {
	var up atomic.Bool
	mux := http.NewServeMux()
	answer := func(data string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if !up.Load() {
				w.WriteHeader(http.StatusBadGateway)
				fmt.Fprint(w, `{"code":502,"message":"bad gateway"}`)
				return
			}
			fmt.Fprintf(w, `{"code":0,"message":"success","data":%s}`, data)
		}
	}
	mux.HandleFunc("GET /api/v1/admin/ops/advanced-settings", answer(`{"openai_account_quota_auto_pause":{"default_threshold_5h":0,"default_threshold_7d":0}}`))
	mux.HandleFunc("GET /api/v1/admin/settings", answer(`{"account_scheduling_thresholds":{"openai":90}}`))
	mux.HandleFunc("GET /api/v1/admin/system/version", answer(`{"version":"0.1.179"}`))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	admin, err := source.NewAdmin(source.AdminConfig{BaseURL: srv.URL, Key: "k"})
	if err != nil {
		t.Fatal(err)
	}

	now := time.Now()
	account := model.Account{ID: 3, Name: "sched", Platform: "openai", Type: "oauth", Status: "active", Schedulable: true,
		Quota: &model.Quota{UpdatedAt: now.Add(-time.Minute), HasUpdatedAt: true}}
	w := &account.Quota.Windows[0]
	w.Present, w.HasUsed, w.UsedPercent = true, true, 93
	w.ResetAt, w.HasResetAt, w.SchedResetAt, w.HasSchedResetAt = now.Add(time.Hour), true, now.Add(time.Hour), true

	var log bytes.Buffer
	pl := &watch.Pipeline{Policy: model.DefaultPolicy(), Detector: events.New(events.DefaultConfig())}
	r := &thresholdRefresher{admin: admin, pl: pl, log: slog.New(slog.NewTextHandler(&log, nil))} // due at every call
	refresher := func() { r.refresh(t.Context()) }
	step := 0
	polls := func(what string) {
		for range 3 {
			step++
			at := now.Add(time.Duration(step) * time.Second)
			if evs := pl.Observe(at, time.Millisecond, []model.Account{account}, nil); len(evs) > 0 {
				t.Fatalf("%s: %s", what, evs[0].Summary)
			}
		}
	}

	refresher() // the gateway is down at start: the flags judge
	if !strings.Contains(log.String(), "judging with the flags' values") {
		t.Fatalf("log %s", log.String())
	}
	polls("judged with the flags")
	up.Store(true)
	refresher()
	if got := pl.Policy.SchedulingThresholds["openai"]; got != 90 {
		t.Fatalf("the gateway's threshold was not taken: %v", got)
	}
	polls("the gateway's thresholds learned")
	up.Store(false)
	refresher()
	if got := pl.Policy.SchedulingThresholds["openai"]; got != 90 {
		t.Fatalf("a failed read dropped the gateway's threshold: %v", got)
	}
	if !strings.Contains(log.String(), "judging with the last values read") {
		t.Fatalf("log %s", log.String())
	}
	polls("the admin API failed for a while")
}
