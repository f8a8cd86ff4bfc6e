package watch

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/quotatop/quotatop/demo"
	"github.com/quotatop/quotatop/events"
	"github.com/quotatop/quotatop/model"
)

// Reused judgements always equal judging afresh: across unchanged polls, a changed
// account, the clock passing a window's reset and a policy change; kept (for metrics)
// or made again on demand.
func TestJudgementsReuseEqualsJudging(t *testing.T) {
	for _, mode := range []struct {
		name    string
		keepAll bool
	}{{"on demand", false}, {"kept", true}} {
		t.Run(mode.name, func(t *testing.T) {
			testJudgementsReuse(t, judgements{keepAll: mode.keepAll})
		})
	}
}

func testJudgementsReuse(t *testing.T, c judgements) {
	t0 := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	accounts := demo.Accounts(t0)
	for i := range accounts {
		accounts[i].Rev = uint64(i + 1)
	}
	p := model.DefaultPolicy()
	check := func(now time.Time, p model.Policy) {
		t.Helper()
		got := c.judge(accounts, p, now)
		for i := range accounts {
			// A reused judgement keeps the Age it was judged with (see judge).
			want, g := model.Judge(&accounts[i], p, now), *got(i)
			want.Age, g.Age = 0, 0
			if !reflect.DeepEqual(g, want) {
				t.Fatalf("%s at %v: reused %+v, fresh %+v", accounts[i].Name, now, g.State, want.State)
			}
		}
	}
	check(t0, p)
	check(t0.Add(2*time.Second), p)
	accounts[3].Schedulable, accounts[3].Rev = !accounts[3].Schedulable, 9999
	check(t0.Add(4*time.Second), p)
	for h := 1; h <= 8; h++ { // resets, staleness and expiries come due
		check(t0.Add(time.Duration(h)*time.Hour), p)
	}
	p.DefaultThreshold = [2]float64{0.5, 0.5}
	check(t0.Add(8*time.Hour), p)

	if !c.keepAll {
		// Only what this poll judged is kept; the rest is made again when asked for.
		c.judge(accounts, p, t0.Add(9*time.Hour))
		if len(c.fresh) >= len(accounts) || c.all() != nil {
			t.Fatalf("kept %d judgements of %d accounts on demand", len(c.fresh), len(accounts))
		}
	}
}

// ObserveWith hands a good poll's judgements to its hook before the events are detected,
// and a failed poll none: the live monitor projects from them instead of judging again.
func TestObserveWithHandsTheJudgementsOver(t *testing.T) {
	accounts := demo.Accounts(t0)
	p := model.DefaultPolicy()
	pl := &Pipeline{Policy: p, Detector: events.New(events.DefaultConfig())}
	calls := 0
	pl.ObserveWith(t0, time.Millisecond, accounts, nil, func(js events.Judgements, _ events.Unchanged) {
		calls++
		for i := range accounts {
			if want := model.Judge(&accounts[i], p, t0); !reflect.DeepEqual(*js(i), want) {
				t.Fatalf("%s: handed %s, judged afresh %s", accounts[i].Name, js(i).State, want.State)
			}
		}
	})
	pl.ObserveWith(t0.Add(time.Second), time.Millisecond, nil, errors.New("connection refused"), func(events.Judgements, events.Unchanged) {
		t.Fatal("a failed poll handed judgements over")
	})
	if calls != 1 {
		t.Fatalf("hook called %d times for one good poll", calls)
	}
	if pl.judged.accounts != nil {
		t.Fatal("the pipeline holds on to a poll's accounts after observing it")
	}
}
