package model

import (
	"testing"
	"time"
	_ "time/tzdata" // the zone tests need no zone database installed
)

// The reference for fixed periods, as sub2api's lastFixed*Reset / nextFixed*Reset
// (account.go) behave, written here from that behaviour: a reset point is the configured
// hour put on a local date with time.Date (which moves an hour a spring-forward gap
// skipped), and other days' points are reached with AddDate from it (which keeps the
// moved wall clock). The local quota's periods must equal it, quirks included.

// resetOn is the reset point on the local date of at.
func resetOn(hour int, tz *time.Location, at time.Time) time.Time {
	y, m, d := at.In(tz).Date()
	return time.Date(y, m, d, hour, 0, 0, 0, tz)
}

// refReset is the gateway's last reset at or before at (next false), or its first reset
// after at (next true); day is the weekday of a weekly reset, ignored for a daily one.
func refReset(weekly bool, day, hour int, tz *time.Location, at time.Time, next bool) time.Time {
	p := resetOn(hour, tz, at)
	span, days := 1, 0
	if weekly {
		span = 7
		days = (int(p.Weekday()) - day + 7) % 7 // back to the reset day
		if next {
			days = (day - int(p.Weekday()) + 7) % 7 // on to it
		}
	}
	if next {
		if days == 0 && !at.Before(p) {
			days = span
		}
		return p.AddDate(0, 0, days)
	}
	if days == 0 && at.Before(p) {
		days = span
	}
	return p.AddDate(0, 0, -days)
}

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	z, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return z
}

// quotaAccount is an apikey account whose only limit is q's daily or weekly one.
func quotaAccount(q *LocalQuota) *Account {
	return &Account{ID: 1, Platform: "openai", Type: "apikey", Status: "active", Schedulable: true, LocalQuota: q}
}

// fixedQuota is a quota over its daily (weekly false) or weekly limit, fixed mode,
// resetting at hour (and on day) in zone z, whose period started at start.
func fixedQuota(weekly bool, day, hour int, z *time.Location, start time.Time) *LocalQuota {
	p := QuotaPeriod{Limit: 10, Used: 12, Start: start, Fixed: true, ResetHour: hour, ResetDay: day}
	q := &LocalQuota{Zone: z}
	if z != nil {
		q.ZoneName = z.String()
	}
	if weekly {
		q.Weekly = p
	} else {
		q.Daily = p
	}
	return q
}

// Weekly and daily fixed periods in America/New_York across both 2026 DST changes
// (Sunday 2026-03-08 02:00 EST -> 03:00 EDT, Sunday 2026-11-01 02:00 EDT -> 01:00 EST),
// at the instants around each reset. The times are UTC; the comment gives New York's.
func TestLocalQuotaFixedAcrossDST(t *testing.T) {
	ny := mustZone(t, "America/New_York")
	utc := func(s string) time.Time {
		at, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return at
	}
	const weekly, daily = true, false
	cases := []struct {
		name     string
		weekly   bool
		day      int
		hour     int
		zone     *time.Location
		start    string
		now      string
		exceeded bool
		resets   string // when exceeded: the first instant the gateway counts the period as over
	}{
		// Sunday 00:00: the reset before the change is EST, the next one EDT, 6d23h apart.
		{"weekly Sun 00:00, started at the reset before spring forward", weekly, 0, 0, ny,
			"2026-03-08T05:00:00Z", "2026-03-10T12:00:00Z", true, "2026-03-15T04:00:00Z"},
		{"weekly Sun 00:00, started 1ns before that reset", weekly, 0, 0, ny,
			"2026-03-08T04:59:59.999999999Z", "2026-03-10T12:00:00Z", false, ""},
		// Sunday 03:00: 03:00 EDT on the 8th is the change itself (07:00Z); the week
		// before, 03:00 EST was 08:00Z.
		{"weekly Sun 03:00, 1ns before the reset on the change", weekly, 0, 3, ny,
			"2026-03-01T08:00:00Z", "2026-03-08T06:59:59.999999999Z", true, "2026-03-08T07:00:00Z"},
		{"weekly Sun 03:00, at the reset on the change", weekly, 0, 3, ny,
			"2026-03-01T08:00:00Z", "2026-03-08T07:00:00Z", false, ""},
		{"weekly Sun 03:00, a start at the new reset counts", weekly, 0, 3, ny,
			"2026-03-08T07:00:00Z", "2026-03-08T07:00:00Z", true, "2026-03-15T07:00:00Z"},
		// Sunday 02:00 does not exist on the 8th: time.Date makes it 01:00 EST (06:00Z),
		// so that week's reset comes an hour early, and AddDate keeps 01:00 for the one
		// a week before it.
		{"weekly Sun 02:00, 1ns before the moved reset", weekly, 0, 2, ny,
			"2026-03-01T07:00:00Z", "2026-03-08T05:59:59.999999999Z", true, "2026-03-08T06:00:00Z"},
		{"weekly Sun 02:00, at the moved reset (01:00 EST)", weekly, 0, 2, ny,
			"2026-03-01T07:00:00Z", "2026-03-08T06:00:00Z", false, ""},
		{"weekly Sun 02:00, the week after the moved reset", weekly, 0, 2, ny,
			"2026-03-08T06:00:00Z", "2026-03-10T12:00:00Z", true, "2026-03-15T06:00:00Z"},
		// Saturday 23:00 across fall back: 7 days and 1 hour apart.
		{"weekly Sat 23:00, started at the reset before fall back", weekly, 6, 23, ny,
			"2026-11-01T03:00:00Z", "2026-11-04T12:00:00Z", true, "2026-11-08T04:00:00Z"},
		{"weekly Sat 23:00, started 1ns before that reset", weekly, 6, 23, ny,
			"2026-11-01T02:59:59.999999999Z", "2026-11-04T12:00:00Z", false, ""},
		{"weekly Sat 23:00, 1ns before the first EST reset", weekly, 6, 23, ny,
			"2026-11-01T03:00:00Z", "2026-11-08T03:59:59.999999999Z", true, "2026-11-08T04:00:00Z"},
		{"weekly Sat 23:00, at the first EST reset", weekly, 6, 23, ny,
			"2026-11-01T03:00:00Z", "2026-11-08T04:00:00Z", false, ""},
		// Sunday 01:00 happens twice on 11-01: time.Date takes the first (EDT, 05:00Z);
		// the repeated hour is no second reset.
		{"weekly Sun 01:00, 1ns before the ambiguous reset", weekly, 0, 1, ny,
			"2026-10-25T05:00:00Z", "2026-11-01T04:59:59.999999999Z", true, "2026-11-01T05:00:00Z"},
		{"weekly Sun 01:00, at the ambiguous reset (01:00 EDT)", weekly, 0, 1, ny,
			"2026-10-25T05:00:00Z", "2026-11-01T05:00:00Z", false, ""},
		{"weekly Sun 01:00, in the repeated hour (01:30 EST)", weekly, 0, 1, ny,
			"2026-11-01T05:00:00Z", "2026-11-01T06:30:00Z", true, "2026-11-08T06:00:00Z"},
		// The reset hour is New York's, not UTC's: Monday 09:00 EDT is 13:00Z.
		{"weekly Mon 09:00 New York, a start at 09:00Z is the previous week", weekly, 1, 9, ny,
			"2026-03-09T09:00:00Z", "2026-03-09T14:00:00Z", false, ""},
		{"weekly Mon 09:00 New York, a start at 13:00Z counts", weekly, 1, 9, ny,
			"2026-03-09T13:00:00Z", "2026-03-09T14:00:00Z", true, "2026-03-16T13:00:00Z"},
		{"weekly Mon 09:00 UTC when the zone is unknown (nil)", weekly, 1, 9, nil,
			"2026-03-09T09:00:00Z", "2026-03-09T14:00:00Z", true, "2026-03-16T09:00:00Z"},

		// Daily 00:00 across the changes: 23 and 25 hours apart.
		{"daily 00:00, the short day", daily, 0, 0, ny,
			"2026-03-08T05:00:00Z", "2026-03-08T12:00:00Z", true, "2026-03-09T04:00:00Z"},
		{"daily 00:00, the short day, started 1ns before", daily, 0, 0, ny,
			"2026-03-08T04:59:59.999999999Z", "2026-03-08T12:00:00Z", false, ""},
		{"daily 00:00, 1ns before the first EDT midnight", daily, 0, 0, ny,
			"2026-03-08T05:00:00Z", "2026-03-09T03:59:59.999999999Z", true, "2026-03-09T04:00:00Z"},
		{"daily 00:00, at the first EDT midnight", daily, 0, 0, ny,
			"2026-03-08T05:00:00Z", "2026-03-09T04:00:00Z", false, ""},
		{"daily 00:00, the long day", daily, 0, 0, ny,
			"2026-11-01T04:00:00Z", "2026-11-01T12:00:00Z", true, "2026-11-02T05:00:00Z"},
		{"daily 00:00, the long day, 1ns before its end", daily, 0, 0, ny,
			"2026-11-01T04:00:00Z", "2026-11-02T04:59:59.999999999Z", true, "2026-11-02T05:00:00Z"},
		// Daily 02:00, which 03-08 does not have: moved to 01:00 EST (06:00Z).
		{"daily 02:00, 1ns before the moved reset", daily, 0, 2, ny,
			"2026-03-07T07:00:00Z", "2026-03-08T05:59:59.999999999Z", true, "2026-03-08T06:00:00Z"},
		{"daily 02:00, at the moved reset", daily, 0, 2, ny,
			"2026-03-07T07:00:00Z", "2026-03-08T06:00:00Z", false, ""},
		{"daily 02:00, the day after the moved reset", daily, 0, 2, ny,
			"2026-03-08T06:00:00Z", "2026-03-09T05:30:00Z", true, "2026-03-09T06:00:00Z"},
		// Daily 01:00 on 11-01: the first 01:00 (EDT); the repeated hour is no reset.
		{"daily 01:00, in the repeated hour", daily, 0, 1, ny,
			"2026-11-01T05:00:00Z", "2026-11-01T06:30:00Z", true, "2026-11-02T06:00:00Z"},
		// The reset hour is New York's: 17:00 EDT is 21:00Z.
		{"daily 17:00 New York, before today's reset", daily, 0, 17, ny,
			"2026-03-09T21:00:00Z", "2026-03-10T20:59:59.999999999Z", true, "2026-03-10T21:00:00Z"},
		{"daily 17:00 New York, a start at 17:00Z is yesterday's period", daily, 0, 17, ny,
			"2026-03-10T17:00:00Z", "2026-03-10T21:00:00Z", false, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := quotaAccount(fixedQuota(c.weekly, c.day, c.hour, c.zone, utc(c.start)))
			now := utc(c.now)
			p := DefaultPolicy()
			j := Judge(a, p, now)
			if j.LocalQuota.Exceeded != c.exceeded || j.Has(ReasonLocalQuota) != c.exceeded {
				t.Fatalf("exceeded %v (reasons %v), want %v", j.LocalQuota.Exceeded, j.Reasons, c.exceeded)
			}
			if !c.exceeded {
				if j.State != StateOK {
					t.Fatalf("state %s %v", j.State, j.Reasons)
				}
				return
			}
			want := LocalQuotaDaily
			if c.weekly {
				want = LocalQuotaWeekly
			}
			resets := utc(c.resets)
			if j.State != StateBlocked || j.LocalQuota.Dim != want || !j.LocalQuota.ResetsAt.Equal(resets) {
				t.Fatalf("%s %s resets %v, want blocked %s resets %v", j.State, j.LocalQuota.Dim, j.LocalQuota.ResetsAt.UTC(), want, resets)
			}
			if next := NextChange(a, p, now); !next.Equal(resets) {
				t.Fatalf("NextChange %v, want %v", next.UTC(), resets)
			}
			if !Judge(a, p, resets.Add(-1)).LocalQuota.Exceeded {
				t.Fatal("not exceeded 1ns before its reset")
			}
			if Judge(a, p, resets).LocalQuota.Exceeded {
				t.Fatal("still exceeded at its reset")
			}
		})
	}
}

// The gateway counts a period without a start (missing, unparseable or zero) as
// expired, in every mode: used over the limit then blocks nothing, and the total still
// counts.
func TestLocalQuotaMissingStartHasExpired(t *testing.T) {
	ny := mustZone(t, "America/New_York")
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	rolling := func(weekly bool) *LocalQuota {
		q := fixedQuota(weekly, 1, 0, nil, time.Time{})
		q.Daily.Fixed, q.Weekly.Fixed = false, false
		return q
	}
	cases := []struct {
		name string
		q    *LocalQuota
		dim  LocalQuotaDim
	}{
		{"daily fixed", fixedQuota(false, 0, 0, ny, time.Time{}), ""},
		{"weekly fixed, Sunday", fixedQuota(true, 0, 0, ny, time.Time{}), ""},
		{"weekly fixed, Saturday", fixedQuota(true, 6, 23, ny, time.Time{}), ""},
		{"daily rolling", rolling(false), ""},
		{"weekly rolling", rolling(true), ""},
		{"both periods without a start, total reached", func() *LocalQuota {
			q := fixedQuota(true, 0, 0, ny, time.Time{})
			q.Daily = QuotaPeriod{Limit: 1, Used: 5, Fixed: true}
			q.Limit, q.Used = 100, 100
			return q
		}(), LocalQuotaTotal},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := quotaAccount(c.q)
			j := Judge(a, DefaultPolicy(), now)
			if j.LocalQuota.Exceeded != (c.dim != "") || j.LocalQuota.Dim != c.dim || j.LocalQuota.Over(LocalQuotaDaily) || j.LocalQuota.Over(LocalQuotaWeekly) {
				t.Fatalf("got %+v, want only %q", j.LocalQuota, c.dim)
			}
			if next := NextChange(a, DefaultPolicy(), now); !next.IsZero() {
				t.Fatalf("NextChange %v for periods that have expired", next)
			}
		})
	}
	// The same quota with a start is exceeded: the missing start is what lets it through.
	q := fixedQuota(true, 0, 0, ny, time.Date(2026, 3, 8, 5, 0, 0, 0, time.UTC))
	if !Judge(quotaAccount(q), DefaultPolicy(), now).LocalQuota.Exceeded {
		t.Fatal("with a start the weekly period is exceeded")
	}
}

// localQuotaSweep calls check for instants sampled every 3h07m over the weeks around
// both DST changes of 2026 in three zones (New York and London change at 02:00 and
// 01:00, Lord Howe by 30 minutes).
func localQuotaSweep(t *testing.T, check func(zone *time.Location, now time.Time) int) {
	t.Helper()
	failures := 0
	for _, name := range []string{"America/New_York", "Europe/London", "Australia/Lord_Howe"} {
		z := mustZone(t, name)
		for _, span := range [][2]time.Time{
			{time.Date(2026, 3, 1, 0, 17, 0, 0, time.UTC), time.Date(2026, 4, 10, 0, 0, 0, 0, time.UTC)},
			{time.Date(2026, 9, 27, 0, 17, 0, 0, time.UTC), time.Date(2026, 11, 10, 0, 0, 0, 0, time.UTC)},
		} {
			for now := span[0]; now.Before(span[1]); now = now.Add(187 * time.Minute) {
				failures += check(z, now)
				if failures > 10 {
					t.Fatal("too many differences")
				}
			}
		}
	}
}

// Whether a fixed period has expired is the gateway's own lastFixed*Reset at every
// sampled instant and at the gateway's next reset after it and 1ns before that: a
// period that started at the last reset counts, one that started 1ns before it does not, for every reset day, for reset hours in and around the DST changes, and
// for out-of-range hours (the gateway does not range-check them; time.Date carries them
// over into the next day).
func TestLocalQuotaFixedExpiryMatchesGateway(t *testing.T) {
	hours := []int{0, 1, 2, 3, 23, 24, -1}
	localQuotaSweep(t, func(z *time.Location, now time.Time) int {
		failures := 0
		try := func(weekly bool, day, hour int, at, last time.Time) {
			for _, s := range []struct {
				start    time.Time
				exceeded bool
			}{{last, true}, {last.Add(-1), false}} {
				j := Judge(quotaAccount(fixedQuota(weekly, day, hour, z, s.start)), DefaultPolicy(), at)
				if j.LocalQuota.Exceeded != s.exceeded && failures < 3 {
					failures++
					t.Errorf("%s weekly=%v day %d hour %d at %v, start %v (the gateway's last reset %v): exceeded %v, want %v",
						z, weekly, day, hour, at.UTC(), s.start.UTC(), last.UTC(), j.LocalQuota.Exceeded, s.exceeded)
				}
			}
		}
		for _, hour := range hours {
			next := refReset(false, 0, hour, z, now, true)
			for _, at := range []time.Time{now, next.Add(-1), next} {
				try(false, 0, hour, at, refReset(false, 0, hour, z, at, false))
			}
			for day := 0; day <= 6; day++ {
				next := refReset(true, day, hour, z, now, true)
				for _, at := range []time.Time{now, next.Add(-1), next} {
					try(true, day, hour, at, refReset(true, day, hour, z, at, false))
				}
			}
		}
		return failures
	})
}

// An exceeded fixed period is free again at the gateway's next reset (nextFixed*Reset),
// which ResetsAt shows and NextChange wakes the monitor for.
func TestLocalQuotaFixedResetsAtMatchesGateway(t *testing.T) {
	localQuotaSweep(t, func(z *time.Location, now time.Time) int {
		failures := 0
		try := func(weekly bool, day, hour int, last, next time.Time) {
			a := quotaAccount(fixedQuota(weekly, day, hour, z, last))
			j := Judge(a, DefaultPolicy(), now)
			if !j.LocalQuota.Exceeded || !j.LocalQuota.ResetsAt.Equal(next) || !NextChange(a, DefaultPolicy(), now).Equal(next) {
				failures++
				t.Errorf("%s weekly=%v day %d hour %d at %v: exceeded %v, resets %v, want %v",
					z, weekly, day, hour, now.UTC(), j.LocalQuota.Exceeded, j.LocalQuota.ResetsAt.UTC(), next.UTC())
			}
		}
		for _, hour := range []int{0, 1, 2, 3, 12, 23} {
			try(false, 0, hour, refReset(false, 0, hour, z, now, false), refReset(false, 0, hour, z, now, true))
			for day := 0; day <= 6; day++ {
				try(true, day, hour, refReset(true, day, hour, z, now, false), refReset(true, day, hour, z, now, true))
			}
		}
		return failures
	})
}
