package e2e

import (
	_ "embed"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// axeJS is axe-core, pinned (testdata/axe/README.md).
//
//go:embed testdata/axe/axe.min.js
var axeJS string

// violation is one axe-core rule broken on a page.
type violation struct {
	ID     string   `json:"id"`
	Impact string   `json:"impact"`
	Help   string   `json:"help"`
	Nodes  []string `json:"nodes"`
}

// runAxe reports the serious and critical violations axe-core finds on the
// page the tab shows.
const runAxe = `axe.run(document, {resultTypes: ['violations']}).then(r => r.violations
  .filter(v => v.impact === 'serious' || v.impact === 'critical')
  .map(v => ({id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 4).map(n => n.target.join(' ') + ' — ' + (n.failureSummary || '').split('\n').slice(1, 2).join(''))})))`

// TestAccessibility runs axe-core on the course map, every lesson page
// (lesson 02 with a failing result drawn: checks, measures, timelines) and
// every lab page the map links to, light and dark, at 1280 and 390 px wide:
// no serious or critical violation.
func TestAccessibility(t *testing.T) {
	c := course(t)
	l, _ := c.Lesson("02")
	s := startTutor(t)
	ctx, _ := tab(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(s.url+"lesson/"+l.ID), chromedp.Click(chromedp.CSS(`form[action$="/check"] button`))); err != nil {
		t.Fatal(err)
	}
	waitVerdict(t, ctx, "fail", 60*time.Second)
	// And a pass, so the map and a verdict show the "passed" colours.
	p, _ := c.Lesson("06")
	if err := chromedp.Do(ctx, chromedp.Navigate(s.url+"lesson/"+p.ID)); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(s.ws, p.ID, p.Files[0]), p.Solution().Files[p.Files[0]], 0o644); err != nil {
		t.Fatal(err)
	}
	waitVerdict(t, ctx, "pass", 60*time.Second)

	pages := []string{""}
	for _, o := range c.Lessons {
		pages = append(pages, "lesson/"+o.ID)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(s.url)); err != nil {
		t.Fatal(err)
	}
	labs, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...new Set([...document.querySelectorAll('a[href^="/lab/"]')].map(a => a.getAttribute('href').slice(1)))]`))
	if err != nil {
		t.Fatal(err)
	}
	pages = append(pages, labs...)
	t.Logf("pages: %s", strings.Join(pages, ", "))

	checked := 0
	for _, width := range []int64{1280, 390} {
		for _, theme := range []string{"light", "dark"} {
			for _, page := range pages {
				err := chromedp.Do(ctx,
					chromedp.EmulateViewport(width, 900),
					chromedp.Navigate(s.url+page),
					chromedp.Evaluate[chromedp.Void](`localStorage.setItem('tutor-theme','`+theme+`'); document.documentElement.setAttribute('data-theme','`+theme+`')`),
					chromedp.Sleep(150*time.Millisecond),
					chromedp.Evaluate[chromedp.Void](axeJS),
				)
				if err != nil {
					t.Fatalf("%s (%s, %d px): %v", page, theme, width, err)
				}
				vs, err := chromedp.Run(ctx, chromedp.Evaluate[[]violation](runAxe, chromedp.EvalAwaitPromise))
				if err != nil {
					t.Fatalf("axe on %s (%s, %d px): %v", page, theme, width, err)
				}
				checked++
				for _, v := range vs {
					t.Errorf("/%s (%s, %d px): %s %s: %s\n    %s", page, theme, width, v.Impact, v.ID, v.Help, strings.Join(v.Nodes, "\n    "))
				}
			}
		}
	}
	if checked == 0 {
		t.Fatal("no page checked")
	}
	t.Logf("axe-core ran on %d page views", checked)
}
