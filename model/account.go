// Package model is quotatop's pure domain: accounts as the gateway publishes them, their
// quota windows, and the judgement the gateway makes about each one. It does no I/O and
// reads no clock: callers pass "now" in.
package model

import "time"

// WindowName names one of the two Codex usage windows.
type WindowName string

// The two windows, in the order the gateway evaluates them.
const (
	Window5h WindowName = "5h"
	Window7d WindowName = "7d"
)

// WindowNames lists the windows in evaluation order; index i matches Quota.Windows[i].
var WindowNames = [2]WindowName{Window5h, Window7d}

// Account is one upstream account as read from the gateway's snapshot storage. Strings are
// already sanitised (see Sanitize). Credentials are deliberately absent.
type Account struct {
	ID          int64
	Key         string // storage key the value came from, e.g. sched:meta:42
	Name        string
	Platform    string
	Type        string
	Status      string
	Priority    int
	Concurrency int
	// GroupIDs is read-only: accounts with the same groups share one slice (the decoder's).
	GroupIDs []int64

	LastUsedAt time.Time // zero when unknown

	// Blocks are the account's timed blocks and cooldowns, nil when it has none (most
	// accounts): read them with Block.
	Blocks *Blocks

	// Quota is the Codex usage snapshot; nil when the account carries none.
	Quota *Quota

	// LocalQuota is the gateway's own USD quota (quota_* keys); nil when none is set.
	LocalQuota *LocalQuota
	// ProviderUsage is a Kimi or Zhipu Coding Plan snapshot (<provider>_5h_* and
	// <provider>_weekly_*); nil when the account carries none.
	ProviderUsage *ProviderUsage
	// SchedThresholdOverride is the account's own scheduling threshold in percent
	// (credentials.account_scheduling_threshold, 1-100), 0 when none. Only the admin API
	// shows it: the meta form's credentials keep no such key.
	SchedThresholdOverride int
	// Invalid says why the stored value could not be decoded; non-empty makes the
	// account's state StateInvalid and everything else above is best effort.
	Invalid string

	// Rev fingerprints the stored value the account was decoded from, 0 when unknown:
	// two reads with the same non-zero Rev (and LastUsedAt) hold the same account, so
	// the live monitor keeps the earlier judgement instead of judging again.
	Rev uint64

	// The booleans come last, where they share one word: the live monitor keeps two
	// fleets of accounts.
	Schedulable        bool
	AutoPauseOnExpired bool
	// IdentityMismatch is set when the Codex snapshot's email, account or workspace differs
	// from the OAuth credentials' (admin API only): the gateway then ignores the snapshot
	// for its scheduling threshold.
	IdentityMismatch bool
}

// Blocks are an account's timed blocks and cooldowns. Most accounts have none, so an
// account keeps them out of line: a nil pointer instead of 168 bytes, in each of the two
// fleets the live monitor holds (a value that did not change shares its Blocks).
type Blocks struct {
	ExpiresAt               time.Time // AutoPauseOnExpired says whether it pauses the account
	RateLimitedAt           time.Time
	RateLimitResetAt        time.Time
	OverloadUntil           time.Time
	TempUnschedulableUntil  time.Time
	TempUnschedulableReason string
	// TempBlock is TempUnschedulableReason decoded, when it is the JSON a quota pause
	// writes (source account_scheduling_threshold and the forks' sources); nil otherwise.
	TempBlock *TempBlock

	ModelLimits []ModelLimit
}

// IsZero reports whether b holds no block at all.
func (b *Blocks) IsZero() bool {
	return b.ExpiresAt.IsZero() && b.RateLimitedAt.IsZero() && b.RateLimitResetAt.IsZero() &&
		b.OverloadUntil.IsZero() && b.TempUnschedulableUntil.IsZero() && b.TempUnschedulableReason == "" &&
		b.TempBlock == nil && len(b.ModelLimits) == 0
}

// Block returns a copy of the account's blocks: the zero Blocks when it has none. A copy,
// because Blocks may be shared with the same account in an older fleet.
func (a *Account) Block() Blocks { return *a.blocks() }

// SetBlocks gives the account the blocks b, or none when b is zero.
func (a *Account) SetBlocks(b Blocks) {
	if b.IsZero() {
		a.Blocks = nil
		return
	}
	a.Blocks = new(Blocks) // not &b: that would put every b on the heap, zero or not
	*a.Blocks = b
}

// EditBlocks returns the account's blocks to write to: its own copy, since the ones it has
// may be shared with an older fleet. Each call copies, so take it once to set several
// fields. The decoders use SetBlocks; this is for tests and hand-made accounts.
func (a *Account) EditBlocks() *Blocks {
	b := a.Block()
	a.Blocks = &b
	return a.Blocks
}

// noBlocks is what blocks returns for an account without any; never written.
var noBlocks Blocks

// blocks is the account's blocks without a copy, for the judgement's hot path; never
// written through.
func (a *Account) blocks() *Blocks {
	if a.Blocks == nil {
		return &noBlocks
	}
	return a.Blocks
}

// DisplayName is the name, or the storage key when the value carried none.
func (a *Account) DisplayName() string {
	if a.Name != "" {
		return a.Name
	}
	return a.Key
}

// ModelLimit is a per-model cooldown from Extra.model_rate_limits.
type ModelLimit struct {
	Model   string
	ResetAt time.Time
}

// Quota is the Codex usage snapshot and auto-pause settings, holding exactly what the
// gateway reads from Extra, already reduced to the values its parsers would produce.
type Quota struct {
	// UpdatedAt is codex_usage_updated_at, valid when HasUpdatedAt (a stored zero time is
	// a real, very old timestamp to the gateway, not a missing one).
	UpdatedAt time.Time
	Windows   [2]WindowSnapshot

	// AutoReset is the reset-credit automation (releases after 0.1.179); nil when the
	// account carries none of its keys.
	AutoReset    *AutoReset
	HasUpdatedAt bool
	// UpdatedAtStored says the key is stored, whatever it holds: one the gateway cannot
	// parse (no offset) is not a missing one to the operator who finds it in Redis.
	UpdatedAtStored bool
}

// WindowSnapshot is one window's stored values. The booleans come last, where they share
// one word: every account with a snapshot keeps two.
type WindowSnapshot struct {
	UsedPercent float64 // codex_<w>_used_percent; 0 when missing or unparseable
	ResetAt     time.Time
	// ResetAfterSeconds counts from Quota.UpdatedAt (the gateway parses it as an int).
	ResetAfterSeconds int
	// Threshold is auto_pause_<w>_threshold as a ratio clamped to [0,1]; 0 means unset.
	Threshold float64
	// SchedResetAt is codex_<w>_reset_at read as the scheduling threshold reads it
	// (trimmed, or a positive number of unix seconds); valid when HasSchedResetAt.
	SchedResetAt time.Time

	Present    bool // any codex_<w>_* key was stored
	HasResetAt bool // codex_<w>_reset_at parsed
	// ThresholdNaN says the threshold is a string ParseFloat reads as NaN ("NaN", "nan"):
	// the gateway's clamp keeps NaN, which is neither > 0 (so the gateway default is not
	// used) nor ever reached, so the window never quota-pauses.
	ThresholdNaN bool
	Disabled     bool // auto_pause_<w>_disabled
	// HasUsed says the codex_<w>_used_percent key exists (whatever its value): the
	// scheduling threshold looks only at windows that have it.
	HasUsed         bool
	HasSchedResetAt bool
}

// HasTimestamp reports whether the snapshot carries a usable codex_usage_updated_at.
func (q *Quota) HasTimestamp() bool { return q != nil && q.HasUpdatedAt }
