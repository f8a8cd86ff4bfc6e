package source

import (
	"strings"
	"testing"
	"time"

	"github.com/quotatop/quotatop/model"
	"github.com/quotatop/quotatop/source/redistest"
)

func BenchmarkOneValue(b *testing.B) {
	v := redistest.MetaValue(42, time.Now(), 50, 60, time.Minute)
	b.SetBytes(int64(len(v)))
	b.Run("scan", func(b *testing.B) {
		var d Decoder
		for b.Loop() {
			d.Decode("sched:meta:42", v)
		}
	})
	b.Run("skip", func(b *testing.B) {
		for b.Loop() {
			skipValue(v, 0, 1)
		}
	})
	b.Run("ref", func(b *testing.B) {
		var d refDecoder
		for b.Loop() {
			d.refDecode("sched:meta:42", v)
		}
	})
}

func BenchmarkPieces(b *testing.B) {
	now := time.Now()
	keys, metas, lastUsed := benchValues(false, now)
	var d Decoder
	accounts := d.decodeBatch(keys, metas, lastUsed)
	policy := model.DefaultPolicy()
	b.Run("judge", func(b *testing.B) {
		for b.Loop() {
			for i := range accounts {
				model.Judge(&accounts[i], policy, now)
			}
		}
	})
	b.Run("batch", func(b *testing.B) {
		for b.Loop() {
			d.decodeBatch(keys, metas, lastUsed)
		}
	})
	b.Run("skip", func(b *testing.B) {
		for b.Loop() {
			for _, m := range metas {
				skipValue(m.(string), 0, 1)
			}
		}
	})
}

func BenchmarkTouch(b *testing.B) {
	keys, metas, _ := benchValues(false, time.Now())
	_ = keys
	var sink int
	b.Run("indexbyte", func(b *testing.B) {
		for b.Loop() {
			for _, m := range metas {
				sink += strings.IndexByte(m.(string), 0)
			}
		}
	})
	b.Run("sum8", func(b *testing.B) {
		for b.Loop() {
			for _, m := range metas {
				s := m.(string)
				var x uint64
				for i := 0; i+8 <= len(s); i += 8 {
					x += load8(s, i)
				}
				sink += int(x)
			}
		}
	})
	_ = sink
}
