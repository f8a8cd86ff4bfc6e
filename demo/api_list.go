package demo

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// accountDTO is the admin API's account as sub2api's dto.Account renders it: snake_case,
// Unix seconds for expires_at, credentials with the secret keys removed.
type accountDTO struct {
	ID                      int64          `json:"id"`
	Name                    string         `json:"name"`
	Notes                   *string        `json:"notes"`
	Platform                string         `json:"platform"`
	Type                    string         `json:"type"`
	Credentials             map[string]any `json:"credentials"`
	Extra                   map[string]any `json:"extra"`
	ProxyID                 *int64         `json:"proxy_id"`
	Concurrency             int            `json:"concurrency"`
	Priority                int            `json:"priority"`
	RateMultiplier          float64        `json:"rate_multiplier"`
	Status                  string         `json:"status"`
	ErrorMessage            string         `json:"error_message"`
	LastUsedAt              *time.Time     `json:"last_used_at"`
	ExpiresAt               *int64         `json:"expires_at"`
	AutoPauseOnExpired      bool           `json:"auto_pause_on_expired"`
	Schedulable             bool           `json:"schedulable"`
	RateLimitedAt           *time.Time     `json:"rate_limited_at"`
	RateLimitResetAt        *time.Time     `json:"rate_limit_reset_at"`
	OverloadUntil           *time.Time     `json:"overload_until"`
	TempUnschedulableUntil  *time.Time     `json:"temp_unschedulable_until"`
	TempUnschedulableReason string         `json:"temp_unschedulable_reason"`
	GroupIDs                []int64        `json:"group_ids,omitempty"`
	CurrentConcurrency      int            `json:"current_concurrency"`
}

// secretCredentials are the keys the gateway's RedactCredentials removes.
var secretCredentials = map[string]bool{"access_token": true, "refresh_token": true, "id_token": true,
	"api_key": true, "session_key": true, "cookie": true, "password": true, "private_key": true}

// DTO renders the account as the admin API lists it. A corrupt stored value (Raw) has
// no database row behind it, so it has no DTO either.
func (a *Account) DTO() (accountDTO, bool) {
	if a.Raw != "" {
		return accountDTO{}, false
	}
	creds := map[string]any{}
	for k, v := range a.Credentials {
		if !secretCredentials[k] {
			creds[k] = v
		}
	}
	d := accountDTO{ID: a.ID, Name: a.Name, Platform: a.Platform, Type: a.Type, Credentials: creds, Extra: a.Extra,
		Concurrency: a.Concurrency, Priority: a.Priority, RateMultiplier: 1, Status: a.Status, LastUsedAt: a.LastUsedAt,
		AutoPauseOnExpired: a.AutoPauseOnExpired, Schedulable: a.Schedulable, RateLimitedAt: a.RateLimitedAt,
		RateLimitResetAt: a.RateLimitResetAt, OverloadUntil: a.OverloadUntil, TempUnschedulableUntil: a.TempUntil,
		TempUnschedulableReason: a.TempReason, GroupIDs: a.GroupIDs}
	if a.ExpiresAt != nil {
		s := a.ExpiresAt.Unix()
		d.ExpiresAt = &s
	}
	return d, true
}

// listAccounts serves GET /accounts as sub2api does: page and page_size (1-1000, else
// 20), sorted by ID, an ETag over the page and 304 when If-None-Match names it.
func (api *API) listAccounts(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	page := queryInt(q.Get("page"), 1, 1<<30)
	size := queryInt(q.Get("page_size"), 20, 1000)
	var items []accountDTO
	total := 0
	// Encoded under the simulator's lock: traffic changes the maps concurrently.
	var raw []byte
	api.sim.Each(func(a *Account) {
		d, ok := a.DTO()
		if !ok {
			return
		}
		if total >= (page-1)*size && len(items) < size {
			items = append(items, d)
		}
		total++
	}, func() { raw, _ = json.Marshal(items) })
	if items == nil {
		raw = []byte("[]")
	}
	sum := sha256.Sum256(append(raw, strconv.Itoa(total)+"/"+strconv.Itoa(page)+"/"+strconv.Itoa(size)...))
	etag := `"` + hex.EncodeToString(sum[:]) + `"`
	w.Header().Set("ETag", etag)
	w.Header().Set("Vary", "If-None-Match")
	for _, candidate := range strings.Split(r.Header.Get("If-None-Match"), ",") {
		if c := strings.TrimSpace(candidate); c == etag || c == "W/"+etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
	}
	pages := max((total+size-1)/size, 1)
	reply(w, http.StatusOK, 0, "success", map[string]any{"items": json.RawMessage(raw), "total": total, "page": page, "page_size": size, "pages": pages})
}

// queryInt is ParsePagination's reading: digits only, within 1..most, else def.
func queryInt(s string, def, most int) int {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > most {
		return def
	}
	return n
}
