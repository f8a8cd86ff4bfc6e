package source

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/quotatop/quotatop/model"
	"github.com/quotatop/quotatop/source/redistest"
	"github.com/redis/go-redis/v9"
	"github.com/valyala/fastjson"
)

const benchFleet = 10000

// floorRead is the least any reader must do: SCAN the meta keys and MGET their values
// in pipelined chunks, decoding nothing.
func floorRead(ctx context.Context, c *redis.Client) (int, error) {
	keys, err := scanNode(ctx, c, "sched:meta:*")
	if err != nil {
		return 0, err
	}
	pipe := c.Pipeline()
	for at := 0; at < len(keys); at += fetchChunk {
		pipe.MGet(ctx, keys[at:min(at+fetchChunk, len(keys))]...)
	}
	cmds, err := pipe.Exec(ctx)
	n := 0
	for _, cmd := range cmds {
		n += len(cmd.(*redis.SliceCmd).Val())
	}
	return n, err
}

// BenchmarkPoll compares one full quotatop poll of 10,000 accounts (scan, fetch, decode,
// judge) with the floor in the same run; the "x-floor" metric is the ratio (goal <= 1.5).
func BenchmarkPoll(b *testing.B) {
	srv := redistest.Start(b)
	now := time.Now()
	redistest.Seed(b, srv.Client(), redistest.Fleet(benchFleet, "sched:", now))
	ctx := context.Background()
	client := srv.Client()
	reader := NewRedis(srv.Client(), "sched:", srv.URL())
	policy := model.DefaultPolicy()

	poll := func() {
		accounts, err := reader.Read(ctx)
		if err != nil || len(accounts) != benchFleet {
			b.Fatalf("read %d: %v", len(accounts), err)
		}
		for i := range accounts {
			model.Judge(&accounts[i], policy, now)
		}
	}
	floor := func() {
		if n, err := floorRead(ctx, client); err != nil || n != benchFleet {
			b.Fatalf("floor read %d: %v", n, err)
		}
	}
	b.Run("floor", func(b *testing.B) {
		for b.Loop() {
			floor()
		}
	})
	b.Run("quotatop", func(b *testing.B) {
		for b.Loop() {
			poll()
		}
	})
	b.Run("ratio", func(b *testing.B) {
		var tf, tq time.Duration
		for b.Loop() {
			start := time.Now()
			floor()
			tf += time.Since(start)
			start = time.Now()
			poll()
			tq += time.Since(start)
		}
		b.ReportMetric(float64(tq)/float64(tf), "x-floor")
		b.ReportMetric(float64(tf.Milliseconds())/float64(b.N), "floor-ms")
		b.ReportMetric(float64(tq.Milliseconds())/float64(b.N), "quotatop-ms")
	})
}

// benchValues is a 10,000-account fleet as decodeBatch receives it: clean, or with the
// dirt real storage has (redistest.DirtyFleet: bad times, numeric strings, a broken value).
func benchValues(dirty bool, now time.Time) (keys []string, metas, lastUsed []any) {
	fleet := redistest.Fleet(benchFleet, "sched:", now)
	if dirty {
		fleet = redistest.DirtyFleet(benchFleet, "sched:", now)
	}
	for k, v := range fleet {
		if strings.HasPrefix(k, "sched:meta:") {
			keys = append(keys, k)
			metas = append(metas, v)
			lastUsed = append(lastUsed, fleet["sched:acc:last_used:"+k[len("sched:meta:"):]])
		}
	}
	return keys, metas, lastUsed
}

// BenchmarkDecodeJudge measures decoding and judging 10,000 stored values without I/O
// on one core (a poll spreads it over every core and overlaps it with the fetch), on a
// clean fleet and a dirty one. Its floors are a bare fastjson parse of the same values (a
// tree the one-pass decoder no longer builds) and a bare validating scan of them, the
// least the one-pass decoder does. BenchmarkDecodeJudgeRef is the same with the fastjson
// decoder it replaced (goal: < 15 ms per 10k).
func BenchmarkDecodeJudge(b *testing.B) {
	now := time.Now()
	policy := model.DefaultPolicy()
	_, metas, _ := benchValues(false, now)
	b.Run("floor-parse", func(b *testing.B) {
		var p fastjson.Parser
		for b.Loop() {
			for _, m := range metas {
				if _, err := p.Parse(m.(string)); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	// the scanner's own floor: validating every byte, reading nothing
	b.Run("floor-scan", func(b *testing.B) {
		for b.Loop() {
			for _, m := range metas {
				if skipValue(m.(string), 0, 1) < 0 {
					b.Fatal("not JSON")
				}
			}
		}
	})
	for _, dirty := range []bool{false, true} {
		keys, metas, lastUsed := benchValues(dirty, now)
		name := "decode-judge"
		if dirty {
			name += "-dirty"
		}
		b.Run(name, func(b *testing.B) {
			var d Decoder
			cpu := processCPU()
			for b.Loop() {
				accounts := d.decodeBatch(keys, metas, lastUsed)
				for i := range accounts {
					model.Judge(&accounts[i], policy, now)
				}
			}
			reportCPU(b, cpu)
		})
	}
}

// reportCPU adds the process's CPU time per operation since cpu (GC included), steadier
// than ns/op on a loaded machine.
func reportCPU(b *testing.B, cpu time.Duration) {
	if used := processCPU() - cpu; used > 0 {
		b.ReportMetric(float64(used.Nanoseconds())/float64(b.N), "cpu-ns/op")
	}
}
