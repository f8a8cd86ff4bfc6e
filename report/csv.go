package report

import (
	"bufio"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// The CSV document is written by appending to a chunk's buffer, quoted exactly as
// encoding/csv's Writer (comma, LF line ends) quotes: that writer wanted every field as a
// string, eight allocations a row, and cost the 10,000-account CSV twice a table's
// writing. TestWriteInParallelMatchesSerial compares the document with encoding/csv's,
// and FuzzCSVField any field.

var csvHeader = []string{"id", "name", "platform", "type", "status", "schedulable", "state", "reasons",
	"updated_at", "age_seconds", "stale",
	"used_5h", "threshold_5h", "threshold_source_5h", "reset_at_5h", "reset_5h",
	"used_7d", "threshold_7d", "threshold_source_7d", "reset_at_7d", "reset_7d", "key"}

// writeCSV writes the header and then every row, a large fleet's chunks on every core
// (writeChunks).
func writeCSV(w io.Writer, rows []Row) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	var header []byte
	for i, name := range csvHeader {
		if i > 0 {
			header = append(header, ',')
		}
		header = appendCSVField(header, name)
	}
	if _, err := bw.Write(append(header, '\n')); err != nil {
		return err
	}
	err := writeChunks(bw, len(rows), csvChunk, func() encodeFunc {
		var reasons []byte
		return func(b []byte, lo, hi int) ([]byte, error) {
			for n := lo; n < hi; n++ {
				b, reasons = appendCSVRecord(b, reasons[:0], &rows[n])
			}
			return b, nil
		}
	})
	if err != nil {
		return err
	}
	return bw.Flush()
}

// csvChunk is how many records a goroutine writes at a time, about 11 kB.
const csvChunk = 64

// appendCSVRecord appends r's line; reasons is scratch for the reasons field.
func appendCSVRecord(b, reasons []byte, r *Row) ([]byte, []byte) {
	a, j := r.Account, &r.Judgement
	b = strconv.AppendInt(b, a.ID, 10)
	b = appendCSVCell(append(b, ','), a.Name)
	b = appendCSVCell(append(b, ','), a.Platform)
	b = appendCSVCell(append(b, ','), a.Type)
	b = appendCSVCell(append(b, ','), a.Status)
	b = strconv.AppendBool(append(b, ','), a.Schedulable)
	b = appendCSVField(append(b, ','), string(j.State))
	b = append(b, ',')
	switch len(j.Reasons) {
	case 0:
	case 1:
		b = appendCSVField(b, string(j.Reasons[0]))
	default:
		for i, x := range j.Reasons {
			if i > 0 {
				reasons = append(reasons, ';')
			}
			reasons = append(reasons, x...)
		}
		b = appendCSVField(b, string(reasons)) // several reasons are rare
	}
	b = append(b, ',')
	if at, age, ok := r.sampled(); ok {
		b = appendCSVTime(b, at)
		b = strconv.AppendInt(append(b, ','), int64(age/time.Second), 10)
	} else {
		b = append(b, ',')
	}
	b = strconv.AppendBool(append(b, ','), j.Stale)
	for i := range j.Windows {
		if !r.hasWindows() {
			b = append(b, ",,,,,"...)
			continue
		}
		w, _ := r.window(i)
		b = appendCSVFloat(append(b, ','), w.used)
		b = appendCSVFloat(append(b, ','), w.threshold)
		b = appendCSVField(append(b, ','), string(w.source))
		b = append(b, ',')
		if !w.resetAt.IsZero() {
			b = appendCSVTime(b, w.resetAt)
		}
		b = strconv.AppendBool(append(b, ','), w.reset)
	}
	b = appendCSVCell(append(b, ','), a.Key)
	return append(b, '\n'), reasons
}

// appendCSVFloat appends f in its shortest form; a number that is not finite is an empty
// cell, not "NaN" or "+Inf" (which a spreadsheet would take for a formula).
func appendCSVFloat(b []byte, f float64) []byte {
	if !finite(f) {
		return b
	}
	return strconv.AppendFloat(b, f, 'f', -1, 64)
}

// appendCSVTime appends t as t.UTC().Format(time.RFC3339) does: whole seconds.
func appendCSVTime(b []byte, t time.Time) []byte {
	if out, ok := appendRFC3339(b, t.Truncate(time.Second)); ok {
		return out
	}
	return t.UTC().AppendFormat(b, time.RFC3339) // a year appendRFC3339 does not write
}

// appendCSVCell appends a field from outside, kept from running as a spreadsheet
// formula: a leading '=', '+', '-', '@', tab or CR gets a quote mark before it.
func appendCSVCell(b []byte, s string) []byte {
	if s == "" || !strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return appendCSVField(b, s)
	}
	if !hasCSVSpecial(s) {
		return append(append(b, '\''), s...)
	}
	return appendCSVQuoted(append(b, '"', '\''), s)
}

// appendCSVField appends s as one field, quoted where encoding/csv's Writer quotes it:
// when it holds a comma, a double quote, CR or LF, begins with a space, or is `\.`.
func appendCSVField(b []byte, s string) []byte {
	if s == "" || !hasCSVSpecial(s) && s != `\.` && !leadingSpace(s) {
		return append(b, s...)
	}
	return appendCSVQuoted(append(b, '"'), s)
}

// appendCSVQuoted appends s with its double quotes doubled, and the closing quote.
func appendCSVQuoted(b []byte, s string) []byte {
	for {
		i := strings.IndexByte(s, '"')
		if i < 0 {
			break
		}
		b = append(append(b, s[:i+1]...), '"')
		s = s[i+1:]
	}
	return append(append(b, s...), '"')
}

func hasCSVSpecial(s string) bool {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ',', '"', '\r', '\n':
			return true
		}
	}
	return false
}

func leadingSpace(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return unicode.IsSpace(r)
}
