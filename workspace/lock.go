package workspace

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// errLocked is returned by tryLock when another process holds the lock.
var errLocked = errors.New("locked by another process")

// fileLock is an exclusive lock on a file, held across processes (flock on
// Unix, LockFileEx on Windows). The operating system releases it when the
// process ends, however it ends, so a lock is never left stale by a killed
// tutor.
type fileLock struct {
	f *os.File
}

// openLockFile opens (creating if needed) the lock file at path.
func openLockFile(path string) (*os.File, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	return os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600) // the serve lock holds the URL with its token
}

// tryLock takes the lock on path without waiting; errLocked if another
// process (or another handle in this one) holds it.
func tryLock(path string) (*fileLock, error) {
	f, err := openLockFile(path)
	if err != nil {
		return nil, err
	}
	if err := lockFD(f); err != nil {
		f.Close()
		return nil, err
	}
	return &fileLock{f: f}, nil
}

// lockWait takes the lock on path, waiting up to wait for another holder to
// let go. Holders keep it for one read-modify-write, milliseconds.
func lockWait(path string, wait time.Duration) (*fileLock, error) {
	deadline := time.Now().Add(wait)
	delay := time.Millisecond
	for {
		l, err := tryLock(path)
		if !errors.Is(err, errLocked) {
			return l, err
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("%s: another tutor process held it for over %s", path, wait)
		}
		time.Sleep(delay)
		delay = min(2*delay, 50*time.Millisecond)
	}
}

// unlock releases the lock and closes the file.
func (l *fileLock) unlock() error {
	err := unlockFD(l.f)
	if cerr := l.f.Close(); err == nil {
		err = cerr
	}
	return err
}
