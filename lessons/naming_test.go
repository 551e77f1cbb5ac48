package lessons

import (
	"io/fs"
	"path"
	"strings"
	"testing"
)

func TestOffRuleNames(t *testing.T) {
	src := `package p
import "testing"
const checkUnit = 1
var (checkA, b = 1, 2; _ = 3)
type checkRig struct{}
type rig struct{}
func (rig) run() {}
func checkServer() {}
func setup() {}
func TestFast(t *testing.T) {}
func TestMain(m *testing.M) {}
func Test() {}
`
	got, err := OffRuleNames("p.go", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	want := "var b, type rig, func setup, func Test"
	if strings.Join(got, ", ") != want {
		t.Errorf("offRuleNames = %q, want %q", strings.Join(got, ", "), want)
	}
	if _, err := OffRuleNames("bad.go", []byte("package")); err == nil {
		t.Error("offRuleNames on a file that does not parse: no error")
	}
}

// TestCheckFilesNaming holds every hidden check file of the course to the
// naming rule: the file is compiled into the learner's package, so a name
// without the check prefix could collide with one the learner chose.
func TestCheckFilesNaming(t *testing.T) {
	files, err := fs.Glob(Embedded(), "*/check/*.go")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no check files found in the embedded course")
	}
	for _, name := range files {
		src, err := fs.ReadFile(Embedded(), name)
		if err != nil {
			t.Fatal(err)
		}
		bad, err := OffRuleNames(path.Join("lessons", name), src)
		if err != nil {
			t.Error(err)
			continue
		}
		if len(bad) > 0 {
			t.Errorf("lessons/%s declares names without the check prefix (lessons/README.md, Naming): %s", name, strings.Join(bad, ", "))
		}
	}
}
