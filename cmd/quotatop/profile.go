package main

import (
	"os"
	"runtime"
	"runtime/pprof"
)

// startProfile writes a CPU profile to $QUOTATOP_CPUPROFILE while quotatop runs, and a
// heap profile to $QUOTATOP_MEMPROFILE when it ends, for finding where an idle monitor
// spends its time and keeps its memory.
func startProfile(getenv func(string) string) func() {
	stopCPU := func() {}
	if path := getenv("QUOTATOP_CPUPROFILE"); path != "" {
		if f, err := os.Create(path); err == nil {
			if err := pprof.StartCPUProfile(f); err != nil {
				f.Close()
			} else {
				stopCPU = func() { pprof.StopCPUProfile(); f.Close() }
			}
		}
	}
	heapPath := getenv("QUOTATOP_MEMPROFILE")
	return func() {
		stopCPU()
		if heapPath == "" {
			return
		}
		if f, err := os.Create(heapPath); err == nil {
			runtime.GC() // the profile shows what is live, not what awaits collection
			pprof.Lookup("heap").WriteTo(f, 0)
			f.Close()
		}
	}
}

// Heap profile samples are kept from the first allocation on, in buckets that reached
// 1.5 MB in an hour of the live monitor; sample only when a profile was asked for.
func init() {
	if os.Getenv("QUOTATOP_MEMPROFILE") == "" {
		runtime.MemProfileRate = 0
	}
}
