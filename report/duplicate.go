package report

import (
	"cmp"
	"slices"
)

// sharedIDs is the rows whose account ID another row claims too (two storage keys for
// one account: the gateway's own cache of it is then in question), one group per ID in
// ID order, each group in row order; nil when every ID is claimed once, as it nearly
// always is. Rows from Judge are in ID order, which one pass confirms; other rows are
// ordered here first.
func sharedIDs(rows []Row) [][]int32 {
	sorted, shared := true, false
	for i := 1; i < len(rows) && sorted; i++ {
		switch prev, id := rows[i-1].Account.ID, rows[i].Account.ID; {
		case id < prev:
			sorted = false
		case id == prev:
			shared = true
		}
	}
	if sorted && !shared {
		return nil
	}
	order := make([]int32, len(rows))
	for i := range order {
		order[i] = int32(i)
	}
	if !sorted {
		slices.SortStableFunc(order, func(x, y int32) int { return cmp.Compare(rows[x].Account.ID, rows[y].Account.ID) })
	}
	var groups [][]int32
	for lo := 0; lo < len(order); {
		hi := lo + 1
		for hi < len(order) && rows[order[hi]].Account.ID == rows[order[lo]].Account.ID {
			hi++
		}
		if hi-lo > 1 {
			groups = append(groups, order[lo:hi:hi])
		}
		lo = hi
	}
	return groups
}

// duplicateOf maps each row of groups to the key of another row claiming its ID: the one
// before it in its group, else the one after, as the live monitor's detail names one.
func duplicateOf(rows []Row, groups [][]int32) map[int32]string {
	if len(groups) == 0 {
		return nil
	}
	dups := make(map[int32]string)
	for _, g := range groups {
		for k, i := range g {
			other := g[1]
			if k > 0 {
				other = g[k-1]
			}
			dups[i] = rows[other].Account.Key
		}
	}
	return dups
}
