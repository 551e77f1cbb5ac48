package watch

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// An editorSave makes exercise.go at path hold source(n) the way one editor
// does it.
type editorSave func(t *testing.T, path string, n int)

// saveInPlace truncates and rewrites the file, as VS Code does.
func saveInPlace(t *testing.T, path string, n int) {
	writeFile(t, path, source(n))
}

// saveRenameOver writes a temp file next to the target and renames it over,
// as github.com/google/renameio does (temp name: "." + base + random).
func saveRenameOver(t *testing.T, path string, n int) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(source(n)); err != nil {
		t.Fatal(err)
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		t.Fatal(err)
	}
}

// saveVSCodeAtomic is VS Code's optional atomic save: path.vsctmp, renamed over.
func saveVSCodeAtomic(t *testing.T, path string, n int) {
	writeFile(t, path+".vsctmp", source(n))
	if err := os.Rename(path+".vsctmp", path); err != nil {
		t.Fatal(err)
	}
}

// saveSed runs the real sed -i, which writes ./sedXXXXXX and renames it over.
func saveSed(t *testing.T, path string, n int) {
	run(t, "sed", "-i", fmt.Sprintf("s/^const V = .*$/const V = %d/", n), path)
}

// saveVim runs the real vim with its defaults: 'writebackup' on and
// 'backupcopy' auto, so it renames the file to file~, writes a new file and
// deletes the backup. 'backupskip' is emptied because vim skips backups for
// files under /tmp, where t.TempDir lives.
func saveVim(t *testing.T, path string, n int) {
	run(t, "vim", "-N", "-u", "DEFAULTS", "-i", "NONE", "-n", "--cmd", "set backupskip=",
		"-es", "-c", fmt.Sprintf("%%s/^const V = .*$/const V = %d/", n), "-c", "wq", path)
}

// saveJetBrains imitates the IntelliJ platform's "safe write": write
// file___jb_tmp___, rename the original to file___jb_old___, rename the
// temp to the original name, delete the old one.
func saveJetBrains(t *testing.T, path string, n int) {
	tmp, old := path+"___jb_tmp___", path+"___jb_old___"
	writeFile(t, tmp, source(n))
	if err := os.Rename(path, old); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(old); err != nil {
		t.Fatal(err)
	}
}

// saveEmacs imitates emacs' default save: a .#file lock symlink and an
// #file# auto-save exist while editing; the save renames the file to file~
// (backup-by-renaming), writes a fresh file, and drops the auto-save file and
// the lock.
func saveEmacs(t *testing.T, path string, n int) {
	dir, base := filepath.Dir(path), filepath.Base(path)
	lock, auto := filepath.Join(dir, ".#"+base), filepath.Join(dir, "#"+base+"#")
	if err := os.Symlink("learner@host.1234:1", lock); err != nil {
		t.Fatal(err)
	}
	writeFile(t, auto, source(n))
	if err := os.Rename(path, path+"~"); err != nil {
		t.Fatal(err)
	}
	writeFile(t, path, source(n))
	for _, p := range []string{auto, lock, path + "~"} {
		if err := os.Remove(p); err != nil {
			t.Fatal(err)
		}
	}
}

func run(t *testing.T, name string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %q: %v\n%s", name, args, err, out)
	}
}

// TestEditorSaves checks that every editor's way of saving yields exactly
// one Change per save, carrying the new content.
func TestEditorSaves(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		save editorSave
		tool string // a program the style needs, if any
		// rawEvents ("OP name") must all appear in the watcher's log of
		// raw events, proving the style really took the path it is meant
		// to test; a name ending in * is a prefix.
		rawEvents []string
	}{
		{name: "vscode in place", save: saveInPlace, rawEvents: []string{"WRITE exercise.go"}},
		{name: "rename over (renameio)", save: saveRenameOver, rawEvents: []string{"CREATE exercise.go"}},
		{name: "vscode atomic (.vsctmp)", save: saveVSCodeAtomic, rawEvents: []string{"CREATE exercise.go.vsctmp", "CREATE exercise.go"}},
		{name: "sed -i", save: saveSed, tool: "sed", rawEvents: []string{"CREATE sed*", "CREATE exercise.go"}},
		{name: "vim defaults", save: saveVim, tool: "vim", rawEvents: []string{"CREATE 4913", "RENAME exercise.go", "CREATE exercise.go~", "CREATE exercise.go", "REMOVE exercise.go~"}},
		{name: "jetbrains safe write", save: saveJetBrains, rawEvents: []string{"RENAME exercise.go", "CREATE exercise.go___jb_old___", "CREATE exercise.go"}},
		{name: "emacs", save: saveEmacs, rawEvents: []string{"CREATE #exercise.go#", "RENAME exercise.go", "CREATE exercise.go"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if tt.tool != "" {
				if _, err := exec.LookPath(tt.tool); err != nil {
					t.Skipf("%s is not installed, so this editor style is not tested: %v", tt.tool, err)
				}
			}
			h := one(t, Options{})
			if got := h.w.Mode(); got != "fsnotify" {
				t.Fatalf("Mode() = %q, want %q", got, "fsnotify")
			}
			for n := 1; n <= 2; n++ {
				tt.save(t, h.path("exercise.go"), n)
				h.expect(h.dirs[0], h.want(n))
				h.expectNone(quietFor)
			}
			lines := h.log.snapshot()
			for _, ev := range tt.rawEvents {
				if !sawEvent(lines, ev) {
					t.Errorf("raw events lack %s; the save did not do what this test is about", ev)
				}
			}
			raw := strings.Join(lines, "\n")
			if t.Failed() || testing.Verbose() {
				t.Logf("raw events:\n%s", raw)
			}
		})
	}
}

// sawEvent reports whether the watcher logged the raw event "OP name"; a
// name ending in * matches any name with that prefix.
func sawEvent(lines []string, want string) bool {
	op, name, _ := strings.Cut(want, " ")
	prefix, wild := strings.CutSuffix(name, "*")
	for _, l := range lines {
		_, ev, ok := strings.Cut(l, " event ")
		if !ok {
			continue
		}
		gotOp, path, _ := strings.Cut(ev, " ")
		base := filepath.Base(path)
		if strings.Contains(gotOp, op) && (base == name || wild && strings.HasPrefix(base, prefix)) {
			return true
		}
	}
	return false
}
