package main

import (
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// oneShotMemory turns the collector off for --once while the heap is small: up to about
// 10,000 accounts the process reads, prints and exits before it would collect anything,
// and collecting garbage it is about to drop cost a fifth of its instructions. A larger
// fleet outgrows that: a collector held at a fixed limit then runs without pause (100,000
// accounts measured 3.1 s of CPU against 2.0 s with the ordinary collector), so past
// oneShotHeap the ordinary collector takes over. An operator's GOGC or GOMEMLIMIT wins.
func oneShotMemory() {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	debug.SetMemoryLimit(oneShotHeap + 64<<20) // a backstop should the watcher be late
	debug.SetGCPercent(-1)
	go func() {
		for range time.Tick(20 * time.Millisecond) {
			if heapBytes() > oneShotHeap {
				debug.SetGCPercent(100)
				debug.SetMemoryLimit(math.MaxInt64)
				return
			}
		}
	}()
}

// oneShotHeap is the heap up to which --once runs without collecting.
const oneShotHeap = 160 << 20

// liveMemory runs the collector at GOGC 25 (about 1.25 times the live heap: between polls
// the monitor allocates little, so collecting four times as often costs little CPU; at
// 10,000 accounts it took the RSS from 58 to 53 MB for no CPU the measure could see,
// where GOGC 10 saved 2 MB more for a fifth more CPU) and, for a
// large fleet, holds the heap closer still with a soft limit a fifth above the live heap,
// set again after every collection. At 100,000 accounts (about 200 MiB live) that took
// the RSS from about 330 to 265 MB for well under a percent of a core. It is set after
// each collection, not on a timer: a limit left under a live heap that had grown (the
// first read, a full projection) made the collector run without pause until the timer
// came. Below limitFloor the limit does not bind: small fleets run on GOGC alone.
func liveMemory() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(25)
	}
	if os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	afterEachGC(func() { debug.SetMemoryLimit(liveLimit(liveHeapBytes())) })
}

// limitFloor is the soft limit's least.
const limitFloor = 128 << 20

// liveLimit is the soft limit for a live heap of live bytes.
func liveLimit(live int64) int64 { return max(limitFloor, live+live/5) }

// afterEachGC calls f after every collection, on a goroutine of the runtime's: a
// sentinel object's cleanup runs once the collector has found it unreachable, and arms
// the next one.
func afterEachGC(f func()) {
	var arm func()
	arm = func() {
		sentinel := new([64]byte) // larger than the tiny allocator's blocks: freed alone
		runtime.AddCleanup(sentinel, func(struct{}) { f(); arm() }, struct{}{})
	}
	arm()
}

// heapBytes is the memory the heap's objects occupy now, garbage included.
func heapBytes() int64 { return readMetric("/memory/classes/heap/objects:bytes") }

// liveHeapBytes is the heap that survived the last collection.
func liveHeapBytes() int64 { return readMetric("/gc/heap/live:bytes") }

func readMetric(name string) int64 {
	s := []metrics.Sample{{Name: name}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return int64(s[0].Value.Uint64())
}
