package source

import (
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/quotatop/quotatop/model"
)

// This file reads the Extra keys and reason texts that the gateway's newer rules depend
// on (local USD quota, scheduling thresholds, reset credits), each the way the gateway's
// own getter reads it.

// decodeLocalQuota reads one quota_* key as Account.getExtra{Float64,Int,String,Time} do:
// numbers may be numeric strings, modes and the zone must be strings, times are RFC 3339.
func (d *Decoder) decodeLocalQuota(a *model.Account, key string, v jval) {
	lq := a.LocalQuota
	if lq == nil {
		lq = &model.LocalQuota{Weekly: model.QuotaPeriod{ResetDay: 1}}
		a.LocalQuota = lq
	}
	num := func() float64 { f, _ := d.flexNumber(v); return f }
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
		lq.Daily.Start = d.quotaStart(v)
	case "quota_weekly_start":
		lq.Weekly.Start = d.quotaStart(v)
	case "quota_daily_reset_mode":
		lq.Daily.Fixed = v.kind == jString && d.view(v) == "fixed"
	case "quota_weekly_reset_mode":
		lq.Weekly.Fixed = v.kind == jString && d.view(v) == "fixed"
	case "quota_daily_reset_hour":
		lq.Daily.ResetHour = int(num())
	case "quota_weekly_reset_hour":
		lq.Weekly.ResetHour = int(num())
	case "quota_weekly_reset_day":
		// present but unreadable is 0 (Sunday) to the gateway; only absent means Monday
		lq.Weekly.ResetDay = int(num())
	case "quota_reset_timezone":
		if name := d.view(v); v.kind == jString && name != "" {
			lq.ZoneName = strings.Clone(model.Sanitize(name))
			lq.Zone = zoneNamed(name)
		}
	}
}

// quotaStart is getExtraTime: a string that parses, else zero; a parsed zero time is
// also zero, which the gateway treats as "never used".
func (d *Decoder) quotaStart(v jval) time.Time {
	t, ok := d.flexTime(v)
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
func (d *Decoder) schedResetAt(v jval) (time.Time, bool) {
	switch v.kind {
	case jString:
		s := strings.TrimSpace(d.view(v))
		if s == "" {
			return time.Time{}, false
		}
		return model.ParseGatewayTime(s)
	case jNumber:
		f, err := v.float()
		if err != nil || !(f > 0) || f > 1e15 {
			return time.Time{}, false
		}
		return time.Unix(int64(f), 0).UTC(), true
	}
	return time.Time{}, false
}

// autoReset is the snapshot's reset-credit automation, created on first use.
func autoReset(q *model.Quota) *model.AutoReset {
	if q.AutoReset == nil {
		q.AutoReset = new(model.AutoReset)
	}
	return q.AutoReset
}

// decodeAutoReset reads the auto_reset_credit_* keys of every shape the gateway has
// written (the card state, an object, is Decoder.cardState's).
func (d *Decoder) decodeAutoReset(q *model.Quota, key string, v jval) {
	r := autoReset(q)
	switch key {
	case "auto_reset_credit_enabled":
		r.Legacy = d.flexBool(v)
	case "auto_reset_credit_expiry_enabled":
		r.ExpiryEnabled = d.flexBool(v)
	case "auto_reset_credit_expiry_lead_minutes":
		r.ExpiryLeadMinutes = d.flexInt(v)
	default:
		rest := strings.TrimPrefix(key, "auto_reset_credit_")
		for i, w := range model.WindowNames {
			switch rest {
			case string(w) + "_enabled":
				r.WindowSet[i], r.WindowOn[i] = true, d.flexBool(v)
			case string(w) + "_threshold":
				r.Threshold[i], r.HasThreshold[i] = d.flexNumber(v)
			}
		}
	}
}

// cardState reads codex_auto_reset_credit_state at i; anything but an object is no card.
// It returns the index after the value, or -1.
func (d *Decoder) cardState(s string, i int) (*model.CardState, int) {
	if i >= len(s) || s[i] != '{' {
		_, i = scalarAt(s, i, 3)
		return nil, i
	}
	c := new(model.CardState)
	i, done := objectStart(s, i)
	for !done && i >= 0 {
		raw, esc, at := memberKey(s, i)
		if at < 0 {
			return nil, -1
		}
		key := d.key(raw, esc)
		var v jval
		if v, i = scalarAt(s, at, 4); i < 0 {
			return nil, -1
		}
		switch key {
		case "status":
			c.Status = d.textOf(v)
		case "available_count":
			c.AvailableCount = d.flexInt(v)
		case "checked_at":
			c.CheckedAt, c.HasCheckedAt = d.flexTime(v)
		case "trigger_window":
			c.TriggerWindow = d.textOf(v)
		case "last_result_at":
			c.LastResultAt, _ = d.flexTime(v)
		case "error_code":
			c.ErrorCode = d.textOf(v)
		}
		i, done = memberNext(s, i)
	}
	return c, i
}

// reasonKeys are the members of a quota pause's reason that tempBlock reads, in the
// order it asks for them.
var reasonKeys = [...]string{"source", "window", "platform", "error_message", "used_percent", "threshold_percent"}

// tempBlock decodes a temp block's reason when it is the JSON of a quota pause. The
// reason is its own JSON document, read as fastjson's Get read it: a member is the first
// key spelled that way without escapes, and once a lookup had to unescape the keys (no
// plain key matched), this and every later lookup takes the first key that unescapes to
// the name.
func (d *Decoder) tempBlock(v jval) (model.TempBlock, bool) {
	if v.kind != jString {
		return model.TempBlock{}, false
	}
	doc := strings.TrimSpace(d.view(v))
	if !strings.HasPrefix(doc, "{") {
		return model.TempBlock{}, false
	}
	if v.esc { // doc is in the value buffer, which reading its members reuses
		d.reasonBuf = append(d.reasonBuf[:0], doc...)
		doc = unsafe.String(unsafe.SliceData(d.reasonBuf), len(d.reasonBuf))
	}
	var plain, escaped [len(reasonKeys)]jval
	var plainSeen, escapedSeen [len(reasonKeys)]bool
	i, done := objectStart(doc, 0)
	for !done && i >= 0 {
		raw, esc, at := memberKey(doc, i)
		if at < 0 {
			return model.TempBlock{}, false
		}
		var m jval
		if m, i = scalarAt(doc, at, 2); i < 0 {
			return model.TempBlock{}, false
		}
		key := d.key(raw, esc)
		for n, name := range reasonKeys {
			if !esc && !plainSeen[n] && raw == name {
				plain[n], plainSeen[n] = m, true
			}
			if !escapedSeen[n] && key == name {
				escaped[n], escapedSeen[n] = m, true
			}
		}
		i, done = memberNext(doc, i)
	}
	if i < 0 || skipWS(doc, i) != len(doc) {
		return model.TempBlock{}, false
	}
	unescapedKeys := false
	get := func(n int) (jval, bool) {
		if !unescapedKeys && plainSeen[n] {
			return plain[n], true
		}
		unescapedKeys = true
		return escaped[n], escapedSeen[n]
	}
	src, ok := get(0)
	if !ok || src.kind != jString || !model.IsQuotaTempSource(strings.TrimSpace(d.view(src))) {
		return model.TempBlock{}, false
	}
	b := model.TempBlock{Source: strings.Clone(strings.TrimSpace(d.view(src)))}
	if w, ok := get(1); ok {
		b.Window = d.textOf(w)
	}
	if p, ok := get(2); ok {
		b.Platform = d.textOf(p)
	}
	if m, ok := get(3); ok {
		b.Message = d.textOf(m)
	}
	if u, ok := get(4); ok {
		b.UsedPercent, _ = d.flexNumber(u)
	}
	if t, ok := get(5); ok {
		b.ThresholdPercent, _ = d.flexNumber(t)
	}
	return b, true
}

// decodeProviderUsage reads <provider>_{5h,weekly}_{used_percent,reset_at} of Kimi and
// Zhipu accounts, as cnThresholdCandidate reads them.
func (d *Decoder) decodeProviderUsage(a *model.Account, key string, v jval) {
	// the provider is a constant, never a slice of key: key lives in the value or in a
	// buffer the next key overwrites
	provider, rest := "kimi", strings.TrimPrefix(key, "kimi_")
	if len(rest) == len(key) {
		provider, rest = "zhipu", strings.TrimPrefix(key, "zhipu_")
	}
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
		w.UsedPercent, _ = d.flexNumber(v)
		w.HasUsed = true
		return
	}
	w.ResetAt, w.HasResetAt = d.schedResetAt(v)
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
func (d *Decoder) decodeAnthropicUsage(a *model.Account, key string, v jval) {
	switch key {
	case "session_window_utilization", "passive_usage_7d_utilization":
		i := 0
		if key != "session_window_utilization" {
			i = 1
		}
		if u := anthropicUsage(a); u != nil {
			u.Windows[i].UsedPercent, u.Windows[i].HasUsed = d.utilizationPercent(v), true
		}
	case "passive_usage_7d_reset":
		if u := anthropicUsage(a); u != nil {
			u.Windows[1].ResetAt, u.Windows[1].HasResetAt = d.schedResetAt(v)
		}
	case "passive_usage_sampled_at":
		if u := anthropicUsage(a); u != nil {
			u.SampledAt, u.HasSampledAt = d.flexTime(v)
		}
	}
}

func (d *Decoder) utilizationPercent(v jval) float64 {
	f, ok := d.flexNumber(v)
	if !ok {
		return 0
	}
	ratio := f >= 0 && f <= 1
	if v.kind == jString {
		ratio = ratio && strings.Contains(d.view(v), ".")
	}
	if ratio {
		return f * 100
	}
	return f
}
