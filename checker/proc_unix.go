//go:build unix

package checker

import (
	"errors"
	"os"
	"syscall"
)

// ProcessGroups says this system has process groups and Unix signals, which
// the checks of some lessons need (a [Job] with Unix set).
const ProcessGroups = true

// killGroup kills every process in the process group led by pid.
func killGroup(pid int) {
	if pid > 0 {
		_ = syscall.Kill(-pid, syscall.SIGKILL)
	}
}

// quit asks a Go test process for its goroutine dump: the runtime prints
// every goroutine's stack on SIGQUIT and exits.
func quit(p *os.Process) {
	_ = p.Signal(syscall.SIGQUIT)
}

// tryLock takes an exclusive lock on f without waiting. The kernel drops
// the lock when the process holding it ends, however it ends, so a lock
// that can be taken belongs to nobody alive.
func tryLock(f *os.File) (bool, error) {
	err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return false, nil
	}
	return err == nil, err
}
