package events

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/quotatop/quotatop/model"
)

var t0 = time.Date(2026, 11, 28, 6, 0, 0, 0, time.UTC)

// acct is one account as a test poll sees it.
type acct struct {
	id       int64
	state    model.State
	used5h   float64 // 0 = window absent
	groups   []int64
	platform string
}

// poll is one step: the accounts seen, or a storage failure.
type poll struct {
	accounts []acct
	fail     bool
}

func judged(as []acct) ([]model.Account, []model.Judgement) {
	accounts := make([]model.Account, len(as))
	js := make([]model.Judgement, len(as))
	for i, a := range as {
		accounts[i] = model.Account{ID: a.id, Name: fmt.Sprintf("acc-%d", a.id), GroupIDs: a.groups, Platform: a.platform}
		js[i] = model.Judgement{State: a.state}
		if a.state != model.StateOK {
			js[i].Reasons = []model.Reason{model.Reason("r_" + string(a.state))}
		}
		js[i].Windows[0] = model.WindowJudgement{Name: model.Window5h, Present: a.used5h > 0, UsedPercent: a.used5h}
		js[i].Windows[1] = model.WindowJudgement{Name: model.Window7d}
	}
	return accounts, js
}

// sig renders one poll's events compactly: "kind severity item item ...".
func sig(evs []Event) []string {
	var out []string
	for _, e := range evs {
		parts := []string{string(e.Kind), string(e.Severity)}
		for _, c := range e.Accounts {
			parts = append(parts, fmt.Sprintf("%d:%s>%s", c.ID, c.From, c.To))
		}
		for _, c := range e.Windows {
			parts = append(parts, fmt.Sprintf("%d/%s:%v", c.ID, c.Window, c.Up))
		}
		for _, c := range e.Groups {
			platform := ""
			if c.Platform != "" {
				platform = "/" + c.Platform
			}
			parts = append(parts, fmt.Sprintf("g%d%s:%s>%s(%d/%d)", c.ID, platform, c.From, c.To, c.Schedulable, c.Total))
		}
		if s := e.Storage; s != nil {
			parts = append(parts, fmt.Sprintf("down=%v for=%s", s.Down, s.For))
		}
		out = append(out, strings.Join(parts, " "))
	}
	return out
}

func ok(id int64, groups ...int64) acct { return acct{id: id, state: model.StateOK, groups: groups} }
func paused(id int64, groups ...int64) acct {
	return acct{id: id, state: model.StatePaused, groups: groups}
}
func used(id int64, pct float64) acct { return acct{id: id, state: model.StateOK, used5h: pct} }

func TestDetector(t *testing.T) {
	cases := []struct {
		name  string
		cfg   Config
		polls []poll
		// want maps a poll index to the signature of its events; other polls must be quiet.
		want map[int][]string
	}{
		{
			name:  "baseline is not announced",
			cfg:   Config{Hold: 1},
			polls: []poll{{accounts: []acct{paused(1, 7)}}, {accounts: []acct{paused(1, 7)}}},
		},
		{
			name: "one event per transition, after two polls",
			cfg:  Config{Hold: 2},
			polls: []poll{
				{accounts: []acct{ok(1)}}, {accounts: []acct{paused(1)}}, {accounts: []acct{paused(1)}},
				{accounts: []acct{paused(1)}}, {accounts: []acct{ok(1)}}, {accounts: []acct{ok(1)}}, {accounts: []acct{ok(1)}},
			},
			// An account in no group is in group 0, which runs dry with it.
			want: map[int][]string{
				2: {"account_state critical 1:ok>paused", "group critical g0:ok>zero(0/1)"},
				5: {"account_state resolved 1:paused>ok", "group resolved g0:zero>ok(1/1)"},
			},
		},
		{
			// The same IDs in the same places reuse each account's group tracks: a move
			// to another group must still be counted where the account now is.
			name: "an account that changes group in place is counted in its new group",
			cfg:  Config{Hold: 1},
			polls: []poll{
				{accounts: []acct{ok(1, 5), ok(2, 5)}}, {accounts: []acct{ok(1, 5), ok(2, 5)}},
				{accounts: []acct{paused(1, 5), ok(2, 6)}},
				{accounts: []acct{paused(1, 5), ok(2, 5)}},
			},
			want: map[int][]string{
				2: {"account_state critical 1:ok>paused", "group critical g5:ok>zero(0/1)"},
				3: {"group resolved g5:zero>ok(1/2)"},
			},
		},
		{
			name: "flapping is damped",
			cfg:  Config{Hold: 2},
			polls: []poll{
				{accounts: []acct{ok(1)}}, {accounts: []acct{paused(1)}}, {accounts: []acct{ok(1)}},
				{accounts: []acct{paused(1)}}, {accounts: []acct{ok(1)}}, {accounts: []acct{paused(1)}}, {accounts: []acct{ok(1)}},
			},
		},
		{
			name: "a state that changes again before it holds restarts the count",
			cfg:  Config{Hold: 2},
			polls: []poll{
				{accounts: []acct{ok(1)}}, {accounts: []acct{paused(1)}},
				{accounts: []acct{{id: 1, state: model.StateBlocked}}}, {accounts: []acct{{id: 1, state: model.StateBlocked}}},
			},
			// Group 0 was at zero for two polls already (paused, then blocked).
			want: map[int][]string{2: {"group critical g0:ok>zero(0/1)"}, 3: {"account_state critical 1:ok>blocked"}},
		},
		{
			name: "a burst is one event listing every account",
			cfg:  Config{Hold: 1},
			polls: []poll{
				{accounts: []acct{ok(3), ok(1), ok(2), ok(4)}},
				{accounts: []acct{paused(3), paused(1), {id: 2, state: model.StateWarn}, ok(4)}},
			},
			want: map[int][]string{1: {"account_state critical 1:ok>paused 2:ok>warn 3:ok>paused"}},
		},
		{
			name: "group drops to zero and recovers",
			cfg:  Config{Hold: 1},
			polls: []poll{
				{accounts: []acct{ok(1, 7), ok(2, 7, 8), ok(3, 8)}},
				{accounts: []acct{paused(1, 7), ok(2, 7, 8), ok(3, 8)}},
				{accounts: []acct{paused(1, 7), paused(2, 7, 8), ok(3, 8)}},
				{accounts: []acct{ok(1, 7), paused(2, 7, 8), ok(3, 8)}},
			},
			want: map[int][]string{
				1: {"account_state critical 1:ok>paused"},
				2: {"account_state critical 2:ok>paused", "group critical g7:ok>zero(0/2)"},
				3: {"account_state resolved 1:paused>ok", "group resolved g7:zero>ok(1/2)"},
			},
		},
		{
			name: "groups count per platform, as the gateway schedules",
			cfg:  Config{Hold: 1},
			polls: []poll{
				{accounts: []acct{{id: 1, state: model.StateOK, groups: []int64{7}, platform: "openai"}, {id: 2, state: model.StateOK, groups: []int64{7}, platform: "anthropic"}}},
				{accounts: []acct{{id: 1, state: model.StateStaleProbe, groups: []int64{7}, platform: "openai"}, {id: 2, state: model.StateOK, groups: []int64{7}, platform: "anthropic"}}},
			},
			want: map[int][]string{1: {"account_state warning 1:ok>stale_probe", "group critical g7/openai:ok>zero(0/1)"}},
		},
		{
			name: "group floor",
			cfg:  Config{Hold: 1, GroupFloor: 1},
			polls: []poll{
				{accounts: []acct{ok(1, 7), ok(2, 7), ok(3, 7)}},
				{accounts: []acct{paused(1, 7), ok(2, 7), ok(3, 7)}},
				{accounts: []acct{paused(1, 7), paused(2, 7), ok(3, 7)}},
				{accounts: []acct{paused(1, 7), paused(2, 7), paused(3, 7)}},
			},
			want: map[int][]string{
				1: {"account_state critical 1:ok>paused"},
				2: {"account_state critical 2:ok>paused", "group warning g7:ok>floor(1/3)"},
				3: {"account_state critical 3:ok>paused", "group critical g7:floor>zero(0/3)"},
			},
		},
		{
			name: "window crosses the warn level once each way",
			cfg:  Config{Hold: 2, WarnPercent: 80},
			polls: []poll{
				{accounts: []acct{used(1, 70)}}, {accounts: []acct{used(1, 81)}}, {accounts: []acct{used(1, 83)}},
				{accounts: []acct{used(1, 90)}}, {accounts: []acct{used(1, 2)}}, {accounts: []acct{used(1, 3)}},
			},
			want: map[int][]string{2: {"window_warn warning 1/5h:true"}, 5: {"window_warn resolved 1/5h:false"}},
		},
		{
			name:  "a new account is a baseline, a vanished one is forgotten",
			cfg:   Config{Hold: 1},
			polls: []poll{{accounts: []acct{ok(1)}}, {accounts: []acct{ok(1), paused(2)}}, {accounts: []acct{ok(1)}}, {accounts: []acct{ok(1), ok(2)}}},
		},
		{
			name: "outage longer than the bound, then recovery",
			cfg:  Config{Hold: 2, OutageAfter: 25 * time.Second},
			polls: []poll{
				{accounts: []acct{ok(1)}}, {fail: true}, {fail: true}, {fail: true}, {fail: true}, {fail: true},
				{accounts: []acct{ok(1)}}, {accounts: []acct{ok(1)}},
			},
			want: map[int][]string{4: {"storage critical down=true for=30s"}, 6: {"storage resolved down=false for=50s"}},
		},
		{
			name:  "a short outage is not announced",
			cfg:   Config{Hold: 2, OutageAfter: time.Minute},
			polls: []poll{{accounts: []acct{ok(1)}}, {fail: true}, {fail: true}, {accounts: []acct{ok(1)}}, {fail: true}, {accounts: []acct{ok(1)}}},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := New(tc.cfg)
			for i, p := range tc.polls {
				now := t0.Add(time.Duration(i) * 10 * time.Second)
				var evs []Event
				if p.fail {
					evs = d.Fail(now, errors.New("dial tcp 127.0.0.1:1: connection refused"))
				} else {
					a, j := judged(p.accounts)
					evs = d.Observe(now, a, j)
				}
				if got, want := sig(evs), tc.want[i]; !slices.Equal(got, want) {
					t.Errorf("poll %d: events %q, want %q", i, got, want)
				}
				for _, e := range evs {
					if !e.Time.Equal(now) || e.Summary == "" {
						t.Errorf("poll %d: event %+v lacks its time or summary", i, e)
					}
				}
			}
		})
	}
}

// OutageDue says when an outage not yet reported becomes reportable, and nothing while
// the storage answers or once the outage is reported: the headless loop and the live
// monitor poll again at that time rather than a back-off step later.
func TestOutageDue(t *testing.T) {
	d := New(Config{Hold: 1, OutageAfter: 45 * time.Second})
	due := func(step string, want time.Time, wantOK bool) {
		t.Helper()
		if got, ok := d.OutageDue(); ok != wantOK || !got.Equal(want) {
			t.Fatalf("%s: due %v %v, want %v %v", step, got, ok, want, wantOK)
		}
	}
	a, j := judged([]acct{ok(1)})
	due("before any poll", time.Time{}, false)
	d.Observe(t0, a, j)
	due("storage answering", time.Time{}, false)
	fail := t0.Add(10 * time.Second)
	d.Fail(fail, errors.New("down"))
	due("first failure", fail.Add(45*time.Second), true)
	d.Fail(fail.Add(30*time.Second), errors.New("down"))
	due("still short of the bound", fail.Add(45*time.Second), true)
	if evs := d.Fail(fail.Add(45*time.Second), errors.New("down")); len(evs) != 1 {
		t.Fatalf("a failure when due reported %q, want the outage", sig(evs))
	}
	due("reported", time.Time{}, false)
	d.Observe(fail.Add(50*time.Second), a, j)
	due("recovered", time.Time{}, false)
	d.Fail(fail.Add(60*time.Second), errors.New("down"))
	due("a new outage", fail.Add(105*time.Second), true)
}

func TestSummaries(t *testing.T) {
	d := New(Config{Hold: 1, OutageAfter: 0})
	a, j := judged([]acct{ok(1), ok(2), ok(3), ok(4), ok(5)})
	d.Observe(t0, a, j)
	a, j = judged([]acct{paused(1), paused(2), paused(3), paused(4), {id: 5, state: model.StateWarn}})
	a[0].Name = "evil\x1b]0;pwn\x07"
	evs := d.Observe(t0, a, j)
	want := "5 accounts changed state (4 now paused, 1 now warn): #1 evil␛]0;pwn␇ ok → paused (r_paused); #2 acc-2 ok → paused (r_paused); #3 acc-3 ok → paused (r_paused); and 2 more"
	if len(evs) != 1 || evs[0].Summary != want {
		t.Fatalf("summary:\n%+v\nwant\n%q", evs, want)
	}
	evs = d.Fail(t0.Add(time.Minute), errors.New("read: \x1b[2Jboom"))
	if len(evs) != 1 || evs[0].Summary != "storage unreachable for 0s: read: ␛[2Jboom" {
		t.Fatalf("outage summary %+v", evs)
	}
}

type fakeProjector map[int64]time.Duration

func (f fakeProjector) TimeToDry(id int64, w model.WindowName, _ time.Time) (time.Duration, bool) {
	d, ok := f[id]
	return d, ok && w == model.Window5h
}

func TestDryHook(t *testing.T) {
	p := fakeProjector{1: time.Hour}
	d := New(Config{Hold: 1, DryHorizon: 30 * time.Minute, Projector: p})
	a, j := judged([]acct{used(1, 50)})
	if evs := d.Observe(t0, a, j); len(evs) != 0 {
		t.Fatalf("baseline announced: %v", sig(evs))
	}
	p[1] = 20 * time.Minute
	evs := d.Observe(t0, a, j)
	if got := sig(evs); !slices.Equal(got, []string{"dry_soon warning 1/5h:true"}) {
		t.Fatalf("dry events %q", got)
	}
	if !strings.Contains(evs[0].Summary, "dry in 20m") {
		t.Errorf("summary %q lacks the projection", evs[0].Summary)
	}
	delete(p, 1)
	if got := sig(d.Observe(t0, a, j)); !slices.Equal(got, []string{"dry_soon resolved 1/5h:false"}) {
		t.Fatalf("dry recovery %q", got)
	}
}

// A projection that wobbles around the horizon raises one warning, not one a poll: a
// window reported stays reported until its time to dry is half the horizon beyond it.
func TestDryHysteresis(t *testing.T) {
	p := fakeProjector{1: time.Hour}
	d := New(Config{Hold: 1, DryHorizon: 30 * time.Minute, Projector: p})
	a, j := judged([]acct{used(1, 50)})
	d.Observe(t0, a, j)
	var got []string
	for _, ttd := range []time.Duration{31, 29, 33, 28, 44, 30, 46, 40, 25} {
		p[1] = ttd * time.Minute
		got = append(got, sig(d.Observe(t0, a, j))...)
	}
	want := []string{"dry_soon warning 1/5h:true", "dry_soon resolved 1/5h:false", "dry_soon warning 1/5h:true"}
	if !slices.Equal(got, want) {
		t.Fatalf("events %q\nwant %q", got, want)
	}
}

// An account projected to run dry that then pauses raises its state change alone: its dry
// warning ends without a "no longer projected" that would read as good news, including
// one noted at baseline, and returns if the account comes back and is still due.
func TestDryEndsQuietlyWhenTheAccountPauses(t *testing.T) {
	p := fakeProjector{1: 20 * time.Minute, 2: 20 * time.Minute}
	d := New(Config{Hold: 2, DryHorizon: 30 * time.Minute, Projector: p})
	run := func(states ...model.State) []string {
		a, j := judged([]acct{{id: 1, state: states[0], used5h: 50}, {id: 2, state: states[1], used5h: 50}})
		return sig(d.Observe(t0, a, j))
	}
	var got []string
	got = append(got, run(model.StateOK, model.StateOK)...) // baseline: both due soon, noted
	for range 2 {
		got = append(got, run(model.StatePaused, model.StateOK)...)
	}
	for range 3 { // the state's hold, then the warning's
		got = append(got, run(model.StateOK, model.StateOK)...)
	}
	want := []string{"account_state critical 1:ok>paused", "account_state resolved 1:paused>ok", "dry_soon warning 1/5h:true"}
	if !slices.Equal(got, want) {
		t.Fatalf("events %q\nwant %q", got, want)
	}
}

func TestBatchJSON(t *testing.T) {
	b := Batch{Time: t0, Events: []Event{{Time: t0, Kind: KindGroup, Severity: Critical, Summary: "s",
		Groups: []GroupChange{{ID: 7, From: GroupOK, To: GroupZero, Total: 2}}}}}
	want := `{"time":"2026-11-28T06:00:00Z","events":[{"time":"2026-11-28T06:00:00Z","kind":"group","severity":"critical","summary":"s","groups":[{"group_id":7,"platform":"","from":"ok","to":"zero","schedulable":0,"total":2,"floor":0}]}]}`
	if got := string(b.JSON()); got != want {
		t.Fatalf("JSON\n%s\nwant\n%s", got, want)
	}
	if b.Severity() != Critical {
		t.Errorf("severity %s", b.Severity())
	}
}

// Told which accounts are judged as in the last poll, the detector announces exactly
// what it announces reading them all: over random polls with state and warn changes
// under a hold of 2, group moves, reorders, duplicate IDs, failures and projections that
// come and go.
func TestObserveUnchangedEqualsObserve(t *testing.T) {
	for seed := range int64(40) {
		rng := rand.New(rand.NewPCG(uint64(seed), 7))
		proj := fakeProjector{}
		cfg := Config{Hold: 2, WarnPercent: 80, GroupFloor: 1, OutageAfter: time.Minute, DryHorizon: 30 * time.Minute, Projector: proj}
		full, hinted := New(cfg), New(cfg)
		n := 30 + rng.IntN(30)
		cur := make([]acct, n)
		for i := range cur {
			cur[i] = acct{id: int64(i + 1), state: model.StateOK, used5h: float64(rng.IntN(100)), groups: []int64{int64(rng.IntN(4))}, platform: "openai"}
		}
		var last []acct
		now := t0
		for step := range 60 {
			now = now.Add(2 * time.Second)
			next := slices.Clone(cur)
			for range rng.IntN(4) { // a few accounts change
				k := rng.IntN(len(next))
				a := next[k]
				switch rng.IntN(4) {
				case 0:
					a.state = []model.State{model.StateOK, model.StatePaused, model.StateWarn, model.StateBlocked}[rng.IntN(4)]
				case 1:
					a.used5h = float64(rng.IntN(100))
				case 2:
					a.groups = []int64{int64(rng.IntN(4))}
				case 3:
					a.platform = []string{"openai", "anthropic"}[rng.IntN(2)]
				}
				next[k] = a
			}
			switch rng.IntN(20) {
			case 0: // reordered
				rng.Shuffle(len(next), func(i, j int) { next[i], next[j] = next[j], next[i] })
			case 1: // a second key claims an ID
				d := next[rng.IntN(len(next))]
				d.groups = []int64{int64(rng.IntN(4))}
				next = append(next, d)
			case 2: // the storage fails this poll
				full.Fail(now, errors.New("down"))
				hinted.Fail(now, errors.New("down"))
				continue
			}
			for range rng.IntN(3) { // projections come and go
				id := int64(rng.IntN(n) + 1)
				if rng.IntN(2) == 0 {
					proj[id] = time.Duration(rng.IntN(60)) * time.Minute
				} else {
					delete(proj, id)
				}
			}
			u := Unchanged{Same: len(last) == len(next), Fresh: make([]bool, len(next))}
			for i := range next {
				if u.Same && last[i].id != next[i].id {
					u.Same = false
				}
				u.Fresh[i] = i >= len(last) || !sameAcct(last[i], next[i])
			}
			accounts, js := judged(next)
			want := sig(full.Observe(now, accounts, js))
			got := sig(hinted.ObserveUnchanged(now, accounts, JudgementsOf(js), u))
			if !slices.Equal(got, want) {
				t.Fatalf("seed %d step %d: told what was unchanged, %q; reading all, %q", seed, step, got, want)
			}
			cur, last = next, next
		}
	}
}

func sameAcct(a, b acct) bool {
	return a.id == b.id && a.state == b.state && a.used5h == b.used5h && slices.Equal(a.groups, b.groups) && a.platform == b.platform
}

// Window events count in words and name the level they fell back under when nothing
// crossed it in the same poll ("1 window(s)", "fell back under it" with no "it").
func TestWindowSummariesNameTheLevel(t *testing.T) {
	d := New(Config{Hold: 1, WarnPercent: 80})
	observe := func(now time.Time, accounts []acct) []Event {
		a, j := judged(accounts)
		return d.Observe(now, a, j)
	}
	for i, tc := range []struct {
		pcts []float64
		want string
	}{
		{[]float64{70, 70}, ""},
		{[]float64{85, 70}, "1 window crossed the 80% warn level: "},
		{[]float64{85, 90}, "1 window crossed the 80% warn level: "},
		{[]float64{10, 10}, "2 windows fell back under the 80% warn level: "},
		{[]float64{90, 90}, "2 windows crossed the 80% warn level: "},
		{[]float64{10, 95}, "1 window crossed the 80% warn level, 1 fell back under it: "},
	} {
		if i == 5 {
			observe(t0, []acct{used(1, 90), used(2, 70)})
		}
		evs := observe(t0.Add(time.Duration(i)*time.Minute), []acct{used(1, tc.pcts[0]), used(2, tc.pcts[1])})
		got := ""
		for _, e := range evs {
			if e.Kind == KindWindow {
				got = e.Summary
			}
		}
		if tc.want == "" && got != "" || !strings.HasPrefix(got, tc.want) {
			t.Errorf("poll %d: %q, want it to start %q", i, got, tc.want)
		}
	}
}

// After Rebaseline the next poll announces nothing, as the first did; later changes are
// announced from it.
func TestRebaselineAnnouncesNothing(t *testing.T) {
	d := New(Config{Hold: 1})
	observe := func(accounts ...acct) []Event {
		a, j := judged(accounts)
		return d.Observe(t0, a, j)
	}
	observe(ok(1, 7), ok(2, 7))
	d.Rebaseline()
	if evs := observe(paused(1, 7), paused(2, 7)); len(evs) != 0 {
		t.Fatalf("the baseline poll announced %q", sig(evs))
	}
	if got := sig(observe(ok(1, 7), paused(2, 7))); !slices.Equal(got, []string{"account_state resolved 1:paused>ok", "group resolved g7:zero>ok(1/2)"}) {
		t.Fatalf("after the baseline: %q", got)
	}
}
