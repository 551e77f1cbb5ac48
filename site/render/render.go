// Package render turns lesson content and check results into HTML for the
// web page: lesson markdown with highlighted code and callouts, excerpts of
// the learner's Go source around compile errors, the chroma stylesheet for
// both colour themes, and the timeline of a check run as inline SVG.
//
// Everything here is a pure function of its input; nothing renders raw HTML
// from the input, and everything taken from the input is escaped.
package render

import (
	"bytes"
	"fmt"
	"html/template"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/renderer"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// Renderer renders lesson markdown. It is safe for concurrent use; build
// one with [New] and share it.
type Renderer struct {
	md goldmark.Markdown
}

// Heading is one entry of a lesson's outline.
type Heading struct {
	Level int    // 2 or 3
	ID    string // the heading's id attribute, for an #anchor
	Text  string // the heading's plain text
}

// New returns a Renderer for lesson markdown.
func New() *Renderer {
	md := goldmark.New(
		// GFM: tables, strikethrough, autolinks, task lists. Table cells get
		// align="…" attributes instead of style="text-align:…", which the
		// page's Content-Security-Policy (no inline styles) would block.
		goldmark.WithExtensions(
			extension.NewTable(extension.WithTableCellAlignMethod(extension.TableCellAlignAttribute)),
			extension.Strikethrough, extension.Linkify, extension.TaskList),
		goldmark.WithParserOptions(
			parser.WithAutoHeadingID(),
			parser.WithASTTransformers(util.Prioritized(calloutTransformer{}, 100), util.Prioritized(scrollTransformer{}, 200)),
		),
		// The core HTML renderer registers at priority 1000; a smaller
		// number registers later and so replaces its fenced-code renderer.
		goldmark.WithRendererOptions(renderer.WithNodeRenderers(util.Prioritized(newCodeRenderer(), 100))),
		// html.WithUnsafe is deliberately not set: raw HTML in a lesson
		// becomes "<!-- raw HTML omitted -->" and dangerous URLs an empty href.
	)
	return &Renderer{md: md}
}

// Markdown renders lesson markdown to HTML and returns the lesson's outline:
// its level 2 and 3 headings, in order.
func (r *Renderer) Markdown(src []byte) (template.HTML, []Heading, error) {
	doc := r.md.Parser().Parse(text.NewReader(src))
	var buf bytes.Buffer
	if err := r.md.Renderer().Render(&buf, src, doc); err != nil {
		return "", nil, fmt.Errorf("render markdown: %w", err)
	}
	return template.HTML(buf.String()), outline(doc, src), nil
}

// outline collects the h2 and h3 headings of doc.
func outline(doc ast.Node, src []byte) []Heading {
	var hs []Heading
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		h, ok := n.(*ast.Heading)
		if !entering || !ok {
			return ast.WalkContinue, nil
		}
		if h.Level == 2 || h.Level == 3 {
			id, _ := h.AttributeString("id")
			idb, _ := id.([]byte)
			hs = append(hs, Heading{Level: h.Level, ID: string(idb), Text: plainText(h, src)})
		}
		return ast.WalkSkipChildren, nil
	})
	return hs
}

// plainText returns the text of n's inline content without markup.
func plainText(n ast.Node, src []byte) string {
	var b bytes.Buffer
	_ = ast.Walk(n, func(c ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch c := c.(type) {
		case *ast.Text:
			b.Write(c.Value(src))
			if c.SoftLineBreak() || c.HardLineBreak() {
				b.WriteByte(' ')
			}
		case *ast.String:
			b.Write(c.Value)
		case *ast.RawHTML:
			return ast.WalkSkipChildren, nil // omitted when rendered, so not part of the text either
		}
		return ast.WalkContinue, nil
	})
	return string(bytes.TrimSpace(b.Bytes()))
}
