package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	tea "charm.land/bubbletea/v2"
	"github.com/quotatop/quotatop/source"
	"github.com/quotatop/quotatop/tui"
)

// live runs the full-screen monitor.
func live(cfg config, reader *source.Redis, stderr io.Writer) int {
	info := tui.SourceInfo{Address: reader.Address(), Prefix: reader.Prefix(), Mode: string(reader.Mode())}
	if cfg.demo {
		info.Address, info.Mode = "embedded demo gateway", ""
	}
	err := tui.Run(context.Background(), tui.Options{
		Reader: reader, Source: info, Policy: cfg.policy, Interval: cfg.interval,
		PollTimeout: cfg.timeout * 2, Color: !cfg.noColor, Mouse: cfg.mouse,
	}, os.Stdin, os.Stdout)
	if err != nil && !errors.Is(err, tea.ErrProgramKilled) {
		fmt.Fprintf(stderr, "quotatop: %v\n", err)
		return exitUsage
	}
	return exitOK
}
