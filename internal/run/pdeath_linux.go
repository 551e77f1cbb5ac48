package run

import "syscall"

// parentDeath stops the server if the tutor dies without stopping it.
func parentDeath(a *syscall.SysProcAttr) { a.Pdeathsig = syscall.SIGKILL }
