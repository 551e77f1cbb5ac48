package render

import (
	"bytes"
	"html"
	"html/template"
	"strings"
	"sync"

	"github.com/alecthomas/chroma/v2"
	chromahtml "github.com/alecthomas/chroma/v2/formatters/html"
	"github.com/alecthomas/chroma/v2/lexers"
	"github.com/alecthomas/chroma/v2/styles"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/renderer"
	"github.com/yuin/goldmark/util"
)

// The chroma styles for the two palettes. Only their CSS depends on them:
// the HTML carries classes, so one rendering serves both themes.
const (
	lightStyle = "github"
	darkStyle  = "github-dark"
)

// codeRenderer renders fenced code blocks highlighted by chroma, with CSS
// classes rather than inline styles, inside <div class="code"> with a copy
// button for the page's script to wire up.
type codeRenderer struct {
	format *chromahtml.Formatter
	style  *chroma.Style
}

func newCodeRenderer() *codeRenderer {
	return &codeRenderer{format: chromahtml.New(chromahtml.WithClasses(true)), style: styles.Get(lightStyle)}
}

// RegisterFuncs implements [renderer.NodeRenderer].
func (r *codeRenderer) RegisterFuncs(reg renderer.NodeRendererFuncRegisterer) {
	reg.Register(ast.KindFencedCodeBlock, r.render)
}

func (r *codeRenderer) render(w util.BufWriter, src []byte, n ast.Node, entering bool) (ast.WalkStatus, error) {
	if !entering {
		return ast.WalkContinue, nil
	}
	fence := n.(*ast.FencedCodeBlock)
	var code bytes.Buffer
	for i := range fence.Lines().Len() {
		seg := fence.Lines().At(i)
		code.Write(seg.Value(src))
	}
	var lang string
	if fence.Info != nil {
		lang = string(fence.Language(src))
	}
	w.WriteString(`<div class="code"`)
	if lang != "" {
		w.WriteString(` data-lang="`)
		w.WriteString(html.EscapeString(lang))
		w.WriteString(`"`)
	}
	w.WriteString(`><button type="button" class="copy" aria-label="Copy code">Copy</button>`)
	r.highlight(w, code.String(), lexerFor(lang))
	w.WriteString("</div>\n")
	return ast.WalkSkipChildren, nil
}

// highlight writes code as a chroma <pre class="chroma">, or, should chroma
// fail, as plain escaped text in the same wrapper.
func (r *codeRenderer) highlight(w util.BufWriter, code string, lexer chroma.Lexer) {
	it, err := chroma.Coalesce(lexer).Tokenise(nil, code)
	if err == nil {
		var buf bytes.Buffer
		if err = r.format.Format(&buf, r.style, it); err == nil {
			w.Write(focusablePre(buf.Bytes()))
			return
		}
	}
	w.WriteString(`<pre class="chroma" tabindex="0"><code>`)
	w.WriteString(html.EscapeString(code))
	w.WriteString("</code></pre>")
}

// focusablePre adds tabindex="0" to the <pre> chroma wrote: a code block
// wider than the column scrolls sideways, and a region that scrolls must be
// reachable from the keyboard (axe-core's scrollable-region-focusable).
func focusablePre(b []byte) []byte {
	return bytes.Replace(b, []byte("<pre "), []byte(`<pre tabindex="0" `), 1)
}

// lexerFor returns the lexer for a fence's language, plain text when the
// fence names none or one chroma does not know.
func lexerFor(lang string) chroma.Lexer {
	if lang != "" {
		if l := lexers.Get(lang); l != nil {
			return l
		}
	}
	return lexers.Fallback
}

// Code renders Go source as an excerpt with line numbers: only lines from
// through to (1-based, inclusive) appear, and the lines listed in highlight
// get the class "hl", as compile errors do in the result panel. from below 1
// means the first line; to below 1 or past the end means the last line. The
// whole file is tokenised, so an excerpt that starts inside a comment or a
// raw string is still coloured right.
func Code(src []byte, from, to int, highlight []int) template.HTML {
	tokens, err := chroma.Coalesce(lexerFor("go")).Tokenise(nil, string(src))
	if err != nil {
		return template.HTML(`<pre class="chroma" tabindex="0"><code>` + html.EscapeString(string(src)) + "</code></pre>")
	}
	lines := chroma.SplitTokensIntoLines(tokens.Tokens())
	// The lexer ensures a final newline, so a source ending in one does not
	// grow an empty last line.
	if from < 1 {
		from = 1
	}
	if to < 1 || to > len(lines) {
		to = len(lines)
	}
	if from > to {
		return ""
	}
	var excerpt []chroma.Token
	for _, l := range lines[from-1 : to] {
		excerpt = append(excerpt, l...)
	}
	var ranges [][2]int
	for _, h := range highlight {
		if h >= from && h <= to {
			ranges = append(ranges, [2]int{h, h})
		}
	}
	f := chromahtml.New(
		chromahtml.WithClasses(true),
		chromahtml.WithLineNumbers(true),
		chromahtml.BaseLineNumber(from),
		chromahtml.HighlightLines(ranges),
	)
	var buf bytes.Buffer
	if err := f.Format(&buf, styles.Get(lightStyle), chroma.Literator(excerpt...)); err != nil {
		return template.HTML(`<pre class="chroma" tabindex="0"><code>` + html.EscapeString(string(src)) + "</code></pre>")
	}
	return template.HTML(focusablePre(buf.Bytes()))
}

// CSS returns the stylesheet for highlighted code in both palettes: the
// light one by default, the dark one under [data-theme="dark"] on an
// ancestor (the page's <html>), and under [data-theme="auto"] when the
// system prefers dark. It is built on first use; each call returns a copy.
func CSS() []byte {
	return bytes.Clone(chromaCSS())
}

// chromaCSS builds the stylesheet once; the result never changes.
var chromaCSS = sync.OnceValue(func() []byte {
	light := cssRules(styles.Get(lightStyle))
	dark := cssRules(styles.Get(darkStyle))
	var b bytes.Buffer
	b.WriteString("/* Code highlighting: chroma " + lightStyle + " (light) and " + darkStyle + " (dark). Generated; do not edit. */\n")
	for _, r := range light {
		b.WriteString(r.selector + " { " + r.decls.String() + " }\n")
	}
	// A dark rule must also undo what the light rule for the same class sets
	// and the dark style leaves alone, or a light colour leaks into the dark
	// palette.
	lightBy := map[string]cssRule{}
	for _, r := range light {
		lightBy[r.selector] = r
	}
	var darkRules []cssRule
	seen := map[string]bool{}
	for _, r := range dark {
		seen[r.selector] = true
		r.decls = r.decls.undo(lightBy[r.selector].decls)
		darkRules = append(darkRules, r)
	}
	for _, r := range light {
		if !seen[r.selector] {
			if d := (cssDecls{}).undo(r.decls); len(d) > 0 {
				darkRules = append(darkRules, cssRule{r.selector, d})
			}
		}
	}
	writeScoped := func(scope, indent string) {
		for _, r := range darkRules {
			b.WriteString(indent + scope + " " + r.selector + " { " + r.decls.String() + " }\n")
		}
	}
	writeScoped(`[data-theme="dark"]`, "")
	b.WriteString("@media (prefers-color-scheme: dark) {\n")
	writeScoped(`[data-theme="auto"]`, "  ")
	b.WriteString("}\n")
	return b.Bytes()
})

// cssRule is one rule of chroma's stylesheet.
type cssRule struct {
	selector string
	decls    cssDecls
}

// cssDecls is a rule's declarations in order, as [name, value] pairs.
type cssDecls [][2]string

func (d cssDecls) String() string {
	parts := make([]string, len(d))
	for i, kv := range d {
		parts[i] = kv[0] + ": " + kv[1]
	}
	return strings.Join(parts, "; ") + ";"
}

// resets gives, for each property a chroma style sets on a token, the value
// that means "not set".
var resets = map[string]string{
	"color":            "inherit",
	"background-color": "transparent",
	"font-weight":      "normal",
	"font-style":       "normal",
	"text-decoration":  "none",
}

// undo returns d plus a reset for each property of other that d lacks.
func (d cssDecls) undo(other cssDecls) cssDecls {
	has := map[string]bool{}
	for _, kv := range d {
		has[kv[0]] = true
	}
	out := append(cssDecls(nil), d...)
	for _, kv := range other {
		if v, ok := resets[kv[0]]; ok && !has[kv[0]] {
			out = append(out, [2]string{kv[0], v})
			has[kv[0]] = true
		}
	}
	return out
}

// cssRules returns chroma's stylesheet for style as rules. chroma writes
// one rule per line, "selector { name: value; ... }".
func cssRules(style *chroma.Style) []cssRule {
	var buf bytes.Buffer
	f := chromahtml.New(chromahtml.WithClasses(true), chromahtml.WithCSSComments(false), chromahtml.WithLineNumbers(true))
	_ = f.WriteCSS(&buf, style) // writes to memory, cannot fail
	var rules []cssRule
	for line := range strings.Lines(buf.String()) {
		sel, body, ok := strings.Cut(line, "{")
		if !ok {
			continue
		}
		body, _, _ = strings.Cut(body, "}")
		var decls cssDecls
		for d := range strings.SplitSeq(body, ";") {
			name, value, ok := strings.Cut(d, ":")
			if name, value = strings.TrimSpace(name), strings.TrimSpace(value); ok && name != "" && value != "" {
				decls = append(decls, [2]string{name, value})
			}
		}
		rules = append(rules, cssRule{strings.TrimSpace(sel), decls})
	}
	return rules
}
