package action

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/quotatop/quotatop/model"
)

// Admin is the gateway's admin API as actions need it.
type Admin interface {
	Probe(ctx context.Context, id int64) (int, error)
	ClearRateLimit(ctx context.Context, id int64) (int, error)
	RecoverState(ctx context.Context, id int64) (int, error)
	ClearTempUnschedulable(ctx context.Context, id int64) (int, error)
	SetSchedulable(ctx context.Context, id int64) (int, error)
	ExemptWindow(ctx context.Context, id int64, w model.WindowName) (int, error)
}

// StatusAdmin is the part of the admin API the newer plans need (reset-quota, enabling
// a disabled account); an Admin without it refuses those steps.
type StatusAdmin interface {
	ResetQuota(ctx context.Context, id int64) (int, error)
	EnableStatus(ctx context.Context, id int64) (int, error)
}

// Rereader reads one account back from the snapshot storage.
type Rereader func(ctx context.Context, id int64) (model.Account, error)

// Target is an account an action is for, as the operator saw it.
type Target struct {
	ID     int64
	Name   string
	Reason string // the main reason shown
	// Before is the account as shown, to report what a probe changed.
	Before *model.Account
	// Ambiguous, when set, says which other storage key claims the same ID.
	Ambiguous string
	// Key is the storage key the account was read from.
	Key string
}

// Result is what happened to one account.
type Result struct {
	Target  Target
	Steps   []Kind // the steps that ran (the last one failed if Err is set)
	Status  int
	Err     error
	After   *model.Account // re-read after the action, when possible
	Outcome string         // one sentence
}

// Concurrency is how many accounts a bulk action works on at once.
const Concurrency = 4

// Dispatcher is the one place every action passes through.
type Dispatcher struct {
	admin    Admin
	readOnly string
	audit    *Audit
	reread   Rereader
	clock    func() time.Time
	// settle is how long a probe's new snapshot may take to reach Redis.
	settle time.Duration
	// visible is how long other calls may take to show in Redis (set schedulable goes
	// through a queue: 0.3-1.9 s).
	visible time.Duration
}

// VisibleWithin sets how long the dispatcher waits for an action to show in the
// snapshot storage before saying it is not yet visible (default 3 s).
func (d *Dispatcher) VisibleWithin(wait time.Duration) *Dispatcher {
	d.visible = wait
	return d
}

// NewDispatcher builds the dispatcher. why, when not empty, makes it read-only and says
// why (no --api, or --read-only).
func NewDispatcher(admin Admin, audit *Audit, reread Rereader, why string) *Dispatcher {
	if admin == nil && why == "" {
		why = "no admin API configured (--api)"
	}
	return &Dispatcher{admin: admin, readOnly: why, audit: audit, reread: reread, clock: time.Now, settle: 1500 * time.Millisecond, visible: 3 * time.Second}
}

// ReadOnly returns why actions are refused, or "" when they are allowed.
func (d *Dispatcher) ReadOnly() string { return d.readOnly }

// ErrReadOnly is returned for every action in read-only mode.
var ErrReadOnly = errors.New("read-only")

// Job is the steps for one account.
type Job struct {
	Target Target
	Steps  []Kind
}

// Run carries out the jobs, Concurrency accounts at a time; each account's steps run in
// order and stop at the first failure. Results come back in job order.
func (d *Dispatcher) Run(ctx context.Context, jobs []Job) []Result {
	results := make([]Result, len(jobs))
	if d.readOnly != "" {
		for i, j := range jobs {
			results[i] = Result{Target: j.Target, Err: ErrReadOnly, Outcome: "refused: quotatop is read-only here (" + d.readOnly + ")"}
		}
		return results
	}
	sem := make(chan struct{}, Concurrency)
	var wg sync.WaitGroup
	for i, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			results[i] = d.runOne(ctx, j.Steps, j.Target)
		}()
	}
	wg.Wait()
	return results
}

// Same gives every target the same steps.
func Same(steps []Kind, targets []Target) []Job {
	jobs := make([]Job, len(targets))
	for i, t := range targets {
		jobs[i] = Job{Target: t, Steps: steps}
	}
	return jobs
}

func (d *Dispatcher) runOne(ctx context.Context, steps []Kind, t Target) Result {
	res := Result{Target: t}
	if why := unaddressable(t); why != "" {
		res.Err = errors.New(why)
		res.Outcome = why
		return res
	}
	for _, k := range steps {
		res.Steps = append(res.Steps, k)
		start := d.clock()
		rec := Record{Time: start, Action: k, Phase: "start", AccountID: t.ID, AccountName: t.Name, Reason: t.Reason}
		if err := d.audit.Write(rec); err != nil {
			res.Err = fmt.Errorf("not started: the audit log cannot be written (%v)", err)
			res.Outcome = res.Err.Error()
			return res
		}
		status, err := d.call(ctx, k, t.ID)
		outcome := "ok"
		if err != nil {
			outcome = "failed: " + err.Error()
		} else if k == Probe {
			res.After, outcome = d.verifyProbe(ctx, t)
		}
		rec.Time, rec.Phase, rec.HTTPStatus, rec.Outcome, rec.DurationMS = d.clock(), "end", status, outcome, d.clock().Sub(start).Milliseconds()
		auditErr := d.audit.Write(rec)
		res.Status, res.Err, res.Outcome = status, err, outcome
		if err != nil {
			return res
		}
		if auditErr != nil {
			res.Err = fmt.Errorf("%s done, but the audit log could not record it (%v); stopping", k.Short(), auditErr)
			res.Outcome = res.Err.Error()
			return res
		}
	}
	// A probe's new snapshot shows within milliseconds, a schedulable switch only after the
	// gateway's queue: the account the probe re-read may not show the other steps yet.
	queued := hasQueuedStep(res.Steps)
	if (res.After == nil || queued) && d.reread != nil {
		if a, ok := d.awaitVisible(ctx, t.ID, res.Steps); ok {
			res.After = a
		} else if queued {
			res.After = nil
			res.Outcome += "; not yet visible in the snapshot storage after " + d.visible.String() + " (the gateway may still be applying it)"
		}
	}
	return res
}

// hasQueuedStep says whether any step is one other than a probe, whose effect the
// re-read must wait for.
func hasQueuedStep(steps []Kind) bool {
	for _, k := range steps {
		if k != Probe {
			return true
		}
	}
	return false
}

// unaddressable says why no admin call may be made for t, or "" when one may: the
// gateway's routes name accounts by a positive ID, an unreadable value says nothing about
// what an action would do, and an ID two storage keys claim could hit the wrong account.
func unaddressable(t Target) string {
	switch {
	case t.ID <= 0:
		return fmt.Sprintf("refused: account ID %d is not one the gateway's admin API can address", t.ID)
	case t.Before != nil && t.Before.Invalid != "":
		return "refused: its stored value cannot be read, so quotatop cannot tell what an action would do"
	case t.Ambiguous != "":
		return "refused: ID " + fmt.Sprint(t.ID) + " is ambiguous (" + t.Ambiguous + "); fix the storage first"
	}
	return ""
}

// awaitVisible re-reads the account until every step shows or the wait is over; false
// means the account could not be read or does not reflect the steps yet, so no state is
// reported (a state read too early is a wrong one).
func (d *Dispatcher) awaitVisible(ctx context.Context, id int64, steps []Kind) (*model.Account, bool) {
	deadline := d.clock().Add(d.visible)
	for {
		a, err := d.reread(ctx, id)
		if err == nil && reflects(&a, steps, d.clock()) {
			return &a, true
		}
		if !d.clock().Before(deadline) || ctx.Err() != nil {
			return nil, false
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// reflects says whether the account as read shows the effect of every step.
func reflects(a *model.Account, steps []Kind, now time.Time) bool {
	for _, k := range steps {
		ok := true
		switch k {
		case Recover:
			ok = a.Status != "error"
		case ClearTemp:
			ok = !now.Before(a.Block().TempUnschedulableUntil)
		case ClearRateLimit:
			b := a.Block()
			ok = !now.Before(b.RateLimitResetAt) && !now.Before(b.OverloadUntil) && !now.Before(b.TempUnschedulableUntil)
		case Schedule:
			ok = a.Schedulable
		case Enable:
			ok = a.Status == "active"
		case Exempt5h, Exempt7d:
			i := 0
			if k == Exempt7d {
				i = 1
			}
			ok = a.Quota != nil && a.Quota.Windows[i].Disabled
		case ResetQuota:
			ok = !model.Judge(a, model.DefaultPolicy(), now).LocalQuota.Exceeded
		}
		if !ok {
			return false
		}
	}
	return true
}

func (d *Dispatcher) call(ctx context.Context, k Kind, id int64) (int, error) {
	switch k {
	case Probe:
		return d.admin.Probe(ctx, id)
	case ClearTemp:
		return d.admin.ClearTempUnschedulable(ctx, id)
	case ClearRateLimit:
		return d.admin.ClearRateLimit(ctx, id)
	case Recover:
		return d.admin.RecoverState(ctx, id)
	case Schedule:
		return d.admin.SetSchedulable(ctx, id)
	case Exempt5h, Exempt7d:
		return d.admin.ExemptWindow(ctx, id, k.Window())
	case ResetQuota, Enable:
		sa, ok := d.admin.(StatusAdmin)
		if !ok {
			return 0, fmt.Errorf("%s is not supported by this admin client", k.Short())
		}
		if k == ResetQuota {
			return sa.ResetQuota(ctx, id)
		}
		return sa.EnableStatus(ctx, id)
	}
	return 0, fmt.Errorf("unknown action %q", k)
}

// verifyProbe re-reads the account until its snapshot time moves. The gateway answers a
// probe with 200 even when upstream failed; only a newer snapshot proves it worked.
func (d *Dispatcher) verifyProbe(ctx context.Context, t Target) (*model.Account, string) {
	if d.reread == nil {
		return nil, "answered; the snapshot was not re-read"
	}
	var before time.Time
	if t.Before != nil && t.Before.Quota != nil {
		before = t.Before.Quota.UpdatedAt
	}
	deadline := d.clock().Add(d.settle)
	for {
		a, err := d.reread(ctx, t.ID)
		if err == nil && a.Quota != nil && a.Quota.HasUpdatedAt && a.Quota.UpdatedAt.After(before) {
			return &a, "refreshed"
		}
		if d.clock().After(deadline) || ctx.Err() != nil {
			if err != nil {
				return nil, "answered, but the account could not be re-read: " + model.OutsideText(err.Error())
			}
			return &a, "unchanged: the gateway could not reach upstream (the snapshot did not move)"
		}
		time.Sleep(100 * time.Millisecond)
	}
}
