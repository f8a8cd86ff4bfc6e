//go:build !unix

package notify

import "os/exec"

// killGroup: without process groups, the default (kill the process) has to do.
func killGroup(*exec.Cmd) {}
