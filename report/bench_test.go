package report

import (
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/quotatop/quotatop/model"
	"github.com/quotatop/quotatop/source"
	"github.com/quotatop/quotatop/source/redistest"
)

// dirtyAccounts decodes a dirty fleet of n accounts in a fixed shuffled order, as SCAN
// lists keys in no order.
func dirtyAccounts(n int, now time.Time) []model.Account {
	fleet := redistest.DirtyFleet(n, "sched:", now)
	keys := make([]string, 0, len(fleet))
	for k := range fleet {
		if strings.HasPrefix(k, "sched:meta:") {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	accounts := make([]model.Account, 0, len(keys))
	for _, k := range keys {
		accounts = append(accounts, source.DecodeMeta(k, fleet[k]))
	}
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(accounts), func(i, j int) { accounts[i], accounts[j] = accounts[j], accounts[i] })
	return accounts
}

// BenchmarkJudge judges 10,000 accounts, as a one-shot run does after the read.
func BenchmarkJudge(b *testing.B) {
	now := time.Now()
	accounts := dirtyAccounts(10000, now)
	p := model.DefaultPolicy()
	b.ReportAllocs()
	for b.Loop() {
		Judge(accounts, p, now)
	}
}

// BenchmarkJudgeSerial is BenchmarkJudge's work on one goroutine, as Judge did it before
// it used every core.
func BenchmarkJudgeSerial(b *testing.B) {
	now := time.Now()
	accounts := dirtyAccounts(10000, now)
	p := model.DefaultPolicy()
	b.ReportAllocs()
	for b.Loop() {
		serialJudge(accounts, p, now)
	}
}

// BenchmarkWrite prints 10,000 judged accounts in every format.
func BenchmarkWrite(b *testing.B) {
	now := time.Now()
	rows := Judge(dirtyAccounts(10000, now), model.DefaultPolicy(), now)
	h := Header{GeneratedAt: now, Source: "redis://x", Prefix: "sched:"}
	for _, format := range Formats {
		b.Run(format, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := Write(io.Discard, format, h, rows); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
