package source

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"net/http"
	"strings"

	"github.com/quotatop/quotatop/model"
)

// SchedulingThresholds reads the gateway's per-platform scheduling thresholds (percent,
// account_scheduling_thresholds of GET /settings). An absent map means the gateway's
// default, every platform off.
func (a *Admin) SchedulingThresholds(ctx context.Context) (map[string]float64, error) {
	data, _, err := a.call(ctx, http.MethodGet, "/settings", nil, a.timeout, 0)
	if err != nil {
		return nil, err
	}
	var s struct {
		T map[string]json.Number `json:"account_scheduling_thresholds"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&s); err != nil {
		return nil, &APIError{Sentence: "the gateway's settings are not in the expected shape (account_scheduling_thresholds)"}
	}
	if s.T == nil {
		return model.DefaultSchedulingThresholds(), nil
	}
	out := make(map[string]float64, len(s.T))
	for k, v := range s.T {
		f, err := v.Float64()
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			continue
		}
		out[strings.ToLower(model.Sanitize(k))] = f
	}
	return out, nil
}

// GatewayVersion reads GET /system/version ({"version":"0.1.179"}; a bare string is
// accepted too).
func (a *Admin) GatewayVersion(ctx context.Context) (string, error) {
	data, _, err := a.call(ctx, http.MethodGet, "/system/version", nil, a.timeout, 0)
	if err != nil {
		return "", err
	}
	var s string
	if json.Unmarshal(data, &s) == nil && s != "" {
		return model.Sanitize(s), nil
	}
	var o struct {
		Version string `json:"version"`
	}
	if json.Unmarshal(data, &o) == nil && strings.TrimSpace(o.Version) != "" {
		return model.Sanitize(strings.TrimSpace(o.Version)), nil
	}
	return "", &APIError{Sentence: "the gateway's version answer is not in the expected shape"}
}

// ResetQuota resets an apikey or bedrock account's local USD usage.
func (a *Admin) ResetQuota(ctx context.Context, id int64) (int, error) {
	_, status, err := a.call(ctx, http.MethodPost, accountPath(id, "/reset-quota"), nil, a.timeout, id)
	return status, err
}

// EnableStatus sets the account's status back to active, undoing a disable in the web UI.
func (a *Admin) EnableStatus(ctx context.Context, id int64) (int, error) {
	_, status, err := a.call(ctx, http.MethodPut, accountPath(id, ""), map[string]string{"status": "active"}, a.timeout, id)
	return status, err
}
