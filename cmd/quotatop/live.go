package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/term"
	"github.com/quotatop/quotatop/action"
	"github.com/quotatop/quotatop/tui"
)

// live runs the full-screen monitor.
func live(cfg config, g *gateway, stderr io.Writer, getenv func(string) string) int {
	reader := g.reader
	info := tui.SourceInfo{Address: reader.Address(), Prefix: reader.Prefix(), Mode: string(reader.Mode())}
	if cfg.demo {
		info.Address, info.Mode = "embedded demo gateway", ""
	}
	opts := tui.Options{
		Reader: reader, Source: info, Policy: cfg.policy, Interval: cfg.interval,
		PollTimeout: cfg.timeout * 2, Color: !cfg.noColor, Mouse: cfg.mouse, ConfirmProbes: cfg.confirmProbes,
	}
	why := ""
	switch {
	case cfg.readOnly:
		why = "--read-only"
	case g.admin == nil:
		why = "no admin API configured (--api)"
	}
	var admin action.Admin
	if g.admin != nil {
		admin = g.admin
		opts.Thresholds = g.admin.DefaultThresholds
	}
	auditPath := cfg.auditLog
	if auditPath == "" {
		auditPath = action.DefaultAuditPath(getenv)
	}
	opts.Actions = action.NewDispatcher(admin, action.NewAudit(auditPath, getenv), reader.ReadAccount, why)
	// The screen owns the terminal: the pipeline logs nowhere, and events reach the
	// operator through the pane, the bell and the notifiers.
	al, err := newAlerting(cfg, getenv, newLogger(io.Discard, false))
	if err != nil {
		fmt.Fprintf(stderr, "quotatop: %v\n", err)
		return exitUsage
	}
	defer al.close()
	opts.Alerts = tuiAlerts{al.pipeline}
	opts.NotifyTerminal = !cfg.alerts.noTerminal && term.IsTerminal(os.Stdout.Fd())
	err = tui.Run(context.Background(), opts, os.Stdin, os.Stdout)
	if err != nil && !errors.Is(err, tea.ErrProgramKilled) {
		fmt.Fprintf(stderr, "quotatop: %v\n", err)
		return exitUsage
	}
	return exitOK
}
