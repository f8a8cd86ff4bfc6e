package source

import (
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/quotatop/quotatop/model"
	"github.com/valyala/fastjson/fastfloat"
)

// Decoder turns sched:meta values into Accounts. It reads each value in one pass over its
// bytes (scan.go), with no tree and no allocation but for what the Account keeps: a
// 10,000-account poll must decode in milliseconds. Every field tolerates drift (numbers as
// strings, IDs as strings, nulls) the way the gateway's own readers do. A Decoder reuses
// its buffers and is not safe for concurrent use; give each goroutine its own.
type Decoder struct {
	keyBuf    []byte  // the last escaped key, unescaped
	valBuf    []byte  // the last escaped string value, unescaped
	reasonBuf []byte  // TempUnschedulableReason while its own JSON is read
	ids       []int64 // GroupIDs as read, before they are found to repeat the last ones
	q         model.Quota
	blocks    model.Blocks // the value's blocks, given to the account at the end if any
	memo      *memo        // the Redis reader's, read-only while decoding
	top       keyShape     // the value's members, as the last value stored them
	extraKeys keyShape     // Extra's members, likewise
	topMemo   memos        // the value's members and what they decoded to, as last read
	extraMemo memos        // Extra's, likewise
	vals      [2][]byte    // copies of the value being read and the one before (decodememo.go)
	gen       uint64       // how many values were read; vals[gen&1] is the one being read
	kept      bool         // the value being read is in vals
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
	var a model.Account
	d.decode(&a, key, raw)
	return a
}

// decode reads the value's members in their stored order, duplicates included, as the
// fastjson decoder it replaced visited them; a value that turns out not to be JSON at
// any point is thrown away whole. The snapshot is decoded in the Decoder and copied to
// the heap only when the value carries one: a batch-wide slab of Quotas would be kept
// alive whole by any one account the live monitor keeps from an earlier poll. a must be
// the zero Account; it is filled in place, where the batch keeps it, to spare copying.
func (d *Decoder) decode(a *model.Account, key, raw string) {
	a.Key = model.Sanitize(key)
	keyID, keyIDErr := strconv.ParseInt(key[strings.LastIndexByte(key, ':')+1:], 10, 64)
	a.ID = keyID

	s := raw
	i := skipWS(s, 0)
	if i >= len(s) || s[i] != '{' {
		v, end := scalarAt(s, i, 1)
		if end < 0 || skipWS(s, end) != len(s) {
			a.Invalid = syntaxReason(raw)
			return
		}
		a.Invalid = "not a JSON object but " + v.kind.String()
		return
	}

	d.q, d.blocks = model.Quota{}, model.Blocks{}
	idSeen := false
	var problems []string
	i, done := objectStart(s, i)
	d.keepValue(raw)
	for m := 0; !done && i >= 0; {
		if n, end := d.run(&d.topMemo, m, s, i); n > 0 {
			for k := m; k < m+n; k++ {
				if kind := d.topMemo.pos[k].kind; kind != fSkip {
					applyTop(a, &d.blocks, kind, &d.topMemo.res[k], &idSeen, &problems)
				}
			}
			m += n
			i, done = memberNext(s, end)
			d.topMemo.follows(m-1, i, done)
			continue
		}
		from := i
		_, kind, at, ok := d.top.match(m, s, i)
		if !ok {
			var raw string
			var esc bool
			if raw, esc, at = memberKey(s, i); at < 0 {
				i = -1
				break
			}
			kind = topKind(d.key(raw, esc))
			d.top.learn(m, s, i, raw, esc, kind)
		}
		if memoTop(kind) {
			r := d.topMemo.slot(m)
			i = d.parseTop(r, kind, s, at)
			d.keep(&d.topMemo, m, kind, s, from, i)
			applyTop(a, &d.blocks, kind, r, &idSeen, &problems)
		} else {
			d.topMemo.forget(m)
			i = d.extra(a, s, at)
		}
		i, done = memberNext(s, i)
		d.topMemo.follows(m, i, done)
		m++
	}
	if i < 0 || skipWS(s, i) != len(s) {
		*a = model.Account{Key: a.Key, ID: keyID, Invalid: syntaxReason(raw)}
		return
	}
	a.SetBlocks(d.blocks)
	if !idSeen && keyIDErr != nil {
		problems = append(problems, "no account ID in the value or the key")
	}
	if len(problems) > 0 {
		a.Invalid = strings.Join(problems, "; ")
	}
}

// The members of a value the decoder reads, by the kind its key switch gives them
// (fSkip: any other key, whose value is only validated).
const (
	fSkip uint8 = iota
	fID
	fName
	fPlatform
	fType
	fStatus
	fSchedulable
	fPriority
	fConcurrency
	fGroupIDs
	fLastUsedAt
	fExpiresAt
	fAutoPauseOnExpired
	fRateLimitedAt
	fRateLimitResetAt
	fOverloadUntil
	fTempUnschedulableUntil
	fSessionWindowEnd
	fTempUnschedulableReason
	fExtra
)

// topKind is the kind of a value's member, by its key (unescaped).
func topKind(key string) uint8 {
	switch key {
	case "ID":
		return fID
	case "Name":
		return fName
	case "Platform":
		return fPlatform
	case "Type":
		return fType
	case "Status":
		return fStatus
	case "Schedulable":
		return fSchedulable
	case "Priority":
		return fPriority
	case "Concurrency":
		return fConcurrency
	case "GroupIDs":
		return fGroupIDs
	case "LastUsedAt":
		return fLastUsedAt
	case "ExpiresAt":
		return fExpiresAt
	case "AutoPauseOnExpired":
		return fAutoPauseOnExpired
	case "RateLimitedAt":
		return fRateLimitedAt
	case "RateLimitResetAt":
		return fRateLimitResetAt
	case "OverloadUntil":
		return fOverloadUntil
	case "TempUnschedulableUntil":
		return fTempUnschedulableUntil
	case "SessionWindowEnd":
		return fSessionWindowEnd
	case "TempUnschedulableReason":
		return fTempUnschedulableReason
	case "Extra":
		return fExtra
	}
	return fSkip
}

// groupIDs appends the numeric members of the GroupIDs array at i to ids; anything else
// there adds nothing. It returns the index after the value, or -1.
func (d *Decoder) groupIDs(ids []int64, s string, i int) ([]int64, int) {
	if i >= len(s) || s[i] != '[' {
		_, i = scalarAt(s, i, 2)
		return ids, i
	}
	i = skipWS(s, i+1)
	if i < len(s) && s[i] == ']' {
		return ids, i + 1
	}
	for {
		var v jval
		if v, i = scalarAt(s, i, 3); i < 0 {
			return ids, -1
		}
		if id, ok := d.intOf(v); ok {
			ids = append(ids, id)
		}
		if i = skipWS(s, i); i >= len(s) {
			return ids, -1
		}
		switch s[i] {
		case ',':
			i = skipWS(s, i+1)
			continue
		case ']':
			return ids, i + 1
		}
		return ids, -1
	}
}

// extra reads the Extra object at i: the Codex snapshot into d.q the way the gateway's own
// helpers do (numbers may be strings, reset_after_seconds is an integer, booleans may be
// "true" or non-zero numbers), and the other keys the judgement reads. It returns the
// index after the value, or -1.
func (d *Decoder) extra(a *model.Account, s string, i int) int {
	if i >= len(s) || s[i] != '{' {
		_, i = scalarAt(s, i, 2)
		return i
	}
	q := &d.q
	has := false
	i, done := objectStart(s, i)
	for m := 0; !done && i >= 0; {
		if n, end := d.run(&d.extraMemo, m, s, i); n > 0 {
			for k := m; k < m+n; k++ {
				if kind := d.extraMemo.pos[k].kind; kind != xSkip {
					applyExtra(q, kind, &d.extraMemo.res[k], &has)
				}
			}
			m += n
			i, done = memberNext(s, end)
			d.extraMemo.follows(m-1, i, done)
			continue
		}
		from := i
		key, kind, at, ok := d.extraKeys.match(m, s, i)
		if !ok {
			var raw string
			var esc bool
			if raw, esc, at = memberKey(s, i); at < 0 {
				return -1
			}
			key = d.key(raw, esc)
			kind = extraKind(key)
			d.extraKeys.learn(m, s, i, raw, esc, kind)
		}
		if memoExtra(kind) {
			r := d.extraMemo.slot(m)
			i = d.parseExtra(r, kind, s, at)
			d.keep(&d.extraMemo, m, kind, s, from, i)
			applyExtra(q, kind, r, &has)
			i, done = memberNext(s, i)
			d.extraMemo.follows(m, i, done)
			m++
			continue
		}
		d.extraMemo.forget(m)
		m++
		var v jval
		switch kind {
		case xModelLimits:
			d.blocks.ModelLimits, i = d.modelLimits(s, at)
		case xCardState:
			r := autoReset(q)
			r.Card, i = d.cardState(s, at)
		case xAutoReset:
			v, i = scalarAt(s, at, 3)
			d.decodeAutoReset(q, key, v)
		case xLocalQuota:
			v, i = scalarAt(s, at, 3)
			d.decodeLocalQuota(a, key, v)
		case xAnthropicUsage:
			v, i = scalarAt(s, at, 3)
			d.decodeAnthropicUsage(a, key, v)
		case xProviderUsage:
			v, i = scalarAt(s, at, 3)
			d.decodeProviderUsage(a, key, v)
		}
		i, done = memberNext(s, i)
	}
	if i >= 0 && (has || q.AutoReset != nil) {
		a.Quota = new(model.Quota)
		*a.Quota = *q
	}
	return i
}

// The members of Extra the decoder reads, by the kind its key gives them (xSkip: any
// other key). A window's key is xWindow + window*windowFields + its field.
const (
	xSkip uint8 = iota
	xModelLimits
	xUpdatedAt
	xCardState
	xAutoReset
	xLocalQuota
	xAnthropicUsage
	xProviderUsage
	xWindow
)

// The fields of codex_<w>_<field> and auto_pause_<w>_<field>, either prefix for any.
const (
	wUsedPercent uint8 = iota
	wResetAt
	wResetAfterSeconds
	wThreshold
	wDisabled
	windowFields
)

// extraKind is the kind of an Extra member, by its key (unescaped): the first byte picks
// the family; within it, the fastjson decoder's order.
func extraKind(key string) uint8 {
	if len(key) < len("kimi_") {
		return xSkip
	}
	switch key[0] {
	case 'm':
		if key == "model_rate_limits" {
			return xModelLimits
		}
	case 'c':
		switch key {
		case "codex_usage_updated_at":
			return xUpdatedAt
		case "codex_auto_reset_credit_state":
			return xCardState
		}
		return windowKind(key)
	case 'a':
		if strings.HasPrefix(key, "auto_reset_credit_") {
			return xAutoReset
		}
		return windowKind(key)
	case 'q':
		if strings.HasPrefix(key, "quota_") {
			return xLocalQuota
		}
	case 's', 'p':
		if key == "session_window_utilization" || strings.HasPrefix(key, "passive_usage_") {
			return xAnthropicUsage
		}
	case 'k', 'z':
		if strings.HasPrefix(key, "kimi_") || strings.HasPrefix(key, "zhipu_") {
			return xProviderUsage
		}
	}
	return xSkip
}

// windowKind is the kind of a codex_<w>_<field> or auto_pause_<w>_<field> key; xSkip for
// any other key, or another field (whose value is read and dropped).
func windowKind(key string) uint8 {
	n, field, ok := windowField(key)
	if !ok {
		return xSkip
	}
	var f uint8
	switch field {
	case "used_percent":
		f = wUsedPercent
	case "reset_at":
		f = wResetAt
	case "reset_after_seconds":
		f = wResetAfterSeconds
	case "threshold":
		f = wThreshold
	case "disabled":
		f = wDisabled
	default:
		return xSkip
	}
	return xWindow + uint8(n)*windowFields + f
}

// parseWindow decodes a window's field from its value v into r.
func (d *Decoder) parseWindow(r *memoResult, field uint8, v jval) {
	switch field {
	case wUsedPercent:
		r.f, _ = d.flexNumber(v)
	case wResetAt:
		r.t, r.ok = d.flexTime(v)
		if v.kind == jString && !v.esc && v.raw != "" && v.raw[0] > ' ' && v.raw[0] < utf8.RuneSelf &&
			v.raw[len(v.raw)-1] > ' ' && v.raw[len(v.raw)-1] < utf8.RuneSelf {
			// nothing for TrimSpace to trim: the scheduling read is the strict one
			r.t2, r.ok2 = r.t, r.ok
		} else {
			r.t2, r.ok2 = d.schedResetAt(v)
		}
	case wResetAfterSeconds:
		r.n = int64(d.flexInt(v))
	case wThreshold:
		t, _ := d.flexNumber(v)
		r.f = model.ClampRatio(t)
		r.b = v.kind == jString && isNaNText(d.view(v))
	case wDisabled:
		r.b = d.flexBool(v)
	}
}

// applyWindow stores a window's field, decoded to r, in w.
func applyWindow(w *model.WindowSnapshot, field uint8, r *memoResult, has *bool) {
	switch field {
	case wUsedPercent:
		w.UsedPercent = r.f
		w.Present, w.HasUsed, *has = true, true, true
	case wResetAt:
		w.ResetAt, w.HasResetAt = r.t, r.ok
		w.SchedResetAt, w.HasSchedResetAt = r.t2, r.ok2
		w.Present, *has = true, true
	case wResetAfterSeconds:
		w.ResetAfterSeconds = int(r.n)
		w.Present, *has = true, true
	case wThreshold:
		w.Threshold, w.ThresholdNaN = r.f, r.b
	case wDisabled:
		w.Disabled = r.b
	}
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

// modelLimits reads model_rate_limits at i: one cooldown per member, in order, with the
// member's rate_limit_reset_at as fastjson's Get found it (the first key spelled that way
// without escapes, else the first that unescapes to it).
func (d *Decoder) modelLimits(s string, i int) ([]model.ModelLimit, int) {
	if i >= len(s) || s[i] != '{' {
		_, i = scalarAt(s, i, 3)
		return nil, i
	}
	var out []model.ModelLimit
	i, done := objectStart(s, i)
	for !done && i >= 0 {
		raw, esc, at := memberKey(s, i)
		if at < 0 {
			return nil, -1
		}
		l := model.ModelLimit{Model: strings.Clone(model.Sanitize(d.key(raw, esc)))}
		if at < len(s) && s[at] == '{' {
			var plain, escaped time.Time
			plainSeen, escapedSeen := false, false
			i, done = objectStart(s, at)
			for !done && i >= 0 {
				raw, esc, at := memberKey(s, i)
				if at < 0 {
					return nil, -1
				}
				var v jval
				if v, i = scalarAt(s, at, 5); i < 0 {
					return nil, -1
				}
				if !esc && raw == "rate_limit_reset_at" && !plainSeen {
					plain, _ = d.flexTime(v)
					plainSeen = true
				}
				if !escapedSeen && d.key(raw, esc) == "rate_limit_reset_at" {
					escaped, _ = d.flexTime(v)
					escapedSeen = true
				}
				i, done = memberNext(s, i)
			}
			if i < 0 {
				return nil, -1
			}
			if plainSeen {
				l.ResetAt = unlessZero(plain, true)
			} else {
				l.ResetAt = unlessZero(escaped, true)
			}
		} else if _, i = scalarAt(s, at, 4); i < 0 {
			return nil, -1
		}
		out = append(out, l)
		i, done = memberNext(s, i)
	}
	return out, i
}

// textOf renders any scalar as sanitised text that outlives the decode; objects and
// arrays are not text.
func (d *Decoder) textOf(v jval) string {
	switch v.kind {
	case jString:
		s := model.Sanitize(d.view(v))
		if known, ok := interned(s); ok {
			return known
		}
		return strings.Clone(s)
	case jNumber:
		return strings.Clone(v.raw)
	case jTrue:
		return "true"
	case jFalse:
		return "false"
	}
	return ""
}

// interned returns the shared copy of the values most accounts hold, so decoding them
// allocates nothing.
func interned(s string) (string, bool) {
	switch s {
	case "openai":
		return "openai", true
	case "anthropic":
		return "anthropic", true
	case "gemini":
		return "gemini", true
	case "antigravity":
		return "antigravity", true
	case "grok":
		return "grok", true
	case "kimi":
		return "kimi", true
	case "zhipu":
		return "zhipu", true
	case "oauth":
		return "oauth", true
	case "setup-token":
		return "setup-token", true
	case "apikey":
		return "apikey", true
	case "bedrock":
		return "bedrock", true
	case "upstream":
		return "upstream", true
	case "active":
		return "active", true
	case "inactive":
		return "inactive", true
	case "disabled":
		return "disabled", true
	case "error":
		return "error", true
	case "":
		return "", true
	}
	return "", false
}

// intOf reads an integer: a number that is one (or a whole float), or a string
// ParseInt accepts after trimming.
func (d *Decoder) intOf(v jval) (int64, bool) {
	switch v.kind {
	case jNumber:
		if n, ok := plainInt(v.raw); ok {
			return n, true
		}
		if n, err := fastfloat.ParseInt64(v.raw); err == nil {
			return n, true
		}
		f, err := v.float()
		return int64(f), err == nil && f == float64(int64(f))
	case jString:
		n, err := strconv.ParseInt(strings.TrimSpace(d.view(v)), 10, 64)
		return n, err == nil
	}
	return 0, false
}

// plainInt reads up to 18 digits with an optional minus, the common case, without the
// error fastfloat would build for anything else.
func plainInt(s string) (int64, bool) {
	neg := len(s) > 0 && s[0] == '-'
	if neg {
		s = s[1:]
	}
	if len(s) == 0 || len(s) > 18 {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}

// flexBool mirrors the gateway's resolveAccountExtraBool: true, a string that
// strconv.ParseBool accepts as true, or a non-zero number.
func (d *Decoder) flexBool(v jval) bool {
	switch v.kind {
	case jTrue:
		return true
	case jString:
		t, err := strconv.ParseBool(strings.TrimSpace(d.view(v)))
		return err == nil && t
	case jNumber:
		f, err := v.float()
		return err == nil && f != 0 && !math.IsInf(f, 0)
	}
	return false
}

// flexNumber mirrors resolveAccountExtraNumber: a number, or a string ParseFloat accepts.
// The result is always finite, and compares with every threshold as the gateway's value
// does: a JSON number out of float64's range fails the gateway's decoding and reads as
// missing; a string "NaN" never reaches a threshold, like 0; "Infinity" exceeds every
// threshold, like the largest float.
func (d *Decoder) flexNumber(v jval) (float64, bool) {
	switch v.kind {
	case jNumber:
		f, err := v.float()
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return 0, false
		}
		return f, true
	case jString:
		f, err := strconv.ParseFloat(strings.TrimSpace(d.view(v)), 64)
		if err != nil {
			return 0, false
		}
		return finite(f), true
	}
	return 0, false
}

// isNaNText reports whether ParseFloat reads s (trimmed) as NaN, as the gateway's
// resolveAccountExtraNumber does before its clamp keeps the NaN (model.WindowSnapshot).
func isNaNText(s string) bool {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	return err == nil && math.IsNaN(f)
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
func (d *Decoder) flexInt(v jval) int {
	switch v.kind {
	case jNumber:
		f, err := v.float()
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return 0
		}
		return int(f)
	case jString:
		n, err := strconv.Atoi(strings.TrimSpace(d.view(v)))
		if err != nil {
			return 0
		}
		return n
	}
	return 0
}

// flexTime mirrors the gateway's parseTime on a string value; ok is false for anything
// else. A stored zero time parses: the gateway takes it as a real, very old time.
func (d *Decoder) flexTime(v jval) (time.Time, bool) {
	if v.kind != jString {
		return time.Time{}, false
	}
	return model.ParseGatewayTime(d.view(v))
}

// unlessZero is for the account's own time fields, where Go's zero time means unset:
// any time in year 1 (t.Year() <= 1 for the UTC times ParseGatewayTime returns).
func unlessZero(t time.Time, _ bool) time.Time {
	if t.Before(yearTwo) {
		return time.Time{}
	}
	return t
}

var yearTwo = time.Date(2, time.January, 1, 0, 0, 0, 0, time.UTC)
