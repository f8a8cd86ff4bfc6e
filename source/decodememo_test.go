package source

import (
	"bytes"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/quotatop/quotatop/model"
	"github.com/quotatop/quotatop/source/redistest"
)

// memoValues are values that repeat one another's members: a clean and a dirty fleet in
// storage order, each value again, again with one member changed or gone, cut short,
// and with numbers, strings and nulls that agree with the last value's up to their
// last byte; and values that remember members of two Extra objects.
func memoValues(t testing.TB) []string {
	now := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	clean := redistest.Fleet(12, "sched:", now)
	dirty := redistest.DirtyFleet(12, "sched:", now)
	var out []string
	for i := 1; i <= 12; i++ {
		for _, v := range []string{clean["sched:meta:"+strconv.Itoa(i)], dirty["sched:meta:"+strconv.Itoa(i)]} {
			out = append(out, v, v,
				strings.Replace(v, `"Status":"active"`, `"Status":"error"`, 1),
				strings.Replace(v, `"Priority":1,`, `"Priority":10,`, 1),
				strings.Replace(v, `"Priority":1,`, `"Priority":1 ,`, 1),
				strings.Replace(v, `"Concurrency":3,`, ``, 1),
				strings.Replace(v, `"Notes":null`, `"Notes":nul`, 1),
				strings.Replace(v, `"GroupIDs":[3]`, `"GroupIDs":[3,4]`, 1),
				strings.Replace(v, `"GroupIDs":[3]`, `"GroupIDs":[3]}`, 1),
				strings.Replace(v, `"GroupIDs":[3]`, `"GroupIDs":[3],"GroupIDs":[4,"x"]`, 1),
				strings.Replace(v, `"GroupIDs":[3]`, `"GroupIDs":[],"GroupIDs":[3]`, 1),
				strings.Replace(v, `_threshold":0.95`, `_threshold":0.955`, 1),
				strings.Replace(v, `_threshold":0.95`, `_threshold":"0.95"`, 1),
				strings.Replace(v, `"Extra":{`, `"Extra":{"codex_5h_used_percent":1},"Extra":{`, 1),
				strings.Replace(v, `"Extra":{`, `"Extra":{"model_rate_limits":{"m":{}},`, 1),
				strings.Replace(v, `"ExpiresAt":null`, `"ExpiresAt":"2026-11-26T10:00:00Z"`, 1),
				strings.Replace(v, `"TempUnschedulableReason":""`, `"TempUnschedulableReason":"{\"source\":\"quota_counter\",\"window\":\"5h\"}"`, 1),
				v[:len(v)-1], v[:len(v)-2], v+"x", v)
		}
	}
	// a value cut short after a member that repeats the one before it in an earlier
	// Extra: the next value must not take what followed that one for what follows this
	return append(out,
		`{"ID":1,"Extra":{"a":1,"codex_5h_used_percent":2},"Extra":{"a":1,x}`,
		`{"ID":1,"Extra":{"a":1,"b":3}}`,
		// and a member that repeats one of the same value's, then breaks the value
		`{"ID":1,"Extra":{"codex_5h_used_percent":5},"Extra":{"codex_5h_used_percent":"6`,
		`{"ID":1,"Extra":{"codex_5h_used_percent":5}}`)
}

// A Decoder reading values that repeat the last one's members, whole or in part, decodes
// each as the reference decoder does, in storage order and in any other.
func TestMemoDecodesLikeReference(t *testing.T) {
	values := append(memoValues(t), shapeValues(t)...)
	var d Decoder
	var ref refDecoder
	for round := range 3 {
		for n := range values {
			raw := values[n]
			if round > 0 {
				raw = values[(n*(round*6+1))%len(values)]
			}
			got, want := d.Decode("sched:meta:7", raw), ref.refDecode("sched:meta:7", raw)
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("%q after others (round %d):\nscanner   %s\nreference %s", raw, round, refShow(got), refShow(want))
			}
		}
	}
}

// The accounts decoded from alike values share nothing that can change: changing one
// leaves the next alone. GroupIDs are the exception, read-only like a judgement's Reasons
// (nothing writes into them): alike accounts share one slice, with no room to grow, so
// an append copies it.
func TestMemoSharesNothing(t *testing.T) {
	v := `{"ID":1,"GroupIDs":[3,4],"TempUnschedulableReason":"{\"source\":\"quota_counter\",\"window\":\"5h\"}","Extra":{"codex_5h_used_percent":5}}`
	var d Decoder
	a := d.Decode("sched:meta:1", v)
	a.Block().TempBlock.Window = "x"
	a.Quota.Windows[0].UsedPercent = 99
	_ = append(a.GroupIDs, 99)
	b := d.Decode("sched:meta:1", v)
	if !slices.Equal(b.GroupIDs, []int64{3, 4}) || b.Block().TempBlock.Window != "5h" || b.Quota.Windows[0].UsedPercent != 5 {
		t.Fatalf("the second account holds the first's changes: %s", refShow(b))
	}
	if a.Block().TempBlock == b.Block().TempBlock || a.Quota == b.Quota {
		t.Fatal("two accounts share memory")
	}
	if cap(a.GroupIDs) != len(a.GroupIDs) || cap(b.GroupIDs) != len(b.GroupIDs) {
		t.Fatalf("shared GroupIDs with room to grow: cap %d and %d", cap(a.GroupIDs), cap(b.GroupIDs))
	}
	// a value whose GroupIDs differ gets its own
	c := d.Decode("sched:meta:1", strings.Replace(v, "[3,4]", "[3,5]", 1))
	if !slices.Equal(c.GroupIDs, []int64{3, 5}) || !slices.Equal(b.GroupIDs, []int64{3, 4}) {
		t.Fatalf("GroupIDs %v after %v", c.GroupIDs, b.GroupIDs)
	}
}

// The Decoder keeps its own copy of the value it compares the next with: a caller that
// reuses the bytes of the last value for the next (as an unsafe string) gets the next
// decoded, not the last one's results again.
func TestMemoKeepsItsOwnCopy(t *testing.T) {
	buf := []byte(`{"ID":1,"Status":"active","Platform":"openai","Extra":{"codex_5h_used_percent":5}}`)
	var d Decoder
	d.Decode("sched:meta:1", unsafe.String(unsafe.SliceData(buf), len(buf)))
	copy(buf[bytes.Index(buf, []byte("active")):], "paused")
	copy(buf[bytes.Index(buf, []byte(":5}")):], ":6}")
	a := d.Decode("sched:meta:1", unsafe.String(unsafe.SliceData(buf), len(buf)))
	if a.Status != "paused" || a.Quota.Windows[0].UsedPercent != 6 {
		t.Fatalf("the last value's results for a changed one: %s", refShow(a))
	}
}

// Whatever value a Decoder read before, a value made from it by one edit decodes as the
// reference decodes it, and so does the first value read again after it.
func FuzzDecodeAfterEdit(f *testing.F) {
	values := memoValues(f)
	for n, v := range values {
		f.Add(v, n*37%len(v), n%7, `"x":1,`[:n%7])
	}
	f.Fuzz(func(t *testing.T, first string, at, cut int, insert string) {
		if at < 0 || at > len(first) || cut < 0 || cut > len(first)-at {
			return
		}
		next := first[:at] + insert + first[at+cut:]
		var d Decoder
		var ref refDecoder
		for _, raw := range []string{first, next, first, next} {
			got, want := d.Decode("sched:meta:7", raw), ref.refDecode("sched:meta:7", raw)
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("%q after %q:\nscanner   %s\nreference %s", raw, first, refShow(got), refShow(want))
			}
		}
	})
}

// commonPrefix agrees with a byte-by-byte count wherever the strings first differ and
// however long they are.
func TestCommonPrefix(t *testing.T) {
	base := strings.Repeat("0123456789abcdef", 17)
	for n := 0; n <= len(base); n++ {
		for at := 0; at <= n; at++ {
			a := base[:n]
			b := []byte(a)
			if at < n {
				b[at] ^= 0x80
			}
			want := at
			if got := commonPrefix(a, string(b)); got != want {
				t.Fatalf("commonPrefix of %d bytes differing at %d = %d", n, at, got)
			}
			if got := commonPrefix(a, a[:at]); got != at {
				t.Fatalf("commonPrefix of %d bytes and its first %d = %d", n, at, got)
			}
		}
	}
}

// Most accounts carry no block: they keep none (a nil pointer, not 168 bytes in each of
// the live monitor's two fleets), and one whose value did not change shares its blocks
// with the poll before.
func TestBlocksOnlyWhereTheValueHasThem(t *testing.T) {
	now := time.Date(2026, 11, 29, 3, 0, 0, 0, time.UTC)
	fleet := redistest.DirtyFleet(100, "sched:", now)
	r := &Redis{}
	r.Remember()
	decodeAll := func() []model.Account {
		keys := slices.DeleteFunc(slices.Sorted(maps.Keys(fleet)), func(k string) bool { return !strings.HasPrefix(k, "sched:meta:") })
		metas := make([]any, len(keys))
		for i, k := range keys {
			metas[i] = fleet[k]
		}
		d := Decoder{memo: r.memo}
		out := d.decodeBatch(keys, metas, make([]any, len(keys)))
		r.memo.keep(out)
		return out
	}
	first := decodeAll()
	with := 0
	for i := range first {
		a := &first[i]
		if a.ID%50 == 29 { // DirtyFleet's blocks in force
			if a.Blocks == nil || a.Block().RateLimitResetAt.IsZero() || a.Block().TempBlock == nil || len(a.Block().ModelLimits) != 1 {
				t.Errorf("%s: blocks lost: %+v", a.Key, a.Blocks)
			}
			with++
			continue
		}
		if a.Blocks != nil {
			t.Errorf("%s has no block in force but keeps %+v", a.Key, *a.Blocks)
		}
	}
	if with != 2 {
		t.Fatalf("%d accounts with blocks, want 2", with)
	}
	second := decodeAll()
	for i := range second {
		if first[i].Blocks != second[i].Blocks {
			t.Errorf("%s: an unchanged value's blocks were decoded again", second[i].Key)
		}
	}
}
