package render

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const goSrc = `package main

import "fmt"

/* a comment
that spans lines */
func main() {
	fmt.Println("<hi>")
}
`

func TestCode(t *testing.T) {
	tests := []struct {
		name      string
		from, to  int
		highlight []int
		lines     []int // the line numbers shown, in order
		hl        []int // the lines marked "hl"
	}{
		{"whole file", 1, 9, nil, []int{1, 2, 3, 4, 5, 6, 7, 8, 9}, nil},
		{"to past the end", 7, 99, []int{8}, []int{7, 8, 9}, []int{8}},
		{"to zero means the end", 8, 0, nil, []int{8, 9}, nil},
		{"from below one", -3, 2, []int{1}, []int{1, 2}, []int{1}},
		{"context around an error", 6, 8, []int{7, 3, 12}, []int{6, 7, 8}, []int{7}},
		{"several highlights", 1, 9, []int{8, 3}, []int{1, 2, 3, 4, 5, 6, 7, 8, 9}, []int{3, 8}},
		{"from after to", 8, 7, []int{8}, nil, nil},
		{"from past the end", 20, 30, nil, nil, nil},
	}
	lineRE := regexp.MustCompile(`<span class="line( hl)?"><span class="ln">\s*(\d+)</span>`)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := string(Code([]byte(goSrc), tt.from, tt.to, tt.highlight))
			var lines, hl []int
			for _, m := range lineRE.FindAllStringSubmatch(got, -1) {
				n, _ := strconv.Atoi(m[2])
				lines = append(lines, n)
				if m[1] != "" {
					hl = append(hl, n)
				}
			}
			if !slices.Equal(lines, tt.lines) || !slices.Equal(hl, tt.hl) {
				t.Errorf("Code(%d, %d, %v) shows lines %v with hl %v, want %v with hl %v", tt.from, tt.to, tt.highlight, lines, hl, tt.lines, tt.hl)
			}
			if len(tt.lines) == 0 && got != "" {
				t.Errorf("Code(%d, %d, %v) = %q, want empty", tt.from, tt.to, tt.highlight, got)
			}
		})
	}
}

func TestCodeTokens(t *testing.T) {
	// Line 6 closes a comment opened on line 5: it is still a comment.
	got := string(Code([]byte(goSrc), 6, 8, nil))
	for _, want := range []string{`<span class="cm">that spans lines */</span>`, `<span class="kd">func</span>`, `&#34;&lt;hi&gt;&#34;`, `<pre tabindex="0" class="chroma">`} {
		if !strings.Contains(got, want) {
			t.Errorf("Code(6, 8) = %q, want it to contain %q", got, want)
		}
	}
	for _, not := range []string{"<hi>", "style=", "package"} {
		if strings.Contains(got, not) {
			t.Errorf("Code(6, 8) = %q, want no %q", got, not)
		}
	}
}

func TestCSS(t *testing.T) {
	css := string(CSS())
	for _, want := range []string{
		".chroma .kd { color: #cf222e; }",
		`[data-theme="dark"] .chroma .kd { color: #ff7b72; }`,
		"@media (prefers-color-scheme: dark) {\n",
		`  [data-theme="auto"] .chroma .kd { color: #ff7b72; }`,
		".chroma .hl {",
		`[data-theme="dark"] .chroma .hl {`,
		".chroma .ln {",
	} {
		if !strings.Contains(css, want) {
			t.Errorf("CSS() does not contain %q", want)
		}
	}
	// Every property a light rule sets must be set again by the dark rule
	// for the same selector, or the light value shows through in dark mode.
	light := map[string][]string{}
	dark := map[string]string{}
	ruleRE := regexp.MustCompile(`(?m)^(\[data-theme="dark"\] )?(\.[^{]+?) \{ (.*) \}$`)
	for _, m := range ruleRE.FindAllStringSubmatch(css, -1) {
		if m[1] == "" {
			for d := range strings.SplitSeq(m[3], ";") {
				if name, _, ok := strings.Cut(d, ":"); ok {
					light[m[2]] = append(light[m[2]], strings.TrimSpace(name))
				}
			}
		} else {
			dark[m[2]] = m[3]
		}
	}
	if len(light) < 20 {
		t.Fatalf("CSS() has %d light rules, want the whole github style", len(light))
	}
	for sel, props := range light {
		for _, p := range props {
			if _, ok := resets[p]; ok && !strings.Contains(dark[sel], p+":") {
				t.Errorf("CSS(): light rule %q sets %s, but the dark rule (%q) does not", sel, p, dark[sel])
			}
		}
	}
	// The caller owns the bytes it gets.
	b := CSS()
	b[0] = 'X'
	if CSS()[0] == 'X' {
		t.Errorf("CSS() returned shared bytes: a change by one caller shows in the next call")
	}
}
