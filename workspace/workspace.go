// Package workspace manages the learner's workspace: the Go module they edit
// (one directory per lesson, the loop package) and the tutor's state in
// .tutor/ (progress, hints shown, backups, and a manifest of what the tutor
// wrote).
//
// The rule it keeps: a file the learner has changed is never overwritten.
// Creating or updating a workspace writes only missing files, and files the
// tutor wrote earlier that the learner never touched; reset and solution
// --apply back the learner's files up first.
package workspace

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/gotutor/tutor/lessons"
)

// DefaultDir is the workspace directory used when none is given.
const DefaultDir = "tutor-workspace"

// StateDir is the tutor's folder inside the workspace.
const StateDir = ".tutor"

// Workspace is a learner's workspace at Root.
type Workspace struct {
	Root string // absolute
}

// Open returns the workspace at dir (it need not exist yet). A directory
// inside another workspace is refused with an error matching ErrNested:
// no command may make a workspace inside a workspace.
func Open(dir string) (*Workspace, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("workspace %s: %w", dir, err)
	}
	if outer := Enclosing(filepath.Dir(abs)); outer != "" {
		return nil, fmt.Errorf("%w: %s is inside the workspace %s; use that one (run the tutor in it, or pass --workspace %s)", ErrNested, abs, outer, outer)
	}
	return &Workspace{Root: abs}, nil
}

// ErrNested is returned by Open for a directory inside another workspace.
var ErrNested = errors.New("a workspace cannot be inside another")

// Enclosing returns the root of the workspace that holds dir: dir itself
// or the nearest directory above it with both .tutor/ and go.mod. It
// returns "" if there is none.
func Enclosing(dir string) string {
	d, err := filepath.Abs(dir)
	if err != nil {
		return ""
	}
	for {
		fi, err := os.Stat(filepath.Join(d, StateDir))
		if err == nil && fi.IsDir() {
			if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
				return d
			}
		}
		parent := filepath.Dir(d)
		if parent == d {
			return ""
		}
		d = parent
	}
}

// Exists reports whether the workspace has been created.
func (w *Workspace) Exists() bool {
	_, err := os.Stat(filepath.Join(w.Root, "go.mod"))
	return err == nil
}

// LessonDir returns the absolute directory of a lesson.
func (w *Workspace) LessonDir(l *lessons.Lesson) string { return filepath.Join(w.Root, l.ID) }

// Rel returns the workspace-relative slash path of a lesson file.
func Rel(l *lessons.Lesson, file string) string { return l.ID + "/" + file }

// Requirement is a module outside the standard library that the
// workspace's go.mod requires, so that a learner's solution may import it.
type Requirement struct {
	Path, Version string
	Sum, GoModSum string // go.sum hashes of the module's files and of its go.mod
	Why           string // who needs it, for tutor doctor
}

// Requirements returns the modules the workspace requires. Their versions
// and hashes equal the tutor module's own (a test holds them to its go.mod
// and go.sum). Packages that do not import a required module build without
// it, offline too; one that does needs it downloaded once (the go command
// does that on the first build, or `go mod download`), then builds offline.
func Requirements() []Requirement {
	return []Requirement{{
		Path:     "golang.org/x/sync",
		Version:  "v0.24.0",
		Sum:      "h1:iqiDrGoDgyuvAKrhLQthUEzU/R378N78gXbBjxed7oA=",
		GoModSum: "h1:sUUOizhqBxiL6pEWpqNLUiaJn1ShEbZ6BBqskPbjZm0=",
		Why:      "lesson 10 can be solved with golang.org/x/sync/errgroup",
	}}
}

// GoMod is the workspace's go.mod.
func GoMod() []byte {
	var b strings.Builder
	b.WriteString("module " + lessons.WorkspaceModule + "\n\ngo 1.26.0\n") // x/sync v0.24.0 declares go 1.26.0; the go command would raise "go 1.26" to it
	for _, r := range Requirements() {
		fmt.Fprintf(&b, "\nrequire %s %s\n", r.Path, r.Version)
	}
	return []byte(b.String())
}

// GoSum is the workspace's go.sum: the hashes of every required module.
func GoSum() []byte {
	var b strings.Builder
	for _, r := range Requirements() {
		fmt.Fprintf(&b, "%s %s %s\n%s %s/go.mod %s\n", r.Path, r.Version, r.Sum, r.Path, r.Version, r.GoModSum)
	}
	return []byte(b.String())
}

// readme is the workspace's README.md, for a learner who opens the folder.
const readme = `# Your tutor workspace

This folder is yours: the tutor never overwrites a file you have changed.

- Each lesson has a directory (01-measure/, 02-event-loop/, …) with the file(s) you edit.
- loop/ is the small FastAPI-shaped server the lessons use. Read it; lesson 03 rebuilds its core.
- .tutor/ holds your progress, hints shown and backups; reset and "solution --apply" save your
  files under .tutor/backups/ first.

Run ` + "`tutor`" + ` (or ` + "`go run ./cmd/tutor`" + ` in the tutor's source) to open the course in your browser;
every save re-runs the lesson's checks. From a terminal: ` + "`tutor check`" + `, ` + "`tutor watch`" + `, ` + "`tutor hint 02`" + `.
`

// InitReport says what Init did.
type InitReport struct {
	Created []string // files written for the first time
	Updated []string // files the tutor had written, untouched by the learner, now newer
	Kept    []string // files the learner changed, which a newer tutor would have updated
}

// Init creates the workspace or brings it up to date with the course:
// missing files are written, files the tutor wrote and the learner never
// changed are updated, and every other file is left alone.
func (w *Workspace) Init(c *lessons.Course) (InitReport, error) {
	var rep InitReport
	if err := os.MkdirAll(filepath.Join(w.Root, StateDir), 0o755); err != nil {
		return rep, fmt.Errorf("create workspace: %w", err)
	}
	man, err := w.loadManifest()
	if err != nil {
		return rep, err
	}
	before := maps.Clone(man)
	want := map[string][]byte{"go.mod": GoMod(), "go.sum": GoSum(), "README.md": []byte(readme)}
	for p, b := range c.Shared {
		want[p] = b
	}
	for _, l := range c.Lessons {
		for name, b := range l.Starter().Files {
			want[Rel(l, name)] = b
		}
	}
	paths := slices.Sorted(func(yield func(string) bool) {
		for p := range want {
			if !yield(p) {
				return
			}
		}
	})
	for _, p := range paths {
		content := want[p]
		abs := filepath.Join(w.Root, filepath.FromSlash(p))
		cur, err := os.ReadFile(abs)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			if err := WriteFileAtomic(abs, content); err != nil {
				return rep, err
			}
			rep.Created = append(rep.Created, p)
		case err != nil:
			return rep, fmt.Errorf("read %s: %w", p, err)
		case bytes.Equal(cur, content):
			// up to date
		case man[p] == Hash(cur):
			if err := WriteFileAtomic(abs, content); err != nil {
				return rep, err
			}
			rep.Updated = append(rep.Updated, p)
		default:
			rep.Kept = append(rep.Kept, p)
			continue // the learner's version: leave the manifest pointing at what we wrote
		}
		man[p] = Hash(content)
	}
	if _, err := os.Stat(w.manifestPath()); err == nil && maps.Equal(before, man) {
		return rep, nil // nothing to write: an up-to-date read-only workspace opens too
	}
	return rep, w.saveManifest(man)
}

// Writable reports why the tutor cannot write its state in the workspace
// (nil if it can), by creating and removing a file in .tutor/.
func (w *Workspace) Writable() error {
	f, err := os.CreateTemp(filepath.Join(w.Root, StateDir), ".probe-*")
	if err != nil {
		return err
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}

// Hash returns the hex SHA-256 of b.
func Hash(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func (w *Workspace) manifestPath() string { return filepath.Join(w.Root, StateDir, "manifest.json") }

func (w *Workspace) loadManifest() (map[string]string, error) {
	m := map[string]string{}
	b, err := os.ReadFile(w.manifestPath())
	if errors.Is(err, fs.ErrNotExist) {
		return m, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read manifest: %w", err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		// A damaged manifest only costs updates: treat every file as the learner's.
		return map[string]string{}, nil
	}
	return m, nil
}

func (w *Workspace) saveManifest(m map[string]string) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return WriteFileAtomic(w.manifestPath(), append(b, '\n'))
}

// Files reads the learner's current files of a lesson. A missing file is
// absent from the map.
func (w *Workspace) Files(l *lessons.Lesson) (map[string][]byte, error) {
	out := map[string][]byte{}
	for _, name := range l.Files {
		b, err := os.ReadFile(filepath.Join(w.LessonDir(l), name))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", Rel(l, name), err)
		}
		out[name] = b
	}
	return out, nil
}

// Fingerprint hashes the learner's current files of a lesson, to tell
// whether anything changed since the last check.
func (w *Workspace) Fingerprint(l *lessons.Lesson) string {
	files, _ := w.Files(l)
	return FingerprintOf(l, files)
}

// FingerprintOf hashes files read earlier (base name → content) the way
// Fingerprint hashes the files on disk: a check of a snapshot records the
// fingerprint of exactly the bytes it judged.
func FingerprintOf(l *lessons.Lesson, files map[string][]byte) string {
	h := sha256.New()
	for _, name := range l.Files {
		fmt.Fprintf(h, "%s\x00%d\x00", name, len(files[name]))
		h.Write(files[name])
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// Edited reports whether any of the lesson's files differ from the starter.
func (w *Workspace) Edited(l *lessons.Lesson) bool {
	files, err := w.Files(l)
	if err != nil {
		return true
	}
	for name, b := range l.Starter().Files {
		if !bytes.Equal(files[name], b) {
			return true
		}
	}
	return false
}

// backupRoot is where a lesson's backups live.
func (w *Workspace) backupRoot(l *lessons.Lesson) string {
	return filepath.Join(w.Root, StateDir, "backups", l.ID)
}

// Backup saves the learner's current files of a lesson under
// .tutor/backups/ID/TIMESTAMP/ and returns that directory.
func (w *Workspace) Backup(l *lessons.Lesson) (string, error) {
	files, err := w.Files(l)
	if err != nil {
		return "", err
	}
	stamp := time.Now().Format("20060102-150405.000")
	dir := filepath.Join(w.backupRoot(l), stamp)
	for i := 1; ; i++ {
		if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
			break
		}
		dir = filepath.Join(w.backupRoot(l), fmt.Sprintf("%s-%d", stamp, i))
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("back up %s: %w", l.ID, err)
	}
	for name, b := range files {
		if err := WriteFileAtomic(filepath.Join(dir, name), b); err != nil {
			return "", fmt.Errorf("back up %s: %w", Rel(l, name), err)
		}
	}
	return dir, nil
}

// Write replaces the lesson's files with files, after backing up the
// current ones; it returns the backup directory.
func (w *Workspace) Write(l *lessons.Lesson, files map[string][]byte) (string, error) {
	backup, err := w.Backup(l)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(w.LessonDir(l), 0o755); err != nil {
		return "", err
	}
	for _, name := range sortedKeys(files) {
		if err := WriteFileAtomic(filepath.Join(w.LessonDir(l), name), files[name]); err != nil {
			return backup, fmt.Errorf("write %s: %w (your previous files are in %s)", Rel(l, name), err, backup)
		}
	}
	return backup, nil
}

// Reset restores the starter files after backing up the learner's.
func (w *Workspace) Reset(l *lessons.Lesson) (string, error) {
	return w.Write(l, l.Starter().Files)
}

// ErrNoBackup is returned by Undo when there is nothing to restore.
var ErrNoBackup = errors.New("no backup to restore")

// Undo restores the newest backup of a lesson and removes it. If the current
// files hold work of the learner's (they differ from the starter), they are
// backed up first, so undo never loses anything. It returns the directory
// restored from.
func (w *Workspace) Undo(l *lessons.Lesson) (string, error) {
	ents, err := os.ReadDir(w.backupRoot(l))
	if errors.Is(err, fs.ErrNotExist) || (err == nil && len(ents) == 0) {
		return "", fmt.Errorf("%s: %w (reset or solution --apply make one)", l.ID, ErrNoBackup)
	}
	if err != nil {
		return "", fmt.Errorf("read backups: %w", err)
	}
	names := make([]string, 0, len(ents))
	for _, e := range ents {
		if e.IsDir() {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	if len(names) == 0 {
		return "", fmt.Errorf("%s: %w", l.ID, ErrNoBackup)
	}
	newest := filepath.Join(w.backupRoot(l), names[len(names)-1])
	files := map[string][]byte{}
	for _, name := range l.Files {
		b, err := os.ReadFile(filepath.Join(newest, name))
		if err == nil {
			files[name] = b
		}
	}
	if w.Edited(l) {
		if _, err := w.Backup(l); err != nil {
			return "", err
		}
	}
	for _, name := range sortedKeys(files) {
		if err := WriteFileAtomic(filepath.Join(w.LessonDir(l), name), files[name]); err != nil {
			return "", fmt.Errorf("restore %s: %w", Rel(l, name), err)
		}
	}
	if err := os.RemoveAll(newest); err != nil {
		return newest, fmt.Errorf("remove restored backup: %w", err)
	}
	return newest, nil
}

func sortedKeys(m map[string][]byte) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// WriteFileAtomic writes b to path through a temporary file and a rename, so
// a reader (or a crash, or a full disk) never sees a half-written file.
func WriteFileAtomic(path string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, werr := f.Write(b)
	cerr := f.Close()
	if werr == nil {
		werr = cerr
	}
	if werr == nil {
		if fi, err := os.Stat(path); err == nil {
			os.Chmod(tmp, fi.Mode().Perm())
		} else {
			os.Chmod(tmp, 0o644)
		}
		werr = os.Rename(tmp, path)
	}
	if werr != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, friendly(werr))
	}
	return nil
}

// friendly turns a full disk into a sentence a learner can act on.
func friendly(err error) error {
	if strings.Contains(err.Error(), "no space left on device") {
		return fmt.Errorf("the disk is full; free some space and try again: %w", err)
	}
	return err
}
