package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/quotatop/quotatop/events"
	"github.com/quotatop/quotatop/model"
)

var t0 = time.Date(2026, 11, 28, 6, 0, 0, 0, time.UTC)

func batch() events.Batch {
	return events.Batch{Time: t0, Events: []events.Event{
		{Time: t0, Kind: events.KindState, Severity: events.Critical, Summary: "account #1 a\"b ok → paused (quota_5h)",
			Accounts: []events.AccountChange{{ID: 1, Name: "a\"b", From: "ok", To: "paused", Reasons: []model.Reason{"quota_5h"}}}},
		{Time: t0, Kind: events.KindGroup, Severity: events.Critical, Summary: "group 7 has no schedulable account (0 of 1 schedulable)"},
	}}
}

// receiver is a real loopback HTTP server that records every body and answers from a
// script, one status per request (the last one repeats).
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	bodies []string
	status []int
	answer string
	header http.Header   // added to every answer
	block  chan struct{} // when set, handlers wait on it (a slow receiver)
}

func newReceiver(t *testing.T, status ...int) *receiver {
	r := &receiver{status: status}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.bodies = append(r.bodies, string(b))
		st := r.status[min(len(r.bodies), len(r.status))-1]
		block, answer, header := r.block, r.answer, r.header
		r.mu.Unlock()
		for k, v := range header {
			w.Header()[k] = v
		}
		if req.Header.Get("Content-Type") != "application/json" {
			st = 415
		}
		if block != nil {
			select {
			case <-block:
			case <-req.Context().Done():
			}
		}
		w.WriteHeader(st)
		io.WriteString(w, answer)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) got() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.bodies)
}

const secretPath = "/hook/s3cr3t-t0ken?key=k3y"

func webhook(t *testing.T, r *receiver, tmpl string) *Webhook {
	t.Helper()
	w, err := NewWebhook(r.URL+secretPath, tmpl)
	if err != nil {
		t.Fatal(err)
	}
	w.Backoff, w.MaxBackoff, w.Timeout = time.Millisecond, 4*time.Millisecond, 5*time.Second
	return w
}

func noSecret(t *testing.T, s string) {
	t.Helper()
	for _, bad := range []string{"s3cr3t", "k3y", "hook/"} {
		if strings.Contains(s, bad) {
			t.Errorf("%q leaks the webhook URL", s)
		}
	}
}

func TestWebhookDefaultBodyIsTheBatch(t *testing.T) {
	r := newReceiver(t, 200)
	if err := webhook(t, r, "").Send(context.Background(), batch()); err != nil {
		t.Fatal(err)
	}
	if got := r.got(); len(got) != 1 || got[0] != string(batch().JSON()) {
		t.Fatalf("bodies %q", got)
	}
}

func TestWebhookRetriesThenSucceeds(t *testing.T) {
	r := newReceiver(t, 500, 503, 200)
	w := webhook(t, r, `{"text": {{json .Text}}}`)
	if err := w.Send(context.Background(), batch()); err != nil {
		t.Fatal(err)
	}
	want := `{"text": "account #1 a\"b ok → paused (quota_5h)\ngroup 7 has no schedulable account (0 of 1 schedulable)"}`
	if got := r.got(); !slices.Equal(got, []string{want, want, want}) {
		t.Fatalf("bodies %q\nwant 3 x %q", got, want)
	}
}

func TestWebhookGivesUpAfterAttempts(t *testing.T) {
	r := newReceiver(t, 500)
	r.answer = "upstream broke at " + secretPath
	w := webhook(t, r, "")
	w.Attempts = 3
	err := w.Send(context.Background(), batch())
	if err == nil || len(r.got()) != 3 {
		t.Fatalf("err %v after %d attempts", err, len(r.got()))
	}
	want := "POST http://" + r.Listener.Addr().String() + "/… (attempt 3 of 3): HTTP 500: upstream broke at /…"
	if err.Error() != want {
		t.Fatalf("error %q\nwant  %q", err, want)
	}
	noSecret(t, err.Error())
}

// A 429 or 503 that says how long to wait is waited out for that long (up to
// MaxBackoff), not for the back-off: the receiver's rate limit outlasts a second.
func TestWebhookHonoursRetryAfter(t *testing.T) {
	for _, c := range []struct {
		name       string
		status     int
		retryAfter string
		want       time.Duration
	}{
		{"429 in seconds", 429, "1", time.Second},
		{"503 in seconds", 503, "7", 7 * time.Second},
		{"longer than MaxBackoff", 429, "3600", 30 * time.Second},
		{"no header: the back-off", 429, "", time.Millisecond},
		{"unreadable: the back-off", 429, "soon", time.Millisecond},
		{"500 does not ask", 500, "7", time.Millisecond},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := newReceiver(t, c.status, 200)
			r.header = http.Header{"Retry-After": {c.retryAfter}}
			w := webhook(t, r, "")
			w.MaxBackoff = 30 * time.Second
			var waits []time.Duration
			w.wait = func(_ context.Context, d time.Duration) error {
				waits = append(waits, d)
				return nil
			}
			if err := w.Send(context.Background(), batch()); err != nil {
				t.Fatal(err)
			}
			if n := len(r.got()); n != 2 {
				t.Errorf("%d requests, want the refused one and the retry", n)
			}
			if !slices.Equal(waits, []time.Duration{c.want}) {
				t.Errorf("waited %v, want %v", waits, c.want)
			}
		})
	}
}

// A wait that would outlast the delivery's deadline is not begun: the batch fails with
// the receiver's answer at once rather than when the deadline cuts the wait.
func TestWebhookRetryAfterPastTheDeadline(t *testing.T) {
	r := newReceiver(t, 429, 200)
	r.header = http.Header{"Retry-After": {"3600"}}
	r.answer = "slow down"
	w := webhook(t, r, "")
	w.MaxBackoff = 2 * time.Hour
	w.wait = func(context.Context, time.Duration) error {
		t.Error("waited past the deadline")
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err := w.Send(ctx, batch())
	want := "POST http://" + r.Listener.Addr().String() + "/… (attempt 1 of 4): HTTP 429: slow down; the next attempt, in 1h0m0s, would be past the delivery's deadline"
	if err == nil || err.Error() != want {
		t.Fatalf("error %v\nwant  %s", err, want)
	}
	if n := len(r.got()); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2015, 10, 21, 7, 27, 30, 0, time.UTC)
	for header, want := range map[string]time.Duration{
		"1":                                 time.Second,
		" 120 ":                             2 * time.Minute,
		"0":                                 0,
		"-5":                                0,
		"1.5":                               0,
		"":                                  0,
		"99999999999999":                    0, // past any sane wait, and an overflow
		"Wed, 21 Oct 2015 07:28:00 GMT":     30 * time.Second,
		"Wednesday, 21-Oct-15 07:28:00 GMT": 30 * time.Second,
		"Wed, 21 Oct 2015 07:00:00 GMT":     0, // passed
	} {
		if got := retryAfter(header, now); got != want {
			t.Errorf("retryAfter(%q) = %v, want %v", header, got, want)
		}
	}
}

func TestWebhookClientErrorIsNotRetried(t *testing.T) {
	r := newReceiver(t, 400)
	err := webhook(t, r, "").Send(context.Background(), batch())
	if err == nil || len(r.got()) != 1 || !strings.Contains(err.Error(), "HTTP 400") {
		t.Fatalf("err %v after %d attempts", err, len(r.got()))
	}
}

func TestWebhookRefusalInBody(t *testing.T) {
	r := newReceiver(t, 200)
	r.answer = `{"code":19024,"msg":"Key Words Not Found"}`
	err := webhook(t, r, "").Send(context.Background(), batch())
	if err == nil || !strings.HasSuffix(err.Error(), "the receiver refused the message: code 19024: Key Words Not Found") {
		t.Fatalf("err %v", err)
	}
	r.answer = `{"errcode":0,"errmsg":"ok"}`
	if err := webhook(t, r, "").Send(context.Background(), batch()); err != nil {
		t.Fatalf("errcode 0 is success: %v", err)
	}
}

func TestWebhookSlowReceiverTimesOut(t *testing.T) {
	r := newReceiver(t, 200)
	r.block = make(chan struct{})
	defer close(r.block)
	w := webhook(t, r, "")
	w.Timeout, w.Attempts = 50*time.Millisecond, 2
	err := w.Send(context.Background(), batch())
	want := "POST http://" + r.Listener.Addr().String() + "/… (attempt 2 of 2): no answer within 50ms"
	if err == nil || err.Error() != want {
		t.Fatalf("error %v\nwant  %s", err, want)
	}
	if n := len(r.got()); n != 2 {
		t.Errorf("%d attempts, want 2", n)
	}
}

func TestWebhookTemplateError(t *testing.T) {
	r := newReceiver(t, 200)
	// A template that cannot work is refused at start, tried on a batch of every kind,
	// not at the first event it was written for.
	for tmpl, want := range map[string]string{
		`{"x": {{.Nope}}}`:                          `render the webhook template: template: webhook:1:8: executing "webhook" at <.Nope>: can't evaluate field Nope in type notify.Message (tried on a sample batch at start)`,
		`{"x": {{.Title}}}`:                         "the webhook template did not produce valid JSON (quote strings with {{json .Text}}) (tried on a sample batch at start)",
		`{{range .Events}}{{.Storage.Nope}}{{end}}`: `render the webhook template: template: webhook:1:27: executing "webhook" at <.Storage.Nope>: can't evaluate field Nope in type *events.StorageChange (tried on a sample batch at start)`,
	} {
		if _, err := NewWebhook(r.URL+secretPath, tmpl); err == nil || err.Error() != want {
			t.Errorf("template %s: error %v\nwant %s", tmpl, err, want)
		}
	}
	// One that works on the sample but not on a batch fails that send, with a sentence.
	tmpl := `{"x": {{json (index .Events 4).Kind}}}`
	err := webhook(t, r, tmpl).Send(context.Background(), batch())
	if want := `render the webhook template: template: webhook:1:14: executing "webhook" at <index .Events 4>: error calling index: index out of range: 4`; err == nil || err.Error() != want {
		t.Errorf("template %s: error %v\nwant %s", tmpl, err, want)
	}
	if n := len(r.got()); n != 0 {
		t.Errorf("a broken template still sent %d requests", n)
	}
	if _, err := NewWebhook("http://127.0.0.1/x", "{{"); err == nil || !strings.HasPrefix(err.Error(), "webhook template: ") {
		t.Errorf("parse error %v", err)
	}
}

func TestWebhookUnreachableMasksURL(t *testing.T) {
	r := newReceiver(t, 200)
	w := webhook(t, r, "")
	r.Close()
	w.Attempts = 2
	err := w.Send(context.Background(), batch())
	if err == nil || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("err %v", err)
	}
	noSecret(t, err.Error())
	noSecret(t, w.Name())
}

func TestNewWebhookRejectsBadURLs(t *testing.T) {
	for _, u := range []string{"", "ftp://h/x", "http:///s3cr3t", "::s3cr3t"} {
		_, err := NewWebhook(u, "")
		if err == nil {
			t.Errorf("%q accepted", u)
			continue
		}
		noSecret(t, err.Error())
	}
}

// TestShippedTemplates renders every template under contrib/notify and checks the
// exact bodies the receivers get.
func TestShippedTemplates(t *testing.T) {
	text := "quotatop critical\\naccount #1 a\\\"b ok → paused (quota_5h)\\ngroup 7 has no schedulable account (0 of 1 schedulable)"
	want := map[string]string{
		"feishu.tmpl":   `{"msg_type": "text", "content": {"text": "` + text + `"}}`,
		"wecom.tmpl":    `{"msgtype": "text", "text": {"content": "` + text + `"}}`,
		"dingtalk.tmpl": `{"msgtype": "text", "text": {"content": "` + text + `"}}`,
		"slack.tmpl":    `{"text": "*quotatop critical*\naccount #1 a\"b ok → paused (quota_5h)\ngroup 7 has no schedulable account (0 of 1 schedulable)"}`,
	}
	files, _ := filepath.Glob("../contrib/notify/*.tmpl")
	if len(files) != 5 {
		t.Fatalf("templates %v, want 5", files)
	}
	r := newReceiver(t, 200)
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := webhook(t, r, string(src)).Send(context.Background(), batch()); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		body := r.got()[len(r.got())-1]
		name := filepath.Base(f)
		if name == "generic.tmpl" {
			var v struct {
				Title, Severity, Text string
				Events                []events.Event
			}
			if err := json.Unmarshal([]byte(body), &v); err != nil || v.Severity != "critical" || len(v.Events) != 2 || v.Events[0].Accounts[0].Name != `a"b` {
				t.Errorf("generic body %s (%v)", body, err)
			}
			continue
		}
		if body != want[name] {
			t.Errorf("%s body\n%s\nwant\n%s", name, body, want[name])
		}
	}
}

// An account name that is markup in the receiver's message arrives inert: Slack shows
// &lt;!channel&gt; as text, where <!channel> notified the whole channel; Feishu shows
// full-width brackets, where <at user_id="all"> mentioned everyone in the group.
func TestShippedTemplatesKeepNamesInert(t *testing.T) {
	name := `<!channel> & <@U123> <at user_id="all"></at>`
	hostile := events.Batch{Time: t0, Events: []events.Event{{Time: t0, Kind: events.KindState, Severity: events.Critical,
		Summary:  "account #1 " + name + " ok → paused (quota_5h)",
		Accounts: []events.AccountChange{{ID: 1, Name: name, From: "ok", To: "paused", Reasons: []model.Reason{"quota_5h"}}}}}}
	cases := []struct{ file, body, text string }{
		{"slack.tmpl",
			`{"text": "*quotatop critical*\naccount #1 \u0026lt;!channel\u0026gt; \u0026amp; \u0026lt;@U123\u0026gt; \u0026lt;at user_id=\"all\"\u0026gt;\u0026lt;/at\u0026gt; ok → paused (quota_5h)"}`,
			"*quotatop critical*\naccount #1 &lt;!channel&gt; &amp; &lt;@U123&gt; &lt;at user_id=\"all\"&gt;&lt;/at&gt; ok → paused (quota_5h)"},
		{"feishu.tmpl",
			`{"msg_type": "text", "content": {"text": "quotatop critical\naccount #1 ＜!channel＞ \u0026 ＜@U123＞ ＜at user_id=\"all\"＞＜/at＞ ok → paused (quota_5h)"}}`,
			"quotatop critical\naccount #1 ＜!channel＞ & ＜@U123＞ ＜at user_id=\"all\"＞＜/at＞ ok → paused (quota_5h)"},
	}
	r := newReceiver(t, 200)
	for _, c := range cases {
		src, err := os.ReadFile(filepath.Join("../contrib/notify", c.file))
		if err != nil {
			t.Fatal(err)
		}
		if err := webhook(t, r, string(src)).Send(context.Background(), hostile); err != nil {
			t.Fatalf("%s: %v", c.file, err)
		}
		body := r.got()[len(r.got())-1]
		if body != c.body {
			t.Errorf("%s body\n%s\nwant\n%s", c.file, body, c.body)
		}
		// What the receiver reads once it has parsed the JSON.
		var v struct {
			Text    string
			Content struct{ Text string }
		}
		if err := json.Unmarshal([]byte(body), &v); err != nil {
			t.Fatalf("%s: %v", c.file, err)
		}
		if got := v.Text + v.Content.Text; got != c.text || strings.ContainsAny(got, "<>") {
			t.Errorf("%s text\n%s\nwant\n%s", c.file, got, c.text)
		}
	}
}

func TestReadURL(t *testing.T) {
	env := func(v string) func(string) string {
		return func(k string) string {
			if k == "QUOTATOP_NOTIFY_WEBHOOK" {
				return v
			}
			return ""
		}
	}
	if u, err := ReadURL("", env(" https://h/x\n")); err != nil || u != "https://h/x" {
		t.Errorf("env: %q %v", u, err)
	}
	path := filepath.Join(t.TempDir(), "hook")
	os.WriteFile(path, []byte("https://h/file\n"), 0o600)
	if u, err := ReadURL(path, env("https://h/env")); err != nil || u != "https://h/file" {
		t.Errorf("file: %q %v", u, err)
	}
	os.WriteFile(path, nil, 0o600)
	if _, err := ReadURL(path, env("")); err == nil || err.Error() != "--notify-webhook-file "+path+" is empty" {
		t.Errorf("empty file: %v", err)
	}
}

// A file larger than any URL is refused before it is read, with its size.
func TestReadURLRefusesLargeFiles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hook")
	if err := os.WriteFile(path, []byte("https://h/"+strings.Repeat("x", maxURLFile)), 0o600); err != nil {
		t.Fatal(err)
	}
	want := "--notify-webhook-file " + path + " is 4106 bytes, too large for a URL (at most 4096)"
	if err := readURLOrHang(t, path); err == nil || err.Error() != want {
		t.Errorf("error %v\nwant %s", err, want)
	}
	want = "--notify-webhook-file " + path + "-missing: no such file or directory"
	if err := readURLOrHang(t, path+"-missing"); err == nil || err.Error() != want {
		t.Errorf("error %v\nwant %s", err, want)
	}
}

// readURLOrHang is ReadURL(path) from a file, failing the test rather than hanging it
// when ReadURL never returns. The minute is no timing check: only a read that blocks or
// never ends comes near it.
func readURLOrHang(t *testing.T, path string) error {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		_, err := ReadURL(path, func(string) string { return "" })
		done <- err
	}()
	select {
	case err := <-done:
		return err
	case <-time.After(time.Minute):
		t.Fatalf("ReadURL(%s) did not return", path)
		return nil
	}
}

func TestSplitArgs(t *testing.T) {
	for in, want := range map[string][]string{
		`notify-send quotatop`:             {"notify-send", "quotatop"},
		`  a   'b c'  "d \"e\" \$f" g\ h `: {"a", "b c", `d "e" $f`, "g h"},
		`x '' ""`:                          {"x", "", ""},
		`a'b'"c"`:                          {"abc"},
		``:                                 nil,
	} {
		got, err := SplitArgs(in)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("SplitArgs(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{`a 'b`, `a "b`, `a\`} {
		if _, err := SplitArgs(bad); err == nil {
			t.Errorf("SplitArgs(%q) accepted", bad)
		}
	}
}

func TestExecGetsTheBatchOnStdin(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out 1.json")
	e, err := NewExec("tee '"+out+"'", false, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Send(context.Background(), batch()); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(out); string(got) != string(batch().JSON()) {
		t.Fatalf("stdin was %q", got)
	}
}

func TestExecShellAndEnvironment(t *testing.T) {
	t.Setenv("QUOTATOP_ADMIN_KEY", "adm1n")
	t.Setenv("QUOTATOP_TEST_VISIBLE", "")
	t.Setenv("PROD_REDIS_PW", "s3cretPW") // a context's redis_password_env
	t.Setenv("NOTIFY_TEST_KEPT", "kept")
	out := filepath.Join(t.TempDir(), "env")
	e, err := NewExec("wc -c > '"+out+"'; env >> '"+out+"'", true, 5*time.Second, "PROD_REDIS_PW", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Send(context.Background(), batch()); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(out)
	if strings.Contains(string(got), "adm1n") || strings.Contains(string(got), "QUOTATOP_") || strings.Contains(string(got), "s3cretPW") {
		t.Fatalf("the command saw quotatop's secrets: %q", got)
	}
	if !strings.Contains(string(got), "NOTIFY_TEST_KEPT=kept") {
		t.Fatalf("the command lost the rest of the environment: %q", got)
	}
	if n := strings.Fields(string(got))[0]; n != itoa(len(batch().JSON())) {
		t.Errorf("the shell read %s bytes of stdin, want %d", n, len(batch().JSON()))
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func TestExecFailures(t *testing.T) {
	cases := map[string]string{
		`sh -c 'echo oops >&2; exit 3'`: "sh: exit status 3: oops",
		`/nonexistent/notify`:           `/nonexistent/notify: fork/exec /nonexistent/notify: no such file or directory`,
		`sleep 30`:                      "sleep: timed out after 100ms",
	}
	for cmd, want := range cases {
		e, err := NewExec(cmd, false, 100*time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		if err := e.Send(context.Background(), batch()); err == nil || err.Error() != want {
			t.Errorf("%s: error %v, want %s", cmd, err, want)
		}
	}
	if _, err := NewExec("  ", false, 0); err == nil {
		t.Error("an empty command was accepted")
	}
}

type failing struct{ sent chan events.Batch }

func (f failing) Name() string { return "failing" }
func (f failing) Send(_ context.Context, b events.Batch) error {
	f.sent <- b
	return errors.New("boom \x1b[31m")
}

func TestDispatcherLogsFailuresAndGoesOn(t *testing.T) {
	var logBuf bytes.Buffer
	var mu sync.Mutex
	log := slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return logBuf.Write(p)
	}), &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}}))
	a, b := failing{make(chan events.Batch, 2)}, failing{make(chan events.Batch, 2)}
	d := NewDispatcher(log, a, b)
	d.Send(batch())
	d.Send(events.Batch{}) // empty: ignored
	d.Send(batch())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	d.Close(ctx)
	if len(a.sent) != 2 || len(b.sent) != 2 {
		t.Fatalf("sinks got %d and %d batches, want 2 each", len(a.sent), len(b.sent))
	}
	mu.Lock()
	defer mu.Unlock()
	want := strings.Repeat("level=WARN msg=\"notification failed\" sink=failing err=\"boom ␛[31m\"\n", 4)
	if logBuf.String() != want {
		t.Fatalf("log\n%s\nwant\n%s", logBuf.String(), want)
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// blocking holds the first batch until released, then records the rest.
type blocking struct {
	release chan struct{}
	mu      sync.Mutex
	got     []time.Time
}

func (b *blocking) Name() string { return "blocking" }
func (b *blocking) Send(_ context.Context, batch events.Batch) error {
	b.mu.Lock()
	first := len(b.got) == 0
	b.got = append(b.got, batch.Time)
	b.mu.Unlock()
	if first {
		<-b.release
	}
	return nil
}

func TestDispatcherQueueIsBounded(t *testing.T) {
	var logBuf bytes.Buffer
	var mu sync.Mutex
	log := slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return logBuf.Write(p)
	}), nil))
	s := &blocking{release: make(chan struct{})}
	d := NewDispatcher(log, s)
	one := batch()
	d.Send(one)
	for { // wait until the sink holds the first batch, so the queue is what remains
		s.mu.Lock()
		n := len(s.got)
		s.mu.Unlock()
		if n == 1 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	for i := 1; i <= queueLen+5; i++ {
		b := batch()
		b.Time = t0.Add(time.Duration(i) * time.Second)
		d.Send(b)
	}
	close(s.release)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	d.Close(ctx)
	if len(s.got) != 1+queueLen || !s.got[1].Equal(t0.Add(6*time.Second)) {
		t.Fatalf("sink got %d batches starting %v, want %d with the 5 oldest dropped", len(s.got), s.got[1], 1+queueLen)
	}
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(logBuf.String(), "dropped=5") {
		t.Errorf("log %q does not count the dropped batches", logBuf.String())
	}
}
