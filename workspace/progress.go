package workspace

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// Status is a lesson's state in the learner's progress.
type Status string

// The statuses a lesson can have.
const (
	NotStarted Status = "not-started"
	Failing    Status = "failing"
	Passed     Status = "passed"
)

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

// Store reads and writes the progress file. One Store serialises the
// updates of one process; every update re-reads the file, so another tutor
// process (a `tutor hint` beside a running `tutor`) is not overwritten.
type Store struct {
	path string
	mu   sync.Mutex
}

// Progress returns the workspace's progress store.
func (w *Workspace) Progress() *Store {
	return &Store{path: filepath.Join(w.Root, StateDir, "progress.json")}
}

// Path is the progress file's path.
func (s *Store) Path() string { return s.path }

// Load reads the progress. A missing file is empty progress; a damaged one
// is an error that names the file.
func (s *Store) Load() (*Progress, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.load()
}

func (s *Store) load() (*Progress, error) {
	p := &Progress{Version: 1, Lessons: map[string]*LessonProgress{}}
	b, err := os.ReadFile(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		return p, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read progress: %w", err)
	}
	if err := json.Unmarshal(b, p); err != nil {
		return nil, fmt.Errorf("%s is damaged (%v); move it away to start fresh", s.path, err)
	}
	if p.Lessons == nil {
		p.Lessons = map[string]*LessonProgress{}
	}
	return p, nil
}

// Update applies fn to the current progress and saves it atomically.
func (s *Store) Update(fn func(*Progress)) (*Progress, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, err := s.load()
	if err != nil {
		return nil, err
	}
	fn(p)
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := WriteFileAtomic(s.path, append(b, '\n')); err != nil {
		return nil, fmt.Errorf("save progress: %w", err)
	}
	return p, nil
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
		lp.Status = Failing
	}
}
