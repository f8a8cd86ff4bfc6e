package events

import (
	"testing"

	"github.com/quotatop/quotatop/model"
)

// quietFleet is 10,000 ok accounts in 20 groups, observed once by a new detector.
func quietFleet() (*Detector, []model.Account, []model.Judgement) {
	as := make([]acct, 10000)
	for i := range as {
		as[i] = acct{id: int64(i + 1), state: model.StateOK, used5h: float64(i % 90), groups: []int64{int64(i % 20)}, platform: "openai"}
	}
	accounts, js := judged(as)
	d := New(DefaultConfig())
	d.Observe(t0, accounts, js)
	return d, accounts, js
}

// BenchmarkObserve10k is one quiet poll of 10,000 accounts in 20 groups: what the live
// monitor and `watch` pay every poll when nothing changes.
func BenchmarkObserve10k(b *testing.B) {
	d, accounts, js := quietFleet()
	for b.Loop() {
		d.Observe(t0, accounts, js)
	}
}

// BenchmarkObserveUnchanged10k is the same quiet poll told that nothing changed, as the
// pipeline tells it.
func BenchmarkObserveUnchanged10k(b *testing.B) {
	d, accounts, js := quietFleet()
	u := Unchanged{Same: true, Fresh: make([]bool, len(accounts))}
	for b.Loop() {
		d.ObserveUnchanged(t0, accounts, JudgementsOf(js), u)
	}
}
