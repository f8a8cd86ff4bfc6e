package main

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	cfgfile "github.com/quotatop/quotatop/config"
	"github.com/quotatop/quotatop/model"
	"github.com/quotatop/quotatop/report"
	"github.com/quotatop/quotatop/source"
	"github.com/spf13/pflag"
)

// config is everything the command line, the environment and the config file decided.
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

	// source is the reader asked for: "" (Redis), "redis" or "api".
	source string
	// configPath and contextName say which config file and context were used ("" for none);
	// contextColor is the context's header colour as lipgloss takes it.
	configPath   string
	contextName  string
	contextColor string
	// adminKeyEnv and redisPasswordEnv name the environment variables holding the admin
	// key and the Redis password: a context may name its own.
	adminKeyFileFrom string // where adminKeyFile was named, for errors: "" is the flag
	adminKeyEnv      string
	adminTokenEnv    string
	redisPasswordEnv string
	// file is the config file read, nil without one; the live monitor switches between
	// its contexts.
	file    *cfgfile.File
	history string     // history file, "off", or "" for the default (history.go)
	alerts  alertFlags // events, notifications, metrics, watch: see alerts.go
}

// flagValues is what the flags parse into; finish checks it and turns it into a config.
type flagValues struct {
	cfg        config
	staleAfter time.Duration
	missing    string
	def5h      float64
	def7d      float64
	warn       float64
	failOn     string
	keyOnArgv  string

	schedThresholds string
}

// flagGroups are the flags by purpose, in the order --help shows them. Adding a flag is
// one line in one of these functions.
var flagGroups = []struct {
	title string
	add   func(fs *pflag.FlagSet, v *flagValues)
}{
	{"Storage", storageFlags},
	{"Judgement", judgementFlags},
	{"Actions", actionFlags},
	{"Output", outputFlags},
	{"Alerts and metrics", func(fs *pflag.FlagSet, v *flagValues) { addAlertFlags(fs, &v.cfg.alerts) }},
}

func storageFlags(fs *pflag.FlagSet, v *flagValues) {
	c := &v.cfg
	fs.StringVar(&c.redisURL, "redis", "redis://127.0.0.1:6379/0", "snapshot storage `URL` (redis://, rediss://, unix://, redis-sentinel://, redis-cluster://); default $QUOTATOP_REDIS, else $REDIS_URL")
	fs.StringVar(&c.redisCA, "redis-ca", "", "PEM `file` of a private CA for rediss:// (default: system roots)")
	fs.StringVar(&c.prefix, "prefix", source.DefaultPrefix, "key `prefix` of the gateway's scheduler keys")
	fs.DurationVar(&c.timeout, "timeout", 5*time.Second, "timeout for connecting to and each command on Redis")
	fs.StringVar(&c.source, "source", "", "read accounts from `SOURCE`: redis, or api (the admin API's account list; the default when --api is given and no Redis URL is)")
	fs.BoolVar(&c.demo, "demo", false, "use the embedded demo gateway instead of --redis")
	fs.StringVar(&c.configPath, "config", "", "config `file` (default $QUOTATOP_CONFIG, else $XDG_CONFIG_HOME/quotatop/config.yaml)")
	fs.StringVar(&c.contextName, "context", "", "the config file's gateway (`name`) to watch (default $QUOTATOP_CONTEXT, else the file's current)")
}

func judgementFlags(fs *pflag.FlagSet, v *flagValues) {
	fs.DurationVar(&v.staleAfter, "stale-after", 2*time.Hour, "snapshot age from which the gateway stops trusting it")
	fs.StringVar(&v.missing, "missing-timestamp", "fresh", "how a snapshot with no time is judged: fresh (upstream) or stale")
	fs.Float64Var(&v.def5h, "default-threshold-5h", 0, "gateway-wide 5h pause threshold in `percent` (0 = off)")
	fs.Float64Var(&v.def7d, "default-threshold-7d", 0, "gateway-wide 7d pause threshold in `percent` (0 = off)")
	fs.Float64Var(&v.warn, "warn", 80, "warn level in `percent` for a window that has not reset")
	fs.StringVar(&v.schedThresholds, "scheduling-thresholds", "", "the gateway's per-platform scheduling thresholds in `percent` when --api is not set, e.g. openai=90,anthropic=95 (100 = off)")
}

func actionFlags(fs *pflag.FlagSet, v *flagValues) {
	c := &v.cfg
	fs.StringVar(&c.api, "api", "", "gateway admin API base `URL` for probes and unpause; default $QUOTATOP_API")
	fs.StringVar(&c.adminKeyFile, "admin-key-file", "", "read the admin API key from `PATH` (else $QUOTATOP_ADMIN_KEY or $QUOTATOP_ADMIN_TOKEN)")
	fs.StringVar(&c.apiCA, "api-ca", "", "PEM `file` of a private CA for the admin API")
	fs.BoolVar(&c.readOnly, "read-only", false, "a pure monitor: refuse every action")
	fs.BoolVar(&c.confirmProbes, "confirm-probes", false, "ask before a single-account probe too")
	fs.StringVar(&c.auditLog, "audit-log", "", "append the action audit trail to `PATH` (default $XDG_STATE_HOME/quotatop/audit.jsonl)")
	fs.StringVar(&v.keyOnArgv, "admin-key", "", "refused: the key would show in ps and shell history")
	fs.MarkHidden("admin-key")
}

func outputFlags(fs *pflag.FlagSet, v *flagValues) {
	c := &v.cfg
	fs.BoolVar(&c.once, "once", false, "print the fleet once and exit")
	fs.StringVarP(&c.output, "output", "o", "table", "one-shot `format`: table, json or csv")
	fs.StringVar(&v.failOn, "fail-on", "", "exit 3 if any account is in one of these `states` (comma list: "+stateList()+")")
	fs.DurationVarP(&c.interval, "interval", "i", 2*time.Second, "live monitor poll interval")
	fs.BoolVar(&c.noColor, "no-color", false, "no colours (also when NO_COLOR is set)")
	fs.BoolVar(&c.mouse, "mouse", false, "let the live monitor use the mouse")
	fs.StringVar(&c.history, "history", "", "keep samples for rates and projections in `PATH`, or off (default $XDG_STATE_HOME/quotatop/<redis-and-prefix>.db)")
	fs.BoolVar(&c.version, "version", false, "print version, commit and build date")
	fs.BoolP("help", "h", false, "show this help")
}

// finish checks the values once every layer (flags, environment, file) has been applied.
func (v *flagValues) finish(getenv func(string) string) (config, error) {
	cfg := v.cfg
	if err := cfg.alerts.check(); err != nil {
		return cfg, err
	}
	if v.keyOnArgv != "" {
		return cfg, errors.New("an admin key on the command line is refused (it would show in ps and shell history): use QUOTATOP_ADMIN_KEY or --admin-key-file")
	}
	if !slices.Contains(report.Formats, cfg.output) {
		return cfg, fmt.Errorf("--output %q: use table, json or csv", cfg.output)
	}
	if v.missing != "fresh" && v.missing != "stale" {
		return cfg, fmt.Errorf("--missing-timestamp %q: use fresh or stale", v.missing)
	}
	if v.staleAfter <= 0 {
		return cfg, fmt.Errorf("--stale-after must be positive, not %v", v.staleAfter)
	}
	for _, p := range []struct {
		name string
		v    float64
	}{{"--default-threshold-5h", v.def5h}, {"--default-threshold-7d", v.def7d}, {"--warn", v.warn}} {
		if p.v < 0 || p.v > 100 || p.v != p.v {
			return cfg, fmt.Errorf("%s %v: give a percent from 0 to 100", p.name, p.v)
		}
	}
	if cfg.timeout > time.Hour { // twice it bounds a poll: a huge value wrapped negative
		return cfg, fmt.Errorf("--timeout must be at most 1h, not %v", cfg.timeout)
	}
	if cfg.timeout <= 0 {
		return cfg, fmt.Errorf("--timeout must be positive, not %v", cfg.timeout)
	}
	if cfg.interval < 100*time.Millisecond {
		return cfg, fmt.Errorf("--interval %v is too short: use at least 100ms", cfg.interval)
	}
	switch cfg.source {
	case "", "redis":
	case "api":
		if cfg.api == "" && !cfg.demo {
			return cfg, errors.New("--source api reads the gateway's admin API: give its URL with --api (or $QUOTATOP_API)")
		}
	default:
		return cfg, fmt.Errorf("--source %q: use redis or api", cfg.source)
	}
	for _, name := range strings.Split(v.failOn, ",") {
		if name = strings.TrimSpace(name); name == "" {
			continue
		}
		s, ok := model.ParseState(name)
		if !ok {
			return cfg, fmt.Errorf("--fail-on: unknown state %q (use %s)", name, stateList())
		}
		cfg.failOn = append(cfg.failOn, s)
	}
	cfg.policy = policyFor(v.staleAfter, v.missing == "stale", v.def5h, v.def7d, v.warn)
	var err error
	if cfg.policy.SchedulingThresholds, err = parseSchedulingThresholds(v.schedThresholds); err != nil {
		return cfg, err
	}
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
