package source

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/quotatop/quotatop/model"
	"github.com/quotatop/quotatop/source/redistest"
)

// A broken value says what kind of error and where, never which bytes: the apikey
// meta form keeps Credentials.api_key, and parser messages quote the input.
func TestBrokenValueReasonHoldsNoInputBytes(t *testing.T) {
	cases := map[string]string{
		"cut inside the key":  `{"ID":7,"Credentials":{"api_key":"` + Canary,
		"garbage after":       `{"ID":7,"Credentials":{"api_key":"` + Canary + `"}} x` + Canary,
		"bad token mid-value": `{"ID":7,"Credentials":{"api_key":"` + Canary + `"},"Extra":{` + Canary + `}}`,
		"escape inside":       `{"ID":7,"Name":"` + Canary + "\x1b[31m\"\x00}",
		"empty":               ``,
	}
	var d Decoder
	for name, raw := range cases {
		a := d.Decode("sched:meta:7", raw)
		if a.Invalid == "" {
			t.Errorf("%s: decoded without complaint", name)
			continue
		}
		if strings.Contains(a.Invalid, "sk-") || strings.Contains(a.Invalid, "MUST") || strings.ContainsAny(a.Invalid, "\x1b\x00{}\"") {
			t.Errorf("%s: reason carries input bytes: %q", name, a.Invalid)
		}
		checkInvalidReason(t, a.Invalid, raw)
		if name != "empty" && !strings.Contains(a.Invalid, "byte") {
			t.Errorf("%s: reason %q does not say where", name, a.Invalid)
		}
	}
}

// Non-finite numbers are read as the gateway reads them and never come out non-finite.
func TestNonFiniteNumbers(t *testing.T) {
	now := time.Date(2026, 11, 28, 4, 0, 0, 0, time.UTC)
	value := func(used string) string {
		return `{"ID":5,"Platform":"openai","Status":"active","Schedulable":true,"Extra":{` +
			`"codex_5h_used_percent":` + used + `,"codex_5h_reset_at":"2026-11-28T06:00:00Z",` +
			`"codex_usage_updated_at":"2026-11-28T03:59:00Z","auto_pause_5h_threshold":0.9}}`
	}
	cases := []struct {
		used   string
		paused bool
	}{
		{`1e309`, false},       // out of float64's range: the gateway's decoding fails, reads 0
		{`-1e309`, false},      // likewise
		{`"1e309"`, false},     // ParseFloat's range error: not a number to the gateway
		{`"NaN"`, false},       // NaN never reaches a threshold
		{`"Infinity"`, true},   // +Inf exceeds every threshold
		{`"+Inf"`, true},       // likewise
		{`"-Infinity"`, false}, // at or below zero: skipped
		{`95`, true},
	}
	var d Decoder
	for _, c := range cases {
		a := d.Decode("sched:meta:5", value(c.used))
		if a.Invalid != "" {
			t.Fatalf("%s: invalid: %s", c.used, a.Invalid)
		}
		used := a.Quota.Windows[0].UsedPercent
		if math.IsNaN(used) || math.IsInf(used, 0) {
			t.Errorf("%s: used percent %v is not finite", c.used, used)
		}
		if got := model.Judge(&a, model.Policy{StaleAfter: 2 * time.Hour}, now).State == model.StatePaused; got != c.paused {
			t.Errorf("%s: paused = %v, want %v", c.used, got, c.paused)
		}
		if s := model.FormatPercent(used); len(s) > 10 {
			t.Errorf("%s: shown as %q, too wide for a cell", c.used, s)
		}
	}
}

func TestScanPatternAndKeyFilter(t *testing.T) {
	for prefix, want := range map[string]string{
		"sched:":                     "sched:meta:*",
		"sched:{sub2api:scheduler}:": "sched:{sub2api:scheduler}:meta:*",
		"sched:acc:*[0-9":            `sched:acc:\*\[0\-9meta:*`,
		`a?b\c]^`:                    `a\?b\\c\]\^meta:*`,
	} {
		if got := ScanPattern(prefix); got != want {
			t.Errorf("ScanPattern(%q) = %q, want %q", prefix, got, want)
		}
	}
	for _, c := range []struct {
		key string
		ok  bool
	}{
		{"sched:meta:42", true},
		{"sched:meta:", false},
		{"sched:meta:42x", false},
		{"sched:meta:-1", false},
		{"sched:meta:4 2", false},
		{"sched:acc:42", false},
		{"sched:meta:99999999999999999999", false},
		{"other:sched:meta:1", false},
	} {
		if _, ok := MetaKeyID("sched:", c.key); ok != c.ok {
			t.Errorf("MetaKeyID(sched:, %q) = %v, want %v", c.key, ok, c.ok)
		}
	}
	for _, bad := range []string{"sched:acc:", "acc:", "sched:acc:*[0-9", "sched:meta:", "a\x1bb:"} {
		if err := CheckPrefix(bad); err == nil {
			t.Errorf("CheckPrefix(%q) accepted a prefix that names another family", bad)
		}
	}
	for _, good := range []string{"sched:", "sched:v2:", "sched:{sub2api:scheduler}:", "myacc:"} {
		if err := CheckPrefix(good); err != nil {
			t.Errorf("CheckPrefix(%q): %v", good, err)
		}
	}
}

// A crafted prefix never makes quotatop read the token family, proven by Redis's own
// per-key access: the token keys are never touched (OBJECT FREQ needs an LFU policy).
func TestCraftedPrefixNeverReadsTokenKeys(t *testing.T) {
	srv := redistest.Start(t, "--maxmemory-policy", "allkeys-lfu")
	c := srv.Client()
	ctx := context.Background()
	redistest.Seed(t, c, redistest.Fleet(20, "sched:", time.Now()))
	for i := 1; i <= 20; i++ {
		c.Set(ctx, "sched:acc:"+strconv.Itoa(i), `{"Credentials":{"access_token":"TOKEN-CANARY"}}`, 0)
	}
	// A key that matches the escaped pattern literally but is not <prefix>meta:<int>.
	c.Set(ctx, "sched:meta:7:extra", `{"ID":7}`, 0)
	before := tokenReads(t, srv)

	for _, prefix := range []string{"sched:acc:*[0-9", "sched:*", "sched:"} {
		r, err := OpenRedis(Conn{URL: srv.URL(), Timeout: 3 * time.Second}, prefix)
		if err != nil {
			if prefix == "sched:" {
				t.Fatal(err)
			}
			continue // refused: nothing read
		}
		accounts, err := r.Read(ctx)
		r.Close()
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range accounts {
			if !strings.HasPrefix(a.Key, "sched:meta:") || strings.Count(a.Key, ":") != 2 {
				t.Errorf("prefix %q read %s", prefix, a.Key)
			}
		}
		if prefix == "sched:" && len(accounts) != 20 {
			t.Errorf("read %d accounts, want 20", len(accounts))
		}
	}
	if after := tokenReads(t, srv); after != before {
		t.Fatalf("token keys were read: GET/MGET hits on sched:acc:* went from %d to %d", before, after)
	}
}

// tokenReads sums the access counters Redis keeps for the token keys.
func tokenReads(t *testing.T, srv *redistest.Server) int64 {
	t.Helper()
	c := srv.Client()
	var n int64
	for i := 1; i <= 20; i++ {
		f, err := c.ObjectFreq(context.Background(), "sched:acc:"+strconv.Itoa(i)).Result()
		if err != nil {
			t.Fatal(err)
		}
		n += f
	}
	return n
}

// A hash or a list at a meta key is an invalid account, not a silent gap; a key gone
// between SCAN and the read is counted.
func TestNonStringValuesAndVanishedKeys(t *testing.T) {
	for _, cluster := range []bool{false, true} {
		var url string
		var c interface {
			HSet(context.Context, string, ...any) *redis.IntCmd
			RPush(context.Context, string, ...any) *redis.IntCmd
		}
		if cluster {
			nodes := redistest.StartCluster(t, 3)
			cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{nodes[0].Addr}})
			defer cc.Close()
			redistest.Seed(t, cc, redistest.Fleet(5, "sched:", time.Now()))
			c, url = cc, "redis-cluster://"+nodes[0].Addr
		} else {
			srv := redistest.Start(t)
			sc := srv.Client()
			redistest.Seed(t, sc, redistest.Fleet(5, "sched:", time.Now()))
			c, url = sc, srv.URL()
		}
		ctx := context.Background()
		c.HSet(ctx, "sched:meta:6", "ID", "6")
		c.RPush(ctx, "sched:meta:7", "x")
		r := open(t, url, "sched:")
		accounts := read(t, r)
		got := map[int64]string{}
		for _, a := range accounts {
			got[a.ID] = a.Invalid
		}
		if len(accounts) != 7 || got[6] != "not a string value (a hash)" || got[7] != "not a string value (a list)" {
			t.Fatalf("cluster=%v: %d accounts, invalid reasons %q %q", cluster, len(accounts), got[6], got[7])
		}
		if _, err := r.fetch(ctx, []string{"sched:meta:1", "sched:meta:999"}); err != nil || r.Vanished() != 1 {
			t.Fatalf("cluster=%v: vanished %d, err %v", cluster, r.Vanished(), err)
		}
	}
}

// Keys that vanish in several batches leave no gap, zero account or duplicate: the fleet is
// every account still there, in the order of the keys.
func TestVanishedKeysAcrossBatches(t *testing.T) {
	srv := redistest.Start(t)
	n := 2*fetchBatch + 100
	redistest.Seed(t, srv.Client(), redistest.Fleet(n, "sched:", time.Now()))
	r := open(t, srv.URL(), "sched:")
	var keys []string
	for i := 1; i <= n; i++ {
		keys = append(keys, fmt.Sprintf("sched:meta:%d", i))
		if i == 10 || i == fetchBatch+5 || i == 2*fetchBatch+1 {
			keys = append(keys, fmt.Sprintf("sched:meta:%d", 1_000_000+i)) // gone
		}
	}
	accounts, err := r.fetch(context.Background(), keys)
	if err != nil || r.Vanished() != 3 || len(accounts) != n {
		t.Fatalf("%d accounts, %d vanished, err %v; want %d, 3", len(accounts), r.Vanished(), err, n)
	}
	for i, a := range accounts {
		if a.ID != int64(i+1) || a.Key != fmt.Sprintf("sched:meta:%d", i+1) {
			t.Fatalf("account %d is ID %d (%s)", i, a.ID, a.Key)
		}
	}
}
