package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"syscall"
	"text/template"
	"time"

	"github.com/quotatop/quotatop/events"
	"github.com/quotatop/quotatop/model"
)

// Webhook POSTs each batch as JSON, shaped by an optional text/template, with bounded
// retries. Its URL usually holds a token, so it is only ever shown masked.
type Webhook struct {
	url    string
	masked string
	tmpl   *template.Template
	client *http.Client

	// Attempts bounds the tries per batch; Backoff is the first pause between them,
	// doubled each time up to MaxBackoff.
	Attempts            int
	Backoff, MaxBackoff time.Duration
	// Timeout bounds one attempt (connect, send, read the answer).
	Timeout time.Duration

	// wait pauses between attempts until d has passed or ctx ends (tests record it).
	wait func(ctx context.Context, d time.Duration) error
}

// NewWebhook prepares a webhook; tmpl is the body template's text, "" for the batch JSON.
func NewWebhook(rawURL, tmpl string) (*Webhook, error) {
	u, err := url.Parse(strings.TrimSpace(rawURL))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		// Never echo the URL: it is the secret.
		return nil, errors.New("the webhook URL is not an http:// or https:// URL with a host")
	}
	w := &Webhook{url: u.String(), masked: Mask(u.String()), Attempts: 4, Backoff: time.Second, MaxBackoff: 30 * time.Second, Timeout: 10 * time.Second, wait: sleep}
	if tmpl != "" {
		if w.tmpl, err = ParseTemplate(tmpl); err != nil {
			return nil, err
		}
		// A template that fails only when run (a misspelt field) would fail at the first
		// event, the one it was written for: try it on a batch of every kind now.
		if _, err := w.Body(sampleBatch()); err != nil {
			return nil, fmt.Errorf("%w (tried on a sample batch at start)", err)
		}
	}
	w.client = &http.Client{
		// A redirect would carry the body (and the receiver's trust) somewhere else.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return w, nil
}

// sampleBatch holds one event of every kind, each with its details filled in.
func sampleBatch() events.Batch {
	at := time.Date(2026, 1, 1, 3, 0, 0, 0, time.UTC)
	return events.Batch{Time: at, Events: []events.Event{
		{Time: at, Kind: events.KindState, Severity: events.Critical, Summary: "1 account changed state (1 now paused)",
			Accounts: []events.AccountChange{{ID: 1, Name: "sample", From: model.StateOK, To: model.StatePaused, Reasons: []model.Reason{model.ReasonQuota5h}}}},
		{Time: at, Kind: events.KindWindow, Severity: events.Warning, Summary: "1 window crossed the 80% warn level",
			Windows: []events.WindowChange{{ID: 1, Name: "sample", Window: model.Window5h, Up: true, UsedPercent: 81}}},
		{Time: at, Kind: events.KindDry, Severity: events.Warning, Summary: "1 window projected to run dry soon",
			Windows: []events.WindowChange{{ID: 1, Name: "sample", Window: model.Window7d, Up: true, UsedPercent: 90, TimeToDry: time.Minute}}},
		{Time: at, Kind: events.KindGroup, Severity: events.Critical, Summary: "group g1 has no schedulable account",
			Groups: []events.GroupChange{{ID: 1, Platform: "openai", Schedulable: 0, Total: 2}}},
		{Time: at, Kind: events.KindStorage, Severity: events.Resolved, Summary: "storage reachable again",
			Storage: &events.StorageChange{Down: false, For: time.Minute}},
	}}
}

// maxURLFile bounds the webhook URL file: a URL is a few hundred bytes, and a path to a
// device or a huge file must fail at once instead of reading until memory runs out.
const maxURLFile = 4 << 10

// ReadURL returns the webhook URL from path (--notify-webhook-file), else from the
// environment variable QUOTATOP_NOTIFY_WEBHOOK; "" when neither is set. The file must be
// a regular file of at most maxURLFile bytes, as the admin key file must.
func ReadURL(path string, getenv func(string) string) (string, error) {
	if path == "" {
		return strings.TrimSpace(getenv("QUOTATOP_NOTIFY_WEBHOOK")), nil
	}
	// Opened non-blocking, so that a FIFO without a writer does not hang the start; its
	// mode is checked on the open file, so that nothing swaps it in between.
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err // its text repeats the path
		}
		return "", fmt.Errorf("--notify-webhook-file %s: %w", path, err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return "", fmt.Errorf("--notify-webhook-file %s: %w", path, err)
	}
	if !info.Mode().IsRegular() {
		return "", fmt.Errorf("--notify-webhook-file %s is not a regular file (put the URL in a plain file)", path)
	}
	if info.Size() > maxURLFile {
		return "", fmt.Errorf("--notify-webhook-file %s is %d bytes, too large for a URL (at most %d)", path, info.Size(), maxURLFile)
	}
	b, err := io.ReadAll(io.LimitReader(f, maxURLFile+1))
	if err != nil {
		return "", fmt.Errorf("--notify-webhook-file %s: %w", path, err)
	}
	if len(b) > maxURLFile {
		return "", fmt.Errorf("--notify-webhook-file %s grew past %d bytes while being read", path, maxURLFile)
	}
	u := strings.TrimSpace(string(b))
	if u == "" {
		return "", fmt.Errorf("--notify-webhook-file %s is empty", path)
	}
	return u, nil
}

// Mask shows a URL's scheme and host only: tokens live in paths and queries.
func Mask(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "(webhook URL)"
	}
	return u.Scheme + "://" + u.Host + "/…"
}

// Name is the masked URL.
func (w *Webhook) Name() string { return "webhook " + w.masked }

// Message is what a body template sees.
type Message struct {
	// Title is "quotatop " and the batch's severity: "quotatop critical".
	Title string
	// Text is one line per event summary, newline-separated, every line sanitised.
	Text     string
	Severity events.Severity
	Time     time.Time
	Events   []events.Event
}

// NewMessage builds the template's view of a batch.
func NewMessage(b events.Batch) Message {
	lines := make([]string, len(b.Events))
	for i, e := range b.Events {
		lines[i] = model.Sanitize(e.Summary)
	}
	sev := b.Severity()
	return Message{Title: "quotatop " + string(sev), Text: strings.Join(lines, "\n"), Severity: sev, Time: b.Time, Events: b.Events}
}

// ParseTemplate parses a body template. Besides text/template's own functions it has
// json (a value as JSON: quoted and escaped, for strings), upper, and slack and feishu,
// which make text (account names included) inert in those receivers' messages.
func ParseTemplate(text string) (*template.Template, error) {
	t, err := template.New("webhook").Option("missingkey=error").Funcs(template.FuncMap{
		"json": func(v any) (string, error) {
			b, err := json.Marshal(v)
			return string(b), err
		},
		"upper":  strings.ToUpper,
		"slack":  slackText,
		"feishu": feishuText,
	}).Parse(text)
	if err != nil {
		return nil, fmt.Errorf("webhook template: %w", err)
	}
	return t, nil
}

// slackEscaper escapes Slack's control characters as its formatting reference asks.
var slackEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// slackText escapes s for a Slack message's text: an account named <!channel> or <@U123>
// would otherwise notify the whole channel or a person. Slack shows the entities as the
// characters.
func slackText(s string) string { return slackEscaper.Replace(s) }

// feishuEscaper turns angle brackets into their full-width forms. Feishu's text
// messages document no entity escape, and a <, left as it is, can open an
// <at user_id="all"> tag.
var feishuEscaper = strings.NewReplacer("<", "＜", ">", "＞")

// feishuText makes s inert in a Feishu (Lark) text message: an account named
// <at user_id="all"></at> would otherwise mention everyone in the group.
func feishuText(s string) string { return feishuEscaper.Replace(s) }

// Body renders a batch as the receiver will get it.
func (w *Webhook) Body(b events.Batch) ([]byte, error) {
	if w.tmpl == nil {
		return b.JSON(), nil
	}
	var buf bytes.Buffer
	if err := w.tmpl.Execute(&buf, NewMessage(b)); err != nil {
		return nil, fmt.Errorf("render the webhook template: %w", err)
	}
	// Template files end with a newline the receiver has no use for.
	body := bytes.TrimSpace(buf.Bytes())
	if !json.Valid(body) {
		return nil, errors.New("the webhook template did not produce valid JSON (quote strings with {{json .Text}})")
	}
	return body, nil
}

// Send POSTs the batch, retrying network errors, 429 and 5xx answers with back-off. A 429
// or 503 that says how long to wait (Retry-After) is waited out instead, up to
// MaxBackoff: the batches behind this one wait too. A wait that would outlast ctx's
// deadline is not begun.
func (w *Webhook) Send(ctx context.Context, b events.Batch) error {
	body, err := w.Body(b)
	if err != nil {
		return err
	}
	delay := w.Backoff
	for attempt := 1; ; attempt++ {
		retry, asked, err := w.post(ctx, body)
		if err == nil {
			return nil
		}
		if !retry || attempt >= w.Attempts {
			return fmt.Errorf("POST %s (attempt %d of %d): %w", w.masked, attempt, w.Attempts, err)
		}
		pause := delay
		if asked > 0 {
			pause = min(asked, w.MaxBackoff)
		}
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < pause {
			return fmt.Errorf("POST %s (attempt %d of %d): %w; the next attempt, in %s, would be past the delivery's deadline", w.masked, attempt, w.Attempts, err, pause)
		}
		if err := w.wait(ctx, pause); err != nil {
			return fmt.Errorf("POST %s: %w", w.masked, err)
		}
		delay = min(delay*2, w.MaxBackoff)
	}
}

// sleep waits d, or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// retryAfter reads a Retry-After header, delay-seconds or an HTTP date, as the wait it
// asks for from now; 0 when there is none, it is unreadable or it has passed.
func retryAfter(header string, now time.Time) time.Duration {
	header = strings.TrimSpace(header)
	if header == "" {
		return 0
	}
	if secs, err := strconv.ParseUint(header, 10, 32); err == nil {
		return time.Duration(secs) * time.Second
	}
	if at, err := http.ParseTime(header); err == nil {
		return max(at.Sub(now), 0)
	}
	return 0
}

// post makes one attempt and says whether a failure is worth retrying, and how long the
// receiver asked to be left alone first (0: it did not say).
func (w *Webhook) post(ctx context.Context, body []byte) (retry bool, asked time.Duration, err error) {
	ctx, cancel := context.WithTimeout(ctx, w.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader(body))
	if err != nil {
		return false, 0, errors.New("cannot build the request")
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "quotatop")
	resp, err := w.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // its text repeats the URL
		}
		if ctx.Err() == context.DeadlineExceeded {
			err = fmt.Errorf("no answer within %s", w.Timeout)
		}
		return true, 0, errors.New(w.scrub(err.Error()))
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	snippet := w.scrub(model.Sanitize(strings.TrimSpace(string(answer))))
	if len(snippet) > 200 {
		snippet = snippet[:200] + "…"
	}
	switch {
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable:
		return true, retryAfter(resp.Header.Get("Retry-After"), time.Now()), fmt.Errorf("HTTP %d: %s", resp.StatusCode, snippet)
	case resp.StatusCode >= 500:
		return true, 0, fmt.Errorf("HTTP %d: %s", resp.StatusCode, snippet)
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		return false, 0, fmt.Errorf("HTTP %d: %s", resp.StatusCode, snippet)
	}
	// Feishu, WeCom and DingTalk answer 200 and put the refusal in the body.
	var refusal struct {
		Code    *int   `json:"code"`
		ErrCode *int   `json:"errcode"`
		Msg     string `json:"msg"`
		ErrMsg  string `json:"errmsg"`
	}
	if json.Unmarshal(answer, &refusal) == nil {
		for _, c := range []*int{refusal.Code, refusal.ErrCode} {
			if c != nil && *c != 0 {
				return false, 0, fmt.Errorf("the receiver refused the message: code %d: %s", *c, w.scrub(model.Sanitize(refusal.Msg+refusal.ErrMsg)))
			}
		}
	}
	return false, 0, nil
}

// scrub masks the URL wherever a message might repeat it.
func (w *Webhook) scrub(s string) string {
	s = strings.ReplaceAll(s, w.url, w.masked)
	if u, err := url.Parse(w.url); err == nil && len(u.RequestURI()) > 1 {
		s = strings.ReplaceAll(s, u.RequestURI(), "/…")
	}
	return s
}
