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
