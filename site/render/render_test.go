package render

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// golden compares got with testdata/name, or rewrites the file under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (run go test -update to accept):\n%s", path, firstDiff(string(got), string(want)))
	}
}

// firstDiff shows the first line where got and want differ.
func firstDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := range max(len(g), len(w)) {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return "line " + strconv.Itoa(i+1) + ":\n got: " + gl + "\nwant: " + wl
		}
	}
	return ""
}

func TestMarkdown(t *testing.T) {
	const copyButton = `<div class="code" data-lang="go"><button type="button" class="copy" aria-label="Copy code">Copy</button><pre tabindex="0" class="chroma">`
	tests := []struct {
		name string
		src  string
		want []string // substrings of the output
		not  []string // strings the output must not contain
	}{
		{
			name: "raw HTML block omitted",
			src:  "<script>alert(1)</script>\n",
			want: []string{"<!-- raw HTML omitted -->"},
			not:  []string{"<script", "alert(1)</script>"},
		},
		{
			name: "inline raw HTML omitted",
			src:  "hi <img src=x onerror=alert(1)> <b>there</b>\n",
			want: []string{"<p>hi <!-- raw HTML omitted --> <!-- raw HTML omitted -->there<!-- raw HTML omitted --></p>"},
			not:  []string{"<img", "<b>", "onerror"},
		},
		{
			name: "javascript link neutralised",
			src:  "[click](javascript:alert(1)) [CLICK](JavaScript:alert(2))\n",
			want: []string{`<a href="">click</a>`, `<a href="">CLICK</a>`},
			not:  []string{"javascript:", "JavaScript:"},
		},
		{
			name: "javascript autolink neutralised",
			src:  "<javascript:alert(1)>\n",
			not:  []string{`href="javascript`},
		},
		{
			name: "data URL neutralised",
			src:  "[x](data:text/html;base64,PHNjcmlwdD4=)\n",
			want: []string{`<a href="">x</a>`},
		},
		{
			name: "note callout",
			src:  "> [!NOTE]\n> Read this.\n",
			want: []string{`<blockquote class="callout callout-note"><p class="callout-title">Note</p>` + "\n<p>Read this.</p>\n</blockquote>"},
			not:  []string{"[!NOTE]"},
		},
		{
			name: "tip callout",
			src:  "> [!TIP]\n> Save often.\n",
			want: []string{`class="callout callout-tip"`, `<p class="callout-title">Tip</p>`},
		},
		{
			name: "important callout",
			src:  "> [!IMPORTANT]\n> Mind this.\n",
			want: []string{`class="callout callout-important"`, `<p class="callout-title">Important</p>`},
		},
		{
			name: "warning callout",
			src:  "> [!WARNING]\n> Careful.\n",
			want: []string{`class="callout callout-warning"`, `<p class="callout-title">Warning</p>`},
		},
		{
			name: "caution callout with several paragraphs",
			src:  "> [!CAUTION]\n> One.\n>\n> Two *em*.\n",
			want: []string{`<blockquote class="callout callout-caution"><p class="callout-title">Caution</p>` + "\n<p>One.</p>\n<p>Two <em>em</em>.</p>\n</blockquote>"},
		},
		{
			name: "lower-case marker",
			src:  "> [!note]\n> Read this.\n",
			want: []string{`class="callout callout-note"`},
		},
		{
			name: "marker alone is a title-only callout",
			src:  "> [!TIP]\n",
			want: []string{`<blockquote class="callout callout-tip"><p class="callout-title">Tip</p>` + "\n</blockquote>"},
		},
		{
			name: "marker followed by text on its line is no callout",
			src:  "> [!NOTE] Read this.\n",
			want: []string{"<blockquote>\n<p>[!NOTE] Read this.</p>"},
			not:  []string{"callout"},
		},
		{
			name: "unknown marker is no callout",
			src:  "> [!DANGER]\n> Boom.\n",
			want: []string{"<blockquote>\n<p>[!DANGER]\nBoom.</p>"},
			not:  []string{"callout"},
		},
		{
			name: "marker later in the quote is no callout",
			src:  "> Hello.\n> [!NOTE]\n",
			not:  []string{"callout"},
		},
		{
			name: "heading ids",
			src:  "# Top\n\n## Hello, World!\n\n## Hello, World!\n\n### `Fire` it\n",
			want: []string{`<h1 id="top">Top</h1>`, `<h2 id="hello-world">Hello, World!</h2>`, `<h2 id="hello-world-1">Hello, World!</h2>`, `<h3 id="fire-it"><code>Fire</code> it</h3>`},
		},
		{
			name: "go fence highlighted with classes and a copy button",
			src:  "```go\nfunc main() {}\n```\n",
			want: []string{copyButton, `<span class="kd">func</span>`, `<span class="nf">main</span>`},
			not:  []string{"style="},
		},
		{
			name: "go fence with extra info words",
			src:  "```go title=main.go\nvar x = 1\n```\n",
			want: []string{`data-lang="go"`, `<span class="kd">var</span>`},
		},
		{
			name: "non-Go fence",
			src:  "```python\ndef f():\n    return '<b>'\n```\n",
			want: []string{`<div class="code" data-lang="python"><button type="button" class="copy" aria-label="Copy code">Copy</button>`, `<span class="k">def</span>`, "&#39;&lt;b&gt;&#39;"},
			not:  []string{"<b>"},
		},
		{
			name: "fence without language",
			src:  "```\n<not> & highlighted\n```\n",
			want: []string{`<div class="code"><button type="button" class="copy" aria-label="Copy code">Copy</button><pre tabindex="0" class="chroma"><code><span class="line"><span class="cl">&lt;not&gt; &amp; highlighted`},
			not:  []string{"<not>", "data-lang"},
		},
		{
			name: "fence with unknown language is plain",
			src:  "```nosuchlang\nx <- y\n```\n",
			want: []string{`data-lang="nosuchlang"`, `<span class="cl">x &lt;- y`},
		},
		{
			name: "fence language escaped",
			src:  "```\"><script>\nx\n```\n",
			want: []string{`data-lang="&#34;&gt;&lt;script&gt;"`},
			not:  []string{"<script"},
		},
		{
			name: "indented code block stays plain",
			src:  "    x := 1\n",
			want: []string{"<pre><code>x := 1\n</code></pre>"},
		},
		{
			name: "GFM table, strikethrough, autolink, task list",
			src:  "| a | b |\n|---|--:|\n| 1 | 2 |\n\n~~gone~~ https://go.dev\n\n- [x] done\n",
			want: []string{`<table tabindex="0">`, `<td align="right">2</td>`, "<del>gone</del>", `<a href="https://go.dev">https://go.dev</a>`, `<input checked="" disabled="" type="checkbox"> done`},
		},
	}
	r := New()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _, err := r.Markdown([]byte(tt.src))
			if err != nil {
				t.Fatalf("Markdown(%q) error: %v", tt.src, err)
			}
			for _, w := range tt.want {
				if !strings.Contains(string(got), w) {
					t.Errorf("Markdown(%q) = %q, want it to contain %q", tt.src, got, w)
				}
			}
			for _, n := range tt.not {
				if strings.Contains(string(got), n) {
					t.Errorf("Markdown(%q) = %q, want no %q", tt.src, got, n)
				}
			}
		})
	}
}

func TestMarkdownOutline(t *testing.T) {
	tests := []struct {
		src  string
		want []Heading
	}{
		{"no headings\n", nil},
		{
			"# Lesson\n\n## First *step*\n\n### In `detail`\n\n#### Too deep\n\n## First step\n\nSetext\n------\n",
			[]Heading{
				{2, "first-step", "First step"},
				{3, "in-detail", "In detail"},
				{2, "first-step-1", "First step"},
				{2, "setext", "Setext"},
			},
		},
		{"## Raw <b>html</b> & more\n", []Heading{{2, "raw-bhtmlb--more", "Raw html & more"}}},
	}
	r := New()
	for _, tt := range tests {
		_, got, err := r.Markdown([]byte(tt.src))
		if err != nil {
			t.Fatalf("Markdown(%q) error: %v", tt.src, err)
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Markdown(%q) outline = %+v, want %+v", tt.src, got, tt.want)
		}
	}
}

func TestMarkdownGolden(t *testing.T) {
	src, err := os.ReadFile("testdata/lesson.md")
	if err != nil {
		t.Fatal(err)
	}
	got, hs, err := New().Markdown(src)
	if err != nil {
		t.Fatalf("Markdown(lesson.md) error: %v", err)
	}
	var b strings.Builder
	b.WriteString("<!-- outline:")
	for _, h := range hs {
		b.WriteString(" h" + strconv.Itoa(h.Level) + "#" + h.ID)
	}
	b.WriteString(" -->\n")
	b.WriteString(string(got))
	golden(t, "lesson.golden.html", []byte(b.String()))
}

// TestMarkdownConcurrent shares one Renderer between goroutines; run with
// -race it shows the Renderer is safe for concurrent use.
func TestMarkdownConcurrent(t *testing.T) {
	src, err := os.ReadFile("testdata/lesson.md")
	if err != nil {
		t.Fatal(err)
	}
	r := New()
	want, _, err := r.Markdown(src)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	got := make([]string, 8)
	for i := range got {
		wg.Go(func() { // exits when its one render is done
			h, _, _ := r.Markdown(src)
			got[i] = string(h)
		})
	}
	wg.Wait()
	for i, g := range got {
		if g != string(want) {
			t.Errorf("concurrent Markdown #%d differs from the serial one", i)
		}
	}
}

func FuzzMarkdown(f *testing.F) {
	for _, s := range []string{
		"# hi\n\n> [!NOTE]\n> x\n",
		"<script>alert(1)</script>",
		"```go\nfunc main() {}\n```\n",
		"```<script>\nx\n```\n",
		"[a](javascript:alert(1)) <javascript:x> <SCRIPT>",
		"> [!TIP]\n",
		"| a |\n|---|\n| <script> |\n",
		"`<script>` ~~<script>~~ *<script>*",
	} {
		f.Add([]byte(s))
	}
	r := New()
	f.Fuzz(func(t *testing.T, src []byte) {
		got, _, err := r.Markdown(src)
		if err != nil {
			t.Fatalf("Markdown(%q) error: %v", src, err)
		}
		if strings.Contains(strings.ToLower(string(got)), "<script") {
			t.Fatalf("Markdown(%q) = %q, which contains <script", src, got)
		}
	})
}
