// Command floor is the least any reader of a gateway's snapshots must do, for qtbench to
// measure quotatop against: SCAN the meta keys and MGET their values, nothing more.
//
//	floor ADDR PREFIX
package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/redis/go-redis/v9"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: floor ADDR PREFIX")
		os.Exit(1)
	}
	if err := floor(os.Args[1], os.Args[2]); err != nil {
		fmt.Fprintln(os.Stderr, "floor:", err)
		os.Exit(2)
	}
}

// floor is the least any reader must do, in its own process: SCAN the meta keys and MGET
// their values in pipelined chunks of 128, as sub2api itself reads them.
func floor(addr, prefix string) error {
	ctx := context.Background()
	c := redis.NewClient(&redis.Options{Addr: addr, DisableIdentity: true, ReadTimeout: time.Minute})
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
