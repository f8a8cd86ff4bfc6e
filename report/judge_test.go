package report

import (
	"cmp"
	"math"
	"math/rand/v2"
	"reflect"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/quotatop/quotatop/model"
)

// serialJudge is Judge as it was before it used every core: the reference it must match.
func serialJudge(accounts []model.Account, p model.Policy, now time.Time) []Row {
	order := make([]int32, len(accounts))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(x, y int32) int { return cmp.Compare(accounts[x].ID, accounts[y].ID) })
	rows := make([]Row, len(accounts))
	for n, i := range order {
		rows[n] = Row{Account: &accounts[i], Judgement: model.Judge(&accounts[i], p, now)}
		if pj, ok := model.JudgeProvider(&accounts[i], p, now); ok {
			rows[n].Provider = &pj
		}
	}
	return rows
}

// withProviders gives every 31st account other platforms' usage instead of a Codex
// snapshot, which the dirty fleet lacks.
func withProviders(accounts []model.Account, now time.Time) {
	for i := 1; i < len(accounts); i += 31 {
		a := &accounts[i]
		a.Quota, a.Platform = nil, []string{"anthropic", "kimi", "zhipu"}[i%3]
		a.ProviderUsage = &model.ProviderUsage{Provider: a.Platform, SampledAt: now.Add(-time.Duration(i) * time.Second), HasSampledAt: i%2 == 0,
			Windows: [2]model.ProviderWindow{{HasUsed: true, UsedPercent: float64(i % 101), ResetAt: now.Add(time.Duration(i%7-3) * time.Hour), HasResetAt: i%5 != 0},
				{HasUsed: i%3 != 0, UsedPercent: float64(i % 89)}}}
	}
}

// Judging in parallel gives the rows judging one by one gave, in the same order, also
// for accounts that share an ID (a dirty store can hold them).
func TestJudgeMatchesSerial(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4)) // the parallel path even on one core
	now := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	accounts := dirtyAccounts(12000, now)
	for i := range accounts {
		a := &accounts[i]
		if i%97 == 0 { // share an ID with another account
			a.ID = int64(i % 500)
		}
	}
	withProviders(accounts, now)
	accounts = append(accounts, model.Account{ID: -1}, model.Account{ID: 0, Invalid: "x"}, model.Account{ID: 1 << 62})
	thresholds := map[string]float64{"openai": 100, "anthropic": 90, "kimi": 50}
	for _, p := range []model.Policy{model.DefaultPolicy(), {StaleAfter: time.Minute, DefaultThreshold: [2]float64{0.5, 0.8}, WarnPercent: 10, MissingTimestampStale: true, SchedulingThresholds: thresholds}} {
		for _, n := range []int{0, 1, parallelFrom - 1, parallelFrom, len(accounts)} {
			got, want := Judge(accounts[:n], p, now), serialJudge(accounts[:n], p, now)
			if len(got) != len(want) {
				t.Fatalf("%d accounts: %d rows, want %d", n, len(got), len(want))
			}
			providers := 0
			for i := range want {
				if got[i].Account != want[i].Account {
					t.Fatalf("%d accounts: row %d is account %d (%s), want %d (%s)", n, i,
						got[i].Account.ID, got[i].Account.Key, want[i].Account.ID, want[i].Account.Key)
				}
				if !reflect.DeepEqual(got[i], want[i]) {
					t.Fatalf("%d accounts: row %d differs:\ngot  %+v\nwant %+v", n, i, got[i], want[i])
				}
				if got[i].Provider != nil {
					providers++
				}
			}
			if n == len(accounts) && providers == 0 {
				t.Fatal("the fleet has no provider judgements to compare")
			}
		}
	}
}

// byID orders accounts as sorting their indexes by ID did, with distinct IDs (the
// radix sort) and with shared ones, negative and huge IDs among them.
func TestByIDMatchesIndexSort(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, c := range []struct {
		n    int
		span int64 // IDs drawn from [-span/2, span/2), 0 for any int64
	}{{0, 0}, {1, 0}, {radixFrom - 1, 0}, {radixFrom, 0}, {5000, 0}, {5000, 1 << 20}, {5000, 6000}, {5000, 40}, {3000, 1 << 40}} {
		for range 5 {
			accounts := make([]model.Account, c.n)
			for i := range accounts {
				if c.span == 0 {
					accounts[i].ID = int64(rng.Uint64())
				} else {
					accounts[i].ID = rng.Int64N(c.span) - c.span/2
				}
			}
			if c.n > 10 && rng.IntN(2) == 0 {
				accounts[3].ID, accounts[7].ID = math.MinInt64, math.MaxInt64
			}
			want := make([]int32, len(accounts))
			for i := range want {
				want[i] = int32(i)
			}
			slices.SortFunc(want, func(x, y int32) int { return cmp.Compare(accounts[x].ID, accounts[y].ID) })
			got := byID(accounts)
			for i := range want {
				if got[i].i != want[i] || got[i].id != accounts[want[i]].ID {
					t.Fatalf("%d accounts, span %d: position %d holds index %d (ID %d), want %d (ID %d)", c.n, c.span, i, got[i].i, got[i].id, want[i], accounts[want[i]].ID)
				}
			}
		}
	}
}
