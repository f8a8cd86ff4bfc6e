package trend

import (
	"testing"
	"time"

	"github.com/quotatop/quotatop/model"
)

// BenchmarkProject10k projects 10,000 accounts with an hour of samples each (one per
// 5 minutes) and their 10 groups: the work each poll adds to the monitor.
func BenchmarkProject10k(b *testing.B) {
	const n = 10000
	p := model.DefaultPolicy()
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
	for b.Loop() {
		members := make([]Member, n)
		for i, a := range accounts {
			j := model.Judge(a, p, now)
			f := Project(a, j, samples[i], p, DefaultOptions(), now)
			members[i] = Member{Account: a, Judgement: &j, Forecast: &f}
		}
		Groups(members, p, DefaultOptions(), now)
	}
}
