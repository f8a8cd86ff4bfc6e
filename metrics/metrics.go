// Package metrics exposes the fleet to Prometheus: a custom collector reads the latest
// judged poll at scrape time (nothing is re-registered per poll), plus poll timings,
// poll errors and event counts, and a /healthz that says whether the last poll worked.
package metrics

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
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
	reg  *prometheus.Registry

	mu         sync.RWMutex
	accounts   []model.Account
	judgements []model.Judgement
	polled     bool // a poll has finished
	ok         bool // ...and the last one succeeded
	lastOK     time.Time
	lastErr    string

	pollDuration prometheus.Histogram
	pollErrors   prometheus.Counter
	events       *prometheus.CounterVec
}

// New builds the metrics and their registry (with the Go and process collectors).
func New(opts Options) *Metrics {
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	m := &Metrics{opts: opts, reg: prometheus.NewRegistry()}
	m.pollDuration = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "quotatop_poll_duration_seconds", Help: "Time to read and judge the whole fleet, per poll.",
		Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
	})
	m.pollErrors = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "quotatop_poll_errors_total", Help: "Polls that could not read the snapshot storage."})
	m.events = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "quotatop_events_total", Help: "Events raised, by kind (one per transition, batched per poll)."}, []string{"kind"})
	for _, k := range events.Kinds {
		m.events.WithLabelValues(string(k))
	}
	m.reg.MustRegister(m.pollDuration, m.pollErrors, m.events, fleetCollector{m},
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Registry is where the metrics live, for tests and embedding.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Update records a successful poll. The slices are kept as they are until the next
// Update: the caller must not change them.
func (m *Metrics) Update(now time.Time, took time.Duration, accounts []model.Account, js []model.Judgement) {
	m.pollDuration.Observe(took.Seconds())
	m.mu.Lock()
	m.accounts, m.judgements = accounts, js
	m.polled, m.ok, m.lastOK, m.lastErr = true, true, now, ""
	m.mu.Unlock()
}

// Failed records a poll that could not read the storage; the last good fleet stays.
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
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{MaxRequestsInFlight: 4}))
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
	s := &Server{srv: &http.Server{Handler: m.Handler(), ReadHeaderTimeout: 10 * time.Second}, ln: ln}
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

var (
	accountLabels = []string{"account_id"}
	windowLabels  = []string{"account_id", "window"}

	descUsed = prometheus.NewDesc("quotatop_window_used_ratio",
		"Used share of a Codex usage window as last stored (0-1); absent when the account has no such window.", windowLabels, nil)
	descThreshold = prometheus.NewDesc("quotatop_window_threshold_ratio",
		"Effective auto-pause threshold of a window (account, else gateway default); absent when none.", windowLabels, nil)
	descTimeToPause = prometheus.NewDesc("quotatop_window_time_to_pause_seconds",
		"Projected time until the window reaches its threshold at its recent rate; absent when unknown.", windowLabels, nil)
	descAge = prometheus.NewDesc("quotatop_account_snapshot_age_seconds",
		"Age of the account's usage snapshot at scrape time; absent without a snapshot time.", accountLabels, nil)
	descState = prometheus.NewDesc("quotatop_account_state",
		"1 for the account's current state, 0 for the others.", []string{"account_id", "state"}, nil)
	descCount = prometheus.NewDesc("quotatop_accounts",
		"Accounts per state.", []string{"state"}, nil)
	groupLabels    = []string{"group", "platform"}
	descGroupSched = prometheus.NewDesc("quotatop_group_schedulable_accounts",
		"Accounts of a group and platform the gateway schedules (state ok or warn); group 0 is the ungrouped accounts.", groupLabels, nil)
	descGroupTotal = prometheus.NewDesc("quotatop_group_accounts",
		"Accounts in a group and platform; group 0 is the ungrouped accounts.", groupLabels, nil)
	descUp = prometheus.NewDesc("quotatop_storage_up",
		"1 when the last poll read the snapshot storage, else 0.", nil, nil)
	descLastOK = prometheus.NewDesc("quotatop_last_success_timestamp_seconds",
		"When the last successful poll finished (Unix time).", nil, nil)
)

// fleetCollector turns the latest poll into metrics at scrape time.
type fleetCollector struct{ m *Metrics }

func (c fleetCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descUsed, descThreshold, descTimeToPause, descAge, descState, descCount, descGroupSched, descGroupTotal, descUp, descLastOK, c.infoDesc()} {
		ch <- d
	}
}

func (c fleetCollector) infoDesc() *prometheus.Desc {
	labels := []string{"account_id", "platform"}
	if c.m.opts.AccountNames {
		labels = append(labels, "account_name")
	}
	return prometheus.NewDesc("quotatop_account_info", "Always 1; carries the account's descriptive labels for joins.", labels, nil)
}

func (c fleetCollector) Collect(ch chan<- prometheus.Metric) {
	m := c.m
	m.mu.RLock()
	accounts, js, polled, ok, lastOK := m.accounts, m.judgements, m.polled, m.ok, m.lastOK
	m.mu.RUnlock()
	now := m.opts.Clock()
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	if polled {
		gauge(descUp, b2f(ok))
	}
	if !lastOK.IsZero() {
		gauge(descLastOK, float64(lastOK.UnixNano())/1e9)
	}
	info := c.infoDesc()
	counts := make(map[model.State]int, len(model.States))
	type group struct{ sched, total int }
	groups := map[events.GroupKey]*group{}
	for i := range accounts {
		a, j := &accounts[i], &js[i]
		id := strconv.FormatInt(a.ID, 10)
		if m.opts.AccountNames {
			gauge(info, 1, id, model.Sanitize(a.Platform), model.Sanitize(a.Name))
		} else {
			gauge(info, 1, id, model.Sanitize(a.Platform))
		}
		for _, s := range model.States {
			gauge(descState, b2f(s == j.State), id, string(s))
		}
		counts[j.State]++
		if a.Quota != nil && a.Quota.HasUpdatedAt {
			gauge(descAge, now.Sub(a.Quota.UpdatedAt).Seconds(), id)
		}
		for _, w := range j.Windows {
			if w.Present {
				gauge(descUsed, w.UsedPercent/100, id, string(w.Name))
			}
			if w.Threshold > 0 {
				gauge(descThreshold, w.Threshold, id, string(w.Name))
			}
			if m.opts.Projector != nil && events.Schedulable(j.State) {
				if d, ok := m.opts.Projector.TimeToDry(a.ID, w.Name, now); ok {
					gauge(descTimeToPause, d.Seconds(), id, string(w.Name))
				}
			}
		}
		sched := events.Schedulable(j.State)
		events.GroupKeys(a, func(k events.GroupKey) {
			g := groups[k]
			if g == nil {
				g = &group{}
				groups[k] = g
			}
			g.total++
			if sched {
				g.sched++
			}
		})
	}
	if polled && lastOK.IsZero() {
		return // no fleet yet: counts of zero would claim an empty fleet
	}
	for _, s := range model.States {
		gauge(descCount, float64(counts[s]), string(s))
	}
	for k, g := range groups {
		id, platform := strconv.FormatInt(k.ID, 10), model.Sanitize(k.Platform)
		gauge(descGroupSched, float64(g.sched), id, platform)
		gauge(descGroupTotal, float64(g.total), id, platform)
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
