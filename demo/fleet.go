// Package demo is quotatop's embedded gateway: a realistic sub2api fleet in sched:meta form
// and a small simulator that moves it over time, so quotatop can be tried with no Redis.
package demo

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/quotatop/quotatop/model"
	"github.com/quotatop/quotatop/source"
)

// gatewayZone is the offset sub2api writes its times in by default.
var gatewayZone = time.FixedZone("CST", 8*3600)

// Account is one simulated account, kept in the shape sub2api stores.
type Account struct {
	ID                 int64
	Name               string
	Platform, Type     string
	Status             string
	Schedulable        bool
	Priority           int
	Concurrency        int
	GroupIDs           []int64
	Credentials        map[string]any
	Extra              map[string]any
	LastUsedAt         *time.Time
	ExpiresAt          *time.Time
	AutoPauseOnExpired bool
	RateLimitedAt      *time.Time
	RateLimitResetAt   *time.Time
	OverloadUntil      *time.Time
	TempUntil          *time.Time
	TempReason         string
	// SessionWindowEnd is when an Anthropic account's 5h session window ends.
	SessionWindowEnd *time.Time

	// Raw replaces the whole stored value (corrupt data in the demo).
	Raw string
	// Rate is the simulated traffic: 5h used percent gained per minute while scheduled.
	Rate float64
	// Poisoned marks a snapshot that wrongly claims high usage (sub2api issue 2994): a
	// probe heals it.
	Poisoned bool
}

// metaJSON is sub2api's Account as its scheduler publishes it (PascalCase, no tags).
type metaJSON struct {
	ID                      int64
	Name                    string
	Notes                   *string
	Platform                string
	Type                    string
	Credentials             map[string]any
	Extra                   map[string]any
	ProxyID                 *int64
	Concurrency             int
	Priority                int
	RateMultiplier          float64
	LoadFactor              *float64
	Status                  string
	ErrorMessage            string
	LastUsedAt              *time.Time
	ExpiresAt               *time.Time
	AutoPauseOnExpired      bool
	CreatedAt               time.Time
	UpdatedAt               time.Time
	Schedulable             bool
	RateLimitedAt           *time.Time
	RateLimitResetAt        *time.Time
	OverloadUntil           *time.Time
	TempUnschedulableUntil  *time.Time
	TempUnschedulableReason string
	SessionWindowStart      *time.Time
	SessionWindowEnd        *time.Time
	SessionWindowStatus     string
	GroupIDs                []int64
	Groups                  any
}

// MetaJSON renders the sched:meta value.
func (a *Account) MetaJSON() string {
	if a.Raw != "" {
		return a.Raw
	}
	groups := a.GroupIDs
	if groups == nil {
		groups = []int64{}
	}
	b, err := json.Marshal(metaJSON{
		ID: a.ID, Name: a.Name, Platform: a.Platform, Type: a.Type, Credentials: a.Credentials, Extra: a.Extra,
		Concurrency: a.Concurrency, Priority: a.Priority, RateMultiplier: 1, Status: a.Status,
		LastUsedAt: a.LastUsedAt, ExpiresAt: a.ExpiresAt, AutoPauseOnExpired: a.AutoPauseOnExpired,
		Schedulable: a.Schedulable, RateLimitedAt: a.RateLimitedAt, RateLimitResetAt: a.RateLimitResetAt,
		OverloadUntil: a.OverloadUntil, TempUnschedulableUntil: a.TempUntil, TempUnschedulableReason: a.TempReason,
		SessionWindowEnd: a.SessionWindowEnd, GroupIDs: groups,
	})
	if err != nil {
		panic(fmt.Sprintf("demo account %d does not marshal: %v", a.ID, err))
	}
	return string(b)
}

func at(t time.Time) *time.Time { t = t.In(gatewayZone); return &t }

func stamp(t time.Time) string { return t.In(gatewayZone).Format(time.RFC3339Nano) }

// snapshot writes a Codex snapshot taken at taken into extra.
func snapshot(extra map[string]any, taken time.Time, used5h, used7d float64, reset5h, reset7d time.Time) {
	extra["codex_5h_used_percent"] = used5h
	extra["codex_7d_used_percent"] = used7d
	extra["codex_5h_reset_at"] = stamp(reset5h)
	extra["codex_7d_reset_at"] = stamp(reset7d)
	extra["codex_5h_reset_after_seconds"] = int(reset5h.Sub(taken).Seconds())
	extra["codex_7d_reset_after_seconds"] = int(reset7d.Sub(taken).Seconds())
	extra["codex_usage_updated_at"] = stamp(taken)
}

// Fleet builds the demo's accounts as they stand at now. The same now always gives the
// same fleet, so views of it can be compared byte for byte.
func Fleet(now time.Time) []*Account {
	r := rand.New(rand.NewPCG(2994, 42))
	var out []*Account
	id := int64(100)
	add := func(name, platform, typ string, mod func(a *Account)) {
		id++
		a := &Account{ID: id, Name: name, Platform: platform, Type: typ, Status: "active", Schedulable: true,
			Priority: 1 + int(id%3), Concurrency: 3, GroupIDs: []int64{1 + id%3},
			Credentials: map[string]any{"plan_type": "pro"}, Extra: map[string]any{}, AutoPauseOnExpired: true}
		a.LastUsedAt = at(now.Add(-time.Duration(r.IntN(600)) * time.Second))
		if platform == "openai" {
			a.Extra["auto_pause_5h_threshold"] = 0.95
			a.Extra["auto_pause_7d_threshold"] = 0.98
		}
		mod(a)
		out = append(out, a)
	}
	codex := func(age time.Duration, used5h, used7d float64) func(a *Account) {
		return func(a *Account) {
			taken := now.Add(-age)
			snapshot(a.Extra, taken, used5h, used7d,
				taken.Add(time.Duration(60+r.IntN(240))*time.Minute), taken.Add(time.Duration(24+r.IntN(140))*time.Hour))
			a.Rate = 0.1 + r.Float64()*0.5
		}
	}
	then := func(fs ...func(a *Account)) func(a *Account) {
		return func(a *Account) {
			for _, f := range fs {
				f(a)
			}
		}
	}

	// Healthy traffic-takers.
	for i := 1; i <= 16; i++ {
		add(fmt.Sprintf("codex-pro-%02d", i), "openai", "oauth", codex(time.Duration(5+r.IntN(40))*time.Second, float64(r.IntN(60)), float64(10+r.IntN(55))))
	}
	// Near their limits.
	add("codex-pro-17", "openai", "oauth", codex(12*time.Second, 86, 41))
	add("codex-pro-18", "openai", "oauth", codex(20*time.Second, 33, 88.5))
	add("codex-plus-19", "openai", "oauth", then(codex(8*time.Second, 92.5, 70), func(a *Account) { a.Credentials["plan_type"] = "plus"; a.Rate = 0.4 }))
	// Paused for quota on a fresh snapshot.
	add("codex-pro-20", "openai", "oauth", codex(10*time.Minute, 97, 62))
	add("codex-pro-21", "openai", "oauth", codex(25*time.Minute, 64, 99.1))
	add("codex-team-22", "openai", "oauth", codex(40*time.Minute, 100, 100))
	// Paused, about to cross the stale bound (watch it turn stale_probe).
	add("codex-pro-23", "openai", "oauth", codex(2*time.Hour-90*time.Second, 96.5, 71))
	// sub2api issue 2994: a fresh account whose snapshot wrongly says 99 %, now stale and
	// waiting for the gateway's probe.
	add("codex-fresh-2994", "openai", "oauth", func(a *Account) {
		taken := now.Add(-3*time.Hour - 14*time.Minute)
		snapshot(a.Extra, taken, 99, 97, taken.Add(5*time.Hour), taken.Add(6*24*time.Hour))
		a.Poisoned, a.Rate = true, 0.1
	})
	add("codex-pro-25", "openai", "oauth", codex(5*time.Hour, 64, 98.7))
	// A window whose reset passed: its 98 % is history.
	add("codex-pro-26", "openai", "oauth", func(a *Account) {
		taken := now.Add(-5*time.Hour - 20*time.Minute)
		snapshot(a.Extra, taken, 98, 52, now.Add(-20*time.Minute), now.Add(50*time.Hour))
		a.Rate = 0.1
	})
	// Gateway-wide default thresholds apply where the account sets none.
	add("codex-pro-27", "openai", "oauth", then(codex(3*time.Minute, 45, 91), func(a *Account) {
		delete(a.Extra, "auto_pause_5h_threshold")
		delete(a.Extra, "auto_pause_7d_threshold")
	}))
	// The 7d window exempted from auto-pause by an operator.
	add("codex-pro-28", "openai", "oauth", then(codex(30*time.Second, 35, 100), func(a *Account) { a.Extra["auto_pause_7d_disabled"] = true }))
	// Drift: numbers as strings, no snapshot time (counts as fresh upstream), a name that
	// tries to colour the terminal.
	add("codex-team-\x1b[31mred\x1b[0m-29", "openai", "oauth", func(a *Account) {
		a.Extra = map[string]any{"codex_5h_used_percent": "99.2", "codex_5h_reset_after_seconds": "600",
			"codex_7d_used_percent": 41, "codex_7d_reset_at": stamp(now.Add(40 * time.Hour)),
			"auto_pause_5h_threshold": "0.9", "auto_pause_7d_threshold": 95, "auto_pause_5h_disabled": "false", "auto_pause_7d_disabled": 0}
	})
	// Blocked for reasons other than quota; the short ones expire while you watch.
	add("codex-pro-30", "openai", "oauth", then(codex(15*time.Second, 22, 30), func(a *Account) { a.Schedulable = false }))
	add("codex-pro-31", "openai", "oauth", then(codex(45*time.Second, 51, 60), func(a *Account) {
		a.RateLimitedAt, a.RateLimitResetAt = at(now.Add(-10*time.Minute)), at(now.Add(4*time.Minute))
	}))
	add("codex-pro-32", "openai", "oauth", then(codex(50*time.Second, 18, 24), func(a *Account) { a.OverloadUntil = at(now.Add(75 * time.Second)) }))
	add("codex-pro-33", "openai", "oauth", then(codex(90*time.Second, 97.3, 55), func(a *Account) {
		a.TempUntil = at(now.Add(22 * time.Minute))
		a.TempReason = `{"source":"account_scheduling_threshold","platform":"openai","window":"5h","threshold_percent":95,"used_percent":97.3}`
	}))
	add("codex-pro-34", "openai", "oauth", then(codex(20*time.Minute, 12, 5), func(a *Account) { a.ExpiresAt = at(now.Add(-6 * time.Hour)) }))
	add("codex-pro-35", "openai", "oauth", then(codex(2*time.Minute, 40, 44), func(a *Account) {
		a.Extra["model_rate_limits"] = map[string]any{"openai:image_generation": map[string]any{"rate_limit_reset_at": stamp(now.Add(35 * time.Minute))}}
	}))
	add("codex-pro-36", "openai", "oauth", then(codex(26*time.Hour, 3, 20), func(a *Account) { a.Status = "disabled" }))
	add("codex-pro-37", "openai", "oauth", then(codex(7*time.Hour, 64, 72), func(a *Account) { a.Status = "error" }))
	// An apikey relay: its meta form keeps api_key, which must never be shown.
	add("relay-apikey-38", "openai", "apikey", func(a *Account) {
		a.Credentials = map[string]any{"api_key": "sk-live-THIS-MUST-NEVER-BE-SHOWN-0123456789"}
		a.Extra = map[string]any{"quota_limit": 200, "quota_used": 12.5}
	})
	// Other platforms: no Codex snapshot, still blocked by the usual switches.
	for i, name := range []string{"claude-max-01", "claude-max-02", "claude-pro-03", "gemini-ultra-01", "kimi-api-01"} {
		platform, typ := "anthropic", "oauth"
		if i == 3 {
			platform = "gemini"
		}
		if i == 4 {
			platform, typ = "kimi", "apikey"
		}
		add(name, platform, typ, func(a *Account) {
			a.Credentials = map[string]any{"plan_type": "max"}
			switch i {
			case 0:
				// Anthropic's own windows: 0-1 ratios, sampled from response headers.
				a.SessionWindowEnd = at(now.Add(2*time.Hour + 13*time.Minute))
				a.Extra["session_window_utilization"] = 0.42
				a.Extra["passive_usage_7d_utilization"] = 0.71
				a.Extra["passive_usage_7d_reset"] = stamp(now.Add(3*24*time.Hour + 5*time.Hour))
				a.Extra["passive_usage_sampled_at"] = stamp(now.Add(-3 * time.Minute))
			case 4:
				a.Extra["kimi_5h_used_percent"] = 64
				a.Extra["kimi_5h_reset_at"] = stamp(now.Add(3*time.Hour + 20*time.Minute))
				a.Extra["kimi_weekly_used_percent"] = 35
				a.Extra["kimi_weekly_reset_at"] = stamp(now.Add(4*24*time.Hour + 2*time.Hour))
			case 1:
				a.Status, a.OverloadUntil = "error", at(now.Add(40*time.Minute))
			case 2:
				a.RateLimitedAt, a.RateLimitResetAt = at(now.Add(-time.Minute)), at(now.Add(90*time.Minute))
			}
		})
	}
	// A value nobody can read.
	add("corrupt", "openai", "oauth", func(a *Account) {
		a.Raw = `{"ID":` + fmt.Sprint(a.ID) + `,"Name":"half-written","Extra":{"codex_5h_used_percent":`
	})
	gatewayCases(now, add, codex, then)
	forecastAccounts(now, add) // trend.go
	return out
}

// gatewayCases adds one account of each case the gateway's newer rules decide: a status
// the web UI wrote, a local USD quota, the per-platform scheduling threshold (the demo
// gateway's policy, gatewayPolicy, sets openai to 98 %), the three reset-credit outcomes
// and a time without an offset.
func gatewayCases(now time.Time, add func(name, platform, typ string, mod func(a *Account)), codex func(time.Duration, float64, float64) func(*Account), then func(...func(*Account)) func(*Account)) {
	add("codex-disabled-ui", "openai", "oauth", then(codex(4*time.Minute, 20, 30), func(a *Account) { a.Status = "inactive" }))
	add("relay-daily-cap", "openai", "apikey", func(a *Account) {
		a.Credentials = map[string]any{"api_key": "sk-live-THIS-MUST-NEVER-BE-SHOWN-daily"}
		a.Extra = map[string]any{"quota_limit": 500, "quota_used": 233.4, "quota_daily_limit": 40, "quota_daily_used": 41.25,
			"quota_daily_start": stamp(now.Add(-9 * time.Hour)), "quota_weekly_limit": 150, "quota_weekly_used": 80,
			"quota_weekly_start": stamp(now.Add(-50 * time.Hour))}
	})
	add("codex-sched-thr", "openai", "oauth", then(codex(45*time.Second, 98.6, 40), func(a *Account) {
		a.Extra["auto_pause_5h_disabled"] = true
		a.GroupIDs = []int64{2}
	}))
	card := func(status string, count int, age time.Duration) map[string]any {
		return map[string]any{"status": status, "available_count": count, "checked_at": now.Add(-age).UTC().Format(time.RFC3339)}
	}
	add("codex-card-pending", "openai", "oauth", then(codex(50*time.Second, 100, 60), func(a *Account) {
		a.Extra["auto_reset_credit_enabled"] = true
		a.Extra["codex_auto_reset_credit_state"] = card("checking", 0, time.Minute)
	}))
	add("codex-card-check", "openai", "oauth", then(codex(70*time.Second, 40, 99), func(a *Account) {
		a.Extra["auto_reset_credit_7d_enabled"] = true
		a.Extra["codex_auto_reset_credit_state"] = card("no_credit", 0, 3*time.Minute)
	}))
	add("codex-card-ready", "openai", "oauth", then(codex(30*time.Second, 96.5, 50), func(a *Account) {
		a.Extra["auto_reset_credit_enabled"] = true
		a.Extra["auto_reset_credit_5h_threshold"] = 1
		a.Extra["codex_auto_reset_credit_state"] = card("available", 2, 2*time.Minute)
	}))
	add("codex-no-offset", "openai", "oauth", then(codex(3*time.Hour, 97, 50), func(a *Account) {
		// written by a fork without an offset: the gateway cannot parse it, so the
		// snapshot counts as fresh and the account stays paused
		a.Extra["codex_usage_updated_at"] = now.Add(-3 * time.Hour).UTC().Format("2006-01-02T15:04:05")
		a.Extra["codex_5h_reset_at"] = stamp(now.Add(70 * time.Minute))
	}))
}

// Accounts is the fleet at now as quotatop decodes it, without any Redis: for tests and
// benchmarks of the screens.
func Accounts(now time.Time) []model.Account {
	fleet := Fleet(now)
	out := make([]model.Account, len(fleet))
	for i, a := range fleet {
		out[i] = source.DecodeMeta(fmt.Sprintf("sched:meta:%d", a.ID), a.MetaJSON())
	}
	return out
}
