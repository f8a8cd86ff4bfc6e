package source

import (
	"testing"
	"time"

	"github.com/quotatop/quotatop/source/redistest"
)

func BenchmarkOneValue(b *testing.B) {
	v := redistest.MetaValue(42, time.Now(), 50, 60, time.Minute)
	b.SetBytes(int64(len(v)))
	b.Run("scan", func(b *testing.B) {
		var d Decoder
		for b.Loop() {
			d.decode("sched:meta:42", v)
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
