package source

import (
	"math"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/quotatop/quotatop/model"
	"github.com/valyala/fastjson"
)

// Decoder turns sched:meta values into Accounts. The value is parsed with fastjson rather
// than encoding/json: a 10,000-account poll must decode in milliseconds, and visiting a
// parsed tree lets every field tolerate drift (numbers as strings, IDs as strings, nulls)
// without reflection. A Decoder reuses its parser's memory and is not safe for concurrent
// use; give each goroutine its own (a sync.Pool would be emptied by every GC, and
// regrowing a parser costs more than the parse).
type Decoder struct {
	parser fastjson.Parser
	// reason parses TempUnschedulableReason, which is JSON inside a string, while the
	// outer value is still being visited.
	reason fastjson.Parser
	memo   *memo // the Redis reader's, read-only while decoding
}

// DecodeMeta decodes one value with a fresh Decoder.
func DecodeMeta(key, raw string) model.Account {
	var d Decoder
	return d.Decode(key, raw)
}

// Decode turns one sched:meta:<id> value into an Account. It never fails: a value that
// cannot be decoded yields an Account whose Invalid says why, so one bad key never hides
// the others. Credentials are skipped without being looked at.
func (d *Decoder) Decode(key, raw string) model.Account {
	return d.decode(key, raw)
}

// decode fills a. The snapshot is decoded on the stack and copied to the heap only when
// the value carries one: a batch-wide slab of Quotas would be kept alive whole by any
// one account the live monitor keeps from an earlier poll.
func (d *Decoder) decode(key, raw string) model.Account {
	var q model.Quota
	a := model.Account{Key: model.Sanitize(key)}
	keyID, keyIDErr := strconv.ParseInt(key[strings.LastIndexByte(key, ':')+1:], 10, 64)
	a.ID = keyID

	v, err := d.parser.Parse(raw)
	if err != nil {
		a.Invalid = syntaxReason(raw)
		return a
	}
	obj, err := v.Object()
	if err != nil {
		a.Invalid = "not a JSON object but " + v.Type().String()
		return a
	}

	idSeen := false
	var problems []string
	obj.Visit(func(k []byte, v *fastjson.Value) {
		switch string(k) {
		case "ID":
			if id, ok := intOf(v); ok {
				a.ID, idSeen = id, true
			} else if v.Type() != fastjson.TypeNull {
				problems = append(problems, "ID is not a number")
			}
		case "Name":
			a.Name = textOf(v)
		case "Platform":
			a.Platform = textOf(v)
		case "Type":
			a.Type = textOf(v)
		case "Status":
			a.Status = textOf(v)
		case "Schedulable":
			a.Schedulable = flexBool(v)
		case "Priority":
			n, _ := intOf(v)
			a.Priority = int(n)
		case "Concurrency":
			n, _ := intOf(v)
			a.Concurrency = int(n)
		case "GroupIDs":
			for _, g := range arrayOf(v) {
				if id, ok := intOf(g); ok {
					a.GroupIDs = append(a.GroupIDs, id)
				}
			}
		case "LastUsedAt":
			a.LastUsedAt = unlessZero(flexTime(v))
		case "ExpiresAt":
			a.ExpiresAt = unlessZero(flexTime(v))
		case "AutoPauseOnExpired":
			a.AutoPauseOnExpired = flexBool(v)
		case "RateLimitedAt":
			a.RateLimitedAt = unlessZero(flexTime(v))
		case "RateLimitResetAt":
			a.RateLimitResetAt = unlessZero(flexTime(v))
		case "OverloadUntil":
			a.OverloadUntil = unlessZero(flexTime(v))
		case "TempUnschedulableUntil":
			a.TempUnschedulableUntil = unlessZero(flexTime(v))
		case "SessionWindowEnd":
			if t, ok := flexTime(v); ok && (a.Platform == "anthropic" || a.Platform == "") {
				if u := anthropicUsage(&a); u != nil {
					u.Windows[0].ResetAt, u.Windows[0].HasResetAt = t, true
				}
			}
		case "TempUnschedulableReason":
			a.TempUnschedulableReason = textOf(v)
			a.TempBlock = d.tempBlock(v)
		case "Extra":
			if extra, err := v.Object(); err == nil {
				if decodeExtra(&a, extra, &q) {
					a.Quota = new(model.Quota)
					*a.Quota = q
				}
			}
		}
	})
	if !idSeen && keyIDErr != nil {
		problems = append(problems, "no account ID in the value or the key")
	}
	if len(problems) > 0 {
		a.Invalid = strings.Join(problems, "; ")
	}
	return a
}

// decodeExtra reads the Codex snapshot into q the way the gateway's own helpers do: numbers
// may be strings, reset_after_seconds is an integer, booleans may be "true" or non-zero
// numbers. It reports whether there was a snapshot.
func decodeExtra(a *model.Account, extra *fastjson.Object, q *model.Quota) bool {
	has := false
	extra.Visit(func(k []byte, v *fastjson.Value) {
		key := unsafe.String(unsafe.SliceData(k), len(k)) // read-only, not kept
		if key == "model_rate_limits" {
			a.ModelLimits = decodeModelLimits(v)
			return
		}
		if key == "codex_usage_updated_at" {
			q.UpdatedAt, q.HasUpdatedAt = flexTime(v)
			has = true
			return
		}
		if strings.HasPrefix(key, "quota_") {
			decodeLocalQuota(a, key, v)
			return
		}
		if key == "session_window_utilization" || strings.HasPrefix(key, "passive_usage_") {
			decodeAnthropicUsage(a, key, v)
			return
		}
		if strings.HasPrefix(key, "kimi_") || strings.HasPrefix(key, "zhipu_") {
			decodeProviderUsage(a, key, v)
			return
		}
		if strings.HasPrefix(key, "auto_reset_credit_") || key == "codex_auto_reset_credit_state" {
			decodeAutoReset(q, key, v)
			return
		}
		i, field, ok := windowField(key)
		if !ok {
			return
		}
		w := &q.Windows[i]
		switch field {
		case "used_percent":
			w.UsedPercent, _ = flexNumber(v)
			w.Present, w.HasUsed, has = true, true, true
		case "reset_at":
			w.ResetAt, w.HasResetAt = flexTime(v)
			w.SchedResetAt, w.HasSchedResetAt = schedResetAt(v)
			w.Present, has = true, true
		case "reset_after_seconds":
			w.ResetAfterSeconds = flexInt(v)
			w.Present, has = true, true
		case "threshold":
			t, _ := flexNumber(v)
			w.Threshold = model.ClampRatio(t)
		case "disabled":
			w.Disabled = flexBool(v)
		}
	})
	return has || q.AutoReset != nil
}

// windowField splits codex_<w>_<field> and auto_pause_<w>_<field> keys.
func windowField(key string) (int, string, bool) {
	var rest string
	switch {
	case strings.HasPrefix(key, "codex_"):
		rest = key[len("codex_"):]
	case strings.HasPrefix(key, "auto_pause_"):
		rest = key[len("auto_pause_"):]
	default:
		return 0, "", false
	}
	// The window names are "5h" and "7d": compare bytes rather than build "5h_".
	for i, w := range model.WindowNames {
		if len(rest) > len(w) && rest[len(w)] == '_' && rest[:len(w)] == string(w) {
			return i, rest[len(w)+1:], true
		}
	}
	return 0, "", false
}

func decodeModelLimits(v *fastjson.Value) []model.ModelLimit {
	obj, err := v.Object()
	if err != nil {
		return nil
	}
	var out []model.ModelLimit
	obj.Visit(func(k []byte, v *fastjson.Value) {
		out = append(out, model.ModelLimit{Model: strings.Clone(model.Sanitize(string(k))), ResetAt: unlessZero(flexTime(v.Get("rate_limit_reset_at")))})
	})
	return out
}

// textOf renders any scalar as sanitised text that outlives the parser; objects and
// arrays are not text.
func textOf(v *fastjson.Value) string {
	switch v.Type() {
	case fastjson.TypeString:
		s := model.Sanitize(view(v))
		if known, ok := vocabulary[s]; ok {
			return known
		}
		return strings.Clone(s)
	case fastjson.TypeNumber, fastjson.TypeTrue, fastjson.TypeFalse:
		return v.String()
	}
	return ""
}

// vocabulary holds the values most accounts share, so decoding them allocates nothing.
var vocabulary = func() map[string]string {
	m := map[string]string{}
	for _, s := range []string{"openai", "anthropic", "gemini", "antigravity", "grok", "kimi", "zhipu",
		"oauth", "setup-token", "apikey", "bedrock", "upstream", "active", "inactive", "disabled", "error", ""} {
		m[s] = s
	}
	return m
}()

// view is a string value without copying: it aliases the parser's buffer, so it is only
// for reading during the decode (parsing a number or a time); textOf copies what it keeps.
func view(v *fastjson.Value) string {
	b, _ := v.StringBytes()
	return unsafe.String(unsafe.SliceData(b), len(b))
}

func arrayOf(v *fastjson.Value) []*fastjson.Value {
	a, _ := v.Array()
	return a
}

func intOf(v *fastjson.Value) (int64, bool) {
	switch v.Type() {
	case fastjson.TypeNumber:
		if n, err := v.Int64(); err == nil {
			return n, true
		}
		f, err := v.Float64()
		return int64(f), err == nil && f == float64(int64(f))
	case fastjson.TypeString:
		n, err := strconv.ParseInt(strings.TrimSpace(view(v)), 10, 64)
		return n, err == nil
	}
	return 0, false
}

// flexBool mirrors the gateway's resolveAccountExtraBool: true, a string that
// strconv.ParseBool accepts as true, or a non-zero number.
func flexBool(v *fastjson.Value) bool {
	if v == nil {
		return false
	}
	switch v.Type() {
	case fastjson.TypeTrue:
		return true
	case fastjson.TypeString:
		t, err := strconv.ParseBool(strings.TrimSpace(view(v)))
		return err == nil && t
	case fastjson.TypeNumber:
		f, err := v.Float64()
		return err == nil && f != 0 && !math.IsInf(f, 0)
	}
	return false
}

// flexNumber mirrors resolveAccountExtraNumber: a number, or a string ParseFloat accepts.
// The result is always finite, and compares with every threshold as the gateway's value
// does: a JSON number out of float64's range fails the gateway's decoding and reads as
// missing; a string "NaN" never reaches a threshold, like 0; "Infinity" exceeds every
// threshold, like the largest float.
func flexNumber(v *fastjson.Value) (float64, bool) {
	switch v.Type() {
	case fastjson.TypeNumber:
		f, err := v.Float64()
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return 0, false
		}
		return f, true
	case fastjson.TypeString:
		f, err := strconv.ParseFloat(strings.TrimSpace(view(v)), 64)
		if err != nil {
			return 0, false
		}
		return finite(f), true
	}
	return 0, false
}

// finite maps NaN to 0 and the infinities to the largest floats of their sign.
func finite(f float64) float64 {
	switch {
	case math.IsNaN(f):
		return 0
	case math.IsInf(f, 1):
		return math.MaxFloat64
	case math.IsInf(f, -1):
		return -math.MaxFloat64
	}
	return f
}

// flexInt mirrors parseExtraInt: a number truncated to an int, or a string Atoi accepts.
func flexInt(v *fastjson.Value) int {
	switch v.Type() {
	case fastjson.TypeNumber:
		f, err := v.Float64()
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return 0
		}
		return int(f)
	case fastjson.TypeString:
		n, err := strconv.Atoi(strings.TrimSpace(view(v)))
		if err != nil {
			return 0
		}
		return n
	}
	return 0
}

// flexTime mirrors the gateway's parseTime on a string value; ok is false for anything
// else. A stored zero time parses: the gateway takes it as a real, very old time.
func flexTime(v *fastjson.Value) (time.Time, bool) {
	if v == nil || v.Type() != fastjson.TypeString {
		return time.Time{}, false
	}
	return model.ParseGatewayTime(view(v))
}

// unlessZero is for the account's own time fields, where Go's zero time means unset.
func unlessZero(t time.Time, _ bool) time.Time {
	if t.Year() <= 1 {
		return time.Time{}
	}
	return t
}
