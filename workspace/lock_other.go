//go:build !unix && !windows

package workspace

import "os"

// Other systems have no file lock here: one process's own mutex still
// serialises its updates.
func lockFD(f *os.File) error   { return nil }
func unlockFD(f *os.File) error { return nil }

func processAlive(pid int) bool { return pid > 0 }
