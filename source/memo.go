package source

import (
	"hash/maphash"

	"github.com/quotatop/quotatop/model"
)

// memo remembers the accounts of the last Read by storage key, with a fingerprint of
// the bytes each was decoded from, so that the next Read decodes only the values that
// changed: at 10,000 accounts almost every value is the same two seconds later.
type memo struct {
	seed     maphash.Seed
	accounts []model.Account // the last Read's result, shared with its caller, never written
	at       map[string]int32
	// spare is the Read's result before the last: the next Read builds in it rather than
	// allocate a fleet (10,000 accounts are 2.2 MB a changed poll, and the collector's work).
	spare []model.Account
	// changed lists the places where the last result differs from the spare, when it was
	// made from the one before by putting a few changed accounts in place (patched):
	// then the next such Read brings the spare up to date with those alone rather than
	// clear and copy the whole fleet (100,000 accounts are 22 MB).
	changed []int32
	patched bool
}

// Remember makes every later Read reuse the decoded account of each value whose bytes
// have not changed since the Read before. Call it before the first Read; a one-shot read
// has nothing to gain.
//
// With it, a Read may write into the slice it returned two Reads before: a caller may
// hold the latest result while the next Read runs, but nothing older (the live monitor
// and `watch` replace their fleet with each result; the history keeps no accounts).
func (r *Redis) Remember() {
	r.memo = &memo{seed: maphash.MakeSeed(), at: map[string]int32{}}
}

// SkipLastUsed stops Read from fetching the <prefix>acc:last_used:* keys, which doubles
// the MGETs, for callers that do not show the last use (the table and CSV outputs; the
// live monitor shows it only in the detail view, through ReadAccount, which still reads
// it). LastUsedAt is then the value's own, older, field.
func (r *Redis) SkipLastUsed() { r.skipLastUsed = true }

// rev fingerprints a stored value; it is never 0, which model.Account.Rev keeps for
// "unknown".
func (m *memo) rev(raw string) uint64 {
	return maphash.String(m.seed, raw) | 1
}

// lookup returns the account decoded from the same bytes at the last Read. It only reads
// the memo, so the decoding goroutines may call it at once.
func (m *memo) lookup(key string, rev uint64) (model.Account, bool) {
	if m == nil {
		return model.Account{}, false
	}
	i, ok := m.at[key]
	if !ok || m.accounts[i].Rev != rev {
		return model.Account{}, false
	}
	return m.accounts[i], true
}

// keep replaces the memo with this Read's result, once the decoding is done.
func (m *memo) keep(accounts []model.Account) {
	if m == nil {
		return
	}
	clear(m.at)
	for i := range accounts {
		m.at[accounts[i].Key] = int32(i)
	}
	m.advance(accounts)
}

// advance makes accounts the last result; the one before becomes the spare.
func (m *memo) advance(accounts []model.Account) {
	if len(accounts) > 0 && len(m.accounts) > 0 && &accounts[0] == &m.accounts[0] {
		return // the same result again (nothing changed): it is no spare
	}
	m.spare, m.accounts, m.patched = m.accounts, accounts, false
}

// advancePatched makes accounts, the last result with the places changed replaced, the
// last result.
func (m *memo) advancePatched(accounts []model.Account, changed []int32) {
	m.advance(accounts)
	m.changed, m.patched = append(m.changed[:0], changed...), true
}

// takePatched returns the spare brought up to date with the last result, n accounts
// long, when the last result was patched from it; else false, and the caller builds the
// next result from scratch.
func (m *memo) takePatched(n int) ([]model.Account, bool) {
	if m == nil || !m.patched || len(m.spare) != n || len(m.accounts) != n {
		return nil, false
	}
	s := m.spare
	for _, i := range m.changed {
		s[i] = m.accounts[i]
	}
	m.spare = nil // handed out once
	return s, true
}

// take returns n zeroed accounts to build the next result in: the spare when it is big
// enough, else a new slice. Without a memo there is no spare.
func (m *memo) take(n int) []model.Account {
	if m == nil || cap(m.spare) < n {
		return make([]model.Account, n)
	}
	s := m.spare[:n]
	m.spare = nil // handed out once
	clear(s)
	return s
}
