package history

import (
	"cmp"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/quotatop/quotatop/model"
	"github.com/quotatop/quotatop/trend"
)

// schema is documented in README ("History"). Rows are kept small because a 10,000
// account fleet writes millions of them: integers only (SQLite stores small ones in one
// to three bytes), the time first in the key so that rows are appended in order and pages
// stay full, and no rowid.
const schema = `
CREATE TABLE IF NOT EXISTS samples (
  at         INTEGER NOT NULL, -- snapshot time (codex_usage_updated_at, else poll time), unix seconds
  account_id INTEGER NOT NULL,
  used_5h    INTEGER,          -- used percent x 100; NULL when the window is not reported
  used_7d    INTEGER,
  resets     INTEGER NOT NULL, -- minutes from at to the 5h reset + 512 x minutes to the 7d reset
                               -- (511 and 16383: unknown); the view "readable" decodes it
  state      INTEGER NOT NULL, -- states.code
  PRIMARY KEY (at, account_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS hourly (
  at         INTEGER NOT NULL,
  account_id INTEGER NOT NULL,
  used_5h    INTEGER,
  used_7d    INTEGER,
  resets     INTEGER NOT NULL,
  state      INTEGER NOT NULL,
  PRIMARY KEY (at, account_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS states (code INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT OR IGNORE INTO meta VALUES ('schema', '1');
INSERT OR IGNORE INTO states VALUES (0,'ok'),(1,'warn'),(2,'paused'),(3,'stale_probe'),(4,'blocked'),(5,'error'),(6,'disabled'),(7,'invalid');
CREATE VIEW IF NOT EXISTS readable AS
  SELECT datetime(s.at, 'unixepoch') AS time, s.account_id,
         s.used_5h / 100.0 AS used_5h_percent,
         CASE WHEN s.resets % 512 = 511 THEN NULL ELSE datetime(s.at + 60 * (s.resets % 512), 'unixepoch') END AS reset_5h,
         s.used_7d / 100.0 AS used_7d_percent,
         CASE WHEN s.resets / 512 = 16383 THEN NULL ELSE datetime(s.at + 60 * (s.resets / 512), 'unixepoch') END AS reset_7d,
         st.name AS state, s.tier
  FROM (SELECT *, 'full' AS tier FROM samples UNION ALL SELECT *, 'hourly' AS tier FROM hourly) s
  LEFT JOIN states st ON st.code = s.state;
` + latestSchema

// latestSchema keeps each account's newest sample in a table of its own, so that a
// one-shot run that only records (it shows no projections) reads one row an account
// rather than every sample of the last two hours. A trigger keeps it, so every writer of
// the file does, whatever its version; a file made before it gets it, filled from the
// samples, the first time a newer quotatop opens it (latestFill).
const latestSchema = `
CREATE TABLE IF NOT EXISTS latest (
  account_id INTEGER PRIMARY KEY,
  at         INTEGER NOT NULL,
  used_5h    INTEGER,
  used_7d    INTEGER,
  resets     INTEGER NOT NULL,
  state      INTEGER NOT NULL
);
CREATE TRIGGER IF NOT EXISTS samples_latest AFTER INSERT ON samples BEGIN
  INSERT INTO latest (account_id, at, used_5h, used_7d, resets, state)
    VALUES (NEW.account_id, NEW.at, NEW.used_5h, NEW.used_7d, NEW.resets, NEW.state)
    ON CONFLICT (account_id) DO UPDATE SET at = excluded.at, used_5h = excluded.used_5h,
      used_7d = excluded.used_7d, resets = excluded.resets, state = excluded.state
    WHERE excluded.at >= latest.at;
END;
`

// latestFill fills the latest table of a file made before it from its samples.
const latestFill = `INSERT OR IGNORE INTO latest (account_id, at, used_5h, used_7d, resets, state)
  SELECT account_id, MAX(at), used_5h, used_7d, resets, state FROM samples GROUP BY account_id`

// The two reset times share one integer: a separate column each would cost 3 more bytes
// a row, and rows are what the 200 MB budget for 8 days of 10,000 accounts is made of.
const (
	resetBase    = 512   // minutes of the 5h reset live below this
	unknown5h    = 511   // the 5h reset is unknown
	unknown7d    = 16383 // the 7d reset is unknown
	maxMinutes5h = 510
	maxMinutes7d = 16382
	resetsMask   = resetBase*(unknown7d+1) - 1 // the bits both resets take
)

// packResets encodes a sample's reset times in minutes from its time.
func packResets(s trend.Sample) int64 {
	m := [2]int64{unknown5h, unknown7d}
	limit := [2]int64{maxMinutes5h, maxMinutes7d}
	for i := range m {
		if !s.ResetAt[i].IsZero() {
			m[i] = min(max(int64(math.Round(s.ResetAt[i].Sub(s.At).Minutes())), 0), limit[i])
		}
	}
	return m[0] + resetBase*m[1]
}

const columns = "at, account_id, used_5h, used_7d, resets, state"

// init makes sure the file is a quotatop history (creating the schema in an empty one),
// switches it to WAL and loads the samples of the last Recent.
func (s *Store) init(now time.Time) error {
	if err := s.ensureSchema(); err != nil {
		return err
	}
	// WAL lets two quotatops share the file. Only now: it changes the file's header, and
	// a file of another program must be left as it was.
	if _, err := s.db.Exec("PRAGMA journal_mode = WAL"); err != nil {
		return err
	}
	if err := s.addLatest(); err != nil {
		return err
	}
	rows, err := s.db.Query("SELECT code, name FROM states")
	if err != nil {
		return err
	}
	for rows.Next() {
		var code int64
		var name string
		if err := rows.Scan(&code, &name); err != nil {
			rows.Close()
			return err
		}
		s.states[model.State(name)] = code
	}
	rows.Close()
	if from := now.Add(-Recent); s.loadedFrom.Before(from) { // OpenSince may have set it later
		s.loadedFrom = from
	}
	return s.load(s.loadedFrom, now)
}

// notHistoryError says a file holds objects of its own and no quotatop schema: another
// program's database, which quotatop must not write to.
type notHistoryError struct{ kind, name string }

func (e notHistoryError) Error() string {
	return fmt.Sprintf("it holds the %s %q and no quotatop schema", e.kind, model.OutsideText(e.name))
}

// querier is what ensureSchema reads with: the database, or its transaction.
type querier interface {
	QueryRow(query string, args ...any) *sql.Row
}

// ensureSchema checks the file's schema version, and creates the schema in a file that
// has none and holds nothing else (a new or empty file). A file with objects of its own
// and no quotatop schema is refused untouched.
func (s *Store) ensureSchema() error {
	// First without a lock: the file is usually ours, and another program's is only read.
	if done, err := checkSchema(s.db); done || err != nil {
		return err
	}
	// One transaction, so that a second quotatop opening the same new file waits and
	// then finds the whole schema, never half of it.
	tx, err := s.db.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if done, err := checkSchema(tx); done || err != nil {
		return err
	}
	if _, err := tx.Exec(schema); err != nil {
		return err
	}
	return tx.Commit()
}

// checkSchema reports whether the file holds a schema this quotatop can use (done), an
// error when it holds one it cannot or objects of another program, and neither when the
// file holds nothing yet.
func checkSchema(q querier) (done bool, err error) {
	var v string
	err = q.QueryRow("SELECT value FROM meta WHERE key = 'schema'").Scan(&v)
	switch {
	case err == nil && v != "1":
		return false, fmt.Errorf("schema version %s is newer than this quotatop understands", model.OutsideText(v))
	case err == nil:
		return true, nil
	case troubleOf(err) != otherTrouble:
		return false, err // damaged or locked: not a question of whose file it is
	}
	// No meta table, one of another shape, or no schema row in it.
	var kind, name string
	err = q.QueryRow("SELECT type, name FROM sqlite_master ORDER BY type = 'table' DESC, rowid LIMIT 1").Scan(&kind, &name)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return false, nil
	case err != nil:
		return false, err
	}
	return false, notHistoryError{kind, name}
}

// addLatest gives a file made before the latest table that table.
func (s *Store) addLatest() error {
	var n int
	if err := s.db.QueryRow("SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name = 'samples_latest'").Scan(&n); err != nil || n > 0 {
		return err
	}
	tx, err := s.db.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, q := range []string{latestSchema, latestFill} {
		if _, err := tx.Exec(q); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// Samples are read back as text, six numbers a sample (the columns; "-" for a NULL used
// percent): through database/sql each row cost more than SQLite's work for it (10,000
// rows took 6.5 ms as rows, 2 ms as one text; a one-shot JSON document at 10,000 accounts
// with two hours of history spent 140 ms reading them as rows), and SQLite's own
// arithmetic on each row cost more than Go's.
const sampleText = `ifnull(group_concat(printf('%d %d %s %s %d %d', at, account_id,
  ifnull(used_5h, '-'), ifnull(used_7d, '-'), resets, state), ' '), '')`

// recentQuery reads the samples of [?1, ?2), in the key's order, which is time order;
// latestQuery each account's newest since ?1, whose text the fleet bounds, unlike the
// recent samples'.
const (
	recentQuery = `SELECT ` + sampleText + ` FROM samples WHERE at >= ?1 AND at < ?2`
	latestQuery = `SELECT ` + sampleText + ` FROM latest WHERE at >= ?1`
)

// recentSlice is how much time one recentQuery reads: at 100,000 accounts changing every
// 5 minutes, a text of about 0.7 MB. SQLite's allocator keeps what its largest texts took
// (10-minute slices left the live monitor 20 MB larger at 100,000 accounts), and more
// queries cost nothing the benchmarks could see.
const recentSlice = 60

// load reads the samples since from the file into memory, for rates right after a start.
// The samples are read in slices of time on a connection per core (WAL lets readers share
// the file; 2 h of 10,000 accounts took 122 ms on one), then taken in in time order.
func (s *Store) load(since, now time.Time) error {
	if s.newestOnly {
		return s.loadNewest(since)
	}
	// Up to now in slices, then whatever lies beyond it (a gateway's clock ahead of ours).
	var bounds [][2]int64
	from := since.Unix()
	for end := now.Unix(); from < end; from += recentSlice {
		bounds = append(bounds, [2]int64{from, min(from+recentSlice, end)})
	}
	bounds = append(bounds, [2]int64{from, math.MaxInt64})
	type read struct {
		at, id int64 // id becomes the account's slot once taken in
		used   [2]int32
		resets uint32
		code   int32
	}
	// Each slice's samples in chunks: growing one slice of 250,000 samples copies it again
	// and again, and doubling leaves up to half of it unused.
	got := make([][][]read, len(bounds))
	workers := min(runtime.GOMAXPROCS(0), maxLoaders, len(bounds))
	s.db.SetMaxOpenConns(workers)
	defer s.db.SetMaxOpenConns(1) // the writer's alone again
	var next atomic.Int32
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for k := int(next.Add(1)) - 1; k < len(bounds) && errs[w] == nil; k = int(next.Add(1)) - 1 {
				errs[w] = s.eachSample(recentQuery, func(at, id int64, used [2]int32, resets, code int64) {
					c := got[k]
					if len(c) == 0 || len(c[len(c)-1]) == cap(c[len(c)-1]) {
						c = append(c, make([]read, 0, 4096))
						got[k] = c
					}
					c[len(c)-1] = append(c[len(c)-1], read{at: at, id: id, used: used, resets: uint32(resets & resetsMask), code: int32(code)})
				}, bounds[k][0], bounds[k][1])
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	chunks := slices.Concat(got...) // in time order
	var counts []int32              // samples per slot, to allocate each account's once
	ordered, lastAt := true, int64(math.MinInt64)
	for _, slice := range chunks {
		for i := range slice {
			r := &slice[i]
			ordered, lastAt = ordered && r.at >= lastAt, r.at
			slot := s.slot(r.id)
			if int(slot) == len(counts) {
				counts = append(counts, 0)
			}
			counts[slot]++
			r.id = int64(slot)
		}
	}
	if !ordered { // SQLite reads the key in order; should it not, remember needs it
		all := slices.Concat(chunks...)
		slices.SortStableFunc(all, func(a, b read) int { return cmp.Compare(a.at, b.at) })
		chunks = [][]read{all}
	}
	for i, n := range counts {
		s.accounts[i].recent = make([]packed, 0, int(n)+headroom(int(n)))
	}
	names := s.stateNames()
	lastCode, lastIndex := int32(-1), uint16(0)
	for _, slice := range chunks {
		for _, r := range slice {
			// Nearly every sample has the state of the one before.
			if r.code != lastCode {
				lastCode, lastIndex = r.code, s.stateIndex(names[int64(r.code)])
			}
			s.accounts[r.id].remember(packed{at: r.at, used: r.used, resets: r.resets, state: lastIndex})
		}
	}
	return nil
}

// earlierQuery reads the samples of [?1, ?2) of the accounts in the JSON array ?3.
const earlierQuery = `SELECT ` + sampleText + ` FROM samples WHERE at >= ?1 AND at < ?2
  AND account_id IN (SELECT value FROM json_each(?3))`

// earlierSlice is how much time one earlierQuery reads: the accounts asked for are the
// few whose snapshots are old, so the texts stay small.
const earlierSlice = 10 * 60

// LoadEarlier adds to a store opened with OpenSince the samples of the accounts ids
// from before its start, as far back as Open would have read them.
func (s *Store) LoadEarlier(ids []int64) error {
	if len(ids) == 0 || !s.loadedFrom.After(s.openedAt.Add(-Recent)) {
		return nil
	}
	list, err := json.Marshal(ids)
	if err != nil {
		return err
	}
	older := map[int64][]packed{}
	names := s.stateNames()
	until := s.loadedFrom.Unix()
	for from := s.openedAt.Add(-Recent).Unix(); from < until; from += earlierSlice {
		err := s.eachSample(earlierQuery, func(at, id int64, used [2]int32, resets, code int64) {
			// The state's code for now: its index is taken under the lock below.
			older[id] = append(older[id], unpack(at, used, resets, uint16(code)))
		}, from, min(from+earlierSlice, until), string(list))
		if err != nil {
			return err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, ps := range older {
		for k := range ps {
			ps[k].state = s.stateIndex(names[int64(ps[k].state)])
		}
		// Taken in again in time order, as load takes them: remember keeps none older
		// than Recent before the newest.
		a := &s.accounts[s.slot(id)]
		merged := account{recent: ps[:0:0]}
		for _, p := range append(ps, a.recent...) {
			merged.remember(p)
		}
		a.recent = merged.recent
	}
	return nil
}

// maxLoaders bounds the connections load reads on.
const maxLoaders = 4

// loadNewest is load of each account's newest sample since since alone.
func (s *Store) loadNewest(since time.Time) error {
	names := s.stateNames()
	return s.eachSample(latestQuery, func(at, id int64, used [2]int32, resets, code int64) {
		a := &s.accounts[s.slot(id)]
		a.recent = make([]packed, 0, 1+headroom(1))
		a.remember(unpack(at, used, resets, s.stateIndex(names[code])))
	}, since.Unix())
}

// eachSample runs query, one of the sampleText queries, and calls f with each sample in
// the text's order: its time, account, used percents (x 100, noUse when absent), resets
// and state code.
func (s *Store) eachSample(query string, f func(at, id int64, used [2]int32, resets, state int64), args ...any) error {
	var text string
	if err := s.db.QueryRow(query, args...).Scan(&text); err != nil {
		return err
	}
	var row [6]int64
	for n := 0; text != ""; n++ {
		word, rest, _ := strings.Cut(text, " ")
		text = rest
		if word == "-" && (n%6 == 2 || n%6 == 3) {
			row[n%6] = math.MinInt64 // NULL
		} else {
			v, err := strconv.ParseInt(word, 10, 64)
			if err != nil {
				return fmt.Errorf("a sample reads back as %q: %w", model.OutsideText(word), err)
			}
			row[n%6] = v
		}
		if n%6 == 5 {
			f(row[0], row[1], [2]int32{storedUse(row[2]), storedUse(row[3])}, row[4], row[5])
		}
	}
	return nil
}

// storedUse is a used percent as the file holds it, clamped as pack does; noUse for NULL.
func storedUse(v int64) int32 {
	if v == math.MinInt64 {
		return noUse
	}
	return int32(min(max(v, -math.MaxInt32), math.MaxInt32))
}

// stateNames maps the file's state codes to states.
func (s *Store) stateNames() map[int64]model.State {
	names := map[int64]model.State{}
	for st, code := range s.states {
		names[code] = st
	}
	return names
}

// unpack is a sample as sampleText gives it, with its state's index.
func unpack(at int64, used [2]int32, resets int64, state uint16) packed {
	return packed{at: at, used: used, resets: uint32(resets & resetsMask), state: state}
}

// stateCode is the code of a state, adding codes for states a newer model knows.
func (s *Store) stateCode(tx *sql.Tx, st model.State) (int64, error) {
	if c, ok := s.states[st]; ok {
		return c, nil
	}
	if _, err := tx.Exec("INSERT OR IGNORE INTO states (code, name) VALUES ((SELECT COALESCE(MAX(code), -1) + 1 FROM states), ?)", string(st)); err != nil {
		return 0, err
	}
	var c int64
	if err := tx.QueryRow("SELECT code FROM states WHERE name = ?", string(st)).Scan(&c); err != nil {
		return 0, err
	}
	s.states[st] = c
	return c, nil
}

// insert writes one poll's new samples in one transaction. The same snapshot written by
// a second quotatop on the same file replaces itself rather than doubling.
func (s *Store) insert(rows []stored) error {
	if len(rows) == 0 {
		return nil
	}
	// The names as far as these rows need them: a poll adds names under s.mu meanwhile.
	s.mu.RLock()
	names := slices.Clone(s.names)
	s.mu.RUnlock()
	// In key order, rows land at the end of the table and pages stay full (out of order,
	// they split pages and leave them a third empty).
	slices.SortFunc(rows, func(a, b stored) int {
		if c := cmp.Compare(a.p.at, b.p.at); c != 0 {
			return c
		}
		return cmp.Compare(a.id, b.id)
	})
	tx, err := s.db.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	stmt, err := tx.Prepare("INSERT OR REPLACE INTO samples (" + columns + ") VALUES (?, ?, ?, ?, ?, ?)")
	if err != nil {
		return err
	}
	defer stmt.Close()
	for _, r := range rows {
		code, err := s.stateCode(tx, names[r.p.state])
		if err != nil {
			return err
		}
		var args [6]any
		args[0], args[1], args[4], args[5] = r.p.at, r.id, int64(r.p.resets), code
		for i, u := range r.p.used {
			if u != noUse {
				args[2+i] = int64(u)
			}
		}
		if _, err := stmt.Exec(args[:]...); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// Retain applies the retention at now: samples older than Full move to the hourly table,
// one per account per hour (the last of each hour), and hourly rows older than Keep go.
// It is idempotent, so two quotatops on one file may both run it.
func (s *Store) Retain(now time.Time) error {
	full, keep := now.Add(-Full).Unix(), now.Add(-Keep).Unix()
	// Whole hours only, so an hour is thinned once, with all its samples present.
	full -= full % 3600
	tx, err := s.db.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, q := range []string{
		// SQLite takes a bare column's values from the row that holds the MAX.
		`INSERT OR REPLACE INTO hourly (` + columns + `)
		   SELECT MAX(at), account_id, used_5h, used_7d, resets, state
		   FROM samples WHERE at < ?1 GROUP BY account_id, at / 3600 ORDER BY 1, 2`,
		`DELETE FROM samples WHERE at < ?1`,
		`DELETE FROM hourly WHERE at < ?2`,
		`DELETE FROM latest WHERE at < ?2`, // accounts gone for good
	} {
		if _, err := tx.Exec(q, full, keep); err != nil {
			return fmt.Errorf("retention: %w", err)
		}
	}
	return tx.Commit()
}
