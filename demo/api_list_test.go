package demo

import (
	"context"
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/quotatop/quotatop/model"
	"github.com/quotatop/quotatop/source"
)

// The demo's admin API lists the same fleet its Redis holds, and the admin-API reader
// judges every account exactly as the Redis reader does.
func TestAPIListJudgesLikeRedis(t *testing.T) {
	g, admin := startWithAPI(t)
	reader := source.NewAPI(admin)
	fromAPI, err := reader.Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	fromRedis, err := g.Reader.Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	byID := map[int64]model.Account{}
	corrupt := 0
	for _, a := range fromRedis {
		if a.Invalid != "" {
			corrupt++
			continue
		}
		byID[a.ID] = a
	}
	if len(fromAPI) != len(byID) || corrupt == 0 {
		t.Fatalf("API lists %d accounts, Redis holds %d readable (and %d corrupt)", len(fromAPI), len(byID), corrupt)
	}
	p := model.DefaultPolicy()
	p.SchedulingThresholds = map[string]float64{"openai": 98}
	for _, a := range fromAPI {
		r, ok := byID[a.ID]
		if !ok {
			t.Fatalf("account %d only in the API", a.ID)
		}
		if a.Key != source.APIKey(a.ID) || strings.Contains(a.Key, "meta") {
			t.Fatalf("key %q", a.Key)
		}
		ja, jr := model.Judge(&a, p, t0), model.Judge(&r, p, t0)
		if !reflect.DeepEqual(ja, jr) {
			t.Errorf("%s: API judges %s %v, Redis %s %v", a.Name, ja.State, ja.Reasons, jr.State, jr.Reasons)
		}
	}

	// An unchanged fleet is answered 304 page by page; a simulated minute changes it.
	if _, err := reader.Read(context.Background()); err != nil || !strings.Contains(reader.TrackingStatus(), "1 of 1 page(s) unchanged") {
		t.Fatalf("second read: %v, %q", err, reader.TrackingStatus())
	}
	if err := g.Sim.Step(context.Background(), t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, err := reader.Read(context.Background()); err != nil || !strings.Contains(reader.TrackingStatus(), "0 of 1 page(s) unchanged") {
		t.Fatalf("after a step: %v, %q", err, reader.TrackingStatus())
	}
}

// The list never carries a secret credential: the gateway redacts them.
func TestAPIListRedactsCredentials(t *testing.T) {
	g, err := Start(t0, source.DefaultPrefix)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	g.Sim.Look(101, func(a *Account) { a.Credentials["api_key"] = "sk-live-THIS-MUST-NEVER-BE-SHOWN" })
	api, err := StartAPI(g.Sim)
	if err != nil {
		t.Fatal(err)
	}
	defer api.Close()
	for _, path := range []string{"/api/v1/admin/accounts?page=1&page_size=1000", "/api/v1/admin/accounts/101"} {
		req, _ := http.NewRequest(http.MethodGet, api.URL+path, nil)
		req.Header.Set("x-api-key", api.Key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body map[string]any
		json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		raw, _ := json.Marshal(body)
		if resp.StatusCode != 200 || strings.Contains(string(raw), "MUST-NEVER") || !strings.Contains(string(raw), `"plan_type"`) {
			t.Fatalf("%s: HTTP %d %.300s", path, resp.StatusCode, raw)
		}
	}
}
