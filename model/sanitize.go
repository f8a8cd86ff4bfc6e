package model

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Sanitize makes a string from storage safe to put on a terminal: C0 controls (ESC
// included) become their visible Unicode control pictures, so an escape sequence shows up
// as inert text instead of acting; C1 controls, bidi overrides, line separators and
// invalid UTF-8 become U+FFFD.
func Sanitize(s string) string {
	if isClean(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == utf8.RuneError && size <= 1:
			b.WriteRune(utf8.RuneError)
		case r < 0x20:
			b.WriteRune(0x2400 + r)
		case r == 0x7f:
			b.WriteRune(0x2421)
		case unsafeRune(r):
			b.WriteRune(utf8.RuneError)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func isClean(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			return cleanSlow(s[i:])
		}
	}
	return true
}

// cleanSlow checks strings that hold a control or non-ASCII byte.
func cleanSlow(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || unsafeRune(r) {
			return false
		}
	}
	return true
}

func unsafeRune(r rune) bool {
	switch {
	case r >= 0x80 && r <= 0x9f: // C1, includes the 8-bit CSI
		return true
	case r == 0x2028 || r == 0x2029: // line and paragraph separators
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069: // bidi overrides
		return true
	case r == 0x200e || r == 0x200f || r == 0x061c: // bidi marks
		return true
	}
	return unicode.Is(unicode.Cc, r)
}

// OutsideTextMax is how many runes of text from outside (a gateway message, a Redis error,
// a certificate name) an error sentence keeps.
const OutsideTextMax = 200

// OutsideText makes text from outside fit in an error sentence: sanitised and cut to
// OutsideTextMax runes, so a hostile multi-megabyte message costs nothing to show or log.
func OutsideText(s string) string { return Cut(s, OutsideTextMax) }

// Cut sanitises s and keeps at most max runes of it, marking a cut with an ellipsis. It
// looks at no more than 4*max bytes, however long s is.
func Cut(s string, max int) string {
	cut := len(s) > max*4
	if cut {
		s = s[:max*4]
	}
	s = Sanitize(s)
	if utf8.RuneCountInString(s) <= max {
		if cut {
			return s + "…"
		}
		return s
	}
	n := 0
	for i := range s {
		if n == max {
			return s[:i] + "…"
		}
		n++
	}
	return s
}
