package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/quotatop/quotatop/events"
	"github.com/quotatop/quotatop/metrics"
	"github.com/quotatop/quotatop/model"
	"github.com/quotatop/quotatop/notify"
	"github.com/quotatop/quotatop/tui"
	"github.com/quotatop/quotatop/watch"
	"github.com/spf13/pflag"
)

// tuiAlerts hands the live monitor's polls to the pipeline and its events back as the
// monitor shows them.
type tuiAlerts struct {
	mu *sync.Mutex // a context switch may start a poll while the last one ends
	p  *watch.Pipeline
	*forecastProjector
	// problems is what the notifiers logged (a failed delivery), shown with the next
	// poll's events: the screen hides stderr.
	problems *loggedProblems
}

// OutageDue says when the storage outage under way becomes reportable
// (tui.OutageScheduler).
func (a tuiAlerts) OutageDue() (time.Time, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.p.OutageDue()
}

// Rebaseline makes the next poll the events' baseline (tui.Rebaseliner).
func (a tuiAlerts) Rebaseline() {
	a.mu.Lock()
	a.p.Detector.Rebaseline()
	a.mu.Unlock()
}

func (a tuiAlerts) Observe(now time.Time, took time.Duration, accounts []model.Account, p model.Policy, err error, judged func(tui.Judged)) []tui.Alert {
	a.mu.Lock()
	a.p.Policy = p
	evs := a.p.ObserveWith(now, took, accounts, err, func(js events.Judgements, u events.Unchanged) {
		judged(tui.Judged{Judgement: js, Same: u.Same, Fresh: u.Fresh})
	})
	a.mu.Unlock()
	out := make([]tui.Alert, len(evs), len(evs)+1)
	for i, e := range evs {
		out[i] = tui.Alert{Time: e.Time, Severity: string(e.Severity), Text: model.Sanitize(e.Summary)}
	}
	for _, line := range a.problems.take() {
		out = append(out, tui.Alert{Time: now, Severity: string(events.Warning), Text: line})
	}
	return out
}

// loggedProblems is a log handler that keeps warnings and errors as sentences until
// they are taken; loggers derived with With share its lines.
type loggedProblems struct {
	kept  *keptLines
	attrs []slog.Attr
}

type keptLines struct {
	mu    sync.Mutex
	lines []string
}

func newLoggedProblems() *loggedProblems { return &loggedProblems{kept: &keptLines{}} }

// maxProblems bounds what waits for the next poll: a receiver failing every batch
// must not grow it without end.
const maxProblems = 20

func (l *loggedProblems) take() []string {
	if l == nil {
		return nil
	}
	l.kept.mu.Lock()
	defer l.kept.mu.Unlock()
	lines := l.kept.lines
	l.kept.lines = nil
	return lines
}

func (l *loggedProblems) Enabled(_ context.Context, level slog.Level) bool {
	return level >= slog.LevelWarn
}

func (l *loggedProblems) Handle(_ context.Context, r slog.Record) error {
	text := r.Message
	add := func(a slog.Attr) bool {
		text += "; " + a.Key + " " + a.Value.String()
		return true
	}
	for _, a := range l.attrs {
		add(a)
	}
	r.Attrs(add)
	l.kept.mu.Lock()
	defer l.kept.mu.Unlock()
	if len(l.kept.lines) < maxProblems {
		l.kept.lines = append(l.kept.lines, model.Cut(model.Sanitize(text), 400))
	}
	return nil
}

func (l *loggedProblems) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &loggedProblems{kept: l.kept, attrs: append(append([]slog.Attr(nil), l.attrs...), attrs...)}
}

func (l *loggedProblems) WithGroup(string) slog.Handler { return l }

// alertFlags are the flags of events, their delivery and the metrics, shared by the
// live monitor and `quotatop watch`.
type alertFlags struct {
	notifyExec     string
	notifyShell    bool
	notifyTimeout  time.Duration
	webhookOnArgv  string
	webhookFile    string
	notifyTemplate string
	hold           int
	groupFloor     int
	outageAfter    time.Duration
	dryHorizon     time.Duration
	metricsListen  string
	metricsNames   bool
	noTerminal     bool
	logJSON        bool
}

func addAlertFlags(fs *pflag.FlagSet, a *alertFlags) {
	fs.StringVar(&a.notifyExec, "notify-exec", "", "run `CMD` per event batch, the batch as JSON on stdin (split into words, no shell)")
	fs.BoolVar(&a.notifyShell, "notify-shell", false, "run --notify-exec through /bin/sh -c")
	fs.DurationVar(&a.notifyTimeout, "notify-timeout", 10*time.Second, "timeout for one --notify-exec run or one webhook attempt")
	fs.StringVar(&a.webhookOnArgv, "notify-webhook", "", "refused: webhook URLs hold tokens; use $QUOTATOP_NOTIFY_WEBHOOK or --notify-webhook-file")
	fs.StringVar(&a.webhookFile, "notify-webhook-file", "", "read the webhook `URL` to POST event batches to from PATH (else $QUOTATOP_NOTIFY_WEBHOOK)")
	fs.StringVar(&a.notifyTemplate, "notify-template", "", "Go text/template `FILE` for the webhook body (default: the batch JSON)")
	fs.IntVar(&a.hold, "event-hold", 2, "polls a new state must hold before it is an event (damps flapping)")
	fs.IntVar(&a.groupFloor, "group-floor", 0, "report a group whose schedulable accounts drop to this `count` (and always at zero)")
	fs.DurationVar(&a.outageAfter, "outage-after", time.Minute, "report the storage unreachable after this long")
	fs.DurationVar(&a.dryHorizon, "dry-horizon", 30*time.Minute, "report a window projected to reach its threshold within this long (needs history; 0 = off)")
	fs.StringVar(&a.metricsListen, "metrics-listen", "", "serve Prometheus /metrics and /healthz on `ADDR` (e.g. 127.0.0.1:9187)")
	fs.BoolVar(&a.metricsNames, "metrics-account-names", false, "add account names to quotatop_account_info (cardinality, privacy)")
	fs.BoolVar(&a.noTerminal, "no-notify-terminal", false, "live monitor: no bell or desktop notification on events")
	fs.BoolVar(&a.logJSON, "log-json", false, "watch: log events as JSON lines instead of key=value")
}

// check validates the alert flags, in one sentence each.
func (a *alertFlags) check() error {
	switch {
	case a.webhookOnArgv != "":
		return errors.New("a webhook URL on the command line is refused (its token would show in ps and shell history): use QUOTATOP_NOTIFY_WEBHOOK or --notify-webhook-file")
	case a.hold < 1 || a.hold > 1000:
		return fmt.Errorf("--event-hold %d: give a number of polls from 1 to 1000", a.hold)
	case a.groupFloor < 0:
		return fmt.Errorf("--group-floor %d must not be negative", a.groupFloor)
	case a.dryHorizon < 0:
		return fmt.Errorf("--dry-horizon %v must not be negative", a.dryHorizon)
	case a.outageAfter < 0:
		return fmt.Errorf("--outage-after %v must not be negative", a.outageAfter)
	case a.notifyTimeout <= 0:
		return fmt.Errorf("--notify-timeout must be positive, not %v", a.notifyTimeout)
	case a.notifyShell && a.notifyExec == "":
		return errors.New("--notify-shell needs --notify-exec")
	}
	return nil
}

// alerting is the built pipeline and what must be stopped at exit.
type alerting struct {
	pipeline *watch.Pipeline
	server   *metrics.Server
	notifier *notify.Dispatcher
}

// projector is where --dry-horizon and the time-to-pause metric get their projections.
type projector interface {
	TimeToDry(id int64, w model.WindowName, now time.Time) (time.Duration, bool)
}

// newAlerting builds events, delivery and metrics from the flags; proj (nil: none) gives
// --dry-horizon and the time-to-pause metric their projections.
func newAlerting(cfg config, getenv func(string) string, log *slog.Logger, proj projector) (*alerting, error) {
	a := cfg.alerts
	var sinks []notify.Sink
	if a.notifyExec != "" {
		e, err := notify.NewExec(a.notifyExec, a.notifyShell, a.notifyTimeout, cfg.adminKeyEnv, cfg.adminTokenEnv, cfg.redisPasswordEnv)
		if err != nil {
			return nil, err
		}
		sinks = append(sinks, e)
	}
	url, err := notify.ReadURL(a.webhookFile, getenv)
	if err != nil {
		return nil, err
	}
	if info, err := os.Stat(a.webhookFile); err == nil && info.Mode().Perm()&0o077 != 0 {
		log.Warn("the webhook file is readable by other users: chmod 600 it", "path", a.webhookFile, "mode", info.Mode().Perm().String())
	}
	if a.notifyTemplate != "" && url == "" {
		return nil, errors.New("--notify-template needs a webhook: set QUOTATOP_NOTIFY_WEBHOOK or --notify-webhook-file")
	}
	if url != "" {
		tmpl := ""
		if a.notifyTemplate != "" {
			b, err := os.ReadFile(a.notifyTemplate)
			if err != nil {
				return nil, fmt.Errorf("--notify-template: %w", err)
			}
			tmpl = string(b)
		}
		w, err := notify.NewWebhook(url, tmpl)
		if err != nil {
			return nil, err
		}
		w.Timeout = a.notifyTimeout
		sinks = append(sinks, w)
	}
	ec := events.DefaultConfig()
	ec.Hold, ec.GroupFloor, ec.OutageAfter, ec.WarnPercent = a.hold, a.groupFloor, a.outageAfter, cfg.policy.WarnPercent
	ec.DryHorizon = a.dryHorizon
	if proj != nil {
		ec.Projector = proj
	}
	al := &alerting{pipeline: &watch.Pipeline{Policy: cfg.policy, Detector: events.New(ec), Log: log}}
	if a.metricsListen != "" {
		mo := metrics.Options{AccountNames: a.metricsNames}
		if proj != nil {
			mo.Projector = proj
		}
		m := metrics.New(mo)
		srv, err := m.Listen(a.metricsListen)
		if err != nil {
			return nil, err
		}
		al.pipeline.Metrics, al.server = m, srv
	}
	if len(sinks) > 0 {
		al.notifier = notify.NewDispatcher(log, sinks...)
		al.pipeline.Notify = al.notifier
	}
	return al, nil
}

// close delivers what is queued (for a few seconds at most) and stops serving.
func (a *alerting) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	a.notifier.Close(ctx)
	if a.server != nil {
		a.server.Close(ctx)
	}
}

// newLogger writes key=value lines, or JSON lines, to w.
func newLogger(w io.Writer, json bool) *slog.Logger {
	if json {
		return slog.New(slog.NewJSONHandler(w, nil))
	}
	return slog.New(slog.NewTextHandler(w, nil))
}
