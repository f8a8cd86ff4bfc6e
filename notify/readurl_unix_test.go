//go:build unix

package notify

import (
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// A FIFO without a writer and a device are refused at once: os.ReadFile blocked on the
// FIFO for ever and read /dev/zero until memory ran out.
func TestReadURLRefusesFIFOsAndDevices(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "hook.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("cannot make a FIFO here: %v", err)
	}
	for _, path := range []string{fifo, "/dev/zero"} {
		err := readURLOrHang(t, path)
		if want := "--notify-webhook-file " + path + " is not a regular file (put the URL in a plain file)"; err == nil || err.Error() != want {
			t.Errorf("%s: error %v\nwant %s", path, err, want)
		}
		if err != nil && strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: the error is not one sentence: %q", path, err)
		}
	}
}
