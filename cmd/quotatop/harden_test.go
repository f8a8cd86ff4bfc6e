package main

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/quotatop/quotatop/source/redistest"
)

// Key files that are not small regular files fail at once with one sentence: /dev/zero
// would be read until memory ran out, a FIFO would block forever.
func TestAdminKeyFileMustBeASmallRegularFile(t *testing.T) {
	srv := redistest.Start(t)
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big")
	os.WriteFile(big, make([]byte, 1<<20), 0o600)
	spaced := filepath.Join(dir, "spaced")
	os.WriteFile(spaced, []byte("admin-0123 admin-4567\n"), 0o600)
	for path, want := range map[string]string{
		"/dev/zero":                   "not a regular file",
		fifo:                          "not a regular file",
		big:                           "too large",
		spaced:                        "whitespace inside",
		filepath.Join(dir, "missing"): "no such file",
	} {
		r := runBinary(t, []string{"QUOTATOP_REDIS=" + srv.URL()}, "--once", "--api", "http://127.0.0.1:1", "--admin-key-file", path)
		if r.code != 1 || !strings.Contains(r.stderr, want) || strings.Count(strings.TrimSpace(r.stderr), "\n") > 0 {
			t.Errorf("%s: exit %d, stderr %q, want one sentence with %q", path, r.code, r.stderr, want)
		}
		if strings.Contains(r.stderr, "admin-0123") {
			t.Errorf("%s: the key reached stderr", path)
		}
	}
}

func TestCleartextAPIToAnotherHostWarns(t *testing.T) {
	srv := redistest.Start(t)
	env := []string{"QUOTATOP_REDIS=" + srv.URL(), "QUOTATOP_ADMIN_KEY=admin-0123"}
	r := runBinary(t, env, "--once", "--api", "http://127.0.0.1:1", "--timeout", "1s")
	if strings.Contains(r.stderr, "clear text") {
		t.Fatalf("loopback http warned: %q", r.stderr)
	}
	// Other hosts are judged without contacting them: tests send nothing off this machine.
	for api, warns := range map[string]bool{
		"http://10.0.0.5:8080": true, "http://gateway.example.com": true, "http://[2001:db8::1]:80": true,
		"http://127.0.0.2:8080": false, "http://localhost:8080": false, "http://[::1]:8080": false, "https://10.0.0.5": false,
	} {
		var out strings.Builder
		warnCleartext(api, &out)
		if got := strings.Count(out.String(), "clear text"); got != map[bool]int{true: 1, false: 0}[warns] {
			t.Errorf("%s: %q", api, out.String())
		}
	}
	// The live monitor's full screen hides stderr: its warnings are kept for the header.
	var passed strings.Builder
	said := &warningRecorder{w: &passed}
	warnCleartext("http://10.0.0.5:8080", said)
	fmt.Fprintln(said, "quotatop: warning: the admin key file is readable by other users")
	fmt.Fprintln(said, "quotatop: connecting")
	if len(said.lines) != 2 || !strings.Contains(said.lines[0], "clear text") || !strings.HasPrefix(said.lines[1], "the admin key file") ||
		strings.Count(passed.String(), "\n") != 3 {
		t.Fatalf("kept %q, passed on %q", said.lines, passed.String())
	}
}

// Hostile values: non-finite numbers keep the JSON document whole, a broken value's
// reason carries no byte of the value, a crafted prefix is refused.
func TestHostileValuesThroughTheBinary(t *testing.T) {
	srv := redistest.Start(t)
	values := redistest.Fleet(3, "sched:", time.Now())
	fresh := time.Now().UTC().Add(-time.Minute).Format(time.RFC3339)
	reset := time.Now().UTC().Add(time.Hour).Format(time.RFC3339)
	for id, used := range map[string]string{"11": `1e309`, "12": `"NaN"`, "13": `"Infinity"`, "14": `"-Infinity"`} {
		values["sched:meta:"+id] = `{"ID":` + id + `,"Name":"n` + id + `","Platform":"openai","Status":"active","Schedulable":true,"Extra":{"codex_5h_used_percent":` + used +
			`,"codex_5h_reset_at":"` + reset + `","codex_usage_updated_at":"` + fresh + `","auto_pause_5h_threshold":"0.9"}}`
	}
	values["sched:meta:15"] = `{"ID":15,"Credentials":{"api_key":"` + canary + `"},"Extra":{` + canary
	redistest.Seed(t, srv.Client(), values)
	env := []string{"QUOTATOP_REDIS=" + srv.URL()}

	states := map[int64]string{}
	for _, a := range onceAccounts(t, env) {
		states[a.ID] = a.State
	}
	if states[11] == "paused" || states[12] == "paused" || states[14] == "paused" || states[13] != "paused" || states[15] != "invalid" {
		t.Fatalf("states %v: 1e309/NaN/-Inf read as the gateway reads them (not paused), Infinity pauses", states)
	}
	for _, format := range []string{"json", "table", "csv"} {
		r := runBinary(t, env, "--once", "--output", format)
		if strings.Contains(r.stdout+r.stderr, "sk-live") || strings.Contains(r.stdout, "Inf") || strings.Contains(r.stdout, "NaN") {
			t.Errorf("%s: output carries a credential or a non-finite number:\n%s", format, r.stdout)
		}
	}
	r := runBinary(t, env, "--once", "--prefix", "sched:acc:*[0-9")
	if r.code != 1 || !strings.Contains(r.stderr, "key family") {
		t.Fatalf("crafted prefix: exit %d %q", r.code, r.stderr)
	}
}

func TestStderrIsInert(t *testing.T) {
	var b strings.Builder
	w := inertWriter{&b}
	w.Write([]byte("quotatop: cannot reach \x1b]0;owned\x07: " + strings.Repeat("x", 1<<20) + "\nsecond line\n"))
	out := b.String()
	if strings.ContainsAny(out, "\x1b\x07") || len(out) > 3*stderrLineMax+100 || !strings.HasSuffix(out, "\nsecond line\n") {
		t.Fatalf("stderr not inert or not bounded: %d bytes, %q…", len(out), out[:80])
	}
}

// A Redis that answers every command with an error full of escapes and megabytes of text:
// stderr gets one inert, bounded sentence.
func TestHostileRedisErrorReply(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	reply := "-ERR \x1b]0;owned\x07\x1b[2J" + strings.Repeat("A", 1<<20) + "\r\n"
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				buf := make([]byte, 4096)
				for {
					if _, err := c.Read(buf); err != nil {
						return
					}
					c.Write([]byte(reply))
				}
			}()
		}
	}()
	r := runBinary(t, []string{"QUOTATOP_REDIS=redis://" + ln.Addr().String() + "/0"}, "--once", "--timeout", "2s")
	if r.code != 2 {
		t.Fatalf("exit %d, want 2 (storage unreadable); stderr %q", r.code, r.stderr[:min(len(r.stderr), 300)])
	}
	if strings.ContainsAny(r.stderr, "\x1b\x07") || len(r.stderr) > 3*stderrLineMax {
		t.Fatalf("stderr not inert or not bounded: %d bytes", len(r.stderr))
	}
}

func TestLiveMonitorWithoutATerminalSaysSo(t *testing.T) {
	srv := redistest.Start(t)
	r := runBinary(t, []string{"QUOTATOP_REDIS=" + srv.URL()})
	if r.code != 1 || !strings.Contains(r.stderr, "needs a terminal") || !strings.Contains(r.stderr, "--once") || strings.Count(r.stderr, "\n") != 1 {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
}

// A value that is not a string (a hash or a list at sched:meta:N) is an invalid row
// through the binary, in every format, never a silent gap.
func TestNonStringValuesThroughTheBinary(t *testing.T) {
	srv := redistest.Start(t)
	c := srv.Client()
	redistest.Seed(t, c, redistest.Fleet(2, "sched:", time.Now()))
	if err := c.HSet(t.Context(), "sched:meta:30", "ID", "30").Err(); err != nil {
		t.Fatal(err)
	}
	if err := c.RPush(t.Context(), "sched:meta:31", "x").Err(); err != nil {
		t.Fatal(err)
	}
	env := []string{"QUOTATOP_REDIS=" + srv.URL()}
	accounts := onceAccounts(t, env, "--history", "off")
	got := map[int64]string{}
	for _, a := range accounts {
		if a.State == "invalid" {
			got[a.ID] = a.Invalid
		}
	}
	if got[30] != "not a string value (a hash)" || got[31] != "not a string value (a list)" || len(accounts) != 4 {
		t.Fatalf("invalid rows %v of %d accounts", got, len(accounts))
	}
	table := runBinary(t, env, "--once", "--history", "off")
	if strings.Count(table.stdout, "invalid") < 2 || !strings.Contains(table.stdout, "4 accounts") {
		t.Fatalf("table:\n%s", table.stdout)
	}
}

// onceAccount is what the hardening tests read of an account in --once's JSON.
type onceAccount struct {
	ID      int64  `json:"id"`
	State   string `json:"state"`
	Invalid string `json:"invalid"`
}

// onceAccounts runs --once --output json with args and returns its accounts, failing on
// an exit other than 0 or a broken document.
func onceAccounts(t *testing.T, env []string, args ...string) []onceAccount {
	t.Helper()
	r := runBinary(t, env, append([]string{"--once", "--output", "json"}, args...)...)
	var doc struct {
		Accounts []onceAccount `json:"accounts"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil || r.code != 0 {
		t.Fatalf("exit %d, the JSON document: %v; stderr %q", r.code, err, r.stderr)
	}
	return doc.Accounts
}
