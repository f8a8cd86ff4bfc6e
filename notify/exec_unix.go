//go:build unix

package notify

import (
	"os/exec"
	"syscall"
)

// killGroup puts the command in its own process group and kills the whole group on
// timeout, so a shell's children die with it.
func killGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
}
