package watch

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"time"
)

// hashDir returns base name → sha256 hex for every file in dir that counts.
// A file that vanishes between listing and reading is left out: the event
// for its removal is already on its way. gone reports that dir itself does
// not exist.
func hashDir(dir string, match func(string) bool) (files map[string]string, gone bool, err error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, true, nil
		}
		return nil, false, fmt.Errorf("list %s: %w", dir, err)
	}
	files = make(map[string]string)
	var firstErr error
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || isTemp(name) || !match(name) {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) && firstErr == nil {
				firstErr = fmt.Errorf("hash %s: %w", filepath.Join(dir, name), err)
			}
			continue
		}
		sum := sha256.Sum256(b)
		files[name] = hex.EncodeToString(sum[:])
	}
	return files, false, firstErr
}

// sameFiles reports whether two hash maps describe the same content. A nil
// map (directory gone) equals only another nil map.
func sameFiles(a, b map[string]string) bool {
	if (a == nil) != (b == nil) {
		return false
	}
	return maps.Equal(a, b)
}

// stamp is what polling compares between two looks at a file. Identity
// (os.SameFile) catches a rename-over that keeps size and mtime.
type stamp struct {
	size  int64
	mtime time.Time
	info  fs.FileInfo
}

// stampDir records size, mtime and identity of every file in dir that
// counts; nil means dir does not exist or cannot be listed.
func stampDir(dir string, match func(string) bool) map[string]stamp {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	out := make(map[string]stamp)
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || isTemp(name) || !match(name) {
			continue
		}
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			continue
		}
		out[name] = stamp{size: fi.Size(), mtime: fi.ModTime(), info: fi}
	}
	return out
}

// sameStamps reports whether two looks at a directory saw the same files
// with the same size, mtime and identity. Polling cannot see a rewrite that
// keeps all three, which needs the same size within one tick of the
// kernel's file-time clock (a few milliseconds).
func sameStamps(a, b map[string]stamp) bool {
	if (a == nil) != (b == nil) || len(a) != len(b) {
		return false
	}
	for name, sa := range a {
		sb, ok := b[name]
		if !ok || sa.size != sb.size || !sa.mtime.Equal(sb.mtime) || !os.SameFile(sa.info, sb.info) {
			return false
		}
	}
	return true
}

// lastWrite returns the newest mtime among the files in dir that count,
// ignoring mtimes after now (a skewed clock, or a file touched into the
// future); the zero time if there is none.
func lastWrite(dir string, match func(string) bool, now time.Time) time.Time {
	var last time.Time
	for _, s := range stampDir(dir, match) {
		if s.mtime.After(last) && !s.mtime.After(now) {
			last = s.mtime
		}
	}
	return last
}
