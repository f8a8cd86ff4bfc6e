package tui

import (
	"math"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/quotatop/quotatop/demo"
	"github.com/quotatop/quotatop/model"
	"github.com/quotatop/quotatop/trend"
)

// fakeHistory is a fixed set of samples.
type fakeHistory struct {
	samples  map[int64][]trend.Sample
	recorded int
}

func (h *fakeHistory) RecordChanged([]model.Account, []int32, model.Policy, time.Time) {
	h.recorded++
}
func (h *fakeHistory) AppendSamples(dst []trend.Sample, id int64) []trend.Sample {
	return append(dst, h.samples[id]...)
}
func (h *fakeHistory) Note() string { return "" }

// demoHistory is the hour of samples the demo seeds its history with.
func demoHistory(now time.Time) *fakeHistory {
	h := &fakeHistory{samples: map[int64][]trend.Sample{}}
	for _, p := range demo.NewSim(demo.Fleet(now), nil, "sched:").Past(now, time.Hour, time.Minute) {
		for i := range p.Accounts {
			a := &p.Accounts[i]
			if s, ok := trend.SampleOf(a, model.Judge(a, model.DefaultPolicy(), p.At), p.At); ok {
				h.samples[a.ID] = append(h.samples[a.ID], s)
			}
		}
	}
	return h
}

func rowLine(t *testing.T, screen, name string) string {
	t.Helper()
	for _, l := range strings.Split(screen, "\n") {
		if strings.Contains(l, name) {
			return l
		}
	}
	t.Fatalf("no row %s in:\n%s", name, screen)
	return ""
}

func TestETAColumnAndPauseSort(t *testing.T) {
	m := newTestModel(t, 80, 24, false)
	// Sort by time to pause: the busiest accounts near their thresholds first.
	for m.fleet.SortName() != "time to pause ↓" {
		m = keys(t, m, "s")
	}
	m = keys(t, m, "g")
	out := view(m)
	if !strings.Contains(out, "ETA") {
		t.Fatalf("no ETA column at 80 columns:\n%s", out)
	}
	first := rowLine(t, out, "codex-plus-19")
	plus19, _ := findName(m, "codex-plus-19")
	if !strings.Contains(first, " 6m ") || pauseAt(m.fleet.Row(0).entry, m.fleet.Row(0).j.State) > pauseAt(plus19.entry, plus19.j.State) {
		t.Fatalf("time to pause order or ETA: first %s, row %q\n%s", m.fleet.Row(0).acc.Name, first, out)
	}
	if r := rowLine(t, out, "codex-pro-18"); !strings.Contains(r, " 10h ") {
		t.Fatalf("a long ETA does not fit its column: %q", r)
	}
	if r := rowLine(t, out, "codex-eu-41"); !strings.Contains(r, " 19m ") {
		t.Fatalf("codex-eu-41 has no ETA: %q", r)
	}
	// Groups with no account schedulable now come before the next one due; at 80
	// columns both are said, shorter (groups dry for good hid the next one).
	if !strings.Contains(out, "· 2 dry · g4/openai ~10:4") {
		t.Fatalf("at 80 columns the header does not say that groups are dry now and which runs dry next:\n%s", out)
	}
	if wide := view(newTestModel(t, 160, 24, false)); !strings.Contains(wide, "2 groups dry now · g4/openai dry ~10:4") {
		t.Fatalf("at 160 columns the header does not also name the group that runs dry next:\n%s", wide)
	}
}

func TestGroupView(t *testing.T) {
	m := newTestModel(t, 80, 24, false)
	m = keys(t, m, "t")
	out := view(m)
	lines := strings.Split(out, "\n")
	if !strings.HasPrefix(lines[0], "Groups") || !strings.HasPrefix(lines[4], "g4       openai") || !strings.Contains(lines[4], "~10:4") || !strings.HasSuffix(strings.TrimSpace(lines[2]), "now") {
		t.Fatalf("the dry buckets, then group 4 (runs dry next) with its dry time:\n%s", out)
	}
	if f := strings.Fields(lines[4]); f[2] != "3" || f[3] != "3" || f[6] != "0" {
		t.Fatalf("group 4 counts: %v", f)
	}
	if len(lines) != 24 {
		t.Fatalf("%d lines", len(lines))
	}
	// At 80 columns the legend still says what the +1H..+5H columns count, uncut.
	if legend := lines[len(lines)-3]; !strings.Contains(legend, "+1H..+5H: schedulable then") || strings.Contains(legend, "…") {
		t.Fatalf("legend at 80 columns: %q", legend)
	}
	m = keys(t, m, "esc")
	if m.screen != screenTable {
		t.Fatal("esc does not leave the group view")
	}
}

func TestDetailSaysWhereItIsHeading(t *testing.T) {
	m := newTestModel(t, 120, 40, false)
	m = keys(t, m, "/")
	for _, r := range "codex-eu-41" {
		m = keys(t, m, string(r))
	}
	m = keys(t, m, "enter", "enter")
	out := view(m)
	for _, want := range []string{"Where it is heading", "an hour over", "reaches 95% (its pause threshold) at 10:", "Group 4 for openai (3 of 3 accounts schedulable now) runs dry ~10:"} {
		if !strings.Contains(out, want) {
			t.Fatalf("detail lacks %q:\n%s", want, out)
		}
	}
	if !strings.ContainsAny(out, "⣤⣦⣶⣷⣿") {
		t.Fatalf("no sparkline:\n%s", out)
	}
}

func TestUnusedSort(t *testing.T) {
	m := newTestModel(t, 80, 24, false)
	for m.fleet.SortName() != "unused quota ↓" {
		m = keys(t, m, "s")
	}
	idle, ok := findName(m, "codex-idle-44")
	if !ok || unusedLeft(idle.entry, idle.j.State) < 80 {
		t.Fatalf("codex-idle-44 (12%% used, resets in 40m) is not unused: %v", unusedLeft(idle.entry, idle.j.State))
	}
	// Most left first; accounts with nothing going unused last.
	prev := 1000.0
	for i := range m.fleet.Len() {
		r := m.fleet.Row(i)
		left := unusedLeft(r.entry, r.j.State)
		if left > prev {
			t.Fatalf("row %d (%s) has %v left after %v", i, m.fleet.Row(i).acc.Name, left, prev)
		}
		prev = left
	}
}

// A poll's projection records the poll, and keeps of each account's forecast exactly what
// the table and the events read: the outlook, and the windows' crossing times.
func TestProjectRecords(t *testing.T) {
	h := demoHistory(t0)
	accounts := demo.Accounts(t0)
	p := model.DefaultPolicy()
	js := judgeAll(accounts, p, t0)
	tr := project(h, accounts, nil, js, p, t0)
	if h.recorded != 1 || len(tr.groups) == 0 {
		t.Fatalf("recorded %d, %d groups", h.recorded, len(tr.groups))
	}
	pausing, unused := 0, 0
	for i := range accounts {
		a := &accounts[i]
		f := trend.Project(a, js[i], h.AppendSamples(nil, a.ID), p, trend.DefaultOptions(), t0)
		want := outlookOf(&f)
		if want.pause == 0 && want.unused == 0 {
			want = outlook{}
		}
		if got := tr.outlooks[a.ID]; got != want {
			t.Errorf("%s: outlook %+v, want %+v", a.Name, got, want)
		}
		if got, want := tr.pauses[a.ID], [2]time.Time{f.Windows[0].PauseAt, f.Windows[1].PauseAt}; got != want {
			t.Errorf("%s: crossings %v, want %v", a.Name, got, want)
		}
		if want.pause != 0 {
			pausing++
		}
		if want.unused != 0 {
			unused++
		}
	}
	if pausing == 0 || unused == 0 || len(tr.outlooks) >= len(accounts) {
		t.Fatalf("%d pausing, %d with unused quota, %d outlooks kept of %d accounts: the demo should have some of each and not all", pausing, unused, len(tr.outlooks), len(accounts))
	}
}

type brokenHistory struct{ fakeHistory }

func (brokenHistory) Note() string {
	return "history file /x.db is damaged or not a quotatop history: move it away or run with --history off; running without history"
}

// A history that cannot be used is said once on the message line and in the group view;
// the monitor goes on.
func TestHistoryProblemIsSaid(t *testing.T) {
	m := newTestModel(t, 100, 30, false)
	h := &brokenHistory{}
	m.opts.History = h
	accounts := demo.Accounts(t0)
	m = update(t, m, pollDoneMsg{gen: 1, accounts: accounts, trends: project(h, accounts, nil, judgeAll(accounts, m.ctx.Policy, t0), m.ctx.Policy, t0), started: t0, finished: t0})
	if out := view(m); !strings.Contains(out, "» history file /x.db is damaged") || !strings.Contains(out, "55 accounts") {
		t.Fatalf("the problem is not said:\n%s", out)
	}
	if out := view(keys(t, m, "t")); !strings.Contains(out, "damaged") {
		t.Fatalf("group view does not say it:\n%s", out)
	}
}

func TestSparkline(t *testing.T) {
	pts := []trend.Point{{At: t0, Used: 10}, {At: t0.Add(30 * time.Minute), Used: 20}, {At: t0.Add(time.Hour), Used: 40}}
	if got := sparkline(pts, 5); got != "⡀⡀⣄⣄⣿" {
		t.Fatalf("sparkline %q", got)
	}
	if got := sparkline(pts[:1], 5); got != "⣦" {
		t.Fatalf("one reading %q", got)
	}
}

// findName is the row of the account with that name.
func findName(m Model, name string) (*row, bool) {
	for i := range m.fleet.Total() {
		if m.fleet.rows[i].acc.Name == name {
			return m.fleet.rowAt(i), true
		}
	}
	return nil, false
}

// A projection is made again after trend.RefreshBudget times what the last one took, at
// most trend.RefreshEvery later; a poll that does not project leaves the last projections on screen.
func TestProjectDue(t *testing.T) {
	m := newTestModel(t, 120, 30, false)
	m.cores = 1 // the waits below are for a projection on one core
	now := m.ctx.Now
	m.trends = &trends{}
	m.projectedAt, m.projectTook = now.Add(-10*time.Second), time.Second
	if m.projectDue() {
		t.Fatal("a slow projection made again after 10 s")
	}
	m.projectedAt = now.Add(-trend.RefreshEvery)
	if !m.projectDue() {
		t.Fatal("a slow projection not made again after trend.RefreshEvery")
	}
	m.projectedAt, m.projectTook = now.Add(-5*time.Second), 15*time.Millisecond
	if m.projectDue() {
		t.Fatal("a 15 ms projection made again after 5 s")
	}
	m.projectedAt = now.Add(-15 * time.Second)
	if !m.projectDue() {
		t.Fatal("a 15 ms projection not made again after 15 s")
	}
	m.projectedAt, m.projectTook = now.Add(-time.Second), 100*time.Microsecond
	if !m.projectDue() {
		t.Fatal("a cheap projection skipped")
	}

	// Groups that only a full projection can answer for make it due at once.
	m.projectedAt, m.projectTook = now.Add(-3*time.Second), 15*time.Millisecond
	if m.projectDue() {
		t.Fatal("a 15 ms projection made again after 3 s")
	}
	m.setTrends(&trends{partial: true, outlooks: map[int64]outlook{}})
	if !m.projectDue() {
		t.Fatal("a partial projection that could not recount the groups did not make a full one due")
	}
	before := m.trends
	m.setTrends(nil)
	if m.trends != before {
		t.Fatal("a poll without projections dropped the last ones")
	}
}

// A projection that ran on two cores cost twice its time: it waits twice as long.
func TestProjectDueCountsCores(t *testing.T) {
	m := newTestModel(t, 120, 30, false)
	m.trends = &trends{}
	m.projectTook, m.projectedAt = 10*time.Millisecond, m.ctx.Now.Add(-15*time.Second)
	m.cores = 1
	if !m.projectDue() {
		t.Fatal("10 ms on one core not projected again after 15 s")
	}
	m.cores = 2
	if m.projectDue() {
		t.Fatal("10 ms on two cores (20 ms of CPU) projected again after 15 s")
	}
}

// A poll between full projections projects only the accounts that changed and recounts
// the groups: what the table then holds for every account, and the groups' counts now,
// are what a full projection of the same poll gives.
func TestPartialProjectionMatchesFull(t *testing.T) {
	partial, full := newTestModel(t, 120, 40, false), newTestModel(t, 120, 40, false)
	partial.projectTook = time.Second // the last full projection is not due again yet
	p, h := partial.ctx.Policy, partial.opts.History
	accounts := demo.Accounts(t0)
	js := judgeAll(accounts, p, t0)
	// Two schedulable accounts with a snapshot pause; one fresh account stays as it was.
	var fresh []int32
	for i := range accounts {
		if a := &accounts[i]; len(fresh) < 2 && a.Quota != nil && schedulable(js[i].State) && len(a.GroupIDs) > 0 {
			a.Quota.Windows[0].UsedPercent = 100
			a.Rev++
			fresh = append(fresh, int32(i))
		}
	}
	fresh = append(fresh, int32(len(accounts)-1))
	js = judgeAll(accounts, p, t0)
	for _, i := range fresh[:2] {
		if schedulable(js[i].State) {
			t.Fatalf("%s is still %s", accounts[i].Name, js[i].State)
		}
	}
	tr := projectFresh(h, accounts, fresh, judgedOf(js).Judgement, partial.trends.counter, p, t0)
	if tr.groups == nil {
		t.Fatal("the groups could not be recounted after two accounts paused")
	}
	partial = update(t, partial, pollDoneMsg{gen: 1, accounts: accounts, fresh: fresh, trends: tr, started: t0, finished: t0})
	full = update(t, full, pollDoneMsg{gen: 1, accounts: accounts, trends: project(h, accounts, nil, js, p, t0), started: t0, finished: t0})
	if partial.projectDue() {
		t.Fatal("a partial projection made a full one due")
	}
	for n := range full.fleet.rows {
		want, got := full.fleet.rowAt(n), partial.fleet.rowAt(n)
		if got.acc.ID != want.acc.ID || got.o != want.o || partial.fleet.sums[n] != full.fleet.sums[n] {
			t.Errorf("%s: partial %+v %+v, full %+v %+v", want.acc.Name, got.o, partial.fleet.sums[n], want.o, full.fleet.sums[n])
		}
	}
	if len(partial.trends.groups) != len(full.trends.groups) {
		t.Fatalf("%d groups, full projection %d", len(partial.trends.groups), len(full.trends.groups))
	}
	counts := func(g trend.Group) [5]int { return [5]int{int(g.ID), g.Accounts, g.Schedulable, g.Paused, g.Blocked} }
	byBucket := map[string][5]int{}
	for _, g := range full.trends.groups {
		byBucket[bucketOf(g.ID, g.Platform)] = counts(g)
	}
	for _, g := range partial.trends.groups {
		if want := byBucket[bucketOf(g.ID, g.Platform)]; counts(g) != want {
			t.Errorf("group %s: recounted %v, projected %v", bucketOf(g.ID, g.Platform), counts(g), want)
		}
	}

	// Every schedulable account pausing empties the groups' capacity: only a full
	// projection can date that, and the next poll makes one.
	fresh = fresh[:0]
	for i := range accounts {
		if accounts[i].Quota != nil {
			accounts[i].Quota.Windows[0].UsedPercent = 100
			fresh = append(fresh, int32(i))
		}
	}
	js = judgeAll(accounts, p, t0)
	tr = projectFresh(h, accounts, fresh, judgedOf(js).Judgement, partial.trends.counter, p, t0)
	partial = update(t, partial, pollDoneMsg{gen: 1, accounts: accounts, fresh: fresh, trends: tr, started: t0, finished: t0})
	if tr.groups != nil || !partial.projectDue() {
		t.Fatal("groups that ran dry did not make a full projection due")
	}
}

// With the history off, the detail view of an account with a snapshot says why there is
// no projection, not that there is no snapshot.
func TestDetailWithoutHistorySaysWhy(t *testing.T) {
	m, _ := judgeModel(t)
	out := view(keys(t, filterTo(t, m, "#133"), "enter"))
	if !strings.Contains(out, "History is off (--history off)") || strings.Contains(out, "No Codex usage snapshot") {
		t.Fatalf("detail:\n%s", out)
	}
}

// Sorting by time to dry puts first the accounts whose soonest group is dry now, then
// by when it runs dry; accounts in no group that runs dry come last.
func TestDrySort(t *testing.T) {
	m := newTestModel(t, 80, 24, false)
	for i := 0; m.fleet.SortName() != "time to dry ↓"; i++ {
		if i > int(sortKeys) {
			t.Fatalf("no time-to-dry sort: %s", m.fleet.SortName())
		}
		m = keys(t, m, "s")
	}
	prev, seenDue, seenNone := int64(math.MinInt64), false, false
	for i := range m.fleet.Len() {
		r := m.fleet.Row(i)
		at := m.fleet.dryAtOf(r.entry)
		switch {
		case at == noTime:
			seenNone = true
		case seenNone:
			t.Fatalf("row %d (%s) runs dry at %v after rows that never do", i, r.acc.Name, time.Unix(0, at))
		case max(at, m.ctx.Now.UnixNano()) < max(prev, m.ctx.Now.UnixNano()):
			t.Fatalf("row %d (%s) runs dry at %v, before the row above (%v)", i, r.acc.Name, time.Unix(0, at), time.Unix(0, prev))
		default:
			seenDue, prev = true, at
		}
	}
	if !seenDue || !seenNone {
		t.Fatalf("the demo has groups dry now or soon, and others: due %v, none %v", seenDue, seenNone)
	}
}

// A projection past 100 % is a pace, not a reading: the detail says upstream stops the
// account at 100 %, and keeps the plain wording under it.
func TestProjectionPastTheLimitReadsAsAPace(t *testing.T) {
	ctx := &Context{Now: t0, Location: time.UTC}
	w := trend.Window{Status: trend.StatusRate, Rate: 80, Span: time.Hour, Target: 100, Projected: 437.1, HasProjected: true, ResetAt: t0.Add(4 * time.Hour)}
	if got := windowTrend(ctx, w, false); !strings.Contains(got, "this pace would make 437.1% by the reset 14:00:00; upstream stops it at 100%") {
		t.Fatalf("%q", got)
	}
	w.Projected = 62.5
	if got := windowTrend(ctx, w, false); !strings.Contains(got, "62.5% at the reset 14:00:00 at this pace") {
		t.Fatalf("%q", got)
	}
}

// At every width the header names the next group to run dry whole: the long form where
// it fits, else the short one (between 106 and 139 columns it was cut mid-word).
func TestDryNoteFitsEveryWidth(t *testing.T) {
	next := regexp.MustCompile(`g4/openai (dry )?~\d\d:\d\d`)
	for w := 80; w <= 170; w += 3 {
		line := strings.Split(view(newTestModel(t, w, 24, false)), "\n")[1]
		if !next.MatchString(line) || strings.Contains(line, "…") {
			t.Fatalf("at %d columns: %q", w, line)
		}
	}
}

// At 60 columns the group view keeps RUNS DRY, the column it is sorted by, whole.
func TestGroupViewNarrowKeepsRunsDry(t *testing.T) {
	m := keys(t, newTestModel(t, 60, 24, false), "t")
	out := view(m)
	if !strings.Contains(out, "RUNS DRY") || !regexp.MustCompile(`(?m)^g4 +openai +\d+ +\d+ +\d+ +\d+  ~\d\d:\d\d`).MatchString(out) {
		t.Fatalf("group view at 60 columns:\n%s", out)
	}
}
