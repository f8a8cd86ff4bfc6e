// Package metrics exposes the fleet to Prometheus: each good poll leaves a small
// snapshot of every account that scrapes write out (nothing is re-registered per poll),
// plus poll timings, poll errors and event counts in the client library's registry, and
// a /healthz that says whether the last poll worked.
package metrics

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/quotatop/quotatop/events"
	"github.com/quotatop/quotatop/model"
)

// Projector says how long until a window reaches its pause threshold, when known. It is
// the trends work's to satisfy; declared here, where it is used.
type Projector interface {
	TimeToDry(id int64, w model.WindowName, now time.Time) (time.Duration, bool)
}

// Options configure the metrics.
type Options struct {
	// AccountNames adds account_name to quotatop_account_info. Off by default: names
	// can be personal (e-mail addresses) and are not needed to alert.
	AccountNames bool
	Projector    Projector
	// Clock is read at scrape time for snapshot ages; nil means time.Now.
	Clock func() time.Time
}

// Metrics holds the latest poll and the counters, and serves them.
type Metrics struct {
	opts Options
	reg  *prometheus.Registry // the process, Go and poll metrics; the fleet's are written apart

	mu      sync.RWMutex
	cur     *snapshot // the last good poll's, nil before one
	spare   *snapshot // the one before, refilled by the next Update unless a scrape reads it
	polled  bool      // a poll has finished
	ok      bool      // ...and the last one succeeded
	lastOK  time.Time
	lastErr string

	scrapes      chan struct{} // one token per scrape being served
	pollDuration prometheus.Histogram
	pollErrors   prometheus.Counter
	events       *prometheus.CounterVec
}

// New builds the metrics and their registry (with the Go and process collectors).
func New(opts Options) *Metrics {
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	m := &Metrics{opts: opts, reg: prometheus.NewRegistry(), scrapes: make(chan struct{}, maxScrapes)}
	m.pollDuration = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "quotatop_poll_duration_seconds", Help: "Time to read the fleet from the snapshot storage, per poll (failed reads included; judging is not counted).",
		Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
	})
	m.pollErrors = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "quotatop_poll_errors_total", Help: "Polls that could not read the snapshot storage."})
	m.events = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "quotatop_events_total", Help: "Events raised, by kind (one per transition, batched per poll)."}, []string{"kind"})
	for _, k := range events.Kinds {
		m.events.WithLabelValues(string(k))
	}
	m.reg.MustRegister(m.pollDuration, m.pollErrors, m.events,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Update records a successful poll: took is how long the read took, and js (parallel to
// accounts) the judgements made under p, whose thresholds the window series export. It
// keeps nothing of accounts and js: the caller may reuse them as soon as it returns.
func (m *Metrics) Update(now time.Time, took time.Duration, p model.Policy, accounts []model.Account, js []model.Judgement) {
	m.pollDuration.Observe(took.Seconds())
	m.mu.Lock()
	s := m.spare
	m.spare = nil
	m.mu.Unlock()
	if s == nil || s.readers.Load() != 0 {
		s = &snapshot{} // a slow scrape still reads the old one: leave it be
	}
	s.fill(accounts, js, &p, m.opts.AccountNames)
	m.mu.Lock()
	m.spare, m.cur = m.cur, s
	m.polled, m.ok, m.lastOK, m.lastErr = true, true, now, ""
	m.mu.Unlock()
}

// pin returns what a scrape reads; the caller unpins it when done.
func (m *Metrics) pin() view {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.cur != nil {
		m.cur.readers.Add(1)
	}
	return view{snap: m.cur, polled: m.polled, ok: m.ok, lastOK: m.lastOK}
}

// Failed records a poll that could not read the storage (took is the failed read); the
// last good fleet stays.
func (m *Metrics) Failed(took time.Duration, err error) {
	m.pollDuration.Observe(took.Seconds())
	m.pollErrors.Inc()
	m.mu.Lock()
	m.polled, m.ok, m.lastErr = true, false, model.Sanitize(err.Error())
	m.mu.Unlock()
}

// Count adds events to quotatop_events_total.
func (m *Metrics) Count(evs []events.Event) {
	for _, e := range evs {
		m.events.WithLabelValues(string(e.Kind)).Inc()
	}
}

// Handler serves /metrics and /healthz.
func (m *Metrics) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /metrics", m.serveMetrics)
	mux.HandleFunc("GET /healthz", m.healthz)
	return mux
}

func (m *Metrics) healthz(w http.ResponseWriter, _ *http.Request) {
	m.mu.RLock()
	polled, ok, lastOK, lastErr := m.polled, m.ok, m.lastOK, m.lastErr
	m.mu.RUnlock()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	switch {
	case !polled:
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintln(w, "no poll has finished yet")
	case !ok:
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintf(w, "the last poll failed: %s\n", lastErr)
	default:
		fmt.Fprintf(w, "ok: the last poll succeeded at %s\n", lastOK.UTC().Format(time.RFC3339))
	}
}

// Server is a running metrics endpoint.
type Server struct {
	srv *http.Server
	ln  net.Listener
}

// Listen serves the metrics on addr ("127.0.0.1:9187", ":9187") until Close.
func (m *Metrics) Listen(addr string) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--metrics-listen %s: %w", addr, err)
	}
	// A scraper that stops reading is cut off, so that it holds a snapshot only so long.
	s := &Server{srv: &http.Server{Handler: m.Handler(), ReadHeaderTimeout: 10 * time.Second, WriteTimeout: time.Minute}, ln: ln}
	go func() {
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			ln.Close()
		}
	}()
	return s, nil
}

// Addr is the address actually listened on (useful with port 0).
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Close stops serving, letting a scrape in progress finish until ctx ends.
func (s *Server) Close(ctx context.Context) error { return s.srv.Shutdown(ctx) }

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
