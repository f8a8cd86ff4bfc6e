// Command quotatop watches the quotas of the upstream accounts an API gateway pools.
package main

import (
	"context"
	"errors"
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
	if len(args) > 0 && args[0] == "watch" {
		return runWatch(args[1:], stdout, stderr, getenv)
	}
	cfg, err := parseFlags(args, stderr, getenv)
	if errors.Is(err, errHelp) {
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "quotatop: %v\n", err)
		return exitUsage
	}
	defer startProfile(getenv)()
	if cfg.version {
		fmt.Fprintln(stdout, versionLine())
		return exitOK
	}

	g, err := openGateway(cfg, getenv, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "quotatop: %v\n", err)
		return exitUsage
	}
	defer g.close()

	if g.admin != nil {
		cfg.policy = withGatewayThresholds(cfg.policy, g.admin, stderr)
	}
	if cfg.once {
		return once(cfg, g.reader, stdout, stderr)
	}
	return live(cfg, g, stderr, getenv)
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
	reader *source.Redis
	admin  *source.Admin
	close  func()
}

// openGateway builds the reader and admin client: the embedded demo (whose simulated
// admin API uses a key it generates) or the configured Redis and API.
func openGateway(cfg config, getenv func(string) string, stderr io.Writer) (*gateway, error) {
	if cfg.demo {
		d, err := demo.Start(time.Now(), cfg.prefix)
		if err != nil {
			return nil, err
		}
		g := &gateway{reader: d.Reader, close: d.Close}
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
		URL: cfg.redisURL, Password: getenv("QUOTATOP_REDIS_PASSWORD"),
		SentinelPassword: getenv("QUOTATOP_SENTINEL_PASSWORD"), Timeout: cfg.timeout, CAFile: cfg.redisCA,
	}, cfg.prefix)
	if err != nil {
		return nil, err
	}
	g := &gateway{reader: r, close: func() { r.Close() }}
	if cfg.api == "" {
		return g, nil
	}
	key, err := adminKey(cfg, getenv, stderr)
	if err != nil {
		r.Close()
		return nil, err
	}
	g.admin, err = source.NewAdmin(source.AdminConfig{BaseURL: cfg.api, Key: key, Token: getenv("QUOTATOP_ADMIN_TOKEN"), CAFile: cfg.apiCA})
	if err != nil {
		r.Close()
		return nil, err
	}
	return g, nil
}

// adminKey reads the key from --admin-key-file, else QUOTATOP_ADMIN_KEY.
func adminKey(cfg config, getenv func(string) string, stderr io.Writer) (string, error) {
	if cfg.adminKeyFile == "" {
		return getenv("QUOTATOP_ADMIN_KEY"), nil
	}
	info, err := os.Stat(cfg.adminKeyFile)
	if err != nil {
		return "", fmt.Errorf("--admin-key-file: %w", err)
	}
	if info.Mode().Perm()&0o077 != 0 {
		fmt.Fprintf(stderr, "quotatop: warning: %s is readable by other users (mode %v): chmod 600 it\n", cfg.adminKeyFile, info.Mode().Perm())
	}
	b, err := os.ReadFile(cfg.adminKeyFile)
	if err != nil {
		return "", fmt.Errorf("--admin-key-file: %w", err)
	}
	key := strings.TrimSpace(string(b))
	if key == "" {
		return "", fmt.Errorf("--admin-key-file %s is empty", cfg.adminKeyFile)
	}
	return key, nil
}

// once prints the fleet a single time, for scripts.
func once(cfg config, reader *source.Redis, stdout, stderr io.Writer) int {
	ctx, cancel := context.WithTimeout(context.Background(), cfg.timeout*2)
	defer cancel()
	accounts, err := reader.Read(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "quotatop: cannot read the snapshot storage at %s: %v\n", reader.Address(), err)
		return exitStorage
	}
	now := time.Now()
	rows := report.Judge(accounts, cfg.policy, now)
	h := report.Header{GeneratedAt: now, Source: reader.Address(), Prefix: reader.Prefix()}
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
