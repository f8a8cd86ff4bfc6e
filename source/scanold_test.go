package source

import (
	"maps"
	"math/bits"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/quotatop/quotatop/source/redistest"
)

// The scanner as it was before its fast paths (source/scan.go at d2209ee), kept to check
// that the fast one accepts and rejects exactly the same bytes, and ends every value at
// the same index.

func oldSkipWS(s string, i int) int {
	if i < len(s) && s[i] > ' ' {
		return i
	}
	for i < len(s) {
		switch s[i] {
		case ' ', '\n', '\t', '\r':
			i++
			continue
		}
		break
	}
	return i
}

// scanString finds the end of the string whose content starts at i (after the opening
// quote): the index of the closing quote, the first one not escaped by an odd run of
// backslashes, or -1. esc says the content holds a backslash. It looks at eight bytes at
// a time: most strings here are keys and timestamps, too short for strings.IndexByte's
// start-up to pay.
func oldScanString(s string, i int) (end int, esc bool) {
	for {
		for ; i+8 <= len(s); i += 8 {
			if m := oldQuoteOrBackslash(oldLoad8(s, i)); m != 0 {
				i += bits.TrailingZeros64(m) >> 3
				goto found
			}
		}
		for ; i < len(s); i++ {
			if s[i] == '"' || s[i] == '\\' {
				goto found
			}
		}
		return -1, false
	found:
		if s[i] == '"' {
			return i, esc
		}
		// a backslash escapes the byte after it, so a quote ends the string when an
		// even run of backslashes stands before it, as fastjson decides
		esc = true
		i += 2
	}
}

// load8 reads eight bytes little-endian; the compiler makes it one load.
func oldLoad8(s string, i int) uint64 {
	b := s[i : i+8]
	return uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
		uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
}

// quoteOrBackslash marks the bytes of x that are '"' or '\\' with their high bit; only
// the lowest mark is exact (a borrow can mark a byte above a real one), and only the
// lowest is used.
func oldQuoteOrBackslash(x uint64) uint64 {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	q := x ^ (ones * '"')
	b := x ^ (ones * '\\')
	return ((q-ones)&^q | (b-ones)&^b) & highs
}

// scanNumber is fastjson's parseRawNumber: the end of the run of number bytes at i, or
// of a signed or bare inf/nan; -1 when there is neither.
func oldScanNumber(s string, i int) int {
	j := i
	for j < len(s) {
		c := s[j]
		if (c >= '0' && c <= '9') || c == '.' || c == '-' || c == 'e' || c == 'E' || c == '+' {
			j++
			continue
		}
		if j == i || j == i+1 && (s[i] == '-' || s[i] == '+') {
			if len(s)-j >= 3 && (strings.EqualFold(s[j:j+3], "inf") || strings.EqualFold(s[j:j+3], "nan")) {
				return j + 3
			}
			return -1
		}
		return j
	}
	return j
}

// scalarAt reads the value at i (whitespace already skipped) at the given depth; a
// container is skipped, validated, and reported by its kind only. It returns the index
// after the value, or -1 when the bytes are not a value fastjson would accept.
func oldScalarAt(s string, i, depth int) (jval, int) {
	if i >= len(s) || depth > maxDepth {
		return jval{}, -1
	}
	switch c := s[i]; c {
	case '"':
		end, esc := oldScanString(s, i+1)
		if end < 0 {
			return jval{}, -1
		}
		return jval{kind: jString, raw: s[i+1 : end], esc: esc}, end + 1
	case '{', '[':
		k := jObject
		if c == '[' {
			k = jArray
		}
		return jval{kind: k}, oldSkipValue(s, i, depth)
	case 't':
		if strings.HasPrefix(s[i:], "true") {
			return jval{kind: jTrue}, i + 4
		}
		return jval{}, -1
	case 'f':
		if strings.HasPrefix(s[i:], "false") {
			return jval{kind: jFalse}, i + 5
		}
		return jval{}, -1
	case 'n':
		if strings.HasPrefix(s[i:], "null") {
			return jval{kind: jNull}, i + 4
		}
		if len(s)-i >= 3 && strings.EqualFold(s[i:i+3], "nan") {
			return jval{kind: jNumber, raw: s[i : i+3]}, i + 3
		}
		return jval{}, -1
	}
	end := oldScanNumber(s, i)
	if end < 0 {
		return jval{}, -1
	}
	return jval{kind: jNumber, raw: s[i:end]}, end
}

// skipValue validates and skips the value at i, which sits at the given depth, without
// recursion: a bit per open container (set for an array) is all it keeps, so no nesting
// can grow the stack. It returns the index after the value, or -1.
func oldSkipValue(s string, i, depth int) int {
	var arrays [(maxDepth + 63) / 64]uint64
	n := 0 // open containers; a value inside them is at depth+n
	inArray := false
	for {
		if i >= len(s) || depth+n > maxDepth {
			return -1
		}
		switch c := s[i]; c {
		case '"':
			if i, _ = oldScanString(s, i+1); i < 0 {
				return -1
			}
			i++
		case '{', '[':
			i = oldSkipWS(s, i+1)
			if i < len(s) && s[i] == c+2 { // '}' and ']' follow their openers by two
				i++
				break
			}
			if c == '[' {
				arrays[n/64] |= 1 << (n % 64)
			} else {
				arrays[n/64] &^= 1 << (n % 64)
				if i = oldMemberValue(s, i); i < 0 {
					return -1
				}
			}
			n++
			inArray = c == '['
			continue
		default:
			if _, i = oldScalarAt(s, i, depth+n); i < 0 {
				return -1
			}
		}
		// after a value: close what ends here, or move on to the next member
		for {
			if n == 0 {
				return i
			}
			i = oldSkipWS(s, i)
			if i >= len(s) {
				return -1
			}
			c := s[i]
			if c == ',' {
				i = oldSkipWS(s, i+1)
				if !inArray {
					if i = oldMemberValue(s, i); i < 0 {
						return -1
					}
				}
				break
			}
			if inArray && c == ']' || !inArray && c == '}' {
				i++
				n--
				inArray = n > 0 && arrays[(n-1)/64]&(1<<((n-1)%64)) != 0
				continue
			}
			return -1
		}
	}
}

// skipAny skips the value at i: a scalar directly, a container through skipValue.
func oldSkipAny(s string, i, depth int) int {
	if i < len(s) && (s[i] == '{' || s[i] == '[') {
		return oldSkipValue(s, i, depth)
	}
	_, i = oldScalarAt(s, i, depth)
	return i
}

// memberValue skips an object member's key and colon at i and returns where its value
// starts, or -1.
func oldMemberValue(s string, i int) int {
	if i >= len(s) || s[i] != '"' {
		return -1
	}
	end, _ := oldScanString(s, i+1)
	if end < 0 {
		return -1
	}
	i = oldSkipWS(s, end+1)
	if i >= len(s) || s[i] != ':' {
		return -1
	}
	return oldSkipWS(s, i+1)
}

// scanInputs are whole values, clean and dirty, each cut at every length and with each
// of its bytes replaced by a byte that matters to the scanner.
func scanInputs() []string {
	now := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	var base []string
	fleet := redistest.DirtyFleet(50, "sched:", now)
	for _, k := range slices.Sorted(maps.Keys(fleet)) {
		if strings.HasPrefix(k, "sched:meta:") {
			base = append(base, fleet[k])
		}
	}
	base = append(base, `[1,-2,+3,.5e+7,inf,-Inf,+nan,NaN,-x,+,-]`, `{"a":[[],{},[{}]],"b":"\\\"","c":true}`,
		`"\u00e9\"`, `nan`, `-`, `1e`, `[tru]`, `{"a" : 1 , "b" :[ 1 ,2 ] }`, "\t{\n\"a\"\r:\t1}")
	out := append([]string(nil), base...)
	special := []byte(`"\{}[],:-+.eE0nNiItfu ` + "\t\x00\x80")
	for k, v := range base[:12] {
		for n := 0; n <= len(v); n += 1 + k {
			out = append(out, v[:n])
		}
		for n := 0; n < len(v); n += 3 + k {
			b := []byte(v)
			b[n] = special[(n+k)%len(special)]
			out = append(out, string(b))
		}
	}
	return out
}

// The fast scanner ends or rejects every value, and every value inside one, where the
// old one did.
func TestScanMatchesOld(t *testing.T) {
	for _, s := range scanInputs() {
		checkScanMatchesOld(t, s)
	}
}

func checkScanMatchesOld(t *testing.T, s string) {
	t.Helper()
	for i := 0; i <= len(s); i++ {
		for _, depth := range []int{1, 2, maxDepth} {
			if got, want := skipAny(s, i, depth), oldSkipAny(s, i, depth); got != want {
				t.Fatalf("skipAny(%q, %d, %d) = %d, the old scanner %d", s, i, depth, got, want)
			}
			if i < len(s) {
				gv, gi := scalarAt(s, i, depth)
				wv, wi := oldScalarAt(s, i, depth)
				if gv != wv || gi != wi {
					t.Fatalf("scalarAt(%q, %d, %d) = %+v %d, the old scanner %+v %d", s, i, depth, gv, gi, wv, wi)
				}
			}
		}
	}
}

func FuzzScanMatchesOld(f *testing.F) {
	for _, s := range scanInputs()[:200] {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > 4096 {
			return
		}
		checkScanMatchesOld(t, s)
	})
}
