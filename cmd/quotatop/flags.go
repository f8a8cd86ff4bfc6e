package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/quotatop/quotatop/model"
	"github.com/quotatop/quotatop/report"
	"github.com/quotatop/quotatop/source"
)

var errHelp = errors.New("help requested")

type config struct {
	redisURL string
	prefix   string
	once     bool
	output   string
	policy   model.Policy
	failOn   []model.State
	demo     bool
	version  bool
	timeout  time.Duration
	interval time.Duration
	noColor  bool
	mouse    bool

	redisCA       string
	api           string
	adminKeyFile  string
	apiCA         string
	readOnly      bool
	confirmProbes bool
	auditLog      string

	alerts alertFlags // events, notifications, metrics, watch: see alerts.go
}

const usageHead = `quotatop watches the 5h/7d quotas of the accounts an API gateway (sub2api) pools.

Usage:
  quotatop [flags]            live monitor
  quotatop --once [flags]     print the fleet once and exit (table, json or csv)
  quotatop --demo             try it on the embedded demo gateway
  quotatop watch [flags]      headless: log, notify and export metrics, no screen

The Redis password may come from QUOTATOP_REDIS_PASSWORD instead of the URL.
Actions (probe, unpause) need --api and an admin credential from QUOTATOP_ADMIN_KEY,
QUOTATOP_ADMIN_TOKEN or --admin-key-file; never on the command line.
Exit codes: 0 ok, 1 bad usage or configuration, 2 storage unreachable or unreadable,
3 --fail-on matched.

Flags:
`

func parseFlags(args []string, stderr io.Writer, getenv func(string) string) (config, error) {
	var cfg config
	fs := flag.NewFlagSet("quotatop", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usageHead)
		fs.PrintDefaults()
	}

	defaultURL := firstNonEmpty(getenv("QUOTATOP_REDIS"), getenv("REDIS_URL"), "redis://127.0.0.1:6379/0")
	fs.StringVar(&cfg.redisURL, "redis", defaultURL, "snapshot storage `URL` (redis://, rediss://, unix://, redis-sentinel://, redis-cluster://); default $QUOTATOP_REDIS, else $REDIS_URL")
	fs.StringVar(&cfg.redisCA, "redis-ca", "", "PEM `file` of a private CA for rediss:// (default: system roots)")
	fs.StringVar(&cfg.prefix, "prefix", source.DefaultPrefix, "key `prefix` of the gateway's scheduler keys")
	fs.BoolVar(&cfg.once, "once", false, "print the fleet once and exit")
	fs.StringVar(&cfg.output, "output", "table", "one-shot `format`: table, json or csv")
	staleAfter := fs.Duration("stale-after", 2*time.Hour, "snapshot age from which the gateway stops trusting it")
	missing := fs.String("missing-timestamp", "fresh", "how a snapshot with no time is judged: fresh (upstream) or stale")
	def5h := fs.Float64("default-threshold-5h", 0, "gateway-wide 5h pause threshold in `percent` (0 = off)")
	def7d := fs.Float64("default-threshold-7d", 0, "gateway-wide 7d pause threshold in `percent` (0 = off)")
	warn := fs.Float64("warn", 80, "warn level in `percent` for a window that has not reset")
	failOn := fs.String("fail-on", "", "exit 3 if any account is in one of these `states` (comma list: "+stateList()+")")
	fs.BoolVar(&cfg.demo, "demo", false, "use the embedded demo gateway instead of --redis")
	fs.BoolVar(&cfg.version, "version", false, "print version, commit and build date")
	fs.DurationVar(&cfg.timeout, "timeout", 5*time.Second, "timeout for connecting to and each command on Redis")
	fs.DurationVar(&cfg.interval, "interval", 2*time.Second, "live monitor poll interval")
	fs.BoolVar(&cfg.noColor, "no-color", false, "no colours (also when NO_COLOR is set)")
	fs.BoolVar(&cfg.mouse, "mouse", false, "let the live monitor use the mouse")
	fs.StringVar(&cfg.api, "api", getenv("QUOTATOP_API"), "gateway admin API base `URL` for probes and unpause; default $QUOTATOP_API")
	fs.StringVar(&cfg.adminKeyFile, "admin-key-file", "", "read the admin API key from `PATH` (else $QUOTATOP_ADMIN_KEY or $QUOTATOP_ADMIN_TOKEN)")
	fs.StringVar(&cfg.apiCA, "api-ca", "", "PEM `file` of a private CA for the admin API")
	fs.BoolVar(&cfg.readOnly, "read-only", false, "a pure monitor: refuse every action")
	fs.BoolVar(&cfg.confirmProbes, "confirm-probes", false, "ask before a single-account probe too")
	fs.StringVar(&cfg.auditLog, "audit-log", "", "append the action audit trail to `PATH` (default $XDG_STATE_HOME/quotatop/audit.jsonl)")
	addAlertFlags(fs, &cfg.alerts)
	keyOnArgv := fs.String("admin-key", "", "refused: the key would show in ps and shell history; use $QUOTATOP_ADMIN_KEY or --admin-key-file")

	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return cfg, errHelp
		}
		return cfg, fmt.Errorf("%v (see --help)", err)
	}
	if *keyOnArgv != "" {
		return cfg, errors.New("an admin key on the command line is refused (it would show in ps and shell history): use QUOTATOP_ADMIN_KEY or --admin-key-file")
	}
	if err := cfg.alerts.check(); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected argument %q (see --help)", fs.Arg(0))
	}
	if !slices.Contains(report.Formats, cfg.output) {
		return cfg, fmt.Errorf("--output %q: use table, json or csv", cfg.output)
	}
	if *missing != "fresh" && *missing != "stale" {
		return cfg, fmt.Errorf("--missing-timestamp %q: use fresh or stale", *missing)
	}
	if *staleAfter <= 0 {
		return cfg, fmt.Errorf("--stale-after must be positive, not %v", *staleAfter)
	}
	for name, v := range map[string]float64{"--default-threshold-5h": *def5h, "--default-threshold-7d": *def7d, "--warn": *warn} {
		if v < 0 || v > 100 || v != v {
			return cfg, fmt.Errorf("%s %v: give a percent from 0 to 100", name, v)
		}
	}
	if cfg.timeout <= 0 {
		return cfg, fmt.Errorf("--timeout must be positive, not %v", cfg.timeout)
	}
	if cfg.interval < 100*time.Millisecond {
		return cfg, fmt.Errorf("--interval %v is too short: use at least 100ms", cfg.interval)
	}
	for _, name := range strings.Split(*failOn, ",") {
		if name = strings.TrimSpace(name); name == "" {
			continue
		}
		s, ok := model.ParseState(name)
		if !ok {
			return cfg, fmt.Errorf("--fail-on: unknown state %q (use %s)", name, stateList())
		}
		cfg.failOn = append(cfg.failOn, s)
	}
	cfg.policy = policyFor(*staleAfter, *missing == "stale", *def5h, *def7d, *warn)
	cfg.noColor = cfg.noColor || getenv("NO_COLOR") != ""
	return cfg, nil
}

func stateList() string {
	names := make([]string, len(model.States))
	for i, s := range model.States {
		names[i] = string(s)
	}
	return strings.Join(names, ",")
}

func firstNonEmpty(v ...string) string {
	for _, s := range v {
		if s != "" {
			return s
		}
	}
	return ""
}
