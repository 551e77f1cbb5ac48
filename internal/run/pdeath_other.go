//go:build unix && !linux

package run

import "syscall"

func parentDeath(a *syscall.SysProcAttr) {}
