package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// objectiveRow is one row of the objectives table as the browser shows it.
type objectiveRow struct {
	Name string `json:"name"`
	Met  string `json:"met"`
	Text string `json:"text"`
}

// objectiveRows reads the objectives table of the result panel.
func objectiveRows(t *testing.T, ctx context.Context) []objectiveRow {
	t.Helper()
	rows, err := chromedp.Run(ctx, chromedp.Evaluate[[]objectiveRow](`Array.from(document.querySelectorAll('#verdict table.objectives tbody tr')).map(tr => ({name: tr.querySelector('code').textContent, met: tr.dataset.met, text: tr.innerText}))`))
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// TestCapstoneObjectives saves lesson 14's starter, then its solution, and
// reads the objectives table the page shows above the checks: one row per
// objective, with its target and what was measured; the objectives the
// starter must fail shown not met, and every row met for the solution. With TUTOR_E2E_SCREENSHOTS set, it saves the result
// panel after each save, for a person to look at.
func TestCapstoneObjectives(t *testing.T) {
	c := course(t)
	l, err := c.Lesson("14")
	if err != nil {
		t.Fatal(err)
	}
	s := startTutor(t)
	ctx, _ := tab(t)
	file := filepath.Join(s.ws, l.ID, l.Files[0])
	dir := os.Getenv("TUTOR_E2E_SCREENSHOTS")
	shot := func(name string) {
		if dir == "" {
			return
		}
		os.MkdirAll(dir, 0o755)
		chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`(() => { const p = document.querySelector('.panel'); if (p) { p.style.position = 'static'; p.style.maxHeight = 'none'; p.style.overflow = 'visible'; } })()`))
		png, err := chromedp.Run(ctx, chromedp.Screenshot(chromedp.CSS(".checks")))
		if err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(dir, name)
		os.WriteFile(out, png, 0o644)
		t.Logf("wrote %s", out)
	}
	// axe-core on the result, light and dark: the table's colours and
	// structure must not break what TestAccessibility holds for the rest.
	axeHere := func(when string) {
		for _, theme := range []string{"light", "dark"} {
			err := chromedp.Do(ctx,
				chromedp.Evaluate[chromedp.Void](`document.documentElement.setAttribute('data-theme','`+theme+`')`),
				chromedp.Sleep(150*time.Millisecond),
				chromedp.Evaluate[chromedp.Void](axeJS))
			if err != nil {
				t.Fatal(err)
			}
			vs, err := chromedp.Run(ctx, chromedp.Evaluate[[]violation](runAxe, chromedp.EvalAwaitPromise))
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range vs {
				t.Errorf("%s (%s): %s %s: %s\n    %s", when, theme, v.Impact, v.ID, v.Help, strings.Join(v.Nodes, "\n    "))
			}
		}
		chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`document.documentElement.setAttribute('data-theme','light')`))
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 800), chromedp.Navigate(s.url+"lesson/14")); err != nil {
		t.Fatal(err)
	}

	// The workspace already holds the starter, so saving it again changes
	// nothing: check it with the page's button, as a learner would.
	os.WriteFile(file, l.Starter().Files[l.Files[0]], 0o644)
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`form[action$="/check"] button`))); err != nil {
		t.Fatal(err)
	}
	waitVerdict(t, ctx, "fail", 3*time.Minute)
	rows := objectiveRows(t, ctx)
	if len(rows) != 8 {
		t.Fatalf("the starter's objectives table has %d rows, want one per check (8): %+v", len(rows), rows)
	}
	// The objectives the starter's traps always miss (lesson.md, failing:).
	missed := map[string]bool{}
	for _, name := range l.Starter().Failing {
		missed[name] = true
	}
	for _, r := range rows {
		if missed[r.Name] && r.Met != "false" {
			t.Errorf("starter: objective %s is shown met, want not met: %q", r.Name, r.Text)
		}
		if !strings.Contains(r.Text, "at most") && !strings.Contains(r.Text, "at least") {
			t.Errorf("starter: objective %s shows no target: %q", r.Name, r.Text)
		}
		delete(missed, r.Name)
	}
	if len(missed) > 0 {
		t.Errorf("objectives missing from the table: %v", missed)
	}
	axeHere("after the starter")
	shot("capstone-starter.png")

	os.WriteFile(file, l.Solution().Files[l.Files[0]], 0o644)
	waitVerdict(t, ctx, "pass", 3*time.Minute)
	rows = objectiveRows(t, ctx)
	if len(rows) != 8 {
		t.Fatalf("the solution's objectives table has %d rows, want 8: %+v", len(rows), rows)
	}
	for _, r := range rows {
		if r.Met != "true" || !strings.Contains(r.Text, "met") {
			t.Errorf("solution: objective %s is not shown met: %q", r.Name, r.Text)
		}
	}
	axeHere("after the solution")
	shot("capstone-solution.png")
}
