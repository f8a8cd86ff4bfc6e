package main

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/quotatop/quotatop/source/redistest"
)

// watcher is a running `quotatop watch` whose JSON log lines are read as they come.
type watcher struct {
	t     *testing.T
	cmd   *exec.Cmd
	lines chan map[string]any
	all   []map[string]any
}

func startWatch(t *testing.T, env []string, args ...string) *watcher {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"watch", "--log-json"}, args...)...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}, env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w := &watcher{t: t, cmd: cmd, lines: make(chan map[string]any, 100)}
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			var m map[string]any
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
				m = map[string]any{"msg": "NOT JSON: " + sc.Text()}
			}
			w.lines <- m
		}
		close(w.lines)
	}()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	return w
}

// next waits for a line that match accepts, keeping every line seen; it fails after a
// generous bound so a broken binary cannot hang the test.
func (w *watcher) next(what string, match func(map[string]any) bool) map[string]any {
	w.t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		select {
		case m, ok := <-w.lines:
			if !ok {
				w.t.Fatalf("watch exited while waiting for %s; log: %v", what, w.all)
			}
			w.all = append(w.all, m)
			if match(m) {
				return m
			}
		case <-deadline:
			w.t.Fatalf("no %s within 30s; log: %v", what, w.all)
		}
	}
}

func kind(k, severity string) func(map[string]any) bool {
	return func(m map[string]any) bool { return m["kind"] == k && m["severity"] == severity }
}

func (w *watcher) count(k string) int {
	n := 0
	for _, m := range w.all {
		if m["kind"] == k {
			n++
		}
	}
	return n
}

func TestWatchAgainstRealRedis(t *testing.T) {
	srv := redistest.Start(t)
	c := srv.Client()
	seed := func(used ...float64) {
		values := map[string]string{}
		for i, u := range used {
			values["sched:meta:"+itoa(i+1)] = redistest.MetaValue(int64(i+1), time.Now(), u, 10, 0)
		}
		redistest.Seed(t, c, values)
	}
	seed(10, 10, 10)
	hookOut := t.TempDir() + "/batches.jsonl"
	w := startWatch(t, nil, "--redis", srv.URL(), "--interval", "200ms", "--event-hold", "2", "--outage-after", "1s",
		"--metrics-listen", "127.0.0.1:0", "--notify-exec", "sh -c 'cat >> \""+hookOut+"\"; echo >> \""+hookOut+"\"'")
	started := w.next("the start line", func(m map[string]any) bool { return m["msg"] == "watching" })
	metricsURL, _ := started["metrics"].(string)
	if !strings.HasPrefix(metricsURL, "http://127.0.0.1:") || started["interval"] != "200ms" {
		t.Fatalf("start line %v", started)
	}
	// Like the live monitor, it reads only what Redis says changed, and says so.
	if reads := w.next("the read mode", func(m map[string]any) bool { return m["msg"] == "reads" }); reads["mode"] != "change tracking" {
		t.Errorf("read mode %v", reads)
	}
	health := strings.TrimSuffix(metricsURL, "/metrics") + "/healthz"
	waitHealth := func(code int) {
		t.Helper()
		for range 300 {
			if resp, err := http.Get(health); err == nil {
				resp.Body.Close()
				if resp.StatusCode == code {
					return
				}
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Fatalf("/healthz never answered %d", code)
	}
	waitHealth(200)

	// Two accounts pause in one poll: one event listing both, once.
	seed(97, 97, 10)
	ev := w.next("the pause event", kind("account_state", "critical"))
	if ev["items"] != float64(2) || !strings.HasPrefix(ev["msg"].(string), "2 accounts changed state (2 now paused)") {
		t.Errorf("pause event %v", ev)
	}
	// The last one pauses: its own event and the group at zero.
	seed(97, 97, 97)
	w.next("the group event", kind("group", "critical"))
	if n := w.count("account_state"); n != 2 {
		t.Errorf("%d account_state events, want 2 (one per transition): %v", n, w.all)
	}

	resp, err := http.Get(metricsURL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`quotatop_accounts{state="paused"} 3`, `quotatop_group_schedulable_accounts{group="3",platform="openai"} 0`, `quotatop_account_state{account_id="1",state="paused"} 1`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}

	// Redis goes away: one outage event after --outage-after, and /healthz says so.
	srv.Stop()
	w.next("the outage event", kind("storage", "critical"))
	waitHealth(503)
	srv.Restart()
	seed(97, 97, 97)
	rec := w.next("the recovery event", kind("storage", "resolved"))
	if !strings.HasPrefix(rec["msg"].(string), "storage reachable again after ") {
		t.Errorf("recovery %v", rec)
	}
	waitHealth(200)
	if n := w.count("storage"); n != 2 {
		t.Errorf("%d storage events, want 2", n)
	}

	w.cmd.Process.Signal(syscall.SIGTERM)
	if stop := w.next("the stop line", func(m map[string]any) bool { return m["msg"] == "stopped" }); stop["signal"] != "terminated" {
		t.Errorf("stop line %v", stop)
	}
	if err := w.cmd.Wait(); err != nil {
		t.Fatalf("watch did not exit 0 on SIGTERM: %v", err)
	}
	batches, _ := os.ReadFile(hookOut)
	var kinds []string
	for _, line := range strings.Split(strings.TrimSpace(string(batches)), "\n") {
		var b struct{ Events []struct{ Kind string } }
		if err := json.Unmarshal([]byte(line), &b); err != nil {
			t.Fatalf("--notify-exec got %q: %v", line, err)
		}
		for _, e := range b.Events {
			kinds = append(kinds, e.Kind)
		}
	}
	if got := strings.Join(kinds, ","); !strings.Contains(got, "account_state") || !strings.Contains(got, "storage,") && !strings.HasSuffix(got, "storage") {
		t.Errorf("--notify-exec saw kinds %s", got)
	}
}

func TestWatchRefusesWebhookOnArgv(t *testing.T) {
	r := runBinary(t, nil, "watch", "--notify-webhook", "https://hooks.example/s3cr3t")
	if r.code != exitUsage || strings.Contains(r.stderr, "s3cr3t") || !strings.Contains(r.stderr, "use QUOTATOP_NOTIFY_WEBHOOK or --notify-webhook-file") {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	r = runBinary(t, []string{"QUOTATOP_NOTIFY_WEBHOOK=ftp://hooks.example/s3cr3t"}, "watch", "--demo")
	if r.code != exitUsage || strings.Contains(r.stderr, "s3cr3t") {
		t.Fatalf("bad webhook URL: exit %d, stderr %q", r.code, r.stderr)
	}
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

// TestLiveMonitorServesMetrics runs the full-screen monitor in tmux with
// --metrics-listen and scrapes it, then opens the events pane.
func TestLiveMonitorServesMetrics(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	tm := startTmux(t, 120, 40, binary+" --demo --metrics-listen "+addr)
	tm.waitFor("the demo fleet", 15*time.Second, contains(" accounts"))
	var body []byte
	for range 100 { // the first poll may still be on its way
		resp, err := http.Get("http://" + addr + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		if strings.Contains(string(body), "quotatop_storage_up 1") {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	// The time to pause comes from the screen's own projections of the demo's history.
	if !strings.Contains(string(body), `quotatop_accounts{state="paused"}`) || !strings.Contains(string(body), "quotatop_storage_up 1") ||
		!strings.Contains(string(body), "quotatop_window_time_to_pause_seconds{") {
		t.Fatalf("/metrics of the live monitor:\n%.2000s", body)
	}
	tm.keys("e")
	tm.waitFor("the events pane", 5*time.Second, contains("Events · ")) // "none yet": learning the thresholds is no event
	tm.keys("Escape", "q")
}

// With a history (the demo seeds an hour of it), watch projects every poll: the
// time-to-pause metric appears; with --history off there is nothing to project from.
func TestWatchProjectsFromHistory(t *testing.T) {
	scrape := func(historyArgs ...string) string {
		args := append([]string{"--demo", "--interval", "300ms", "--metrics-listen", "127.0.0.1:0"}, historyArgs...)
		w := startWatch(t, nil, args...)
		started := w.next("the start line", func(m map[string]any) bool { return m["msg"] == "watching" })
		url, _ := started["metrics"].(string)
		body := ""
		for range 100 {
			if resp, err := http.Get(url); err == nil {
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				body = string(b)
				if strings.Contains(body, "quotatop_window_used_ratio{") { // a poll is in
					break
				}
			}
			time.Sleep(100 * time.Millisecond)
		}
		w.cmd.Process.Signal(os.Interrupt)
		for m := range w.lines {
			w.all = append(w.all, m)
		}
		w.cmd.Wait()
		t.Logf("watch %v logged %v", historyArgs, w.all)
		return body
	}
	if body := scrape(); !strings.Contains(body, "quotatop_window_time_to_pause_seconds{") {
		t.Fatalf("no time to pause with the demo's history:\n%.3000s", body)
	}
	if body := scrape("--history", "off"); !strings.Contains(body, "quotatop_window_used_ratio{") || strings.Contains(body, "quotatop_window_time_to_pause_seconds{") {
		t.Fatalf("a time to pause without history, or no metrics:\n%.2000s", body)
	}
}

// watch judges with the gateway's scheduling thresholds, as the live monitor does: an
// account at 93 % under the gateway's openai=90 is paused.
func TestWatchReadsTheGatewaysThresholds(t *testing.T) {
	srv := redistest.Start(t)
	now := time.Now().UTC()
	ts := func(d time.Duration) string { return now.Add(d).Format(time.RFC3339Nano) }
	redistest.Seed(t, srv.Client(), map[string]string{
		"sched:meta:3": `{"ID":3,"Name":"sched","Platform":"openai","Type":"oauth","Status":"active","Schedulable":true,"Extra":{"codex_5h_used_percent":93,"codex_5h_reset_at":"` + ts(time.Hour) + `","codex_usage_updated_at":"` + ts(-time.Minute) + `"}}`,
	})
	api := fakeGateway(t, "0.1.179", false)
	w := startWatch(t, []string{"QUOTATOP_ADMIN_KEY=k"}, "--redis", srv.URL(), "--api", api.URL, "--interval", "200ms",
		"--metrics-listen", "127.0.0.1:0", "--history", "off")
	started := w.next("the start line", func(m map[string]any) bool { return m["msg"] == "watching" })
	url, _ := started["metrics"].(string)
	for range 100 {
		if resp, err := http.Get(url); err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if strings.Contains(string(b), `quotatop_accounts{state="paused"} 1`) {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("the account was never judged paused by the gateway's scheduling threshold; log %v", w.all)
}

// watch's own command line: --help is help (it started a watcher), a stray word is an
// error, the single-dash forms work, and with --log-json even a warning about the history
// file is a JSON line.
func TestWatchCommandLine(t *testing.T) {
	for _, help := range []string{"--help", "-h", "-help"} {
		if r := runBinary(t, nil, "watch", help, "--redis", "redis://127.0.0.1:1/0"); r.code != 0 || !strings.Contains(r.stdout, "quotatop watch [flags]") {
			t.Fatalf("watch %s: exit %d, %q %q", help, r.code, r.stdout, r.stderr)
		}
	}
	if r := runBinary(t, nil, "watch", "extra"); r.code != exitUsage || !strings.Contains(r.stderr, `unexpected argument "extra"`) {
		t.Fatalf("a stray argument: exit %d, %q", r.code, r.stderr)
	}
	bad := filepath.Join(t.TempDir(), "notsqlite.db")
	os.WriteFile(bad, []byte("this is not a database, not even close to one"), 0o600)
	w := startWatch(t, nil, "-demo", "-history", bad, "-interval", "1s")
	first := w.next("the first line", func(map[string]any) bool { return true })
	if first["level"] != "WARN" || !strings.Contains(first["msg"].(string), "notsqlite.db") {
		t.Fatalf("first line %v", first)
	}
	w.next("the start line", func(m map[string]any) bool { return m["msg"] == "watching" })
}
