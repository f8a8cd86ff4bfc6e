package source

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/quotatop/quotatop/model"
	"github.com/redis/go-redis/v9"
)

// fullEvery is how often a tracking reader still reads every key: the safety net for a
// lost invalidation.
const fullEvery = time.Minute

// invalidations is the channel Redis publishes tracking invalidations to in RESP2
// redirect mode.
const invalidations = "__redis__:invalidate"

// tracker asks Redis (6+) to say which <prefix>meta: keys changed, so that a poll reads
// only those: CLIENT TRACKING ON BCAST PREFIX on a dedicated connection, redirected to a
// second connection subscribed to __redis__:invalidate. Anything doubtful (a reconnect,
// a flush, a message it cannot read) makes the next poll a full one.
type tracker struct {
	prefix string
	opts   *redis.Options

	mu      sync.Mutex
	dirty   map[string]struct{}
	full    bool // the next poll must read every key
	subID   int64
	subGen  int // bumped each time the subscriber (re)connects
	setGen  int // subGen that tracking was last redirected to
	lastAll time.Time
	off     string // why tracking is off ("" while on)

	sub  *redis.Client
	ps   *redis.PubSub
	conn *redis.Conn // the tracking connection
	stop context.CancelFunc
}

// Track makes later Reads ask Redis for the keys that changed and read only those (with a
// full read every minute), on a standalone server that allows it; elsewhere Reads stay
// full and TrackingStatus says why. It implies Remember.
func (r *Redis) Track() {
	if r.memo == nil {
		r.Remember()
	}
	t := &tracker{prefix: r.prefix + "meta:", dirty: map[string]struct{}{}, full: true}
	r.track = t
	c, ok := r.client.(*redis.Client)
	if !ok || r.mode != ModeStandalone {
		t.off = "full polls: change tracking needs a standalone server (" + string(r.mode) + ")"
		return
	}
	opts := *c.Options()
	opts.PoolSize, opts.MinIdleConns, opts.MaxIdleConns = 1, 0, 1
	// RESP2: Redis sends a RESP3 redirect target bare "invalidate" pushes instead of
	// messages on the channel it subscribed to.
	opts.Protocol = 2
	opts.OnConnect = func(ctx context.Context, cn *redis.Conn) error {
		id, err := cn.ClientID(ctx).Result()
		t.mu.Lock()
		t.subID, t.subGen, t.full = id, t.subGen+1, true
		t.mu.Unlock()
		return err
	}
	t.opts = &opts
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
	return "change tracking"
}

// start subscribes and turns tracking on, or says why it cannot.
func (t *tracker) start(ctx context.Context, r *Redis) error {
	if t.sub == nil {
		t.sub = redis.NewClient(t.opts)
		t.ps = t.sub.Subscribe(ctx, invalidations)
		if _, err := t.ps.Receive(ctx); err != nil { // the subscription confirmation
			return fmt.Errorf("subscribe %s: %w", invalidations, err)
		}
		bg, cancel := context.WithCancel(context.Background())
		t.stop = cancel
		go t.listen(bg)
	}
	t.mu.Lock()
	id, gen := t.subID, t.subGen
	t.mu.Unlock()
	if t.conn != nil {
		t.conn.Close() // redirected to a subscriber that is gone: start over
	}
	// An ephemeral connection is discarded on Close, tracking and all, rather than
	// going back to the pool still tracking.
	t.conn = r.client.(*redis.Client).EphemeralConn()
	err := t.conn.Do(ctx, "CLIENT", "TRACKING", "ON", "REDIRECT", id, "BCAST", "PREFIX", t.prefix).Err()
	if err != nil {
		t.conn.Close()
		t.conn = nil
		return fmt.Errorf("CLIENT TRACKING: %w", err)
	}
	t.mu.Lock()
	t.setGen, t.full = gen, true
	t.mu.Unlock()
	return nil
}

// listen collects invalidated keys until stopped.
func (t *tracker) listen(ctx context.Context) {
	for {
		msg, err := t.ps.Receive(ctx)
		if ctx.Err() != nil {
			return
		}
		t.mu.Lock()
		switch m := msg.(type) {
		case *redis.Message:
			if m.Channel != invalidations || (m.Payload == "" && len(m.PayloadSlice) == 0) {
				t.full = true
			}
			for _, k := range m.PayloadSlice {
				t.dirty[k] = struct{}{}
			}
		default:
			if err != nil { // a flush (null payload) or a lost connection
				t.full = true
			}
		}
		t.mu.Unlock()
		if err != nil {
			select {
			case <-ctx.Done():
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
}

// changed returns the keys invalidated since the last call, or full when the poll must
// read everything (first poll, safety net, reconnect, tracking refused).
func (t *tracker) changed(ctx context.Context, r *Redis, now time.Time) (keys []string, full bool) {
	t.mu.Lock()
	redirected := t.setGen == t.subGen && t.setGen != 0
	t.mu.Unlock()
	if t.opts == nil {
		return nil, true // off for good: not standalone, or refused
	}
	if !redirected || t.conn == nil {
		if err := t.start(ctx, r); err != nil {
			// Not retried: an ACL that refuses it would log a denial every poll.
			t.close()
			t.mu.Lock()
			t.off, t.opts = "full polls: Redis refused change tracking ("+model.Sanitize(err.Error())+")", nil
			t.mu.Unlock()
			return nil, true
		}
	} else if err := t.conn.Ping(ctx).Err(); err != nil { // the tracking connection is alive
		t.conn.Close()
		t.conn = nil
		return nil, true
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.off = ""
	if t.full || now.Sub(t.lastAll) >= fullEvery {
		t.full = false
		clear(t.dirty)
		t.lastAll = now
		return nil, true
	}
	for k := range t.dirty {
		keys = append(keys, k)
	}
	clear(t.dirty)
	return keys, false
}

// failed makes the next poll a full one.
func (t *tracker) failed() {
	t.mu.Lock()
	t.full = true
	t.mu.Unlock()
}

func (t *tracker) close() {
	if t.stop != nil {
		t.stop()
	}
	if t.ps != nil {
		t.ps.Close()
	}
	if t.sub != nil {
		t.sub.Close()
	}
	if t.conn != nil {
		t.conn.Close()
	}
	t.stop, t.ps, t.sub, t.conn = nil, nil, nil, nil
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
	if len(out) == len(prev) && len(byKey) == 0 {
		r.memo.accounts = out // same keys at the same places: the index stands
	} else {
		r.memo.keep(out)
	}
	return out, nil
}
