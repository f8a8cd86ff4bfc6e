package main

import (
	"os"
	"runtime/pprof"
)

// startProfile writes a CPU profile to $QUOTATOP_CPUPROFILE while quotatop runs, for
// finding where an idle monitor spends its time.
func startProfile(getenv func(string) string) func() {
	path := getenv("QUOTATOP_CPUPROFILE")
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err != nil {
		return func() {}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return func() {}
	}
	return func() { pprof.StopCPUProfile(); f.Close() }
}
