package tui

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/quotatop/quotatop/action"
	"github.com/quotatop/quotatop/demo"
	"github.com/quotatop/quotatop/model"
)

// statusAdmin also resets quotas and enables accounts.
type statusAdmin struct{ recordingAdmin }

func (s *statusAdmin) ResetQuota(_ context.Context, id int64) (int, error) {
	return s.rec("reset-quota", id)
}
func (s *statusAdmin) EnableStatus(_ context.Context, id int64) (int, error) {
	return s.rec("enable", id)
}

// judgeModel is the demo fleet with an admin that records calls; rereads return the
// accounts unchanged, so every outcome is "not yet visible".
func judgeModel(t *testing.T) (Model, *statusAdmin) {
	t.Helper()
	admin := &statusAdmin{}
	accounts := demo.Accounts(t0)
	reread := func(_ context.Context, id int64) (model.Account, error) {
		for _, a := range accounts {
			if a.ID == id {
				return a, nil
			}
		}
		return model.Account{}, errors.New("gone")
	}
	d := action.NewDispatcher(admin, action.NewAudit(filepath.Join(t.TempDir(), "audit.jsonl"), func(string) string { return "" }), reread, "").VisibleWithin(300 * time.Millisecond)
	m := New(Options{Reader: fakeReader{}, Source: SourceInfo{Address: "x", Prefix: "sched:"}, Policy: model.DefaultPolicy(),
		Clock: func() time.Time { return t0 }, Location: time.UTC, Actions: d})
	m = update(t, m, tea.WindowSizeMsg{Width: 140, Height: 40})
	m = update(t, m, pollDoneMsg{gen: 1, accounts: accounts, started: t0, finished: t0})
	return m, admin
}

func TestEnableAnInactiveAccount(t *testing.T) {
	m, admin := judgeModel(t)
	m = filterTo(t, m, "codex-disabled-ui")
	m = keys(t, m, "u")
	out := view(m)
	for _, want := range []string{"codex-disabled-ui (disabled): enable", `its status is "inactive": enabling it undoes an administrator's decision`} {
		if !strings.Contains(out, want) {
			t.Fatalf("dialog lacks %q:\n%s", want, out)
		}
	}
	m = answer(t, m, "y")
	if strings.Join(admin.calls, ",") != "enable 145" || !strings.Contains(view(m), "not yet visible") {
		t.Fatalf("calls %v\n%s", admin.calls, view(m))
	}
}

func TestResetQuotaNamesTheAmount(t *testing.T) {
	m, admin := judgeModel(t)
	m = filterTo(t, m, "relay-daily-cap")
	m = keys(t, m, "enter")
	detail := view(m)
	for _, want := range []string{"Local quota", "daily limit reached ($41.25 of $40.00)", "The account's daily USD quota, kept by the gateway, is used up"} {
		if !strings.Contains(detail, want) {
			t.Fatalf("detail lacks %q:\n%s", want, detail)
		}
	}
	m = keys(t, m, "esc", "u")
	if out := view(m); !strings.Contains(out, "$41.25 daily (limit $40.00, reached)") {
		t.Fatalf("dialog:\n%s", out)
	}
	answer(t, m, "y")
	if strings.Join(admin.calls, ",") != "reset-quota 146" {
		t.Fatalf("calls %v", admin.calls)
	}
}

func TestDetailShowsRawStatusCardStateAndFutureSnapshot(t *testing.T) {
	m, _ := judgeModel(t)
	for q, wants := range map[string][]string{
		"codex-disabled-ui": {`status is "inactive", not active`},
		"codex-card-ready":  {"card available, 2 available, checked 2m ago (ready)", "refreshes this account's snapshot every minute without traffic", "a reset card is ready"},
		"codex-card-check":  {"card no_credit", "no reset card is ready (card no_credit): the gateway keeps it paused until a card is ready and spent, or the window resets."},
	} {
		m2 := keys(t, filterTo(t, m, q), "enter")
		out := view(m2)
		for _, want := range wants {
			if !strings.Contains(strings.Join(strings.Fields(out), " "), want) {
				t.Errorf("%s: detail lacks %q:\n%s", q, want, out)
			}
		}
	}
	// A snapshot time in the future is fresh and never shown as an age.
	accounts := demo.Accounts(t0)
	accounts[0].Quota.UpdatedAt = t0.Add(10 * time.Minute)
	m = update(t, m, pollDoneMsg{gen: 1, accounts: accounts, started: t0, finished: t0})
	m = keys(t, filterTo(t, m, "#101"), "enter")
	if out := view(m); !strings.Contains(out, model.FutureAge) || strings.Contains(out, "in 10m · fresh") {
		t.Fatalf("future snapshot:\n%s", out)
	}
}

func TestGatewayLineStaysWhileThresholdsAreUnknown(t *testing.T) {
	m, _ := judgeModel(t)
	if strings.Contains(view(m), "⚠") {
		t.Fatal("no gateway reader: no line")
	}
	m = update(t, m, gatewayMsg{info: GatewayInfo{SchedulingErr: errors.New("the gateway needs an administrator to accept its compliance notice (HTTP 423)"), Version: "0.1.179"}})
	if out := view(m); !strings.Contains(out, "⚠ the gateway's thresholds could not be read") || !strings.Contains(out, "compliance") {
		t.Fatalf("%s", out)
	}
	m = update(t, m, gatewayMsg{info: GatewayInfo{SchedulingThresholds: map[string]float64{"openai": 95}, Version: "0.1.179"}})
	out := view(m)
	if strings.Contains(out, "⚠") || !strings.Contains(out, "sub2api 0.1.179") {
		t.Fatalf("line should be gone, the version shown:\n%s", out)
	}
	if detail := view(keys(t, filterTo(t, m, "#101"), "enter")); !strings.Contains(detail, "Gateway version 0.1.179.") {
		t.Fatalf("detail lacks the version:\n%s", detail)
	}
	// The thresholds now apply: codex-sched-thr (98.6 % of 5h) is paused by them.
	if r, ok := m.fleet.Find(147); !ok || r.j.State != model.StatePaused || r.j.MainReason() != model.ReasonSchedThreshold5h {
		t.Fatalf("threshold not applied: %+v", r.j)
	}
	m = update(t, m, gatewayMsg{info: GatewayInfo{SchedulingThresholds: map[string]float64{"openai": 95}, Version: "0.1.190"}})
	if out := view(m); !strings.Contains(out, "gateway 0.1.190 is newer than 0.1.179") {
		t.Fatalf("%s", out)
	}
	m = update(t, m, gatewayMsg{info: GatewayInfo{SchedulingThresholds: map[string]float64{"openai": 95}, VersionErr: errors.New("404")}})
	if out := view(m); !strings.Contains(out, "gateway version unknown") {
		t.Fatalf("%s", out)
	}
	// Unreadable thresholds do not hide the version's note, and say that the values read
	// before still judge.
	m = update(t, m, gatewayMsg{info: GatewayInfo{SchedulingErr: errors.New("HTTP 502"), Version: "0.1.190"}})
	if out := view(m); !strings.Contains(out, "could not be read (judged with the last values read) · gateway 0.1.190 is newer than 0.1.179") {
		t.Fatalf("%s", out)
	}
}

// A scheduling-threshold block while usage is still over: probe first, deleting the
// block is the explicit second choice and says it lasts only until the next request.
func TestSchedThresholdBlockOffersTheProbeFirst(t *testing.T) {
	m, admin := judgeModel(t)
	m = update(t, m, gatewayMsg{info: GatewayInfo{SchedulingThresholds: map[string]float64{"openai": 95}, Version: "0.1.179"}})
	m = filterTo(t, m, "#133") // 97.3 % of 5h, temp block written by the threshold
	m = keys(t, m, "u")
	out := strings.Join(strings.Fields(view(m)), " ")
	for _, want := range []string{"codex-pro-33 (temp_unschedulable, quota_5h, sched_threshold_5h): probe", "deleting it lasts only until the next request while usage is still over",
		"x instead delete the temporary block anyway"} {
		if !strings.Contains(out, want) {
			t.Fatalf("dialog lacks %q:\n%s", want, view(m))
		}
	}
	answer(t, m, "x")
	if strings.Join(admin.calls, ",") != "clear-temp 133" {
		t.Fatalf("calls %v", admin.calls)
	}
}

// A narrow terminal keeps the last poll's time in the header and gives up the gateway's
// version (the detail view still has it); a wide one shows both.
func TestNarrowHeaderKeepsThePollOverTheVersion(t *testing.T) {
	m, _ := judgeModel(t)
	m.ctx.Source.Address = "redis://gateway-cache.internal:6379/0"
	m = update(t, m, gatewayMsg{info: GatewayInfo{SchedulingThresholds: map[string]float64{"openai": 95}, Version: "0.1.179"}})
	first := func(m Model) string { return strings.SplitN(view(m), "\n", 2)[0] }
	if line := first(m); !strings.Contains(line, "sub2api 0.1.179") || !strings.Contains(line, "last poll 10:00:00") {
		t.Fatalf("wide header: %q", line)
	}
	m = update(t, m, tea.WindowSizeMsg{Width: 80, Height: 24})
	if line := first(m); strings.Contains(line, "sub2api") || !strings.HasSuffix(line, "every 2s · 10:00:00") {
		t.Fatalf("80-column header: %q", line)
	}
}

// The detail view says whether deleting a scheduling-threshold block would stick, from
// usage now, as the unpause plan decides: it said "lasts only until the next request"
// while u offered to delete it.
func TestQuotaBlockDetailSaysWhetherDeletingSticks(t *testing.T) {
	flat := func(m Model) string { return strings.Join(strings.Fields(view(m)), " ") }
	m, _ := judgeModel(t)
	m = update(t, m, gatewayMsg{info: GatewayInfo{SchedulingThresholds: map[string]float64{"openai": 95}, Version: "0.1.179"}})
	m = keys(t, filterTo(t, m, "#133"), "enter")
	if out := flat(m); !strings.Contains(out, "usage is still over the scheduling threshold: deleting it lasts only until the next request, so u probes first") {
		t.Fatalf("over the threshold:\n%s", view(m))
	}
	m, _ = judgeModel(t)
	m = update(t, m, gatewayMsg{info: GatewayInfo{SchedulingThresholds: map[string]float64{"openai": 99}, Version: "0.1.179"}})
	m = keys(t, filterTo(t, m, "#133"), "enter")
	// It names the threshold in force, which may not be the one the block was written
	// with, and that the quota auto-pause (95 % of the account) still pauses it.
	if out := flat(m); !strings.Contains(out, "the gateway's scheduling threshold in force now is 99%, so usage is not over it and the block would not be written again: u deletes it, but the quota auto-pause still pauses the account, so u then probes") {
		t.Fatalf("under the threshold:\n%s", view(m))
	}
}

// The detail view says what the reset-card automation covers: which windows at what use
// (the lone legacy switch read as both windows, and said so), or a per-window switch.
func TestCardRulesInTheDetail(t *testing.T) {
	m, _ := judgeModel(t)
	flat := func(m Model) string { return strings.Join(strings.Fields(view(m)), " ") }
	pending := flat(keys(t, filterTo(t, m, "codex-card-pending"), "enter"))
	if !strings.Contains(pending, "Card rules spends a card for 5h at 100%, 7d at 100% (the one switch auto_reset_credit_enabled, read as both windows") {
		t.Fatalf("pending:\n%s", pending)
	}
	check := flat(keys(t, filterTo(t, m, "codex-card-check"), "enter"))
	if !strings.Contains(check, "Card rules spends a card for 7d at 100%") || strings.Contains(check, "5h at 100%") {
		t.Fatalf("check:\n%s", check)
	}
}

// An "available" card checked over 10 minutes ago is not ready, and the detail says why
// instead of dropping "(ready)" without a word.
func TestStaleAvailableCardSaysWhyNotReady(t *testing.T) {
	ctx := &Context{Now: t0, Location: time.UTC}
	card := &model.AutoReset{Card: &model.CardState{Status: "available", AvailableCount: 2, CheckedAt: t0.Add(-11 * time.Minute), HasCheckedAt: true}}
	if got := cardText(ctx, card); !strings.Contains(got, "checked 11m ago (not counted as ready: checked over 10 minutes ago)") {
		t.Fatalf("%q", got)
	}
	card.Card.CheckedAt = t0.Add(-9 * time.Minute)
	if got := cardText(ctx, card); !strings.Contains(got, "(ready)") {
		t.Fatalf("%q", got)
	}
}

// A snapshot time stored without an offset is there, unreadable to the gateway: the
// detail says so rather than that the key is missing (an operator finds it in Redis).
func TestUnreadableSnapshotTimeIsNotMissing(t *testing.T) {
	m, _ := judgeModel(t)
	out := strings.Join(strings.Fields(view(keys(t, filterTo(t, m, "codex-no-offset"), "enter"))), " ")
	if !strings.Contains(out, "codex_usage_updated_at is stored but unreadable to the gateway") || strings.Contains(out, "no codex_usage_updated_at") ||
		!strings.Contains(out, "stored without an offset") {
		t.Fatalf("detail:\n%s", out)
	}
}

// A ready card does not keep scheduling an account its scheduling threshold pauses: the
// reason's sentence says which wins.
func TestReadyCardUnderATrippedThreshold(t *testing.T) {
	m, _ := judgeModel(t)
	m = update(t, m, gatewayMsg{info: GatewayInfo{SchedulingThresholds: map[string]float64{"openai": 95}, Version: "0.1.179"}})
	out := strings.Join(strings.Fields(view(keys(t, filterTo(t, m, "codex-card-ready"), "enter"))), " ")
	if !strings.Contains(out, "the quota rule would keep scheduling it and spend the card; the scheduling threshold pauses it first") {
		t.Fatalf("detail:\n%s", out)
	}
}
