package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// apiOnlyGateway is an admin API with the account list: three accounts over two pages of
// two, or a second page that fails.
func apiOnlyGateway(t *testing.T, failSecondPage bool) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	now := time.Now().UTC()
	ts := func(d time.Duration) string { return now.Add(d).Format(time.RFC3339Nano) }
	items := []string{
		`{"id":1,"name":"paused","platform":"openai","type":"oauth","status":"active","schedulable":true,"credentials":{"plan_type":"plus"},"extra":{"codex_5h_used_percent":97,"codex_5h_reset_at":"` + ts(time.Hour) + `","codex_usage_updated_at":"` + ts(-time.Minute) + `"}}`,
		`{"id":2,"name":"own-threshold","platform":"openai","type":"oauth","status":"active","schedulable":true,"credentials":{"account_scheduling_threshold":50},"extra":{"codex_5h_used_percent":60,"codex_5h_reset_at":"` + ts(time.Hour) + `","codex_usage_updated_at":"` + ts(-time.Minute) + `"}}`,
		`{"id":3,"name":"claude","platform":"anthropic","type":"oauth","status":"active","schedulable":true,"extra":{"session_window_utilization":0.4,"passive_usage_sampled_at":"` + ts(-time.Minute) + `"}}`,
	}
	var lists atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/admin/accounts", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("x-api-key") != "k-test" {
			w.WriteHeader(401)
			return
		}
		lists.Add(1)
		page := r.URL.Query().Get("page")
		if page == "2" && failSecondPage {
			w.WriteHeader(502)
			fmt.Fprint(w, "<html>bad gateway</html>")
			return
		}
		// A page size of 2 stands in for 1000.
		list := items[:2]
		if page == "2" {
			list = items[2:]
		}
		fmt.Fprintf(w, `{"code":0,"message":"success","data":{"items":[%s],"total":3,"page":%s,"page_size":1000,"pages":2}}`, strings.Join(list, ","), page)
	})
	mux.HandleFunc("GET /api/v1/admin/", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(404)
		fmt.Fprint(w, `{"code":404,"message":"not found"}`)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, &lists
}

func TestOnceFromTheAdminAPI(t *testing.T) {
	srv, lists := apiOnlyGateway(t, false)
	// --api without --redis reads the admin API: no Redis is needed at all.
	r := runBinary(t, []string{"QUOTATOP_ADMIN_KEY=k-test"}, "--api", srv.URL, "--once", "-o", "json", "--scheduling-thresholds", "openai=90")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var doc struct {
		Source   string `json:"source"`
		Accounts []struct {
			ID      int64    `json:"id"`
			Key     string   `json:"key"`
			State   string   `json:"state"`
			Reasons []string `json:"reasons"`
		} `json:"accounts"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatal(err, r.stdout)
	}
	if doc.Source != srv.URL || len(doc.Accounts) != 3 || lists.Load() != 2 {
		t.Fatalf("source %q, %d accounts, %d list calls", doc.Source, len(doc.Accounts), lists.Load())
	}
	got := map[int64]string{}
	for _, a := range doc.Accounts {
		got[a.ID] = a.State + " " + strings.Join(a.Reasons, ",")
		if a.Key != fmt.Sprintf("api:account:%d", a.ID) {
			t.Fatalf("key %q", a.Key)
		}
	}
	// 1: the platform's 90 % trips at 97 %; 2: its own 50 % trips at 60 %.
	if !strings.HasPrefix(got[1], "paused sched_threshold_5h") || !strings.HasPrefix(got[2], "paused sched_threshold_5h") || !strings.HasPrefix(got[3], "ok") {
		t.Fatalf("judgements %v", got)
	}
}

func TestOnceFromTheAdminAPIPageFails(t *testing.T) {
	srv, _ := apiOnlyGateway(t, true)
	r := runBinary(t, []string{"QUOTATOP_ADMIN_KEY=k-test"}, "--source", "api", "--api", srv.URL, "--once")
	want := "quotatop: cannot read the account list of the admin API at " + srv.URL + ": page 2 of the account list: the gateway answered HTTP 502 with something that is not JSON: a proxy in front of it may be failing\n"
	if r.code != exitStorage || !strings.HasSuffix(r.stderr, want) || r.stdout != "" {
		t.Fatalf("exit %d, stderr %q, stdout %q", r.code, r.stderr, r.stdout)
	}
}

func TestSourceAPIFlags(t *testing.T) {
	r := runBinary(t, nil, "--source", "api", "--once")
	if r.code != exitUsage || !strings.Contains(r.stderr, "--source api reads the gateway's admin API: give its URL with --api") || strings.Count(r.stderr, "\n") != 1 {
		t.Fatalf("exit %d: %q", r.code, r.stderr)
	}
	r = runBinary(t, nil, "--source", "ftp", "--once")
	if r.code != exitUsage || !strings.Contains(r.stderr, `--source "ftp": use redis or api`) {
		t.Fatalf("exit %d: %q", r.code, r.stderr)
	}
	// An API source needs a credential like every admin call.
	r = runBinary(t, nil, "--api", "http://127.0.0.1:1", "--once")
	if r.code != exitUsage || !strings.Contains(r.stderr, "--api needs credentials") {
		t.Fatalf("exit %d: %q", r.code, r.stderr)
	}
}

// The demo's simulated admin API serves the list: --demo --source api shows the fleet
// (less its corrupt values, which have no database row) judged with the thresholds the
// demo gateway publishes. demo/api_list_test.go compares both sources account by account.
func TestDemoThroughTheAdminAPI(t *testing.T) {
	var d struct {
		Source   string `json:"source"`
		Accounts []struct {
			State   string `json:"state"`
			Invalid string `json:"invalid"`
		} `json:"accounts"`
		ThresholdsSource string `json:"thresholds_source"`
	}
	r := runBinary(t, nil, "--demo", "--once", "-o", "json", "--source", "api")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if err := json.Unmarshal([]byte(r.stdout), &d); err != nil {
		t.Fatal(err)
	}
	states := map[string]int{}
	for _, a := range d.Accounts {
		states[a.State]++
		if a.Invalid != "" {
			t.Fatalf("an invalid account from the API: %q", a.Invalid)
		}
	}
	if len(d.Accounts) < 40 || len(states) < 6 || d.ThresholdsSource != "gateway" || !strings.HasPrefix(d.Source, "http://127.0.0.1:") {
		t.Fatalf("%d accounts, states %v, thresholds %q, source %q", len(d.Accounts), states, d.ThresholdsSource, d.Source)
	}
}

// A context with an api and no redis reads the admin API, with the key its variable names.
func TestContextWithOnlyAnAPI(t *testing.T) {
	srv, lists := apiOnlyGateway(t, false)
	dir := t.TempDir()
	file := dir + "/config.yaml"
	if err := os.WriteFile(file, []byte("current: gw\ncontexts:\n  - name: gw\n    api: "+srv.URL+"\n    admin_key_env: GW_KEY\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := runBinary(t, []string{"GW_KEY=k-test", "QUOTATOP_CONFIG=" + file}, "--once", "-o", "csv")
	if r.code != 0 || lists.Load() != 2 || strings.Count(r.stdout, "\n") != 4 {
		t.Fatalf("exit %d, %d list calls: %s%s", r.code, lists.Load(), r.stdout, r.stderr)
	}
}
