package source

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

const testKey = "admin-0123456789abcdef"

// fakeGateway speaks sub2api's admin contract: envelopes, both auth modes, the routes.
type fakeGateway struct {
	mu       sync.Mutex
	calls    []string
	extra    map[string]any
	status   int    // forced status for every route, 0 = normal
	body     string // forced body
	delay    time.Duration
	lastBody map[string]any
}

func (g *fakeGateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	g.calls = append(g.calls, r.Method+" "+r.URL.RequestURI())
	status, body, delay := g.status, g.body, g.delay
	g.mu.Unlock()
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
	}
	if r.Header.Get("x-api-key") != testKey && r.Header.Get("Authorization") != "Bearer jwt-token" {
		w.WriteHeader(401)
		io.WriteString(w, `{"code":"INVALID_ADMIN_KEY","message":"invalid admin key"}`)
		return
	}
	if status != 0 {
		w.WriteHeader(status)
		io.WriteString(w, body)
		return
	}
	ok := func(data any) {
		json.NewEncoder(w).Encode(map[string]any{"code": 0, "message": "success", "data": data})
	}
	switch {
	case r.URL.Path == "/api/v1/admin/accounts/42" && r.Method == http.MethodGet:
		g.mu.Lock()
		ok(map[string]any{"id": 42, "extra": g.extra})
		g.mu.Unlock()
	case r.URL.Path == "/api/v1/admin/accounts/42" && r.Method == http.MethodPut:
		var body map[string]any
		json.NewDecoder(r.Body).Decode(&body)
		g.mu.Lock()
		g.lastBody = body
		g.mu.Unlock()
		ok(nil)
	case r.URL.Path == "/api/v1/admin/accounts/42/usage" && r.URL.Query().Get("force") == "true":
		ok(map[string]any{})
	case strings.HasPrefix(r.URL.Path, "/api/v1/admin/accounts/42/"):
		ok(nil)
	case r.URL.Path == "/api/v1/admin/ops/advanced-settings":
		ok(map[string]any{"openai_account_quota_auto_pause": map[string]any{"default_threshold_5h": 0.9, "default_threshold_7d": "1.5"}})
	default:
		w.WriteHeader(404)
		io.WriteString(w, `{"code":404,"message":"not found"}`)
	}
}

func newAdmin(t *testing.T, g http.Handler, cfg AdminConfig) *Admin {
	t.Helper()
	srv := httptest.NewServer(g)
	t.Cleanup(srv.Close)
	cfg.BaseURL = srv.URL
	if cfg.Key == "" && cfg.Token == "" {
		cfg.Key = testKey
	}
	a, err := NewAdmin(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestAdminRoutes(t *testing.T) {
	g := &fakeGateway{}
	a := newAdmin(t, g, AdminConfig{})
	ctx := context.Background()
	for _, call := range []func() (int, error){
		func() (int, error) { return a.Probe(ctx, 42) },
		func() (int, error) { return a.ClearRateLimit(ctx, 42) },
		func() (int, error) { return a.RecoverState(ctx, 42) },
		func() (int, error) { return a.ClearTempUnschedulable(ctx, 42) },
		func() (int, error) { return a.SetSchedulable(ctx, 42) },
	} {
		if status, err := call(); err != nil || status != 200 {
			t.Fatalf("status %d err %v", status, err)
		}
	}
	want := []string{"GET /api/v1/admin/accounts/42/usage?force=true", "POST /api/v1/admin/accounts/42/clear-rate-limit",
		"POST /api/v1/admin/accounts/42/recover-state", "DELETE /api/v1/admin/accounts/42/temp-unschedulable", "POST /api/v1/admin/accounts/42/schedulable"}
	if strings.Join(g.calls, "\n") != strings.Join(want, "\n") {
		t.Fatalf("calls:\n%s", strings.Join(g.calls, "\n"))
	}
	th, err := a.DefaultThresholds(ctx)
	if err != nil || th != [2]float64{0.9, 1} {
		t.Fatalf("thresholds %v %v", th, err)
	}
}

func TestBearerToken(t *testing.T) {
	a := newAdmin(t, &fakeGateway{}, AdminConfig{Token: "jwt-token"})
	if _, err := a.RecoverState(context.Background(), 42); err != nil {
		t.Fatal(err)
	}
}

// The gateway replaces extra whole: every other key must survive the exemption.
func TestExemptWindowKeepsExtra(t *testing.T) {
	g := &fakeGateway{extra: map[string]any{"codex_5h_used_percent": 97.5, "auto_pause_5h_threshold": 0.95, "model_mapping": map[string]any{"a": "b"}, "auto_pause_7d_disabled": false}}
	a := newAdmin(t, g, AdminConfig{})
	if _, err := a.ExemptWindow(context.Background(), 42, "5h"); err != nil {
		t.Fatal(err)
	}
	extra, _ := g.lastBody["extra"].(map[string]any)
	if extra["auto_pause_5h_disabled"] != true || extra["codex_5h_used_percent"] != 97.5 || extra["auto_pause_5h_threshold"] != 0.95 ||
		extra["auto_pause_7d_disabled"] != false || extra["model_mapping"].(map[string]any)["a"] != "b" || len(extra) != 5 {
		t.Fatalf("extra written back: %v", extra)
	}
	// No readable extra: nothing is written.
	g.extra, g.lastBody = nil, nil
	if _, err := a.ExemptWindow(context.Background(), 42, "7d"); err == nil || g.lastBody != nil {
		t.Fatalf("wrote without a readable extra: %v", err)
	}
}

func TestAdminErrors(t *testing.T) {
	cases := []struct {
		name, want string
		status     int
		body       string
		cfg        AdminConfig
	}{
		{"wrong key", "rejected the admin credential (HTTP 401: invalid admin key)", 0, "", AdminConfig{Key: "admin-wrong"}},
		{"forbidden", "rejected the admin credential (HTTP 403", 403, `{"code":403,"message":"forbidden"}`, AdminConfig{}},
		{"compliance", "accept its compliance notice once in its web UI (HTTP 423)", 423, `{"code":"ADMIN_COMPLIANCE_ACK_REQUIRED","message":"ack required"}`, AdminConfig{}},
		{"gone", "account #42 no longer exists on the gateway (HTTP 404)", 404, `{"code":404,"message":"account not found"}`, AdminConfig{}},
		{"html from a proxy", "HTTP 502 with something that is not JSON", 502, "<html>bad gateway</html>", AdminConfig{}},
		{"200 not json", "HTTP 200 with something that is not JSON", 200, "OK", AdminConfig{}},
		{"refused in envelope", "the gateway refused: account busy (code 1001)", 200, `{"code":1001,"message":"account busy"}`, AdminConfig{}},
		{"escape in message", "the gateway answered HTTP 500: boom␛[31m", 500, `{"code":500,"message":"boom\u001b[31m"}`, AdminConfig{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := newAdmin(t, &fakeGateway{status: c.status, body: c.body}, c.cfg)
			_, err := a.RecoverState(context.Background(), 42)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want %q", err, c.want)
			}
			if strings.Contains(err.Error(), testKey) || strings.Contains(err.Error(), "admin-wrong") {
				t.Fatalf("the key leaked into %q", err)
			}
		})
	}
}

func TestProbeTimeoutAndRefused(t *testing.T) {
	a := newAdmin(t, &fakeGateway{delay: 3 * time.Second}, AdminConfig{ProbeTimeout: 200 * time.Millisecond})
	start := time.Now()
	_, err := a.Probe(context.Background(), 42)
	if err == nil || !strings.Contains(err.Error(), "did not answer within 200ms") || time.Since(start) > 2*time.Second {
		t.Fatalf("slow probe: %v after %v", err, time.Since(start))
	}
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	dead, _ := NewAdmin(AdminConfig{BaseURL: url, Key: testKey})
	if _, err := dead.Probe(context.Background(), 42); err == nil || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("dead gateway: %v", err)
	}
}

func TestAdminConfigErrors(t *testing.T) {
	if _, err := NewAdmin(AdminConfig{BaseURL: "ftp://x", Key: "k"}); err == nil {
		t.Fatal("ftp accepted")
	}
	if _, err := NewAdmin(AdminConfig{BaseURL: "https://x"}); err == nil || !strings.Contains(err.Error(), "QUOTATOP_ADMIN_KEY") {
		t.Fatalf("missing key: %v", err)
	}
}

func TestPrivateCA(t *testing.T) {
	srv := httptest.NewTLSServer(&fakeGateway{})
	defer srv.Close()
	// Without the CA the certificate is not trusted, and the sentence says what to do.
	a, _ := NewAdmin(AdminConfig{BaseURL: srv.URL, Key: testKey})
	if _, err := a.RecoverState(context.Background(), 42); err == nil || !strings.Contains(err.Error(), "--api-ca") {
		t.Fatalf("untrusted certificate: %v", err)
	}
	ca := filepath.Join(t.TempDir(), "ca.pem")
	os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600)
	a, err := NewAdmin(AdminConfig{BaseURL: srv.URL, Key: testKey, CAFile: ca})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.RecoverState(context.Background(), 42); err != nil {
		t.Fatalf("with --api-ca: %v", err)
	}
}
