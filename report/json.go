package report

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/quotatop/quotatop/model"
	"github.com/quotatop/quotatop/trend"
)

// writeJSON streams the document account by account, producing byte for byte what
// encoding/json's Encoder with SetIndent("", "  ") produced for the structs this format
// was first defined by (report_test.go keeps them as the reference). Reflection, a map
// per account and the re-indenting second buffer were half of a one-shot's time at
// 10,000 accounts. A large fleet's accounts are encoded on every core (writeChunks).
func writeJSON(w io.Writer, h Header, rows []Row) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	e := jsonWriter{b: make([]byte, 0, 4096)}
	e.b = append(e.b, "{\n  \"generated_at\": "...)
	e.time(h.GeneratedAt)
	e.b = append(e.b, ",\n  \"source\": "...)
	e.str(h.Source)
	e.b = append(e.b, ",\n  \"prefix\": "...)
	e.str(h.Prefix)
	for _, f := range [...]struct{ name, value string }{
		{"thresholds_source", h.ThresholdsSource}, {"thresholds_error", h.ThresholdsError}, {"gateway_version", h.GatewayVersion},
	} {
		if f.value != "" { // omitempty
			e.b = append(e.b, ",\n  \""...)
			e.b = append(e.b, f.name...)
			e.b = append(e.b, "\": "...)
			e.str(f.value)
		}
	}
	e.b = append(e.b, ",\n  \"accounts\": ["...)
	if e.err != nil && len(rows) > 0 {
		return e.err // reported with the first account, as it always was
	}
	if _, err := bw.Write(e.b); err != nil {
		return err
	}
	dups := duplicateOf(rows, sharedIDs(rows))
	err := writeChunks(bw, len(rows), jsonChunk, func() encodeFunc {
		var e jsonWriter
		return func(b []byte, lo, hi int) ([]byte, error) {
			e.b = b
			for i := lo; i < hi && e.err == nil; i++ {
				if i > 0 {
					e.b = append(e.b, ',')
				}
				var dup string
				if dups != nil {
					dup = dups[int32(i)]
				}
				e.account(&rows[i], h.GeneratedAt, dup)
			}
			return e.b, e.err
		}
	})
	if err != nil {
		return err
	}
	e.b = e.b[:0]
	if len(rows) == 0 {
		e.b = append(e.b, ']')
	} else {
		e.b = append(e.b, "\n  ]"...)
	}
	e.groups(h.Groups)
	e.b = append(e.b, "\n}\n"...)
	if _, err := bw.Write(e.b); err != nil {
		return err
	}
	return bw.Flush()
}

// jsonChunk is how many accounts a goroutine encodes at a time, about 80 kB.
const jsonChunk = 64

// jsonWriter appends JSON text to b; the first value it cannot encode sets err.
type jsonWriter struct {
	b   []byte
	err error
	// limits is scratch for model_rate_limits, reused between accounts.
	limits []model.ModelLimit
}

// Indentation of an account's fields (6 spaces), of an object's in an account (8) and
// of a window's (10).
const (
	accountField = "\n      \""
	objectField  = "\n        \""
	windowField  = "\n          \""
)

// account writes one account; duplicateOf is another key claiming its ID, "" for none.
func (e *jsonWriter) account(r *Row, now time.Time, duplicateOf string) {
	a, j := r.Account, &r.Judgement
	e.b = append(e.b, "\n    {"+accountField+"id\": "...)
	e.b = strconv.AppendInt(e.b, a.ID, 10)
	e.field("key", a.Key)
	if duplicateOf != "" {
		e.field("duplicate_of", duplicateOf)
	}
	e.field("name", a.Name)
	e.field("platform", a.Platform)
	e.field("type", a.Type)
	e.field("status", a.Status)
	e.b = append(e.b, ","+accountField+"schedulable\": "...)
	e.b = strconv.AppendBool(e.b, a.Schedulable)
	e.field("state", string(j.State))
	e.b = append(e.b, ","+accountField+"reasons\": ["...)
	for i, x := range j.Reasons {
		if i > 0 {
			e.b = append(e.b, ',')
		}
		e.b = append(e.b, "\n        "...)
		e.str(string(x))
	}
	if len(j.Reasons) > 0 {
		e.b = append(e.b, "\n      "...)
	}
	e.b = append(e.b, ']')
	if a.Invalid != "" {
		e.field("invalid", a.Invalid)
	}
	e.b = append(e.b, ","+accountField+"updated_at\": "...)
	if at, age, ok := r.sampled(); ok {
		e.timeOrNull(at)
		e.b = append(e.b, ","+accountField+"age_seconds\": "...)
		e.b = strconv.AppendInt(e.b, int64(age/time.Second), 10)
	} else {
		e.b = append(e.b, "null,"+accountField+"age_seconds\": null"...)
	}
	e.b = append(e.b, ","+accountField+"stale\": "...)
	e.b = strconv.AppendBool(e.b, j.Stale)
	e.b = append(e.b, ","+accountField+"last_used_at\": "...)
	e.timeOrNull(a.LastUsedAt)
	e.b = append(e.b, ","+accountField+"group_ids\": ["...)
	for i, g := range a.GroupIDs {
		if i > 0 {
			e.b = append(e.b, ',')
		}
		e.b = append(e.b, "\n        "...)
		e.b = strconv.AppendInt(e.b, g, 10)
	}
	if len(a.GroupIDs) > 0 {
		e.b = append(e.b, "\n      "...)
	}
	e.b = append(e.b, ']')
	if r.hasWindows() {
		e.windows(r)
	}
	e.b = append(e.b, ","+accountField+"blocked_until\": "...)
	e.timeOrNull(BlockedUntil(a, now))
	blk := a.Block()
	if blk.TempUnschedulableReason != "" {
		e.field("temp_unschedulable_reason", blk.TempUnschedulableReason)
	}
	e.modelLimits(a, now)
	// Added with the pause causes, after every field that was there before them.
	e.schedThreshold(&j.SchedThreshold)
	e.localQuota(&j.LocalQuota)
	e.tempBlock(blk.TempBlock)
	e.b = append(e.b, "\n    }"...)
}

// schedThreshold writes the gateway's scheduling threshold when it trips; like the
// document's other optional objects, it is left out otherwise.
func (e *jsonWriter) schedThreshold(st *model.SchedThresholdJudgement) {
	if !st.Tripped {
		return
	}
	e.b = append(e.b, ","+accountField+"scheduling_threshold\": {"+objectField+"window\": "...)
	e.str(string(st.Window))
	e.b = append(e.b, ","+objectField+"used_percent\": "...)
	e.float(st.UsedPercent)
	e.b = append(e.b, ","+objectField+"threshold_percent\": "...)
	e.float(st.ThresholdPercent)
	e.b = append(e.b, ","+objectField+"until\": "...)
	e.timeOrNull(st.Until)
	e.b = append(e.b, "\n      }"...)
}

// localQuota writes an exceeded local USD quota: every exceeded dimension, the figures of
// the first (the one the gateway reports) and when none is exceeded any more (null when
// the total is: only reset-quota clears it). Left out while the quota is not exceeded.
func (e *jsonWriter) localQuota(l *model.LocalQuotaJudgement) {
	if !l.Exceeded {
		return
	}
	e.b = append(e.b, ","+accountField+"local_quota\": {"+objectField+"exceeded\": ["...)
	n := 0
	for _, d := range model.LocalQuotaDims {
		if !l.Over(d) {
			continue
		}
		if n > 0 {
			e.b = append(e.b, ',')
		}
		e.b = append(e.b, "\n          "...)
		e.str(string(d))
		n++
	}
	if n > 0 {
		e.b = append(e.b, "\n        "...)
	}
	e.b = append(e.b, "],"+objectField+"dimension\": "...)
	e.str(string(l.Dim))
	e.b = append(e.b, ","+objectField+"used_usd\": "...)
	e.float(l.Used)
	e.b = append(e.b, ","+objectField+"limit_usd\": "...)
	e.float(l.Limit)
	e.b = append(e.b, ","+objectField+"free_at\": "...)
	e.timeOrNull(l.ResetsAt)
	e.b = append(e.b, "\n      }"...)
}

// tempBlock writes a temporary block's reason decoded, when it is a quota pause's JSON;
// left out otherwise. A member the reason lacks reads as "" or 0, as the model holds it.
func (e *jsonWriter) tempBlock(b *model.TempBlock) {
	if b == nil {
		return
	}
	e.b = append(e.b, ","+accountField+"temp_block\": {"+objectField+"source\": "...)
	e.str(b.Source)
	e.b = append(e.b, ","+objectField+"window\": "...)
	e.str(b.Window)
	e.b = append(e.b, ","+objectField+"used_percent\": "...)
	e.float(b.UsedPercent)
	e.b = append(e.b, ","+objectField+"threshold_percent\": "...)
	e.float(b.ThresholdPercent)
	e.b = append(e.b, "\n      }"...)
}

// windows writes the map the reference encoded, whose keys come out sorted.
func (e *jsonWriter) windows(r *Row) {
	var ws [2]window
	ws[0], _ = r.window(0)
	ws[1], _ = r.window(1)
	order := [2]int{0, 1}
	if ws[1].name < ws[0].name {
		order = [2]int{1, 0}
	}
	e.b = append(e.b, ","+accountField+"windows\": {"...)
	for n, i := range order {
		w := &ws[i]
		if n == 1 && w.name == ws[order[0]].name {
			break // a map holds a name once (the later window wins, as it did there)
		}
		if n > 0 {
			e.b = append(e.b, ',')
		}
		e.b = append(e.b, "\n        "...)
		e.str(string(w.name))
		e.b = append(e.b, ": {"+windowField+"used_percent\": "...)
		e.float(w.used)
		e.b = append(e.b, ","+windowField+"threshold_percent\": "...)
		e.float(w.threshold)
		e.b = append(e.b, ","+windowField+"threshold_source\": "...)
		e.str(string(w.source))
		e.b = append(e.b, ","+windowField+"reset_at\": "...)
		e.timeOrNull(w.resetAt)
		e.b = append(e.b, ","+windowField+"reset\": "...)
		e.b = strconv.AppendBool(e.b, w.reset)
		e.b = append(e.b, ","+windowField+"auto_pause_disabled\": "...)
		e.b = strconv.AppendBool(e.b, w.disabled)
		e.trend(r.Forecast, i)
		e.b = append(e.b, "\n        }"...)
	}
	e.b = append(e.b, "\n      }"...)
}

// noForecast stands for a row that was not projected; never written.
var noForecast trend.Forecast

// trend writes window i's projection fields: null where there is not enough history.
func (e *jsonWriter) trend(f *trend.Forecast, i int) {
	if f == nil {
		f = &noForecast
	}
	w := &f.Windows[i]
	rated := w.Status == trend.StatusRate
	e.b = append(e.b, ","+windowField+"rate_percent_per_hour\": "...)
	if rated {
		e.float(round2(w.Rate))
	} else {
		e.b = append(e.b, "null"...)
	}
	e.b = append(e.b, ","+windowField+"projected_percent_at_reset\": "...)
	if rated && w.HasProjected {
		e.float(round2(w.Projected))
	} else {
		e.b = append(e.b, "null"...)
	}
	e.b = append(e.b, ","+windowField+"pause_eta\": "...)
	e.timeOrNull(w.PauseAt)
	e.b = append(e.b, ","+windowField+"projection_stale\": "...)
	e.b = strconv.AppendBool(e.b, f.Stale && rated)
}

// round2 keeps two decimals, as the document always has.
func round2(v float64) float64 {
	// Through a buffer on the stack: a string per window was most of what the JSON
	// writer allocated.
	var buf [32]byte
	f, _ := strconv.ParseFloat(string(strconv.AppendFloat(buf[:0], v, 'f', 2, 64)), 64)
	return f
}

// horizonNames label the group projections, matching trend.DefaultOptions().Horizons.
var horizonNames = [3]string{"+1h", "+2h", "+5h"}

// groups writes each scheduling group's capacity for one platform, now and ahead.
func (e *jsonWriter) groups(groups []trend.Group) {
	e.b = append(e.b, ",\n  \"groups\": ["...)
	for n, g := range groups {
		if n > 0 {
			e.b = append(e.b, ',')
		}
		e.b = append(e.b, "\n    {\n      \"id\": "...)
		e.b = strconv.AppendInt(e.b, g.ID, 10)
		e.b = append(e.b, ",\n      \"platform\": "...)
		e.str(g.Platform)
		for _, c := range [...]struct {
			name string
			n    int
		}{{"accounts", g.Accounts}, {"schedulable", g.Schedulable}, {"paused", g.Paused}, {"blocked", g.Blocked}} {
			e.b = append(e.b, ",\n      \""+c.name+"\": "...)
			e.b = strconv.AppendInt(e.b, int64(c.n), 10)
		}
		e.b = append(e.b, ",\n      \"projected\": {"...)
		for i, name := range horizonNames {
			if i > 0 {
				e.b = append(e.b, ',')
			}
			e.b = append(e.b, "\n        \""+name+"\": "...)
			e.b = strconv.AppendInt(e.b, int64(g.Projected[i]), 10)
		}
		e.b = append(e.b, "\n      },\n      \"dry_at\": "...)
		e.timeOrNull(g.DryAt)
		e.b = append(e.b, ",\n      \"projection_stale\": "...)
		e.b = strconv.AppendBool(e.b, g.Stale)
		e.b = append(e.b, "\n    }"...)
	}
	if len(groups) > 0 {
		e.b = append(e.b, "\n  "...)
	}
	e.b = append(e.b, ']')
}

// modelLimits writes the cooldowns in force, keyed by model in sorted order; of two
// entries for one model the later wins, as it did in the reference's map.
func (e *jsonWriter) modelLimits(a *model.Account, now time.Time) {
	e.limits = e.limits[:0]
	for _, m := range a.Block().ModelLimits {
		if m.ResetAt.After(now) {
			e.limits = append(e.limits, m)
		}
	}
	if len(e.limits) == 0 {
		return
	}
	slices.SortStableFunc(e.limits, func(x, y model.ModelLimit) int {
		switch {
		case x.Model < y.Model:
			return -1
		case x.Model > y.Model:
			return 1
		}
		return 0
	})
	e.b = append(e.b, ","+accountField+"model_rate_limits\": {"...)
	first := true
	for i, m := range e.limits {
		if i+1 < len(e.limits) && e.limits[i+1].Model == m.Model {
			continue
		}
		if !first {
			e.b = append(e.b, ',')
		}
		first = false
		e.b = append(e.b, "\n        "...)
		e.str(m.Model)
		e.b = append(e.b, ": "...)
		e.time(m.ResetAt)
	}
	e.b = append(e.b, "\n      }"...)
}

// field writes `,\n      "name": "value"` at account depth.
func (e *jsonWriter) field(name, value string) {
	e.b = append(e.b, ","+accountField...)
	e.b = append(e.b, name...)
	e.b = append(e.b, "\": "...)
	e.str(value)
}

// timeOrNull writes a set time, else null.
func (e *jsonWriter) timeOrNull(t time.Time) {
	if t.IsZero() {
		e.b = append(e.b, "null"...)
		return
	}
	e.time(t)
}

// time writes t in UTC as time.Time.MarshalJSON does, including its refusal of years it
// cannot represent in RFC 3339.
func (e *jsonWriter) time(t time.Time) {
	b, ok := appendRFC3339(append(e.b, '"'), t)
	if !ok {
		e.fail(fmt.Errorf("json: error calling MarshalJSON for type *time.Time: Time.MarshalJSON: year outside of range [0,9999]"))
		return
	}
	e.b = append(b, '"')
}

// float writes f as encoding/json does: shortest 'f' form, 'e' form outside [1e-6, 1e21).
// A number that is not finite, which encoding/json refuses, is null: nothing makes one
// today (the decoder maps them), and one slip must not cost the whole document.
func (e *jsonWriter) float(f float64) {
	if !finite(f) {
		e.b = append(e.b, "null"...)
		return
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	start := len(e.b)
	e.b = strconv.AppendFloat(e.b, f, format, -1, 64)
	if format == 'e' {
		// Clean up e-09 to e-9, as encoding/json does.
		if n := len(e.b) - start; n >= 4 && e.b[len(e.b)-4] == 'e' && e.b[len(e.b)-3] == '-' && e.b[len(e.b)-2] == '0' {
			e.b[len(e.b)-2] = e.b[len(e.b)-1]
			e.b = e.b[:len(e.b)-1]
		}
	}
}

func (e *jsonWriter) fail(err error) {
	if e.err == nil {
		e.err = err
	}
}

const hexDigits = "0123456789abcdef"

// str writes s quoted the way encoding/json does with HTML escaping on (the Encoder's
// default): <, > and & as \u00XX, invalid UTF-8 as \ufffd, U+2028 and U+2029 escaped.
func (e *jsonWriter) str(s string) {
	e.b = append(e.b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			e.b = append(e.b, s[start:i]...)
			switch c {
			case '"', '\\':
				e.b = append(e.b, '\\', c)
			case '\b':
				e.b = append(e.b, '\\', 'b')
			case '\f':
				e.b = append(e.b, '\\', 'f')
			case '\n':
				e.b = append(e.b, '\\', 'n')
			case '\r':
				e.b = append(e.b, '\\', 'r')
			case '\t':
				e.b = append(e.b, '\\', 't')
			default:
				e.b = append(e.b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			e.b = append(e.b, s[start:i]...)
			e.b = append(e.b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			e.b = append(e.b, s[start:i]...)
			e.b = append(e.b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	e.b = append(e.b, s[start:]...)
	e.b = append(e.b, '"')
}
