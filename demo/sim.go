package demo

import (
	"context"
	"errors"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	"github.com/quotatop/quotatop/model"
	"github.com/quotatop/quotatop/source"
	"github.com/redis/go-redis/v9"
)

// Sim is the demo gateway: it owns the fleet and publishes it to Redis the way sub2api
// does, moving it as time passes.
type Sim struct {
	mu       sync.Mutex
	accounts []*Account
	byID     map[int64]*Account
	client   redis.Cmdable
	prefix   string
	// policy is the demo gateway's own: the simulator schedules by it and the simulated
	// admin API serves its thresholds, so quotatop judges the demo by what drives it.
	// Never changed after NewSim.
	policy model.Policy
	rng    *rand.Rand
	probes int
}

// gatewayPolicy is the demo gateway's configuration: quota auto-pause defaults of 90 %
// (ops advanced settings) where an account sets no threshold, and an OpenAI scheduling
// threshold of 98 % (settings' account_scheduling_thresholds).
func gatewayPolicy() model.Policy {
	p := model.DefaultPolicy()
	p.DefaultThreshold = [2]float64{0.9, 0.9}
	p.SchedulingThresholds = map[string]float64{"openai": 98, "anthropic": 100, "grok": 100}
	return p
}

// NewSim wraps a fleet that will be published to client under prefix.
func NewSim(fleet []*Account, client redis.Cmdable, prefix string) *Sim {
	s := &Sim{accounts: fleet, byID: map[int64]*Account{}, client: client, prefix: prefix,
		policy: gatewayPolicy(), rng: rand.New(rand.NewPCG(7, 11))}
	for _, a := range fleet {
		s.byID[a.ID] = a
	}
	return s
}

func (s *Sim) metaKey(id int64) string { return s.prefix + "meta:" + strconv.FormatInt(id, 10) }

func (s *Sim) lastUsedKey(id int64) string {
	return s.prefix + "acc:last_used:" + strconv.FormatInt(id, 10)
}

// Publish writes every account as it stands.
func (s *Sim) Publish(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	pipe := s.client.Pipeline()
	for _, a := range s.accounts {
		pipe.Set(ctx, s.metaKey(a.ID), a.MetaJSON(), 0)
		if a.LastUsedAt != nil {
			pipe.Set(ctx, s.lastUsedKey(a.ID), strconv.FormatInt(a.LastUsedAt.UnixMilli(), 10), 0)
		}
	}
	_, err := pipe.Exec(ctx)
	return err
}

// errNoAccount is returned for an ID the demo gateway does not have.
var errNoAccount = errors.New("account not found")

// Change applies fn to one account under the simulator's lock and publishes it, the way
// an admin write reaches sched:meta in the real gateway.
func (s *Sim) Change(ctx context.Context, id int64, fn func(a *Account, now time.Time)) error {
	var value string
	err := s.Look(id, func(a *Account) {
		fn(a, time.Now())
		value = a.MetaJSON()
	})
	if err != nil {
		return err
	}
	return s.client.Set(ctx, s.metaKey(id), value, 0).Err()
}

// Look runs fn on one account under the simulator's lock without publishing anything.
func (s *Sim) Look(id int64, fn func(a *Account)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.byID[id]
	if !ok {
		return errNoAccount
	}
	fn(a)
	return nil
}

// Each runs fn on every account in ID order, then done, under one hold of the lock: the
// admin API's list sees one consistent fleet.
func (s *Sim) Each(fn func(a *Account), done func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range s.accounts {
		fn(a)
	}
	done()
}

// probe is the admin API's refresh probe: the snapshot is taken again from "upstream",
// which heals a poisoned one and confirms a real one. Every fifth probe fails (upstream
// unreachable) and leaves the old snapshot in place, as the real gateway does.
func (s *Sim) probe(ctx context.Context, id int64) error {
	return s.Change(ctx, id, func(a *Account, now time.Time) {
		s.probes++
		if a.Raw != "" || s.probes%5 == 0 {
			return
		}
		acc := source.DecodeMeta(s.metaKey(a.ID), a.MetaJSON())
		if acc.Quota == nil {
			return
		}
		s.refresh(a, acc.Quota, now)
	})
}

// Run moves the fleet every interval until ctx ends.
func (s *Sim) Run(ctx context.Context, every time.Duration, clock func() time.Time) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.Step(ctx, clock())
		}
	}
}

// Step advances the simulation to now: accounts the gateway schedules take traffic and
// refresh their snapshots, windows roll over on time, and accounts whose snapshot went
// stale get the gateway's probe request. Whom the gateway schedules is model.Judge under
// the gateway's own policy (the thresholds its admin API serves): ok and warn (a ready
// reset card keeps an account scheduled) take traffic; stale_probe gets the one request
// whose headers refresh the snapshot, after which it is judged afresh; every other state
// (paused by the quota rule or a scheduling threshold, blocked, disabled, error) gets
// nothing, so its usage and last use stand still and its snapshot ages.
func (s *Sim) Step(ctx context.Context, now time.Time) error {
	s.mu.Lock()
	pipe := s.client.Pipeline()
	for _, a := range s.accounts {
		if a.Raw != "" || a.Platform != "openai" || a.Type != "oauth" {
			continue
		}
		acc := source.DecodeMeta(s.metaKey(a.ID), a.MetaJSON())
		switch model.Judge(&acc, s.policy, now).State {
		case model.StateOK, model.StateWarn:
			// Live traffic refreshes a snapshot at most every 30 s, so not every step.
			if s.rng.IntN(8) != 0 {
				continue
			}
			s.traffic(a, acc.Quota, now)
		case model.StateStaleProbe:
			// The gateway's own probe comes with the next request; the poisoned account
			// is left for the operator to probe, so the demo can show the heal.
			if a.Poisoned || s.rng.IntN(60) != 0 {
				continue
			}
			s.refresh(a, acc.Quota, now)
		default:
			continue
		}
		pipe.Set(ctx, s.metaKey(a.ID), a.MetaJSON(), 0)
		pipe.Set(ctx, s.lastUsedKey(a.ID), strconv.FormatInt(now.UnixMilli(), 10), 0)
	}
	s.mu.Unlock()
	_, err := pipe.Exec(ctx)
	return err
}

// traffic spends quota since the last snapshot and takes a new one.
func (s *Sim) traffic(a *Account, q *model.Quota, now time.Time) {
	a.LastUsedAt = at(now) // Step writes the same time to acc:last_used
	if q == nil || !q.HasUpdatedAt {
		return
	}
	minutes := now.Sub(q.UpdatedAt).Minutes()
	used := [2]float64{q.Windows[0].UsedPercent + a.Rate*minutes, q.Windows[1].UsedPercent + a.Rate*minutes/14}
	s.takeSnapshot(a, q, now, used)
}

// refresh is the probe: the snapshot is taken again from "upstream". A poisoned one heals.
func (s *Sim) refresh(a *Account, q *model.Quota, now time.Time) {
	if q == nil {
		return
	}
	used := [2]float64{q.Windows[0].UsedPercent, q.Windows[1].UsedPercent}
	if a.Poisoned {
		used, a.Poisoned = [2]float64{1, 6}, false
	}
	s.takeSnapshot(a, q, now, used)
	a.LastUsedAt = at(now)
}

func (s *Sim) takeSnapshot(a *Account, q *model.Quota, now time.Time, used [2]float64) {
	var resets [2]time.Time
	for i, length := range [2]time.Duration{5 * time.Hour, 7 * 24 * time.Hour} {
		resets[i] = q.Windows[i].ResetAt
		if !q.Windows[i].HasResetAt || !now.Before(resets[i]) {
			resets[i], used[i] = now.Add(length), 0
		}
		used[i] = min(used[i], 100)
	}
	snapshot(a.Extra, now, used[0], used[1], resets[0], resets[1])
}
