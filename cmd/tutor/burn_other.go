//go:build !unix

package main

import "syscall"

// burnerAttr: elsewhere load processes start like any other child.
func burnerAttr() *syscall.SysProcAttr { return nil }
