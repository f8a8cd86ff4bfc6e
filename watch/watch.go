// Package watch runs each poll's outcome through judgement, events, delivery and metrics,
// the same way for the headless `quotatop watch` and for the live monitor, and holds the
// headless polling loop.
package watch

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/quotatop/quotatop/events"
	"github.com/quotatop/quotatop/metrics"
	"github.com/quotatop/quotatop/model"
	"github.com/quotatop/quotatop/notify"
)

// Reader is the snapshot storage.
type Reader interface {
	Read(ctx context.Context) ([]model.Account, error)
}

// recentLen is how many events Recent keeps for the events pane.
const recentLen = 200

// Pipeline is what happens after a poll. Its parts are optional except the detector.
type Pipeline struct {
	Policy   model.Policy
	Detector *events.Detector
	Metrics  *metrics.Metrics
	Notify   *notify.Dispatcher
	// Log gets one line per event; nil logs nothing.
	Log *slog.Logger
	// Project, when set, sees each good poll's judged accounts, with what they share with
	// the last poll's, before events are detected: the hook for history and projections,
	// whose results the detector and metrics read through their Projector.
	Project func(now time.Time, accounts []model.Account, js events.Judgements, u events.Unchanged)

	mu     sync.Mutex
	recent []events.Event
	judged judgements // judge.go
}

// Observe takes one poll's outcome (accounts, or err when the storage failed) and returns
// the events it caused, after counting, logging and queueing them for delivery. Calls
// must not overlap.
func (p *Pipeline) Observe(now time.Time, took time.Duration, accounts []model.Account, err error) []events.Event {
	return p.ObserveWith(now, took, accounts, err, nil)
}

// ObserveWith is Observe that also hands a good poll's judgements (parallel to accounts)
// to judged, with what they share with the last poll's, after Project and before events
// are detected: the live monitor projects from them rather than judging every account a
// second time. Both are valid only during the call: the next poll reuses the memory.
func (p *Pipeline) ObserveWith(now time.Time, took time.Duration, accounts []model.Account, err error, judged func(events.Judgements, events.Unchanged)) []events.Event {
	var evs []events.Event
	if err != nil {
		evs = p.Detector.Fail(now, err)
		if p.Metrics != nil {
			p.Metrics.Failed(took, err)
		}
	} else {
		p.judged.keepAll = p.Metrics != nil
		js := p.judged.judge(accounts, p.Policy, now)
		if p.Project != nil {
			p.Project(now, accounts, js, p.judged.unchanged)
		}
		if judged != nil {
			judged(js, p.judged.unchanged)
		}
		evs = p.Detector.ObserveUnchanged(now, accounts, js, p.judged.unchanged)
		if p.Metrics != nil {
			p.Metrics.Update(now, took, p.Policy, accounts, p.judged.all())
		}
		p.judged.release()
	}
	if len(evs) == 0 {
		return nil
	}
	if p.Metrics != nil {
		p.Metrics.Count(evs)
	}
	for _, e := range evs {
		LogEvent(p.Log, e)
	}
	p.Notify.Send(events.Batch{Time: now, Events: evs})
	p.mu.Lock()
	p.recent = append(p.recent, evs...)
	if len(p.recent) > recentLen {
		p.recent = append([]events.Event(nil), p.recent[len(p.recent)-recentLen:]...)
	}
	p.mu.Unlock()
	return evs
}

// OutageDue says when the storage outage under way, not yet reported, becomes
// reportable (events.Detector.OutageDue): a poller backing off polls again then, since
// only a failed poll reports it. It must not overlap Observe.
func (p *Pipeline) OutageDue() (time.Time, bool) {
	return p.Detector.OutageDue()
}

// Recent returns the last events, oldest first.
func (p *Pipeline) Recent() []events.Event {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]events.Event(nil), p.recent...)
}

// LogEvent writes one structured line for an event: its summary as the message, and its
// kind, severity and how many accounts, windows or groups it lists.
func LogEvent(log *slog.Logger, e events.Event) {
	if log == nil {
		return
	}
	level := slog.LevelInfo
	switch e.Severity {
	case events.Critical:
		level = slog.LevelError
	case events.Warning:
		level = slog.LevelWarn
	}
	attrs := []slog.Attr{slog.String("kind", string(e.Kind)), slog.String("severity", string(e.Severity))}
	if n := len(e.Accounts) + len(e.Windows) + len(e.Groups); n > 0 {
		attrs = append(attrs, slog.Int("items", n))
	}
	log.LogAttrs(context.Background(), level, model.Sanitize(e.Summary), attrs...)
}

// Loop polls until its context ends, backing off while the storage fails.
type Loop struct {
	Reader     Reader
	Pipeline   *Pipeline
	Interval   time.Duration
	Timeout    time.Duration // per poll
	MaxBackoff time.Duration
	Log        *slog.Logger
	Clock      func() time.Time
	// Sleep waits d or until ctx ends; nil waits on a timer. Tests pass one that moves
	// their Clock.
	Sleep func(ctx context.Context, d time.Duration)
	// BeforePoll runs before every poll, on the loop's goroutine: the place to refresh the
	// pipeline's policy (the gateway's thresholds) without racing Observe.
	BeforePoll func(ctx context.Context)
}

// Run polls until ctx is cancelled; it never gives up on the storage.
func (l *Loop) Run(ctx context.Context) {
	clock := l.Clock
	if clock == nil {
		clock = time.Now
	}
	sleep := l.Sleep
	if sleep == nil {
		sleep = sleepCtx
	}
	maxBackoff := l.MaxBackoff
	if maxBackoff <= 0 {
		maxBackoff = 30 * time.Second
	}
	failures := 0
	for {
		if l.BeforePoll != nil {
			l.BeforePoll(ctx)
		}
		started := clock()
		pctx, cancel := context.WithTimeout(ctx, l.Timeout)
		accounts, err := l.Reader.Read(pctx)
		cancel()
		if ctx.Err() != nil {
			return
		}
		finished := clock()
		l.Pipeline.Observe(finished, finished.Sub(started), accounts, err)
		delay := l.Interval
		if err != nil {
			if failures == 0 && l.Log != nil {
				l.Log.Warn("poll failed; retrying with back-off", "err", model.Sanitize(err.Error()))
			}
			failures++
			delay = min(l.Interval<<min(failures-1, 6), maxBackoff)
			// Only a failed poll reports the outage: the back-off's next step can be far
			// past --outage-after, so poll again when it is due.
			if due, ok := l.Pipeline.OutageDue(); ok {
				delay = min(delay, max(due.Sub(finished), 0))
			}
		} else {
			if failures > 0 && l.Log != nil {
				l.Log.Info("poll succeeded again", "failed_polls", failures)
			}
			failures = 0
		}
		sleep(ctx, delay)
		if ctx.Err() != nil {
			return
		}
	}
}

// sleepCtx waits d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
