package render

import (
	"bytes"

	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/text"
)

// calloutTitles maps the GitHub callout markers to their titles.
var calloutTitles = map[string]string{
	"NOTE":      "Note",
	"TIP":       "Tip",
	"IMPORTANT": "Important",
	"WARNING":   "Warning",
	"CAUTION":   "Caution",
}

// calloutTransformer turns a blockquote whose first line is a marker such as
// [!NOTE] into <blockquote class="callout callout-note"> whose first
// paragraph is the title, as GitHub does. The marker must stand alone on its
// line; otherwise the blockquote stays an ordinary one.
type calloutTransformer struct{}

// Transform implements [parser.ASTTransformer].
func (calloutTransformer) Transform(doc *ast.Document, reader text.Reader, _ parser.Context) {
	src := reader.Source()
	var quotes []*ast.Blockquote
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if q, ok := n.(*ast.Blockquote); ok && entering {
			quotes = append(quotes, q)
		}
		return ast.WalkContinue, nil
	})
	// Rewrite after the walk, which must not see its tree change under it.
	for _, q := range quotes {
		calloutify(q, src)
	}
}

// calloutify rewrites q into a callout if its first line is a marker.
func calloutify(q *ast.Blockquote, src []byte) {
	p, ok := q.FirstChild().(*ast.Paragraph)
	if !ok || p.Lines().Len() == 0 {
		return
	}
	first := p.Lines().At(0)
	line := bytes.TrimSpace(first.Value(src))
	if len(line) < 4 || line[0] != '[' || line[1] != '!' || line[len(line)-1] != ']' {
		return
	}
	kind := string(bytes.ToUpper(line[2 : len(line)-1]))
	title, ok := calloutTitles[kind]
	if !ok {
		return
	}
	// The marker parses as plain text; drop the inline nodes that come from
	// the first line, and give up if anything else is there.
	var marker []ast.Node
	for c := p.FirstChild(); c != nil; c = c.NextSibling() {
		t, ok := c.(*ast.Text)
		if !ok {
			if inFirstLine(c, first) {
				return
			}
			break
		}
		if t.Segment.Start >= first.Stop {
			break
		}
		marker = append(marker, t)
	}
	for _, m := range marker {
		p.RemoveChild(p, m)
	}
	q.SetAttributeString("class", "callout callout-"+string(bytes.ToLower([]byte(kind))))
	head := p
	if p.HasChildren() {
		head = ast.NewParagraph()
		q.InsertBefore(q, p, head)
	}
	head.SetAttributeString("class", "callout-title")
	head.AppendChild(head, ast.NewString([]byte(title)))
}

// inFirstLine reports whether inline node n starts within line, as far as
// its text children tell.
func inFirstLine(n ast.Node, line text.Segment) bool {
	for c := n.FirstChild(); c != nil; c = c.FirstChild() {
		if t, ok := c.(*ast.Text); ok {
			return t.Segment.Start < line.Stop
		}
	}
	return true // no way to tell; be conservative
}
