//go:build unix && !linux

package checker

import "syscall"

// sysProcAttr puts a child in its own process group. There is no
// parent-death signal on this platform: a child outlives a tutor killed
// with kill -9 until its own time limit.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

// parentDeathSignal reports whether children die with the tutor here.
const parentDeathSignal = false
