package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/quotatop/quotatop/source/redistest"
)

// tmux drives the real binary in a real terminal, on a private tmux server.
type tmux struct {
	t      *testing.T
	socket string
}

func startTmux(t *testing.T, width, height int, command string) *tmux {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		if os.Getenv("QUOTATOP_REQUIRE_TMUX") == "1" {
			t.Fatal("tmux is required (QUOTATOP_REQUIRE_TMUX=1) but not on PATH")
		}
		t.Skip("tmux not on PATH: skipping the end-to-end test")
	}
	tm := &tmux{t: t, socket: fmt.Sprintf("quotatop-test-%d-%d", os.Getpid(), time.Now().UnixNano())}
	tm.run("-f", "/dev/null", "new-session", "-d", "-s", "qt", "-x", fmt.Sprint(width), "-y", fmt.Sprint(height), "-e", "TERM=xterm-256color", command)
	tm.run("set-option", "-g", "remain-on-exit", "on")
	t.Cleanup(func() { exec.Command("tmux", "-L", tm.socket, "kill-server").Run() })
	return tm
}

func (tm *tmux) run(args ...string) string {
	tm.t.Helper()
	out, err := exec.Command("tmux", append([]string{"-L", tm.socket}, args...)...).CombinedOutput()
	if err != nil {
		tm.t.Fatalf("tmux %v: %v\n%s", args, err, out)
	}
	return string(out)
}

func (tm *tmux) screen() string { return tm.run("capture-pane", "-p", "-t", "qt") }

func (tm *tmux) keys(keys ...string) { tm.run(append([]string{"send-keys", "-t", "qt"}, keys...)...) }

// waitFor polls the screen until cond holds, failing with the screen after timeout.
func (tm *tmux) waitFor(what string, timeout time.Duration, cond func(screen string) bool) string {
	tm.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		s := tm.screen()
		if cond(s) {
			return s
		}
		if time.Now().After(deadline) {
			tm.t.Fatalf("timed out waiting for %s; screen:\n%s", what, s)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func contains(sub string) func(string) bool {
	return func(s string) bool { return strings.Contains(s, sub) }
}

func TestLiveMonitorInTmux(t *testing.T) {
	srv := redistest.Start(t)
	fleet := redistest.Fleet(60, "sched:", time.Now())
	redistest.Seed(t, srv.Client(), fleet)
	script := filepath.Join(t.TempDir(), "run.sh")
	os.WriteFile(script, []byte(fmt.Sprintf("#!/bin/sh\nQUOTATOP_REDIS=%s %s --interval 500ms --timeout 1s\necho EXITED:$?\nsleep 60\n", srv.URL(), binary)), 0o755)
	tm := startTmux(t, 120, 40, script)

	tm.waitFor("the fleet", 15*time.Second, contains("60 accounts"))
	s := tm.waitFor("rows", 5*time.Second, contains("codex-pro-00010"))
	if !strings.Contains(s, "⊖ paused") || !strings.Contains(s, "↻ stale_probe") {
		t.Fatalf("states missing:\n%s", s)
	}

	tm.keys("/", "00020", "Enter")
	s = tm.waitFor("the filter", 5*time.Second, contains("1 of 60 shown"))
	if !strings.Contains(s, "codex-pro-00020") || strings.Contains(s, "codex-pro-00010") {
		t.Fatalf("filter wrong:\n%s", s)
	}
	tm.keys("Enter")
	s = tm.waitFor("the detail view", 5*time.Second, contains("Account details"))
	if !strings.Contains(s, "sched:meta:20") || !strings.Contains(s, "5h window at 97% is over its 95% threshold") {
		t.Fatalf("detail wrong:\n%s", s)
	}
	tm.keys("Escape")
	tm.waitFor("the table", 5*time.Second, contains("1 of 60 shown"))
	tm.keys("Escape")
	tm.waitFor("the whole fleet again", 5*time.Second, contains("60 of 60 shown"))

	srv.Stop()
	s = tm.waitFor("the error banner", 15*time.Second, contains("Redis unreachable"))
	if !strings.Contains(s, "connection refused") || !strings.Contains(s, "codex-pro-00010") || !strings.Contains(s, "showing data from") {
		t.Fatalf("banner should explain and keep the data:\n%s", s)
	}

	srv.Restart()
	redistest.Seed(t, srv.Client(), fleet)
	tm.waitFor("the banner to go", 45*time.Second, func(s string) bool { return !strings.Contains(s, "unreachable") && strings.Contains(s, "60 accounts") })

	tm.keys("q")
	s = tm.waitFor("quotatop to exit", 10*time.Second, contains("EXITED:0"))
	if strings.Contains(s, "accounts") {
		t.Fatalf("the alternate screen was not left:\n%s", s)
	}
	if state := strings.TrimSpace(tm.run("display-message", "-p", "-t", "qt", "#{alternate_on} #{cursor_flag} #{mouse_any_flag}")); state != "0 1 0" {
		t.Fatalf("terminal not restored (alternate, cursor, mouse): %q", state)
	}
}

// A steady screen (ages ticking, no data changes) should write little: measured at
// 160x48 over 10 s and reported; the goal is under 1 KB/s.
func TestSteadyScreenBytesPerSecond(t *testing.T) {
	srv := redistest.Start(t)
	redistest.Seed(t, srv.Client(), redistest.Fleet(200, "sched:", time.Now()))
	tm := startTmux(t, 160, 48, fmt.Sprintf("QUOTATOP_REDIS=%s %s", srv.URL(), binary))
	tm.waitFor("the fleet", 15*time.Second, contains("200 accounts"))
	time.Sleep(2 * time.Second)
	capture := filepath.Join(t.TempDir(), "out")
	tm.run("pipe-pane", "-o", "-t", "qt", "cat >> "+capture)
	const window = 10 * time.Second
	time.Sleep(window)
	tm.run("pipe-pane", "-t", "qt")
	info, err := os.Stat(capture)
	if err != nil {
		t.Fatal(err)
	}
	rate := float64(info.Size()) / window.Seconds()
	t.Logf("steady screen at 160x48: %.0f bytes/s (%d bytes in %v)", rate, info.Size(), window)
	if rate == 0 {
		t.Fatal("nothing was written: the ages did not tick")
	}
}

// rowsOf returns the names of the table rows in the given state.
func rowsOf(screen, state string) []string {
	var names []string
	for _, line := range strings.Split(screen, "\n") {
		if f := strings.Fields(line); len(f) >= 4 && strings.TrimPrefix(f[1], "*") == state || len(f) >= 4 && f[0] == "*"+glyphOf(state) && f[1] == state {
			names = append(names, f[3])
		}
	}
	return names
}

func glyphOf(state string) string {
	return map[string]string{"paused": "⊖", "blocked": "⊗"}[state]
}

func TestActionsInTmuxAgainstTheDemo(t *testing.T) {
	audit := filepath.Join(t.TempDir(), "audit.jsonl")
	tm := startTmux(t, 160, 48, fmt.Sprintf("%s --demo --audit-log %s", binary, audit))
	tm.waitFor("the demo fleet", 15*time.Second, contains("55 accounts"))

	// Two blocked accounts: unpause them with y.
	tm.keys("/", "codex-pro-3", "Enter", "f", "f", "f", "f")
	s := tm.waitFor("the blocked filter", 5*time.Second, contains("states blocked"))
	blocked := rowsOf(s, "blocked")
	if len(blocked) < 2 {
		t.Fatalf("want two blocked rows:\n%s", s)
	}
	tm.keys("g", "Space", "Space", "u")
	s = tm.waitFor("the unpause dialog", 5*time.Second, contains("Unpause 2 accounts"))
	if !strings.Contains(s, "y  do it") || !strings.Contains(s, "/accounts/:id/") {
		t.Fatalf("dialog does not say what it will do:\n%s", s)
	}
	tm.keys("y")
	tm.waitFor("both done", 15*time.Second, contains("2 accounts: all done"))
	tm.waitFor("their state to change", 10*time.Second, func(s string) bool { return len(rowsOf(s, "blocked")) == len(blocked)-2 })

	// Two paused accounts: exempt their windows with x, the explicit second choice.
	tm.keys("Escape")
	tm.waitFor("the filter cleared", 5*time.Second, func(s string) bool { return !strings.Contains(s, "/ codex-pro-3") })
	// Group 1's paused accounts over the auto-pause threshold but under the gateway's
	// scheduling threshold (98 % in the demo), which an exemption does not lift.
	tm.keys("/", "g1", "Enter", "f", "f", "f") // blocked -> all -> attention -> paused
	s = tm.waitFor("the paused filter", 5*time.Second, contains("states paused"))
	paused := rowsOf(s, "paused")
	tm.keys("g", "Space", "Space", "u")
	tm.waitFor("the dialog", 5*time.Second, contains("instead exempt"))
	tm.keys("x")
	tm.waitFor("the exemptions", 15*time.Second, contains("2 accounts: all done"))
	tm.waitFor("two fewer paused", 10*time.Second, func(s string) bool { return len(rowsOf(s, "paused")) == len(paused)-2 })

	// The stale, poisoned account: a probe heals it and its age starts again.
	tm.keys("Escape")
	tm.waitFor("the filter cleared", 5*time.Second, func(s string) bool { return !strings.Contains(s, "/ g1") })
	tm.keys("f", "f", "f", "/", "2994", "Enter") // paused -> stale_probe -> blocked -> all
	tm.waitFor("the stale account", 5*time.Second, contains("3h14m!"))
	tm.keys("p")
	tm.waitFor("the probe", 15*time.Second, contains("codex-fresh-2994: probe refreshed"))
	tm.waitFor("a fresh age", 10*time.Second, func(s string) bool { return !strings.Contains(s, "3h14m!") && strings.Contains(s, "✓ ok") })

	tm.keys("q")
	b, err := os.ReadFile(audit)
	if err != nil {
		t.Fatal(err)
	}
	// At least 6 calls (3 unpause steps, 2+ exemptions, 1 probe), each a start and an end.
	if n := strings.Count(string(b), "\n"); n%2 != 0 || n < 12 || strings.Count(string(b), `"phase":"end"`) != n/2 {
		t.Fatalf("audit has %d lines, want a start and an end for every call:\n%s", n, b)
	}
	if strings.Contains(string(b), "admin-") {
		t.Fatal("the admin key reached the audit log")
	}
}

// The demo watched through its admin API alone: the header says so, the corrupt Redis
// values are absent (no database row), and a probe is checked by re-reading the account
// through the API.
func TestAdminAPISourceInTmux(t *testing.T) {
	tm := startTmux(t, 160, 48, binary+" --demo --source api --audit-log "+filepath.Join(t.TempDir(), "audit.jsonl"))
	s := tm.waitFor("the fleet from the API", 15*time.Second, contains("embedded demo gateway, admin API"))
	if strings.Contains(s, "55 accounts") || strings.Contains(s, "invalid") {
		t.Fatalf("the API lists the corrupt values:\n%s", s)
	}
	tm.keys("/", "2994", "Enter")
	tm.waitFor("the stale account", 5*time.Second, contains("3h14m!"))
	tm.keys("p")
	// The line says "probe…" while it runs; the outcome replaces it.
	tm.waitFor("the probe's outcome", 15*time.Second, func(s string) bool {
		return strings.Contains(s, "codex-fresh-2994: probe refreshed") || strings.Contains(s, "could not reach upstream")
	})
	tm.keys("q")
}

func TestReadOnlyRefusesInTmux(t *testing.T) {
	tm := startTmux(t, 120, 40, binary+" --demo --read-only")
	tm.waitFor("the demo fleet", 15*time.Second, contains("55 accounts"))
	tm.keys("u")
	tm.waitFor("the refusal", 5*time.Second, contains("Read-only: --read-only; u is refused."))
	tm.keys("?")
	s := tm.waitFor("help", 5*time.Second, contains("quotatop help"))
	if strings.Contains(s, "unpause") || !strings.Contains(s, "read-only: no actions") {
		t.Fatalf("read-only help offers actions:\n%s", s)
	}
}

// Two gateways in a config file: the header names the context, c switches, and the
// second gateway's fleet replaces the first's.
func TestContextSwitchInTmux(t *testing.T) {
	prod, staging := redistest.Start(t), redistest.Start(t)
	redistest.Seed(t, prod.Client(), redistest.Fleet(7, "sched:", time.Now()))
	redistest.Seed(t, staging.Client(), redistest.Fleet(11, "stg:", time.Now()))
	dir := t.TempDir()
	conf := filepath.Join(dir, "config.yaml")
	os.WriteFile(conf, []byte(fmt.Sprintf("current: prod\ncontexts:\n  - name: prod\n    redis: %s\n    color: red\n  - name: staging\n    redis: %s\n    prefix: \"stg:\"\n    interval: 700ms\n", prod.URL(), staging.URL())), 0o600)
	script := filepath.Join(dir, "run.sh")
	os.WriteFile(script, []byte(fmt.Sprintf("#!/bin/sh\n%s --config %s --interval 500ms --timeout 1s\necho EXITED:$?\nsleep 60\n", binary, conf)), 0o755)
	tm := startTmux(t, 80, 24, script)

	s := tm.waitFor("prod's fleet", 15*time.Second, contains("7 accounts"))
	if !strings.Contains(strings.Split(s, "\n")[0], "quotatop  prod  · "+prod.URL()) {
		t.Fatalf("the header does not name the context:\n%s", s)
	}
	tm.keys("c")
	tm.waitFor("the switcher", 5*time.Second, contains("● prod"))
	tm.keys("j", "Enter")
	s = tm.waitFor("staging's fleet", 15*time.Second, contains("11 accounts"))
	if first := strings.Split(s, "\n")[0]; !strings.Contains(first, "staging") || !strings.Contains(first, staging.URL()) || !strings.Contains(first, "stg:") {
		t.Fatalf("header after the switch:\n%s", s)
	}
	tm.keys("q")
	tm.waitFor("quotatop to exit", 10*time.Second, contains("EXITED:0"))
}
