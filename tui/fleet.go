package tui

import (
	"cmp"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/quotatop/quotatop/model"
	"github.com/quotatop/quotatop/trend"
)

// row is one account and its judgement at the last tick.
type row struct {
	acc *model.Account
	j   model.Judgement
	// search is the lower-cased text the filter matches against, built once per poll.
	search string
	// f is the account's projection from the last poll (history.go); nil without one.
	f *trend.Forecast
}

// summary is what filtering and sorting read, kept apart from the (large) rows so that
// 100,000 of them fit in a few megabytes of cache-friendly memory.
type summary struct {
	severity int8
	used     [2]float32 // -1 when there is no live number
	age      int64      // -1 without a snapshot time
	reset    int64      // ns until the sooner reset; max when unknown
	pause    int64      // ns until the projected pause; max when none
	dry      int64      // ns until the first of the account's groups runs dry; max when none
	unused   float32    // points of quota left at a near reset (history.go)
}

// sortKey names an order of the table.
type sortKey int

const (
	sortSeverity sortKey = iota
	sortUsed5h
	sortUsed7d
	sortAge
	sortReset
	sortName
	sortID
	sortPause
	sortDry
	sortUnused
	sortKeys
)

var sortNames = [sortKeys]string{"severity", "5h %", "7d %", "snapshot age", "time to reset", "name", "id", "time to pause", "time to dry", "unused quota"}

// stateFilter narrows the table to a group of states.
type stateFilter int

const (
	showAll stateFilter = iota
	showAttention
	showPaused
	showStale
	showBlocked
	stateFilters
)

var stateFilterNames = [stateFilters]string{"all", "attention", "paused", "stale_probe", "blocked"}

func (f stateFilter) admits(s model.State) bool {
	switch f {
	case showAttention:
		return s != model.StateOK
	case showPaused:
		return s == model.StatePaused
	case showStale:
		return s == model.StateStaleProbe
	case showBlocked:
		return s == model.StateBlocked
	}
	return true
}

// Fleet is the table's data: every account, the filtered and sorted view of them, and
// the cursor and marks, which belong to account IDs so they survive polls, sorting and
// filtering.
type Fleet struct {
	rows   []row
	sums   []summary // parallel to rows: what filtering and sorting read
	view   []int     // indexes into rows, filtered and sorted
	packed []uint64  // sort keys packed with row indexes, reused between sorts
	counts map[model.State]int

	sortBy  sortKey
	reverse bool
	query   []string // lower-cased filter terms, all of which must match
	states  stateFilter

	// nextChange is when some row's judgement may next change; until then a tick only
	// moves ages, which are drawn from the clock.
	nextChange time.Time

	// dryAt is each group's dry time from the last poll's projections (history.go).
	dryAt map[string]time.Time

	cursorID  int64
	hasCursor bool
	cursorPos int // index in view, kept to place the cursor when its account vanishes
	marks     map[int64]bool
}

// NewFleet returns an empty fleet sorted by severity.
func NewFleet() *Fleet {
	return &Fleet{marks: map[int64]bool{}, counts: map[model.State]int{}}
}

// SetAccounts replaces the data with a new poll's accounts, judged at now.
func (f *Fleet) SetAccounts(accounts []model.Account, p model.Policy, now time.Time) {
	f.rows = make([]row, len(accounts))
	for i := range accounts {
		a := &accounts[i]
		f.rows[i] = row{acc: a, search: searchText(a)}
	}
	// ID order lets a row's index break sort ties (see rebuild).
	slices.SortFunc(f.rows, func(a, b row) int { return cmp.Compare(a.acc.ID, b.acc.ID) })
	live := make(map[int64]bool, len(accounts))
	for _, r := range f.rows {
		live[r.acc.ID] = true
	}
	for id := range f.marks {
		if !live[id] {
			delete(f.marks, id)
		}
	}
	f.Rejudge(p, now)
}

func searchText(a *model.Account) string {
	var b strings.Builder
	b.WriteString(strings.ToLower(a.DisplayName()))
	b.WriteString(" #" + strconv.FormatInt(a.ID, 10) + " " + strconv.FormatInt(a.ID, 10))
	b.WriteString(" " + strings.ToLower(a.Platform) + " " + strings.ToLower(a.Type))
	for _, g := range a.GroupIDs {
		b.WriteString(" g" + strconv.FormatInt(g, 10))
	}
	return b.String()
}

// Rejudge re-evaluates every account at now (snapshots age, windows reset, blocks
// expire) and rebuilds the view.
func (f *Fleet) Rejudge(p model.Policy, now time.Time) {
	clear(f.counts)
	if cap(f.sums) < len(f.rows) {
		f.sums = make([]summary, len(f.rows))
	}
	f.sums = f.sums[:len(f.rows)]
	f.nextChange = time.Time{}
	for i := range f.rows {
		r := &f.rows[i]
		r.j = model.Judge(r.acc, p, now)
		if t := model.NextChange(r.acc, p, now); !t.IsZero() && (f.nextChange.IsZero() || t.Before(f.nextChange)) {
			f.nextChange = t
		}
		f.counts[r.j.State]++
		f.sums[i] = summary{severity: int8(r.j.State.Severity()), used: [2]float32{float32(usedKey(r, 0)), float32(usedKey(r, 1))},
			age: int64(ageKey(r)), reset: int64(resetKey(r, now)), pause: int64(pauseKey(r, now)), dry: int64(f.dryKey(r, now)),
			unused: float32(unusedLeft(r))}
	}
	f.rebuild(now)
}

// Tick re-judges only when some account's judgement is due to change, and reports
// whether it did.
func (f *Fleet) Tick(p model.Policy, now time.Time) bool {
	if f.nextChange.IsZero() || now.Before(f.nextChange) {
		return false
	}
	f.Rejudge(p, now)
	return true
}

// rebuild filters and sorts, then puts the cursor back on its account. Sort keys are
// computed once per row rather than in a comparator called 1.7 million times.
func (f *Fleet) rebuild(now time.Time) {
	f.view = f.view[:0]
	for i := range f.rows {
		if f.admits(i) {
			f.view = append(f.view, i)
		}
	}
	sign := 1
	if f.reverse {
		sign = -1
	}
	if f.sortBy == sortName {
		slices.SortFunc(f.view, func(a, b int) int {
			ra, rb := &f.rows[a], &f.rows[b]
			if c := cmp.Compare(ra.acc.DisplayName(), rb.acc.DisplayName()); c != 0 {
				return sign * c
			}
			return sign * cmp.Compare(ra.acc.ID, rb.acc.ID)
		})
	} else {
		// Pack each row's key and index into one integer and sort those: no comparator
		// call and no pointer chasing, so 100,000 rows cost about as much as sorting
		// 100,000 numbers. Rows are in ID order, so the index breaks ties by ID.
		key := f.sortKeyFunc()
		f.packed = f.packed[:0]
		for _, i := range f.view {
			f.packed = append(f.packed, uint64(orderedBits(key(&f.sums[i], i)))<<32|uint64(i))
		}
		slices.Sort(f.packed)
		if f.reverse {
			slices.Reverse(f.packed)
		}
		for n, p := range f.packed {
			f.view[n] = int(uint32(p))
		}
	}
	f.placeCursor()
}

// orderedBits maps a float32 to a uint32 with the same order.
func orderedBits(f float32) uint32 {
	b := math.Float32bits(f)
	if b>>31 == 1 {
		return ^b
	}
	return b | 1<<31
}

// sortKeyFunc maps a row's summary to a number that sorts ascending in the chosen order.
func (f *Fleet) sortKeyFunc() func(s *summary, i int) float32 {
	switch f.sortBy {
	case sortUsed5h, sortUsed7d:
		w := int(f.sortBy - sortUsed5h)
		return func(s *summary, _ int) float32 { return -s.used[w] }
	case sortAge:
		return func(s *summary, _ int) float32 { return -float32(s.age / int64(time.Second)) }
	case sortReset:
		return func(s *summary, _ int) float32 { return float32(s.reset / int64(time.Second)) }
	case sortID:
		return func(_ *summary, _ int) float32 { return 0 } // rows are in ID order
	case sortPause:
		return func(s *summary, _ int) float32 { return float32(s.pause / int64(time.Second)) }
	case sortDry:
		return func(s *summary, _ int) float32 { return float32(s.dry / int64(time.Second)) }
	case sortUnused:
		return func(s *summary, _ int) float32 { return -s.unused }
	}
	// Severity, then the fuller account first.
	return func(s *summary, _ int) float32 {
		return float32(s.severity)*10000 - min(max(s.used[0], s.used[1], -1), 999)
	}
}

func (f *Fleet) admits(i int) bool {
	if f.states != showAll && !f.states.admits(model.States[f.sums[i].severity]) {
		return false
	}
	r := &f.rows[i]
	for _, term := range f.query {
		if !strings.Contains(r.search, term) && !strings.Contains(string(r.j.State), term) {
			return false
		}
	}
	return true
}

// usedKey sorts rows without a live number (no snapshot, window reset) last.
func usedKey(r *row, i int) float64 {
	w := &r.j.Windows[i]
	if !r.j.HasSnapshot || !w.Present || w.Reset {
		return -1
	}
	return w.UsedPercent
}

func ageKey(r *row) time.Duration {
	if !r.j.HasTimestamp {
		return -1
	}
	return r.j.Age
}

// resetKey is the time until the sooner of the two windows resets; unknown sorts last.
func resetKey(r *row, now time.Time) time.Duration {
	best := time.Duration(1<<62 - 1)
	for _, w := range r.j.Windows {
		if !w.ResetAt.IsZero() && !w.Reset {
			best = min(best, w.ResetAt.Sub(now))
		}
	}
	return best
}

func (f *Fleet) placeCursor() {
	if len(f.view) == 0 {
		return
	}
	if f.hasCursor {
		for i, ri := range f.view {
			if f.rows[ri].acc.ID == f.cursorID {
				f.cursorPos = i
				return
			}
		}
	}
	// The account vanished or was filtered out: stay at the same place in the list.
	f.cursorPos = min(max(f.cursorPos, 0), len(f.view)-1)
	f.cursorID, f.hasCursor = f.rows[f.view[f.cursorPos]].acc.ID, true
}

// Len is the number of rows shown.
func (f *Fleet) Len() int { return len(f.view) }

// Total is the number of accounts.
func (f *Fleet) Total() int { return len(f.rows) }

// Counts is accounts per state.
func (f *Fleet) Counts() map[model.State]int { return f.counts }

// Cursor is the row under the cursor.
func (f *Fleet) Cursor() (*row, bool) {
	if len(f.view) == 0 {
		return nil, false
	}
	return &f.rows[f.view[f.cursorPos]], true
}

// CursorPos is the cursor's index among the shown rows.
func (f *Fleet) CursorPos() int { return f.cursorPos }

// Row returns the i-th shown row.
func (f *Fleet) Row(i int) *row { return &f.rows[f.view[i]] }

// Move moves the cursor by delta rows, clamped.
func (f *Fleet) Move(delta int) {
	if len(f.view) == 0 {
		return
	}
	f.cursorPos = min(max(f.cursorPos+delta, 0), len(f.view)-1)
	f.cursorID, f.hasCursor = f.rows[f.view[f.cursorPos]].acc.ID, true
}

// SetQuery sets the filter text.
func (f *Fleet) SetQuery(q string, now time.Time) {
	f.query = strings.Fields(strings.ToLower(q))
	f.rebuild(now)
}

// CycleSort moves to the next sort order.
func (f *Fleet) CycleSort(now time.Time) {
	f.sortBy = (f.sortBy + 1) % sortKeys
	f.rebuild(now)
}

// ToggleReverse reverses the order.
func (f *Fleet) ToggleReverse(now time.Time) {
	f.reverse = !f.reverse
	f.rebuild(now)
}

// CycleStates moves to the next state filter.
func (f *Fleet) CycleStates(now time.Time) {
	f.states = (f.states + 1) % stateFilters
	f.rebuild(now)
}

// SortName describes the order.
func (f *Fleet) SortName() string {
	if f.reverse {
		return sortNames[f.sortBy] + " ↑"
	}
	return sortNames[f.sortBy] + " ↓"
}

// StatesName describes the state filter.
func (f *Fleet) StatesName() string { return stateFilterNames[f.states] }

// ToggleMark marks or unmarks the cursor's account.
func (f *Fleet) ToggleMark() {
	if r, ok := f.Cursor(); ok {
		if f.marks[r.acc.ID] {
			delete(f.marks, r.acc.ID)
		} else {
			f.marks[r.acc.ID] = true
		}
	}
}

// MarkShown marks every shown row.
func (f *Fleet) MarkShown() {
	for _, ri := range f.view {
		f.marks[f.rows[ri].acc.ID] = true
	}
}

// ClearMarks unmarks everything.
func (f *Fleet) ClearMarks() { clear(f.marks) }

// Marked reports whether an account is marked.
func (f *Fleet) Marked(id int64) bool { return f.marks[id] }

// Targets are the rows an action applies to: the marked ones, else the cursor's.
func (f *Fleet) Targets() []*row {
	var out []*row
	if len(f.marks) > 0 {
		for i := range f.rows {
			if f.marks[f.rows[i].acc.ID] {
				out = append(out, &f.rows[i])
			}
		}
		return out
	}
	if r, ok := f.Cursor(); ok {
		out = append(out, r)
	}
	return out
}

// Find returns the row of an account.
func (f *Fleet) Find(id int64) (*row, bool) {
	// Rows are in ID order: the detail view looks its account up every frame.
	i, ok := slices.BinarySearchFunc(f.rows, id, func(r row, id int64) int { return cmp.Compare(r.acc.ID, id) })
	if !ok {
		return nil, false
	}
	return &f.rows[i], true
}
