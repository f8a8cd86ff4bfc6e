package main

import (
	"math"
	"os"
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

// liveMemory keeps a soft limit above the live heap as a ceiling on spikes, rather than a
// large GOGC: below it the collector runs as usual (GOGC 100, about twice the live heap).
// The limit follows the live heap (three times it, at least 384 MiB): a fixed limit near
// a live heap that grew (100,000 accounts with history and projections) made the
// collector run without pause, 150 % of a core.
//
// Between polls the monitor allocates little, so a collector that runs twice as often
// (GOGC 50) costs little CPU and keeps the heap at about 1.5 times the live heap.
func liveMemory() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(50)
	}
	if os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	const floor = 384 << 20
	debug.SetMemoryLimit(floor)
	go func() {
		for range time.Tick(5 * time.Second) {
			debug.SetMemoryLimit(max(floor, 3*liveHeapBytes()))
		}
	}()
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
