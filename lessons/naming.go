package lessons

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"strings"
)

// OffRuleNames returns every top-level name the Go file src declares that
// breaks the naming rule for hidden check files (lessons/README.md): a name
// starts with "check", unless it is a Test… function (or TestMain). Methods
// are not top-level names: they cannot collide with the learner's.
func OffRuleNames(filename string, src []byte) ([]string, error) {
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
