package source

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// inert reports whether s is safe on a terminal: valid UTF-8 without controls.
func inert(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return false
		}
	}
	return true
}

// invalidReason is every sentence the decoder can give for a value it cannot use
// (syntaxReason in jsonerr.go, decode and applyTop): a kind of error, byte counts and a
// JSON type name, nothing else, so that a reason quoting any byte of the value fails to
// match. The groups are the counts that must equal the value's length and the offset.
var invalidReason = regexp.MustCompile(`^(?:not valid JSON: (?:empty value|truncated after (\d+) bytes|` +
	`syntax error at byte (\d+) of (\d+)|unreadable (\d+)-byte value|a (\d+)-byte value the decoder cannot read)|` +
	`not a JSON object but (?:null|object|array|string|number|true|false)|` +
	`(?:ID is not a number|no account ID in the value or the key)(?:; (?:ID is not a number|no account ID in the value or the key))*)$`)

// checkInvalidReason fails unless reason is one of the decoder's sentences with its
// counts true of raw.
func checkInvalidReason(t *testing.T, reason, raw string) {
	t.Helper()
	m := invalidReason.FindStringSubmatch(reason)
	if m == nil {
		t.Fatalf("reason %q is not one of the decoder's sentences", reason)
	}
	for _, n := range []string{m[1], m[3], m[4], m[5]} {
		if n != "" && n != strconv.Itoa(len(raw)) {
			t.Fatalf("reason %q: the value is %d bytes", reason, len(raw))
		}
	}
	if m[2] != "" {
		if at, _ := strconv.Atoi(m[2]); at >= len(raw) {
			t.Fatalf("reason %q: an offset past the value's %d bytes", reason, len(raw))
		}
	}
}

// Whatever a hostile value holds, the decoded account's texts are inert, the reason for
// a broken value is one of the decoder's own sentences (so it holds no input bytes), and
// every number is finite.
func FuzzDecodeValue(f *testing.F) {
	f.Add(`{"ID":7,"Name":"a\u001b[31m","Credentials":{"api_key":"` + Canary + `"},"Extra":{"codex_5h_used_percent":"Infinity"}}`)
	f.Add(`{"ID":7,"Credentials":{"api_key":"` + Canary)
	f.Add(`{"ID":1e309,"Extra":{"codex_7d_used_percent":1e309,"auto_pause_7d_threshold":"NaN"}}`)
	f.Add(`[` + Canary + `]`)
	// One seed for each of the decoder's sentences.
	f.Add(``)
	f.Add(`"` + Canary + `"`)
	f.Add(`{"ID":"x` + Canary + `","ID":{"k":1}}`)
	f.Add(`{"ID":7} ` + Canary)
	f.Add(`{"ID":7,"Extra":` + strings.Repeat(`[`, 400) + strings.Repeat(`]`, 400) + `}`)
	f.Fuzz(func(t *testing.T, raw string) {
		var d Decoder
		a := d.Decode("sched:meta:7", raw)
		for _, s := range []string{a.Name, a.Platform, a.Type, a.Status, a.Key, a.Block().TempUnschedulableReason, a.Invalid} {
			if !inert(s) {
				t.Fatalf("decoded text %q is not inert", s)
			}
		}
		if a.Invalid != "" {
			checkInvalidReason(t, a.Invalid, raw)
		}
		if q := a.Quota; q != nil {
			for _, w := range q.Windows {
				if w.UsedPercent != w.UsedPercent || w.UsedPercent > 1.7976931348623157e308 || w.UsedPercent < -1.7976931348623157e308 || w.Threshold != w.Threshold {
					t.Fatalf("non-finite number %v / %v", w.UsedPercent, w.Threshold)
				}
			}
		}
	})
}

// The admin answer parser never panics, and its sentences are inert, bounded and free
// of the credential whatever the gateway sends.
func FuzzAdminAnswer(f *testing.F) {
	f.Add(200, []byte(`{"code":0,"message":"success","data":{}}`))
	f.Add(401, []byte(`{"code":"INVALID_ADMIN_KEY","message":"bad key `+testKey+`\u001b[2J"}`))
	f.Add(423, []byte(`{"code":"ADMIN_COMPLIANCE_ACK_REQUIRED"}`))
	f.Add(500, []byte("<html>\x1b]0;x\x07</html>"))
	f.Add(200, []byte(`{"code":"E\u009b1m","message":"`+strings.Repeat("x", 5000)+`"}`))
	a, err := NewAdmin(AdminConfig{BaseURL: "http://127.0.0.1:1", Key: testKey})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, status int, raw []byte) {
		_, err := a.answer(status, raw, 42)
		if err == nil {
			return
		}
		msg := err.Error()
		if !inert(msg) || len(msg) > 4096 {
			t.Fatalf("sentence not inert or unbounded (%d bytes): %q", len(msg), msg[:min(len(msg), 300)])
		}
		if strings.Contains(msg, testKey) && !strings.Contains(string(raw), testKey) {
			t.Fatal("the key appeared from nowhere")
		}
	})
}

// globMatch is Redis's stringmatchlen for the subset SCAN patterns use: *, ?, [...]
// (with ^ and ranges) and backslash escapes.
func globMatch(p, s string) bool {
	for len(p) > 0 {
		switch p[0] {
		case '*':
			for len(p) > 1 && p[1] == '*' {
				p = p[1:]
			}
			if len(p) == 1 {
				return true
			}
			for i := 0; i <= len(s); i++ {
				if globMatch(p[1:], s[i:]) {
					return true
				}
			}
			return false
		case '?':
			if len(s) == 0 {
				return false
			}
			s = s[1:]
			p = p[1:]
			continue
		case '[':
			if len(s) == 0 {
				return false
			}
			p = p[1:]
			not := len(p) > 0 && p[0] == '^'
			if not {
				p = p[1:]
			}
			match := false
			for len(p) > 0 && p[0] != ']' {
				switch {
				case p[0] == '\\' && len(p) >= 2:
					p = p[1:]
					match = match || p[0] == s[0]
				case len(p) >= 3 && p[1] == '-':
					lo, hi := p[0], p[2]
					if lo > hi {
						lo, hi = hi, lo
					}
					match = match || (s[0] >= lo && s[0] <= hi)
					p = p[2:]
				default:
					match = match || p[0] == s[0]
				}
				p = p[1:]
			}
			if len(p) > 0 {
				p = p[1:]
			}
			if match == not {
				return false
			}
			s = s[1:]
			continue
		case '\\':
			if len(p) >= 2 {
				p = p[1:]
			}
		}
		if len(s) == 0 || p[0] != s[0] {
			return false
		}
		p, s = p[1:], s[1:]
	}
	return len(s) == 0
}

// For any prefix: the pattern matches the prefix's own meta keys and never a token key,
// and the key filter accepts only <prefix>meta:<digits>.
func FuzzPrefixPattern(f *testing.F) {
	for _, s := range []string{"sched:", "sched:acc:*[0-9", "sched:{sub2api:scheduler}:", `a\`, "[^x]", "*", "?"} {
		f.Add(s, "42")
	}
	f.Fuzz(func(t *testing.T, prefix, id string) {
		pattern := ScanPattern(prefix)
		if !globMatch(pattern, prefix+"meta:17") {
			t.Fatalf("pattern %q misses %q", pattern, prefix+"meta:17")
		}
		for _, token := range []string{prefix + "acc:17", "sched:acc:17", prefix + "acc:last_used:17"} {
			if globMatch(pattern, token) {
				t.Fatalf("pattern %q matches the token key %q", pattern, token)
			}
		}
		key := prefix + "meta:" + id
		got, ok := MetaKeyID(prefix, key)
		_, parseErr := strconv.ParseInt(id, 10, 64)
		digits := id != "" && strings.Trim(id, "0123456789") == "" && parseErr == nil
		if ok != digits {
			t.Fatalf("MetaKeyID(%q, %q) = %v, %v", prefix, key, got, ok)
		}
		if _, ok := MetaKeyID(prefix, prefix+"acc:"+id); ok {
			t.Fatalf("a token key %q passed the filter", prefix+"acc:"+id)
		}
	})
}
