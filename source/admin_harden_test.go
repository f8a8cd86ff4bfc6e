package source

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// A redirect never carries the admin key anywhere: the request is not re-sent, and the
// operator reads where the gateway pointed.
func TestAdminNeverFollowsRedirects(t *testing.T) {
	var stolen atomic.Int32
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("x-api-key") != "" || r.Header.Get("Authorization") != "" {
			stolen.Add(1)
		}
		io.WriteString(w, `{"code":0,"message":"success","data":{}}`)
	}))
	defer elsewhere.Close()
	for _, status := range []int{301, 302, 303, 307, 308} {
		gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Location", elsewhere.URL+"/steal?token=abc")
			w.WriteHeader(status)
		}))
		a, err := NewAdmin(AdminConfig{BaseURL: gw.URL, Key: testKey, Timeout: 3 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		for name, call := range map[string]func() error{
			"probe":       func() error { _, err := a.Probe(context.Background(), 42); return err },
			"clear":       func() error { _, err := a.ClearRateLimit(context.Background(), 42); return err },
			"schedulable": func() error { _, err := a.SetSchedulable(context.Background(), 42); return err },
		} {
			err := call()
			if err == nil {
				t.Fatalf("%d %s: a redirect counted as success", status, name)
			}
			msg := err.Error()
			if !strings.Contains(msg, "redirected to "+elsewhere.URL+"/steal") || !strings.Contains(msg, "point --api at the final address") {
				t.Errorf("%d %s: %q does not name the target", status, name, msg)
			}
			if strings.Contains(msg, "token=abc") || strings.Contains(msg, testKey) {
				t.Errorf("%d %s: %q leaks the query or the key", status, name, msg)
			}
		}
		gw.Close()
	}
	if n := stolen.Load(); n > 0 {
		t.Fatalf("the admin credential reached the redirect target %d times", n)
	}
}

// Text from a hostile gateway is sanitised and cut where the sentence is built.
func TestAdminErrorTextIsSanitisedAndCut(t *testing.T) {
	huge := strings.Repeat("\x1b]0;owned\x07\x1b[2J", 1<<20/12) // about 1 MB of escapes
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(500)
		io.WriteString(w, `{"code":"E\u001b[31m","message":"`+strings.ReplaceAll(huge, "\x1b", `\u001b`)+`"}`)
	}))
	defer gw.Close()
	a, err := NewAdmin(AdminConfig{BaseURL: gw.URL, Key: testKey, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	_, err = a.Probe(context.Background(), 42)
	if err == nil {
		t.Fatal("a 500 counted as success")
	}
	msg := err.Error()
	if strings.ContainsAny(msg, "\x1b\x07") {
		t.Fatalf("escape reached the sentence: %q", msg[:min(len(msg), 200)])
	}
	if len(msg) > 2000 {
		t.Fatalf("the sentence is %d bytes: a hostile message must be cut", len(msg))
	}
	var apiErr *APIError
	if !errors.As(err, &apiErr) || len(apiErr.Message) > 1000 {
		t.Fatalf("the kept message is not cut: %d bytes", len(apiErr.Message))
	}
}

// An admin API URL that carries a credential (user:password@, a query, a fragment) is
// refused, and the refusal does not repeat it: the URL is printed in every error, log
// line and storage-outage event.
func TestAdminRefusesCredentialsInItsURL(t *testing.T) {
	for _, raw := range []string{"http://admin:s3cr3t-value@127.0.0.1:9", "http://s3cr3t-value@127.0.0.1:9", "https://gw.example/?token=s3cr3t-value",
		"https://gw.example/#s3cr3t-value", "http://127.0.0.1:9/?", "ftp://u:s3cr3t-value@gw"} {
		_, err := NewAdmin(AdminConfig{BaseURL: raw, Key: "k"})
		if err == nil || strings.Contains(err.Error(), "s3cr3t-value") {
			t.Errorf("%s: %v", raw, err)
		}
	}
	if _, err := NewAdmin(AdminConfig{BaseURL: "https://gw.example/sub2api", Key: "k"}); err != nil {
		t.Fatalf("a bare address with a path: %v", err)
	}
}

// A Redis URL's query values are masked wherever the URL is shown or quoted in an error.
func TestRedisURLQueryIsMasked(t *testing.T) {
	raw := "redis://127.0.0.1:1/0?password=s3cr3t-value&dial_timeout=s3cr3t-value"
	if got := Redacted(raw); strings.Contains(got, "s3cr3t-value") || !strings.Contains(got, "password=xxxxx") {
		t.Fatalf("Redacted: %s", got)
	}
	if _, err := OpenRedis(Conn{URL: raw}, "sched:"); err == nil || strings.Contains(err.Error(), "s3cr3t-value") {
		t.Fatalf("OpenRedis: %v", err)
	}
	// A short value is masked where it is quoted, without masking every "1" around it.
	_, err := OpenRedis(Conn{URL: "redis://127.0.0.1:1/0?dial_timeout=x1"}, "sched:")
	if err == nil || strings.Contains(err.Error(), `"x1"`) || !strings.Contains(err.Error(), "redis://127.0.0.1:1/0?dial_timeout=xxxxx") {
		t.Fatalf("OpenRedis: %v", err)
	}
}
