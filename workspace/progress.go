package workspace

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Status is a lesson's state in the learner's progress.
type Status string

// The statuses a lesson can have.
const (
	NotStarted Status = "not-started"
	InProgress Status = "in-progress"
	Passed     Status = "passed"
)

// Text is the status in words, as every display shows it: "not started",
// "in progress", "passed".
func (s Status) Text() string { return strings.ReplaceAll(string(s), "-", " ") }

// UnmarshalJSON reads a status, including "failing", the name progress
// files written before 2026-11-28 use for "in-progress".
func (s *Status) UnmarshalJSON(b []byte) error {
	var v string
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	if v == "failing" {
		v = string(InProgress)
	}
	*s = Status(v)
	return nil
}

// LessonProgress is what the tutor remembers about one lesson.
type LessonProgress struct {
	Status      Status     `json:"status"`
	Attempts    int        `json:"attempts"`               // checks run on changed content
	FirstPass   *time.Time `json:"first_pass,omitempty"`   // when it first passed
	HintsShown  int        `json:"hints_shown"`            // how many hints were revealed
	Assisted    bool       `json:"assisted"`               // the solution was shown before passing
	LastVerdict string     `json:"last_verdict,omitempty"` // of the newest check
	LastChecked *time.Time `json:"last_checked,omitempty"`
	Checked     string     `json:"checked,omitempty"` // fingerprint of the files last checked
}

// Progress is the learner's progress, stored in .tutor/progress.json.
type Progress struct {
	Version int                        `json:"version"`
	Lessons map[string]*LessonProgress `json:"lessons"`
}

// Lesson returns the progress of a lesson, creating an empty one.
func (p *Progress) Lesson(id string) *LessonProgress {
	lp := p.Lessons[id]
	if lp == nil {
		lp = &LessonProgress{Status: NotStarted}
		p.Lessons[id] = lp
	}
	return lp
}

// Store reads and writes the progress file.
//
// Every update is a read-modify-write under a cross-process lock
// (.tutor/progress.lock), written through a temporary file and a rename, so
// tutors running side by side (a `tutor hint` beside a running `tutor`,
// six hints at once) never lose each other's changes and a reader never
// sees half a file.
//
// A damaged file (random bytes, empty, cut short) is never fatal: it is
// renamed aside (never deleted), the function given to [Store.OnDamaged] is
// told where it went, and progress starts afresh.
type Store struct {
	path     string
	lockPath string
	mu       sync.Mutex // serialises this handle's users; the file lock serialises processes

	onDamaged func(Damaged)
	told      string // the last damage reported, so a damage that stays is told once
}

// Progress returns the workspace's progress store.
func (w *Workspace) Progress() *Store {
	dir := filepath.Join(w.Root, StateDir)
	return &Store{path: filepath.Join(dir, "progress.json"), lockPath: filepath.Join(dir, "progress.lock")}
}

// Path is the progress file's path.
func (s *Store) Path() string { return s.path }

// OnDamaged sets the function told about a damaged progress file (once per
// damage); it is called with no lock held. Set it before first use.
func (s *Store) OnDamaged(f func(Damaged)) { s.onDamaged = f }

// ErrNotSaved marks an error of [Store.Update] after which the update was
// applied in memory but not saved (a read-only workspace, a full disk).
var ErrNotSaved = errors.New("progress not saved")

// lockWaitMax is how long an update waits for another process's update.
const lockWaitMax = 10 * time.Second

// Damaged describes a progress file that could not be read as progress.
type Damaged struct {
	Path   string // the damaged file
	Reason error  // why it could not be read
	// Kept is where the damaged file was moved; "" if it could not be moved
	// (MoveErr says why), in which case it is left where it is.
	Kept    string
	MoveErr error
}

// Message is the one line that tells the learner what happened.
func (d Damaged) Message() string {
	if d.Kept != "" {
		return fmt.Sprintf("%s was damaged (%v); kept it as %s and started with fresh progress", d.Path, d.Reason, d.Kept)
	}
	return fmt.Sprintf("%s is damaged (%v) and could not be moved aside (%v); using fresh progress, which cannot be saved", d.Path, d.Reason, d.MoveErr)
}

// Load reads the progress. A missing file is empty progress; a damaged one
// is moved aside (see [Store]) and is empty progress too. The error is
// non-nil only if the file could not be read at all.
func (s *Store) Load() (*Progress, error) {
	s.mu.Lock()
	p, damage, err := s.read()
	if err != nil || damage == nil {
		s.mu.Unlock()
		return p, err
	}
	// Move the damaged file aside under the lock, so that a good file
	// another process writes meanwhile is never the one moved.
	lk, lerr := lockWait(s.lockPath, lockWaitMax)
	if lerr != nil {
		damage.MoveErr = lerr
		s.mu.Unlock()
		s.report(*damage)
		return fresh(), nil
	}
	p, damage, err = s.readRecover()
	lk.unlock()
	s.mu.Unlock()
	if damage != nil {
		s.report(*damage)
	}
	return p, err
}

func fresh() *Progress {
	return &Progress{Version: 1, Lessons: map[string]*LessonProgress{}}
}

// read reads and parses the file. A file that does not parse gives fresh
// progress and a non-nil damage.
func (s *Store) read() (*Progress, *Damaged, error) {
	p := fresh()
	b, err := os.ReadFile(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		return p, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("read progress: %w", err)
	}
	if err := parse(b, p); err != nil {
		return fresh(), &Damaged{Path: s.path, Reason: err}, nil
	}
	return p, nil, nil
}

// parse reads progress JSON: an empty file, trailing garbage or a lesson
// without a status is damage too.
func parse(b []byte, p *Progress) error {
	if len(bytes.TrimSpace(b)) == 0 {
		return errors.New("the file is empty")
	}
	if err := json.Unmarshal(b, p); err != nil {
		return err
	}
	if p.Lessons == nil {
		p.Lessons = map[string]*LessonProgress{}
	}
	for id, lp := range p.Lessons {
		if lp == nil {
			delete(p.Lessons, id)
		}
	}
	return nil
}

// readRecover is read, moving a damaged file aside. The caller holds the
// file lock.
func (s *Store) readRecover() (*Progress, *Damaged, error) {
	p, damage, err := s.read()
	if err != nil || damage == nil {
		return p, nil, err
	}
	kept, merr := keepAside(s.path)
	damage.Kept, damage.MoveErr = kept, merr
	return p, damage, nil
}

// keepAside renames path to a free name beside it:
// progress.json → progress.damaged-20260102-150405.json.
func keepAside(path string) (string, error) {
	ext := filepath.Ext(path)
	base := strings.TrimSuffix(path, ext) + ".damaged-" + time.Now().Format("20060102-150405")
	for i := 0; i < 1000; i++ {
		kept := base + ext
		if i > 0 {
			kept = fmt.Sprintf("%s-%d%s", base, i, ext)
		}
		if _, err := os.Lstat(kept); !errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err := os.Rename(path, kept); err != nil {
			return "", err
		}
		return kept, nil
	}
	return "", fmt.Errorf("no free name beside %s", path)
}

// report tells onDamaged about d, unless the same damage was told last.
func (s *Store) report(d Damaged) {
	key := d.Message()
	s.mu.Lock()
	if s.told == key {
		s.mu.Unlock()
		return
	}
	s.told = key
	f := s.onDamaged
	s.mu.Unlock()
	if f != nil {
		f(d)
	}
}

// Update applies fn to the current progress and saves it: read, change and
// write happen under the cross-process lock, so an update made by another
// tutor process meanwhile is kept. If the progress cannot be saved, Update
// returns the progress with fn applied and an error that matches
// [ErrNotSaved], so the caller can still show what it did.
func (s *Store) Update(fn func(*Progress)) (*Progress, error) {
	s.mu.Lock()
	lk, lerr := lockWait(s.lockPath, lockWaitMax)
	var (
		p      *Progress
		damage *Damaged
		err    error
	)
	if lerr == nil {
		p, damage, err = s.readRecover()
	} else {
		p, damage, err = s.read()
		if damage != nil {
			damage.MoveErr = lerr
		}
	}
	if err != nil {
		if lk != nil {
			lk.unlock()
		}
		s.mu.Unlock()
		return nil, err
	}
	fn(p)
	var serr error
	if lerr != nil {
		serr = fmt.Errorf("%w: lock %v", ErrNotSaved, lerr)
	} else if b, merr := json.MarshalIndent(p, "", "  "); merr != nil {
		serr = fmt.Errorf("%w: %v", ErrNotSaved, merr)
	} else if werr := WriteFileAtomic(s.path, append(b, '\n')); werr != nil {
		serr = fmt.Errorf("%w: %v", ErrNotSaved, werr)
	}
	if lk != nil {
		lk.unlock()
	}
	s.mu.Unlock()
	if damage != nil {
		s.report(*damage)
	}
	return p, serr
}

// Record notes the verdict of a check of content with the given fingerprint.
// Attempts count only checks of changed content.
func (lp *LessonProgress) Record(verdict string, fingerprint string, now time.Time) {
	if fingerprint != lp.Checked {
		lp.Attempts++
	}
	lp.Checked = fingerprint
	lp.LastVerdict = verdict
	lp.LastChecked = &now
	if verdict == "pass" {
		lp.Status = Passed
		if lp.FirstPass == nil {
			lp.FirstPass = &now
		}
		return
	}
	if lp.Status != Passed {
		lp.Status = InProgress
	}
}
