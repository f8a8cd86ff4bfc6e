package demo

import (
	"time"

	"github.com/quotatop/quotatop/model"
	"github.com/quotatop/quotatop/source"
)

// forecastAccounts are the accounts that make the demo's projections worth watching:
// group 4 runs dry within the hour (every account in it is close to its 5h threshold and
// busy), and one account in group 1 has most of a 5h window left just before its reset.
func forecastAccounts(now time.Time, add func(name, platform, typ string, mod func(a *Account))) {
	busy := func(age time.Duration, used5h, used7d, rate float64, resetIn time.Duration) func(a *Account) {
		return func(a *Account) {
			taken := now.Add(-age)
			snapshot(a.Extra, taken, used5h, used7d, now.Add(resetIn), now.Add(80*time.Hour))
			a.GroupIDs, a.Rate = []int64{4}, rate
		}
	}
	add("codex-eu-41", "openai", "oauth", busy(20*time.Second, 86, 40, 0.45, 3*time.Hour))
	add("codex-eu-42", "openai", "oauth", busy(35*time.Second, 82, 52, 0.4, 4*time.Hour))
	add("codex-eu-43", "openai", "oauth", busy(10*time.Second, 78, 47, 0.4, 150*time.Minute))
	add("codex-idle-44", "openai", "oauth", func(a *Account) {
		snapshot(a.Extra, now.Add(-15*time.Second), 12, 20, now.Add(40*time.Minute), now.Add(120*time.Hour))
		a.GroupIDs, a.Rate = []int64{1}, 0.02
	})
}

// Poll is what a poll of the demo would have read at At.
type Poll struct {
	At       time.Time
	Accounts []model.Account
}

// Past rebuilds the polls of the span before now, one every step: every account taking
// traffic had its snapshot refreshed at each of them, with the use its rate implies. It
// seeds the demo's history, so rates and pause times show from the first screen.
func (s *Sim) Past(now time.Time, span, step time.Duration) []Poll {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Poll
	for at := now.Add(-span); at.Before(now); at = at.Add(step) {
		p := Poll{At: at}
		for _, a := range s.accounts {
			acc := source.DecodeMeta(s.metaKey(a.ID), a.MetaJSON())
			q := acc.Quota
			if a.Raw != "" || a.Platform != "openai" || q == nil || !q.HasUpdatedAt || !at.Before(q.UpdatedAt) || a.Poisoned {
				continue
			}
			back := q.UpdatedAt.Sub(at).Minutes()
			past := *q
			past.UpdatedAt = at
			for i, per := range [2]float64{a.Rate, a.Rate / 14} {
				w := &past.Windows[i]
				if w.HasResetAt && w.ResetAt.Sub(at) > [2]time.Duration{5 * time.Hour, 7 * 24 * time.Hour}[i] {
					w.Present = false // that window had not started yet
				}
				w.UsedPercent = max(w.UsedPercent-per*back, 0)
			}
			acc.Quota = &past
			p.Accounts = append(p.Accounts, acc)
		}
		out = append(out, p)
	}
	return out
}
