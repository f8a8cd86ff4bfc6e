package model

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

// Every card state, with and without a fresh check and a card counted, for a window over
// its ordinary threshold (and under the card threshold): only an "available" state
// with available_count > 0 checked less than 10 minutes ago lets the account through
// (auto_reset_ready_<w>, shown as warn); every other state pauses it
// (auto_reset_check_<w>), as the gateway's openAIAutoResetStateStale and its check
// status == available && available_count > 0 decide.
func TestAutoResetCardStates(t *testing.T) {
	checked := []struct {
		name  string
		card  func(c *CardState)
		fresh bool
	}{
		{"checked now", func(c *CardState) { c.CheckedAt, c.HasCheckedAt = now, true }, true},
		{"checked 9m59s ago", func(c *CardState) { c.CheckedAt, c.HasCheckedAt = now.Add(-10*time.Minute+time.Second), true }, true},
		{"checked 10m-1ns ago", func(c *CardState) { c.CheckedAt, c.HasCheckedAt = now.Add(-CardFreshFor+1), true }, true},
		{"checked a minute ahead", func(c *CardState) { c.CheckedAt, c.HasCheckedAt = now.Add(time.Minute), true }, true},
		{"checked exactly 10m ago", func(c *CardState) { c.CheckedAt, c.HasCheckedAt = now.Add(-CardFreshFor), true }, false},
		{"checked an hour ago", func(c *CardState) { c.CheckedAt, c.HasCheckedAt = now.Add(-time.Hour), true }, false},
		{"no checked_at", func(c *CardState) {}, false},
	}
	statuses := []string{"checking", "available", "resetting", "success", "no_credit", "failed", "", "Available", "available "}
	for w, name := range WindowNames {
		for _, status := range statuses {
			for _, count := range []int{0, 1, 2} {
				for _, c := range checked {
					t.Run(fmt.Sprintf("%s/%q/count %d/%s", name, status, count, c.name), func(t *testing.T) {
						card := &CardState{Status: status, AvailableCount: count}
						c.card(card)
						ready := status == "available" && count > 0 && c.fresh
						windows := [2]WindowSnapshot{}
						windows[w] = win(96, 0.95) // over 95 %, under the card's 100 %
						a := codex(time.Minute, windows[0], windows[1])
						a.Type, a.Quota.AutoReset = "oauth", &AutoReset{Legacy: true, Card: card}
						j := Judge(a, DefaultPolicy(), now)
						want, state := []Reason{checkReason[w]}, StatePaused
						if ready {
							want, state = []Reason{readyReason[w]}, StateWarn
						}
						if j.State != state || !slices.Equal(j.Reasons, want) {
							t.Fatalf("got %s %v, want %s %v", j.State, j.Reasons, state, want)
						}
						verdict := AutoResetCheck
						if ready {
							verdict = AutoResetReady
						}
						if j.AutoReset[w] != verdict || j.AutoReset[1-w] != AutoResetNone {
							t.Fatalf("verdicts %v", j.AutoReset)
						}
					})
				}
			}
		}
	}
}

// The card states next to the other branches: a ready card does not lift a window that
// reached the card threshold (pending), both windows over their ordinary threshold are
// both marked (the gateway names 5h), a ready card stops being ready when its check is
// 10 minutes old, and the branch is not taken without usage to act on.
func TestAutoResetCardStateAgainstOtherBranches(t *testing.T) {
	fresh := func(status string, count int) *CardState {
		return &CardState{Status: status, AvailableCount: count, CheckedAt: now.Add(-time.Minute), HasCheckedAt: true}
	}
	acct := func(card *CardState, w5, w7 WindowSnapshot) *Account {
		a := codex(time.Minute, w5, w7)
		a.Type, a.Quota.AutoReset = "oauth", &AutoReset{Legacy: true, Card: card}
		return a
	}
	cases := []struct {
		name    string
		a       *Account
		at      time.Time
		state   State
		reasons []Reason
	}{
		{"ready card, 5h at the card threshold: pending", acct(fresh("available", 3), win(100, 0.95), WindowSnapshot{}), now, StatePaused, []Reason{ReasonAutoResetPending5h}},
		{"ready card, 7d at the card threshold: pending", acct(fresh("available", 3), WindowSnapshot{}, win(100, 0.95)), now, StatePaused, []Reason{ReasonAutoResetPending7d}},
		{"ready card, both windows over: both ready", acct(fresh("available", 1), win(96, 0.95), win(97, 0.95)), now, StateWarn, []Reason{ReasonAutoResetReady5h, ReasonAutoResetReady7d}},
		{"resetting, both windows over: both checked", acct(fresh("resetting", 1), win(96, 0.95), win(97, 0.95)), now, StatePaused, []Reason{ReasonAutoResetCheck5h, ReasonAutoResetCheck7d}},
		{"success, 7d over: checked", acct(fresh("success", 1), WindowSnapshot{}, win(97, 0.95)), now, StatePaused, []Reason{ReasonAutoResetCheck7d}},
		{"ready card, under the ordinary threshold: nothing to say", acct(fresh("available", 1), win(50, 0.95), WindowSnapshot{}), now, StateOK, nil},
		{"ready card at 9 minutes: ready", acct(fresh("available", 1), win(96, 0.95), WindowSnapshot{}), now.Add(8 * time.Minute), StateWarn, []Reason{ReasonAutoResetReady5h}},
		{"the same card at 10 minutes: checked", acct(fresh("available", 1), win(96, 0.95), WindowSnapshot{}), now.Add(9 * time.Minute), StatePaused, []Reason{ReasonAutoResetCheck5h}},
		{"failed card, window exempt from auto-pause: the ordinary rule does not pause", acct(fresh("failed", 0), func() WindowSnapshot {
			w := win(96, 0.95)
			w.Disabled = true
			return w
		}(), WindowSnapshot{}), now, StateWarn, []Reason{ReasonNear5h}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// the snapshot stays as young as in the gateway's worker loop
			c.a.Quota.UpdatedAt = c.at.Add(-time.Minute)
			j := Judge(c.a, DefaultPolicy(), c.at)
			if j.State != c.state || !slices.Equal(j.Reasons, c.reasons) {
				t.Fatalf("got %s %v, want %s %v", j.State, j.Reasons, c.state, c.reasons)
			}
		})
	}
}
