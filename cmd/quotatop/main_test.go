package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/quotatop/quotatop/source/redistest"
)

var binary string

// TestMain builds the real binary once, with a version injected the way the release
// build injects it.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "quotatop-bin")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "quotatop")
	// Nothing a test starts writes history or audit files into the real home.
	os.Setenv("XDG_STATE_HOME", filepath.Join(dir, "state"))
	build := exec.Command("go", "build", "-ldflags", "-X main.version=v9.9.9-test -X main.commit=abc1234 -X main.date=2026-11-26T00:00:00Z", "-o", binary, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		panic("build quotatop: " + err.Error())
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type result struct {
	stdout, stderr string
	code           int
}

func runBinary(t *testing.T, env []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}, env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("quotatop %v hung", args)
	}
	return result{out.String(), errb.String(), cmd.ProcessState.ExitCode()}
}

const canary = "sk-live-THIS-MUST-NEVER-BE-SHOWN"

// seedFixtures puts the shared fixtures and a small fleet into a real Redis: 24 accounts
// (the anthropic fixture, ID 9, replaces the fleet's account 9).
func seedFixtures(t *testing.T) *redistest.Server {
	srv := redistest.Start(t)
	values := redistest.Fleet(20, "sched:", time.Now())
	for id, file := range map[string]string{"42": "oauth", "77": "apikey-secret", "1203": "quirks"} {
		b, err := os.ReadFile(filepath.Join("..", "..", "source", "testdata", "fixtures", "sched-meta-openai-"+file+".json"))
		if err != nil {
			t.Fatal(err)
		}
		values["sched:meta:"+id] = string(b)
	}
	b, _ := os.ReadFile(filepath.Join("..", "..", "source", "testdata", "fixtures", "sched-meta-anthropic-oauth.json"))
	values["sched:meta:9"] = string(b)
	values["sched:meta:5000"] = `{"ID":5000,"Extra":{"codex_5h_used_perc`
	redistest.Seed(t, srv.Client(), values)
	return srv
}

func TestOnceJSON(t *testing.T) {
	srv := seedFixtures(t)
	r := runBinary(t, []string{"QUOTATOP_REDIS=" + srv.URL()}, "--once", "--output", "json")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var doc struct {
		GeneratedAt time.Time `json:"generated_at"`
		Source      string    `json:"source"`
		Prefix      string    `json:"prefix"`
		Accounts    []struct {
			ID          int64    `json:"id"`
			Name        string   `json:"name"`
			Platform    string   `json:"platform"`
			Type        string   `json:"type"`
			Status      string   `json:"status"`
			Schedulable bool     `json:"schedulable"`
			State       string   `json:"state"`
			Reasons     []string `json:"reasons"`
			UpdatedAt   *string  `json:"updated_at"`
			AgeSeconds  *int64   `json:"age_seconds"`
			Stale       bool     `json:"stale"`
			Windows     map[string]struct {
				UsedPercent      float64 `json:"used_percent"`
				ThresholdPercent float64 `json:"threshold_percent"`
				ThresholdSource  string  `json:"threshold_source"`
				ResetAt          *string `json:"reset_at"`
				Reset            bool    `json:"reset"`
			} `json:"windows"`
		} `json:"accounts"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, r.stdout)
	}
	if doc.Source != srv.URL() || doc.Prefix != "sched:" || time.Since(doc.GeneratedAt) > time.Minute || len(doc.Accounts) != 24 {
		t.Fatalf("header or count wrong: %s %s %v %d", doc.Source, doc.Prefix, doc.GeneratedAt, len(doc.Accounts))
	}
	byID := map[int64]int{}
	for i, a := range doc.Accounts {
		byID[a.ID] = i
	}
	// The oauth fixture's snapshot is from August: far beyond 2h, so stale, and its 5h
	// reset (Aug 21 23:01 +08:00) has long passed.
	oauth := doc.Accounts[byID[42]]
	if oauth.Name != "codex-pro-07" || !oauth.Stale || oauth.UpdatedAt == nil || *oauth.AgeSeconds < 3600*24 ||
		oauth.Windows["5h"].UsedPercent != 37 || oauth.Windows["5h"].ThresholdPercent != 95 ||
		oauth.Windows["5h"].ThresholdSource != "account" || !oauth.Windows["5h"].Reset || oauth.Windows["7d"].ThresholdSource != "none" {
		t.Fatalf("oauth fixture: %+v", oauth)
	}
	// The quirks fixture expired on Sep 1 with auto-pause on; with no snapshot time its
	// 5h window counts as fresh and never resets, so it stays paused too.
	quirks := doc.Accounts[byID[1203]]
	if quirks.State != "blocked" || strings.Join(quirks.Reasons, ",") != "expired,quota_5h,no_timestamp" ||
		quirks.UpdatedAt != nil || quirks.AgeSeconds != nil || !quirks.Windows["7d"].Reset || strings.ContainsRune(quirks.Name, 0x1b) {
		t.Fatalf("quirks fixture: %+v", quirks)
	}
	if doc.Accounts[byID[5000]].State != "invalid" || doc.Accounts[byID[9]].State != "error" {
		t.Fatalf("invalid/error: %+v %+v", doc.Accounts[byID[5000]], doc.Accounts[byID[9]])
	}
	if doc.Accounts[byID[10]].State != "paused" || doc.Accounts[byID[10]].Reasons[0] != "quota_5h" {
		t.Fatalf("account 10 should be paused by 5h: %+v", doc.Accounts[byID[10]])
	}
}

func TestOnceTableAndCSV(t *testing.T) {
	srv := seedFixtures(t)
	env := []string{"REDIS_URL=" + srv.URL()}
	table := runBinary(t, env, "--once")
	if table.code != 0 || !strings.Contains(table.stdout, "codex-pro-07") || !strings.Contains(table.stdout, "⊖ paused") {
		t.Fatalf("table (exit %d):\n%s%s", table.code, table.stdout, table.stderr)
	}
	for _, line := range strings.Split(strings.TrimSpace(table.stdout), "\n") {
		if w := len([]rune(line)); w > 80 && !strings.HasPrefix(line, "read ") {
			t.Errorf("table line wider than 80 columns (%d): %q", w, line)
		}
	}
	c := runBinary(t, env, "--once", "--output", "csv")
	records, err := csv.NewReader(strings.NewReader(c.stdout)).ReadAll()
	if err != nil || c.code != 0 {
		t.Fatalf("csv: %v exit %d", err, c.code)
	}
	if len(records) != 25 || records[0][0] != "id" || records[0][6] != "state" {
		t.Fatalf("csv shape: %d rows, header %v", len(records), records[0])
	}
}

func TestSecretsNeverPrinted(t *testing.T) {
	srv := seedFixtures(t)
	for _, format := range []string{"table", "json", "csv"} {
		r := runBinary(t, []string{"QUOTATOP_REDIS=" + srv.URL()}, "--once", "--output", format)
		if strings.Contains(r.stdout+r.stderr, canary) || strings.Contains(r.stdout+r.stderr, "\x1b") {
			t.Fatalf("%s output leaks the api key or an escape sequence", format)
		}
	}
	r := runBinary(t, nil, "--demo", "--once", "--output", "json")
	if r.code != 0 || strings.Contains(r.stdout+r.stderr, canary) {
		t.Fatalf("demo output leaks the api key (exit %d)", r.code)
	}
}

func TestExitCodes(t *testing.T) {
	srv := seedFixtures(t)
	env := []string{"QUOTATOP_REDIS=" + srv.URL()}
	cases := []struct {
		name string
		env  []string
		args []string
		code int
		err  string
	}{
		{"fail-on matched", env, []string{"--once", "--fail-on", "invalid,paused"}, 3, "1 in state invalid, "},
		{"fail-on names every match", env, []string{"--once", "--fail-on", "paused,invalid"}, 3, " in state paused, 1 in state invalid (--fail-on)"},
		{"no keys under the prefix", env, []string{"--once", "--prefix", "sched"}, 0, "no schedmeta:* keys in"},
		{"a typo in a platform", env, []string{"--once", "--scheduling-thresholds", "opneai=50"}, 1, `"opneai" is not a platform`},
		{"fail-on not matched", env, []string{"--once", "--fail-on", "disabled"}, 0, ""},
		{"unknown state", env, []string{"--once", "--fail-on", "sleepy"}, 1, `unknown state "sleepy"`},
		{"bad format", env, []string{"--once", "--output", "xml"}, 1, "use table, json or csv"},
		{"bad flag", env, []string{"--bogus"}, 1, "unknown flag --bogus (see --help)"},
		{"bad threshold", env, []string{"--once", "--default-threshold-5h", "150"}, 1, "percent from 0 to 100"},
		{"bad url", nil, []string{"--once", "--redis", "http://x"}, 1, "unknown scheme"},
		{"dead redis", nil, []string{"--once", "--redis", "redis://127.0.0.1:1/0"}, 2, "cannot read the snapshot storage"},
		{"password stays out of errors", nil, []string{"--once", "--redis", "redis://:hunter2@127.0.0.1:1/0"}, 2, "xxxxx"},
		{"version", nil, []string{"--version"}, 0, ""},
		{"a huge timeout", nil, []string{"--once", "--timeout", "2562047h"}, 1, "--timeout must be at most 1h"},
		{"a mistyped config command", nil, []string{"config", "chek"}, 1, `unknown config command "chek"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := runBinary(t, c.env, c.args...)
			if r.code != c.code || !strings.Contains(r.stderr, c.err) || strings.Contains(r.stderr, "hunter2") {
				t.Fatalf("exit %d, want %d; stderr %q should contain %q", r.code, c.code, r.stderr, c.err)
			}
			if c.code != 0 && strings.Count(strings.TrimSpace(r.stderr), "\n") > 0 {
				t.Fatalf("error is not one sentence: %q", r.stderr)
			}
		})
	}
}

func TestVersionIsInjected(t *testing.T) {
	r := runBinary(t, nil, "--version")
	if r.stdout != "quotatop v9.9.9-test (commit abc1234, built 2026-11-26T00:00:00Z)\n" {
		t.Fatalf("got %q", r.stdout)
	}
}

func TestAdminKeyHandling(t *testing.T) {
	r := runBinary(t, nil, "--admin-key", "admin-deadbeef", "--once")
	if r.code != 1 || !strings.Contains(r.stderr, "refused") || strings.Contains(r.stderr, "deadbeef") {
		t.Fatalf("a key on argv: exit %d %q", r.code, r.stderr)
	}
	srv := seedFixtures(t)
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "key")
	os.WriteFile(keyFile, []byte("admin-0123\n"), 0o644)
	// The API is unreachable: --once warns about thresholds and carries on with the flags.
	r = runBinary(t, []string{"QUOTATOP_REDIS=" + srv.URL()}, "--once", "--api", "http://127.0.0.1:1", "--admin-key-file", keyFile, "--output", "json")
	if r.code != 0 || !strings.Contains(r.stderr, "readable by other users") || !strings.Contains(r.stderr, "cannot read the gateway's thresholds") || !strings.Contains(r.stdout, `"thresholds_error"`) || strings.Contains(r.stderr+r.stdout, "admin-0123") {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	r = runBinary(t, []string{"QUOTATOP_REDIS=" + srv.URL()}, "--once", "--api", "http://127.0.0.1:1")
	if r.code != 1 || !strings.Contains(r.stderr, "QUOTATOP_ADMIN_KEY") {
		t.Fatalf("--api without a key: exit %d %q", r.code, r.stderr)
	}
}

// The demo's one-shot judges with the simulated gateway's thresholds, as its monitor
// does: before, it fell back to the flags and called three scheduling-threshold pauses
// warn.
func TestDemoOnceJudgesWithTheGatewaysThresholds(t *testing.T) {
	r := runBinary(t, nil, "--demo", "--once", "--output", "json", "--history", "off")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var doc struct {
		ThresholdsSource string `json:"thresholds_source"`
		Accounts         []struct {
			Name    string   `json:"name"`
			State   string   `json:"state"`
			Reasons []string `json:"reasons"`
		} `json:"accounts"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.ThresholdsSource != "gateway" {
		t.Fatalf("thresholds from %q, want the gateway's", doc.ThresholdsSource)
	}
	for _, a := range doc.Accounts {
		if a.Name == "codex-sched-thr" && (a.State != "paused" || !slices.Contains(a.Reasons, "sched_threshold_5h")) {
			t.Fatalf("codex-sched-thr is %s %v, want paused by sched_threshold_5h", a.State, a.Reasons)
		}
	}
}

// Without a terminal the live monitor refuses before it connects or creates a history
// file (a failed start left a database behind for the mistyped address).
func TestNoTerminalRefusesFirst(t *testing.T) {
	state := t.TempDir()
	r := runBinary(t, []string{"XDG_STATE_HOME=" + state}, "--redis", "redis://127.0.0.1:1/0")
	if r.code != exitUsage || !strings.Contains(r.stderr, "needs a terminal") {
		t.Fatalf("exit %d: %q", r.code, r.stderr)
	}
	if entries, _ := os.ReadDir(state); len(entries) != 0 {
		t.Fatalf("it left %v in the state directory", entries)
	}
}
