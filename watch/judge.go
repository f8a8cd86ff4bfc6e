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
// With keepAll set, every judgement is kept, in place: the metrics read them all each
// poll (and copy what scrapes show before the poll ends). Without, only this poll's new
// judgements are kept, and a reused one is made again on demand at the instant it was
// made, which gives it back exactly: 100,000 judgements are 41 MB, and the live monitor
// reads few of them a poll.
type judgements struct {
	keepAll bool
	kept    []model.Judgement // with keepAll, every account's
	keys    []string
	revs    []uint64
	next    []int64 // model.NextChange in unix ns, 0 when none is due
	at      []int64 // when each was judged, in unix ns
	policy  model.Policy
	// Without keepAll: this poll's new judgements, and for each account its place among
	// them (-1: judged in an earlier poll).
	fresh    []model.Judgement
	slot     []int32
	accounts []model.Account
	again    model.Judgement // the last judgement made again on demand
	// unchanged is what the last judge kept from the poll before (the detector skips it).
	unchanged events.Unchanged
}

// judge judges a poll and returns its judgements, good until the next call.
func (c *judgements) judge(accounts []model.Account, p model.Policy, now time.Time) events.Judgements {
	reuse := len(c.revs) == len(accounts) && reflect.DeepEqual(p, c.policy)
	var js []model.Judgement
	if c.keepAll {
		reuse = reuse && len(c.kept) == len(accounts)
		js = c.kept
		if cap(js) < len(accounts) {
			js = make([]model.Judgement, len(accounts))
		}
		js = js[:len(accounts)]
		c.kept = js
		c.fresh, c.slot = nil, nil
	} else {
		c.kept = nil
		c.fresh = c.fresh[:0]
		// Every account is judged: grown by appends, the first poll's 10,000
		// judgements (4 MB) allocated 10 MB on the way.
		if !reuse {
			c.fresh = slices.Grow(c.fresh, len(accounts))
		}
		c.slot = slices.Grow(c.slot[:0], len(accounts))[:len(accounts)]
	}
	if len(c.revs) != len(accounts) {
		n := len(accounts)
		c.keys, c.revs, c.next, c.at = make([]string, n), make([]uint64, n), make([]int64, n), make([]int64, n)
	}
	u := &c.unchanged
	u.Same = reuse
	u.Fresh = slices.Grow(u.Fresh[:0], len(accounts))[:len(accounts)]
	stamp := now.UnixNano()
	for i := range accounts {
		a := &accounts[i]
		if c.keys[i] != a.Key {
			u.Same = false
		}
		// A reused judgement keeps the Age it was judged with: nothing downstream reads
		// it, and refreshing it read every account's snapshot every poll.
		if reuse && a.Rev != 0 && c.revs[i] == a.Rev && c.keys[i] == a.Key && (c.next[i] == 0 || stamp < c.next[i]) {
			if !c.keepAll { // kept, it is in place already
				c.slot[i] = -1
			}
			u.Fresh[i] = false
			continue
		}
		j := model.Judge(a, p, now)
		if c.keepAll {
			js[i] = j
		} else {
			c.slot[i] = int32(len(c.fresh))
			c.fresh = append(c.fresh, j)
		}
		u.Fresh[i] = true
		c.keys[i], c.revs[i], c.at[i] = a.Key, a.Rev, stamp
		c.next[i] = 0
		if t := model.NextChange(a, p, now); !t.IsZero() {
			c.next[i] = t.UnixNano()
		}
	}
	c.policy = p
	if c.keepAll {
		return events.JudgementsOf(js)
	}
	c.accounts = accounts
	return c.judgement
}

// judgement is account i's judgement of the last poll judged without keepAll.
func (c *judgements) judgement(i int) *model.Judgement {
	if s := c.slot[i]; s >= 0 {
		return &c.fresh[s]
	}
	c.again = model.Judge(&c.accounts[i], c.policy, time.Unix(0, c.at[i]))
	return &c.again
}

// release lets go of what only the poll just observed reads: the accounts, and a large
// buffer of new judgements (the first poll judges every account: 41 MB at 100,000).
func (c *judgements) release() {
	c.accounts = nil
	if cap(c.fresh) > 1024 {
		c.fresh = nil
	}
}

// all is the last poll's judgements with keepAll, nil without.
func (c *judgements) all() []model.Judgement {
	if !c.keepAll {
		return nil
	}
	return c.kept
}
