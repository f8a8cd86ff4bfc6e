// Command quotatop watches the quotas of the upstream accounts an API gateway pools.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
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
	g, err := openGateway(cfg, getenv, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "quotatop: %v\n", err)
		return exitUsage
	}
	defer func() { g.close() }() // the live monitor may swap in an idempotent close

	g.history = openHistory(cfg, g, getenv, stderr)
	defer g.history.close()
	if cfg.once {
		oneShotMemory()
		var facts gatewayFacts
		cfg.policy, facts = readGatewayFacts(cfg.policy, g.admin)
		warnFacts(facts, stderr)
		return once(cfg, g.reader, facts, g.history, stdout, stderr)
	}
	if g.admin != nil {
		cfg.policy = withGatewayThresholds(cfg.policy, g.admin, stderr)
	}
	liveMemory()
	return live(cfg, args, g, stderr, getenv)
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

// gateway is what quotatop talks to: the snapshot reader and, when configured, the
// admin API.
type gateway struct {
	reader  *source.Redis
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
		if cfg.once {
			return g, nil
		}
		ctx, cancel := context.WithCancel(context.Background())
		go d.Sim.Run(ctx, time.Second, time.Now)
		api, err := demo.StartAPI(d.Sim)
		if err != nil {
			cancel()
			d.Close()
			return nil, err
		}
		g.close = func() { cancel(); api.Close(); d.Close() }
		g.admin, err = source.NewAdmin(source.AdminConfig{BaseURL: api.URL, Key: api.Key})
		return g, err
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
	return readSecretFile(cfg.adminKeyFile, "--admin-key-file", stderr)
}

func tokenFrom(cfg config, getenv func(string) string) string {
	if cfg.adminTokenEnv == "" {
		return ""
	}
	return getenv(cfg.adminTokenEnv)
}

// once prints the fleet a single time, for scripts.
func once(cfg config, reader *source.Redis, facts gatewayFacts, hist *historyFile, stdout, stderr io.Writer) int {
	ctx, cancel := context.WithTimeout(context.Background(), cfg.timeout*2)
	defer cancel()
	if cfg.output != "json" {
		reader.SkipLastUsed() // only the JSON document has last_used_at
	}
	accounts, err := reader.Read(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "quotatop: cannot read the snapshot storage at %s: %v\n", reader.Address(), err)
		return exitStorage
	}
	if n := reader.Vanished(); n > 0 {
		fmt.Fprintf(stderr, "quotatop: %d key(s) that SCAN listed were gone when read (accounts deleted during the poll)\n", n)
	}
	now := time.Now()
	rows := report.Judge(accounts, cfg.policy, now)
	h := report.Header{GeneratedAt: now, Source: reader.Address(), Prefix: reader.Prefix(),
		ThresholdsSource: facts.thresholdsSource, ThresholdsError: facts.thresholdsError, GatewayVersion: facts.version,
		Groups: hist.project(accounts, rows, cfg.policy, now)}
	if err := report.Write(stdout, cfg.output, h, rows); err != nil {
		fmt.Fprintf(stderr, "quotatop: write output: %v\n", err)
		return exitUsage
	}
	counts := report.Count(rows)
	for _, s := range cfg.failOn {
		if counts[s] > 0 {
			fmt.Fprintf(stderr, "quotatop: %d account(s) in state %s (--fail-on)\n", counts[s], s)
			return exitFailOnMatch
		}
	}
	return exitOK
}

// policyFor is the judgement policy the flags describe.
func policyFor(staleAfter time.Duration, missingStale bool, def5h, def7d, warn float64) model.Policy {
	return model.Policy{StaleAfter: staleAfter, MissingTimestampStale: missingStale,
		DefaultThreshold: [2]float64{def5h / 100, def7d / 100}, WarnPercent: warn}
}
