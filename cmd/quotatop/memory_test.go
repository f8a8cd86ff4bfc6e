package main

import (
	"runtime"
	"testing"
	"time"
)

// The live monitor's soft limit is set again after every collection, not only the first.
func TestAfterEachGCFollowsEveryCollection(t *testing.T) {
	calls := make(chan struct{}, 1)
	afterEachGC(func() {
		select {
		case calls <- struct{}{}:
		default:
		}
	})
	for n := range 3 {
		deadline := time.After(30 * time.Second)
		for seen := false; !seen; {
			runtime.GC()
			select {
			case <-calls:
				seen = true
			case <-time.After(10 * time.Millisecond):
			case <-deadline:
				t.Fatalf("no call after collection %d", n+1)
			}
		}
	}
}

// Small heaps run on GOGC alone; a large one is held a fifth above what is live.
func TestLiveLimit(t *testing.T) {
	if got := liveLimit(20 << 20); got != limitFloor {
		t.Errorf("20 MiB live: limit %d, want the floor", got)
	}
	if got := liveLimit(200 << 20); got != 240<<20 {
		t.Errorf("200 MiB live: limit %d MiB, want 240", got>>20)
	}
}
