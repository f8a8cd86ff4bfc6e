package report

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// zones are offsets the instants are given in: appendRFC3339 writes UTC whatever the
// zone, and odd ones (seconds, past ±12h) must not shift the date.
var zones = []*time.Location{time.UTC, time.Local, time.FixedZone("CST", 8*3600), time.FixedZone("NPT", 5*3600+45*60),
	time.FixedZone("LMT", -(4*3600 + 56*60 + 2)), time.FixedZone("LINT", 14*3600), time.FixedZone("X", -12*3600-59), time.FixedZone("S", 1)}

// checkTime compares appendRFC3339 with the time package on t.
func checkTime(t *testing.T, at time.Time) {
	t.Helper()
	u := at.UTC()
	want := u.AppendFormat([]byte("x"), time.RFC3339Nano)
	wantOK := u.Year() >= 0 && u.Year() <= 9999
	got, ok := appendRFC3339([]byte("x"), at)
	if ok != wantOK || (ok && string(got) != string(want)) || (!ok && string(got) != "x") {
		t.Fatalf("%v (unix %d.%09d): got %q %v, want %q %v", at, at.Unix(), at.Nanosecond(), got, ok, want, wantOK)
	}
}

func TestAppendRFC3339MatchesTimePackage(t *testing.T) {
	var instants []time.Time
	// Edges of the writable years, leap days of the 400-, 100- and 4-year rules, the epoch.
	for _, y := range []int{0, 1, 4, 99, 100, 400, 1600, 1700, 1900, 1969, 1970, 1999, 2000, 2024, 2100, 2400, 9996, 9999, 10000, -1} {
		for _, d := range []time.Time{time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(y, 2, 28, 23, 59, 59, 999999999, time.UTC),
			time.Date(y, 2, 29, 12, 0, 0, 0, time.UTC), time.Date(y, 3, 1, 0, 0, 0, 1, time.UTC), time.Date(y, 12, 31, 23, 59, 59, 999999999, time.UTC)} {
			instants = append(instants, d, d.Add(-time.Nanosecond), d.Add(time.Nanosecond), d.Add(time.Second))
		}
	}
	// The ends of what time.Time holds.
	instants = append(instants, time.Time{}, time.Unix(math.MaxInt64/2, 0), time.Unix(math.MinInt64/2, 0), time.Unix(1<<62, 999999999),
		time.Unix(-1<<62, 0), time.Unix(0, 0), time.Unix(-1, 0), time.Now())
	rng := rand.New(rand.NewPCG(5, 6))
	lo, hi := time.Date(-5, 1, 1, 0, 0, 0, 0, time.UTC).Unix(), time.Date(10005, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	for range 200000 {
		ns := rng.Int64N(1e9)
		switch rng.IntN(4) { // nanoseconds that end in zeros, and none
		case 0:
			ns = 0
		case 1:
			ns -= ns % 1e6
		}
		instants = append(instants, time.Unix(lo+rng.Int64N(hi-lo), ns))
	}
	for _, at := range instants {
		for _, z := range zones {
			checkTime(t, at.In(z))
		}
	}
}

func FuzzAppendRFC3339(f *testing.F) {
	f.Add(int64(0), int64(0), 0)
	f.Add(int64(-62167219200), int64(1), 3600)
	f.Add(int64(253402300799), int64(999999999), -59)
	f.Fuzz(func(t *testing.T, sec, nsec int64, offset int) {
		checkTime(t, time.Unix(sec, nsec).In(time.FixedZone("F", offset%(30*3600))))
	})
}

// BenchmarkTime formats times as the document holds them, against the time package.
func BenchmarkTime(b *testing.B) {
	at := time.Date(2026, 11, 26, 10, 0, 0, 123456000, time.FixedZone("CST", 8*3600))
	buf := make([]byte, 0, 64)
	b.Run("time", func(b *testing.B) {
		for b.Loop() {
			buf = at.UTC().AppendFormat(buf[:0], time.RFC3339Nano)
		}
	})
	b.Run("appendRFC3339", func(b *testing.B) {
		for b.Loop() {
			buf, _ = appendRFC3339(buf[:0], at)
		}
	})
}
