package source

import (
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/quotatop/quotatop/model"
	"github.com/valyala/fastjson"
)

// This file reads the Extra keys and reason texts that the gateway's newer rules depend
// on (local USD quota, scheduling thresholds, reset credits), each the way the gateway's
// own getter reads it.

// decodeLocalQuota reads one quota_* key as Account.getExtra{Float64,Int,String,Time} do:
// numbers may be numeric strings, modes and the zone must be strings, times are RFC 3339.
func decodeLocalQuota(a *model.Account, key string, v *fastjson.Value) {
	lq := a.LocalQuota
	if lq == nil {
		lq = &model.LocalQuota{Weekly: model.QuotaPeriod{ResetDay: 1}}
		a.LocalQuota = lq
	}
	num := func() float64 { f, _ := flexNumber(v); return f }
	switch key {
	case "quota_limit":
		lq.Limit = num()
	case "quota_used":
		lq.Used = num()
	case "quota_daily_limit":
		lq.Daily.Limit = num()
	case "quota_daily_used":
		lq.Daily.Used = num()
	case "quota_weekly_limit":
		lq.Weekly.Limit = num()
	case "quota_weekly_used":
		lq.Weekly.Used = num()
	case "quota_daily_start":
		lq.Daily.Start = quotaStart(v)
	case "quota_weekly_start":
		lq.Weekly.Start = quotaStart(v)
	case "quota_daily_reset_mode":
		lq.Daily.Fixed = v.Type() == fastjson.TypeString && view(v) == "fixed"
	case "quota_weekly_reset_mode":
		lq.Weekly.Fixed = v.Type() == fastjson.TypeString && view(v) == "fixed"
	case "quota_daily_reset_hour":
		lq.Daily.ResetHour = int(num())
	case "quota_weekly_reset_hour":
		lq.Weekly.ResetHour = int(num())
	case "quota_weekly_reset_day":
		// present but unreadable is 0 (Sunday) to the gateway; only absent means Monday
		lq.Weekly.ResetDay = int(num())
	case "quota_reset_timezone":
		if v.Type() == fastjson.TypeString && view(v) != "" {
			lq.ZoneName = strings.Clone(model.Sanitize(view(v)))
			lq.Zone = zoneNamed(view(v))
		}
	}
}

// quotaStart is getExtraTime: a string that parses, else zero; a parsed zero time is
// also zero, which the gateway treats as "never used".
func quotaStart(v *fastjson.Value) time.Time {
	t, ok := flexTime(v)
	if !ok || t.IsZero() {
		return time.Time{}
	}
	return t
}

// zones caches time.LoadLocation, which reads the zone database on every call. A fleet
// has a handful of zones; names past the bound are loaded uncached.
var zones struct {
	sync.Mutex
	m map[string]*time.Location
}

// zoneNamed resolves an IANA zone name as the gateway does, falling back to UTC.
func zoneNamed(name string) *time.Location {
	zones.Lock()
	loc, ok := zones.m[name]
	zones.Unlock()
	if ok {
		return loc
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		loc = time.UTC
	}
	zones.Lock()
	if zones.m == nil {
		zones.m = map[string]*time.Location{}
	}
	if len(zones.m) < 64 {
		zones.m[strings.Clone(name)] = loc
	}
	zones.Unlock()
	return loc
}

// schedResetAt reads codex_<w>_reset_at as parseSchedulingResetAt does: a trimmed RFC 3339
// string, or a positive number of unix seconds.
func schedResetAt(v *fastjson.Value) (time.Time, bool) {
	switch v.Type() {
	case fastjson.TypeString:
		s := strings.TrimSpace(view(v))
		if s == "" {
			return time.Time{}, false
		}
		return model.ParseGatewayTime(s)
	case fastjson.TypeNumber:
		f, err := v.Float64()
		if err != nil || !(f > 0) || f > 1e15 {
			return time.Time{}, false
		}
		return time.Unix(int64(f), 0).UTC(), true
	}
	return time.Time{}, false
}

// decodeAutoReset reads the reset-credit keys of every shape the gateway has written.
func decodeAutoReset(q *model.Quota, key string, v *fastjson.Value) {
	r := q.AutoReset
	if r == nil {
		r = new(model.AutoReset)
		q.AutoReset = r
	}
	switch key {
	case "auto_reset_credit_enabled":
		r.Legacy = flexBool(v)
	case "auto_reset_credit_expiry_enabled":
		r.ExpiryEnabled = flexBool(v)
	case "auto_reset_credit_expiry_lead_minutes":
		r.ExpiryLeadMinutes = flexInt(v)
	case "codex_auto_reset_credit_state":
		r.Card = cardState(v)
	default:
		rest := strings.TrimPrefix(key, "auto_reset_credit_")
		for i, w := range model.WindowNames {
			switch rest {
			case string(w) + "_enabled":
				r.WindowSet[i], r.WindowOn[i] = true, flexBool(v)
			case string(w) + "_threshold":
				r.Threshold[i], r.HasThreshold[i] = flexNumber(v)
			}
		}
	}
}

func cardState(v *fastjson.Value) *model.CardState {
	obj, err := v.Object()
	if err != nil {
		return nil
	}
	c := new(model.CardState)
	obj.Visit(func(k []byte, v *fastjson.Value) {
		switch unsafe.String(unsafe.SliceData(k), len(k)) {
		case "status":
			c.Status = textOf(v)
		case "available_count":
			c.AvailableCount = flexInt(v)
		case "checked_at":
			c.CheckedAt, c.HasCheckedAt = flexTime(v)
		case "trigger_window":
			c.TriggerWindow = textOf(v)
		case "last_result_at":
			c.LastResultAt, _ = flexTime(v)
		case "error_code":
			c.ErrorCode = textOf(v)
		}
	})
	return c
}

// tempBlock decodes a temp block's reason when it is the JSON of a quota pause.
func (d *Decoder) tempBlock(v *fastjson.Value) *model.TempBlock {
	if v.Type() != fastjson.TypeString {
		return nil
	}
	raw := strings.TrimSpace(view(v))
	if !strings.HasPrefix(raw, "{") {
		return nil
	}
	rv, err := d.reason.Parse(raw)
	if err != nil {
		return nil
	}
	src := rv.Get("source")
	if src == nil || src.Type() != fastjson.TypeString || !model.IsQuotaTempSource(strings.TrimSpace(view(src))) {
		return nil
	}
	b := &model.TempBlock{Source: strings.Clone(strings.TrimSpace(view(src)))}
	if w := rv.Get("window"); w != nil {
		b.Window = textOf(w)
	}
	if p := rv.Get("platform"); p != nil {
		b.Platform = textOf(p)
	}
	if m := rv.Get("error_message"); m != nil {
		b.Message = textOf(m)
	}
	if u := rv.Get("used_percent"); u != nil {
		b.UsedPercent, _ = flexNumber(u)
	}
	if t := rv.Get("threshold_percent"); t != nil {
		b.ThresholdPercent, _ = flexNumber(t)
	}
	return b
}

// decodeProviderUsage reads <provider>_{5h,weekly}_{used_percent,reset_at} of Kimi and
// Zhipu accounts, as cnThresholdCandidate reads them.
func decodeProviderUsage(a *model.Account, key string, v *fastjson.Value) {
	provider, rest, _ := strings.Cut(key, "_")
	var i int
	switch {
	case strings.HasPrefix(rest, "5h_"):
		i, rest = 0, rest[len("5h_"):]
	case strings.HasPrefix(rest, "weekly_"):
		i, rest = 1, rest[len("weekly_"):]
	default:
		return
	}
	if rest != "used_percent" && rest != "reset_at" {
		return
	}
	u := a.ProviderUsage
	if u == nil || u.Provider != provider {
		u = &model.ProviderUsage{Provider: provider}
		a.ProviderUsage = u
	}
	w := &u.Windows[i]
	if rest == "used_percent" {
		w.UsedPercent, _ = flexNumber(v)
		w.HasUsed = true
		return
	}
	w.ResetAt, w.HasResetAt = schedResetAt(v)
}

// anthropicUsage is the account's Anthropic usage, created on first use; nil when the
// account already carries another provider's usage.
func anthropicUsage(a *model.Account) *model.ProviderUsage {
	if a.ProviderUsage == nil {
		a.ProviderUsage = &model.ProviderUsage{Provider: "anthropic"}
	}
	if a.ProviderUsage.Provider != "anthropic" {
		return nil
	}
	return a.ProviderUsage
}

// decodeAnthropicUsage reads the keys anthropicThresholdCandidates reads: utilisations
// as utilizationAsPercent converts them (a number from 0 to 1 is a ratio; a string only
// when it has a decimal point), the 7d reset as parseSchedulingResetAt does.
func decodeAnthropicUsage(a *model.Account, key string, v *fastjson.Value) {
	switch key {
	case "session_window_utilization", "passive_usage_7d_utilization":
		i := 0
		if key != "session_window_utilization" {
			i = 1
		}
		if u := anthropicUsage(a); u != nil {
			u.Windows[i].UsedPercent, u.Windows[i].HasUsed = utilizationPercent(v), true
		}
	case "passive_usage_7d_reset":
		if u := anthropicUsage(a); u != nil {
			u.Windows[1].ResetAt, u.Windows[1].HasResetAt = schedResetAt(v)
		}
	case "passive_usage_sampled_at":
		if u := anthropicUsage(a); u != nil {
			u.SampledAt, u.HasSampledAt = flexTime(v)
		}
	}
}

func utilizationPercent(v *fastjson.Value) float64 {
	f, ok := flexNumber(v)
	if !ok {
		return 0
	}
	ratio := f >= 0 && f <= 1
	if v.Type() == fastjson.TypeString {
		ratio = ratio && strings.Contains(view(v), ".")
	}
	if ratio {
		return f * 100
	}
	return f
}
