package model

import "time"

// ParseGatewayTime parses a snapshot time exactly as the gateway does: Go's time.Parse with
// time.RFC3339 or time.RFC3339Nano (its "...Z" layouts are subsets of these). An offset
// ("Z" or ±hh:mm) and the 'T' separator are required and nothing is trimmed, so
// "2026-11-28T04:00:00" and "2026-11-28 04:00:00+08:00" do not parse.
//
// It accepts what time.Parse accepts, not only strict RFC 3339: time.Parse falls back to
// its general layout parser, which also takes a one-digit hour, a comma before the
// fraction, any number of fraction digits and an offset up to +24:60. It never calls
// time.Parse and never allocates, so garbage in a 10,000-account poll costs nothing. The
// result is in UTC; only the instant matters to the judgement.
func ParseGatewayTime(s string) (time.Time, bool) {
	// date: 4-digit year, 2-digit month and day, 'T'
	if len(s) < len("2006-01-02T1:04:05Z") || s[4] != '-' || s[7] != '-' || s[10] != 'T' {
		return time.Time{}, false
	}
	year, ok1 := digits(s[0:4])
	month, ok2 := digits(s[5:7])
	day, ok3 := digits(s[8:10])
	if !ok1 || !ok2 || !ok3 || month < 1 || month > 12 || day < 1 || day > daysIn(month, year) {
		return time.Time{}, false
	}
	s = s[11:]

	// hour: one or two digits (the general parser's non-fixed field), then :mm:ss
	hour := 0
	switch {
	case len(s) >= 2 && isDigit(s[0]) && isDigit(s[1]):
		hour, s = int(s[0]-'0')*10+int(s[1]-'0'), s[2:]
	case len(s) >= 1 && isDigit(s[0]):
		hour, s = int(s[0]-'0'), s[1:]
	default:
		return time.Time{}, false
	}
	if len(s) < len(":04:05Z") || s[0] != ':' || s[3] != ':' {
		return time.Time{}, false
	}
	minute, ok1 := digits(s[1:3])
	sec, ok2 := digits(s[4:6])
	if !ok1 || !ok2 || hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, false
	}
	s = s[6:]

	// fraction: '.' or ',' and at least one digit; digits past the ninth are dropped
	nsec := 0
	if len(s) >= 2 && (s[0] == '.' || s[0] == ',') && isDigit(s[1]) {
		n := 1
		for n < len(s) && isDigit(s[n]) {
			if n <= 9 {
				nsec = nsec*10 + int(s[n]-'0')
			}
			n++
		}
		for k := n; k <= 9; k++ {
			nsec *= 10
		}
		s = s[n:]
	}

	// offset: exactly "Z" or ±hh:mm, and nothing after it
	offset := 0
	switch {
	case s == "Z":
	case len(s) == 6 && (s[0] == '+' || s[0] == '-') && s[3] == ':':
		oh, ok1 := digits(s[1:3])
		om, ok2 := digits(s[4:6])
		if !ok1 || !ok2 || oh > 24 || om > 60 {
			return time.Time{}, false
		}
		offset = (oh*60 + om) * 60
		if s[0] == '-' {
			offset = -offset
		}
	default:
		return time.Time{}, false
	}
	// every field is in range, so the instant is plain arithmetic: time.Date's
	// normalising and zone lookup cost more than the rest of the parse
	unix := daysSinceEpoch(year, month, day)*86400 + int64(hour*3600+minute*60+sec-offset)
	return time.Unix(unix, int64(nsec)).UTC(), true
}

// daysSinceEpoch counts the days from 1970-01-01 to a valid proleptic Gregorian date
// (Howard Hinnant's days_from_civil), for any year from 0 on.
func daysSinceEpoch(year, month, day int) int64 {
	y := int64(year)
	if month <= 2 {
		y-- // the year counted from March, so the leap day ends it
	}
	era := (y+400)/400 - 1 // floor division for the year -1 a January of year 0 makes
	yoe := y - era*400
	m := int64(month+9) % 12 // March is 0
	doy := (153*m+2)/5 + int64(day) - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// digits reads a fixed-width run of decimal digits.
func digits(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, true
}

func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}
