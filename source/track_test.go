package source

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/quotatop/quotatop/model"
	"github.com/quotatop/quotatop/source/redistest"
	"github.com/redis/go-redis/v9"
)

// aclUser creates a user with the README's ACL line, minus any rule in drop.
func aclUser(t *testing.T, admin *redis.Client, drop ...string) {
	t.Helper()
	var words []any
	for _, w := range strings.Fields(ACLLine("quotatop", "s3cret", "sched:")) {
		if !strings.Contains(strings.Join(drop, " "), w) {
			words = append(words, w)
		}
	}
	if err := admin.Do(context.Background(), words...).Err(); err != nil {
		t.Fatalf("create ACL user: %v", err)
	}
	admin.ACLLogReset(context.Background())
}

// With change tracking, a poll after the first reads only the keys that changed (no
// SCAN, one MGET), and still returns what a full read returns; as the least-privilege
// user, with nothing denied.
func TestTrackingReadsOnlyChangedKeys(t *testing.T) {
	srv := redistest.Start(t)
	admin := srv.Client()
	ctx := context.Background()
	now := time.Now()
	redistest.Seed(t, admin, redistest.DirtyFleet(300, "sched:", now))
	aclUser(t, admin)
	r, err := OpenRedis(Conn{URL: "redis://quotatop@" + srv.Addr + "/0", Password: "s3cret", Timeout: 3 * time.Second}, "sched:")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	r.Track()
	r.SkipLastUsed()
	fresh := open(t, srv.URL(), "sched:")
	fresh.SkipLastUsed()

	matches := func(got []model.Account) bool { return sameButRev(got, read(t, fresh)) }
	if !matches(read(t, r)) {
		t.Fatal("first (full) read differs from a plain read")
	}
	if s := r.TrackingStatus(); s != "change tracking" {
		t.Fatalf("status %q", s)
	}

	admin.Set(ctx, "sched:meta:5", strings.Replace(redistest.MetaValue(5, now, 99, 1, time.Minute), "codex-pro-00005", "renamed", 1), 0)
	admin.Set(ctx, "sched:meta:301", redistest.MetaValue(301, now, 1, 1, time.Minute), 0)
	admin.Del(ctx, "sched:meta:6")
	admin.Set(ctx, "sched:bucket:1", "not an account", 0)
	// The invalidations travel on another connection: poll until they have arrived.
	deadline := time.Now().Add(10 * time.Second)
	for {
		scans, mgets := commandCalls(t, admin, "scan"), commandCalls(t, admin, "mget")
		got := read(t, r)
		if s, m := commandCalls(t, admin, "scan")-scans, commandCalls(t, admin, "mget")-mgets; s != 0 || m > 1 {
			t.Fatalf("a tracked poll sent %d SCAN and %d MGET, want 0 and at most 1", s, m)
		}
		if matches(got) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("changes never arrived")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if denied, _ := admin.ACLLog(ctx, 10).Result(); len(denied) != 0 {
		t.Fatalf("denied: %+v", denied[0])
	}

	// A flush makes the next poll a full one.
	admin.FlushAll(ctx)
	redistest.Seed(t, admin, map[string]string{"sched:meta:1": redistest.MetaValue(1, now, 1, 1, time.Minute)})
	for {
		if got := read(t, r); len(got) == 1 && matches(got) {
			break
		}
		if time.Now().After(deadline.Add(10 * time.Second)) {
			t.Fatal("flush not noticed")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Where the ACL does not allow tracking, polls are full and the status says why.
func TestTrackingFallsBackVisibly(t *testing.T) {
	srv := redistest.Start(t)
	admin := srv.Client()
	redistest.Seed(t, admin, redistest.Fleet(50, "sched:", time.Now()))
	aclUser(t, admin, "+client|tracking")
	r, err := OpenRedis(Conn{URL: "redis://quotatop@" + srv.Addr + "/0", Password: "s3cret", Timeout: 3 * time.Second}, "sched:")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	r.Track()
	for range 3 {
		if n := len(read(t, r)); n != 50 {
			t.Fatalf("read %d", n)
		}
	}
	if s := r.TrackingStatus(); !strings.HasPrefix(s, "full polls: Redis refused change tracking") {
		t.Fatalf("status %q", s)
	}
	// Refused once, not every poll.
	if denied, _ := admin.ACLLog(context.Background(), 10).Result(); len(denied) != 1 {
		t.Fatalf("%d denials logged, want 1", len(denied))
	}

}

// waitTracked polls r until its accounts match a plain full read of fresh, failing if any
// tracked poll sends a SCAN to one of nodes.
func waitTracked(t *testing.T, r, fresh *Redis, nodes []*redis.Client) []model.Account {
	t.Helper()
	scans := func() int {
		n := 0
		for _, c := range nodes {
			n += commandCalls(t, c, "scan")
		}
		return n
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		before := scans()
		got := read(t, r)
		if d := scans() - before; d != 0 {
			t.Fatalf("a tracked poll sent %d SCAN", d)
		}
		want := read(t, fresh)
		if sameButRev(got, want) {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("changes never arrived: %d accounts tracked, %d stored", len(got), len(want))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// In a Cluster every master tracks its own keys: changes on all three reach a poll that
// sends no SCAN at all.
func TestTrackingInACluster(t *testing.T) {
	nodes := redistest.StartCluster(t, 3)
	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{nodes[0].Addr}, DisableIdentity: true})
	defer cc.Close()
	ctx := context.Background()
	now := time.Now()
	redistest.Seed(t, cc, redistest.Fleet(300, "sched:", now))
	r := open(t, "redis-cluster://"+nodes[0].Addr, "sched:")
	r.Track()
	r.SkipLastUsed()
	fresh := open(t, "redis-cluster://"+nodes[1].Addr, "sched:")
	fresh.SkipLastUsed()
	if n := len(read(t, r)); n != 300 {
		t.Fatalf("first read %d", n)
	}
	if s := r.TrackingStatus(); s != "change tracking (3 masters)" {
		t.Fatalf("status %q", s)
	}
	var clients []*redis.Client
	for _, n := range nodes {
		clients = append(clients, n.Client())
	}
	// Keys 1-30 hash to slots all over the three masters.
	for id := int64(1); id <= 30; id++ {
		cc.Set(ctx, "sched:meta:"+itoa64(id), redistest.MetaValue(id, now, 99, 1, time.Minute), 0)
	}
	cc.Del(ctx, "sched:meta:31")
	got := waitTracked(t, r, fresh, clients)
	if len(got) != 299 {
		t.Fatalf("%d accounts after a delete", len(got))
	}
}

// Behind a Sentinel the master tracks as a standalone server does.
func TestTrackingBehindASentinel(t *testing.T) {
	master := redistest.Start(t)
	admin := master.Client()
	now := time.Now()
	redistest.Seed(t, admin, redistest.Fleet(50, "sched:", now))
	sentinel := redistest.StartSentinel(t, master)
	r := open(t, "redis-sentinel://"+sentinel.Addr+"/mymaster/0", "sched:")
	r.Track()
	r.SkipLastUsed()
	fresh := open(t, master.URL(), "sched:")
	fresh.SkipLastUsed()
	read(t, r)
	if s := r.TrackingStatus(); s != "change tracking" {
		t.Fatalf("status %q", s)
	}
	admin.Set(context.Background(), "sched:meta:7", redistest.MetaValue(7, now, 97, 1, time.Minute), 0)
	waitTracked(t, r, fresh, []*redis.Client{admin})
}

func itoa64(n int64) string { return strconv.FormatInt(n, 10) }

// Round after round of rewritten values, each tracked poll builds its fleet in the one
// before last, brought up to date with the last poll's changes alone, and reads like a
// plain full read.
func TestTrackedPollsPatchTheSpare(t *testing.T) {
	srv := redistest.Start(t)
	admin := srv.Client()
	ctx := context.Background()
	now := time.Now()
	redistest.Seed(t, admin, redistest.DirtyFleet(200, "sched:", now))
	r := open(t, srv.URL(), "sched:")
	r.Remember()
	r.Track()
	r.SkipLastUsed()
	plain := open(t, srv.URL(), "sched:")
	plain.SkipLastUsed()
	read(t, r)
	for round := range 6 {
		for k := range 3 {
			id := int64(1 + (round*37+k*53)%200)
			admin.Set(ctx, fmt.Sprintf("sched:meta:%d", id), redistest.MetaValue(id, now, float64(10*round+k), 1, time.Minute), 0)
		}
		want := read(t, plain)
		deadline := time.Now().Add(10 * time.Second)
		for {
			if sameButRev(read(t, r), want) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("round %d: the tracked fleet never matched a plain read", round)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// The safety net's full read comes every minute, or after 300 times what the last full
// read took when that is longer, at most every ten minutes.
func TestSafetyNetWaitFollowsTheFullRead(t *testing.T) {
	var tr tracking
	for _, c := range []struct{ took, want time.Duration }{
		{0, time.Minute},
		{80 * time.Millisecond, time.Minute},
		{time.Second, 5 * time.Minute},
		{5 * time.Second, 10 * time.Minute},
	} {
		tr.tookAll(c.took)
		if got := tr.every(); got != c.want {
			t.Errorf("full read of %s: safety net every %s, want %s", c.took, got, c.want)
		}
	}
}

// sameButRev reports whether a tracked read holds the accounts of a plain one, which
// leaves Rev unknown.
func sameButRev(got, want []model.Account) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		g := got[i]
		g.Rev = 0
		if !reflect.DeepEqual(g, want[i]) {
			return false
		}
	}
	return true
}

// A Redis that goes away and comes back is tracked again: a failed connection is not a
// refusal (tracking was off until quotatop restarted, a full poll every interval).
func TestTrackingSurvivesARedisRestart(t *testing.T) {
	srv := redistest.Start(t)
	now := time.Now()
	redistest.Seed(t, srv.Client(), redistest.DirtyFleet(50, "sched:", now))
	r, err := OpenRedis(Conn{URL: srv.URL(), Timeout: time.Second}, "sched:")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	r.Track()
	read(t, r)
	if s := r.TrackingStatus(); s != "change tracking" {
		t.Fatalf("status %q", s)
	}
	srv.Stop()
	for range 3 { // polls while it is down fail, and say nothing about tracking
		if _, err := r.Read(context.Background()); err == nil {
			t.Fatal("a read of a stopped Redis succeeded")
		}
	}
	srv.Restart()
	redistest.Seed(t, srv.Client(), redistest.DirtyFleet(50, "sched:", now))
	deadline := time.Now().Add(15 * time.Second)
	for {
		_, err := r.Read(context.Background())
		if s := r.TrackingStatus(); err == nil && s == "change tracking" {
			scans := commandCalls(t, srv.Client(), "scan")
			time.Sleep(50 * time.Millisecond)
			read(t, r)
			if got := commandCalls(t, srv.Client(), "scan") - scans; got == 0 {
				return // a tracked poll: no SCAN
			}
		} else if strings.HasPrefix(s, "full polls") {
			t.Fatalf("after a restart: %q", s)
		}
		if time.Now().After(deadline) {
			t.Fatalf("tracking never resumed (status %q, err %v)", r.TrackingStatus(), err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// A refusal is the server's own words: a hostile 6 MiB error reply with escapes becomes
// a short, inert read mode (it was only sanitised, and the header cut it every frame).
func TestTrackingRefusalIsCutAndInert(t *testing.T) {
	got := refusedText(errors.New("ERR \x1b]0;owned\x07\x1b[2J" + strings.Repeat("A", 6<<20)))
	if len(got) > storageErrMax+100 || strings.ContainsAny(got, "\x1b\x07") || !strings.HasPrefix(got, "full polls: Redis refused change tracking (ERR ") {
		t.Fatalf("%d bytes: %.200q", len(got), got)
	}
}
