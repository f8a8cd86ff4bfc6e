package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/quotatop/quotatop/history"
	"github.com/quotatop/quotatop/model"
	"github.com/quotatop/quotatop/report"
	"github.com/quotatop/quotatop/trend"
)

// historyFile is the history as the commands use it: the open store, or the sentence
// saying why there is none. A nil *historyFile is history switched off; every method
// works on it.
type historyFile struct {
	store   *history.Store
	problem string
	cleanup func()
	warn    io.Writer // where a write problem is reported
	closed  bool      // flush closed the store and said what it lost
	// since is where a one-shot projection's store began loading (history.OpenSince);
	// zero when it loaded all it keeps.
	since time.Time
}

// openHistory opens the file --history names (default: one per gateway under
// $XDG_STATE_HOME/quotatop; for the demo a throwaway file seeded with an hour of past
// samples). A file that cannot be used is reported and the monitor runs without history.
func openHistory(cfg config, g *gateway, getenv func(string) string, stderr io.Writer) *historyFile {
	if cfg.history == "off" {
		return nil
	}
	h := &historyFile{warn: stderr}
	path := cfg.history
	switch {
	case path != "":
	case cfg.demo:
		dir, err := os.MkdirTemp("", "quotatop-demo-history-")
		if err != nil {
			h.problem = fmt.Sprintf("history: cannot create a directory for the demo's history (%v); running without history", err)
			fmt.Fprintf(stderr, "quotatop: warning: %s\n", h.problem)
			return h
		}
		path, h.cleanup = filepath.Join(dir, "demo.db"), func() { os.RemoveAll(dir) }
	default:
		path = history.DefaultPath(getenv, g.reader.Address(), g.reader.Prefix())
	}
	now := time.Now()
	open := history.Open
	switch {
	case cfg.once && !report.Projects(cfg.output):
		open = history.OpenToRecord // the run records, and shows no projection
	case cfg.once:
		h.since = now.Add(-trend.DefaultOptions().Span - freshFor)
		open = func(path string, now time.Time) (*history.Store, error) { return history.OpenSince(path, now, h.since) }
	}
	store, err := open(path, now)
	if err != nil {
		h.problem = model.Sanitize(err.Error()) + "; running without history"
		fmt.Fprintf(stderr, "quotatop: warning: %s\n", h.problem)
		return h
	}
	h.store = store
	if cfg.demo && g.sim != nil && cfg.history == "" {
		for _, p := range g.sim.Past(now, time.Hour, time.Minute) {
			store.Record(p.Accounts, cfg.policy, p.At)
			store.Flush() // Record drops what the writer cannot take at once
		}
	}
	return h
}

// Record hands a poll to the store (tui.History).
func (h *historyFile) Record(accounts []model.Account, p model.Policy, now time.Time) {
	h.RecordChanged(accounts, nil, p, now)
}

// RecordChanged is Record told which accounts may have changed (tui.History).
func (h *historyFile) RecordChanged(accounts []model.Account, fresh []int32, p model.Policy, now time.Time) {
	if h != nil && h.store != nil {
		h.store.RecordChanged(accounts, fresh, p, now)
	}
}

// AppendSamples appends an account's recent samples to dst (tui.History).
func (h *historyFile) AppendSamples(dst []trend.Sample, id int64) []trend.Sample {
	if h == nil || h.store == nil {
		return dst
	}
	return h.store.AppendSamples(dst, id)
}

// Note says what is wrong with the history, "" when nothing is (tui.History).
func (h *historyFile) Note() string {
	switch {
	case h == nil:
		return ""
	case h.store == nil:
		return h.problem
	}
	return h.store.Note()
}

// freshFor is how old a snapshot may be for a one-shot projection to find every sample
// its rate needs among those since the rate's span and freshFor before now; the few
// accounts with older snapshots have theirs loaded apart.
const freshFor = 10 * time.Minute

// project fills the rows' forecasts from the history and returns the groups' capacity.
func (h *historyFile) project(accounts []model.Account, rows []report.Row, p model.Policy, now time.Time) []trend.Group {
	var samples trend.SampleSource
	if h != nil && h.store != nil {
		if !h.since.IsZero() {
			h.loadEarlier(accounts)
		}
		samples = h.store.AppendSamples
	}
	return report.Project(rows, samples, p, now)
}

// loadEarlier loads the samples from before since of the accounts whose rate reaches
// back that far: a rate spans an hour back from the snapshot it ends with.
func (h *historyFile) loadEarlier(accounts []model.Account) {
	span := trend.DefaultOptions().Span
	var ids []int64
	for i := range accounts {
		if q := accounts[i].Quota; q != nil && q.HasUpdatedAt && q.UpdatedAt.Add(-span).Before(h.since) {
			ids = append(ids, accounts[i].ID)
		}
	}
	if err := h.store.LoadEarlier(ids); err != nil {
		fmt.Fprintf(h.warn, "quotatop: warning: history: cannot read the earlier samples of %d account(s) with older snapshots (%s); their projections may say there is not enough history\n",
			len(ids), model.OutsideText(err.Error()))
	}
}

// flush writes the recorded poll in one attempt and closes the file (a one-shot run ends
// right after), saying how many samples were not recorded and why.
func (h *historyFile) flush() {
	if h == nil || h.store == nil {
		return
	}
	h.closed = true
	if err := h.store.Close(); err != nil {
		fmt.Fprintf(h.warn, "quotatop: warning: %s\n", model.OutsideText(err.Error()))
	}
}

// openHistoryAsync opens the history on a goroutine of its own; the function it returns
// waits for it. What opening says goes to stderr when it is waited for, not in the middle
// of another message.
func openHistoryAsync(cfg config, g *gateway, getenv func(string) string, stderr io.Writer) func() *historyFile {
	var said bytes.Buffer
	done := make(chan *historyFile, 1)
	go func() { done <- openHistory(cfg, g, getenv, &said) }()
	return sync.OnceValue(func() *historyFile {
		h := <-done
		stderr.Write(said.Bytes())
		if h != nil {
			h.warn = stderr
		}
		return h
	})
}

func (h *historyFile) close() {
	if h == nil {
		return
	}
	// The monitor and watch write their last samples here, after the screen is gone:
	// what they could not record is said as a one-shot run says it.
	if h.store != nil {
		if err := h.store.Close(); err != nil && !h.closed && h.warn != nil {
			fmt.Fprintf(h.warn, "quotatop: warning: %s\n", model.OutsideText(err.Error()))
		}
	}
	if h.cleanup != nil {
		h.cleanup()
	}
}
