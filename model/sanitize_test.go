package model

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestSanitize(t *testing.T) {
	cases := map[string]string{
		"codex-pro-07":                     "codex-pro-07",
		"名前-ok":                            "名前-ok",
		"codex-team-\x1b[31mred\x1b[0m-11": "codex-team-␛[31mred␛[0m-11",
		"a\nb\tc\rd\x07":                   "a␊b␉c␍d␇",
		"del\x7f":                          "del␡",
		"c1\u009b31m":                      "c1\ufffd31m",
		"bidi\u202eevil":                   "bidi\ufffdevil",
		"bad\xffutf8":                      "bad\ufffdutf8",
		"osc\x1b]52;c;aGk=\x07":            "osc␛]52;c;aGk=␇",
		"line\u2028sep":                    "line\ufffdsep",
	}
	for in, want := range cases {
		if got := Sanitize(in); got != want {
			t.Errorf("Sanitize(%q) = %q, want %q", in, got, want)
		}
		for _, r := range Sanitize(in) {
			if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
				t.Errorf("Sanitize(%q) kept control %U", in, r)
			}
		}
	}
}

func FuzzSanitize(f *testing.F) {
	f.Add("codex-team-\x1b[31mred\x1b[0m-11")
	f.Fuzz(func(t *testing.T, s string) {
		for _, r := range Sanitize(s) {
			if r < 0x20 || r == 0x7f || unsafeRune(r) {
				t.Fatalf("Sanitize(%q) kept %U", s, r)
			}
		}
	})
}

func TestFormatAge(t *testing.T) {
	cases := map[time.Duration]string{
		0: "0s", 59 * time.Second: "59s", time.Minute: "1m", 59*time.Minute + 59*time.Second: "59m",
		time.Hour: "1h", 3*time.Hour + 14*time.Minute: "3h14m", 26 * time.Hour: "1d2h", 48 * time.Hour: "2d", -90 * time.Second: "1m",
	}
	for d, want := range cases {
		if got := FormatAge(d); got != want {
			t.Errorf("FormatAge(%v) = %q, want %q", d, got, want)
		}
	}
	if FormatPercent(99.2) != "99.2%" || FormatPercent(97) != "97%" || ThresholdPercent(0.95) != 95 {
		t.Errorf("percent formatting: %s %s %v", FormatPercent(99.2), FormatPercent(97), ThresholdPercent(0.95))
	}
}

// Text from outside comes out inert and bounded, whatever it holds.
func FuzzOutsideText(f *testing.F) {
	f.Add("x509: certificate is valid for \x1b]0;owned\x07, not gw")
	f.Add(strings.Repeat("é\u202e", 500))
	f.Fuzz(func(t *testing.T, s string) {
		out := OutsideText(s)
		if n := utf8.RuneCountInString(out); n > OutsideTextMax+1 {
			t.Fatalf("%d runes kept", n)
		}
		for _, r := range out {
			if r < 0x20 || r == 0x7f || unsafeRune(r) {
				t.Fatalf("OutsideText(%q) kept %U", s, r)
			}
		}
		if len(s) <= OutsideTextMax && isClean(s) && out != s {
			t.Fatalf("short clean text changed: %q -> %q", s, out)
		}
	})
}
