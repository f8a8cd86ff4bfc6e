// Package history keeps every change of every account's quota snapshot in an embedded
// SQLite file, so rates and projections survive restarts and a cron job running
// `quotatop --once` builds history too. A poll finds which snapshots changed (comparing
// each with the last recorded one, in memory) and hands only those samples to a writer
// goroutine; it never waits for the file. Samples a write could not store wait for the
// next, up to a bound, unless the file is damaged: then writing stops.
package history

import (
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/quotatop/quotatop/model"
	"github.com/quotatop/quotatop/trend"
	"modernc.org/sqlite" // pure Go: release builds stay static with CGO_ENABLED=0
	sqlite3 "modernc.org/sqlite/lib"
)

// Retention: every sample for Full, then one per account per hour until Keep.
const (
	Full = 48 * time.Hour
	Keep = 8 * 24 * time.Hour
)

// Recent is how much history is kept in memory for rates and sparklines.
const Recent = 2 * time.Hour

// busyTimeout is how long a write waits for another writer's lock before it fails (and
// is retried with the next write).
var busyTimeout = 5 * time.Second

// walLimit is the size the WAL file is cut back to once a checkpoint has emptied it. One
// large transaction (the first poll of a large fleet, a backlog written after a lock,
// the first retention of a file left alone for a day) grows the WAL to its size, and
// SQLite otherwise keeps the file at that high-water mark. The auto-checkpoint's 1000
// pages are about this much, so the usual WAL is never cut and grown again.
var walLimit = 4 << 20

// maxPending bounds the samples kept for a retry while the file cannot be written.
const maxPending = 200_000

// retainEvery is how often the writer applies the retention.
const retainEvery = 10 * time.Minute

// Store is one history file and its writer.
type Store struct {
	path string
	db   *sql.DB

	wake    chan struct{}      // one pending signal: the backlog grew
	flushes chan chan struct{} // Flush's requests, answered once the backlog is written
	stop    chan struct{}      // closed by Close
	done    chan struct{}      // closed when the writer has ended

	mu sync.RWMutex
	// accounts are indexed by ID in index: one small struct an account, its samples
	// packed, since a live monitor keeps them for every account.
	index    map[int64]int32
	accounts []account
	// names are the states of packed samples, by index (stateIndexes is the reverse).
	names        []model.State
	stateIndexes map[model.State]uint16
	// backlog holds the samples found by Record and not yet written; lastPoll is the
	// newest poll's time, which paces the retention.
	backlog  []stored
	lastPoll time.Time
	// polledIDs and polledSlots are the last recorded poll's accounts and their slots.
	polledIDs   []int64
	polledSlots []int32
	// err is the last write error, nil once a write succeeds again; failed counts the
	// samples lost since the last good write.
	err    error
	failed int64
	// retried says every sample in the backlog has just failed a write: Close does not
	// spend another busy timeout on them unless a poll has added some since.
	retried bool
	// broken is set by an error no retry heals (a damaged file): from then on samples
	// are counted and dropped, not written.
	broken bool
	// unrecorded counts the samples that never reached the file, and whyLost is the
	// sentence saying why the last of them did not; Close reports both.
	unrecorded int64
	whyLost    error

	closeOnce sync.Once
	closeErr  error

	states     map[model.State]int64 // the file's codes (writer only)
	newestOnly bool                  // loaded each account's newest sample alone (OpenToRecord)
	openedAt   time.Time             // the now the store was opened at
	loadedFrom time.Time             // the samples from here on were loaded (later with OpenSince)
	lastRetain time.Time
}

// Open opens (creating if needed) the history file at path and loads the recent samples.
// An error says in one sentence what is wrong with the file; a database of another
// program (objects of its own, no quotatop schema) is refused and left as it was.
func Open(path string, now time.Time) (*Store, error) {
	return openStore(path, now, time.Time{}, false)
}

// OpenSince is Open for a caller that projects the fleet once and shows no sparkline: it
// loads the samples since since alone (a rate reaches an hour back from its snapshot,
// and most snapshots are minutes old), and LoadEarlier the rest of those whose snapshots
// are older. A one-shot JSON document with two hours of history at 10,000 accounts spent
// most of its time reading samples no rate used.
func OpenSince(path string, now, since time.Time) (*Store, error) {
	return openStore(path, now, since, false)
}

// OpenToRecord is Open for a caller that only records: it loads each account's newest
// recent sample alone, all Record compares with, so Samples and Changes know only those
// and projections need Open. A one-shot table at 10,000 accounts spent a third of its
// CPU loading samples it never showed.
func OpenToRecord(path string, now time.Time) (*Store, error) {
	return openStore(path, now, time.Time{}, true)
}

func openStore(path string, now, since time.Time, newestOnly bool) (*Store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("history: cannot create the directory for %s: %w", path, err)
	}
	q := url.Values{}
	// No journal_mode here: init switches the file to WAL once it knows the file is ours.
	for _, p := range []string{fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()), "synchronous(NORMAL)", fmt.Sprintf("journal_size_limit(%d)", walLimit)} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("history: cannot open %s: %w", path, err)
	}
	// One connection: the writer is the only user, and pragmas hold per connection.
	db.SetMaxOpenConns(1)
	s := &Store{path: path, db: db, wake: make(chan struct{}, 1), flushes: make(chan chan struct{}), stop: make(chan struct{}), done: make(chan struct{}),
		index: map[int64]int32{}, stateIndexes: map[model.State]uint16{}, states: map[model.State]int64{}, newestOnly: newestOnly,
		openedAt: now, loadedFrom: since}
	if err := s.init(now); err != nil {
		db.Close()
		return nil, explain(path, err)
	}
	go s.write()
	return s, nil
}

// explain turns SQLite's errors about the file into a sentence an operator can act on.
func explain(path string, err error) error {
	var foreign notHistoryError
	switch {
	case errors.As(err, &foreign):
		return fmt.Errorf("history file %s is not a quotatop history file (%v): give another --history path or run with --history off", path, err)
	case troubleOf(err) == damaged:
		return fmt.Errorf("history file %s is damaged or not a quotatop history (%v): move it away or run with --history off", path, err)
	case troubleOf(err) == locked:
		return fmt.Errorf("history file %s is locked by another program (%v): try again or run with --history off", path, err)
	}
	return fmt.Errorf("history file %s cannot be used (%v): check its permissions or run with --history off", path, err)
}

// trouble is what an error says about the file.
type trouble int

const (
	otherTrouble trouble = iota
	locked               // another program holds the file: a retry may succeed
	damaged              // not a database, or a damaged one: no retry ever succeeds
)

// troubleOf tells SQLite's result code where there is one, else reads the message.
func troubleOf(err error) trouble {
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff { // the primary code of an extended one
		case sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB:
			return damaged
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
			return locked
		}
	}
	msg := err.Error()
	switch {
	case strings.Contains(msg, "not a database"), strings.Contains(msg, "malformed"), strings.Contains(msg, "corrupt"):
		return damaged
	case strings.Contains(msg, "locked"), strings.Contains(msg, "busy"):
		return locked
	}
	return otherTrouble
}

// NotRecordedError is Close's report of the samples that never reached the file: a
// one-shot run prints it, since nothing else will say so before the process ends.
type NotRecordedError struct {
	Samples int64
	Err     error // why, as one sentence about the file
}

func (e *NotRecordedError) Error() string {
	return fmt.Sprintf("%d sample(s) not recorded: %v", e.Samples, e.Err)
}

func (e *NotRecordedError) Unwrap() error { return e.Err }

// Path is the file the store writes.
func (s *Store) Path() string { return s.path }

// Record finds the poll's changed snapshots and hands their samples to the writer without
// waiting for the file. It keeps nothing of accounts: the caller may reuse the slice.
func (s *Store) Record(accounts []model.Account, p model.Policy, now time.Time) {
	s.RecordChanged(accounts, nil, p, now)
}

// RecordChanged is Record told which accounts changed: fresh lists (as indexes into
// accounts) every account whose stored value may differ from the last poll's, which
// listed the same keys in the same order; nil says nothing is known. The others are not
// read at all.
func (s *Store) RecordChanged(accounts []model.Account, fresh []int32, p model.Policy, now time.Time) {
	rows := s.changes(accounts, fresh, p, now)
	s.mu.Lock()
	s.backlog = append(s.backlog, rows...)
	if len(rows) > 0 {
		s.retried = false
	}
	s.lastPoll = now
	s.trimBacklog()
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default: // the writer is already due to look
	}
}

// trimBacklog drops the oldest samples past maxPending (the file has been failing for a
// long while) and counts them as lost. The caller holds s.mu.
func (s *Store) trimBacklog() {
	if over := len(s.backlog) - maxPending; over > 0 {
		s.backlog = slices.Delete(s.backlog, 0, over)
		if s.err != nil {
			s.lose(over, explain(s.path, s.err))
		} else { // not failing: a poll brought more than the writer takes at once
			s.lose(over, fmt.Errorf("history file %s fell behind: more than %d samples waited to be written", s.path, maxPending))
		}
	}
}

// lose counts n samples that will never be written; why is the sentence saying why.
// The caller holds s.mu.
func (s *Store) lose(n int, why error) {
	if n == 0 {
		return
	}
	s.failed += int64(n)
	s.unrecorded += int64(n)
	s.whyLost = why
}

// Flush waits until every sample recorded so far is written (or its write failed). It
// makes one attempt, as every write does; after Close it returns at once.
func (s *Store) Flush() {
	done := make(chan struct{})
	select {
	case s.flushes <- done:
		<-done
	case <-s.done:
	}
}

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
	var n string
	switch {
	case s.err == nil:
		return ""
	case s.broken:
		n = fmt.Sprintf("%v; nothing more is written to it", explain(s.path, s.err))
		if s.failed > 0 {
			n += fmt.Sprintf(", %d sample(s) not recorded", s.failed)
		}
		return model.Sanitize(n)
	case troubleOf(s.err) == locked: // explain's advice (try again) is the writer's to follow
		n = fmt.Sprintf("history: cannot write %s (%v); retrying every %s", s.path, s.err, writeEvery)
	default:
		n = fmt.Sprintf("%v; retrying every %s", explain(s.path, s.err), writeEvery)
	}
	if s.failed > 0 {
		n += fmt.Sprintf(", %d sample(s) lost", s.failed)
	}
	return model.Sanitize(n)
}

// Close writes what is queued, in one attempt, and closes the file. When samples never
// reached the file (over the store's whole life) it returns a *NotRecordedError saying
// how many and why, for the caller to print: after Close nothing else will. A second
// Close returns what the first did.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		close(s.stop) // the writer writes what is left, then ends
		<-s.done
		err := s.db.Close()
		s.mu.RLock()
		if s.unrecorded > 0 {
			err = &NotRecordedError{Samples: s.unrecorded, Err: s.whyLost}
		}
		s.mu.RUnlock()
		s.closeErr = err
	})
	return s.closeErr
}

// writeEvery is how long the writer gathers polls into one transaction, and writeNow the
// backlog that is written at once. A transaction a poll wrote every page its samples
// touched to the WAL again: at 10,000 accounts with 20 snapshots changing a second, about
// 5 MB a minute for 2,400 samples. Close and Flush write at once; a crash loses at most
// this much (and Close makes one attempt: a process that is ending does not retry).
var writeEvery = 10 * time.Second

const writeNow = 20_000

// write is the writer goroutine.
func (s *Store) write() {
	defer close(s.done)
	gather := time.NewTimer(writeEvery)
	gather.Stop()
	gathering := false
	for {
		var flushed chan struct{}
		select {
		case <-s.wake:
			if s.backlogLen() < writeNow {
				if !gathering {
					gather.Reset(writeEvery)
					gathering = true
				}
				continue
			}
		case <-gather.C:
		case flushed = <-s.flushes:
		case <-s.stop:
			s.writeLast()
			return
		}
		if gathering {
			gather.Stop()
			gathering = false
		}
		s.writeBacklog()
		if flushed != nil {
			close(flushed)
		}
	}
}

// backlogLen is how many samples wait for the writer.
func (s *Store) backlogLen() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.backlog)
}

// writeBacklog writes the samples recorded so far in one transaction, and applies the
// retention when it is due. Samples a failed write could not store go back to the front
// of the backlog for the next try, unless the file is damaged: then they are dropped.
func (s *Store) writeBacklog() {
	s.mu.Lock()
	rows, now := s.backlog, s.lastPoll
	s.backlog = nil
	if s.broken {
		s.lose(len(rows), explain(s.path, s.err))
		s.mu.Unlock()
		return
	}
	s.mu.Unlock()
	if len(rows) == 0 && now.Sub(s.lastRetain) < retainEvery {
		return
	}
	if err := s.insert(rows); err != nil {
		s.writeFailed(rows, err)
		return
	}
	var err error
	if now.Sub(s.lastRetain) >= retainEvery {
		err = s.Retain(now)
		s.lastRetain = now
		s.forgetDeparted(now)
	}
	if err != nil {
		s.writeFailed(nil, err)
		return
	}
	s.mu.Lock()
	s.err, s.failed = nil, 0
	s.mu.Unlock()
}

// writeFailed keeps a failed write's rows for the next write, or, when err is one no
// retry heals, stops writing: the operator is told once (Note) and the samples are
// counted as they are dropped, rather than retried every writeEvery for ever.
func (s *Store) writeFailed(rows []stored, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.err = err
	if troubleOf(err) == damaged {
		s.broken = true
		s.lose(len(rows)+len(s.backlog), explain(s.path, err))
		s.backlog = nil
		return
	}
	s.retried = len(s.backlog) == 0 // no poll added samples during the write
	s.backlog = append(rows, s.backlog...)
	s.trimBacklog()
}

// writeLast is Close's write: one attempt, and none for samples whose write has just
// failed with nothing added since (a one-shot run's Flush spent the busy timeout on them
// already). What it cannot store is counted as not recorded.
func (s *Store) writeLast() {
	s.mu.RLock()
	retried := s.retried
	s.mu.RUnlock()
	if !retried {
		s.writeBacklog()
	}
	s.mu.Lock()
	if len(s.backlog) > 0 {
		err := s.err // set by the failed write that left them
		if err == nil {
			err = errors.New("recorded while the store closed")
		}
		s.lose(len(s.backlog), explain(s.path, err))
		s.backlog = nil
	}
	s.mu.Unlock()
}

// forgetDeparted lets go of the samples kept in memory for accounts the last poll did not
// list whose newest sample is older than Recent: a gateway that adds and deletes accounts
// would otherwise grow a long-running monitor by a few hundred bytes for every account it
// ever had. Their slot stays (slots are never reused), empty. The file keeps them until
// the retention drops them.
func (s *Store) forgetDeparted(now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	listed := make(map[int64]struct{}, len(s.polledIDs))
	for _, id := range s.polledIDs {
		listed[id] = struct{}{}
	}
	before := now.Add(-Recent).Unix()
	for id, slot := range s.index {
		a := &s.accounts[slot]
		if _, ok := listed[id]; ok || len(a.recent) == 0 || a.recent[len(a.recent)-1].at >= before {
			continue
		}
		*a = account{}
	}
}

type stored struct {
	id int64
	p  packed
}

// changes finds the accounts whose snapshot changed since their last sample and adds
// their new samples to the recent ones.
func (s *Store) changes(accounts []model.Account, fresh []int32, p model.Policy, now time.Time) []stored {
	var out []stored
	s.mu.Lock()
	defer s.mu.Unlock()
	if fresh != nil && len(s.polledIDs) == len(accounts) {
		for _, i := range fresh {
			out = s.change(out, &accounts[i], int(i), p, now)
		}
		return out
	}
	// A poll usually lists the same IDs in the same order as the last: then each
	// account's slot is where it was, without a map lookup.
	sameOrder := slices.EqualFunc(accounts, s.polledIDs, func(a model.Account, id int64) bool { return a.ID == id })
	if !sameOrder {
		s.polledIDs, s.polledSlots = s.polledIDs[:0], s.polledSlots[:0]
		for i := range accounts {
			s.polledIDs, s.polledSlots = append(s.polledIDs, accounts[i].ID), append(s.polledSlots, -1)
		}
	}
	for i := range accounts {
		out = s.change(out, &accounts[i], i, p, now)
	}
	return out
}

// change adds account a's sample to out when its snapshot changed since its last one; i
// is its place in the poll. The caller holds s.mu.
func (s *Store) change(out []stored, a *model.Account, i int, p model.Policy, now time.Time) []stored {
	if a.Invalid != "" || a.Quota == nil {
		return out
	}
	if s.polledSlots[i] < 0 { // found once, then kept (slots are never reused)
		s.polledSlots[i] = s.slot(a.ID)
	}
	acc := &s.accounts[s.polledSlots[i]]
	// Most snapshots did not change since the last poll: the same stored value (Rev)
	// holds the same snapshot; else compare the snapshot's values before judging.
	if a.Rev != 0 && a.Rev == acc.rev {
		return out
	}
	acc.rev = a.Rev
	key := snapshotKey(a.Quota)
	if acc.snapshot == key {
		return out
	}
	acc.snapshot = key
	smp, _ := trend.SampleOf(a, model.Judge(a, p, now), now)
	pk := s.pack(smp)
	// The newest sample stands for the last one recorded: an older snapshot than
	// it is written (it is news to the file) but not remembered.
	if n := len(acc.recent); n > 0 {
		if last := acc.recent[n-1]; last == pk || (!a.Quota.HasUpdatedAt && sameValues(last, pk)) {
			return out
		}
	}
	acc.remember(pk)
	return append(out, stored{a.ID, pk})
}
