package model

import (
	"strings"
	"time"
)

// State is the one word that sums an account up, chosen by precedence.
type State string

// States in precedence order (most severe first), then StateInvalid for undecodable values.
const (
	StateDisabled   State = "disabled"
	StateError      State = "error"
	StateBlocked    State = "blocked"
	StatePaused     State = "paused"
	StateStaleProbe State = "stale_probe"
	StateWarn       State = "warn"
	StateOK         State = "ok"
	StateInvalid    State = "invalid"
)

// States lists every state, most severe first; StateInvalid leads because an account
// quotatop cannot read is the first thing an operator must look at.
var States = []State{StateInvalid, StateDisabled, StateError, StateBlocked, StatePaused, StateStaleProbe, StateWarn, StateOK}

// Severity orders states for sorting: lower is more urgent.
func (s State) Severity() int {
	for i, st := range States {
		if st == s {
			return i
		}
	}
	return len(States)
}

// Glyph is a one-cell symbol for the state, chosen from characters that are narrow in
// every locale (no East Asian ambiguous widths) so tables stay aligned over any ssh.
func (s State) Glyph() string {
	switch s {
	case StateInvalid:
		return "?"
	case StateDisabled:
		return "⊘"
	case StateError:
		return "✗"
	case StateBlocked:
		return "⊗"
	case StatePaused:
		return "⊖"
	case StateStaleProbe:
		return "↻"
	case StateWarn:
		return "▴"
	}
	return "✓"
}

// ParseState accepts a state's name.
func ParseState(s string) (State, bool) {
	for _, st := range States {
		if string(st) == s {
			return st, true
		}
	}
	return "", false
}

// Reason is one fact that contributes to an account's state.
type Reason string

// The reason vocabulary. Order of declaration is the order reasons are listed in.
const (
	ReasonInvalid            Reason = "invalid"
	ReasonDisabled           Reason = "disabled"
	ReasonError              Reason = "error"
	ReasonUnschedulable      Reason = "unschedulable"
	ReasonExpired            Reason = "expired"
	ReasonOverloaded         Reason = "overloaded"
	ReasonRateLimited        Reason = "rate_limited"
	ReasonTempUnschedulable  Reason = "temp_unschedulable"
	ReasonLocalQuota         Reason = "local_quota"
	ReasonQuota5h            Reason = "quota_5h"
	ReasonQuota7d            Reason = "quota_7d"
	ReasonAutoResetPending5h Reason = "auto_reset_pending_5h"
	ReasonAutoResetPending7d Reason = "auto_reset_pending_7d"
	ReasonAutoResetCheck5h   Reason = "auto_reset_check_5h"
	ReasonAutoResetCheck7d   Reason = "auto_reset_check_7d"
	ReasonSchedThreshold5h   Reason = "sched_threshold_5h"
	ReasonSchedThreshold7d   Reason = "sched_threshold_7d"
	ReasonStale5h            Reason = "stale_5h"
	ReasonStale7d            Reason = "stale_7d"
	ReasonNear5h             Reason = "near_5h"
	ReasonNear7d             Reason = "near_7d"
	ReasonAutoResetReady5h   Reason = "auto_reset_ready_5h"
	ReasonAutoResetReady7d   Reason = "auto_reset_ready_7d"
	ReasonNoTimestamp        Reason = "no_timestamp"
	ReasonModelRateLimited   Reason = "model_rate_limited"
)

// Each window's reason of each kind, 5h first (arrays, not maps: Judge runs per account
// per poll).
var (
	quotaReason   = [2]Reason{ReasonQuota5h, ReasonQuota7d}
	staleReason   = [2]Reason{ReasonStale5h, ReasonStale7d}
	nearReason    = [2]Reason{ReasonNear5h, ReasonNear7d}
	schedReason   = [2]Reason{ReasonSchedThreshold5h, ReasonSchedThreshold7d}
	pendingReason = [2]Reason{ReasonAutoResetPending5h, ReasonAutoResetPending7d}
	checkReason   = [2]Reason{ReasonAutoResetCheck5h, ReasonAutoResetCheck7d}
	readyReason   = [2]Reason{ReasonAutoResetReady5h, ReasonAutoResetReady7d}
)

// Judgement is everything quotatop concludes about one account at one instant.
// The booleans come last, where they share one word: the live monitor and the
// metrics keep a judgement per account.
type Judgement struct {
	State   State
	Reasons []Reason // most decisive first; empty for a healthy account; read-only (shared)

	Age     time.Duration // now - UpdatedAt, when HasTimestamp
	Windows [2]WindowJudgement

	LocalQuota     LocalQuotaJudgement     // apikey and bedrock accounts
	SchedThreshold SchedThresholdJudgement // the gateway's per-platform threshold
	AutoReset      [2]AutoResetVerdict     // the reset-credit branch, per window

	HasSnapshot  bool // the account carries a Codex snapshot
	HasTimestamp bool // ...with a usable codex_usage_updated_at
	Stale        bool // the gateway no longer trusts the snapshot
}

// MainReason is the reason an operator should read first, or "" when there is none.
func (j Judgement) MainReason() Reason {
	if len(j.Reasons) == 0 {
		return ""
	}
	return j.Reasons[0]
}

// Has reports whether r is among the reasons.
func (j Judgement) Has(r Reason) bool {
	for _, x := range j.Reasons {
		if x == r {
			return true
		}
	}
	return false
}

// Judge decides an account's state and reasons at time now, mirroring the gateway's own
// scheduling checks (sub2api.md sections 2 and 3).
func Judge(a *Account, p Policy, now time.Time) Judgement {
	var j Judgement
	if a.Invalid != "" {
		j.State, j.Reasons = StateInvalid, oneReason[0:1:1]
		return j
	}
	// the reasons gather on the stack; the judgement gets one slice of the right size
	var buf [16]Reason
	reasons := buf[:0]
	add := func(ok bool, r Reason) {
		if ok {
			reasons = append(reasons, r)
		}
	}

	// The gateway schedules only "active"; the web UI disables by writing "inactive".
	add(a.Status != "active" && a.Status != "error", ReasonDisabled)
	add(a.Status == "error", ReasonError)
	add(!a.Schedulable, ReasonUnschedulable)
	b := a.blocks()
	add(a.AutoPauseOnExpired && !b.ExpiresAt.IsZero() && !now.Before(b.ExpiresAt), ReasonExpired)
	add(now.Before(b.OverloadUntil), ReasonOverloaded)
	add(now.Before(b.RateLimitResetAt), ReasonRateLimited)
	add(now.Before(b.TempUnschedulableUntil), ReasonTempUnschedulable)
	if a.LocalQuota != nil && usesLocalQuota(a) {
		j.LocalQuota = judgeLocalQuota(a.LocalQuota, now)
		add(j.LocalQuota.Exceeded, ReasonLocalQuota)
	}
	blocks := len(reasons)

	// Step 5, once for every window and threshold: the gateway stops trusting a snapshot
	// this old.
	q := a.Quota
	if q != nil {
		j.HasSnapshot, j.HasTimestamp = true, q.HasTimestamp()
		j.Stale = p.MissingTimestampStale
		if j.HasTimestamp {
			j.Age = now.Sub(q.UpdatedAt)
			j.Stale = j.Age >= p.StaleAfter
		}
	}

	// The scheduling threshold is listed right after the quota reasons.
	j.SchedThreshold = judgeSchedThreshold(a, p, now, j.Stale)
	addSched := func() {
		for i, w := range WindowNames {
			add(j.SchedThreshold.Tripped && j.SchedThreshold.Window == w, schedReason[i])
		}
	}

	if q != nil {
		isOpenAI := a.Platform == "openai"
		for i := range WindowNames {
			judgeWindow(&j.Windows[i], q, i, isOpenAI, p, now, j.Stale)
		}
		j.AutoReset = judgeAutoReset(a, &j.Windows, p, now, j.Stale)
		// 5h before 7d within each kind, as the gateway evaluates them. The
		// reset-credit branch runs first and replaces the ordinary reason.
		ws := &j.Windows // ranged by index: a WindowJudgement is worth not copying
		for i := range ws {
			add(ws[i].Verdict == VerdictPaused && j.AutoReset[i] == AutoResetNone, quotaReason[i])
		}
		for i := range ws {
			add(j.AutoReset[i] == AutoResetPending, pendingReason[i])
		}
		for i := range ws {
			add(j.AutoReset[i] == AutoResetCheck, checkReason[i])
		}
		addSched()
		for i := range ws {
			add(ws[i].Verdict == VerdictStale, staleReason[i])
		}
		for i := range ws {
			w := &ws[i]
			decided := w.Verdict == VerdictPaused || w.Verdict == VerdictStale
			add(!decided && w.Present && !w.Reset && p.WarnPercent > 0 && w.UsedPercent >= p.WarnPercent, nearReason[i])
		}
		for i := range ws {
			add(j.AutoReset[i] == AutoResetReady, readyReason[i])
		}
		add(!j.HasTimestamp, ReasonNoTimestamp)
	} else {
		addSched() // Kimi and Zhipu carry no Codex snapshot
	}
	for _, m := range b.ModelLimits {
		if now.Before(m.ResetAt) {
			add(true, ReasonModelRateLimited)
			break
		}
	}

	j.State = stateFor(reasons, blocks)
	if len(reasons) > 0 {
		j.Reasons = keptReasons(reasons)
	}
	return j
}

// oneReason holds every reason once, in declaration order, and windowPairs each kind's
// 5h and 7d reasons together: the slices Judge hands out for the commonest lists, shared
// by every judgement that has them, so a fleet's judgements allocate no reasons. Callers
// only read Reasons; the shared slices are cut to their length, so an append copies.
var (
	oneReason = [...]Reason{ReasonInvalid, ReasonDisabled, ReasonError, ReasonUnschedulable,
		ReasonExpired, ReasonOverloaded, ReasonRateLimited, ReasonTempUnschedulable,
		ReasonLocalQuota, ReasonQuota5h, ReasonQuota7d, ReasonAutoResetPending5h,
		ReasonAutoResetPending7d, ReasonAutoResetCheck5h, ReasonAutoResetCheck7d,
		ReasonSchedThreshold5h, ReasonSchedThreshold7d, ReasonStale5h, ReasonStale7d,
		ReasonNear5h, ReasonNear7d, ReasonAutoResetReady5h, ReasonAutoResetReady7d,
		ReasonNoTimestamp, ReasonModelRateLimited}
	windowPairs = [...]*[2]Reason{&quotaReason, &staleReason, &nearReason, &schedReason,
		&pendingReason, &checkReason, &readyReason}
)

// ReasonMask has a bit for each of the reasons, for a filter that matches reasons
// without keeping them.
func ReasonMask(reasons []Reason) uint32 {
	var m uint32
	for _, r := range reasons {
		for k := range oneReason {
			if oneReason[k] == r {
				m |= 1 << k
				break
			}
		}
	}
	return m
}

// ReasonsContaining is the ReasonMask of every reason whose name contains text.
func ReasonsContaining(text string) uint32 {
	var m uint32
	for k, r := range oneReason {
		if strings.Contains(string(r), text) {
			m |= 1 << k
		}
	}
	return m
}

// keptReasons is the judgement's copy of the reasons: a shared slice when it is one
// reason, or one window kind's two, else a new one.
func keptReasons(reasons []Reason) []Reason {
	switch len(reasons) {
	case 1:
		for k := range oneReason {
			if oneReason[k] == reasons[0] {
				return oneReason[k : k+1 : k+1]
			}
		}
	case 2:
		for _, pair := range windowPairs {
			if pair[0] == reasons[0] && pair[1] == reasons[1] {
				return pair[:]
			}
		}
	}
	return append([]Reason(nil), reasons...)
}

// stateFor is the most severe state the reasons call for; the first blocks of them are
// the blocks.
func stateFor(reasons []Reason, blocks int) State {
	// one pass, each reason ranked by the state it calls for (lower is more severe)
	const disabled, errored, paused, staleProbe, warn, ok = 0, 1, 2, 3, 4, 5
	best := ok
	for _, r := range reasons {
		rank := ok
		switch r {
		case ReasonDisabled:
			rank = disabled
		case ReasonError:
			rank = errored
		case ReasonQuota5h, ReasonQuota7d, ReasonSchedThreshold5h, ReasonSchedThreshold7d,
			ReasonAutoResetPending5h, ReasonAutoResetPending7d, ReasonAutoResetCheck5h, ReasonAutoResetCheck7d:
			rank = paused
		case ReasonStale5h, ReasonStale7d:
			rank = staleProbe
		case ReasonNear5h, ReasonNear7d, ReasonAutoResetReady5h, ReasonAutoResetReady7d:
			rank = warn
		}
		best = min(best, rank)
	}
	switch {
	case best == disabled:
		return StateDisabled
	case best == errored:
		return StateError
	case blocks > 0:
		return StateBlocked
	case best == paused:
		return StatePaused
	case best == staleProbe:
		return StateStaleProbe
	case best == warn:
		return StateWarn
	default:
		return StateOK
	}
}

// NextChange is the earliest instant after now at which Judge may decide differently for
// the account (a snapshot goes stale, a window resets, a block or model limit expires,
// the account expires), or the zero time when nothing is due. Between now and then only
// ages move, so a caller can skip re-judging.
func NextChange(a *Account, p Policy, now time.Time) time.Time {
	var next time.Time
	consider := func(t time.Time) {
		if t.After(now) && (next.IsZero() || t.Before(next)) {
			next = t
		}
	}
	if q := a.Quota; q != nil {
		if q.HasUpdatedAt {
			consider(q.UpdatedAt.Add(p.StaleAfter))
		}
		for i := range q.Windows {
			w := &q.Windows[i]
			if at, _ := windowReset(q, w, now); !at.IsZero() {
				consider(at)
			}
			if w.HasSchedResetAt {
				consider(w.SchedResetAt)
			}
		}
		if r := q.AutoReset; r != nil && r.Card != nil && r.Card.HasCheckedAt {
			consider(r.Card.CheckedAt.Add(CardFreshFor))
		}
	}
	if u := a.ProviderUsage; u != nil {
		for _, w := range u.Windows {
			if w.HasResetAt {
				consider(w.ResetAt)
			}
		}
	}
	if lq := a.LocalQuota; lq != nil {
		for _, d := range [2]LocalQuotaDim{LocalQuotaDaily, LocalQuotaWeekly} {
			if lq.period(d).Limit > 0 && !lq.periodExpired(d, now) {
				consider(lq.periodEnd(d, now))
			}
		}
	}
	b := a.blocks()
	if a.AutoPauseOnExpired {
		consider(b.ExpiresAt)
	}
	consider(b.OverloadUntil)
	consider(b.RateLimitResetAt)
	consider(b.TempUnschedulableUntil)
	for _, m := range b.ModelLimits {
		consider(m.ResetAt)
	}
	return next
}
