//go:build unix

package checker

import (
	"os/exec"
	"syscall"
)

// setGroup puts the command in a new process group, which the test binary
// and anything the learner's code starts will share.
func setGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

// killGroup kills every process in the command's group.
func killGroup(cmd *exec.Cmd) {
	if cmd.Process == nil {
		return
	}
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
}
