package redistest

import (
	"fmt"
	"strconv"
	"time"
)

// MetaValue renders one realistic sched:meta value (the shape and size of sub2api's,
// about 1.4 KB) for account id with the given usage, snapshot age and thresholds.
func MetaValue(id int64, now time.Time, used5h, used7d float64, age time.Duration) string {
	zone := time.FixedZone("CST", 8*3600)
	taken := now.Add(-age).In(zone)
	ts := func(t time.Time) string { return t.In(zone).Format(time.RFC3339Nano) }
	return fmt.Sprintf(`{"ID":%d,"Name":"codex-pro-%05d","Notes":null,"Platform":"openai","Type":"oauth","Credentials":{"plan_type":"pro"},`+
		`"Extra":{"codex_5h_used_percent":%g,"codex_5h_reset_after_seconds":9120,"codex_5h_reset_at":%q,"codex_7d_used_percent":%g,`+
		`"codex_7d_reset_after_seconds":401233,"codex_7d_reset_at":%q,"codex_usage_updated_at":%q,"auto_pause_5h_threshold":0.95,`+
		`"auto_pause_7d_threshold":0.98,"openai_oauth_responses_websockets_v2_enabled":true,"codex_fingerprint_seed":"3f0c2d7e-5a11-4c1e-9a57-0b6d2f9e1c44"},`+
		`"ProxyID":null,"ProxyFallbackOriginID":null,"ProxyFallbackOriginName":null,"Concurrency":3,"Priority":1,"RateMultiplier":1,"LoadFactor":null,`+
		`"Status":"active","ErrorMessage":"","LastUsedAt":%q,"ExpiresAt":null,"AutoPauseOnExpired":true,"CreatedAt":"0001-01-01T00:00:00Z",`+
		`"UpdatedAt":"0001-01-01T00:00:00Z","Schedulable":true,"RateLimitedAt":null,"RateLimitResetAt":null,"OverloadUntil":null,`+
		`"TempUnschedulableUntil":null,"TempUnschedulableReason":"","SessionWindowStart":null,"SessionWindowEnd":null,"SessionWindowStatus":"",`+
		`"ParentAccountID":null,"QuotaDimension":"","Proxy":null,"AccountGroups":[{"AccountID":%d,"GroupID":3,"Priority":1,"CreatedAt":"2026-07-01T10:00:00+08:00","Account":null,"Group":null}],`+
		`"GroupIDs":[3],"Groups":null}`,
		id, id, used5h, ts(now.Add(90*time.Minute)), used7d, ts(now.Add(100*time.Hour)), ts(taken), ts(taken), id)
}

// Fleet returns n accounts under prefix: their meta values and last-used keys. Usage
// spreads over every quota state: every 10th is paused on 5h, every 15th is stale.
func Fleet(n int, prefix string, now time.Time) map[string]string {
	out := make(map[string]string, 2*n)
	for i := 1; i <= n; i++ {
		id := int64(i)
		used5h, used7d, age := float64(i%90), float64(i%70), time.Duration(i%300)*time.Second
		if i%10 == 0 {
			used5h = 97
		}
		if i%15 == 0 {
			age = 3 * time.Hour
		}
		out[prefix+"meta:"+strconv.Itoa(i)] = MetaValue(id, now, used5h, used7d, age)
		out[prefix+"acc:last_used:"+strconv.Itoa(i)] = strconv.FormatInt(now.Add(-time.Duration(i)*time.Second).UnixMilli(), 10)
	}
	return out
}
