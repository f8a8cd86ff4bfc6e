package trend

import (
	"testing"
	"time"

	"github.com/quotatop/quotatop/model"
)

// benchFleet is 10,000 accounts with an hour of samples each (one per 5 minutes) in 10
// groups.
func benchFleet() ([]*model.Account, [][]Sample) {
	const n = 10000
	reset := now.Add(3 * time.Hour)
	accounts := make([]*model.Account, n)
	samples := make([][]Sample, n)
	for i := range n {
		a := account(0, float64(i%90), 0.95, reset)
		a.ID, a.GroupIDs = int64(i+1), []int64{int64(i % 10)}
		accounts[i] = a
		for m := 60; m > 0; m -= 5 {
			samples[i] = append(samples[i], history(reset, [2]float64{float64(m), max(float64(i%90)-float64(m)/10, 0)})...)
		}
	}
	return accounts, samples
}

// benchMembers judges the fleet as a poll does.
func benchMembers(accounts []*model.Account, p model.Policy) []Member {
	members := make([]Member, len(accounts))
	js, fs := make([]model.Judgement, len(accounts)), make([]Forecast, len(accounts))
	for i, a := range accounts {
		js[i] = model.Judge(a, p, now)
		members[i] = Member{Account: a, Judgement: &js[i], Forecast: &fs[i]}
	}
	return members
}

// BenchmarkProject10k projects 10,000 accounts and their 10 groups in one goroutine,
// judging them too: the work each poll adds to the monitor.
func BenchmarkProject10k(b *testing.B) {
	p := model.DefaultPolicy()
	accounts, samples := benchFleet()
	for b.Loop() {
		members := make([]Member, len(accounts))
		for i, a := range accounts {
			j := model.Judge(a, p, now)
			f := Project(a, j, samples[i], p, DefaultOptions(), now)
			members[i] = Member{Account: a, Judgement: &j, Forecast: &f}
		}
		Groups(members, p, DefaultOptions(), now)
	}
}

// BenchmarkProjectAll10k is the forecasts alone, as a poll makes them (on every core).
func BenchmarkProjectAll10k(b *testing.B) {
	p := model.DefaultPolicy()
	accounts, samples := benchFleet()
	members := benchMembers(accounts, p)
	source := func(dst []Sample, id int64) []Sample { return append(dst, samples[id-1]...) }
	for b.Loop() {
		ProjectAll(members, source, p, DefaultOptions(), now)
	}
}

// BenchmarkGroups10k is the group projections alone, from forecasts already made.
func BenchmarkGroups10k(b *testing.B) {
	p := model.DefaultPolicy()
	accounts, samples := benchFleet()
	members := benchMembers(accounts, p)
	ProjectAll(members, func(dst []Sample, id int64) []Sample { return append(dst, samples[id-1]...) }, p, DefaultOptions(), now)
	for b.Loop() {
		Groups(members, p, DefaultOptions(), now)
	}
}
