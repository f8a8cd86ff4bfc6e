package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

const good = `current: prod
contexts:
  - name: prod
    redis: rediss://quotatop@redis.internal:6380/0
    prefix: "sched:"
    api: https://gw.example.com
    admin_key_file: ~/.config/quotatop/prod.key   # or admin_key_env: PROD_ADMIN_KEY
    color: red
    thresholds: {5h: 95, 7d: 90, warn: 70}
    interval: 15s
    read_only: true
  - name: staging
    redis: redis://10.0.0.7:6379/0
`

func TestParseTheIssuesExample(t *testing.T) {
	f, err := Parse("c.yaml", []byte(good), env(map[string]string{"HOME": "/home/op"}))
	if err != nil {
		t.Fatal(err)
	}
	c, err := f.Context("")
	if err != nil || c.Name != "prod" || c.AdminKeyFile != "/home/op/.config/quotatop/prod.key" || c.Prefix != "sched:" ||
		*c.Threshold5h != 95 || *c.Threshold7d != 90 || *c.Warn != 70 || c.Interval != 15*time.Second || !*c.ReadOnly || ColorCode(c.Color) != "196" || c.Line != 3 {
		t.Fatalf("%+v %v", c, err)
	}
	s, err := f.Context("staging")
	if err != nil || s.Redis != "redis://10.0.0.7:6379/0" || s.ReadOnly != nil || s.Threshold5h != nil {
		t.Fatalf("%+v %v", s, err)
	}
}

// Every mistake is named with its line, in one sentence.
func TestErrorsNameTheLine(t *testing.T) {
	cases := []struct {
		name, yaml string
		line       int
		want       string
	}{
		{"syntax", "current: a\ncontexts: b: c\n", 2, "not valid YAML"},
		{"unknown field", "contexts:\n  - name: a\n    redis: redis://x\n    colour: red\n", 4, `unknown field "colour"`},
		{"key in the file", "contexts:\n  - name: a\n    api: https://gw\n    admin_key: admin-0123abcd\n", 4, "admin_key is refused"},
		{"key in the env field", "contexts:\n  - name: a\n    api: https://gw\n    admin_key_env: admin-0123abcd\n", 4, "looks like a credential"},
		{"password in url", "contexts:\n  - name: a\n    redis: redis://u:hunter2@h:6379/0\n", 3, "holds a password"},
		{"bad threshold", "contexts:\n  - name: a\n    thresholds:\n      5h: 150\n", 4, "percent from 0 to 100"},
		{"bad interval", "contexts:\n  - name: a\n    interval: fast\n", 3, "not a duration"},
		{"bad colour", "contexts:\n  - name: a\n    color: mauve\n", 3, `color "mauve"`},
		{"unknown current", "current: prod\ncontexts:\n  - name: a\n", 1, `context "prod", which is not defined`},
		{"duplicate", "contexts:\n  - name: a\n  - name: a\n", 3, "defined twice"},
		{"no name", "contexts:\n  - redis: redis://x\n", 2, "has no name"},
		{"both sources", "contexts:\n  - name: a\n    api: https://gw\n    admin_key_file: k\n    admin_key_env: K\n", 5, "both admin_key_file and admin_key_env"},
		{"credential without api", "contexts:\n  - name: a\n    admin_key_env: K\n", 2, "no api URL"},
		{"bad api", "contexts:\n  - name: a\n    api: gw.example.com\n", 3, "not an http(s) URL"},
		{"password in the api url", "contexts:\n  - name: a\n    api: https://admin:hunter2@gw.example.com\n", 3, "carries a user, password, query or fragment"},
		{"token in the api url", "contexts:\n  - name: a\n    api: https://gw.example.com/?token=hunter2\n", 3, "carries a user, password, query or fragment"},
		{"top level", "contxts: []\n", 1, `unknown field "contxts"`},
		{"bad source", "contexts:\n  - name: a\n    source: postgres\n", 3, `source "postgres": use redis or api`},
		{"api source without api", "contexts:\n  - name: a\n    redis: redis://x\n    source: api\n", 4, "gives no api URL"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse("c.yaml", []byte(c.yaml), env(nil))
			var e *Error
			if !errors.As(err, &e) || e.Line != c.line || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("got %v (line %d), want line %d and %q", err, lineOf(e), c.line, c.want)
			}
			if strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), "0123abcd") {
				t.Fatalf("the error repeats the secret: %v", err)
			}
			if !strings.HasPrefix(err.Error(), "c.yaml line ") {
				t.Fatalf("the error does not name the file and line: %v", err)
			}
		})
	}
}

func lineOf(e *Error) int {
	if e == nil {
		return -1
	}
	return e.Line
}

func TestUnknownContext(t *testing.T) {
	f, err := Parse("c.yaml", []byte(good), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Context("qa"); err == nil || err.Error() != `c.yaml: no context named "qa" (defined: prod, staging)` {
		t.Fatalf("got %v", err)
	}
}

func TestEmptyFileAndPaths(t *testing.T) {
	if f, err := Parse("c.yaml", nil, env(nil)); err != nil || len(f.Contexts) != 0 {
		t.Fatalf("%+v %v", f, err)
	}
	if p := DefaultPath(env(map[string]string{"XDG_CONFIG_HOME": "/x", "HOME": "/h"})); p != "/x/quotatop/config.yaml" {
		t.Fatal(p)
	}
	if p := DefaultPath(env(map[string]string{"XDG_CONFIG_HOME": "relative", "HOME": "/h"})); p != "/h/.config/quotatop/config.yaml" {
		t.Fatal(p)
	}
	dir := t.TempDir()
	if _, err := Load(filepath.Join(dir, "none.yaml"), env(nil)); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "c.yaml"), []byte(good), 0o600)
	if f, err := Load(filepath.Join(dir, "c.yaml"), env(nil)); err != nil || len(f.Contexts) != 2 {
		t.Fatal(err)
	}
}

// Shared settings through anchors and merge keys, the way compose files share them.
func TestAnchorsAndMergeKeys(t *testing.T) {
	const shared = `x-common: &common
  prefix: "sched:"
  thresholds: &th {5h: 95, 7d: 90}
  read_only: true
contexts:
  - name: prod
    <<: *common
    redis: redis://10.0.0.5:6379/0
    read_only: false
  - name: staging
    <<: *common
    redis: redis://10.0.0.7:6379/0
    thresholds: *th
`
	f, err := Parse("c.yaml", []byte(shared), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	p, _ := f.Context("prod")
	s, _ := f.Context("staging")
	if p.Prefix != "sched:" || *p.ReadOnly || *p.Threshold5h != 95 || !*s.ReadOnly || *s.Threshold7d != 90 || s.Redis != "redis://10.0.0.7:6379/0" {
		t.Fatalf("prod %+v staging %+v", p, s)
	}
}
