//go:build unix && !linux

package checker

import (
	"os"
	"syscall"
)

// parentDeathSignal reports whether children die with the tutor here.
const parentDeathSignal = false

// childSetup puts a child in its own process group. There is no
// parent-death signal on this platform: a child outlives a tutor killed
// with kill -9 until its own time limit.
func childSetup() (*syscall.SysProcAttr, []*os.File, func()) {
	return &syscall.SysProcAttr{Setpgid: true}, nil, func() {}
}
