package source

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/quotatop/quotatop/model"
)

// CheckPrefix refuses a key prefix that names another key family instead of the part
// before "meta:". The token family (<prefix>acc:<id>) must never be reachable, and a
// prefix that already holds the token family's segment or "meta:" is a slip that reads nothing useful.
func CheckPrefix(prefix string) error {
	if model.Sanitize(prefix) != prefix {
		return errors.New("--prefix holds control or invalid characters")
	}
	for _, segment := range strings.Split(prefix, ":") {
		if segment == "acc" || segment == "meta" {
			return fmt.Errorf("--prefix %q names the %s: key family; give the part before meta: (upstream: %s)", prefix, segment, DefaultPrefix)
		}
	}
	return nil
}

// ScanPattern is the SCAN MATCH pattern for the meta keys under prefix: the prefix is
// matched literally (glob metacharacters escaped), so no prefix widens the match.
func ScanPattern(prefix string) string {
	var b strings.Builder
	b.Grow(len(prefix) + 8)
	for i := 0; i < len(prefix); i++ {
		switch c := prefix[i]; c {
		case '*', '?', '[', ']', '\\', '^', '-':
			b.WriteByte('\\')
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteString("meta:*")
	return b.String()
}

// MetaKeyID returns the account ID of a key that is literally <prefix>meta:<digits>; any
// other key that a pattern let through is not an account snapshot and is not read.
func MetaKeyID(prefix, key string) (int64, bool) {
	rest, ok := strings.CutPrefix(key, prefix+"meta:")
	if !ok || rest == "" {
		return 0, false
	}
	for i := 0; i < len(rest); i++ {
		if rest[i] < '0' || rest[i] > '9' {
			return 0, false
		}
	}
	id, err := strconv.ParseInt(rest, 10, 64)
	return id, err == nil
}
