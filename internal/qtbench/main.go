// Command qtbench measures quotatop as a user runs it: whole processes against a real
// redis-server it starts on a free loopback port, seeded with a realistic, dirty fleet.
// Every one-shot run alternates with the floor (a bare SCAN and pipelined MGET of the
// same keys, in its own process), so the ratio holds on a noisy machine.
//
//	go run ./internal/qtbench                        # 10k and 100k, 7 runs each
//	go run ./internal/qtbench -sizes 10000 -live 30s # and the live monitor for 30 s
//
// It never touches any Redis but its own.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/quotatop/quotatop/history"
	"github.com/quotatop/quotatop/model"
	"github.com/quotatop/quotatop/source"
	"github.com/quotatop/quotatop/source/redistest"
	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
)

func main() {
	if len(os.Args) == 4 && os.Args[1] == "floor" { // floor ADDR PREFIX, run by measureOnce
		if err := floor(os.Args[2], os.Args[3]); err != nil {
			fmt.Fprintln(os.Stderr, "floor:", err)
			os.Exit(2)
		}
		return
	}
	sizes := flag.String("sizes", "10000,100000", "fleet sizes, comma separated")
	runs := flag.Int("runs", 7, "alternated runs per measure (the median is reported)")
	formats := flag.String("formats", "table,json,csv", "one-shot output formats")
	bin := flag.String("bin", "", "quotatop binary, or several comma separated to compare builds (default: ./cmd/quotatop built as a release is)")
	liveFor := flag.Duration("live", 0, "also measure the live monitor for this long after warm-up (0: skip)")
	warmup := flag.Duration("warmup", 10*time.Second, "live monitor warm-up")
	interval := flag.Duration("interval", 2*time.Second, "live monitor poll interval")
	skipOnce := flag.Bool("skip-once", false, "measure only the live monitor")
	liveRuns := flag.Int("live-runs", 1, "alternated live measures per build (medians are reported)")
	churn := flag.Int("churn", 20, "snapshots the gateway rewrites per second while the live monitor runs")
	histFor := flag.Duration("history", 0, "seed this much history (a snapshot of every account every 5 minutes) into a file every run uses (0: each run's own file, which only the runs fill)")
	noHistory := flag.Bool("no-history", false, "run quotatop with --history off (the history costs the live monitor about 6 MB at 10k accounts)")
	serve := flag.Bool("serve", false, "seed the first size, print the Redis URL and wait for ctrl+c (for profiling by hand)")
	flag.Parse()

	t := &runner{}
	defer t.cleanup()
	if *noHistory && *histFor > 0 {
		t.Fatalf("-no-history and -history %s contradict each other: choose one", *histFor)
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() { <-sig; t.cleanup(); os.Exit(1) }()
	// Without -history the runs write quotatop's default history file: into a directory
	// that goes with this run, not the operator's own state directory.
	os.Setenv("XDG_STATE_HOME", t.TempDir())

	if *bin == "" {
		*bin = filepath.Join(t.TempDir(), "quotatop")
		// built as .goreleaser.yaml builds a release: what operators run
		build := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", *bin, "./cmd/quotatop")
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("build quotatop (run from the repository root): %v\n%s", err, out)
		}
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatalf("find myself: %v", err)
	}

	srv := redistest.Start(t)
	admin := srv.Client()
	fmt.Printf("machine: %d cores, %s; redis-server on %s; %d runs alternated, medians\n\n", cpus(), loadavg(), srv.Addr, *runs)
	for _, s := range strings.Split(*sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			t.Fatalf("bad size %q", s)
		}
		admin.FlushAll(context.Background())
		redistest.Seed(t, admin, redistest.DirtyFleet(n, "sched:", time.Now()))
		var extra []string // quotatop's flags for the seeded history
		if *noHistory {
			extra = []string{"--history", "off"}
		}
		if *histFor > 0 {
			path := seedHistory(t, admin, *histFor)
			extra = []string{"--history", path}
			// A child shares this process's memory until it execs, and Linux counts the
			// peak of that memory in the child's max RSS.
			fmt.Printf("history: %s of snapshots of every account, every 5 minutes, in %s (max RSS below counts at least this process's peak while seeding)\n\n", *histFor, path)
		}
		if *serve {
			fmt.Printf("%d accounts at %s, %d rewritten a second; ctrl+c stops it\n", n, srv.URL(), *churn)
			rewrite(admin, n, *churn, make(chan struct{}))
			select {}
		}
		bins := strings.Split(*bin, ",")
		if !*skipOnce {
			measureOnce(t, admin, n, *runs, self, bins, srv, strings.Split(*formats, ","), extra)
		}
		if *liveFor > 0 {
			results := make([][]liveResult, len(bins))
			for range *liveRuns { // alternated, so a noisy minute hits every build alike
				for i, b := range bins {
					results[i] = append(results[i], measureLive(t, admin, n, b, srv.URL(), *interval, *warmup, *liveFor, *churn, extra))
				}
			}
			for i, b := range bins {
				printLive(results[i], n, b, *interval, *warmup, *liveFor, *churn)
			}
		}
	}
}

// sample is one process's cost.
type sample struct {
	wall, cpu time.Duration
	rssKB     int64
}

func runProc(t *runner, name string, args ...string) sample {
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = nil, os.Stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 3 {
			t.Fatalf("%s %v: %v", name, args, err)
		}
	}
	wall := time.Since(start)
	ps := cmd.ProcessState
	return sample{wall: wall, cpu: ps.UserTime() + ps.SystemTime(), rssKB: ps.SysUsage().(*syscall.Rusage).Maxrss}
}

func measureOnce(t *runner, admin *redis.Client, n, runs int, self string, bins []string, srv *redistest.Server, formats []string, extra []string) {
	floorRun := func() sample { return runProc(t, self, "floor", srv.Addr, "sched:") }
	onceRun := func(bin, format string) func() sample {
		return func() sample {
			return runProc(t, bin, append([]string{"--once", "--output", format, "--redis", srv.URL(), "--timeout", "60s"}, extra...)...)
		}
	}
	names := []string{"floor"}
	fns := []func() sample{floorRun}
	for _, bin := range bins {
		for _, f := range formats {
			fns = append(fns, onceRun(bin, f))
			label := "--output " + f
			if len(bins) > 1 {
				label = filepath.Base(bin) + " " + label
			}
			names = append(names, label)
		}
	}
	cmds := make([]map[string]int64, len(fns))
	for i, fn := range fns {
		before := commandStats(t, admin)
		fn() // warm-up run, and the one whose Redis commands are counted
		cmds[i] = diffStats(before, commandStats(t, admin))
	}
	all := make([][]sample, len(fns))
	for range runs {
		for i, fn := range fns {
			all[i] = append(all[i], fn())
		}
	}
	fmt.Printf("### --once, %d accounts\n\n", n)
	fmt.Println("| run | wall ms | CPU ms | x floor (wall) | x floor (CPU) | max RSS MB | Redis commands |")
	fmt.Println("|---|---:|---:|---:|---:|---:|---|")
	fw, fc := median(all[0], func(s sample) float64 { return ms(s.wall) }), median(all[0], func(s sample) float64 { return ms(s.cpu) })
	for i, name := range names {
		w, c := median(all[i], func(s sample) float64 { return ms(s.wall) }), median(all[i], func(s sample) float64 { return ms(s.cpu) })
		rss := median(all[i], func(s sample) float64 { return float64(s.rssKB) / 1024 })
		fmt.Printf("| %s | %.0f | %.0f | %.2f | %.2f | %.0f | %s |\n", name, w, c, w/fw, c/fc, rss, formatStats(cmds[i]))
	}
	fmt.Println()
}

// sessions numbers the tmux servers, one per live measure.
var sessions int

// measureLive runs the real monitor in a detached tmux session (a real pty), lets it warm
// up, then reads its CPU time and RSS from /proc over the window, and Redis's own
// command counts.
// liveResult is one live measure.
type liveResult struct {
	cpuPercent, rssMedian, rssMax float64
	perMin                        map[string]int64
}

func measureLive(t *runner, admin *redis.Client, n int, bin, url string, interval, warmup, window time.Duration, churn int, extra []string) liveResult {
	stop := make(chan struct{})
	defer close(stop)
	rewrite(admin, n, churn, stop)
	sessions++
	sock := fmt.Sprintf("qtbench-%d-%d", os.Getpid(), sessions)
	tmux := func(args ...string) (string, error) {
		out, err := exec.Command("tmux", append([]string{"-L", sock, "-f", "/dev/null"}, args...)...).Output()
		return strings.TrimSpace(string(out)), err
	}
	if _, err := tmux("new-session", "-d", "-x", "160", "-y", "50", "exec "+bin+" --redis "+url+" --interval "+interval.String()+" --timeout 60s "+strings.Join(extra, " ")); err != nil {
		t.Fatalf("live monitor: tmux unavailable (%v)", err)
	}
	t.Cleanup(func() { tmux("kill-server") })
	pidText, err := tmux("list-panes", "-F", "#{pane_pid}")
	pid, _ := strconv.Atoi(pidText)
	if err != nil || pid == 0 {
		t.Fatalf("find the monitor's pid: %v", err)
	}
	time.Sleep(warmup)
	cpu0, before, start := procCPU(pid), commandStats(t, admin), time.Now()
	var rss []float64
	for time.Since(start) < window {
		time.Sleep(time.Second)
		rss = append(rss, float64(procRSSKB(pid))/1024)
	}
	cpu1, after, took := procCPU(pid), commandStats(t, admin), time.Since(start)
	tmux("kill-server")
	perMin := diffStats(before, after)
	for k, v := range perMin {
		perMin[k] = int64(float64(v) * float64(time.Minute) / float64(took))
	}
	slices.Sort(rss)
	return liveResult{cpuPercent: 100 * float64(cpu1-cpu0) / float64(took), rssMedian: rss[len(rss)/2], rssMax: rss[len(rss)-1], perMin: perMin}
}

// seedHistory writes span of history for the fleet in Redis to a new file, as a busy
// gateway leaves behind: every account's snapshot every 5 minutes, each older than the
// stored one (so the runs find nothing new to write), its use lower the further back.
func seedHistory(t *runner, admin *redis.Client, span time.Duration) string {
	const step = 5 * time.Minute
	path := filepath.Join(t.TempDir(), "history.db")
	ctx := context.Background()
	accounts, err := source.NewRedis(admin, "sched:", "seed").Read(ctx)
	if err != nil {
		t.Fatalf("read the fleet to seed its history: %v", err)
	}
	now := time.Now()
	s, err := history.Open(path, now)
	if err != nil {
		t.Fatalf("seed history: %v", err)
	}
	poll := make([]model.Account, 0, len(accounts))
	for k := int(span / step); k >= 1; k-- {
		back := time.Duration(k) * step
		poll = poll[:0]
		for _, a := range accounts {
			if a.Quota == nil || !a.Quota.HasUpdatedAt {
				continue
			}
			q := *a.Quota
			q.UpdatedAt = q.UpdatedAt.Add(-back)
			for i := range q.Windows {
				q.Windows[i].UsedPercent = max(0, q.Windows[i].UsedPercent-back.Hours()*4)
			}
			a.Quota = &q
			poll = append(poll, a)
		}
		s.Record(poll, model.DefaultPolicy(), now.Add(-back))
		s.Flush()
	}
	if err := s.Close(); err != nil {
		t.Fatalf("seed history: %v", err)
	}
	return path
}

// rewrite rewrites churn snapshots a second until stop closes, as live traffic does.
func rewrite(admin *redis.Client, n, churn int, stop chan struct{}) {
	go func() {
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		next := 1
		for {
			select {
			case <-stop:
				return
			case now := <-tick.C:
				pipe := admin.Pipeline()
				for range churn {
					id := int64(next%n + 1)
					next += 7919 // a prime: every account in turn, spread over the keyspace
					pipe.Set(context.Background(), "sched:meta:"+strconv.FormatInt(id, 10), redistest.MetaValue(id, now, float64(now.Second()), 40, time.Second), 0)
				}
				pipe.Exec(context.Background())
			}
		}
	}()
}

// printLive reports a build's live measures: medians over the runs (each run's RSS is
// itself the median of its once-a-second readings), and the first run's Redis counts.
func printLive(rs []liveResult, n int, bin string, interval, warmup, window time.Duration, churn int) {
	fmt.Printf("### live monitor (%s), %d accounts, --interval %s, %d snapshots rewritten a second, %s after %s warm-up, median of %d\n\n", filepath.Base(bin), n, interval, churn, window, warmup, len(rs))
	fmt.Println("| CPU % of a core | RSS MB (median) | RSS MB (max) | Redis commands per minute |")
	fmt.Println("|---:|---:|---:|---|")
	cpu, rss := median(rs, func(r liveResult) float64 { return r.cpuPercent }), median(rs, func(r liveResult) float64 { return r.rssMedian })
	top := median(rs, func(r liveResult) float64 { return r.rssMax })
	fmt.Printf("| %.2f | %.0f | %.0f | %s |\n\n", cpu, rss, top, formatStats(rs[0].perMin))
}

// procCPU is the process's user+system CPU time, from /proc/PID/stat.
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// Fields after the command name, which is in parentheses and may hold spaces.
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / 100 // USER_HZ is 100 on Linux
}

func procRSSKB(pid int) int64 {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, _ := strconv.ParseInt(strings.Fields(rest)[0], 10, 64)
			return n
		}
	}
	return 0
}

// commandStats is Redis's own count of calls per command.
func commandStats(t *runner, c *redis.Client) map[string]int64 {
	info, err := c.Info(context.Background(), "commandstats").Result()
	if err != nil {
		t.Fatalf("INFO commandstats: %v", err)
	}
	out := map[string]int64{}
	for _, line := range strings.Split(info, "\n") {
		name, rest, ok := strings.Cut(strings.TrimPrefix(strings.TrimSpace(line), "cmdstat_"), ":calls=")
		if !ok {
			continue
		}
		calls, _, _ := strings.Cut(rest, ",")
		out[name], _ = strconv.ParseInt(calls, 10, 64)
	}
	return out
}

func diffStats(before, after map[string]int64) map[string]int64 {
	out := map[string]int64{}
	for k, v := range after {
		if d := v - before[k]; d > 0 && k != "info" {
			out[k] = d
		}
	}
	return out
}

func formatStats(m map[string]int64) string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%d %s", m[k], strings.ToUpper(k)))
	}
	return strings.Join(parts, ", ")
}

func median[T any](s []T, f func(T) float64) float64 {
	v := make([]float64, len(s))
	for i := range s {
		v[i] = f(s[i])
	}
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func cpus() int {
	b, _ := os.ReadFile("/proc/cpuinfo")
	return max(strings.Count(string(b), "processor\t:"), 1)
}

func loadavg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "load unknown"
	}
	return "load " + strings.Join(f[:3], " ")
}

// floor is the least any reader must do, in its own process: SCAN the meta keys and MGET
// their values in pipelined chunks of 128, as sub2api itself reads them.
func floor(addr, prefix string) error {
	ctx := context.Background()
	c := redis.NewClient(&redis.Options{Addr: addr, DisableIdentity: true, ReadTimeout: time.Minute,
		MaintNotificationsConfig: &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}})
	defer c.Close()
	var keys []string
	var cursor uint64
	for {
		batch, next, err := c.Scan(ctx, cursor, prefix+"meta:*", 1000).Result()
		if err != nil {
			return err
		}
		keys = append(keys, batch...)
		if cursor = next; cursor == 0 {
			break
		}
	}
	// One round trip per 1,024 keys, as quotatop reads: a single pipeline of every MGET
	// would hold the whole fleet's values at once and be slower at 100,000 accounts.
	for at := 0; at < len(keys); at += 1024 {
		pipe := c.Pipeline()
		for i := at; i < min(at+1024, len(keys)); i += 128 {
			pipe.MGet(ctx, keys[i:min(i+128, at+1024, len(keys))]...)
		}
		if _, err := pipe.Exec(ctx); err != nil {
			return err
		}
	}
	return nil
}

// runner lets redistest, written for tests, start and stop servers for a command: it
// implements the few testing.TB methods redistest calls.
type runner struct {
	testing.TB
	dirs     []string
	cleanups []func()
}

func (r *runner) Helper()          {}
func (r *runner) Cleanup(f func()) { r.cleanups = append(r.cleanups, f) }
func (r *runner) Fatal(a ...any)   { r.Fatalf("%s", fmt.Sprint(a...)) }
func (r *runner) Skip(a ...any)    { r.Fatalf("%s", fmt.Sprint(a...)) }
func (r *runner) Fatalf(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "qtbench: "+format+"\n", a...)
	r.cleanup()
	os.Exit(1)
}

func (r *runner) TempDir() string {
	d, err := os.MkdirTemp("", "qtbench")
	if err != nil {
		r.Fatalf("temp dir: %v", err)
	}
	r.dirs = append(r.dirs, d)
	return d
}

func (r *runner) cleanup() {
	for i := len(r.cleanups) - 1; i >= 0; i-- {
		r.cleanups[i]()
	}
	r.cleanups = nil
	for _, d := range r.dirs {
		os.RemoveAll(d)
	}
	r.dirs = nil
}
