package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/quotatop/quotatop/source/redistest"
)

// fakeGateway is a loopback admin API with the given settings; locked answers 423 on
// /settings as a gateway does before its compliance notice is accepted.
func fakeGateway(t *testing.T, version string, locked bool) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	ok := func(w http.ResponseWriter, data string) {
		fmt.Fprintf(w, `{"code":0,"message":"success","data":%s}`, data)
	}
	mux.HandleFunc("GET /api/v1/admin/ops/advanced-settings", func(w http.ResponseWriter, r *http.Request) {
		ok(w, `{"openai_account_quota_auto_pause":{"default_threshold_5h":0,"default_threshold_7d":0}}`)
	})
	mux.HandleFunc("GET /api/v1/admin/settings", func(w http.ResponseWriter, r *http.Request) {
		if locked {
			w.WriteHeader(http.StatusLocked)
			fmt.Fprint(w, `{"code":"ADMIN_COMPLIANCE_ACK_REQUIRED","message":"accept the notice"}`)
			return
		}
		ok(w, `{"site_name":"x","account_scheduling_thresholds":{"openai":90,"anthropic":100,"grok":100}}`)
	})
	mux.HandleFunc("GET /api/v1/admin/system/version", func(w http.ResponseWriter, r *http.Request) {
		ok(w, `{"version":"`+version+`"}`)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// The binary's --once JSON against a real redis-server holding one account of each new
// case, with the thresholds read from a loopback admin API, then from --scheduling-thresholds.
func TestOnceJudgesLikeTheGateway(t *testing.T) {
	now := time.Now().UTC()
	ts := func(d time.Duration) string { return now.Add(d).Format(time.RFC3339Nano) }
	srv := redistest.Start(t)
	redistest.Seed(t, srv.Client(), map[string]string{
		"sched:meta:1": `{"ID":1,"Name":"inactive","Platform":"openai","Type":"oauth","Status":"inactive","Schedulable":true}`,
		"sched:meta:2": `{"ID":2,"Name":"local","Platform":"openai","Type":"apikey","Status":"active","Schedulable":true,"Extra":{"quota_limit":10,"quota_used":"10"}}`,
		"sched:meta:3": `{"ID":3,"Name":"sched","Platform":"openai","Type":"oauth","Status":"active","Schedulable":true,"Extra":{"codex_5h_used_percent":93,"codex_5h_reset_at":"` + ts(time.Hour) + `","codex_usage_updated_at":"` + ts(-time.Minute) + `"}}`,
		"sched:meta:4": `{"ID":4,"Name":"pending","Platform":"openai","Type":"oauth","Status":"active","Schedulable":true,"Extra":{"codex_5h_used_percent":100,"codex_5h_reset_at":"` + ts(time.Hour) + `","codex_usage_updated_at":"` + ts(-time.Minute) + `","auto_reset_credit_enabled":true}}`,
		"sched:meta:5": `{"ID":5,"Name":"no-offset","Platform":"openai","Type":"oauth","Status":"active","Schedulable":true,"Extra":{"codex_5h_used_percent":99,"auto_pause_5h_threshold":0.9,"codex_usage_updated_at":"` + now.Add(-5*time.Hour).Format("2006-01-02T15:04:05") + `"}}`,
		"sched:meta:6": `{"ID":6,"Name":"future","Platform":"openai","Type":"oauth","Status":"active","Schedulable":true,"Extra":{"codex_5h_used_percent":10,"codex_usage_updated_at":"` + ts(time.Hour) + `"}}`,
	})
	type doc struct {
		ThresholdsSource string `json:"thresholds_source"`
		ThresholdsError  string `json:"thresholds_error"`
		GatewayVersion   string `json:"gateway_version"`
		Accounts         []struct {
			ID      int64    `json:"id"`
			Status  string   `json:"status"`
			State   string   `json:"state"`
			Reasons []string `json:"reasons"`
		} `json:"accounts"`
	}
	keyFile := filepath.Join(t.TempDir(), "key")
	os.WriteFile(keyFile, []byte("admin-0123"), 0o600)
	run := func(args ...string) (doc, result) {
		r := runBinary(t, []string{"QUOTATOP_REDIS=" + srv.URL()}, append([]string{"--once", "--output", "json"}, args...)...)
		var d doc
		if r.code != 0 || json.Unmarshal([]byte(r.stdout), &d) != nil {
			t.Fatalf("exit %d: %s %s", r.code, r.stderr, r.stdout)
		}
		return d, r
	}
	want := map[int64]string{1: "disabled disabled", 2: "blocked local_quota", 3: "paused sched_threshold_5h,near_5h",
		4: "paused auto_reset_pending_5h,sched_threshold_5h,near_5h", 5: "paused quota_5h,no_timestamp", 6: "ok "}
	check := func(d doc) {
		t.Helper()
		for _, a := range d.Accounts {
			if got := a.State + " " + strings.Join(a.Reasons, ","); got != want[a.ID] {
				t.Errorf("account %d: %s, want %s", a.ID, got, want[a.ID])
			}
		}
		if len(d.Accounts) != len(want) || d.Accounts[0].Status != "inactive" {
			t.Errorf("accounts %+v", d.Accounts)
		}
	}

	api := fakeGateway(t, "0.1.179", false)
	d, r := run("--api", api.URL, "--admin-key-file", keyFile)
	check(d)
	if d.ThresholdsSource != "gateway" || d.ThresholdsError != "" || d.GatewayVersion != "0.1.179" || r.stderr != "" {
		t.Fatalf("header %+v, stderr %q", d, r.stderr)
	}

	// Without --api the flag carries the same thresholds.
	d, r = run("--scheduling-thresholds", "openai=90")
	check(d)
	if d.ThresholdsSource != "flags" || d.GatewayVersion != "" || r.stderr != "" {
		t.Fatalf("header %+v, stderr %q", d, r.stderr)
	}

	// A gateway whose settings are locked: the flags' scheduling thresholds (here: none,
	// so 3 is only near) beside the default thresholds read, one stderr line.
	locked := fakeGateway(t, "0.1.185", true)
	d, r = run("--api", locked.URL, "--admin-key-file", keyFile)
	if d.ThresholdsSource != "mixed" || !strings.Contains(d.ThresholdsError, "compliance") || d.GatewayVersion != "0.1.185" ||
		strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, "cannot read the gateway's thresholds") {
		t.Fatalf("header %+v, stderr %q", d, r.stderr)
	}
	for _, a := range d.Accounts {
		if a.ID == 3 && a.State != "warn" {
			t.Fatalf("account 3 judged with the gateway's thresholds although they could not be read: %+v", a)
		}
	}
}

func TestSchedulingThresholdsFlag(t *testing.T) {
	for in, want := range map[string]string{"": "anthropic=100 grok=100 openai=100", "openai=90, Anthropic=95.5": "anthropic=95.5 grok=100 openai=90", "kimi=50": "anthropic=100 grok=100 kimi=50 openai=100"} {
		m, err := parseSchedulingThresholds(in)
		if err != nil {
			t.Fatalf("%q: %v", in, err)
		}
		var parts []string
		for _, k := range []string{"anthropic", "grok", "kimi", "openai"} {
			if v, ok := m[k]; ok {
				parts = append(parts, fmt.Sprintf("%s=%v", k, v))
			}
		}
		if got := strings.Join(parts, " "); got != want {
			t.Errorf("%q: %s, want %s", in, got, want)
		}
	}
	for _, bad := range []string{"openai", "openai=0", "openai=101", "=90", "openai=NaN", "openai=x", "opneai=50", "openai=50,OpenAI=90"} {
		if _, err := parseSchedulingThresholds(bad); err == nil || !strings.Contains(err.Error(), "--scheduling-thresholds") {
			t.Errorf("%q: %v", bad, err)
		}
	}
}
