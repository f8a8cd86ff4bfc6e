package trend

import (
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/quotatop/quotatop/model"
)

// Projecting a large fleet on every core gives what projecting it in one goroutine does:
// every forecast and every group, dry times and horizons included.
func TestParallelProjectionEqualsSerial(t *testing.T) {
	const n = 3000
	p := model.DefaultPolicy()
	var accounts []*model.Account
	samples := map[int64][]Sample{}
	for i := range n {
		// Group 6 climbs 10 points an hour from 90 % and runs dry within the hour.
		reset, used, climb := now.Add(time.Duration(30+i%300)*time.Minute), float64(40+i%60), 2.0
		if i%7 == 6 {
			reset, used, climb = now.Add(4*time.Hour), 90, 6
		}
		a := account(0, used, 0.95, reset)
		a.ID, a.GroupIDs = int64(i+1), []int64{int64(i % 7)}
		accounts = append(accounts, a)
		for m := 60; m > 0; m -= 10 {
			samples[a.ID] = append(samples[a.ID], history(reset, [2]float64{float64(m), max(used-float64(m)/climb, 0)})...)
		}
	}
	project := func() ([]Forecast, []Group) {
		members := make([]Member, n)
		js, fs := make([]model.Judgement, n), make([]Forecast, n)
		for i, a := range accounts {
			js[i] = model.Judge(a, p, now)
			members[i] = Member{Account: a, Judgement: &js[i], Forecast: &fs[i]}
		}
		ProjectAll(members, func(dst []Sample, id int64) []Sample { return append(dst, samples[id]...) }, p, DefaultOptions(), now)
		return fs, Groups(members, p, DefaultOptions(), now)
	}
	fs, groups := project()
	defer func(v int) { parallelFrom = v }(parallelFrom)
	parallelFrom = math.MaxInt
	wantFs, wantGroups := project()
	if !reflect.DeepEqual(fs, wantFs) {
		t.Fatal("forecasts made on every core differ from those made in one goroutine")
	}
	if !reflect.DeepEqual(groups, wantGroups) {
		t.Fatalf("groups made on every core differ:\n%+v\nwant\n%+v", groups, wantGroups)
	}
	dry := 0
	for _, g := range groups {
		if !g.DryAt.IsZero() {
			dry++
		}
	}
	if dry == 0 {
		t.Fatal("no group runs dry: the fleet does not exercise the timelines")
	}
}
