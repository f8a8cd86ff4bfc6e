package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/quotatop/quotatop/events"
	"github.com/quotatop/quotatop/model"
	"github.com/quotatop/quotatop/source"
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
	// Warnings from opening the storage and the history go through the log, so that
	// --log-json output is JSON from its first line.
	warnings := logWriter{log}

	g, err := openGateway(cfg, getenv, warnings)
	if err != nil {
		fmt.Fprintf(stderr, "quotatop watch: %v\n", err)
		return exitUsage
	}
	defer g.close()
	g.history = openHistory(cfg, g, getenv, warnings)
	defer g.history.close()
	liveMemory() // a long-running process, like the live monitor
	var proj projector
	var dry *dryProjector
	if g.history != nil && g.history.store != nil {
		dry = &dryProjector{hist: g.history, record: true}
		proj = dry
	}
	al, err := newAlerting(cfg, getenv, log, proj)
	if err != nil {
		fmt.Fprintf(stderr, "quotatop watch: %v\n", err)
		return exitUsage
	}
	defer al.close()
	attrs := []any{"storage", g.reader.Address(), "prefix", g.reader.Prefix(), "interval", cfg.interval.String()}
	if al.server != nil {
		attrs = append(attrs, "metrics", "http://"+al.server.Addr()+"/metrics")
	}
	log.Info("watching", attrs...)
	if dry != nil {
		pl := al.pipeline
		pl.Project = func(now time.Time, accounts []model.Account, js events.Judgements, u events.Unchanged) {
			dry.project(pl.Policy, now, accounts, js, u)
		}
	}
	var reader watch.Reader = g.reader
	if r, ok := g.reader.(*source.Redis); ok && !cfg.demo {
		// As the live monitor: decode only changed values, read only changed keys where
		// Redis can say which (full polls otherwise), and no last-used keys (nothing here
		// reports them). A change of read mode is logged.
		r.SkipLastUsed()
		r.Track()
		reader = &trackingLog{Redis: r, log: log}
	}
	loop := watch.Loop{Reader: reader, Pipeline: al.pipeline, Interval: cfg.interval, Timeout: pollTimeout(cfg, g.reader), Log: log}
	if g.admin != nil {
		loop.BeforePoll = refreshThresholds(cfg.policy, g, al.pipeline, log)
	}
	loop.Run(ctx)
	// The cause names the signal: "terminated signal received".
	log.Info("stopped", "signal", strings.TrimSuffix(context.Cause(ctx).Error(), " signal received"))
	return exitOK
}

// logWriter turns the "quotatop: warning: ..." lines written to it into log records.
type logWriter struct{ log *slog.Logger }

func (w logWriter) Write(p []byte) (int, error) {
	for _, line := range strings.Split(strings.TrimRight(string(p), "\n"), "\n") {
		if msg, warns := warningOf(line); warns {
			w.log.Warn(msg)
		} else if msg != "" {
			w.log.Info(msg)
		}
	}
	return len(p), nil
}

// warningOf is a "quotatop: ..." line without its prefix, and whether it is a warning
// ("warning: " or "WARNING: ", which is cut too).
func warningOf(line string) (string, bool) {
	line = strings.TrimPrefix(line, "quotatop: ")
	if msg, ok := strings.CutPrefix(line, "warning: "); ok {
		return msg, true
	}
	if msg, ok := strings.CutPrefix(line, "WARNING: "); ok {
		return msg, true
	}
	return line, false
}

// refreshThresholds reads the gateway's thresholds (defaults and scheduling thresholds)
// before the first poll and every minute after, as the live monitor does.
func refreshThresholds(flags model.Policy, g *gateway, pl *watch.Pipeline, log *slog.Logger) func(context.Context) {
	pl.Policy = flags
	r := &thresholdRefresher{admin: g.admin, pl: pl, log: log, every: time.Minute}
	return r.refresh
}

// thresholdRefresher keeps a watch's thresholds those of the gateway. A kind that cannot
// be read keeps the last values read (the flags' until one is), so a short outage of the
// admin API does not flip judgements; a warning says so once per new error. The poll
// after a kind is first read is the events' baseline: the accounts it pauses did not
// change state, quotatop learned how to judge them.
type thresholdRefresher struct {
	admin *source.Admin
	pl    *watch.Pipeline
	log   *slog.Logger
	every time.Duration

	last                    time.Time
	lastErr                 string
	defaultsRead, schedRead bool
}

func (r *thresholdRefresher) refresh(context.Context) {
	if !r.last.IsZero() && time.Since(r.last) < r.every {
		return
	}
	r.last = time.Now()
	p, facts := readGatewayFacts(r.pl.Policy, r.admin)
	r.pl.Policy = p
	if (facts.defaultsRead && !r.defaultsRead) || (facts.schedRead && !r.schedRead) {
		r.pl.Detector.Rebaseline()
	}
	r.defaultsRead, r.schedRead = r.defaultsRead || facts.defaultsRead, r.schedRead || facts.schedRead
	if facts.thresholdsError != r.lastErr && facts.thresholdsError != "" {
		values := "the flags' values"
		if r.defaultsRead || r.schedRead {
			values = "the last values read (the flags' where none was)"
		}
		r.log.Warn("cannot read the gateway's thresholds; judging with "+values, "err", facts.thresholdsError)
	}
	r.lastErr = facts.thresholdsError
}

// trackingLog logs the reader's read mode (tracking, or full polls and why) when it
// changes, and keys that vanished during a full read.
type trackingLog struct {
	*source.Redis
	log      *slog.Logger
	last     string
	vanished int
}

func (t *trackingLog) Read(ctx context.Context) ([]model.Account, error) {
	accounts, err := t.Redis.Read(ctx)
	if mode := t.TrackingStatus(); mode != t.last {
		t.last = mode
		t.log.Info("reads", "mode", model.Sanitize(mode))
	}
	// Logged once per new count: the reader keeps it until its next full read.
	if n := t.Vanished(); n != t.vanished {
		t.vanished = n
		if n > 0 {
			t.log.Info("keys that SCAN listed were gone when read (accounts deleted during the poll)", "keys", n)
		}
	}
	return accounts, err
}
