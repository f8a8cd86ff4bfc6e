// Package history keeps every change of every account's quota snapshot in an embedded
// SQLite file, so rates and projections survive restarts and a cron job running
// `quotatop --once` builds history too. Writes happen on a goroutine of their own: a poll
// hands its accounts over and goes on; if the writer is behind, the poll's batch is
// dropped and counted (the next poll's changes are still caught, since changes are found
// by comparing with the last recorded sample).
package history

import (
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/quotatop/quotatop/model"
	"github.com/quotatop/quotatop/trend"
	_ "modernc.org/sqlite" // pure Go: release builds stay static with CGO_ENABLED=0
)

// Retention: every sample for Full, then one per account per hour until Keep.
const (
	Full = 48 * time.Hour
	Keep = 8 * 24 * time.Hour
)

// Recent is how much history is kept in memory for rates and sparklines.
const Recent = 2 * time.Hour

// busyTimeout is how long a write waits for another writer's lock before it fails (and
// is retried with the next poll).
var busyTimeout = 5 * time.Second

// queueLen is how many polls may wait for the writer before one is dropped.
const queueLen = 4

// maxPending bounds the samples kept for a retry while the file cannot be written.
const maxPending = 200_000

// retainEvery is how often the writer applies the retention.
const retainEvery = 10 * time.Minute

// Store is one history file and its writer.
type Store struct {
	path string
	db   *sql.DB

	queue   chan job
	done    chan struct{}
	dropped atomic.Int64

	mu sync.RWMutex
	// accounts are indexed by ID in index: one small struct an account, its samples
	// packed, since a live monitor keeps them for every account.
	index    map[int64]int32
	accounts []account
	// names are the states of packed samples, by index (stateIndexes is the reverse).
	names        []model.State
	stateIndexes map[model.State]uint16
	// problem is the last write error, "" once a write succeeds again.
	problem string
	failed  int64 // samples lost to write errors since the last good write

	states     map[model.State]int64 // the file's codes (writer only)
	lastRetain time.Time
}

type job struct {
	accounts []model.Account
	policy   model.Policy
	now      time.Time
	flushed  chan struct{} // closed when everything before it is written
}

// Open opens (creating if needed) the history file at path and loads the recent samples.
// An error says in one sentence what is wrong with the file.
func Open(path string, now time.Time) (*Store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("history: cannot create the directory for %s: %w", path, err)
	}
	q := url.Values{}
	for _, p := range []string{fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()), "journal_mode(WAL)", "synchronous(NORMAL)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("history: cannot open %s: %w", path, err)
	}
	// One connection: the writer is the only user, and pragmas hold per connection.
	db.SetMaxOpenConns(1)
	s := &Store{path: path, db: db, queue: make(chan job, queueLen), done: make(chan struct{}),
		index: map[int64]int32{}, stateIndexes: map[model.State]uint16{}, states: map[model.State]int64{}}
	if err := s.init(now); err != nil {
		db.Close()
		return nil, explain(path, err)
	}
	go s.write()
	return s, nil
}

// explain turns SQLite's errors about the file into a sentence an operator can act on.
func explain(path string, err error) error {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "not a database"), strings.Contains(msg, "malformed"), strings.Contains(msg, "corrupt"):
		return fmt.Errorf("history file %s is damaged or not a quotatop history (%v): move it away or run with --history off", path, err)
	case strings.Contains(msg, "locked"), strings.Contains(msg, "busy"):
		return fmt.Errorf("history file %s is locked by another program (%v): try again or run with --history off", path, err)
	}
	return fmt.Errorf("history file %s cannot be used (%v): check its permissions or run with --history off", path, err)
}

// Path is the file the store writes.
func (s *Store) Path() string { return s.path }

// Record hands a poll's accounts to the writer without waiting; when the writer is
// behind, the batch is dropped and counted. The accounts must not change afterwards.
func (s *Store) Record(accounts []model.Account, p model.Policy, now time.Time) {
	select {
	case s.queue <- job{accounts: accounts, policy: p, now: now}:
	default:
		s.dropped.Add(1)
	}
}

// Flush waits until every batch handed over so far is written.
func (s *Store) Flush() {
	j := job{flushed: make(chan struct{})}
	s.queue <- j
	<-j.flushed
}

// Dropped counts the polls not recorded because the writer was behind.
func (s *Store) Dropped() int64 { return s.dropped.Load() }

// Samples returns an account's recent samples (up to Recent before its newest), oldest
// first, in a slice of its own.
func (s *Store) Samples(id int64) []trend.Sample { return s.AppendSamples(nil, id) }

// AppendSamples appends an account's recent samples to dst: a caller projecting every
// account reuses one buffer rather than allocate a slice per account (10,000 accounts
// with two hours of samples were 30 MB of garbage per projection).
func (s *Store) AppendSamples(dst []trend.Sample, id int64) []trend.Sample {
	s.mu.RLock()
	defer s.mu.RUnlock()
	i, ok := s.index[id]
	if !ok || len(s.accounts[i].recent) == 0 {
		return dst
	}
	rs := s.accounts[i].recent
	n := len(dst)
	dst = slices.Grow(dst, len(rs))[:n+len(rs)]
	for k, p := range rs {
		s.unpack(p, &dst[n+k])
	}
	return dst
}

// Note is one sentence about a problem with the history, "" when all is well.
func (s *Store) Note() string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	n := ""
	if s.problem != "" {
		n = fmt.Sprintf("history: cannot write %s (%s); retrying with the next poll", s.path, s.problem)
		if s.failed > 0 {
			n += fmt.Sprintf(", %d sample(s) lost", s.failed)
		}
	}
	if d := s.dropped.Load(); d > 0 {
		if n != "" {
			n += "; "
		}
		n += fmt.Sprintf("history: %d poll(s) skipped while the writer was behind", d)
	}
	return n
}

// Close writes what is queued and closes the file.
func (s *Store) Close() error {
	s.Flush()
	close(s.queue)
	<-s.done
	return s.db.Close()
}

// write is the writer goroutine.
func (s *Store) write() {
	defer close(s.done)
	var pending []stored
	for j := range s.queue {
		if j.flushed != nil {
			close(j.flushed)
			continue
		}
		// Samples a failed write could not store wait for the next one.
		pending = append(pending, s.changes(j)...)
		if over := len(pending) - maxPending; over > 0 {
			pending = pending[over:]
			s.mu.Lock()
			s.failed += int64(over)
			s.mu.Unlock()
		}
		err := s.insert(pending)
		if err == nil {
			pending = pending[:0]
			if j.now.Sub(s.lastRetain) >= retainEvery {
				err = s.Retain(j.now)
				s.lastRetain = j.now
			}
		}
		s.mu.Lock()
		if err != nil {
			s.problem = model.Sanitize(err.Error())
		} else {
			s.problem, s.failed = "", 0
		}
		s.mu.Unlock()
	}
}

type stored struct {
	id int64
	p  packed
}

// changes finds the accounts whose snapshot changed since their last sample and adds
// their new samples to the recent ones.
func (s *Store) changes(j job) []stored {
	var out []stored
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range j.accounts {
		a := &j.accounts[i]
		if a.Invalid != "" || a.Quota == nil {
			continue
		}
		// Most snapshots did not change since the last poll: compare the stored values
		// before judging anything.
		key := snapshotKey(a.Quota)
		acc := &s.accounts[s.slot(a.ID)]
		if acc.snapshot == key {
			continue
		}
		acc.snapshot = key
		smp, _ := trend.SampleOf(a, model.Judge(a, j.policy, j.now), j.now)
		p := s.pack(smp)
		// The newest sample stands for the last one recorded: an older snapshot than
		// it is written (it is news to the file) but not remembered.
		if n := len(acc.recent); n > 0 {
			if last := acc.recent[n-1]; last == p || (!a.Quota.HasUpdatedAt && sameValues(last, p)) {
				continue
			}
		}
		acc.remember(p)
		out = append(out, stored{a.ID, p})
	}
	return out
}
