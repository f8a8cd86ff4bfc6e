package source

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/quotatop/quotatop/model"
	"github.com/quotatop/quotatop/source/redistest"
	"github.com/redis/go-redis/v9"
)

func read(t *testing.T, r *Redis) []model.Account {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	accounts, err := r.Read(ctx)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return accounts
}

func open(t *testing.T, url, prefix string) *Redis {
	t.Helper()
	r, err := OpenRedis(Conn{URL: url, Timeout: 3 * time.Second}, prefix)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func TestReadThousandsFromRealRedis(t *testing.T) {
	srv := redistest.Start(t)
	now := time.Now()
	const n = 5000
	redistest.Seed(t, srv.Client(), redistest.Fleet(n, "sched:", now))
	// A corrupt value and scheduler internals under the same prefix.
	redistest.Seed(t, srv.Client(), map[string]string{"sched:meta:900001": `{"ID":900001,"Extra":{`, "sched:bucket:1": "x", "sched:version": "7"})

	accounts := read(t, open(t, srv.URL(), "sched:"))
	if len(accounts) != n+1 {
		t.Fatalf("read %d accounts, want %d", len(accounts), n+1)
	}
	byID := map[int64]model.Account{}
	for _, a := range accounts {
		byID[a.ID] = a
	}
	if a := byID[900001]; a.Invalid == "" {
		t.Fatalf("corrupt value not marked invalid: %+v", a)
	}
	a := byID[20]
	if a.Name != "codex-pro-00020" || a.Quota.Windows[0].UsedPercent != 97 {
		t.Fatalf("account 20: %+v", a)
	}
	// The last-used key is fresher than the meta field and wins.
	if want := now.Add(-20 * time.Second).UnixMilli(); a.LastUsedAt.UnixMilli() != want {
		t.Fatalf("last used %v, want %v", a.LastUsedAt.UnixMilli(), want)
	}
	counts := map[model.State]int{}
	for i := range accounts {
		counts[model.Judge(&accounts[i], model.DefaultPolicy(), now).State]++
	}
	// Every 10th is at 97 % of a 95 % threshold: paused unless stale (every 30th).
	if counts[model.StatePaused] != n/10-n/30 || counts[model.StateStaleProbe] != n/30 || counts[model.StateInvalid] != 1 {
		t.Fatalf("states: %v", counts)
	}
}

func TestCustomPrefix(t *testing.T) {
	srv := redistest.Start(t)
	now := time.Now()
	redistest.Seed(t, srv.Client(), redistest.Fleet(30, "sched:", now))
	redistest.Seed(t, srv.Client(), redistest.Fleet(12, "sched:{sub2api:scheduler}:", now))
	if got := len(read(t, open(t, srv.URL(), "sched:{sub2api:scheduler}:"))); got != 12 {
		t.Fatalf("hash-tagged prefix: read %d, want 12", got)
	}
	if got := len(read(t, open(t, srv.URL(), "sched:v2:"))); got != 0 {
		t.Fatalf("empty prefix read %d", got)
	}
	if got := len(read(t, open(t, srv.URL(), ""))); got != 30 {
		t.Fatalf("default prefix read %d, want 30", got)
	}
}

func TestClusterOfThreeMasters(t *testing.T) {
	nodes := redistest.StartCluster(t, 3)
	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{nodes[0].Addr}, DisableIdentity: true})
	defer cc.Close()
	now := time.Now()
	redistest.Seed(t, cc, redistest.Fleet(600, "sched:", now))
	for _, node := range nodes {
		if n, _ := node.Client().DBSize(context.Background()).Result(); n == 0 {
			t.Fatalf("node %s holds no keys: the test would not prove a scan of every master", node.Addr)
		}
	}
	r := open(t, "redis-cluster://"+nodes[1].Addr+","+nodes[2].Addr, "sched:")
	if r.Mode() != ModeCluster {
		t.Fatalf("mode %s", r.Mode())
	}
	accounts := read(t, r)
	if len(accounts) != 600 {
		t.Fatalf("read %d accounts across the cluster, want 600", len(accounts))
	}
	for _, a := range accounts {
		if a.LastUsedAt.IsZero() || a.Invalid != "" {
			t.Fatalf("account %d: %+v", a.ID, a)
		}
	}
}

// An operator can give quotatop a Redis user that may read only the meta and last-used
// keys. quotatop must work fully with it, and must not even try anything else: the
// server's ACL log of denied attempts stays empty.
func TestLeastPrivilegeACLUser(t *testing.T) {
	srv := redistest.Start(t)
	admin := srv.Client()
	ctx := context.Background()
	now := time.Now()
	redistest.Seed(t, admin, redistest.Fleet(300, "sched:", now))
	for i := 1; i <= 300; i++ {
		admin.Set(ctx, "sched:acc:"+strconv.Itoa(i), `{"Credentials":{"access_token":"TOKEN-CANARY"}}`, 0)
	}
	var words []any
	for _, w := range strings.Fields(ACLLine("quotatop", "s3cret", "sched:")) {
		words = append(words, w)
	}
	if err := admin.Do(ctx, words...).Err(); err != nil {
		t.Fatalf("create ACL user with the README's line: %v", err)
	}
	admin.ACLLogReset(ctx)

	r, err := OpenRedis(Conn{URL: "redis://quotatop@" + srv.Addr + "/0", Password: "s3cret", Timeout: 3 * time.Second}, "sched:")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	accounts := read(t, r)
	if len(accounts) != 300 {
		t.Fatalf("read %d accounts as the ACL user, want 300", len(accounts))
	}
	if accounts[0].LastUsedAt.IsZero() {
		t.Fatal("last used keys not read")
	}
	denied, err := admin.ACLLog(ctx, 100).Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(denied) != 0 {
		t.Fatalf("quotatop attempted something its ACL denies: %+v", denied[0])
	}
	// The ACL really does keep the token keys out of reach.
	limited := redis.NewClient(&redis.Options{Addr: srv.Addr, Username: "quotatop", Password: "s3cret", DisableIdentity: true})
	defer limited.Close()
	if err := limited.Get(ctx, "sched:acc:1").Err(); err == nil || !strings.Contains(err.Error(), "NOPERM") {
		t.Fatalf("the ACL user could read sched:acc:1: %v", err)
	}
}

func TestDeadAddressFailsFast(t *testing.T) {
	srv := redistest.Start(t)
	url := srv.URL()
	srv.Stop()
	r := open(t, url, "sched:")
	start := time.Now()
	_, err := r.Read(context.Background())
	if err == nil || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("want connection refused, got %v", err)
	}
	if !strings.Contains(err.Error(), "scan sched:meta:*") {
		t.Fatalf("error does not say what was being done: %v", err)
	}
	if time.Since(start) > 10*time.Second {
		t.Fatalf("a refused connection took %v", time.Since(start))
	}
}

func TestWrongPasswordIsAClearError(t *testing.T) {
	srv := redistest.Start(t, "--requirepass", "right")
	r, err := OpenRedis(Conn{URL: "redis://:wrong@" + srv.Addr + "/0", Timeout: 3 * time.Second}, "sched:")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	_, err = r.Read(context.Background())
	if err == nil || !strings.Contains(strings.ToUpper(err.Error()), "WRONGPASS") || strings.Contains(err.Error(), "wrong@") {
		t.Fatalf("got %v", err)
	}
}

func TestSentinel(t *testing.T) {
	master := redistest.Start(t)
	redistest.Seed(t, master.Client(), redistest.Fleet(50, "sched:", time.Now()))
	sentinel := redistest.StartSentinel(t, master)
	r := open(t, "redis-sentinel://"+sentinel.Addr+"/mymaster/0", "sched:")
	if r.Mode() != ModeSentinel {
		t.Fatalf("mode %s", r.Mode())
	}
	if got := len(read(t, r)); got != 50 {
		t.Fatalf("read %d accounts through the sentinel, want 50", got)
	}
}

func TestBadURLs(t *testing.T) {
	for url, want := range map[string]string{
		"http://x":                         "unknown scheme",
		"redis-sentinel://h:26379":         "names the master",
		"redis-cluster://h:7000/3":         "only database 0",
		"redis-sentinel://h:26379/m/zero":  "not a number",
		"redis://user:s3cret@h:6379/x":     "",
		"redis-cluster://:s3cret@,h:7000/": "empty host",
		"unix://:s3cret@":                  "empty unix socket path",
		"unix:///tmp/r.sock?db=s3cret":     "invalid database number",
	} {
		_, err := OpenRedis(Conn{URL: url}, "sched:")
		if want == "" {
			if err == nil {
				t.Errorf("%s: accepted a bad database", url)
			}
		} else if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want %q", url, err, want)
		}
		if err != nil && strings.Contains(err.Error(), "s3cret") {
			t.Errorf("%s: the password leaked into %q", url, err)
		}
	}
}

func TestTLSWithPrivateCA(t *testing.T) {
	srv, ca := redistest.StartTLS(t)
	url := "rediss://" + srv.Addr + "/0"
	r, err := OpenRedis(Conn{URL: url, CAFile: ca, Timeout: 3 * time.Second}, "sched:")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	admin, err := OpenRedis(Conn{URL: url, CAFile: ca}, "sched:")
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	redistest.Seed(t, admin.client, redistest.Fleet(25, "sched:", time.Now()))
	if got := len(read(t, r)); got != 25 {
		t.Fatalf("read %d over TLS, want 25", got)
	}
	// Without the CA the server's certificate is refused.
	plain := open(t, url, "sched:")
	if _, err := plain.Read(context.Background()); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("an untrusted certificate was accepted: %v", err)
	}
}

// A read draws no error reply from the server: go-redis's default handshake asks every
// new connection for maintenance notifications, which a server without them refuses, and
// Redis monitoring counts those errors.
func TestReadDrawsNoErrorReply(t *testing.T) {
	srv := redistest.Start(t)
	admin := srv.Client()
	ctx := context.Background()
	redistest.Seed(t, admin, redistest.Fleet(50, "sched:", time.Now()))
	if err := admin.ConfigResetStat(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	read(t, open(t, srv.URL(), "sched:"))
	info, err := admin.Info(ctx, "stats").Result()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(info, "total_error_replies:0\r") {
		_, rest, _ := strings.Cut(info, "total_error_replies:")
		t.Fatalf("the server counted error replies: %.20s", rest)
	}
}

// A rediss:// URL aimed at a server without TLS times out in the handshake; the error
// says what that usually means.
func TestTLSURLAtAPlainServerSaysSo(t *testing.T) {
	srv := redistest.Start(t)
	r, err := OpenRedis(Conn{URL: "rediss://" + srv.Addr + "/0", Timeout: 300 * time.Millisecond}, "sched:")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := r.Read(context.Background()); err == nil || !strings.Contains(err.Error(), "a server without TLS never answers the handshake") {
		t.Fatalf("err %v", err)
	}
}

// A unix:// URL, as the README documents it, reads the fleet through the socket: the
// password from the environment as for redis://, the database from the query, and
// neither the password nor another query value is shown.
func TestUnixSocketURL(t *testing.T) {
	srv := redistest.StartUnix(t, "--requirepass", "s3cret")
	now := time.Now()
	redistest.Seed(t, srv.Client("s3cret"), redistest.Fleet(5, "sched:", now))
	db1 := redis.NewClient(&redis.Options{Addr: srv.Addr, Password: "s3cret", DB: 1, DisableIdentity: true})
	defer db1.Close()
	redistest.Seed(t, db1, redistest.Fleet(40, "sched:", now))

	r, err := OpenRedis(Conn{URL: srv.UnixURL(1), Password: "s3cret", Timeout: 3 * time.Second}, "sched:")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	accounts := read(t, r)
	if len(accounts) != 40 || accounts[0].LastUsedAt.IsZero() {
		t.Fatalf("read %d accounts through the socket, want database 1's 40", len(accounts))
	}
	if r.Mode() != ModeStandalone || r.Address() != srv.UnixURL(1) {
		t.Fatalf("mode %s, address %q, want %q", r.Mode(), r.Address(), srv.UnixURL(1))
	}
	// The password in the URL works too, and is masked with any other query value.
	withPass := "unix://:s3cret@" + srv.Socket + "?db=0&client_name=s3cret"
	r0, err := OpenRedis(Conn{URL: withPass, Timeout: 3 * time.Second}, "sched:")
	if err != nil {
		t.Fatal(err)
	}
	defer r0.Close()
	if got := len(read(t, r0)); got != 5 {
		t.Fatalf("read %d accounts from database 0, want 5", got)
	}
	if a := r0.Address(); strings.Contains(a, "s3cret") || !strings.Contains(a, "db=0") || !strings.Contains(a, srv.Socket) {
		t.Fatalf("address %q", a)
	}
	// A wrong password is refused in a sentence that does not quote it.
	bad, err := OpenRedis(Conn{URL: "unix://:wrong-s3cret@" + srv.Socket, Timeout: 3 * time.Second}, "sched:")
	if err != nil {
		t.Fatal(err)
	}
	defer bad.Close()
	if _, err := bad.Read(context.Background()); err == nil || !strings.Contains(strings.ToUpper(err.Error()), "WRONGPASS") || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("got %v", err)
	}
}
