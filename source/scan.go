package source

import (
	"math/bits"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"

	"github.com/valyala/fastjson/fastfloat"
)

// This file is the scanner under the one-pass decoder: it walks the raw bytes of a value
// once, validating them exactly as fastjson's Parser does (the decoder it replaced, kept as
// the reference in decoderef_test.go), and hands each scalar to the decoder without
// building a tree. fastjson is laxer than RFC 8259 in ways stored values may rely on:
// string contents are not checked, a number is any run of digits, signs, dots and
// exponents (or inf/nan), and a bad escape is kept as it stands. The scanner keeps every
// one of those quirks, so a value decodes to the same Account as before, byte for byte.

// maxDepth is fastjson's MaxDepth: the top value is at depth 1, and a value (a scalar
// included) deeper than this makes the whole value unreadable.
const maxDepth = 300

// jkind is a JSON value's type, as fastjson.Type names them.
type jkind uint8

const (
	jNull jkind = iota
	jObject
	jArray
	jString
	jNumber
	jTrue
	jFalse
)

// jval is one value as scanned: a string's raw content (escapes still in it), a number's
// text, or just the kind of a literal or of a container already skipped. raw aliases the
// scanned value and is only for reading during the decode.
type jval struct {
	raw  string
	kind jkind
	esc  bool // a string holding a backslash: read it through Decoder.view
}

// String is fastjson's Type.String.
func (k jkind) String() string {
	return [...]string{"null", "object", "array", "string", "number", "true", "false"}[k]
}

func skipWS(s string, i int) int {
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
func scanString(s string, i int) (end int, esc bool) {
	for {
		for ; i+8 <= len(s); i += 8 {
			if m := quoteOrBackslash(load8(s, i)); m != 0 {
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

// load8 reads the eight bytes at i, which its callers have checked are in s, as one
// little-endian load without a bounds check.
func load8(s string, i int) uint64 {
	return le64(unsafe.Add(unsafe.Pointer(unsafe.StringData(s)), i))
}

// quoteOrBackslash marks the bytes of x that are '"' or '\\' with their high bit; only
// the lowest mark is exact (a borrow can mark a byte above a real one), and only the
// lowest is used.
func quoteOrBackslash(x uint64) uint64 {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	q := x ^ (ones * '"')
	b := x ^ (ones * '\\')
	return ((q-ones)&^q | (b-ones)&^b) & highs
}

// scanNumber is fastjson's parseRawNumber: the end of the run of number bytes at i, or
// of a signed or bare inf/nan; -1 when there is neither.
func scanNumber(s string, i int) int {
	j := i
	for j < len(s) && numberByte[s[j]] {
		j++
	}
	if j < len(s) && (j == i || j == i+1 && (s[i] == '-' || s[i] == '+')) {
		if len(s)-j >= 3 && (strings.EqualFold(s[j:j+3], "inf") || strings.EqualFold(s[j:j+3], "nan")) {
			return j + 3
		}
		return -1
	}
	return j
}

// numberByte marks the bytes fastjson takes into a number: digits, signs, dots and
// exponents (one table load instead of six comparisons a byte).
var numberByte = func() (t [256]bool) {
	for _, c := range "0123456789.-eE+" {
		t[c] = true
	}
	return t
}()

// scalarAt reads the value at i (whitespace already skipped) at the given depth; a
// container is skipped, validated, and reported by its kind only. It returns the index
// after the value, or -1 when the bytes are not a value fastjson would accept.
func scalarAt(s string, i, depth int) (jval, int) {
	if i >= len(s) || depth > maxDepth {
		return jval{}, -1
	}
	switch c := s[i]; c {
	case '"':
		end, esc := scanString(s, i+1)
		if end < 0 {
			return jval{}, -1
		}
		return jval{kind: jString, raw: s[i+1 : end], esc: esc}, end + 1
	case '{', '[':
		k := jObject
		if c == '[' {
			k = jArray
		}
		return jval{kind: k}, skipValue(s, i, depth)
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
	end := scanNumber(s, i)
	if end < 0 {
		return jval{}, -1
	}
	return jval{kind: jNumber, raw: s[i:end]}, end
}

// skipValue validates and skips the value at i, which sits at the given depth, without
// recursion: a bit per open container (set for an array) is all it keeps, so no nesting
// can grow the stack. It returns the index after the value, or -1.
func skipValue(s string, i, depth int) int {
	var arrays [(maxDepth + 63) / 64]uint64
	n := 0 // open containers; a value inside them is at depth+n
	inArray := false
	for {
		if i >= len(s) || depth+n > maxDepth {
			return -1
		}
		switch c := s[i]; c {
		case '"':
			if i, _ = scanString(s, i+1); i < 0 {
				return -1
			}
			i++
		case '{', '[':
			i = skipWS(s, i+1)
			if i < len(s) && s[i] == c+2 { // '}' and ']' follow their openers by two
				i++
				break
			}
			if c == '[' {
				arrays[n/64] |= 1 << (n % 64)
			} else {
				arrays[n/64] &^= 1 << (n % 64)
				if i = memberValue(s, i); i < 0 {
					return -1
				}
			}
			n++
			inArray = c == '['
			continue
		default:
			if _, i = scalarAt(s, i, depth+n); i < 0 {
				return -1
			}
		}
		// after a value: close what ends here, or move on to the next member
		for {
			if n == 0 {
				return i
			}
			i = skipWS(s, i)
			if i >= len(s) {
				return -1
			}
			c := s[i]
			if c == ',' {
				i = skipWS(s, i+1)
				if !inArray {
					if i = memberValue(s, i); i < 0 {
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
func skipAny(s string, i, depth int) int {
	if i < len(s) && (s[i] == '{' || s[i] == '[') {
		return skipValue(s, i, depth)
	}
	_, i = scalarAt(s, i, depth)
	return i
}

// memberValue skips an object member's key and colon at i and returns where its value
// starts, or -1.
func memberValue(s string, i int) int {
	if i >= len(s) || s[i] != '"' {
		return -1
	}
	end, _ := scanString(s, i+1)
	if end < 0 {
		return -1
	}
	// stored values put the colon right after the key
	if i = end + 1; i >= len(s) || s[i] != ':' {
		if i = skipWS(s, i); i >= len(s) || s[i] != ':' {
			return -1
		}
	}
	return skipWS(s, i+1)
}

// objectStart enters the object at i ('{'): the index of its first key, or of the
// closing brace (then empty is true), or -1.
func objectStart(s string, i int) (at int, empty bool) {
	i = skipWS(s, i+1)
	if i >= len(s) {
		return -1, false
	}
	if s[i] == '}' {
		return i + 1, true
	}
	return i, false
}

// memberKey reads the key at i and the colon after it: the raw key, whether it holds a
// backslash, and where the value starts; -1 when the bytes are not a key and a colon.
func memberKey(s string, i int) (key string, esc bool, at int) {
	if i >= len(s) || s[i] != '"' {
		return "", false, -1
	}
	end, esc := scanString(s, i+1)
	if end < 0 {
		return "", false, -1
	}
	key = s[i+1 : end]
	i = skipWS(s, end+1)
	if i >= len(s) || s[i] != ':' {
		return "", false, -1
	}
	return key, esc, skipWS(s, i+1)
}

// memberNext moves past the comma after a member's value: the next key's index, or the
// index after the closing brace with done true, or -1.
func memberNext(s string, i int) (at int, done bool) {
	if i < 0 {
		return -1, false
	}
	i = skipWS(s, i)
	if i >= len(s) {
		return -1, false
	}
	switch s[i] {
	case ',':
		return skipWS(s, i+1), false
	case '}':
		return i + 1, true
	}
	return -1, false
}

// appendUnescaped is fastjson's unescapeStringBestEffort: standard escapes are decoded,
// a surrogate pair is joined (a bad pair is U+FFFD), and anything else is kept as it
// stands.
func appendUnescaped(b []byte, s string) []byte {
	n := strings.IndexByte(s, '\\')
	if n < 0 {
		return append(b, s...)
	}
	b = append(b, s[:n]...)
	s = s[n+1:]
	for len(s) > 0 {
		ch := s[0]
		s = s[1:]
		switch ch {
		case '"', '\\', '/':
			b = append(b, ch)
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case 'u':
			x, ok := hex4(s)
			if !ok {
				b = append(b, `\u`...)
				break
			}
			xs := s[:4]
			s = s[4:]
			if !utf16.IsSurrogate(x) {
				b = utf8.AppendRune(b, x)
				break
			}
			if len(s) < 6 || s[0] != '\\' || s[1] != 'u' {
				b = append(b, `\u`...)
				b = append(b, xs...)
				break
			}
			x1, ok := hex4(s[2:])
			if !ok {
				b = append(b, `\u`...)
				b = append(b, xs...)
				break
			}
			b = utf8.AppendRune(b, utf16.DecodeRune(x, x1))
			s = s[6:]
		default:
			b = append(b, '\\', ch)
		}
		n = strings.IndexByte(s, '\\')
		if n < 0 {
			b = append(b, s...)
			break
		}
		b = append(b, s[:n]...)
		s = s[n+1:]
	}
	return b
}

// hex4 reads four hex digits, as strconv.ParseUint(s[:4], 16, 16) does.
func hex4(s string) (rune, bool) {
	if len(s) < 4 {
		return 0, false
	}
	var x rune
	for i := 0; i < 4; i++ {
		c := s[i]
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		x = x<<4 | rune(c)
	}
	return x, true
}

// key is an object key as fastjson's Visit sees it: unescaped, in the key buffer when it
// had to be, so it is read-only and valid until the next key.
func (d *Decoder) key(raw string, esc bool) string {
	if !esc {
		return raw
	}
	d.keyBuf = appendUnescaped(d.keyBuf[:0], raw)
	return unsafe.String(unsafe.SliceData(d.keyBuf), len(d.keyBuf))
}

// view is a string value unescaped, without copying when it holds no escape: it aliases
// the value or the value buffer, so it is only for reading until the next view; textOf
// copies what it keeps.
func (d *Decoder) view(v jval) string {
	if !v.esc {
		return v.raw
	}
	d.valBuf = appendUnescaped(d.valBuf[:0], v.raw)
	return unsafe.String(unsafe.SliceData(d.valBuf), len(d.valBuf))
}

// float is fastjson's Value.Float64 on a number.
func (v jval) float() (float64, error) { return fastfloat.Parse(v.raw) }
