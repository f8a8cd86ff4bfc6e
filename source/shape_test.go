package source

import (
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/quotatop/quotatop/source/redistest"
)

// shapeValues are values whose keys come in every order and spelling: a clean and a
// dirty fleet, the reference seeds, and clean values with keys moved, respelled, spaced
// and changed in kind, so that a Decoder meets keys unlike the ones it remembers.
func shapeValues(t testing.TB) []string {
	now := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	var out []string
	clean := redistest.Fleet(20, "sched:", now)
	dirty := redistest.DirtyFleet(20, "sched:", now)
	for i := 1; i <= 20; i++ {
		v := clean["sched:meta:"+strconv.Itoa(i)]
		out = append(out, v, dirty["sched:meta:"+strconv.Itoa(i)],
			strings.Replace(v, `"Name":`, `"Nam\u0065":`, 1),
			strings.Replace(v, `"Platform":`, `"Platform" :`, 1),
			strings.Replace(v, `"Notes":null,`, `"Notes":1,"Extra":{"codex_5h_used_percent":"9"},`, 1),
			strings.Replace(v, `"codex_5h_used_percent"`, `"codex_7d_used_percent"`, 1),
			strings.Replace(v, `"Extra":{`, `"Extra":{"quota_limit":3,"kimi_5h_used_percent":4,`, 1),
			strings.Replace(v, `"Status":"active"`, `"Status":"active","Status":"error"`, 1),
			strings.Replace(v, `"ID":`+strconv.Itoa(i)+`,`, ``, 1),
			v[:len(v)/2])
	}
	return append(out, refSeeds(t)...)
}

// A Decoder that has read other values, in any order, decodes each value as the
// reference decoder does: what it remembers of their keys only saves work.
func TestShapeDecodesLikeReference(t *testing.T) {
	values := shapeValues(t)
	var d Decoder
	var ref refDecoder
	for round := range 3 {
		for n := range values {
			raw := values[(n*(round+1)*7)%len(values)] // a different order each round
			got, want := d.Decode("sched:meta:7", raw), ref.refDecode("sched:meta:7", raw)
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("%q after others:\nscanner   %s\nreference %s", raw, refShow(got), refShow(want))
			}
		}
	}
}

// Whatever a Decoder read before, it decodes the next value as the reference does.
func FuzzDecodeAfterOther(f *testing.F) {
	values := shapeValues(f)
	for n := range values {
		f.Add(values[n], values[(n*13+5)%len(values)])
	}
	f.Fuzz(func(t *testing.T, first, next string) {
		var d Decoder
		var ref refDecoder
		d.Decode("sched:meta:7", first)
		got, want := d.Decode("sched:meta:7", next), ref.refDecode("sched:meta:7", next)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%q after %q:\nscanner   %s\nreference %s", next, first, refShow(got), refShow(want))
		}
	})
}
