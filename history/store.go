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
	"math"
	"net/url"
	"os"
	"path/filepath"
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

	mu     sync.RWMutex
	recent map[int64][]trend.Sample
	last   map[int64]trend.Sample // newest sample per account, to find changes
	raw    map[int64]rawKey       // the snapshot values last seen (writer only)
	// problem is the last write error, "" once a write succeeds again.
	problem string
	failed  int64 // samples lost to write errors since the last good write

	states     map[model.State]int64
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
		recent: map[int64][]trend.Sample{}, last: map[int64]trend.Sample{}, raw: map[int64]rawKey{}, states: map[model.State]int64{}}
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
// first. The slice is shared: callers must not change it.
func (s *Store) Samples(id int64) []trend.Sample {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.recent[id]
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
	s  trend.Sample
}

// changes finds the accounts whose snapshot changed since their last sample and adds
// their new samples to the recent ones.
func (s *Store) changes(j job) []stored {
	var out []stored
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range j.accounts {
		a := &j.accounts[i]
		if a.Invalid != "" {
			continue
		}
		if a.Quota == nil {
			continue
		}
		// Most snapshots did not change since the last poll: compare the stored values
		// before judging anything.
		raw := rawOf(a.Quota)
		if prev, ok := s.raw[a.ID]; ok && prev == raw {
			continue
		}
		s.raw[a.ID] = raw
		jd := model.Judge(a, j.policy, j.now)
		smp, _ := trend.SampleOf(a, jd, j.now)
		smp = normalize(smp)
		if prev, seen := s.last[a.ID]; seen && (prev.Same(smp) || (!a.Quota.HasUpdatedAt && sameValues(prev, smp))) {
			continue
		}
		s.last[a.ID] = smp
		s.remember(a.ID, smp)
		out = append(out, stored{a.ID, smp})
	}
	return out
}

// rawKey is what a snapshot stores that a sample depends on.
type rawKey struct {
	updatedAt int64
	has       bool
	windows   [2]model.WindowSnapshot
}

func rawOf(q *model.Quota) rawKey {
	return rawKey{updatedAt: q.UpdatedAt.UnixNano(), has: q.HasUpdatedAt, windows: q.Windows}
}

// sameValues ignores the time: a snapshot without one gets the poll's time each poll.
func sameValues(a, b trend.Sample) bool {
	b.At = a.At
	return a.Same(b)
}

// remember adds a sample to an account's recent ones, dropping those older than Recent
// before it. Slices handed out are never written to, only appended past their length.
func (s *Store) remember(id int64, smp trend.Sample) {
	rs := s.recent[id]
	if n := len(rs); n > 0 && smp.At.Before(rs[n-1].At) {
		return // an older snapshot than one already seen: not news
	}
	k := 0
	for k < len(rs) && smp.At.Sub(rs[k].At) > Recent {
		k++
	}
	s.recent[id] = append(rs[k:], smp)
}

// normalize keeps a sample at the precision the file stores, so that a sample read back
// equals the one written.
func normalize(s trend.Sample) trend.Sample {
	s.At = s.At.Truncate(time.Second).UTC()
	for i := range s.Used {
		s.Used[i] = math.Round(s.Used[i]*100) / 100
	}
	s.ResetAt = unpackResets(s.At, packResets(s))
	return s
}
