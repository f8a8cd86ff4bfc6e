package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/term"
	"github.com/quotatop/quotatop/action"
	cfgfile "github.com/quotatop/quotatop/config"
	"github.com/quotatop/quotatop/source"
	"github.com/quotatop/quotatop/tui"
)

// noTerminal says why the live monitor cannot run here, or "" when it can. It is asked
// before anything connects or creates a file.
func noTerminal() string {
	if !term.IsTerminal(os.Stdin.Fd()) || !term.IsTerminal(os.Stdout.Fd()) {
		return "the live monitor needs a terminal (stdin and stdout are not one here); for scripts and pipes use --once"
	}
	return ""
}

// live runs the full-screen monitor.
func live(cfg config, args []string, g *gateway, stderr io.Writer, warnings []string, getenv func(string) string) int {
	t := target(cfg, g, getenv)
	opts := tui.Options{
		Reader: t.Reader, Source: t.Source, Policy: t.Policy, Interval: t.Interval, Actions: t.Actions,
		Thresholds: t.Thresholds, Gateway: t.Gateway, Context: t.Context,
		PollTimeout: pollTimeout(cfg, g.reader), Color: !cfg.noColor, Mouse: cfg.mouse, ConfirmProbes: cfg.confirmProbes,
		Warnings: warnings,
	}
	if g.history != nil {
		// Every poll feeds the history (the store batches writes off the poll's path) and
		// the projections; another context switched to keeps none.
		opts.History = g.history
	}
	if cfg.file != nil && len(cfg.file.Contexts) > 1 {
		g.close = sync.OnceFunc(g.close)
		opts.Close = g.close
		for _, c := range cfg.file.Contexts {
			opts.Contexts = append(opts.Contexts, tui.ContextInfo{Name: c.Name, Color: cfgfile.ColorCode(c.Color)})
		}
		var mu sync.Mutex
		var opened []func()
		defer func() {
			mu.Lock()
			defer mu.Unlock()
			for _, c := range opened {
				c()
			}
		}()
		opts.Switch = func(name string) (tui.Target, error) {
			next, err := resolveContext(args, getenv, name)
			if err != nil {
				return tui.Target{}, err
			}
			// Warnings (a key file readable by others, a key in clear text) cannot be
			// printed under the full-screen monitor: its header shows them.
			said := &warningRecorder{w: io.Discard}
			ng, err := openGateway(next, getenv, said)
			if err != nil {
				return tui.Target{}, err
			}
			once := sync.OnceFunc(ng.close)
			mu.Lock()
			opened = append(opened, once)
			mu.Unlock()
			nt := target(next, &gateway{reader: ng.reader, admin: ng.admin}, getenv)
			nt.Close, nt.Warnings = once, said.lines
			return nt, nil
		}
	}
	// The screen owns the terminal: events reach the operator through the pane, the bell
	// and the notifiers, and what the notifiers log (a failed delivery) through the pane.
	fp := &forecastProjector{}
	problems := newLoggedProblems()
	al, err := newAlerting(cfg, getenv, slog.New(problems), fp)
	if err != nil {
		fmt.Fprintf(stderr, "quotatop: %v\n", err)
		return exitUsage
	}
	defer al.close()
	al.pipeline.Log = nil // events are the pane's, not log lines
	opts.Alerts = tuiAlerts{mu: new(sync.Mutex), p: al.pipeline, forecastProjector: fp, problems: problems}
	opts.NotifyTerminal = !cfg.alerts.noTerminal && term.IsTerminal(os.Stdout.Fd())
	err = tui.Run(context.Background(), opts, os.Stdin, os.Stdout)
	if err != nil && !errors.Is(err, tea.ErrProgramKilled) {
		fmt.Fprintf(stderr, "quotatop: %v\n", err)
		return exitUsage
	}
	return exitOK
}

// target is one gateway as the monitor watches it.
func target(cfg config, g *gateway, getenv func(string) string) tui.Target {
	reader := g.reader
	t := tui.Target{
		Context: tui.ContextInfo{Name: cfg.contextName, Color: cfg.contextColor},
		Reader:  reader, Policy: cfg.policy, Interval: cfg.interval, PollTimeout: pollTimeout(cfg, reader),
		Source: tui.SourceInfo{Address: reader.Address(), Prefix: reader.Prefix()},
	}
	switch r := reader.(type) {
	case *source.Redis:
		r.Remember()     // decode only changed values
		r.SkipLastUsed() // shown only in the detail view, which reads it per account
		if !cfg.demo {
			r.Track() // read only changed keys where Redis can say which
		}
		t.Source.Mode = string(r.Mode())
	case *source.API:
		t.Source.Address, t.Source.API = "admin API "+r.Address(), true
	}
	if cfg.demo {
		t.Source.Address, t.Source.Mode = "embedded demo gateway", ""
		if t.Source.API {
			t.Source.Address = "embedded demo gateway, admin API"
		}
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
		t.Thresholds = g.admin.DefaultThresholds
		t.Gateway = gatewayInfo(g.admin)
	}
	auditPath := cfg.auditLog
	if auditPath == "" {
		auditPath = action.DefaultAuditPath(getenv)
	}
	t.Actions = action.NewDispatcher(admin, action.NewAudit(auditPath, getenv), reader.ReadAccount, why)
	return t
}
