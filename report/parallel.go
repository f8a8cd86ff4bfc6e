package report

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// parallelFrom is the number of rows from which Judge and Write spread their work over
// the cores: below it, starting goroutines costs more than it saves.
const parallelFrom = 2000

// workers is how many goroutines share n rows of work, the caller's included.
func workers(n int) int {
	if n < parallelFrom {
		return 1
	}
	return max(runtime.GOMAXPROCS(0), 1)
}

// eachChunk runs fn over [0, n) in chunks of size rows on every core, the caller's
// included. Chunks are handed out as workers free up, not split evenly in advance:
// invalid accounts cost far less than full ones, and they cluster.
func eachChunk(n, size int, fn func(lo, hi int)) {
	w := workers(n)
	if w == 1 {
		fn(0, n)
		return
	}
	var next atomic.Int64
	work := func() {
		for {
			lo := int(next.Add(int64(size))) - size
			if lo >= n {
				return
			}
			fn(lo, min(lo+size, n))
		}
	}
	var wg sync.WaitGroup
	for range w - 1 {
		wg.Go(work)
	}
	work()
	wg.Wait()
}
