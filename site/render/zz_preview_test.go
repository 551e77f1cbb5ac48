package render

import (
	"fmt"
	"os"
	"testing"

	"github.com/gotutor/tutor/checker"
)

func TestZZPreview(t *testing.T) {
	many := make([]checker.Span, 120)
	for i := range many {
		start := float64(i) * 9
		many[i] = checker.Span{Label: fmt.Sprintf("job %d", i+1), StartMS: start, EndMS: start + 60 + float64(i%7)*10, Outcome: []string{"ok", "ok", "ok", "rejected", "late", "probe", "error", ""}[i%8]}
	}
	mixed := []checker.Span{
		{Label: "ping 1", StartMS: 0, EndMS: 102, Outcome: "ok"},
		{Label: "ping 2", StartMS: 1, EndMS: 205, Outcome: "ok"},
		{Label: "ping 3 with a very long label indeed", StartMS: 1, EndMS: 306, Outcome: "late"},
		{Label: "<health>", StartMS: 50, EndMS: 301, Outcome: "probe"},
		{Label: "ping 4", StartMS: 2, EndMS: 2, Outcome: "rejected"},
		{Label: "ping 5", StartMS: 3, EndMS: 45, Outcome: "error"},
	}
	body := string(Timeline(serial(), TimelineOptions{Title: "10 requests, time.Sleep in an async handler"})) +
		string(Timeline(flat(), TimelineOptions{Title: "10 requests, c.Sleep"}))
	body2 := string(Timeline(mixed, TimelineOptions{Title: "mixed outcomes"})) + string(Timeline(many, TimelineOptions{Title: "120 jobs"})) + string(Timeline(nil, TimelineOptions{}))
	for _, theme := range []string{"light", "dark"} {
		bg, fg := "#ffffff", "#1f2328"
		if theme == "dark" {
			bg, fg = "#0d1117", "#e6edf3"
		}
		page := func(b string) string {
			return `<!doctype html><html data-theme="` + theme + `"><head><meta charset="utf-8"><style>body{background:` + bg + `;color:` + fg + `;margin:8px;font-family:sans-serif}</style></head><body>` + b + `</body></html>`
		}
		os.WriteFile("/tmp/h3a/timelines-"+theme+".html", []byte(page(body)), 0o644)
		os.WriteFile("/tmp/h3a/timelines2-"+theme+".html", []byte(page(body2)), 0o644)
	}
	md, _ := os.ReadFile("testdata/lesson.md")
	h, _, _ := New().Markdown(md)
	code := Code([]byte(goSrc), 3, 9, []int{8})
	for _, theme := range []string{"light", "dark"} {
		bg, fg := "#ffffff", "#1f2328"
		if theme == "dark" {
			bg, fg = "#0d1117", "#e6edf3"
		}
		os.WriteFile("/tmp/h3a/lesson-"+theme+".html", []byte(`<!doctype html><html data-theme="`+theme+`"><head><meta charset="utf-8"><style>`+string(CSS())+`body{background:`+bg+`;color:`+fg+`;margin:8px;font-family:sans-serif}.chroma{padding:8px}.callout{border-left:4px solid #0969da;padding-left:8px}</style></head><body>`+string(h)+string(code)+`</body></html>`), 0o644)
	}
}
