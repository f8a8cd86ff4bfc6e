package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// flagValuesForTest gives each documented flag a value that parses.
var flagValuesForTest = map[string]string{
	"redis": "redis://127.0.0.1:1/0", "prefix": "sched:", "redis-ca": "ca.pem", "output": "json",
	"stale-after": "1h", "missing-timestamp": "stale", "default-threshold-5h": "90", "default-threshold-7d": "90",
	"warn": "70", "fail-on": "paused", "timeout": "2s", "interval": "5s", "api": "http://127.0.0.1:1",
	"admin-key-file": "k", "api-ca": "ca.pem", "audit-log": "a.jsonl", "config": "c.yaml", "context": "prod",
	"source": "redis", "scheduling-thresholds": "openai=90", "history": "off",
	"outage-after": "1m", "notify-timeout": "5s", "event-hold": "2", "group-floor": "1", "dry-horizon": "30m",
	"notify-webhook-file": "w", "notify-exec": "true", "metrics-listen": "127.0.0.1:0", "notify-template": "t",
}

// Every flag the README documents still parses: scripts depend on them.
func TestEveryDocumentedFlagParses(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	flags := map[string]bool{}
	for _, m := range regexp.MustCompile("(?m)^\\| `--([a-z0-9-]+)").FindAllStringSubmatch(string(readme), -1) {
		flags[m[1]] = true
	}
	for _, m := range regexp.MustCompile("`--(default-threshold-7d)").FindAllStringSubmatch(string(readme), -1) {
		flags[m[1]] = true
	}
	if len(flags) < 24 {
		t.Fatalf("found only %d flags in the README's table", len(flags))
	}
	for name := range flags {
		args := []string{"--" + name}
		if v, ok := flagValuesForTest[name]; ok {
			args = append(args, v)
		}
		// --version answers after parsing and before anything else runs.
		r := runBinary(t, nil, append(args, "--version")...)
		if r.code != 0 || (name != "help" && !strings.HasPrefix(r.stdout, "quotatop v9.9.9-test")) {
			t.Errorf("--%s: exit %d, %q", name, r.code, r.stderr)
		}
	}
	// Go's flag package took single-dash long flags; scripts that use them keep working.
	for _, args := range [][]string{{"-once", "-output=json", "-version"}, {"-o", "csv", "-i", "1s", "-version"}, {"-help"}, {"-h"}} {
		if r := runBinary(t, nil, args...); r.code != 0 {
			t.Errorf("%v: exit %d %q", args, r.code, r.stderr)
		}
	}
}

func TestHelpIsGroupedGNUStyle(t *testing.T) {
	r := runBinary(t, nil, "--help")
	if r.code != 0 {
		t.Fatalf("exit %d", r.code)
	}
	at := func(s string) int { return strings.Index(r.stdout, s) }
	if !(at("\nStorage:\n") < at("\nJudgement:\n") && at("\nJudgement:\n") < at("\nActions:\n") && at("\nActions:\n") < at("\nOutput:\n")) || at("\nStorage:\n") < 0 {
		t.Fatalf("groups missing or out of order:\n%s", r.stdout)
	}
	for _, want := range []string{"      --redis URL", "  -o, --output format", "  -i, --interval duration", "  -h, --help", "--fail-on states"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("help lacks %q", want)
		}
	}
	if strings.Contains(r.stdout, "--admin-key ") || regexp.MustCompile(`(?m)^\s+-[a-z][a-z]`).MatchString(r.stdout) {
		t.Errorf("help shows the refused --admin-key or a single-dash long flag:\n%s", r.stdout)
	}
}

// Each error is one sentence on stderr, exit 1.
func TestOneSentencePerError(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("contexts:\n  - name: a\n    colour: red\n"), 0o600)
	schemeless := filepath.Join(dir, "schemeless.yaml")
	os.WriteFile(schemeless, []byte("contexts:\n  - name: a\n    redis: http://10.0.0.7:6379\n"), 0o600)
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--bogus"}, "unknown flag --bogus (see --help)"},
		{[]string{"-x"}, "unknown flag -x (see --help)"},
		{[]string{"--output"}, "needs an argument"},
		{[]string{"--interval", "soon"}, `invalid argument "soon"`},
		{[]string{"stray"}, `unexpected argument "stray" (see --help)`},
		{[]string{"--source", "ftp"}, `--source "ftp": use redis or api`},
		{[]string{"--config", bad, "--once"}, "bad.yaml line 3: unknown field \"colour\""},
		{[]string{"--config", filepath.Join(dir, "none.yaml"), "--once"}, "does not exist"},
		{[]string{"--context", "prod", "--once"}, "--context prod needs a config file"},
		{[]string{"config", "check", bad}, "line 3"},
		{[]string{"completion", "tcsh"}, "tcsh"},
		{[]string{"config", "check", schemeless}, "schemeless.yaml line 3: context a: "},
	}
	for _, c := range cases {
		r := runBinary(t, nil, c.args...)
		if r.code != 1 || !strings.Contains(r.stderr, c.want) || strings.Count(r.stderr, "\n") != 1 || !strings.HasPrefix(r.stderr, "quotatop: ") {
			t.Errorf("%v: exit %d, stderr %q, want one line with %q", c.args, r.code, r.stderr, c.want)
		}
	}
}

func TestCompletionAndManPage(t *testing.T) {
	for sh, marker := range map[string]string{"bash": "complete -o default -F __start_quotatop quotatop", "zsh": "#compdef quotatop", "fish": "complete -c quotatop"} {
		r := runBinary(t, nil, "completion", sh)
		if r.code != 0 || !strings.Contains(r.stdout, marker) {
			t.Errorf("completion %s: exit %d, lacks %q", sh, r.code, marker)
		}
	}
	r := runBinary(t, []string{"SOURCE_DATE_EPOCH=1764000000"}, "man")
	if r.code != 0 || !strings.Contains(r.stdout, `.TH "QUOTATOP" "1" "Nov 2025" "quotatop v9.9.9-test"`) || !strings.Contains(r.stdout, `\fB--fail-on\fP`) {
		t.Fatalf("man: exit %d\n%.400s", r.code, r.stdout)
	}
	dir := t.TempDir()
	if r := runBinary(t, nil, "man", dir); r.code != 0 {
		t.Fatalf("man DIR: exit %d %q", r.code, r.stderr)
	}
	for _, page := range []string{"quotatop.1", "quotatop-config-check.1", "quotatop-completion.1"} {
		if _, err := os.Stat(filepath.Join(dir, page)); err != nil {
			t.Error(err)
		}
	}
}

const twoContexts = `current: prod
contexts:
  - name: prod
    redis: redis://127.0.0.1:3/0
    prefix: "file:"
    color: red
  - name: staging
    redis: redis://127.0.0.1:4/0
  - name: keyed
    redis: redis://127.0.0.1:5/0
    api: http://127.0.0.1:1
    admin_key_env: KEYED_ADMIN_KEY
`

// Flags over environment over the file over defaults; the storage URL shows which won.
func TestConfigPrecedence(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "quotatop"), 0o700)
	os.WriteFile(filepath.Join(dir, "quotatop", "config.yaml"), []byte(twoContexts), 0o600)
	xdg := "XDG_CONFIG_HOME=" + dir
	cases := []struct {
		name string
		env  []string
		args []string
		want string
	}{
		{"the file's current context", []string{xdg}, nil, "redis://127.0.0.1:3/0"},
		{"--context", []string{xdg}, []string{"--context", "staging"}, "redis://127.0.0.1:4/0"},
		{"QUOTATOP_CONTEXT", []string{xdg, "QUOTATOP_CONTEXT=staging"}, nil, "redis://127.0.0.1:4/0"},
		{"environment over the file", []string{xdg, "QUOTATOP_REDIS=redis://127.0.0.1:2/0"}, nil, "redis://127.0.0.1:2/0"},
		{"flag over environment", []string{xdg, "QUOTATOP_REDIS=redis://127.0.0.1:2/0"}, []string{"--redis", "redis://127.0.0.1:1/0"}, "redis://127.0.0.1:1/0"},
	}
	for _, c := range cases {
		r := runBinary(t, c.env, append([]string{"--once", "--timeout", "1s"}, c.args...)...)
		if r.code != 2 || !strings.Contains(r.stderr, "storage at "+c.want+":") {
			t.Errorf("%s: exit %d %q, want %s", c.name, r.code, r.stderr, c.want)
		}
	}
	// The prefix: the file's, unless the flag says otherwise (the scan names it).
	for _, c := range []struct {
		args []string
		want string
	}{{nil, "scan file:meta:*"}, {[]string{"--prefix", "flag:"}, "scan flag:meta:*"}} {
		r := runBinary(t, []string{xdg}, append([]string{"--once", "--timeout", "1s"}, c.args...)...)
		if r.code != 2 || !strings.Contains(r.stderr, c.want) {
			t.Errorf("%v: exit %d %q, want %s", c.args, r.code, r.stderr, c.want)
		}
	}
	// The demo is its own gateway: the file's context does not apply to it.
	if r := runBinary(t, []string{xdg, "QUOTATOP_CONTEXT=staging"}, "--demo", "--once", "-o", "json"); r.code != 0 || !strings.Contains(r.stdout, `"prefix": "sched:"`) {
		t.Errorf("demo with a config file: exit %d %.200s", r.code, r.stdout)
	}
	r := runBinary(t, []string{xdg}, "--context", "qa", "--once")
	if r.code != 1 || !strings.Contains(r.stderr, `no context named "qa" (defined: prod, staging, keyed)`) {
		t.Errorf("unknown context: exit %d %q", r.code, r.stderr)
	}
	// A context's own credential source must be there; the general key is not sent to it.
	r = runBinary(t, []string{xdg, "QUOTATOP_ADMIN_KEY=admin-general"}, "--context", "keyed", "--once")
	if r.code != 1 || !strings.Contains(r.stderr, "context keyed takes its admin key from $KEYED_ADMIN_KEY, which is not set") {
		t.Errorf("missing credential: exit %d %q", r.code, r.stderr)
	}
	// Shell completion offers the file's contexts.
	r = runBinary(t, []string{xdg}, "__complete", "--context", "")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "prod\nstaging\nkeyed\n") {
		t.Errorf("context completion: exit %d %q", r.code, r.stdout)
	}
	r = runBinary(t, []string{xdg}, "config", "check")
	if r.code != 0 || !strings.Contains(r.stdout, "ok, 3 context(s), current prod") || !strings.Contains(r.stdout, "$KEYED_ADMIN_KEY is not set here") {
		t.Errorf("config check: exit %d %q %q", r.code, r.stdout, r.stderr)
	}
}

// A release build injects the version without its v ({{ .Version }} is 1.2.3 for tag
// v1.2.3) in some setups; the binary shows v1.2.3 either way, as `go install ...@v1.2.3`
// does.
func TestVersionKeepsItsV(t *testing.T) {
	saved := version
	defer func() { version = saved }()
	for _, v := range []string{"1.2.3", "v1.2.3"} {
		version = v
		if got := versionName(); got != "v1.2.3" {
			t.Errorf("version %q shows as %q", v, got)
		}
	}
}
