package render

import (
	"github.com/yuin/goldmark/ast"
	extast "github.com/yuin/goldmark/extension/ast"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/text"
)

// scrollTransformer makes every table focusable. A wide table scrolls
// sideways inside the text column, and a region that scrolls must be
// reachable from the keyboard (WCAG 2.1.1; axe-core's
// scrollable-region-focusable), so the table gets tabindex="0".
type scrollTransformer struct{}

// Transform implements [parser.ASTTransformer].
func (scrollTransformer) Transform(doc *ast.Document, _ text.Reader, _ parser.Context) {
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if t, ok := n.(*extast.Table); ok && entering {
			t.SetAttributeString("tabindex", []byte("0"))
			return ast.WalkSkipChildren, nil
		}
		return ast.WalkContinue, nil
	})
}
