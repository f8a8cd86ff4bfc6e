package report

import (
	"io"
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

// encodeFunc appends rows [lo, hi) of a document to b.
type encodeFunc func(b []byte, lo, hi int) ([]byte, error)

// writeChunks writes rows [0, n) to w in chunks of size rows, each encoded by an
// encodeFunc from newEncoder: one per goroutine, so each may keep scratch. A large n is
// encoded on every core while the chunks before it are written in order; only a few
// chunks are in flight, so memory stays the same whatever the fleet size. The error is
// the first chunk's, in row order, as one goroutine would have met it.
func writeChunks(w io.Writer, n, size int, newEncoder func() encodeFunc) error {
	nw := workers(n)
	if nw == 1 {
		enc := newEncoder()
		var b []byte
		for lo := 0; lo < n; lo += size {
			var err error
			if b, err = enc(b[:0], lo, min(lo+size, n)); err != nil {
				return err
			}
			if _, err := w.Write(b); err != nil {
				return err
			}
		}
		return nil
	}
	type chunk struct {
		lo, hi int
		b      []byte
		err    error
		done   chan struct{}
	}
	// Two chunks a core: one being encoded while the one it finished waits its turn.
	inFlight := 2 * nw
	todo := make(chan *chunk, inFlight)
	var wg sync.WaitGroup
	for range nw {
		wg.Go(func() {
			enc := newEncoder()
			for c := range todo {
				c.b, c.err = enc(c.b[:0], c.lo, c.hi)
				c.done <- struct{}{}
			}
		})
	}
	// queue holds the chunks in flight in row order; a written chunk carries the next.
	queue := make([]*chunk, 0, inFlight)
	next := 0
	send := func(c *chunk) {
		if next >= n {
			return
		}
		c.lo, c.hi = next, min(next+size, n)
		next = c.hi
		queue = append(queue, c)
		todo <- c
	}
	for range inFlight {
		send(&chunk{done: make(chan struct{}, 1)})
	}
	var err error
	for len(queue) > 0 {
		c := queue[0]
		queue = append(queue[:0], queue[1:]...)
		<-c.done
		if err == nil {
			err = c.err
		}
		if err == nil {
			_, err = w.Write(c.b)
		}
		if err != nil {
			next = n // let the chunks in flight finish; start no more
		}
		send(c)
	}
	close(todo)
	wg.Wait()
	return err
}
