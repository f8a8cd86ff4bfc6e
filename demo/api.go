package demo

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// API is the demo's simulated sub2api admin API: the same routes, envelopes and key
// check as the real gateway, working on the same embedded Redis, so the demo exercises
// quotatop's production client path.
type API struct {
	URL    string
	Key    string
	server *http.Server
	sim    *Sim
	// ProbeDelay is how long a probe takes (the real one waits on upstream).
	ProbeDelay time.Duration
}

// StartAPI serves the admin API on a loopback port with a freshly generated key.
func StartAPI(sim *Sim) (*API, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	raw := make([]byte, 16)
	rand.Read(raw)
	api := &API{URL: "http://" + l.Addr().String(), Key: "admin-" + hex.EncodeToString(raw), sim: sim, ProbeDelay: time.Second}
	api.server = &http.Server{Handler: api, ReadHeaderTimeout: 5 * time.Second}
	go api.server.Serve(l)
	return api, nil
}

// Close stops the server.
func (api *API) Close() { api.server.Close() }

func reply(w http.ResponseWriter, status int, code any, message string, data any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"code": code, "message": message, "data": data})
}

func (api *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("x-api-key") != api.Key {
		reply(w, http.StatusUnauthorized, "INVALID_ADMIN_KEY", "invalid admin key", nil)
		return
	}
	path := strings.TrimPrefix(r.URL.Path, "/api/v1/admin")
	// The thresholds are the simulator's own policy, which decides whom it sends traffic.
	policy := api.sim.policy
	if path == "/ops/advanced-settings" && r.Method == http.MethodGet {
		reply(w, 200, 0, "success", map[string]any{"openai_account_quota_auto_pause": map[string]any{
			"default_threshold_5h": policy.DefaultThreshold[0], "default_threshold_7d": policy.DefaultThreshold[1]}})
		return
	}
	switch {
	case path == "/settings" && r.Method == http.MethodGet:
		reply(w, 200, 0, "success", map[string]any{"site_name": "quotatop demo", "account_scheduling_thresholds": policy.SchedulingThresholds})
		return
	case path == "/accounts" && r.Method == http.MethodGet:
		api.listAccounts(w, r)
		return
	case path == "/system/version" && r.Method == http.MethodGet:
		reply(w, 200, 0, "success", map[string]any{"version": "0.1.179"})
		return
	}
	rest, ok := strings.CutPrefix(path, "/accounts/")
	if !ok {
		reply(w, http.StatusNotFound, 404, "route not found", nil)
		return
	}
	idText, route, _ := strings.Cut(rest, "/")
	id, err := strconv.ParseInt(idText, 10, 64)
	if err != nil {
		reply(w, http.StatusBadRequest, 400, "invalid account id", nil)
		return
	}
	ctx := r.Context()
	switch {
	case route == "usage" && r.Method == http.MethodGet && r.URL.Query().Get("force") == "true":
		select {
		case <-time.After(api.ProbeDelay):
		case <-ctx.Done():
			return
		}
		err = api.sim.probe(ctx, id)
	case route == "" && r.Method == http.MethodGet:
		// Encoded under the simulator's lock: traffic changes the map concurrently.
		var dto []byte
		err = api.sim.Look(id, func(a *Account) {
			if d, ok := a.DTO(); ok {
				dto, _ = json.Marshal(d)
			}
		})
		if err == nil && dto == nil {
			err = errNoAccount // a corrupt stored value has no row behind it
		}
		if err == nil {
			reply(w, 200, 0, "success", json.RawMessage(dto))
			return
		}
	case route == "" && r.Method == http.MethodPut:
		var body struct {
			Extra  map[string]any `json:"extra"`
			Status string         `json:"status"`
		}
		if json.NewDecoder(r.Body).Decode(&body) != nil {
			reply(w, http.StatusBadRequest, 400, "invalid body", nil)
			return
		}
		err = api.sim.Change(ctx, id, func(a *Account, _ time.Time) {
			if body.Extra != nil {
				a.Extra = body.Extra // the real gateway replaces the whole map too
			}
			if body.Status != "" {
				a.Status = body.Status
			}
		})
	case route == "reset-quota" && r.Method == http.MethodPost:
		err = api.sim.Change(ctx, id, func(a *Account, _ time.Time) {
			for _, k := range []string{"quota_used", "quota_daily_used", "quota_weekly_used"} {
				if _, ok := a.Extra[k]; ok {
					a.Extra[k] = 0
				}
			}
		})
	case route == "clear-rate-limit" && r.Method == http.MethodPost:
		err = api.sim.Change(ctx, id, func(a *Account, _ time.Time) {
			a.RateLimitedAt, a.RateLimitResetAt, a.OverloadUntil, a.TempUntil, a.TempReason = nil, nil, nil, nil, ""
			delete(a.Extra, "model_rate_limits")
		})
	case route == "recover-state" && r.Method == http.MethodPost:
		err = api.sim.Change(ctx, id, func(a *Account, _ time.Time) {
			a.Status, a.RateLimitedAt, a.RateLimitResetAt = "active", nil, nil
		})
	case route == "temp-unschedulable" && r.Method == http.MethodDelete:
		err = api.sim.Change(ctx, id, func(a *Account, _ time.Time) { a.TempUntil, a.TempReason = nil, "" })
	case route == "schedulable" && r.Method == http.MethodPost:
		var body struct {
			Schedulable bool `json:"schedulable"`
		}
		json.NewDecoder(r.Body).Decode(&body)
		err = api.sim.Change(ctx, id, func(a *Account, _ time.Time) { a.Schedulable = body.Schedulable })
	default:
		reply(w, http.StatusNotFound, 404, "route not found", nil)
		return
	}
	switch {
	case errors.Is(err, errNoAccount):
		reply(w, http.StatusNotFound, 404, "account not found", nil)
	case err != nil:
		reply(w, http.StatusInternalServerError, 500, "demo storage failed", nil)
	default:
		reply(w, 200, 0, "success", map[string]any{})
	}
}
