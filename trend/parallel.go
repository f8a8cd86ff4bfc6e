package trend

import (
	"runtime"
	"sync"
	"time"

	"github.com/quotatop/quotatop/model"
)

// SampleSource appends an account's recent samples, oldest first, to dst.
type SampleSource func(dst []Sample, id int64) []Sample

// ProjectAll fills every member's Forecast from its samples (samples may be nil: no
// history). A large fleet is projected on every core: a one-shot run waits for it.
// samples must be safe for concurrent use; each goroutine reuses one buffer with it.
func ProjectAll(members []Member, samples SampleSource, p model.Policy, o Options, now time.Time) {
	inParallel(len(members), func(lo, hi int) {
		var buf []Sample
		var slab []Point // every forecast's points of the chunk, a block at a time
		for i := lo; i < hi; i++ {
			m := &members[i]
			if samples != nil {
				buf = samples(buf[:0], m.Account.ID)
			}
			*m.Forecast = Forecast{}
			project(m.Forecast, m.Account, m.Judgement, buf, p, o, now, &slab)
		}
	})
}

// parallelFrom is the fleet size from which splitting the work pays for its goroutines.
var parallelFrom = 1000

// inParallel runs fn over [0, n) in one chunk per core; a small n runs in the caller.
func inParallel(n int, fn func(lo, hi int)) {
	workers := runtime.GOMAXPROCS(0)
	if n < parallelFrom || workers < 2 {
		fn(0, n)
		return
	}
	chunk := (n + workers - 1) / workers
	var wg sync.WaitGroup
	for lo := 0; lo < n; lo += chunk {
		wg.Go(func() { fn(lo, min(lo+chunk, n)) })
	}
	wg.Wait()
}
