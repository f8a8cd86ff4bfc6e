package source

import (
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

// Whatever a hostile value holds, the decoded account's texts are inert, the reason for
// a broken value holds no input bytes, and every number is finite.
func FuzzDecodeValue(f *testing.F) {
	f.Add(`{"ID":7,"Name":"a\u001b[31m","Credentials":{"api_key":"` + Canary + `"},"Extra":{"codex_5h_used_percent":"Infinity"}}`)
	f.Add(`{"ID":7,"Credentials":{"api_key":"` + Canary)
	f.Add(`{"ID":1e309,"Extra":{"codex_7d_used_percent":1e309,"auto_pause_7d_threshold":"NaN"}}`)
	f.Add(`[` + Canary + `]`)
	f.Fuzz(func(t *testing.T, raw string) {
		var d Decoder
		a := d.Decode("sched:meta:7", raw)
		for _, s := range []string{a.Name, a.Platform, a.Type, a.Status, a.Key, a.Block().TempUnschedulableReason, a.Invalid} {
			if !inert(s) {
				t.Fatalf("decoded text %q is not inert", s)
			}
		}
		if strings.Contains(a.Invalid, "sk-") || strings.Contains(a.Invalid, "MUST-NEVER") {
			t.Fatalf("reason %q quotes the value", a.Invalid)
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
