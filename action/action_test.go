package action

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/quotatop/quotatop/model"
)

var now = time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)

func judged(mod func(a *model.Account)) (*model.Account, model.Judgement) {
	a := &model.Account{ID: 7, Name: "codex-pro-07", Platform: "openai", Status: "active", Schedulable: true,
		Quota: &model.Quota{UpdatedAt: now.Add(-time.Minute), HasUpdatedAt: true, Windows: [2]model.WindowSnapshot{
			{Present: true, UsedPercent: 10, Threshold: 0.9}, {Present: true, UsedPercent: 10, Threshold: 0.9}}}}
	mod(a)
	return a, model.Judge(a, model.DefaultPolicy(), now)
}

func TestUnpausePlans(t *testing.T) {
	cases := []struct {
		name    string
		mod     func(a *model.Account)
		steps   []Kind
		alt     []Kind
		blocked string
	}{
		{"temp block", func(a *model.Account) { a.EditBlocks().TempUnschedulableUntil = now.Add(time.Hour) }, []Kind{ClearTemp}, nil, ""},
		{"rate limit", func(a *model.Account) { a.EditBlocks().RateLimitResetAt = now.Add(time.Hour) }, []Kind{ClearRateLimit}, nil, ""},
		{"overload and temp: one call", func(a *model.Account) {
			b := a.EditBlocks()
			b.OverloadUntil, b.TempUnschedulableUntil = now.Add(time.Hour), now.Add(time.Hour)
		}, []Kind{ClearRateLimit}, nil, ""},
		{"error", func(a *model.Account) { a.Status = "error" }, []Kind{Recover}, nil, ""},
		{"switch off", func(a *model.Account) { a.Schedulable = false }, []Kind{Schedule}, nil, ""},
		{"stale snapshot", func(a *model.Account) {
			a.Quota.UpdatedAt = now.Add(-3 * time.Hour)
			a.Quota.Windows[0].UsedPercent = 99
		}, []Kind{Probe}, nil, ""},
		{"fresh and over: probe, exemption only as the explicit second choice", func(a *model.Account) {
			a.Quota.Windows[1].UsedPercent = 99
		}, []Kind{Probe}, []Kind{Exempt7d}, ""},
		{"several reasons in order", func(a *model.Account) {
			a.Status, a.Schedulable, a.EditBlocks().TempUnschedulableUntil = "error", false, now.Add(time.Hour)
			a.Quota.Windows[0].UsedPercent, a.Quota.Windows[1].UsedPercent = 95, 95
		}, []Kind{Recover, ClearTemp, Schedule, Probe}, []Kind{Exempt5h, Exempt7d}, ""},
		{"disabled", func(a *model.Account) { a.Status = "disabled" }, []Kind{Enable}, nil, ""},
		{"expired", func(a *model.Account) { a.EditBlocks().ExpiresAt, a.AutoPauseOnExpired = now.Add(-time.Hour), true }, nil, nil, "expired"},
		{"healthy", func(a *model.Account) {}, nil, nil, "nothing keeps it"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := Unpause(judged(c.mod))
			if !slices.Equal(p.Steps, c.steps) || !slices.Equal(p.Alternative, c.alt) || !strings.Contains(p.Blocked, c.blocked) || (c.blocked == "") != (p.Blocked == "") {
				t.Fatalf("got %+v", p)
			}
		})
	}
}

// fakeAdmin records calls and fails the ones it is told to.
type fakeAdmin struct {
	mu      sync.Mutex
	calls   []string
	failIDs map[int64]error
	active  atomic.Int32
	peak    atomic.Int32
}

func (f *fakeAdmin) do(name string, id int64) (int, error) {
	n := f.active.Add(1)
	defer f.active.Add(-1)
	for {
		p := f.peak.Load()
		if n <= p || f.peak.CompareAndSwap(p, n) {
			break
		}
	}
	time.Sleep(20 * time.Millisecond)
	f.mu.Lock()
	f.calls = append(f.calls, name)
	err := f.failIDs[id]
	f.mu.Unlock()
	if err != nil {
		return 500, err
	}
	return 200, nil
}
func (f *fakeAdmin) Probe(_ context.Context, id int64) (int, error) { return f.do("probe", id) }
func (f *fakeAdmin) ClearRateLimit(_ context.Context, id int64) (int, error) {
	return f.do("clear-rate-limit", id)
}
func (f *fakeAdmin) RecoverState(_ context.Context, id int64) (int, error) {
	return f.do("recover", id)
}
func (f *fakeAdmin) ClearTempUnschedulable(_ context.Context, id int64) (int, error) {
	return f.do("clear-temp", id)
}
func (f *fakeAdmin) SetSchedulable(_ context.Context, id int64) (int, error) {
	return f.do("schedulable", id)
}
func (f *fakeAdmin) ExemptWindow(_ context.Context, id int64, w model.WindowName) (int, error) {
	return f.do("exempt-"+string(w), id)
}

func readAudit(t *testing.T, path string) []Record {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []Record
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var r Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("audit line not JSON: %q", sc.Text())
		}
		out = append(out, r)
	}
	return out
}

func TestBulkWithPartialFailure(t *testing.T) {
	admin := &fakeAdmin{failIDs: map[int64]error{3: errors.New("the gateway answered HTTP 500")}}
	path := filepath.Join(t.TempDir(), "state", "quotatop", "audit.jsonl")
	d := NewDispatcher(admin, NewAudit(path, func(k string) string { return map[string]string{"SSH_CONNECTION": "10.0.0.9 5000 10.0.0.1 22"}[k] }), nil, "")
	var targets []Target
	for id := int64(1); id <= 9; id++ {
		targets = append(targets, Target{ID: id, Name: "acc", Reason: "rate_limited"})
	}
	results := d.Run(context.Background(), Same([]Kind{Recover, ClearRateLimit}, targets))
	failed := 0
	for i, r := range results {
		if r.Target.ID != int64(i+1) {
			t.Fatal("results out of order")
		}
		if r.Err != nil {
			failed++
			if r.Target.ID != 3 || !slices.Equal(r.Steps, []Kind{Recover}) {
				t.Fatalf("account %d failed at %v", r.Target.ID, r.Steps)
			}
		}
	}
	if failed != 1 || len(admin.calls) != 17 {
		t.Fatalf("failed %d, calls %d", failed, len(admin.calls))
	}
	if p := admin.peak.Load(); p > Concurrency || p < 2 {
		t.Fatalf("concurrency peaked at %d", p)
	}
	recs := readAudit(t, path)
	if len(recs) != 34 {
		t.Fatalf("%d audit lines, want a start and an end per call (34)", len(recs))
	}
	for _, r := range recs {
		if r.User == "" || r.Host == "" || r.SSHConnection != "10.0.0.9 5000 10.0.0.1 22" || r.Reason != "rate_limited" {
			t.Fatalf("audit record lacks context: %+v", r)
		}
		if r.Phase == "end" && r.AccountID == 3 && (r.HTTPStatus != 500 || !strings.HasPrefix(r.Outcome, "failed")) {
			t.Fatalf("failure not recorded: %+v", r)
		}
	}
	info, _ := os.Stat(path)
	if info.Mode().Perm() != 0o600 {
		t.Fatalf("audit log mode %v", info.Mode().Perm())
	}
}

func TestReadOnlyRefusesEverything(t *testing.T) {
	admin := &fakeAdmin{}
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	d := NewDispatcher(admin, NewAudit(path, os.Getenv), nil, "--read-only")
	res := d.Run(context.Background(), Same([]Kind{Probe}, []Target{{ID: 1}}))
	if !errors.Is(res[0].Err, ErrReadOnly) || len(admin.calls) != 0 || !strings.Contains(res[0].Outcome, "--read-only") {
		t.Fatalf("%+v", res[0])
	}
	if NewDispatcher(nil, nil, nil, "").ReadOnly() == "" {
		t.Fatal("no admin API must mean read-only")
	}
}

func TestAuditFailureBlocksTheAction(t *testing.T) {
	admin := &fakeAdmin{}
	dir := t.TempDir()
	blocker := filepath.Join(dir, "file")
	os.WriteFile(blocker, nil, 0o600)
	d := NewDispatcher(admin, NewAudit(filepath.Join(blocker, "audit.jsonl"), os.Getenv), nil, "")
	res := d.Run(context.Background(), Same([]Kind{Probe}, []Target{{ID: 1}}))
	if res[0].Err == nil || !strings.Contains(res[0].Err.Error(), "not started: the audit log cannot be written") || len(admin.calls) != 0 {
		t.Fatalf("%+v calls %v", res[0], admin.calls)
	}
}

func TestProbeOutcomeComparesSnapshotTime(t *testing.T) {
	before := &model.Account{ID: 1, Quota: &model.Quota{UpdatedAt: now.Add(-3 * time.Hour), HasUpdatedAt: true}}
	for _, c := range []struct {
		moved bool
		want  string
	}{{true, "refreshed"}, {false, "unchanged: the gateway could not reach upstream"}} {
		reread := func(context.Context, int64) (model.Account, error) {
			a := *before
			q := *before.Quota
			if c.moved {
				q.UpdatedAt = now
			}
			a.Quota = &q
			return a, nil
		}
		d := NewDispatcher(&fakeAdmin{}, NewAudit(filepath.Join(t.TempDir(), "a.jsonl"), os.Getenv), reread, "")
		d.settle = 300 * time.Millisecond
		res := d.Run(context.Background(), Same([]Kind{Probe}, []Target{{ID: 1, Before: before}}))
		if !strings.HasPrefix(res[0].Outcome, c.want) || res[0].After == nil {
			t.Fatalf("moved=%v: %q", c.moved, res[0].Outcome)
		}
	}
}

func TestDefaultAuditPath(t *testing.T) {
	env := map[string]string{"XDG_STATE_HOME": "/x/state", "HOME": "/home/op"}
	if p := DefaultAuditPath(func(k string) string { return env[k] }); p != "/x/state/quotatop/audit.jsonl" {
		t.Fatal(p)
	}
	delete(env, "XDG_STATE_HOME")
	if p := DefaultAuditPath(func(k string) string { return env[k] }); p != "/home/op/.local/state/quotatop/audit.jsonl" {
		t.Fatal(p)
	}
}
