package main

import (
	"os"
	"runtime/debug"
)

// oneShotMemory turns the collector off for --once: the process reads, prints and exits
// in a fraction of a second, and collecting garbage it is about to drop cost a fifth of
// its instructions. Up to 10,000 accounts the heap never reaches the limit, so nothing is
// collected; a larger fleet is collected at the limit, which measured faster than no
// limit at 100,000 (fresh pages for 300 MB cost more in faults than collection does).
// An operator's GOGC or GOMEMLIMIT wins.
func oneShotMemory() {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	debug.SetMemoryLimit(192 << 20)
	debug.SetGCPercent(-1)
}

// liveMemory bounds the monitor with a soft limit rather than a large GOGC: below it the
// collector runs as usual (GOGC 100, about twice the live heap); near it, harder. It is a
// ceiling, well above what 100,000 accounts need (about 130 MB live): a limit near the
// live heap makes the collector run without pause (measured: 17 % of a core instead of 1 %
// at 100,000 with a 192 MiB limit).
func liveMemory() {
	if os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	debug.SetMemoryLimit(384 << 20)
}
