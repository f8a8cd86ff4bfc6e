package report

import "time"

// The Unix seconds of 0000-01-01 and 10000-01-01 (UTC): time.Time.MarshalJSON writes the
// years between.
const (
	firstWritable = -62167219200
	pastWritable  = 253402300800
)

// appendRFC3339 appends t in UTC as t.UTC().AppendFormat(b, time.RFC3339Nano) does; ok
// is false, with nothing appended, for a year outside [0, 9999]. The document holds
// several times an account, and the general formatter was a tenth of its cost.
func appendRFC3339(b []byte, t time.Time) (_ []byte, ok bool) {
	// Unix wraps only for times near the ends of what Time holds, and then to beyond
	// the other end, still outside these years.
	sec := t.Unix()
	if sec < firstWritable || sec >= pastWritable {
		return b, false
	}
	since := uint64(sec - firstWritable) // from 0000-01-01
	days, s := uint32(since/86400), uint32(since%86400)
	// Days to a civil date in 400-year cycles of years that begin in March, so a leap
	// day comes last (the proleptic Gregorian calendar, as package time's). A cycle
	// begins at -0400-03-01, 146097-60 days before 0000-01-01.
	days += 146097 - 60
	era, doe := days/146097, days%146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	day := doy - (153*mp+2)/5 + 1
	month := mp + 3
	year := era*400 + yoe - 400
	if month > 12 {
		month -= 12
		year++
	}
	n := len(b)
	b = append(b, "0000-00-00T00:00:00"...)
	d := b[n:]
	put2(d[0:], year/100)
	put2(d[2:], year%100)
	put2(d[5:], month)
	put2(d[8:], day)
	put2(d[11:], s/3600)
	put2(d[14:], s/60%60)
	put2(d[17:], s%60)
	if ns := uint32(t.Nanosecond()); ns != 0 {
		n := len(b)
		b = append(b, ".000000000"...)
		d := b[n+1:]
		put2(d[7:], ns%100)
		ns /= 100
		put2(d[5:], ns%100)
		ns /= 100
		put2(d[3:], ns%100)
		ns /= 100
		put2(d[1:], ns%100)
		d[0] = byte('0' + ns/100)
		for b[len(b)-1] == '0' {
			b = b[:len(b)-1]
		}
	}
	return append(b, 'Z'), true
}

const twoDigits = "00010203040506070809101112131415161718192021222324252627282930313233343536373839" +
	"40414243444546474849505152535455565758596061626364656667686970717273747576777879" +
	"8081828384858687888990919293949596979899"

// put2 writes n (0 to 99) in two digits at d.
func put2(d []byte, n uint32) {
	d[0], d[1] = twoDigits[2*n], twoDigits[2*n+1]
}
