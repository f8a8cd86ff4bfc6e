package source

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/quotatop/quotatop/model"
	"github.com/redis/go-redis/v9"
)

// fullEvery is how often a tracking reader still reads every key: the safety net for a
// lost invalidation. A fleet whose full read is slow waits fullBudget times that read
// instead, at most fullAtMost: at 100,000 accounts a full read is about 1.4 s of CPU,
// which every minute is 2 % of a core.
const (
	fullEvery  = time.Minute
	fullBudget = 300
	fullAtMost = 10 * time.Minute
)

// invalidations is the channel Redis publishes tracking invalidations to in RESP2
// redirect mode.
const invalidations = "__redis__:invalidate"

// tracking asks Redis (6+) to say which <prefix>meta: keys changed, so that a poll reads
// only those. Tracking is per node: a standalone server or a Sentinel's master has one
// nodeTracker, a Cluster one per master (re-listed at every full read; a new topology
// means a full read). Anything doubtful (a reconnect, a flush, a message it cannot read,
// a failover) makes the next poll a full one, and a full read comes every minute anyway
// (longer for a fleet that takes long to read: see every).
type tracking struct {
	prefix  string
	single  *redis.Client        // standalone or Sentinel
	cluster *redis.ClusterClient // Cluster

	mu      sync.Mutex
	nodes   map[string]*nodeTracker // by node address
	lastAll time.Time
	allTook time.Duration // how long the last full read took
	off     string        // why tracking is off ("" while on)
	refused bool          // off for good: the server or the ACL refused it
}

// nodeTracker is change tracking on one node: CLIENT TRACKING ON BCAST PREFIX on a
// dedicated connection, redirected to a second connection subscribed to
// __redis__:invalidate (invalidations are the node's own, never broadcast in a Cluster).
type nodeTracker struct {
	prefix string
	node   *redis.Client
	opts   *redis.Options // the subscriber's

	mu     sync.Mutex
	dirty  map[string]struct{}
	full   bool // the next poll must read every key
	subID  int64
	subGen int // bumped each time the subscriber (re)connects
	setGen int // subGen that tracking was last redirected to

	sub  *redis.Client
	ps   *redis.PubSub
	conn *redis.Conn // the tracking connection
	stop context.CancelFunc
}

// Track makes later Reads ask Redis for the keys that changed and read only those (with a
// full read every minute, or 300 times what the last one took if longer); where the server does not allow it, Reads stay full and
// TrackingStatus says why. It implies Remember.
func (r *Redis) Track() {
	if r.memo == nil {
		r.Remember()
	}
	t := &tracking{prefix: r.prefix + "meta:", nodes: map[string]*nodeTracker{}}
	r.track = t
	switch c := r.client.(type) {
	case *redis.Client:
		t.single = c
	case *redis.ClusterClient:
		t.cluster = c
	default:
		t.off, t.refused = "full polls: change tracking needs a standalone server, a Sentinel or a Cluster", true
	}
}

func newNodeTracker(prefix string, node *redis.Client) *nodeTracker {
	n := &nodeTracker{prefix: prefix, node: node, dirty: map[string]struct{}{}, full: true}
	opts := *node.Options()
	opts.PoolSize, opts.MinIdleConns, opts.MaxIdleConns = 1, 0, 1
	// RESP2: Redis sends a RESP3 redirect target bare "invalidate" pushes instead of
	// messages on the channel it subscribed to.
	opts.Protocol = 2
	opts.OnConnect = func(ctx context.Context, cn *redis.Conn) error {
		id, err := cn.ClientID(ctx).Result()
		n.mu.Lock()
		n.subID, n.subGen, n.full = id, n.subGen+1, true
		n.mu.Unlock()
		return err
	}
	n.opts = &opts
	return n
}

// TrackingStatus says how polls read: by change tracking, or in full and why.
func (r *Redis) TrackingStatus() string {
	if r.track == nil {
		return ""
	}
	r.track.mu.Lock()
	defer r.track.mu.Unlock()
	if r.track.off != "" {
		return r.track.off
	}
	if r.track.cluster != nil {
		return fmt.Sprintf("change tracking (%d masters)", len(r.track.nodes))
	}
	return "change tracking"
}

// start subscribes and turns tracking on, or says why it cannot.
func (n *nodeTracker) start(ctx context.Context) error {
	if n.sub == nil {
		n.sub = redis.NewClient(n.opts)
		n.ps = n.sub.Subscribe(ctx, invalidations)
		if _, err := n.ps.Receive(ctx); err != nil { // the subscription confirmation
			// Torn down, so the next poll subscribes afresh rather than redirecting to
			// a subscriber that never connected.
			n.ps.Close()
			n.sub.Close()
			n.ps, n.sub = nil, nil
			return fmt.Errorf("subscribe %s: %w", invalidations, err)
		}
		bg, cancel := context.WithCancel(context.Background())
		n.stop = cancel
		go n.listen(bg)
	}
	n.mu.Lock()
	id, gen := n.subID, n.subGen
	n.mu.Unlock()
	if n.conn != nil {
		n.conn.Close() // redirected to a subscriber that is gone: start over
	}
	// An ephemeral connection is discarded on Close, tracking and all, rather than
	// going back to the pool still tracking.
	n.conn = n.node.EphemeralConn()
	err := n.conn.Do(ctx, "CLIENT", "TRACKING", "ON", "REDIRECT", id, "BCAST", "PREFIX", n.prefix).Err()
	if err != nil {
		n.conn.Close()
		n.conn = nil
		return fmt.Errorf("CLIENT TRACKING: %w", err)
	}
	n.mu.Lock()
	n.setGen, n.full = gen, true
	n.mu.Unlock()
	return nil
}

// listen collects invalidated keys until stopped.
func (n *nodeTracker) listen(ctx context.Context) {
	for {
		msg, err := n.ps.Receive(ctx)
		if ctx.Err() != nil {
			return
		}
		n.mu.Lock()
		switch m := msg.(type) {
		case *redis.Message:
			if m.Channel != invalidations || (m.Payload == "" && len(m.PayloadSlice) == 0) {
				n.full = true
			}
			for _, k := range m.PayloadSlice {
				n.dirty[k] = struct{}{}
			}
		default:
			if err != nil { // a flush (null payload) or a lost connection
				n.full = true
			}
		}
		n.mu.Unlock()
		if err != nil {
			select {
			case <-ctx.Done():
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
}

// ready makes sure the node tracks into a live subscriber. refused is true when the
// server will not track at all (an old server, an ACL without the rules); otherwise an
// error only means this poll must be a full one.
func (n *nodeTracker) ready(ctx context.Context) (refused bool, err error) {
	n.mu.Lock()
	redirected := n.setGen == n.subGen && n.setGen != 0
	n.mu.Unlock()
	if !redirected || n.conn == nil {
		err := n.start(ctx)
		return err != nil && isRefusal(err), err
	}
	if err := n.conn.Ping(ctx).Err(); err != nil { // the tracking connection is alive
		n.conn.Close()
		n.conn = nil
		return false, err
	}
	return false, nil
}

// isRefusal says err is the server's answer to a command (unknown, or denied by the
// ACL), which asking again will not change, and not a connection that failed: a Redis
// restart turned tracking off until quotatop restarted, full polls every 2 s.
func isRefusal(err error) bool {
	var reply redis.Error
	if !errors.As(err, &reply) {
		return false
	}
	for _, passing := range []string{"LOADING", "BUSY", "TRYAGAIN", "MASTERDOWN", "CLUSTERDOWN", "READONLY"} {
		if strings.HasPrefix(reply.Error(), passing) {
			return false
		}
	}
	return true
}

// take returns the keys invalidated since the last call, and whether the node wants a
// full read.
func (n *nodeTracker) take(keys []string) ([]string, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	full := n.full
	n.full = false
	for k := range n.dirty {
		keys = append(keys, k)
	}
	clear(n.dirty)
	return keys, full
}

func (n *nodeTracker) close() {
	if n.stop != nil {
		n.stop()
	}
	if n.ps != nil {
		n.ps.Close()
	}
	if n.sub != nil {
		n.sub.Close()
	}
	if n.conn != nil {
		n.conn.Close()
	}
	n.stop, n.ps, n.sub, n.conn = nil, nil, nil, nil
}

// masters lists the nodes to track: the one server, or the Cluster's masters as its
// client knows them now.
func (t *tracking) masters(ctx context.Context) (map[string]*redis.Client, error) {
	if t.single != nil {
		return map[string]*redis.Client{"": t.single}, nil
	}
	var mu sync.Mutex
	out := map[string]*redis.Client{}
	err := t.cluster.ForEachMaster(ctx, func(_ context.Context, c *redis.Client) error {
		mu.Lock()
		out[c.Options().Addr] = c
		mu.Unlock()
		return nil
	})
	return out, err
}

// changed returns the keys invalidated since the last call, or full when the poll must
// read everything (first poll, safety net, reconnect, new topology, tracking refused).
func (t *tracking) changed(ctx context.Context, now time.Time) (keys []string, full bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.refused {
		return nil, true
	}
	due := now.Sub(t.lastAll) >= t.every()
	if due || len(t.nodes) == 0 {
		// Re-list the masters at every full read: a failover or a reshard shows here.
		masters, err := t.masters(ctx)
		if err != nil {
			return nil, true
		}
		for addr, n := range t.nodes {
			if m, ok := masters[addr]; !ok || m != n.node {
				n.close()
				delete(t.nodes, addr)
				due = true
			}
		}
		for addr, c := range masters {
			if t.nodes[addr] == nil {
				t.nodes[addr] = newNodeTracker(t.prefix, c)
				due = true
			}
		}
	}
	for _, n := range t.nodes {
		refused, err := n.ready(ctx)
		if err == nil {
			continue
		}
		if refused {
			// Not retried: an ACL that refuses it would log a denial every poll.
			t.closeNodes()
			t.off, t.refused = refusedText(err), true
		}
		return nil, true
	}
	t.off = ""
	for _, n := range t.nodes {
		var nodeFull bool
		keys, nodeFull = n.take(keys)
		due = due || nodeFull
	}
	if due {
		t.lastAll = now
		return nil, true
	}
	return keys, false
}

// every is how long the safety net waits after a full read.
func (t *tracking) every() time.Duration {
	return min(max(fullEvery, fullBudget*t.allTook), fullAtMost)
}

// tookAll records how long a full read took, which sets the safety net's wait.
func (t *tracking) tookAll(d time.Duration) {
	t.mu.Lock()
	t.allTook = d
	t.mu.Unlock()
}

// failed makes the next poll a full one.
func (t *tracking) failed() {
	t.mu.Lock()
	t.lastAll = time.Time{}
	t.mu.Unlock()
}

func (t *tracking) close() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.closeNodes()
}

func (t *tracking) closeNodes() {
	for addr, n := range t.nodes {
		n.close()
		delete(t.nodes, addr)
	}
}

// readChanged reads only the changed keys and applies them to the last Read's accounts.
func (r *Redis) readChanged(ctx context.Context, keys []string) ([]model.Account, error) {
	keys = slices.DeleteFunc(keys, func(k string) bool { _, ok := MetaKeyID(r.prefix, k); return !ok })
	slices.Sort(keys)
	prev := r.memo.accounts
	if len(keys) == 0 {
		return prev, nil
	}
	b := &batch{keys: keys, lastUsed: !r.skipLastUsed}
	if err := r.fetchBatch(ctx, b); err != nil {
		return nil, err
	}
	d := Decoder{memo: r.memo}
	fresh := d.decodeBatch(b.keys, b.metas, b.lastAt) // vanished keys are left out
	// The usual poll: a few known keys rewritten, none new, none gone. Then the last
	// fleet is copied once and the changed accounts are put at their places, found by
	// the memo's index, without looking up the other 100,000 keys.
	if len(fresh) == len(keys) {
		inPlace := true
		for i := range fresh {
			if _, ok := r.memo.at[fresh[i].Key]; !ok {
				inPlace = false
				break
			}
		}
		if inPlace {
			// The caller still holds prev: never write it.
			out, ok := r.memo.takePatched(len(prev))
			if !ok {
				out = r.memo.take(len(prev))
				copy(out, prev)
			}
			changed := make([]int32, len(fresh))
			for i := range fresh {
				changed[i] = r.memo.at[fresh[i].Key]
				out[changed[i]] = fresh[i]
			}
			r.memo.advancePatched(out, changed) // same keys at the same places: the index stands
			return out, nil
		}
	}
	byKey := make(map[string]*model.Account, len(fresh))
	for i := range fresh {
		byKey[fresh[i].Key] = &fresh[i]
	}
	gone := make(map[string]bool, len(keys))
	for _, k := range keys {
		gone[model.Sanitize(k)] = true
	}
	out := make([]model.Account, 0, len(prev)+len(fresh))
	for i := range prev {
		if a, ok := byKey[prev[i].Key]; ok {
			out = append(out, *a)
			delete(byKey, prev[i].Key)
		} else if !gone[prev[i].Key] {
			out = append(out, prev[i])
		}
	}
	if len(byKey) > 0 { // new accounts, in key order like a full read
		for _, a := range byKey {
			out = append(out, *a)
		}
		slices.SortFunc(out, func(a, b model.Account) int { return strings.Compare(a.Key, b.Key) })
	}
	r.memo.keep(out)
	return out, nil
}

// refusedText is the read mode after Redis refused tracking. The refusal is Redis's
// error reply, which whoever is on the other end writes: cut, then made inert, since the
// header and every watch log line show it.
func refusedText(err error) string {
	return "full polls: Redis refused change tracking (" + model.Sanitize(model.Cut(err.Error(), storageErrMax)) + ")"
}
