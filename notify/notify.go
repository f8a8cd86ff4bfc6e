// Package notify delivers event batches to the outside: a local command (--notify-exec)
// and a webhook (--notify-webhook). Delivery runs beside polling, never blocks it, and
// its failures are logged, never fatal.
package notify

import (
	"context"
	"log/slog"
	"sync"

	"github.com/quotatop/quotatop/events"
	"github.com/quotatop/quotatop/model"
)

// Sink is one place batches go.
type Sink interface {
	// Name identifies the sink in logs; it never contains a secret.
	Name() string
	Send(ctx context.Context, b events.Batch) error
}

// queueLen bounds the batches waiting for a slow sink: past it the oldest are dropped,
// so a dead receiver costs memory for a few batches, not for a night of polls.
const queueLen = 64

// Dispatcher hands batches to every sink in order, one batch at a time, off the caller's
// goroutine.
type Dispatcher struct {
	sinks []Sink
	log   *slog.Logger
	ctx   context.Context
	stop  context.CancelFunc

	mu      sync.Mutex
	queue   []events.Batch
	wake    chan struct{}
	closed  bool
	done    chan struct{}
	dropped int
}

// NewDispatcher starts delivering to sinks; Close stops it.
func NewDispatcher(log *slog.Logger, sinks ...Sink) *Dispatcher {
	ctx, stop := context.WithCancel(context.Background())
	d := &Dispatcher{sinks: sinks, log: log, ctx: ctx, stop: stop, wake: make(chan struct{}, 1), done: make(chan struct{})}
	go d.run()
	return d
}

// Send queues a batch; it never blocks. An empty batch is ignored.
func (d *Dispatcher) Send(b events.Batch) {
	if d == nil || len(b.Events) == 0 || len(d.sinks) == 0 {
		return
	}
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return
	}
	if len(d.queue) == queueLen {
		d.queue = d.queue[1:]
		d.dropped++
	}
	d.queue = append(d.queue, b)
	d.mu.Unlock()
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

func (d *Dispatcher) run() {
	defer close(d.done)
	for {
		d.mu.Lock()
		if len(d.queue) == 0 {
			closed := d.closed
			d.mu.Unlock()
			if closed {
				return
			}
			<-d.wake
			continue
		}
		b := d.queue[0]
		d.queue = d.queue[1:]
		dropped := d.dropped
		d.dropped = 0
		d.mu.Unlock()
		if dropped > 0 {
			d.log.Warn("notifications dropped: the receivers are slower than the events", "dropped", dropped)
		}
		for _, s := range d.sinks {
			if err := s.Send(d.ctx, b); err != nil {
				d.log.Warn("notification failed", "sink", s.Name(), "err", model.Sanitize(err.Error()))
			}
		}
	}
}

// Close delivers what is queued, waiting until ctx ends; then it cancels what is in
// flight and returns.
func (d *Dispatcher) Close(ctx context.Context) {
	if d == nil {
		return
	}
	d.mu.Lock()
	d.closed = true
	d.mu.Unlock()
	select {
	case d.wake <- struct{}{}:
	default:
	}
	select {
	case <-d.done:
	case <-ctx.Done():
		d.stop()
		<-d.done
	}
	d.stop()
}
