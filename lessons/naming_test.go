package lessons

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path"
	"strings"
	"testing"
)

// offRuleNames returns every top-level name the Go file src declares that
// breaks the naming rule for hidden check files (lessons/README.md): a name
// starts with "check", unless it is a Test… function (or TestMain). Methods
// are not top-level names: they cannot collide with the learner's.
func offRuleNames(filename string, src []byte) ([]string, error) {
	f, err := parser.ParseFile(token.NewFileSet(), filename, src, parser.SkipObjectResolution)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", filename, err)
	}
	var bad []string
	judge := func(id *ast.Ident, kind string) {
		if id == nil || id.Name == "_" || strings.HasPrefix(id.Name, "check") {
			return
		}
		bad = append(bad, fmt.Sprintf("%s %s", kind, id.Name))
	}
	for _, d := range f.Decls {
		switch d := d.(type) {
		case *ast.FuncDecl:
			if d.Recv != nil {
				continue
			}
			if d.Name.Name == "TestMain" || (strings.HasPrefix(d.Name.Name, "Test") && len(d.Name.Name) > 4) {
				continue
			}
			judge(d.Name, "func")
		case *ast.GenDecl:
			for _, s := range d.Specs {
				switch s := s.(type) {
				case *ast.TypeSpec:
					judge(s.Name, "type")
				case *ast.ValueSpec:
					for _, n := range s.Names {
						judge(n, d.Tok.String())
					}
				}
			}
		}
	}
	return bad, nil
}

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
	got, err := offRuleNames("p.go", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	want := "var b, type rig, func setup, func Test"
	if strings.Join(got, ", ") != want {
		t.Errorf("offRuleNames = %q, want %q", strings.Join(got, ", "), want)
	}
	if _, err := offRuleNames("bad.go", []byte("package")); err == nil {
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
		bad, err := offRuleNames(path.Join("lessons", name), src)
		if err != nil {
			t.Error(err)
			continue
		}
		if len(bad) > 0 {
			t.Errorf("lessons/%s declares names without the check prefix (lessons/README.md, Naming): %s", name, strings.Join(bad, ", "))
		}
	}
}
