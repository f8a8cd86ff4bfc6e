package source

import (
	"context"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/quotatop/quotatop/model"
	"github.com/quotatop/quotatop/source/redistest"
	"github.com/redis/go-redis/v9"
)

// A remembering reader returns what a fresh reader decodes, reuses the accounts whose
// values did not change, decodes the ones that did, forgets deleted keys, and reads no
// last-used keys on a poll (but does for one account after an action).
func TestRememberDecodesOnlyChangedValues(t *testing.T) {
	srv := redistest.Start(t)
	admin := srv.Client()
	now := time.Now()
	redistest.Seed(t, admin, redistest.DirtyFleet(400, "sched:", now))
	fresh := open(t, srv.URL(), "sched:")
	memo := open(t, srv.URL(), "sched:")
	memo.Remember()
	memo.SkipLastUsed()

	same := func(got, want []model.Account) {
		t.Helper()
		if len(got) != len(want) {
			t.Fatalf("%d accounts, want %d", len(got), len(want))
		}
		for i := range got {
			g, w := got[i], want[i]
			if g.Rev == 0 {
				t.Fatalf("%s has no Rev", g.Key)
			}
			g.Rev, g.LastUsedAt, w.LastUsedAt = 0, time.Time{}, time.Time{}
			if !reflect.DeepEqual(g, w) {
				t.Fatalf("%s differs:\n got %+v\nwant %+v", g.Key, g, w)
			}
		}
	}
	first := read(t, memo)
	same(first, read(t, fresh))
	second := read(t, memo)
	same(second, read(t, fresh))
	for i := range second {
		if second[i].Quota != nil && second[i].Quota != first[i].Quota {
			t.Fatalf("%s was decoded again though its value did not change", second[i].Key)
		}
	}

	var rev5 uint64
	for _, a := range first {
		if a.Key == "sched:meta:5" {
			rev5 = a.Rev
		}
	}
	ctx := context.Background()
	changed := strings.Replace(redistest.MetaValue(5, now, 99, 1, time.Minute), `"codex-pro-00005"`, `"renamed"`, 1)
	admin.Set(ctx, "sched:meta:5", changed, 0)
	admin.Del(ctx, "sched:meta:6")
	before := commandCalls(t, admin, "mget")
	third := read(t, memo)
	if mgets := commandCalls(t, admin, "mget") - before; mgets != 4 {
		t.Fatalf("a 399-account poll sent %d MGETs, want 4 (meta only)", mgets)
	}
	same(third, read(t, fresh))
	for _, a := range third {
		switch a.Key {
		case "sched:meta:5":
			if a.Name != "renamed" || a.Rev == rev5 {
				t.Fatalf("changed value not decoded again: %+v", a)
			}
		case "sched:meta:6":
			t.Fatal("a deleted key is still read")
		}
	}
	// After an action the account is read with its last-used key.
	one, err := memo.ReadAccount(ctx, 7)
	if err != nil || one.LastUsedAt.UnixMilli() != now.Add(-7*time.Second).UnixMilli() {
		t.Fatalf("ReadAccount: %v %v", one.LastUsedAt, err)
	}
}

// commandCalls is Redis's own count of calls to one command.
func commandCalls(t *testing.T, c *redis.Client, name string) int {
	t.Helper()
	info, err := c.Info(context.Background(), "commandstats").Result()
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(info, "cmdstat_"+name+":calls=")
	if !ok {
		return 0
	}
	n, _ := strconv.Atoi(rest[:strings.IndexByte(rest, ',')])
	return n
}

// A remembering reader builds each result in the one before last, never in the last one:
// a caller may keep the latest result while the next Read runs (the live monitor draws
// it meanwhile). Both full reads and tracked reads of a few changed keys recycle.
func TestReadRecyclesTheResultBeforeLast(t *testing.T) {
	srv := redistest.Start(t)
	admin := srv.Client()
	ctx := context.Background()
	now := time.Now()
	redistest.Seed(t, admin, redistest.DirtyFleet(300, "sched:", now))
	fresh := open(t, srv.URL(), "sched:")
	fresh.SkipLastUsed()
	check := func(name string, r *Redis, next func(step int) []model.Account) {
		t.Helper()
		var results [][]model.Account
		var kept [][]model.Account // deep enough: the accounts' values as returned
		for step := range 4 {
			got := next(step)
			if n := len(results); n > 0 && !reflect.DeepEqual(results[n-1], kept[n-1]) {
				t.Fatalf("%s, read %d: the previous result changed under its caller", name, step)
			}
			want := read(t, fresh)
			for i := range got {
				g := got[i]
				g.Rev = 0
				if !reflect.DeepEqual(g, want[i]) {
					t.Fatalf("%s, read %d: %s differs from a plain read", name, step, g.Key)
				}
			}
			results, kept = append(results, got), append(kept, slices.Clone(got))
		}
		if &results[3][0] != &results[1][0] {
			t.Fatalf("%s: the fourth result was not built in the second's memory", name)
		}
	}

	full := open(t, srv.URL(), "sched:")
	full.Remember()
	full.SkipLastUsed()
	check("full reads", full, func(int) []model.Account { return read(t, full) })

	tracked := open(t, srv.URL(), "sched:")
	tracked.Track()
	tracked.SkipLastUsed()
	check("tracked reads", tracked, func(step int) []model.Account {
		if step == 0 {
			return read(t, tracked)
		}
		name := "renamed-" + strconv.Itoa(step)
		admin.Set(ctx, "sched:meta:5", strings.Replace(redistest.MetaValue(5, now, 99, 1, time.Minute), "codex-pro-00005", name, 1), 0)
		deadline := time.Now().Add(10 * time.Second)
		for {
			got := read(t, tracked)
			for _, a := range got {
				if a.Key == "sched:meta:5" && a.Name == name {
					return got
				}
			}
			if time.Now().After(deadline) {
				t.Fatal("the change never arrived")
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}
