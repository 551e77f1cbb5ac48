//go:build linux

package checker

import (
	"fmt"
	"os"
	"strconv"
	"syscall"
	"unsafe"
)

// parentDeathSignal reports whether children die with the tutor here.
const parentDeathSignal = true

// childSetup returns how to start a child on Linux, the files to pass it,
// and a function to call once the child has been waited for.
//
// The child gets a parent-death signal (SIGKILL when the tutor dies, even
// by kill -9) and a session of its own whose controlling terminal is a
// pseudo-terminal only the tutor holds the master of. Whatever the child
// starts stays in that session unless it leaves it on purpose (setsid).
// When the tutor ends, however it ends, the kernel closes the master and
// hangs the terminal up, which sends SIGHUP to every process of the
// session: the go command's compilers and the learner's own child
// processes end with it (unless they ignore SIGHUP: a tutor started under
// nohup passes that on to every descendant, so there the learner's own
// children survive it, as do children that leave the session). The
// session's id is the child's pid, and so is its process group's, which
// killGroup kills when a run ends.
//
// The parent-death signal fires when the OS thread that started the child
// ends, not the process: children are therefore started and waited for
// from a goroutine locked to its thread (see startLocked).
//
// Where no pseudo-terminal can be opened, the child gets its own process
// group and the parent-death signal only.
func childSetup() (*syscall.SysProcAttr, []*os.File, func()) {
	master, slave, err := openPTY()
	if err != nil {
		return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}, nil, func() {}
	}
	attr := &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 3, Pdeathsig: syscall.SIGKILL}
	return attr, []*os.File{slave}, func() {
		slave.Close()
		master.Close()
	}
}

// openPTY opens a new pseudo-terminal; neither end becomes the tutor's
// controlling terminal.
func openPTY() (master, slave *os.File, err error) {
	master, err = os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		return nil, nil, err
	}
	var unlock int32
	var n uint32
	if err := ioctl(master, syscall.TIOCSPTLCK, unsafe.Pointer(&unlock)); err != nil {
		master.Close()
		return nil, nil, fmt.Errorf("unlock pty: %w", err)
	}
	if err := ioctl(master, syscall.TIOCGPTN, unsafe.Pointer(&n)); err != nil {
		master.Close()
		return nil, nil, fmt.Errorf("name pty: %w", err)
	}
	slave, err = os.OpenFile("/dev/pts/"+strconv.Itoa(int(n)), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		master.Close()
		return nil, nil, err
	}
	return master, slave, nil
}

func ioctl(f *os.File, req uintptr, arg unsafe.Pointer) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var errno syscall.Errno
	if err := rc.Control(func(fd uintptr) {
		_, _, errno = syscall.Syscall(syscall.SYS_IOCTL, fd, req, uintptr(arg))
	}); err != nil {
		return err
	}
	if errno != 0 {
		return errno
	}
	return nil
}
