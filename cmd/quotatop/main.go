// Command quotatop watches the quotas of the upstream accounts an API gateway pools.
package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/quotatop/quotatop/demo"
	"github.com/quotatop/quotatop/model"
	"github.com/quotatop/quotatop/report"
	"github.com/quotatop/quotatop/source"
)

// Exit codes, documented in README.
const (
	exitOK          = 0
	exitUsage       = 1
	exitStorage     = 2
	exitFailOnMatch = 3
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr, os.Getenv))
}

func run(args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	stderr = inertWriter{stderr}
	if len(args) > 0 && args[0] == "watch" {
		return runWatch(args[1:], stdout, stderr, getenv)
	}
	code := exitOK
	var argv []string
	root := newRoot(&argv, stdout, stderr, getenv, &code)
	argv = normalizeArgs(root.Flags(), args)
	root.SetArgs(argv)
	if err := root.Execute(); err != nil {
		fmt.Fprintf(stderr, "quotatop: %v\n", err)
		return exitUsage
	}
	return code
}

// start runs the monitor or the one-shot report with a resolved configuration; args are
// the command line, kept so the live monitor can resolve another context the same way.
func start(cfg config, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	defer startProfile(getenv)()
	if why := noTerminal(); !cfg.once && why != "" {
		fmt.Fprintf(stderr, "quotatop: %s\n", why) // before a connection or a history file
		return exitUsage
	}
	said := &warningRecorder{w: stderr}
	if !cfg.once {
		stderr = said // the full screen hides what was printed before it: the header keeps it
	}
	g, err := openGateway(cfg, getenv, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "quotatop: %v\n", err)
		return exitUsage
	}
	defer func() { g.close() }() // the live monitor may swap in an idempotent close

	if cfg.once {
		oneShotMemory()
		// The history file opens (and loads its recent samples) while the fleet is read.
		hist := openHistoryAsync(cfg, g, getenv, stderr)
		defer func() { hist().close() }()
		var facts gatewayFacts
		cfg.policy, facts = readGatewayFacts(cfg.policy, g.admin)
		warnFacts(facts, stderr)
		return once(cfg, g.reader, facts, hist, stdout, stderr)
	}
	g.history = openHistory(cfg, g, getenv, stderr)
	defer g.history.close()
	if g.admin != nil {
		cfg.policy = withGatewayThresholds(cfg.policy, g.admin, stderr)
	}
	liveMemory()
	return live(cfg, args, g, said.w, said.lines, getenv)
}

// warningRecorder passes what is written on and keeps its warning lines.
type warningRecorder struct {
	w     io.Writer
	lines []string
}

func (r *warningRecorder) Write(p []byte) (int, error) {
	for _, line := range strings.Split(string(p), "\n") {
		if w, warns := warningOf(line); warns {
			r.lines = append(r.lines, w)
		}
	}
	return r.w.Write(p)
}

// withGatewayThresholds replaces the flags' default thresholds with the gateway's own.
func withGatewayThresholds(p model.Policy, admin *source.Admin, stderr io.Writer) model.Policy {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	t, err := admin.DefaultThresholds(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "quotatop: warning: cannot read the gateway's default thresholds (%v); using the --default-threshold flags\n", err)
		return p
	}
	p.DefaultThreshold = t
	return p
}

// fleetReader is where the accounts come from: the gateway's Redis (source.Redis) or its
// admin API (source.API).
type fleetReader interface {
	Read(ctx context.Context) ([]model.Account, error)
	ReadAccount(ctx context.Context, id int64) (model.Account, error)
	Address() string
	Prefix() string
	Vanished() int
}

// gateway is what quotatop talks to: the fleet reader and, when configured, the admin API.
type gateway struct {
	reader  fleetReader
	admin   *source.Admin
	close   func()
	history *historyFile // history.go
	sim     *demo.Sim    // the demo's simulator, nil otherwise
}

// openGateway builds the reader and admin client: the embedded demo (whose simulated
// admin API uses a key it generates) or the configured Redis and API.
func openGateway(cfg config, getenv func(string) string, stderr io.Writer) (*gateway, error) {
	if cfg.demo {
		d, err := demo.Start(time.Now(), cfg.prefix)
		if err != nil {
			return nil, err
		}
		g := &gateway{reader: d.Reader, close: d.Close, sim: d.Sim}
		// The simulated admin API starts for --once too: its settings hold the gateway's
		// thresholds, without which a one-shot judged the demo otherwise than the monitor.
		ctx, cancel := context.WithCancel(context.Background())
		if !cfg.once {
			go d.Sim.Run(ctx, time.Second, time.Now)
		}
		api, err := demo.StartAPI(d.Sim)
		if err != nil {
			cancel()
			d.Close()
			return nil, err
		}
		g.close = func() { cancel(); api.Close(); d.Close() }
		g.admin, err = source.NewAdmin(source.AdminConfig{BaseURL: api.URL, Key: api.Key})
		if err == nil && cfg.source == "api" {
			g.reader = source.NewAPI(g.admin)
		}
		return g, err
	}
	if cfg.source == "api" {
		return openAPIGateway(cfg, getenv, stderr)
	}
	r, err := source.OpenRedis(source.Conn{
		URL: cfg.redisURL, Password: getenv(cfg.redisPasswordEnv),
		SentinelPassword: getenv("QUOTATOP_SENTINEL_PASSWORD"), Timeout: cfg.timeout, CAFile: cfg.redisCA,
	}, cfg.prefix)
	if err != nil {
		return nil, err
	}
	g := &gateway{reader: r, close: func() { r.Close() }}
	if cfg.api == "" {
		return g, nil
	}
	warnCleartext(cfg.api, stderr)
	key, err := adminKey(cfg, getenv, stderr)
	if err != nil {
		r.Close()
		return nil, err
	}
	g.admin, err = source.NewAdmin(source.AdminConfig{BaseURL: cfg.api, Key: key, Token: tokenFrom(cfg, getenv), CAFile: cfg.apiCA})
	if err != nil {
		r.Close()
		return nil, err
	}
	return g, nil
}

// openAPIGateway watches a gateway through its admin API alone.
func openAPIGateway(cfg config, getenv func(string) string, stderr io.Writer) (*gateway, error) {
	warnCleartext(cfg.api, stderr)
	key, err := adminKey(cfg, getenv, stderr)
	if err != nil {
		return nil, err
	}
	admin, err := source.NewAdmin(source.AdminConfig{BaseURL: cfg.api, Key: key, Token: tokenFrom(cfg, getenv), CAFile: cfg.apiCA, Timeout: max(10*time.Second, 2*cfg.timeout)})
	if err != nil {
		return nil, err
	}
	return &gateway{reader: source.NewAPI(admin), admin: admin, close: func() {}}, nil
}

// adminKey reads the key from --admin-key-file, else QUOTATOP_ADMIN_KEY (or the
// variable the context names).
func adminKey(cfg config, getenv func(string) string, stderr io.Writer) (string, error) {
	if cfg.adminKeyFile == "" {
		key := getenv(cfg.adminKeyEnv)
		if key == "" && cfg.contextName != "" && cfg.adminKeyEnv != "QUOTATOP_ADMIN_KEY" {
			return "", fmt.Errorf("context %s takes its admin key from $%s, which is not set", cfg.contextName, cfg.adminKeyEnv)
		}
		return key, nil
	}
	return readSecretFile(cfg.adminKeyFile, cmp.Or(cfg.adminKeyFileFrom, "--admin-key-file"), stderr)
}

func tokenFrom(cfg config, getenv func(string) string) string {
	if cfg.adminTokenEnv == "" {
		return ""
	}
	return getenv(cfg.adminTokenEnv)
}

// once prints the fleet a single time, for scripts.
// hist waits for the history file to be open.
func once(cfg config, reader fleetReader, facts gatewayFacts, hist func() *historyFile, stdout, stderr io.Writer) int {
	ctx, cancel := context.WithTimeout(context.Background(), pollTimeout(cfg, reader))
	defer cancel()
	if r, ok := reader.(*source.Redis); ok && cfg.output != "json" {
		r.SkipLastUsed() // only the JSON document has last_used_at
	}
	accounts, err := reader.Read(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "quotatop: cannot read %s: %v\n", readerName(reader), err)
		return exitStorage
	}
	if n := reader.Vanished(); n > 0 {
		fmt.Fprintf(stderr, "quotatop: %d key(s) that SCAN listed were gone when read (accounts deleted during the poll)\n", n)
	}
	now := time.Now()
	rows := report.Judge(accounts, cfg.policy, now)
	_, fromAPI := reader.(*source.API)
	h := report.Header{GeneratedAt: now, Source: reader.Address(), Prefix: reader.Prefix(), API: fromAPI,
		ThresholdsSource: facts.thresholdsSource, ThresholdsError: facts.thresholdsError, GatewayVersion: facts.version}
	if report.Projects(cfg.output) { // a fifth of a table's run went to projections it never shows
		h.Groups = hist().project(accounts, rows, cfg.policy, now)
	}
	// The history takes this poll while the output is written; the run ends when both
	// are done. Nothing writes the accounts any more, so both may read them at once.
	recorded := make(chan struct{})
	go func() {
		defer close(recorded)
		hist().Record(accounts, cfg.policy, now)
	}()
	err = report.Write(stdout, cfg.output, h, rows)
	<-recorded
	hist().flush()
	if err != nil {
		fmt.Fprintf(stderr, "quotatop: write output: %v\n", err)
		return exitUsage
	}
	if len(accounts) == 0 && !fromAPI {
		fmt.Fprintf(stderr, "quotatop: no %smeta:* keys in %s: check --prefix (it ends in a colon, as sched:) and the database number\n", reader.Prefix(), reader.Address())
	}
	// Every matched state is named: a script told only of the first fixes the wrong thing.
	counts := report.Count(rows)
	var matched []string
	for _, s := range cfg.failOn {
		if counts[s] > 0 {
			matched = append(matched, fmt.Sprintf("%d in state %s", counts[s], s))
		}
	}
	if len(matched) > 0 {
		fmt.Fprintf(stderr, "quotatop: %s (--fail-on)\n", strings.Join(matched, ", "))
		return exitFailOnMatch
	}
	return exitOK
}

// pollTimeout bounds one whole read: twice the per-command timeout for Redis; for the
// admin API at least a minute, since a read is many pages, each a database query.
func pollTimeout(cfg config, r fleetReader) time.Duration {
	if _, ok := r.(*source.API); ok {
		return max(2*cfg.timeout, time.Minute)
	}
	return 2 * cfg.timeout
}

// readerName names where the accounts are read from, for error sentences.
func readerName(r fleetReader) string {
	if _, ok := r.(*source.API); ok {
		return "the account list of the admin API at " + r.Address()
	}
	return "the snapshot storage at " + r.Address()
}

// policyFor is the judgement policy the flags describe.
func policyFor(staleAfter time.Duration, missingStale bool, def5h, def7d, warn float64) model.Policy {
	return model.Policy{StaleAfter: staleAfter, MissingTimestampStale: missingStale,
		DefaultThreshold: [2]float64{def5h / 100, def7d / 100}, WarnPercent: warn}
}
