package main

import (
	"fmt"
	"io"

	"github.com/quotatop/quotatop/source"
)

// live runs the full-screen monitor.
func live(cfg config, reader *source.Redis, stderr io.Writer) int {
	fmt.Fprintln(stderr, "quotatop: the live monitor is not built yet; use --once")
	return exitUsage
}
