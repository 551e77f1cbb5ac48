package workspace

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// Serving is what a running `tutor serve` tells other tutors about itself,
// in .tutor/serve.lock.
type Serving struct {
	PID     int       `json:"pid"`
	URL     string    `json:"url"`
	Started time.Time `json:"started"`
}

// BusyError is returned by [Workspace.ClaimServe] when another process
// serves the workspace.
type BusyError struct {
	Path  string
	Other Serving // zero if it has not said where yet (it is starting)
}

func (e *BusyError) Error() string {
	if e.Other.URL == "" {
		return "another tutor is starting on this workspace (" + e.Path + " is locked); wait a moment and open the address it prints"
	}
	return fmt.Sprintf("another tutor is already serving this workspace at %s (pid %d); open that page, or stop it with Ctrl-C in its terminal first", e.Other.URL, e.Other.PID)
}

// Claim is a held claim on serving a workspace: while it is held, every
// other ClaimServe fails with a [BusyError]. The operating system drops it
// when the process ends, so a killed tutor leaves nothing stale: the next
// claim takes over.
type Claim struct {
	lk *fileLock
}

func (w *Workspace) serveLockPath() string { return filepath.Join(w.Root, StateDir, "serve.lock") }

// ClaimServe claims the workspace for this process's live checking.
func (w *Workspace) ClaimServe() (*Claim, error) {
	path := w.serveLockPath()
	lk, err := tryLock(path)
	if errors.Is(err, errLocked) {
		busy := &BusyError{Path: path}
		if s, ok := readServing(path); ok && processAlive(s.PID) {
			busy.Other = s
		}
		return nil, busy
	}
	if err != nil {
		return nil, fmt.Errorf("claim the workspace: %w", err)
	}
	return &Claim{lk: lk}, nil
}

// Announce records this process and the URL it serves, for the message a
// second tutor prints.
func (c *Claim) Announce(url string) error {
	b, err := json.Marshal(Serving{PID: os.Getpid(), URL: url, Started: time.Now().UTC()})
	if err != nil {
		return err
	}
	f := c.lk.f
	if err := f.Truncate(0); err != nil {
		return fmt.Errorf("announce the server: %w", err)
	}
	if _, err := f.WriteAt(append(b, '\n'), 0); err != nil {
		return fmt.Errorf("announce the server: %w", err)
	}
	return nil
}

// Release empties the lock file and lets go of the claim.
func (c *Claim) Release() error {
	c.lk.f.Truncate(0)
	return c.lk.unlock()
}

// readServing reads what the holder of the serve lock announced.
func readServing(path string) (Serving, bool) {
	var s Serving
	f, err := os.Open(path)
	if err != nil {
		return s, false
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, 4096))
	if err != nil || json.Unmarshal(b, &s) != nil || s.URL == "" {
		return Serving{}, false
	}
	return s, true
}
