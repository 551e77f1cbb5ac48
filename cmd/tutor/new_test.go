package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gotutor/tutor/internal/scaffold"
)

func TestNewCommand(t *testing.T) {
	root := t.TempDir()
	for p, s := range map[string]string{
		"go.mod":           "module " + scaffold.Module + "\n",
		"lessons/embed.go": "package lessons\n",
	} {
		p = filepath.Join(root, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out, errOut, code := tutor(t, t.TempDir(), "new", "--dir", root, "31-fresh-start")
	if code != 0 || !strings.Contains(out, "with 8 files") {
		t.Fatalf("tutor new: exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	if _, err := os.Stat(filepath.Join(root, "lessons", "31-fresh-start", "check", "check_test.go")); err != nil {
		t.Errorf("no check file written: %v", err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"new", "--dir", root, "31-again"}, "lesson number taken"},
		{[]string{"new", "--dir", root, "31_bad"}, "bad lesson id"},
		{[]string{"new", "--dir", t.TempDir(), "32-elsewhere"}, "not in the tutor repository"},
		{[]string{"new"}, "want one lesson id"},
	} {
		out, errOut, code := tutor(t, t.TempDir(), tc.args...)
		if code != exitProblem || out != "" || !strings.Contains(errOut, tc.want) || strings.Count(errOut, "\n") != 1 {
			t.Errorf("tutor %v: exit %d, stdout %q, stderr %q; want exit %d and one line saying %q", tc.args, code, out, errOut, exitProblem, tc.want)
		}
	}
}
