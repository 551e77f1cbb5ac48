//go:build unix

package main

import "syscall"

// burnerAttr puts a load process in a session of its own. Linux schedules
// sessions as groups (autogroup, on by default): burners that shared the
// tutor's session would share one slice of CPU with it, while every check
// runs in a session of its own, so two burners took almost nothing from a
// check (a spinning check kept 95–105% of its idle speed; with a session
// each, 55–65%). In their own sessions they compete like two other
// programs on the machine, which is what --load promises.
func burnerAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setsid: true} }
