package model

import "time"

// LocalQuota is the gateway's own USD quota of an apikey or bedrock account (Extra
// quota_*), already reduced to the values its getters return.
type LocalQuota struct {
	Limit, Used float64 // quota_limit, quota_used (total)
	Daily       QuotaPeriod
	Weekly      QuotaPeriod
	// Zone is quota_reset_timezone resolved by the caller (nil means UTC, as the gateway
	// falls back to UTC for a name it cannot load); ZoneName is the stored name.
	Zone     *time.Location
	ZoneName string
}

// QuotaPeriod is the daily or weekly dimension of a LocalQuota.
type QuotaPeriod struct {
	Limit, Used float64
	// Start is quota_<dim>_start; the zero time when missing, unparseable or zero, which
	// the gateway treats as an expired period.
	Start time.Time
	Fixed bool // quota_<dim>_reset_mode == "fixed" (anything else is rolling)
	// ResetHour and ResetDay are taken as stored: the gateway does not range-check them
	// here (time.Date normalises an hour of 25), and ResetDay defaults to 1 (Monday) only
	// when the key is absent.
	ResetHour int
	ResetDay  int
}

// LocalQuotaDim names a LocalQuota dimension.
type LocalQuotaDim string

// The dimensions, in the order the gateway checks them.
const (
	LocalQuotaTotal  LocalQuotaDim = "total"
	LocalQuotaDaily  LocalQuotaDim = "daily"
	LocalQuotaWeekly LocalQuotaDim = "weekly"
)

// LocalQuotaDims are the dimensions in the order the gateway checks them.
var LocalQuotaDims = [...]LocalQuotaDim{LocalQuotaTotal, LocalQuotaDaily, LocalQuotaWeekly}

// Amount is dimension d's usage and limit in USD (a limit of 0 is none).
func (q *LocalQuota) Amount(d LocalQuotaDim) (used, limit float64) {
	if d == LocalQuotaTotal {
		return q.Used, q.Limit
	}
	p := q.period(d)
	return p.Used, p.Limit
}

// LocalQuotaJudgement is the first exceeded dimension, for the detail view and actions,
// and which others are exceeded too.
type LocalQuotaJudgement struct {
	Exceeded bool
	// dims has a bit per exceeded dimension (localQuotaBit).
	dims        uint8
	Dim         LocalQuotaDim
	Used, Limit float64
	// ResetsAt is when the gateway stops counting every exceeded period as exceeded; zero
	// when the total quota is exceeded, which only reset-quota clears.
	ResetsAt time.Time
}

// Over says whether dimension d is over its limit.
func (l LocalQuotaJudgement) Over(d LocalQuotaDim) bool { return l.dims&localQuotaBit(d) != 0 }

func localQuotaBit(d LocalQuotaDim) uint8 {
	switch d {
	case LocalQuotaTotal:
		return 1
	case LocalQuotaDaily:
		return 2
	}
	return 4
}

// usesLocalQuota mirrors IsAPIKeyOrBedrock: only these account types have the quota
// checked by IsSchedulable.
func usesLocalQuota(a *Account) bool { return a.Type == "apikey" || a.Type == "bedrock" }

// judgeLocalQuota mirrors Account.IsQuotaExceeded: total, then daily, then weekly; a period
// that has expired counts as not exceeded (the gateway resets it on the next increment).
// The gateway stops at the first; the others matter for when the account is free again.
func judgeLocalQuota(q *LocalQuota, now time.Time) LocalQuotaJudgement {
	var j LocalQuotaJudgement
	over := func(d LocalQuotaDim, used, limit float64, until time.Time) {
		if !j.Exceeded {
			j.Exceeded, j.Dim, j.Used, j.Limit = true, d, used, limit
		}
		if j.dims&localQuotaBit(LocalQuotaTotal) == 0 && until.After(j.ResetsAt) {
			j.ResetsAt = until
		}
		j.dims |= localQuotaBit(d)
	}
	if q.Limit > 0 && q.Used >= q.Limit {
		over(LocalQuotaTotal, q.Used, q.Limit, time.Time{})
	}
	for _, d := range [2]LocalQuotaDim{LocalQuotaDaily, LocalQuotaWeekly} {
		p := q.period(d)
		if p.Limit > 0 && !q.periodExpired(d, now) && p.Used >= p.Limit {
			over(d, p.Used, p.Limit, q.periodEnd(d, now))
		}
	}
	return j
}

func (q *LocalQuota) period(d LocalQuotaDim) QuotaPeriod {
	if d == LocalQuotaDaily {
		return q.Daily
	}
	return q.Weekly
}

func (q *LocalQuota) zone() *time.Location {
	if q.Zone == nil {
		return time.UTC
	}
	return q.Zone
}

func periodLength(d LocalQuotaDim) time.Duration {
	if d == LocalQuotaDaily {
		return 24 * time.Hour
	}
	return 7 * 24 * time.Hour
}

// periodExpired mirrors isPeriodExpired and isFixed{Daily,Weekly}PeriodExpired.
func (q *LocalQuota) periodExpired(d LocalQuotaDim, now time.Time) bool {
	p := q.period(d)
	if p.Start.IsZero() {
		return true
	}
	if !p.Fixed {
		return now.Sub(p.Start) >= periodLength(d)
	}
	return p.Start.Before(q.lastReset(d, now))
}

// lastReset mirrors lastFixedDailyReset / lastFixedWeeklyReset: the most recent reset
// point at or before now, in the quota's zone.
func (q *LocalQuota) lastReset(d LocalQuotaDim, now time.Time) time.Time {
	p, tz := q.period(d), q.zone()
	t := now.In(tz)
	today := time.Date(t.Year(), t.Month(), t.Day(), p.ResetHour, 0, 0, 0, tz)
	if d == LocalQuotaDaily {
		if now.Before(today) {
			return today.AddDate(0, 0, -1)
		}
		return today
	}
	back := (int(today.Weekday()) - p.ResetDay + 7) % 7
	if back == 0 && now.Before(today) {
		back = 7
	}
	return today.AddDate(0, 0, -back)
}

// periodEnd is when an unexpired period expires: start + length when rolling, else the
// next reset point after now as nextFixedDailyReset / nextFixedWeeklyReset find it: the
// configured hour rebuilt on today's date, so a reset hour that a clock change skipped
// one day is the configured one again the next.
func (q *LocalQuota) periodEnd(d LocalQuotaDim, now time.Time) time.Time {
	p := q.period(d)
	if p.Start.IsZero() {
		return time.Time{}
	}
	if !p.Fixed {
		return p.Start.Add(periodLength(d))
	}
	tz := q.zone()
	t := now.In(tz)
	today := time.Date(t.Year(), t.Month(), t.Day(), p.ResetHour, 0, 0, 0, tz)
	step, forward := 1, 0
	if d == LocalQuotaWeekly {
		step = 7
		forward = (p.ResetDay - int(today.Weekday()) + 7) % 7
	}
	if forward == 0 && !now.Before(today) {
		forward = step
	}
	next := today.AddDate(0, 0, forward)
	if !next.After(now) {
		// An absurd stored hour (say -1000) puts "today's" reset days away: step on from
		// it, which is all NextChange needs.
		periods := now.Sub(next) / (time.Duration(step) * 24 * time.Hour)
		next = next.AddDate(0, 0, int(periods)*step)
		for i := 0; !next.After(now) && i < 3; i++ {
			next = next.AddDate(0, 0, step)
		}
	}
	return next
}
