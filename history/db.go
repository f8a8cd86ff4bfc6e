package history

import (
	"cmp"
	"database/sql"
	"fmt"
	"math"
	"slices"
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
`

// The two reset times share one integer: a separate column each would cost 3 more bytes
// a row, and rows are what the 200 MB budget for 8 days of 10,000 accounts is made of.
const (
	resetBase    = 512   // minutes of the 5h reset live below this
	unknown5h    = 511   // the 5h reset is unknown
	unknown7d    = 16383 // the 7d reset is unknown
	maxMinutes5h = 510
	maxMinutes7d = 16382
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

// unpackResets is the inverse of packResets.
func unpackResets(at time.Time, v int64) [2]time.Time {
	var out [2]time.Time
	if m := v % resetBase; m != unknown5h {
		out[0] = at.Add(time.Duration(m) * time.Minute)
	}
	if m := v / resetBase; m != unknown7d {
		out[1] = at.Add(time.Duration(m) * time.Minute)
	}
	return out
}

const columns = "at, account_id, used_5h, used_7d, resets, state"

// init creates the schema when needed and loads the samples of the last Recent.
func (s *Store) init(now time.Time) error {
	var v string
	if err := s.db.QueryRow("SELECT value FROM meta WHERE key = 'schema'").Scan(&v); err == nil {
		if v != "1" {
			return fmt.Errorf("schema version %s is newer than this quotatop understands", v)
		}
	} else if _, err := s.db.Exec(schema); err != nil {
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
	return s.load(now.Add(-Recent))
}

// load reads the samples since from the file into memory, for rates right after a start.
func (s *Store) load(since time.Time) error {
	rows, err := s.db.Query("SELECT "+columns+" FROM samples WHERE at >= ? ORDER BY at", since.Unix())
	if err != nil {
		return err
	}
	defer rows.Close()
	names := map[int64]model.State{}
	for st, code := range s.states {
		names[code] = st
	}
	for rows.Next() {
		var at, id, resets, state int64
		var used [2]sql.NullInt64
		if err := rows.Scan(&at, &id, &used[0], &used[1], &resets, &state); err != nil {
			return err
		}
		smp := trend.Sample{At: time.Unix(at, 0).UTC(), State: names[state]}
		smp.ResetAt = unpackResets(smp.At, resets)
		for i := range used {
			smp.Present[i] = used[i].Valid
			smp.Used[i] = float64(used[i].Int64) / 100
		}
		s.last[id] = smp
		s.remember(id, smp)
	}
	return rows.Err()
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
	// In key order, rows land at the end of the table and pages stay full (out of order,
	// they split pages and leave them a third empty).
	slices.SortFunc(rows, func(a, b stored) int {
		if c := a.s.At.Compare(b.s.At); c != 0 {
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
		code, err := s.stateCode(tx, r.s.State)
		if err != nil {
			return err
		}
		var args [6]any
		args[0], args[1], args[4], args[5] = r.s.At.Unix(), r.id, packResets(r.s), code
		for i := range 2 {
			if r.s.Present[i] {
				args[2+i] = int64(math.Round(r.s.Used[i] * 100))
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
	} {
		if _, err := tx.Exec(q, full, keep); err != nil {
			return fmt.Errorf("retention: %w", err)
		}
	}
	return tx.Commit()
}
