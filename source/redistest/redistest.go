// Package redistest starts throwaway redis-server processes on free loopback ports for
// tests, so no test ever touches someone else's Redis. Without redis-server the test is
// skipped, unless QUOTATOP_REQUIRE_REDIS=1 (CI), where that is a failure.
package redistest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Server is one running redis-server.
type Server struct {
	Addr string
	Port int
	// Socket is the unix socket it also listens on (StartUnix); "" for none.
	Socket string
	dir    string
	args   []string
	cmd    *exec.Cmd
	tb     testing.TB
}

// Binary returns the redis-server path, skipping (or failing in CI) when there is none.
func Binary(tb testing.TB) string {
	tb.Helper()
	path, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("QUOTATOP_REQUIRE_REDIS") == "1" {
			tb.Fatalf("redis-server is required (QUOTATOP_REQUIRE_REDIS=1) but not on PATH")
		}
		tb.Skip("redis-server not on PATH: skipping the real-Redis test (install redis-server to run it)")
	}
	return path
}

// Start runs a redis-server with extra config arguments ("--requirepass", "x") and stops
// it when the test ends.
func Start(tb testing.TB, extra ...string) *Server {
	tb.Helper()
	bin := Binary(tb)
	s := &Server{dir: tb.TempDir(), tb: tb, Port: freePort(tb)}
	s.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port))
	s.args = append([]string{"--port", strconv.Itoa(s.Port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", s.dir, "--logfile", filepath.Join(s.dir, "redis.log")}, extra...)
	s.start(bin)
	tb.Cleanup(s.Stop)
	return s
}

// maxSocketPath is the longest unix socket path every unix kernel takes (sun_path less
// its terminating NUL on the BSDs).
const maxSocketPath = 103

// StartUnix is Start with the server also listening on a unix socket (Socket, mode 0700)
// in a temporary directory of the test; the TCP port stays for Client and Seed.
func StartUnix(tb testing.TB, extra ...string) *Server {
	tb.Helper()
	sock := filepath.Join(tb.TempDir(), "redis.sock")
	if len(sock) > maxSocketPath {
		// A long TMPDIR: a short directory of the test's own under /tmp instead.
		dir, err := os.MkdirTemp("/tmp", "qt")
		if err != nil {
			tb.Fatalf("make a socket directory: %v", err)
		}
		tb.Cleanup(func() { os.RemoveAll(dir) })
		sock = filepath.Join(dir, "redis.sock")
	}
	s := Start(tb, append([]string{"--unixsocket", sock, "--unixsocketperm", "700"}, extra...)...)
	s.Socket = sock
	s.waitFor("unix", sock)
	return s
}

func (s *Server) start(bin string) {
	s.tb.Helper()
	s.cmd = exec.Command(bin, s.args...)
	if err := s.cmd.Start(); err != nil {
		s.tb.Fatalf("start redis-server: %v", err)
	}
	s.waitFor("tcp", s.Addr)
	if s.Socket != "" {
		s.waitFor("unix", s.Socket)
	}
}

// waitFor returns once the server accepts a connection at addr: redis-server opens its
// TCP port before its unix socket.
func (s *Server) waitFor(network, addr string) {
	s.tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.DialTimeout(network, addr, 100*time.Millisecond); err == nil {
			c.Close()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	log, _ := os.ReadFile(filepath.Join(s.dir, "redis.log"))
	s.tb.Fatalf("redis-server on %s did not come up:\n%s", addr, log)
}

// Stop kills the server; the data is gone.
func (s *Server) Stop() {
	if s.cmd != nil && s.cmd.Process != nil {
		s.cmd.Process.Kill()
		s.cmd.Wait()
		s.cmd = nil
	}
}

// Restart starts the server again on the same port, empty.
func (s *Server) Restart() {
	s.tb.Helper()
	s.Stop()
	s.start(Binary(s.tb))
}

// URL is the redis:// address of the server.
func (s *Server) URL() string { return "redis://" + s.Addr + "/0" }

// UnixURL is the unix:// address of a StartUnix server's socket, database db.
func (s *Server) UnixURL(db int) string {
	return "unix://" + s.Socket + "?db=" + strconv.Itoa(db)
}

// Client is an admin connection to the server, closed when the test ends.
func (s *Server) Client(password ...string) *redis.Client {
	opt := &redis.Options{Addr: s.Addr, DisableIdentity: true}
	if len(password) > 0 {
		opt.Password = password[0]
	}
	c := redis.NewClient(opt)
	s.tb.Cleanup(func() { c.Close() })
	return c
}

// Seed writes key/value pairs in pipelined batches.
func Seed(tb testing.TB, c redis.Cmdable, values map[string]string) {
	tb.Helper()
	ctx := context.Background()
	pipe := c.Pipeline()
	n := 0
	for k, v := range values {
		pipe.Set(ctx, k, v, 0)
		if n++; n%1000 == 0 {
			if _, err := pipe.Exec(ctx); err != nil {
				tb.Fatalf("seed: %v", err)
			}
		}
	}
	if _, err := pipe.Exec(ctx); err != nil {
		tb.Fatalf("seed: %v", err)
	}
}

// StartCluster runs n masters joined into one Redis Cluster covering every slot and
// returns their addresses once the cluster says it is ok.
func StartCluster(tb testing.TB, n int, extra ...string) []*Server {
	tb.Helper()
	ctx := context.Background()
	nodes := make([]*Server, n)
	for i := range nodes {
		nodes[i] = Start(tb, append([]string{"--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "2000"}, extra...)...)
	}
	const slots = 16384
	for i, node := range nodes {
		c := node.Client()
		lo, hi := i*slots/n, (i+1)*slots/n-1
		if err := c.ClusterAddSlotsRange(ctx, lo, hi).Err(); err != nil {
			tb.Fatalf("cluster addslots on %s: %v", node.Addr, err)
		}
		if i > 0 {
			if err := c.ClusterMeet(ctx, "127.0.0.1", strconv.Itoa(nodes[0].Port)).Err(); err != nil {
				tb.Fatalf("cluster meet: %v", err)
			}
		}
	}
	deadline := time.Now().Add(20 * time.Second)
	for _, node := range nodes {
		c := node.Client()
		for {
			info, _ := c.ClusterInfo(ctx).Result()
			if strings.Contains(info, "cluster_state:ok") && strings.Contains(info, fmt.Sprintf("cluster_known_nodes:%d", n)) {
				break
			}
			if time.Now().After(deadline) {
				tb.Fatalf("cluster did not become ok: %s", info)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return nodes
}

// freePort asks the kernel for a loopback port that is free now, below the range where
// a cluster bus port (port+10000) would overflow.
func freePort(tb testing.TB) int {
	tb.Helper()
	for range 50 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			tb.Fatalf("find a free port: %v", err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if port < 55000 {
			if bus, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port+10000))); err == nil {
				bus.Close()
				return port
			}
		}
	}
	tb.Fatalf("no free loopback port pair found")
	return 0
}

// StartSentinel runs a Sentinel (redis-server in sentinel mode) watching master under the
// name "mymaster", and returns once it knows the master.
func StartSentinel(tb testing.TB, master *Server) *Server {
	tb.Helper()
	bin := Binary(tb)
	s := &Server{dir: tb.TempDir(), tb: tb, Port: freePort(tb)}
	s.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port))
	conf := filepath.Join(s.dir, "sentinel.conf")
	text := fmt.Sprintf("port %d\nbind 127.0.0.1\ndir %s\nlogfile %s\nsentinel monitor mymaster 127.0.0.1 %d 1\n",
		s.Port, s.dir, filepath.Join(s.dir, "redis.log"), master.Port)
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		tb.Fatal(err)
	}
	s.args = []string{conf, "--sentinel"}
	s.start(bin)
	tb.Cleanup(s.Stop)
	c := redis.NewSentinelClient(&redis.Options{Addr: s.Addr})
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if addr, err := c.GetMasterAddrByName(context.Background(), "mymaster").Result(); err == nil && len(addr) == 2 {
			return s
		}
		if time.Now().After(deadline) {
			tb.Fatal("sentinel does not know the master")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
