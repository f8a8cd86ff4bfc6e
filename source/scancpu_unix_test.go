//go:build unix

package source

import (
	"syscall"
	"time"
)

// processCPU is the CPU time the process has used so far, GC workers included: on a
// shared machine it moves less with the neighbours' load than the wall clock does.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
