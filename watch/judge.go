package watch

import (
	"reflect"
	"slices"
	"time"

	"github.com/quotatop/quotatop/events"
	"github.com/quotatop/quotatop/model"
)

// judgements judges a poll, reusing the last poll's judgement of an account whose stored
// value did not change (same non-zero Rev at the same place) while nothing about it is
// due to change (model.NextChange): at 100,000 accounts with a few rewritten per poll,
// judging everything again was a third of the live monitor's CPU.
//
// With shared set, two buffers alternate: the metrics keep the last poll's judgements for
// scrapes until this poll's replace them, so this poll never writes the slice they read.
// Without anyone keeping them, one buffer is judged in place (100,000 judgements are
// 45 MB).
type judgements struct {
	shared bool
	bufs   [2][]model.Judgement
	cur    int
	keys   []string
	revs   []uint64
	next   []time.Time
	policy model.Policy
	// unchanged is what the last judge kept from the poll before (the detector skips it).
	unchanged events.Unchanged
}

func (c *judgements) judge(accounts []model.Account, p model.Policy, now time.Time) []model.Judgement {
	prev := c.bufs[c.cur]
	if c.shared {
		c.cur ^= 1
	}
	js := c.bufs[c.cur]
	if cap(js) < len(accounts) {
		js = make([]model.Judgement, len(accounts))
	}
	js = js[:len(accounts)]
	c.bufs[c.cur] = js
	reuse := len(prev) == len(accounts) && len(c.revs) == len(accounts) && reflect.DeepEqual(p, c.policy)
	if len(c.revs) != len(accounts) {
		c.keys, c.revs, c.next = make([]string, len(accounts)), make([]uint64, len(accounts)), make([]time.Time, len(accounts))
	}
	u := &c.unchanged
	u.Same = reuse
	u.Fresh = slices.Grow(u.Fresh[:0], len(accounts))[:len(accounts)]
	for i := range accounts {
		a := &accounts[i]
		if c.keys[i] != a.Key {
			u.Same = false
		}
		// A reused judgement keeps the Age it was judged with: nothing downstream reads
		// it, and refreshing it read every account's snapshot every poll.
		if reuse && a.Rev != 0 && c.revs[i] == a.Rev && c.keys[i] == a.Key && (c.next[i].IsZero() || now.Before(c.next[i])) {
			if c.shared {
				js[i] = prev[i] // in place it is there already
			}
			u.Fresh[i] = false
			continue
		}
		js[i] = model.Judge(a, p, now)
		u.Fresh[i] = true
		c.keys[i], c.revs[i], c.next[i] = a.Key, a.Rev, model.NextChange(a, p, now)
	}
	c.policy = p
	return js
}
