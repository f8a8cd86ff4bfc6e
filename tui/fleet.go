package tui

import (
	"cmp"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/quotatop/quotatop/model"
)

// entry is what the fleet keeps of one account. Its judgement is not kept: a row judges
// the account again, at the instant it was last judged, when it is drawn or acted on
// (100,000 kept judgements were 41 MB; a screen of rows is judged in microseconds).
type entry struct {
	acc *model.Account
	// at is when the account was last judged, in unix ns; with the fleet's policy it
	// gives the judgement back exactly.
	at int64
	// search is the lower-cased text the filter matches against, built once per poll.
	search string
	// dup names another storage key that claims the same account ID, "" when none: the
	// gateway's admin API addresses accounts by ID, so neither may be acted on.
	dup string
	// o is what the table keeps of the account's last projection (history.go).
	o outlook
}

// row is an entry with its judgement, as drawing and actions read it.
type row struct {
	*entry
	j model.Judgement
	// prov is another platform's usage judged with j (provider.go); nil without one.
	prov *model.ProviderJudgement
}

// judged is entry e judged under policy p at instant at. A value, not a pointer: rows
// are judged for every drawn line and poll, and need not outlive the caller.
func judged(e *entry, p model.Policy, at time.Time) row {
	r := row{entry: e, j: model.Judge(e.acc, p, at)}
	if pj, ok := model.JudgeProvider(e.acc, p, at); ok {
		r.prov = &pj
	}
	return r
}

// rowAt is entry i with the judgement it was last given.
func (f *Fleet) rowAt(i int) *row {
	r := f.rowValue(i)
	return &r
}

// rowValue is rowAt for callers that keep the row on their stack.
func (f *Fleet) rowValue(i int) row {
	e := &f.rows[i]
	return judged(e, f.policy, time.Unix(0, e.at))
}

// Entry returns the i-th shown account without judging it.
func (f *Fleet) Entry(i int) *entry { return &f.rows[f.view[i]] }

// summary is what filtering and sorting read, kept apart from the (large) rows so that
// 100,000 of them fit in a few megabytes of cache-friendly memory.
type summary struct {
	severity int8
	used     [2]float32 // -1 when there is no live number
	reasons  uint32     // model.ReasonMask of the judgement's reasons, for the filter
	taken    int64      // snapshot time in unix ns; noTime without one
	reset    int64      // sooner reset in unix ns; noTime when unknown
	// next is when the row's judgement may change (model.NextChange), unix ns; 0 never.
	next   int64
	pause  int64   // projected pause in unix ns; noTime when none (history.go)
	dry    int64   // first dry time of the account's groups in unix ns; noTime when none
	unused float32 // points of quota left at a near reset (history.go)
}

// negZero is -0 as a float32 (a constant expression cannot make one).
var negZero = float32(math.Copysign(0, -1))

// noTime marks an unknown instant in a summary. Times are stored absolute so that a
// summary stays right while the clock moves and the row is not judged again.
const noTime = math.MaxInt64

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
	rows []entry
	// policy is what every entry was last judged under (SetAccounts, Tick and Rejudge
	// judge them all again when it changes).
	policy model.Policy
	sums   []summary // parallel to rows: what filtering and sorting read
	view   []int     // indexes into rows, filtered and sorted
	// sorted are the last sort's keys packed with row indexes, ascending, for the rows
	// at sortedRows under sortedBy; spare is the other buffer the next sort fills.
	sorted, spare []uint64
	sortedRows    *entry
	sortedBy      sortKey
	inView        []bool
	moved         []uint64
	keys          []uint32 // each row's sort key, as orderedBits
	order         []int32  // row n shows accounts[order[n]] of the last poll
	pos           []int32  // the inverse: account i of the last poll is row pos[i]

	counts map[model.State]int

	sortBy  sortKey
	reverse bool
	query   []string // lower-cased filter terms, all of which must match
	// queryReasons is, per term, the mask of the reasons whose name contains it.
	queryReasons []uint32
	states       stateFilter

	// nextChange is when some row's judgement may next change; until then a tick only
	// moves ages, which are drawn from the clock.
	nextChange time.Time

	// dryAt is each group's dry time from the last poll's projections (history.go).
	dryAt map[string]time.Time

	// The cursor and marks follow storage keys: two keys may claim one account ID.
	cursorKey string
	hasCursor bool
	cursorPos int // index in view, kept to place the cursor when its account vanishes
	marks     map[string]bool
}

// NewFleet returns an empty fleet sorted by severity.
func NewFleet() *Fleet {
	return &Fleet{marks: map[string]bool{}, counts: map[model.State]int{}}
}

// SetAccounts replaces the data with a new poll's accounts, judged at now. An account
// whose stored value did not change since the last poll (same non-zero Rev) keeps its
// judgement, search text and summary; when none changed, filtering and sorting are not
// redone either, so an idle poll of 10,000 accounts costs one pass over the rows.
func (f *Fleet) SetAccounts(accounts []model.Account, p model.Policy, now time.Time) {
	f.SetPoll(accounts, nil, p, now)
}

// freshLimit is the share of a poll's accounts above which SetPoll is told nothing: past
// it, checking every row costs no more.
const freshLimit = 4

// freshIndexes lists the accounts a poll did not judge as the last one did, nil when the
// poll lists other keys or too many changed.
func freshIndexes(jd Judged, n int) []int32 {
	if !jd.Same || len(jd.Fresh) != n {
		return nil
	}
	fresh := []int32{}
	for i, f := range jd.Fresh {
		if f {
			if len(fresh) > len(jd.Fresh)/freshLimit {
				return nil
			}
			fresh = append(fresh, int32(i))
		}
	}
	return fresh
}

// SetPoll is SetAccounts told which accounts changed: fresh lists (as indexes into
// accounts) the ones not judged as in the last poll, which listed the same keys in the
// same order; nil says nothing is known. Then only those rows are judged again, and the
// others are not read at all: at 100,000 accounts, comparing every row was a tenth of
// the monitor's CPU.
func (f *Fleet) SetPoll(accounts []model.Account, fresh []int32, p model.Policy, now time.Time) {
	if fresh != nil && samePolicy(p, f.policy) && len(accounts) == len(f.rows) && len(f.order) == len(accounts) && len(f.pos) == len(accounts) {
		for n, i := range f.order {
			f.rows[n].acc = &accounts[i]
		}
		changed := false
		for _, i := range fresh {
			n := int(f.pos[i])
			e := &f.rows[n]
			if s := f.searchOf(e.acc); s != e.search {
				e.search, changed = s, true
			}
			old := f.sums[n]
			f.judge(n, p, now)
			changed = changed || f.sums[n] != old
		}
		if changed {
			f.settle(now)
		}
		return
	}
	if !samePolicy(p, f.policy) {
		f.rows, f.sums = nil, nil // judged under another policy: judge them all
		f.policy = p
	}
	// ID order lets a row's index break sort ties (see rebuild). Sort indexes, not rows.
	// A poll usually returns the same keys in the same order as the last one: then the
	// last order still sorts them, and checking that is cheaper than sorting 100,000.
	order := f.order
	if len(order) != len(accounts) || !sortedByID(accounts, order) {
		order = order[:0]
		for i := range accounts {
			order = append(order, int32(i))
		}
		slices.SortStableFunc(order, func(a, b int32) int { return compareAccounts(&accounts[a], &accounts[b]) })
		f.order = order
		f.pos = slices.Grow(f.pos[:0], len(order))[:len(order)]
		for n, i := range order {
			f.pos[i] = int32(n)
		}
	}

	if len(accounts) == len(f.rows) && sameIDs(accounts, order, f.rows) {
		// The same accounts in the same places, the usual poll: update the rows in place
		// rather than build a second set (100,000 rows are 47 MB).
		changed := false
		for n, i := range order {
			a, r := &accounts[i], &f.rows[n]
			same := a.Rev != 0 && r.acc.Rev == a.Rev
			r.acc = a
			if !same {
				r.search = f.searchOf(a)
				f.judge(n, p, now)
				changed = true
			}
		}
		if changed {
			f.settle(now)
		}
		return
	}

	old, oldSums := f.rows, f.sums
	f.rows, f.sums = make([]entry, len(accounts)), make([]summary, len(accounts))
	k := 0
	for n, i := range order {
		a := &accounts[i]
		for k < len(old) && compareAccounts(old[k].acc, a) < 0 {
			k++
		}
		if k < len(old) && a.Rev != 0 && old[k].acc.Rev == a.Rev && old[k].acc.ID == a.ID && old[k].acc.Key == a.Key {
			f.rows[n] = entry{acc: a, at: old[k].at, search: old[k].search, o: old[k].o}
			f.sums[n] = oldSums[k]
			k++
			continue
		}
		f.rows[n] = entry{acc: a, search: f.searchOf(a)}
		f.judge(n, p, now)
	}
	f.flagDuplicates()
	for key := range f.marks {
		if f.indexOfKey(key) < 0 {
			delete(f.marks, key)
		}
	}
	f.settle(now)
}

// compareAccounts is the rows' order: by ID, then by storage key.
func compareAccounts(a, b *model.Account) int {
	if c := cmp.Compare(a.ID, b.ID); c != 0 {
		return c
	}
	return cmp.Compare(a.Key, b.Key)
}

// flagDuplicates names, on each row whose ID another key also claims, that other key.
// Rows are in ID order, so claimants are neighbours.
func (f *Fleet) flagDuplicates() {
	for i := range f.rows {
		f.rows[i].dup = ""
		for _, j := range []int{i - 1, i + 1} {
			if j >= 0 && j < len(f.rows) && f.rows[j].acc.ID == f.rows[i].acc.ID {
				f.rows[i].dup = fmt.Sprintf("ID %d also in %s", f.rows[i].acc.ID, f.rows[j].acc.Key)
				break
			}
		}
	}
}

// sameIDs reports whether accounts, in order, hold the IDs of rows at the same places.
func sameIDs(accounts []model.Account, order []int32, rows []entry) bool {
	for n, i := range order {
		if accounts[i].ID != rows[n].acc.ID || accounts[i].Key != rows[n].acc.Key {
			return false
		}
	}
	return true
}

// sortedByID reports whether order lists accounts by ascending ID (ties in index order,
// as the stable sort leaves them).
func sortedByID(accounts []model.Account, order []int32) bool {
	for n := 1; n < len(order); n++ {
		a, b := &accounts[order[n-1]], &accounts[order[n]]
		if c := compareAccounts(a, b); c > 0 || (c == 0 && order[n-1] > order[n]) {
			return false
		}
	}
	return true
}

// searchOf is the account's search text while a filter is set, else "": 100,000 rows keep
// 9 MB of it, and a filter is set rarely (SetQuery makes them then).
func (f *Fleet) searchOf(a *model.Account) string {
	if len(f.query) == 0 {
		return ""
	}
	return searchText(a)
}

func searchText(a *model.Account) string {
	var b strings.Builder
	b.WriteString(strings.ToLower(a.DisplayName()))
	b.WriteString(" #" + strconv.FormatInt(a.ID, 10) + " " + strconv.FormatInt(a.ID, 10))
	p, t := strings.ToLower(a.Platform), strings.ToLower(a.Type)
	b.WriteString(" " + p + "/" + t) // as the table shows them; each alone matches too
	for _, g := range a.GroupIDs {
		b.WriteString(" g" + strconv.FormatInt(g, 10))
	}
	return b.String()
}

// judge judges row i at now under p (the fleet's policy) and refreshes its summary.
func (f *Fleet) judge(i int, p model.Policy, now time.Time) {
	e := &f.rows[i]
	e.at = now.UnixNano()
	rv := judged(e, p, now)
	r := &rv
	s := summary{severity: int8(r.j.State.Severity()), used: [2]float32{float32(usedKey(r, 0)), float32(usedKey(r, 1))},
		reasons: model.ReasonMask(r.j.Reasons), taken: noTime, reset: noTime}
	if t, ok := r.sampledAt(); ok {
		s.taken = t.UnixNano()
	}
	for i := range r.j.Windows {
		if w := r.window(i); !w.resetAt.IsZero() && !w.reset {
			s.reset = min(s.reset, w.resetAt.UnixNano())
		}
	}
	if t := model.NextChange(r.acc, p, now); !t.IsZero() {
		s.next = t.UnixNano()
	}
	f.sums[i] = s
	f.trendSums(i, r.j.State)
}

// settle recounts states, finds the next instant a judgement may change, and rebuilds
// the view, after some rows were judged.
func (f *Fleet) settle(now time.Time) {
	clear(f.counts)
	var next int64
	for i := range f.sums {
		s := &f.sums[i]
		f.counts[model.States[s.severity]]++
		if s.next != 0 && (next == 0 || s.next < next) {
			next = s.next
		}
	}
	f.nextChange = time.Time{}
	if next != 0 {
		f.nextChange = time.Unix(0, next)
	}
	f.rebuild(now)
}

// Rejudge re-evaluates every account at now (the policy changed, or a poll failed and
// the data ages) and rebuilds the view.
func (f *Fleet) Rejudge(p model.Policy, now time.Time) {
	f.policy = p
	for i := range f.rows {
		f.judge(i, p, now)
	}
	f.settle(now)
}

// Tick re-judges the rows whose judgement is due to change (a snapshot goes stale, a
// window resets, a block ends) and reports whether any was.
func (f *Fleet) Tick(p model.Policy, now time.Time) bool {
	if !samePolicy(p, f.policy) {
		f.Rejudge(p, now)
		return true
	}
	if f.nextChange.IsZero() || now.Before(f.nextChange) {
		return false
	}
	due := now.UnixNano()
	for i := range f.sums {
		if n := f.sums[i].next; n != 0 && n <= due {
			f.judge(i, p, now)
		}
	}
	f.settle(now)
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
		f.sortKeys(f.sortKeyFunc(now))
		for n, p := range f.sorted {
			if f.reverse {
				n = len(f.view) - 1 - n
			}
			f.view[n] = int(uint32(p))
		}
	}
	f.placeCursor()
}

// sortKeys sorts the view's rows by key into f.sorted. Between polls few rows change
// their key: when the view holds the same rows as at the last sort, the rows whose key
// did not move keep their order, and only the others are sorted and merged in. At
// 100,000 rows that is a tenth of sorting them all.
func (f *Fleet) sortKeys(key func(s *summary, i int) float32) {
	// Keys are made in row order, reading the summaries in the order they lie in memory;
	// the last order then reads only the keys (4 bytes a row).
	f.keys = slices.Grow(f.keys[:0], len(f.rows))[:len(f.rows)]
	for _, i := range f.view {
		f.keys[i] = orderedBits(key(&f.sums[i], i))
	}
	packed := func(i uint32) uint64 { return uint64(f.keys[i])<<32 | uint64(i) }
	last, out := f.sorted, f.spare[:0]
	same := len(f.rows) > 0 && f.sortedRows == &f.rows[0] && f.sortedBy == f.sortBy && len(last) == len(f.view)
	if same {
		f.inView = slices.Grow(f.inView[:0], len(f.rows))[:len(f.rows)]
		clear(f.inView)
		for _, i := range f.view {
			f.inView[i] = true
		}
		for _, p := range last {
			if !f.inView[uint32(p)] {
				same = false
				break
			}
		}
	}
	if !same {
		for _, i := range f.view {
			out = append(out, packed(uint32(i)))
		}
		slices.Sort(out)
	} else {
		moved := f.moved[:0]
		for _, p := range last {
			if q := packed(uint32(p)); q == p {
				out = append(out, q)
			} else {
				moved = append(moved, q)
			}
		}
		slices.Sort(moved)
		out = mergeSorted(out, moved)
		f.moved = moved
	}
	f.sorted, f.spare = out, last
	f.sortedBy = f.sortBy
	if len(f.rows) > 0 {
		f.sortedRows = &f.rows[0]
	}
}

// mergeSorted merges b into a, both ascending, in place at a's end.
func mergeSorted(a, b []uint64) []uint64 {
	if len(b) == 0 {
		return a
	}
	n := len(a)
	a = append(a, b...)
	// From the back: the largest goes last, so a's unread part is never overwritten.
	i, j := n-1, len(b)-1
	for k := len(a) - 1; j >= 0; k-- {
		if i >= 0 && a[i] > b[j] {
			a[k] = a[i]
			i--
		} else {
			a[k] = b[j]
			j--
		}
	}
	return a
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
func (f *Fleet) sortKeyFunc(at time.Time) func(s *summary, i int) float32 {
	now := at.UnixNano()
	switch f.sortBy {
	case sortUsed5h, sortUsed7d:
		w := int(f.sortBy - sortUsed5h)
		return func(s *summary, _ int) float32 { return -s.used[w] }
	case sortAge:
		return func(s *summary, _ int) float32 {
			if s.taken == noTime {
				return negZero // what an age under a second gives: they tie, by ID
			}
			return -float32((now - s.taken) / int64(time.Second))
		}
	case sortReset:
		return func(s *summary, _ int) float32 {
			if s.reset == noTime {
				return float32(noTime / int64(time.Second))
			}
			return float32((s.reset - now) / int64(time.Second))
		}
	case sortID:
		return func(_ *summary, _ int) float32 { return 0 } // rows are in ID order
	case sortPause, sortDry:
		pause := f.sortBy == sortPause
		return func(s *summary, _ int) float32 {
			at := s.dry
			if pause {
				at = s.pause
			}
			if at == noTime {
				return float32(noTime / int64(time.Second))
			}
			return float32(max(at-now, 0) / int64(time.Second))
		}
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
	for n, term := range f.query {
		if id, ok := idTerm(term); ok {
			// "#2" is account 2 only, never #20-#29: a probe without a dialog follows it
			if r.acc.ID != id {
				return false
			}
			continue
		}
		if !strings.Contains(r.search, term) && !strings.Contains(string(model.States[f.sums[i].severity]), term) &&
			f.sums[i].reasons&f.queryReasons[n] == 0 {
			return false
		}
	}
	return true
}

// idTerm reads a "#<id>" filter term.
func idTerm(term string) (int64, bool) {
	if len(term) < 2 || term[0] != '#' {
		return 0, false
	}
	id, err := strconv.ParseInt(term[1:], 10, 64)
	return id, err == nil
}

// usedKey sorts rows without a live number (no snapshot, window reset) last.
func usedKey(r *row, i int) float64 {
	w := r.window(i)
	if !w.present || w.reset {
		return -1
	}
	return w.used
}

func (f *Fleet) placeCursor() {
	if len(f.view) == 0 {
		return
	}
	if f.hasCursor {
		for i, ri := range f.view {
			if f.rows[ri].acc.Key == f.cursorKey {
				f.cursorPos = i
				return
			}
		}
	}
	// The account vanished or was filtered out: stay at the same place in the list.
	f.cursorPos = min(max(f.cursorPos, 0), len(f.view)-1)
	f.cursorKey, f.hasCursor = f.rows[f.view[f.cursorPos]].acc.Key, true
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
	return f.rowAt(f.view[f.cursorPos]), true
}

// CursorPos is the cursor's index among the shown rows.
func (f *Fleet) CursorPos() int { return f.cursorPos }

// Row returns the i-th shown row.
func (f *Fleet) Row(i int) *row { return f.rowAt(f.view[i]) }

// Move moves the cursor by delta rows, clamped.
func (f *Fleet) Move(delta int) {
	if len(f.view) == 0 {
		return
	}
	f.cursorPos = min(max(f.cursorPos+delta, 0), len(f.view)-1)
	f.cursorKey, f.hasCursor = f.rows[f.view[f.cursorPos]].acc.Key, true
}

// SetQuery sets the filter text.
func (f *Fleet) SetQuery(q string, now time.Time) {
	f.query = strings.Fields(strings.ToLower(q))
	f.queryReasons = f.queryReasons[:0]
	for _, term := range f.query {
		f.queryReasons = append(f.queryReasons, model.ReasonsContaining(term))
	}
	for i := range f.rows {
		if e := &f.rows[i]; (e.search == "") != (len(f.query) == 0) {
			e.search = f.searchOf(e.acc)
		}
	}
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
		if f.marks[r.acc.Key] {
			delete(f.marks, r.acc.Key)
		} else {
			f.marks[r.acc.Key] = true
		}
	}
}

// MarkShown marks every shown row.
func (f *Fleet) MarkShown() {
	for _, ri := range f.view {
		f.marks[f.rows[ri].acc.Key] = true
	}
}

// ClearMarks unmarks everything.
func (f *Fleet) ClearMarks() { clear(f.marks) }

// MarkCounts is how many accounts are marked and how many of them the filter hides: an
// action takes every mark, shown or not.
func (f *Fleet) MarkCounts() (marked, hidden int) {
	if len(f.marks) == 0 {
		return 0, 0
	}
	shown := 0
	for _, ri := range f.view {
		if f.marks[f.rows[ri].acc.Key] {
			shown++
		}
	}
	return len(f.marks), len(f.marks) - shown
}

// Marked reports whether the account at a storage key is marked.
func (f *Fleet) Marked(key string) bool { return f.marks[key] }

// Targets are the rows an action applies to: the marked ones, else the cursor's.
func (f *Fleet) Targets() []*row {
	var out []*row
	if len(f.marks) > 0 {
		for i := range f.rows {
			if f.marks[f.rows[i].acc.Key] {
				out = append(out, f.rowAt(i))
			}
		}
		return out
	}
	if r, ok := f.Cursor(); ok {
		out = append(out, r)
	}
	return out
}

// FindAt returns the row of account id read from key, by binary search (the detail
// view looks its account up every frame).
func (f *Fleet) FindAt(id int64, key string) (*row, bool) {
	i, _ := slices.BinarySearchFunc(f.rows, id, func(e entry, id int64) int { return cmp.Compare(e.acc.ID, id) })
	for ; i < len(f.rows) && f.rows[i].acc.ID == id; i++ {
		if f.rows[i].acc.Key == key {
			return f.rowAt(i), true
		}
	}
	return nil, false
}

// FindKey returns the row of the account at a storage key.
func (f *Fleet) FindKey(key string) (*row, bool) {
	if i := f.indexOfKey(key); i >= 0 {
		return f.rowAt(i), true
	}
	return nil, false
}

// indexOfKey is the index of the entry read from a storage key, -1 when none is.
func (f *Fleet) indexOfKey(key string) int {
	for i := range f.rows {
		if f.rows[i].acc.Key == key {
			return i
		}
	}
	return -1
}

// Find returns the row of an account (the first, should two keys claim its ID).
func (f *Fleet) Find(id int64) (*row, bool) {
	// Rows are in ID order: the detail view looks its account up every frame.
	i, ok := slices.BinarySearchFunc(f.rows, id, func(e entry, id int64) int { return cmp.Compare(e.acc.ID, id) })
	if !ok {
		return nil, false
	}
	return f.rowAt(i), true
}

// samePolicy reports whether two policies judge alike.
func samePolicy(a, b model.Policy) bool { return reflect.DeepEqual(a, b) }
