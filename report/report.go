// Package report prints one judged snapshot of the fleet for scripts: an aligned table,
// a JSON document or CSV. Its formats are an interface: add fields, never rename.
package report

import (
	"cmp"
	"fmt"
	"io"
	"math"
	"slices"
	"time"

	"github.com/quotatop/quotatop/model"
	"github.com/quotatop/quotatop/trend"
)

// Row is one account with its judgement.
type Row struct {
	Account   *model.Account
	Judgement model.Judgement
	// Provider is another platform's usage judged with it (model.JudgeProvider); nil
	// without one. Its windows fill the 5h and 7d columns where no Codex snapshot does.
	Provider *model.ProviderJudgement
	// Forecast is the account's projection, set by Project (only the JSON document shows
	// one); nil before. A pointer: a table of 10,000 rows would zero 3.4 MB for nothing.
	Forecast *trend.Forecast
}

// Judge judges every account at now, ordered by ID. A large fleet is judged on every core.
func Judge(accounts []model.Account, p model.Policy, now time.Time) []Row {
	order := byID(accounts)
	rows := make([]Row, len(accounts))
	eachChunk(len(rows), judgeChunk, func(lo, hi int) { judgeRange(rows[lo:hi], accounts, order[lo:hi], p, now) })
	return rows
}

// judgeChunk is how many rows a goroutine judges at a time: enough to make handing out
// a chunk cheap, few enough to keep the cores busy to the end.
const judgeChunk = 512

// idIndex is an account's ID beside its index: sorting these compares IDs without
// reaching into the accounts, which are hundreds of bytes apart.
type idIndex struct {
	id int64
	i  int32
}

// byID is the accounts' indexes ordered by ID, as sorting the indexes by ID orders them.
func byID(accounts []model.Account) []idIndex {
	order := make([]idIndex, len(accounts))
	for i := range accounts {
		order[i] = idIndex{accounts[i].ID, int32(i)}
	}
	if len(order) >= radixFrom {
		// Distinct IDs have one sorted order, whichever sort finds it; a radix sort finds
		// it in a few linear passes. Shared IDs fall through to the comparison sort,
		// which orders them as it always has.
		sorted := radixSort(order, make([]idIndex, len(order)))
		if !sharesID(sorted) {
			return sorted
		}
		for i := range order {
			order[i] = idIndex{accounts[i].ID, int32(i)}
		}
	}
	// The sort moves elements by the comparisons' results alone, so accounts that share
	// an ID come out as when bare indexes were sorted.
	slices.SortFunc(order, func(x, y idIndex) int { return cmp.Compare(x.id, y.id) })
	return order
}

// radixFrom is the fleet size from which byID tries the radix sort first.
const radixFrom = 256

// radixSort sorts order by ID a byte at a time, using tmp (as long) as the other buffer,
// and returns whichever of the two holds the result. It skips a byte all IDs share:
// IDs are small, so most passes are skipped.
func radixSort(order, tmp []idIndex) []idIndex {
	var counts [8][256]int
	for _, o := range order {
		k := uint64(o.id) ^ 1<<63 // negative IDs first
		for d := range counts {
			counts[d][byte(k>>(8*d))]++
		}
	}
	src, dst := order, tmp
	for d := range counts {
		c := &counts[d]
		if c[byte((uint64(src[0].id)^1<<63)>>(8*d))] == len(src) {
			continue
		}
		at := 0
		for b, n := range c {
			c[b] = at
			at += n
		}
		for _, o := range src {
			b := byte((uint64(o.id) ^ 1<<63) >> (8 * d))
			dst[c[b]] = o
			c[b]++
		}
		src, dst = dst, src
	}
	return src
}

// sharesID reports whether two of the sorted accounts have the same ID.
func sharesID(sorted []idIndex) bool {
	for i := 1; i < len(sorted); i++ {
		if sorted[i].id == sorted[i-1].id {
			return true
		}
	}
	return false
}

// judgeRange fills rows with the accounts at order. Provider judgements come from slabs
// rather than one allocation each.
func judgeRange(rows []Row, accounts []model.Account, order []idIndex, p model.Policy, now time.Time) {
	var slab []model.ProviderJudgement
	for n, o := range order {
		a := &accounts[o.i]
		r := &rows[n]
		r.Account, r.Judgement = a, model.Judge(a, p, now)
		if pj, ok := model.JudgeProvider(a, p, now); ok {
			if len(slab) == cap(slab) {
				slab = make([]model.ProviderJudgement, 0, min(len(order)-n, 64))
			}
			slab = append(slab, pj)
			r.Provider = &slab[len(slab)-1]
		}
	}
}

// Header says what was read and when.
type Header struct {
	GeneratedAt time.Time
	Source      string
	Prefix      string
	API         bool // read from the admin API (which has no prefix), not from Redis
	// ThresholdsSource says where the thresholds came from ("gateway" or "flags");
	// ThresholdsError why the gateway's could not be read; GatewayVersion is "" unknown.
	ThresholdsSource string
	ThresholdsError  string
	GatewayVersion   string
	Groups           []trend.Group // see Project
}

// Count returns how many rows are in each state.
func Count(rows []Row) map[model.State]int {
	n := map[model.State]int{}
	for _, r := range rows {
		n[r.Judgement.State]++
	}
	return n
}

// Write prints rows in format ("table", "json" or "csv").
func Write(w io.Writer, format string, h Header, rows []Row) error {
	switch format {
	case "table":
		return writeTable(w, h, rows)
	case "json":
		return writeJSON(w, h, rows)
	case "csv":
		return writeCSV(w, rows)
	}
	return fmt.Errorf("unknown output format %q (use table, json or csv)", format)
}

// Formats lists the accepted output formats.
var Formats = []string{"table", "json", "csv"}

// BlockedUntil is the latest until-time of the blocks in force at now, or zero.
func BlockedUntil(a *model.Account, now time.Time) time.Time {
	var until time.Time
	b := a.Block()
	for _, t := range []time.Time{b.OverloadUntil, b.RateLimitResetAt, b.TempUnschedulableUntil} {
		if t.After(now) && t.After(until) {
			until = t
		}
	}
	return until
}

// finite reports whether f can be written as a number: the formats show a NaN or an
// infinity as nothing (null, an empty cell, a dash) rather than fail or print "+Inf".
func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }
