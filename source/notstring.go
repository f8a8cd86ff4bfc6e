package source

import (
	"context"
	"strings"

	"github.com/redis/go-redis/v9"
)

// notString stands for a meta key that holds a hash, list or other non-string value: the
// gateway never writes one, so it is shown as invalid rather than silently skipped.
type notString struct{ kind string }

// isWrongType reports a WRONGTYPE reply, which a Cluster GET gives for such a key.
func isWrongType(err error) bool {
	return err != nil && strings.HasPrefix(err.Error(), "WRONGTYPE")
}

// classifyMissing asks Redis what the keys without a string value hold: "none" means
// the key vanished between SCAN and the read (counted), anything else is not a string.
// Only the rare missing keys cost a TYPE each.
func (r *Redis) classifyMissing(ctx context.Context, b *batch) error {
	var missing []int
	for i, v := range b.metas {
		if v == nil {
			missing = append(missing, i)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	pipe := r.client.Pipeline()
	cmds := make([]*redis.StatusCmd, len(missing))
	for j, i := range missing {
		cmds[j] = pipe.Type(ctx, b.keys[i])
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return err
	}
	for j, i := range missing {
		switch kind := cmds[j].Val(); kind {
		case "none", "":
			b.vanished++
		default:
			b.metas[i] = notString{kind: kind}
		}
	}
	return nil
}
