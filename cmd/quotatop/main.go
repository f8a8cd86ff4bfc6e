// Command quotatop watches the quotas of the upstream accounts an API gateway pools.
package main

import (
	"context"
	"errors"
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
	cfg, err := parseFlags(args, stderr, getenv)
	if errors.Is(err, errHelp) {
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "quotatop: %v\n", err)
		return exitUsage
	}
	if cfg.version {
		fmt.Fprintln(stdout, versionLine())
		return exitOK
	}

	reader, closeReader, err := openReader(cfg, getenv)
	if err != nil {
		fmt.Fprintf(stderr, "quotatop: %v\n", err)
		return exitUsage
	}
	defer closeReader()

	if cfg.once {
		return once(cfg, reader, stdout, stderr)
	}
	return live(cfg, reader, stderr)
}

// openReader builds the snapshot reader: the embedded demo or the configured Redis.
func openReader(cfg config, getenv func(string) string) (*source.Redis, func(), error) {
	if cfg.demo {
		g, err := demo.Start(time.Now(), cfg.prefix)
		if err != nil {
			return nil, nil, err
		}
		if !cfg.once {
			ctx, cancel := context.WithCancel(context.Background())
			go g.Sim.Run(ctx, time.Second, time.Now)
			return g.Reader, func() { cancel(); g.Close() }, nil
		}
		return g.Reader, g.Close, nil
	}
	r, err := source.OpenRedis(source.Conn{
		URL: cfg.redisURL, Password: getenv("QUOTATOP_REDIS_PASSWORD"),
		SentinelPassword: getenv("QUOTATOP_SENTINEL_PASSWORD"), Timeout: cfg.timeout,
	}, cfg.prefix)
	if err != nil {
		return nil, nil, err
	}
	return r, func() { r.Close() }, nil
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
