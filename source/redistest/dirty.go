package redistest

import (
	"strconv"
	"strings"
	"time"
)

// DirtyFleet is Fleet with the dirt real storage has, one kind in every 50 accounts each:
// garbage and odd-layout times, numbers and IDs as strings, null and missing snapshots,
// accounts of other platforms without one, names with quotes, escapes and CJK, blocks and
// model cooldowns in force, and a value that is not JSON at all. Benchmarks and
// equivalence tests use it so that the slow paths are measured too.
func DirtyFleet(n int, prefix string, now time.Time) map[string]string {
	out := Fleet(n, prefix, now)
	for i := 1; i <= n; i++ {
		key := prefix + "meta:" + strconv.Itoa(i)
		v := out[key]
		switch i % 50 {
		case 3: // a snapshot time that is not a time
			v = setField(v, "codex_usage_updated_at", `"soon"`)
		case 7: // numbers as strings, as older writers store them
			v = setField(v, "codex_5h_used_percent", `"97.5"`)
			v = setField(v, "codex_7d_reset_after_seconds", `"600"`)
			v = setField(v, "auto_pause_5h_threshold", `"0.9"`)
		case 11: // the ID as a string
			v = setField(v, "ID", `"`+strconv.Itoa(i)+`"`)
		case 13: // another platform, no snapshot
			v = setField(v, "Platform", `"anthropic"`)
			v = strings.Replace(v, `"Extra":{`, `"Extra":{"mixed_scheduling":true},"OldExtra":{`, 1)
		case 17: // a time in the space-separated layout and one in RFC 1123
			v = setField(v, "codex_usage_updated_at", `"`+now.Add(-time.Minute).UTC().Format("2006-01-02 15:04:05")+`"`)
			v = setField(v, "codex_5h_reset_at", `"`+now.Add(time.Hour).UTC().Format(time.RFC1123)+`"`)
		case 19: // a name with quotes, an escape sequence, CJK and a backslash
			v = setField(v, "Name", `"codex \"q\" \u001b[31mred\u001b[0m 名前 \\ `+strconv.Itoa(i)+`"`)
		case 23: // a null snapshot time
			v = setField(v, "codex_usage_updated_at", `null`)
		case 29: // blocks in force and a model cooldown
			until := `"` + now.Add(20*time.Minute).Format(time.RFC3339) + `"`
			v = setField(v, "RateLimitResetAt", until)
			v = setField(v, "TempUnschedulableUntil", until)
			v = setField(v, "TempUnschedulableReason", `"{\"source\":\"account_scheduling_threshold\",\"window\":\"5h\"}"`)
			v = strings.Replace(v, `"Extra":{`, `"Extra":{"model_rate_limits":{"gpt-5":{"rate_limit_reset_at":`+until+`}},`, 1)
		case 31: // a garbage reset time and a disabled account
			v = setField(v, "codex_7d_reset_at", `"2026-13-45T99:00:00Z"`)
			v = setField(v, "Status", `"disabled"`)
		case 37: // not JSON
			v = v[:len(v)/2]
		case 41: // no Extra at all
			v = setField(v, "Extra", `null`)
		}
		out[key] = v
	}
	return out
}

// setField replaces the value of the first "field": in v, up to the next `,"` at the
// same depth; it is for MetaValue's known shape only.
func setField(v, field, raw string) string {
	at := strings.Index(v, `"`+field+`":`)
	if at < 0 {
		return v
	}
	start := at + len(field) + 3
	depth, inString := 0, false
	end := start
	for ; end < len(v); end++ {
		c := v[end]
		if inString {
			if c == '\\' {
				end++
			} else if c == '"' {
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 {
				return v[:start] + raw + v[end:]
			}
			depth--
		case ',':
			if depth == 0 {
				return v[:start] + raw + v[end:]
			}
		}
	}
	return v[:start] + raw
}
