package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/quotatop/quotatop/watch"
	"github.com/spf13/pflag"
)

// runWatch is `quotatop watch`: the live monitor's polling, judgement and events with no
// screen, for systemd. It logs one line per event to stderr and exits 0 on SIGTERM or
// SIGINT; storage outages are waited out with back-off.
func runWatch(args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	cfg, err := resolveContext(args, getenv, "")
	if errors.Is(err, pflag.ErrHelp) {
		fmt.Fprintln(stdout, "quotatop watch [flags]: the live monitor's polling, judgement, events, notifications and metrics without a screen; it takes the same flags as quotatop (see quotatop --help)")
		return exitOK
	}
	if err == nil && cfg.once {
		err = errors.New("watch runs until stopped: --once does not apply")
	}
	if err != nil {
		fmt.Fprintf(stderr, "quotatop watch: %v\n", err)
		return exitUsage
	}
	if cfg.version {
		fmt.Fprintln(stdout, versionLine())
		return exitOK
	}
	log := newLogger(stderr, cfg.alerts.logJSON)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()

	g, err := openGateway(cfg, getenv, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "quotatop watch: %v\n", err)
		return exitUsage
	}
	defer g.close()
	if g.admin != nil {
		cfg.policy = withGatewayThresholds(cfg.policy, g.admin, stderr)
	}
	g.history = openHistory(cfg, g, getenv, stderr)
	defer g.history.close()
	al, err := newAlerting(cfg, getenv, log, g.history, true)
	if err != nil {
		fmt.Fprintf(stderr, "quotatop watch: %v\n", err)
		return exitUsage
	}
	defer al.close()
	attrs := []any{"storage", g.reader.Address(), "prefix", g.reader.Prefix(), "interval", cfg.interval}
	if al.server != nil {
		attrs = append(attrs, "metrics", "http://"+al.server.Addr()+"/metrics")
	}
	log.Info("watching", attrs...)
	loop := watch.Loop{Reader: g.reader, Pipeline: al.pipeline, Interval: cfg.interval, Timeout: cfg.timeout * 2, Log: log}
	loop.Run(ctx)
	log.Info("stopped", "signal", "received")
	return exitOK
}
