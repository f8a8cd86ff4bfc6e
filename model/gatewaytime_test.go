package model

import (
	"strings"
	"testing"
	"time"
)

// gatewayParse is the gateway's own parse, the reference ParseGatewayTime must equal.
func gatewayParse(s string) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339, time.RFC3339Nano, "2006-01-02T15:04:05Z", "2006-01-02T15:04:05.000Z"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

var gatewayTimeCases = []struct {
	in string
	ok bool
}{
	{"2026-11-28T04:00:00Z", true},
	{"2026-11-28T04:00:00+08:00", true},
	{"2026-11-28T04:00:00.123456789+08:00", true},
	{"2026-11-28T04:00:00.8-05:30", true},
	{"2026-11-28T04:00:00.1234567891234Z", true}, // digits past nine are dropped
	{"2026-11-28T04:00:00,5Z", true},             // time.Parse's general parser takes a comma
	{"2026-11-28T4:00:00Z", true},                // ...and a one-digit hour
	{"2026-11-28T04:00:00+24:00", true},          // ...and offsets up to 24:60
	{"2026-11-28T04:00:00+23:60", true},
	{"0001-01-01T00:00:00Z", true},
	{"2024-02-29T00:00:00Z", true},
	{"2026-11-28T04:00:00", false}, // no offset
	{"2026-11-28 04:00:00+08:00", false},
	{"2026-11-28t04:00:00Z", false},
	{"2026-11-28T04:00:00z", false},
	{"2026-11-28T04:00:00+0800", false},
	{"2026-11-28T04:00:00+25:00", false},
	{"2026-11-28T04:00:00+08:61", false},
	{"2026-11-28T04:00:00.Z", false},
	{"2026-11-28T04:00:00Z ", false},
	{" 2026-11-28T04:00:00Z", false},
	{"2026-11-28T24:00:00Z", false},
	{"2026-11-28T04:60:00Z", false},
	{"2026-11-28T04:00:60Z", false},
	{"2023-02-29T00:00:00Z", false},
	{"2026-13-01T00:00:00Z", false},
	{"2026-00-01T00:00:00Z", false},
	{"2026-1-01T00:00:00Z", false},
	{"1764302400", false},
	{"", false},
	{"Sat, 28 Nov 2026 04:00:00 UTC", false},
	{"2026-11-28T04:00Z", false},
}

func TestParseGatewayTimeMatchesTimeParse(t *testing.T) {
	for _, c := range gatewayTimeCases {
		got, ok := ParseGatewayTime(c.in)
		want, wantOK := gatewayParse(c.in)
		if ok != c.ok || wantOK != c.ok {
			t.Errorf("%q: ParseGatewayTime ok=%v, time.Parse ok=%v, want %v", c.in, ok, wantOK, c.ok)
			continue
		}
		if ok && !got.Equal(want) {
			t.Errorf("%q: got %v, time.Parse %v", c.in, got, want)
		}
	}
}

func FuzzParseGatewayTime(f *testing.F) {
	for _, c := range gatewayTimeCases {
		f.Add(c.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := ParseGatewayTime(s)
		want, wantOK := gatewayParse(s)
		if ok != wantOK || (ok && !got.Equal(want)) {
			t.Fatalf("%q: ParseGatewayTime (%v, %v), time.Parse (%v, %v)", s, got, ok, want, wantOK)
		}
	})
}

func TestParseGatewayTimeGarbageDoesNotAllocate(t *testing.T) {
	for _, s := range []string{"2026-11-28T04:00:00", "2026-11-28 04:00:00", "not a time", strings.Repeat("9", 40), "2026-11-28T04:00:00+08:00"} {
		if n := testing.AllocsPerRun(100, func() { _, _ = ParseGatewayTime(s) }); n != 0 {
			t.Errorf("%q: %v allocations", s, n)
		}
	}
}

func BenchmarkParseGatewayTime(b *testing.B) {
	for _, s := range []string{"2026-11-28T04:00:00.123456+08:00", "2026-11-28T04:00:00"} {
		b.Run("model/"+s, func(b *testing.B) {
			for b.Loop() {
				ParseGatewayTime(s)
			}
		})
		b.Run("timeParse/"+s, func(b *testing.B) {
			for b.Loop() {
				gatewayParse(s)
			}
		})
	}
}
