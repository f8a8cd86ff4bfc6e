// Package source turns the gateway's snapshot storage into model values: a Redis reader
// for sched:meta:* and, for actions, the gateway's admin API.
package source

import (
	"context"
	"errors"
	"fmt"
	"net"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/quotatop/quotatop/model"
	"github.com/redis/go-redis/v9"
)

// DefaultPrefix is upstream sub2api's key prefix.
const DefaultPrefix = "sched:"

// scanCount and fetchChunk follow sub2api's own reader: SCAN COUNT 1000, MGET of 128.
const (
	scanCount  = 1000
	fetchChunk = 128
)

// Redis reads account snapshots from the gateway's Redis. It only ever reads
// <prefix>meta:* and <prefix>acc:last_used:*; the full account keys hold tokens.
type Redis struct {
	client redis.UniversalClient
	mode   Mode
	prefix string
	url    string

	memo         *memo     // nil unless Remember was called
	track        *tracking // nil unless Track was called
	skipLastUsed bool
	tls          bool         // a rediss:// URL
	vanished     atomic.Int64 // keys the last full read found gone after SCAN listed them
}

// Vanished is how many keys the last full read found gone after SCAN listed them:
// accounts deleted during the poll, or keys evicted.
func (r *Redis) Vanished() int { return int(r.vanished.Load()) }

// OpenRedis prepares a reader; it does not dial until the first Read.
func OpenRedis(c Conn, prefix string) (*Redis, error) {
	client, mode, err := connect(c)
	if err != nil {
		return nil, err
	}
	if prefix == "" {
		prefix = DefaultPrefix
	}
	if err := CheckPrefix(prefix); err != nil {
		client.Close()
		return nil, err
	}
	return &Redis{client: client, mode: mode, prefix: prefix, url: Redacted(c.URL), tls: strings.HasPrefix(c.URL, "rediss")}, nil
}

// explain adds what a bare timeout means on a TLS URL: a server that does not speak TLS
// never answers the handshake, and "context deadline exceeded" alone said nothing.
func (r *Redis) explain(err error) error {
	var netErr net.Error
	if err != nil && r.tls && (errors.Is(err, context.DeadlineExceeded) || errors.As(err, &netErr) && netErr.Timeout()) {
		return fmt.Errorf("%w (the URL is rediss://: a server without TLS never answers the handshake)", err)
	}
	return err
}

// NewRedis wraps an existing client (the demo's embedded Redis, tests).
func NewRedis(client redis.UniversalClient, prefix, display string) *Redis {
	mode := ModeStandalone
	if _, ok := client.(*redis.ClusterClient); ok {
		mode = ModeCluster
	}
	return &Redis{client: client, mode: mode, prefix: prefix, url: display}
}

// Mode says how the storage is reached.
func (r *Redis) Mode() Mode { return r.mode }

// Prefix is the key prefix read.
func (r *Redis) Prefix() string { return r.prefix }

// Address is the storage address with any password masked.
func (r *Redis) Address() string { return r.url }

// Close releases the connections.
func (r *Redis) Close() error {
	if r.track != nil {
		r.track.close()
	}
	return r.client.Close()
}

// Read returns every account in the storage, in key order. A value that cannot be decoded
// is an account in state invalid; an error means the storage itself failed. After
// Remember, Reads must not overlap (the live monitor polls one at a time).
func (r *Redis) Read(ctx context.Context) ([]model.Account, error) {
	if r.track != nil {
		if keys, full := r.track.changed(ctx, time.Now()); !full {
			accounts, err := r.readChanged(ctx, keys)
			if err != nil {
				r.track.failed()
			}
			return accounts, inertErr(err)
		}
	}
	started := time.Now()
	keys, err := r.scan(ctx)
	if err == nil {
		var accounts []model.Account
		if accounts, err = r.fetch(ctx, keys); err == nil {
			if r.track != nil {
				r.track.tookAll(time.Since(started))
			}
			return accounts, nil
		}
	}
	if r.track != nil {
		r.track.failed() // the changes seen so far are lost with this read
	}
	return nil, inertErr(r.explain(err))
}

// ReadAccount reads one account's meta and last-used keys, after an action.
func (r *Redis) ReadAccount(ctx context.Context, id int64) (model.Account, error) {
	key := r.prefix + "meta:" + strconv.FormatInt(id, 10)
	b := &batch{keys: []string{key}, lastUsed: true}
	if err := r.fetchBatch(ctx, b); err != nil {
		return model.Account{}, err
	}
	var d Decoder
	accounts := d.decodeBatch(b.keys, b.metas, b.lastAt)
	if len(accounts) == 0 {
		return model.Account{}, fmt.Errorf("%s is gone from the storage", key)
	}
	return accounts[0], nil
}

func (r *Redis) pattern() string { return ScanPattern(r.prefix) }

func (r *Redis) scan(ctx context.Context) ([]string, error) {
	var keys []string
	var err error
	if cc, ok := r.client.(*redis.ClusterClient); ok {
		// SCAN on a cluster node sees only that node's keys: ask every master.
		var mu sync.Mutex
		err = cc.ForEachMaster(ctx, func(ctx context.Context, node *redis.Client) error {
			nodeKeys, err := scanNode(ctx, node, r.pattern())
			mu.Lock()
			keys = append(keys, nodeKeys...)
			mu.Unlock()
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("scan %s on every cluster master: %w", r.pattern(), err)
		}
	} else {
		if keys, err = scanNode(ctx, r.client, r.pattern()); err != nil {
			return nil, fmt.Errorf("scan %s: %w", r.pattern(), err)
		}
	}
	// Only literal <prefix>meta:<id> keys are read, whatever the pattern matched.
	keys = slices.DeleteFunc(keys, func(k string) bool { _, ok := MetaKeyID(r.prefix, k); return !ok })
	// SCAN may return a key twice while the keyspace is rehashing.
	slices.Sort(keys)
	return slices.Compact(keys), nil
}

func scanNode(ctx context.Context, c redis.Cmdable, pattern string) ([]string, error) {
	var keys []string
	var cursor uint64
	for {
		batch, next, err := c.Scan(ctx, cursor, pattern, scanCount).Result()
		if err != nil {
			return keys, err
		}
		keys = append(keys, batch...)
		if cursor = next; cursor == 0 {
			return keys, nil
		}
	}
}

// fetchBatch is how many keys one pipelined round trip asks for. Decoding a batch
// overlaps with fetching the next one, so a poll costs little more than the fetch itself.
const fetchBatch = 1024

// batch is one round trip's keys and, once fetched, their values.
type batch struct {
	keys          []string
	lastUsed      bool // also read the last-used keys
	metas, lastAt []any
	out           []model.Account
	vanished      int // keys SCAN listed that were gone when read
}

// fetch reads the values of keys (and their last-used times) in pipelined MGET chunks,
// decoding each batch on the other cores while the next one is on the wire.
func (r *Redis) fetch(ctx context.Context, keys []string) ([]model.Account, error) {
	// Each batch decodes into its own stretch of the fleet, so the fleet is not copied
	// together afterwards (10,000 accounts are 2.2 MB).
	all := r.memo.take(len(keys))
	var batches []*batch
	for at := 0; at < len(keys); at += fetchBatch {
		end := min(at+fetchBatch, len(keys))
		batches = append(batches, &batch{keys: keys[at:end], lastUsed: !r.skipLastUsed, out: all[at:at:end]})
	}
	work := make(chan *batch, len(batches))
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d := Decoder{memo: r.memo}
			for b := range work {
				b.out = d.appendBatch(b.out, b.keys, b.metas, b.lastAt)
				b.metas, b.lastAt = nil, nil // the raw values go now, not at the end of the poll
			}
		}()
	}
	var err error
	for _, b := range batches {
		if err = r.fetchBatch(ctx, b); err != nil {
			break
		}
		work <- b
	}
	close(work)
	wg.Wait()
	if err != nil {
		return nil, err
	}
	// Keys that vanished leave gaps: close them up (rare; copy handles the overlap).
	n, vanished := 0, 0
	for _, b := range batches {
		n += copy(all[n:], b.out)
		vanished += b.vanished
	}
	out := all[:n:n]
	r.vanished.Store(int64(vanished))
	r.memo.keep(out)
	return out, nil
}

func (r *Redis) fetchBatch(ctx context.Context, b *batch) error {
	b.metas, b.lastAt = make([]any, len(b.keys)), make([]any, len(b.keys))
	var lastUsedKeys []string
	if b.lastUsed {
		lastUsedKeys = make([]string, len(b.keys))
		for i, k := range b.keys {
			lastUsedKeys[i] = r.prefix + "acc:last_used:" + k[strings.LastIndexByte(k, ':')+1:]
		}
	}
	_, cluster := r.client.(*redis.ClusterClient)
	pipe := r.client.Pipeline()
	type chunk struct {
		at       int
		meta, lu redis.Cmder
	}
	var chunks []chunk
	for at := 0; at < len(b.keys); at += fetchChunk {
		end := min(at+fetchChunk, len(b.keys))
		if cluster {
			// Cluster keys hash to different slots, and multi-key commands need one slot.
			for i := at; i < end; i++ {
				c := chunk{at: i, meta: pipe.Get(ctx, b.keys[i])}
				if b.lastUsed {
					c.lu = pipe.Get(ctx, lastUsedKeys[i])
				}
				chunks = append(chunks, c)
			}
			continue
		}
		c := chunk{at: at, meta: pipe.MGet(ctx, b.keys[at:end]...)}
		if b.lastUsed {
			c.lu = pipe.MGet(ctx, lastUsedKeys[at:end]...)
		}
		chunks = append(chunks, c)
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		// Only the meta values matter: a last-used key the ACL does not allow must not
		// cost the operator the fleet.
		for _, c := range chunks {
			if err := c.meta.Err(); err != nil && !errors.Is(err, redis.Nil) && !isWrongType(err) {
				return fmt.Errorf("read %s values: %w", r.pattern(), err)
			}
		}
	}
	for _, c := range chunks {
		switch cmd := c.meta.(type) {
		case *redis.SliceCmd:
			copy(b.metas[c.at:], cmd.Val())
			if lu, ok := c.lu.(*redis.SliceCmd); ok && lu.Err() == nil {
				copy(b.lastAt[c.at:], lu.Val())
			}
		case *redis.StringCmd:
			if v, err := cmd.Result(); err == nil {
				b.metas[c.at] = v
			}
			if lu, ok := c.lu.(*redis.StringCmd); ok {
				if v, err := lu.Result(); err == nil {
					b.lastAt[c.at] = v
				}
			}
		}
	}
	return r.classifyMissing(ctx, b)
}

// decodeBatch decodes one batch; a key whose value vanished since SCAN is dropped.
func (d *Decoder) decodeBatch(keys []string, metas, lastUsed []any) []model.Account {
	return d.appendBatch(make([]model.Account, 0, len(keys)), keys, metas, lastUsed)
}

// appendBatch decodes into dst's spare capacity, which must hold len(keys) zeroed
// accounts: a full read decodes every batch straight into its place in the fleet.
func (d *Decoder) appendBatch(out []model.Account, keys []string, metas, lastUsed []any) []model.Account {
	for i, k := range keys {
		s, ok := metas[i].(string)
		if ns, wrong := metas[i].(notString); wrong {
			id, _ := strconv.ParseInt(k[strings.LastIndexByte(k, ':')+1:], 10, 64)
			out = append(out, model.Account{ID: id, Key: model.Sanitize(k), Invalid: "not a string value (a " + model.OutsideText(ns.kind) + ")"})
			continue
		}
		if !ok {
			continue
		}
		// decoded in place: an Account is a few hundred bytes, not worth copying twice
		out = out[:len(out)+1]
		a := &out[len(out)-1]
		var rev uint64
		found := false
		if d.memo != nil {
			rev = d.memo.rev(s)
			*a, found = d.memo.lookup(k, rev)
		}
		if !found {
			d.decode(a, k, s)
			a.Rev = rev
		}
		if t, ok := parseUnixMillis(lastUsed[i]); ok && t.After(a.LastUsedAt) {
			a.LastUsedAt = t
		}
	}
	return out
}

func parseUnixMillis(v any) (time.Time, bool) {
	s, ok := v.(string)
	if !ok {
		return time.Time{}, false
	}
	ms, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || ms <= 0 {
		return time.Time{}, false
	}
	return time.UnixMilli(ms), true
}
