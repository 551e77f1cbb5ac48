//go:build linux

package checker

import "syscall"

// sysProcAttr puts a child in its own process group (the test binary and
// anything the learner's code starts share it, and it is killed as one) and
// asks the kernel to kill the child if the tutor dies, even by kill -9.
//
// The parent-death signal fires when the OS thread that started the child
// ends, not the process: children are therefore started and waited for from
// a goroutine locked to its thread (see startLocked).
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// parentDeathSignal reports whether children die with the tutor here.
const parentDeathSignal = true
