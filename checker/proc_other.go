//go:build !unix

package checker

import (
	"os"
	"syscall"
)

// ProcessGroups says this system has process groups and Unix signals, which
// the checks of some lessons need (a [Job] with Unix set).
const ProcessGroups = false

// childSetup has nothing to add where process groups are not available.
func childSetup() (*syscall.SysProcAttr, []*os.File, func()) { return nil, nil, func() {} }

// parentDeathSignal reports whether children die with the tutor here.
const parentDeathSignal = false

// killGroup kills the process; its children may survive on this platform.
func killGroup(pid int) {
	if p, err := os.FindProcess(pid); err == nil {
		_ = p.Kill()
	}
}

// quit kills the process: there is no SIGQUIT to ask for a dump.
func quit(p *os.Process) { _ = p.Kill() }

// tryLock cannot tell a live owner here; run directories are removed by age.
func tryLock(f *os.File) (bool, error) { return false, nil }
