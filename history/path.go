package history

import (
	"path/filepath"
	"strings"
)

// DefaultPath is the history file of one gateway: under $XDG_STATE_HOME/quotatop (else
// ~/.local/state/quotatop), named from the storage address and key prefix so that two
// gateways never share a file. The address should already be masked (no password).
func DefaultPath(getenv func(string) string, address, prefix string) string {
	dir := getenv("XDG_STATE_HOME")
	if dir == "" {
		dir = filepath.Join(getenv("HOME"), ".local", "state")
	}
	return filepath.Join(dir, "quotatop", FileName(address, prefix))
}

// FileName turns an address and prefix into a safe file name: letters, digits, '.', '-'
// and '_' are kept, every other run of bytes becomes one '_'.
func FileName(address, prefix string) string {
	for _, scheme := range []string{"redis://", "rediss://", "unix://", "redis-sentinel://", "rediss-sentinel://", "redis-cluster://", "rediss-cluster://"} {
		if rest, ok := strings.CutPrefix(address, scheme); ok {
			address = strings.TrimSuffix(scheme, "://") + "_" + rest
			break
		}
	}
	// A masked password ("user:xxxxx@host") says nothing about which gateway it is.
	if at := strings.LastIndex(address, "@"); at >= 0 {
		address = address[:strings.Index(address, "_")+1] + address[at+1:]
	}
	var b strings.Builder
	under := false
	for _, r := range address + "_" + prefix {
		ok := r < 128 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-')
		switch {
		case ok:
			b.WriteRune(r)
			under = false
		case !under:
			b.WriteByte('_')
			under = true
		}
	}
	name := strings.Trim(b.String(), "_.")
	if len(name) > 120 {
		name = name[:120]
	}
	if name == "" {
		name = "default"
	}
	return name + ".db"
}
