package source

import (
	"hash/maphash"
	"math"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/quotatop/quotatop/model"
	"github.com/valyala/fastjson"
)

// dtoFields maps the admin API's snake_case account DTO onto the scheduler's meta form,
// in an order where Platform comes before the fields that depend on it. Mapping onto the
// meta form and decoding that with the same Decoder is what makes the two sources judge
// alike: there is one decoder of drift, not two.
var dtoFields = [...]struct {
	dto, meta string
	unix      bool // the DTO has Unix seconds where the meta form has a time string
}{
	{"id", "ID", false}, {"name", "Name", false}, {"platform", "Platform", false}, {"type", "Type", false},
	{"status", "Status", false}, {"schedulable", "Schedulable", false}, {"priority", "Priority", false},
	{"concurrency", "Concurrency", false}, {"group_ids", "GroupIDs", false}, {"last_used_at", "LastUsedAt", false},
	{"expires_at", "ExpiresAt", true}, {"auto_pause_on_expired", "AutoPauseOnExpired", false},
	{"rate_limited_at", "RateLimitedAt", false}, {"rate_limit_reset_at", "RateLimitResetAt", false},
	{"overload_until", "OverloadUntil", false}, {"temp_unschedulable_until", "TempUnschedulableUntil", false},
	{"temp_unschedulable_reason", "TempUnschedulableReason", false}, {"session_window_end", "SessionWindowEnd", false},
	{"extra", "Extra", false},
}

// APIKey is the key an account read from the admin API goes by in quotatop, where a Redis
// account has its storage key.
func APIKey(id int64) string { return "api:account:" + strconv.FormatInt(id, 10) }

// decodeDTO turns one account of the admin API into an Account. Of credentials it reads
// only the scheduling threshold override and, to compare them, the identity fields the
// gateway compares; never a secret (the gateway redacts those anyway).
func decodeDTO(d *Decoder, v *fastjson.Value) model.Account {
	obj, err := v.Object()
	if err != nil {
		return model.Account{Key: "api:account:?", Invalid: "an account in the list is not a JSON object but " + v.Type().String()}
	}
	key := "api:account:?"
	if id, ok := fjInt(orNull(obj.Get("id"))); ok {
		key = APIKey(id)
	}
	meta := make([]byte, 0, 2048)
	meta = append(meta, '{')
	for _, f := range dtoFields {
		fv := obj.Get(f.dto)
		if fv == nil {
			continue
		}
		if len(meta) > 1 {
			meta = append(meta, ',')
		}
		meta = append(meta, '"')
		meta = append(meta, f.meta...)
		meta = append(meta, '"', ':')
		if f.unix {
			meta = appendUnixAsTime(meta, fv)
			continue
		}
		meta = fv.MarshalTo(meta)
	}
	meta = append(meta, '}')
	a := d.Decode(key, string(meta))
	if a.Invalid != "" {
		return a
	}
	if creds := obj.Get("credentials"); creds != nil && creds.Type() == fastjson.TypeObject {
		a.SchedThresholdOverride = thresholdOverride(creds.Get("account_scheduling_threshold"))
		if a.Platform == "openai" && a.Type == "oauth" {
			a.IdentityMismatch = identityMismatch(creds, obj.Get("extra"))
		}
	}
	// The fingerprint of what was decoded, as a Redis value's: an unchanged account keeps
	// its judgement in the live monitor (model.Account.Rev).
	meta = append(meta, byte(a.SchedThresholdOverride), boolByte(a.IdentityMismatch))
	a.Rev = maphash.Bytes(dtoSeed, meta) | 1
	return a
}

var dtoSeed = maphash.MakeSeed()

func boolByte(b bool) byte {
	if b {
		return 1
	}
	return 0
}

// appendUnixAsTime writes Unix seconds as the RFC 3339 string the meta form carries;
// anything else becomes null, which the decoder reads as no time.
func appendUnixAsTime(b []byte, v *fastjson.Value) []byte {
	n, ok := fjInt(v)
	if !ok || v.Type() != fastjson.TypeNumber || n < -62135596800 || n > 253402300799 {
		return append(b, "null"...)
	}
	b = append(b, '"')
	b = time.Unix(n, 0).UTC().AppendFormat(b, time.RFC3339)
	return append(b, '"')
}

// thresholdOverride mirrors parseAccountSchedulingThresholdValue: a number rounded, or a
// string that is an integer or a float, kept when it is from 1 to 100; 0 means none.
func thresholdOverride(v *fastjson.Value) int {
	if v == nil {
		return 0
	}
	var f float64
	switch v.Type() {
	case fastjson.TypeNumber:
		f = v.GetFloat64()
	case fastjson.TypeString:
		s := strings.TrimSpace(fjString(v))
		if n, err := strconv.Atoi(s); err == nil {
			f = float64(n)
		} else if f, err = strconv.ParseFloat(s, 64); err != nil {
			return 0
		}
	default:
		return 0
	}
	f = math.Round(f)
	if math.IsNaN(f) || f < 1 || f > 100 {
		return 0
	}
	return int(f)
}

// identityFields are the pairs openAICodexSnapshotIdentityTrusted compares: the first
// non-empty credentials key of a pair against the first non-empty extra key.
var identityFields = [...]struct{ credentials, extra []string }{
	{[]string{"email"}, []string{"email", "email_address"}},
	{[]string{"chatgpt_account_id"}, []string{"chatgpt_account_id", "account_id"}},
	{[]string{"workspace_id", "chatgpt_workspace_id", "organization_id", "org_id"}, []string{"workspace_id", "chatgpt_workspace_id", "organization_id", "org_id"}},
}

// identityMismatch reports whether the Codex snapshot in extra was taken for another
// identity than the credentials': both sides set and different (case-insensitively).
func identityMismatch(creds, extra *fastjson.Value) bool {
	if extra == nil || extra.Type() != fastjson.TypeObject {
		return false
	}
	if o, _ := extra.Object(); o == nil || o.Len() == 0 {
		return false
	}
	for _, f := range identityFields {
		left, right := firstString(creds, f.credentials), firstString(extra, f.extra)
		if left != "" && right != "" && !strings.EqualFold(left, right) {
			return true
		}
	}
	return false
}

// firstString is the first of keys that holds a non-blank string; other types do not count.
func firstString(v *fastjson.Value, keys []string) string {
	for _, k := range keys {
		if s := v.Get(k); s != nil && s.Type() == fastjson.TypeString {
			if t := strings.TrimSpace(fjString(s)); t != "" {
				return t
			}
		}
	}
	return ""
}

// fjInt reads an ID or a count: a whole JSON number, or a string of digits.
func fjInt(v *fastjson.Value) (int64, bool) {
	switch v.Type() {
	case fastjson.TypeNumber:
		if n, err := v.Int64(); err == nil {
			return n, true
		}
		f, err := v.Float64()
		return int64(f), err == nil && f == float64(int64(f))
	case fastjson.TypeString:
		n, err := strconv.ParseInt(strings.TrimSpace(fjString(v)), 10, 64)
		return n, err == nil
	}
	return 0, false
}

// fjString is a string value without copying: only for reading while the parser's
// buffer is alive.
func fjString(v *fastjson.Value) string {
	b, _ := v.StringBytes()
	return unsafe.String(unsafe.SliceData(b), len(b))
}
