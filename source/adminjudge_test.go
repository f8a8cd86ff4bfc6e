package source

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// judgeGateway serves the routes the newer rules need, recording each call and body.
type judgeGateway struct {
	mu       sync.Mutex
	calls    []string
	settings string // data of GET /settings
	version  string // data of GET /system/version
}

func (g *judgeGateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	g.mu.Lock()
	g.calls = append(g.calls, strings.TrimSpace(r.Method+" "+r.URL.Path+" "+string(body)))
	g.mu.Unlock()
	if r.Header.Get("x-api-key") != testKey {
		w.WriteHeader(401)
		return
	}
	data := "null"
	switch r.URL.Path {
	case "/api/v1/admin/settings":
		data = g.settings
	case "/api/v1/admin/system/version":
		data = g.version
	}
	io.WriteString(w, `{"code":0,"message":"success","data":`+data+`}`)
}

func TestAdminSchedulingThresholdsAndVersion(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		settings, version string
		want              map[string]float64
		wantVersion       string
		err               string
	}{
		{`{"account_scheduling_thresholds":{"openai":90,"Anthropic":"95","grok":100}}`, `{"version":"0.1.179"}`, map[string]float64{"openai": 90, "anthropic": 95, "grok": 100}, "0.1.179", ""},
		{`{"site_name":"x"}`, `"v0.1.180"`, map[string]float64{"openai": 100, "anthropic": 100, "grok": 100}, "v0.1.180", ""},
		{`{"account_scheduling_thresholds":"high"}`, `{}`, nil, "", "not in the expected shape"},
	}
	for _, c := range cases {
		a := newAdmin(t, &judgeGateway{settings: c.settings, version: c.version}, AdminConfig{})
		got, err := a.SchedulingThresholds(ctx)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: err %v", c.settings, err)
			}
			continue
		}
		gotJSON, _ := json.Marshal(got)
		wantJSON, _ := json.Marshal(c.want)
		if err != nil || string(gotJSON) != string(wantJSON) {
			t.Errorf("%s: %s %v, want %s", c.settings, gotJSON, err, wantJSON)
		}
		if v, err := a.GatewayVersion(ctx); v != c.wantVersion || err != nil {
			t.Errorf("version %q %v", v, err)
		}
	}
	a := newAdmin(t, &judgeGateway{version: `{}`}, AdminConfig{})
	if _, err := a.GatewayVersion(ctx); err == nil {
		t.Error("an empty version must be an error")
	}
}

func TestAdminResetQuotaAndEnable(t *testing.T) {
	g := &judgeGateway{}
	a := newAdmin(t, g, AdminConfig{})
	if status, err := a.ResetQuota(context.Background(), 7); err != nil || status != 200 {
		t.Fatal(status, err)
	}
	if status, err := a.EnableStatus(context.Background(), 7); err != nil || status != 200 {
		t.Fatal(status, err)
	}
	want := []string{"POST /api/v1/admin/accounts/7/reset-quota", `PUT /api/v1/admin/accounts/7 {"status":"active"}`}
	if strings.Join(g.calls, "|") != strings.Join(want, "|") {
		t.Fatalf("calls %q", g.calls)
	}
}
