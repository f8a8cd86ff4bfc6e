// Package events turns successive judgements into events an operator wants to hear about:
// an account changing state, a window crossing the warn level, a group running out of
// schedulable accounts, the storage going away. Each fires once per transition, never once
// per poll; a new state must hold for a few polls first (damping), and everything that
// changed in one poll of a kind travels as one event (batching).
package events

import (
	"encoding/json"
	"time"

	"github.com/quotatop/quotatop/model"
)

// Kind names what an event is about. The values are stable: they appear in logs, JSON,
// metrics labels and webhook templates.
type Kind string

// Event kinds.
const (
	KindState   Kind = "account_state" // accounts changed state
	KindWindow  Kind = "window_warn"   // windows crossed the warn level, up or down
	KindGroup   Kind = "group"         // groups reached their floor or zero, or recovered
	KindDry     Kind = "dry_soon"      // projected time to dry came within the horizon
	KindStorage Kind = "storage"       // the storage became unreachable, or came back
)

// Kinds lists every kind, for metrics that want a zero per kind.
var Kinds = []Kind{KindState, KindWindow, KindGroup, KindDry, KindStorage}

// Severity says how loudly an event should be announced.
type Severity string

// Severities, most urgent first.
const (
	Critical Severity = "critical"
	Warning  Severity = "warning"
	Resolved Severity = "resolved" // something went back to normal
)

// Event is one thing that happened, possibly to many accounts at once.
type Event struct {
	Time     time.Time `json:"time"`
	Kind     Kind      `json:"kind"`
	Severity Severity  `json:"severity"`
	// Summary is one sanitised sentence, fit for a log line or a chat message.
	Summary  string          `json:"summary"`
	Accounts []AccountChange `json:"accounts,omitempty"`
	Windows  []WindowChange  `json:"windows,omitempty"`
	Groups   []GroupChange   `json:"groups,omitempty"`
	Storage  *StorageChange  `json:"storage,omitempty"`
}

// AccountChange is one account's confirmed change of state.
type AccountChange struct {
	ID      int64          `json:"account_id"`
	Name    string         `json:"name"`
	From    model.State    `json:"from"`
	To      model.State    `json:"to"`
	Reasons []model.Reason `json:"reasons,omitempty"`
}

// WindowChange is one window crossing the warn level (Up) or falling back under it, or,
// for KindDry, one window whose projected time to dry came within (Up) or left the horizon.
type WindowChange struct {
	ID          int64            `json:"account_id"`
	Name        string           `json:"name"`
	Window      model.WindowName `json:"window"`
	Up          bool             `json:"up"`
	UsedPercent float64          `json:"used_percent"`
	// TimeToDry is the projection that caused a KindDry change.
	TimeToDry time.Duration `json:"time_to_dry_ns,omitempty"`
}

// GroupLevel is how many schedulable accounts a group has left, in three steps.
type GroupLevel string

// Group levels.
const (
	GroupOK    GroupLevel = "ok"
	GroupFloor GroupLevel = "floor" // at or under the configured floor, above zero
	GroupZero  GroupLevel = "zero"
)

// GroupChange is one group moving between levels. A group is counted per platform, as
// sub2api schedules (a request for one platform only gets that platform's accounts);
// group 0 is the accounts that belong to no group.
type GroupChange struct {
	ID          int64      `json:"group_id"`
	Platform    string     `json:"platform"`
	From        GroupLevel `json:"from"`
	To          GroupLevel `json:"to"`
	Schedulable int        `json:"schedulable"`
	Total       int        `json:"total"`
	Floor       int        `json:"floor"`
}

// StorageChange is the storage going down (Down) or coming back.
type StorageChange struct {
	Down  bool      `json:"down"`
	Since time.Time `json:"since"`
	// For is how long it has been (or was) unreachable.
	For   time.Duration `json:"for_ns"`
	Error string        `json:"error,omitempty"`
}

// Batch is everything one poll caused: what notifiers receive as one message.
type Batch struct {
	Time   time.Time `json:"time"`
	Events []Event   `json:"events"`
}

// JSON encodes the batch as notifiers receive it.
func (b Batch) JSON() []byte {
	out, err := json.Marshal(b)
	if err != nil { // only plain values inside: cannot happen
		panic(err)
	}
	return out
}

// Severity is the most urgent severity among the events.
func (b Batch) Severity() Severity {
	s := Resolved
	for _, e := range b.Events {
		switch {
		case e.Severity == Critical:
			return Critical
		case e.Severity == Warning:
			s = Warning
		}
	}
	return s
}

// Schedulable reports whether the gateway hands requests to an account in state s: ok and
// warn. A stale_probe account is over its threshold and gets one probe at most, so it
// does not count (as in the trends' group projection); neither does an undecodable value.
func Schedulable(s model.State) bool {
	return s == model.StateOK || s == model.StateWarn
}

// GroupKey is one scheduling bucket: a group and a platform.
type GroupKey struct {
	ID       int64
	Platform string
}

// GroupKeys calls f for every bucket an account schedules in: each of its groups, or
// group 0 when it has none. An unreadable value is in no group, as in the JSON's groups:
// counted, it made a phantom group (platform "") that sat at zero schedulable and set
// off the shipped "group has no schedulable account" alert.
func GroupKeys(a *model.Account, f func(GroupKey)) {
	if a.Invalid != "" {
		return
	}
	if len(a.GroupIDs) == 0 {
		f(GroupKey{0, a.Platform})
		return
	}
	for _, id := range a.GroupIDs {
		f(GroupKey{id, a.Platform})
	}
}
