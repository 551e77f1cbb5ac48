package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// labKnobs are small settings for each lab, so a run takes a second or two.
var labKnobs = map[string]map[string]string{
	"async-vs-sync": {"unit": "50ms", "n": "20,40,80,120"},
	"cores":         {"jobs": "8", "unit": "5ms", "deadline": "20ms", "rounds": "1"},
	"workers":       {"workers": "1,2", "pool": "10", "requests": "40", "blocking": "4", "unit": "20ms"},
	"queue":         {"pool": "2", "service": "5ms", "loads": "50,90", "requests": "40"},
}

// setKnobs fills the lab form's fields.
func setKnobs(knobs map[string]string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		for k, v := range knobs {
			if err := chromedp.Do(ctx, chromedp.SetValue(chromedp.ID("knob-"+k), v)); err != nil {
				return chromedp.Void{}, fmt.Errorf("set knob %s: %w", k, err)
			}
		}
		return chromedp.Void{}, nil
	}
}

// labStatus returns the status line's kind and text.
func labStatus(t *testing.T, ctx context.Context) (kind, text string) {
	t.Helper()
	st, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`(() => { const s = document.getElementById('lab-status'); return [s.dataset.kind || '', s.textContent]; })()`))
	if err != nil || len(st) != 2 {
		t.Fatalf("read the lab status: %v", err)
	}
	return st[0], st[1]
}

// waitLabStatus polls the status line until its kind is want.
func waitLabStatus(t *testing.T, ctx context.Context, want string, limit time.Duration) string {
	t.Helper()
	start := time.Now()
	kind, text := "", ""
	for time.Since(start) < limit {
		kind, text = labStatus(t, ctx)
		if kind == want {
			return text
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("lab status is %q (%q) after %v, want %q", kind, text, limit, want)
	return ""
}

// TestLabPages opens every lab the course map links to, presses Run with
// small knobs, waits for the chart and the table, and then, light and dark
// at 1280 and 390 px, checks the chart is drawn within the page's width,
// takes a screenshot (into TUTOR_E2E_SCREENSHOTS if set) and runs axe-core:
// no serious or critical violation.
func TestLabPages(t *testing.T) {
	s := startTutor(t)
	ctx, _ := tab(t)
	dir := os.Getenv("TUTOR_E2E_SCREENSHOTS")
	if dir == "" {
		dir = t.TempDir()
	}
	os.MkdirAll(dir, 0o755)
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900), chromedp.Navigate(s.url)); err != nil {
		t.Fatal(err)
	}
	labs, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('a[href^="/lab/"]')].map(a => a.getAttribute('href').slice(5))`))
	if err != nil {
		t.Fatal(err)
	}
	if len(labs) != len(labKnobs) {
		t.Fatalf("the course map links to labs %v, want the %d labs", labs, len(labKnobs))
	}
	for _, name := range labs {
		knobs, ok := labKnobs[name]
		if !ok {
			t.Fatalf("no small knobs for lab %s", name)
		}
		err := chromedp.Do(ctx,
			chromedp.EmulateViewport(1280, 900),
			chromedp.Navigate(s.url+"lab/"+name),
			chromedp.Evaluate[chromedp.Void](`localStorage.setItem('tutor-theme','light'); document.documentElement.setAttribute('data-theme','light')`),
		)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if name == "async-vs-sync" {
			// Before any run: the blog's own numbers, drawn and in the table.
			got, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelectorAll('#lab-chart path.series').length + ' ' + document.getElementById('lab-table').tBodies[0].textContent`))
			if err != nil || !strings.HasPrefix(got, "2 ") || !strings.Contains(got, "6.14 s") || !strings.Contains(got, "2.06 s") {
				t.Errorf("before a run, the async-vs-sync page shows %q (%v); want the blog's two lines and its 2.06…6.14 s", got, err)
			}
		}
		err = chromedp.Do(ctx,
			setKnobs(knobs),
			chromedp.Click(chromedp.ID("lab-run")),
		)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		// The chart fills in as rows arrive: some status between the first
		// row and the last shows a partial count with lines drawn.
		partial := ""
		deadline := time.Now().Add(60 * time.Second)
		for {
			kind, text := labStatus(t, ctx)
			if kind == "done" {
				t.Logf("%s: %s", name, text)
				break
			}
			if kind == "busy" && partial == "" && strings.Contains(text, " of ") && !strings.HasPrefix(text, "Running: 0 of") {
				n, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('#lab-chart path.series').length`))
				if n > 0 {
					partial = text
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: status %q (%s) after 60 s, want done", name, text, kind)
			}
			time.Sleep(20 * time.Millisecond)
		}
		if name == "async-vs-sync" && partial == "" {
			t.Errorf("%s: never saw the chart with some rows but not all", name)
		}
		t.Logf("%s: seen while running: %q", name, partial)
		rows, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('#lab-table tbody tr').length`))
		if err != nil || rows == 0 {
			t.Errorf("%s: the table has %d rows (%v)", name, rows, err)
		}
		for _, width := range []int64{1280, 390} {
			for _, theme := range []string{"light", "dark"} {
				view := fmt.Sprintf("%s (%s, %d px)", name, theme, width)
				err := chromedp.Do(ctx,
					chromedp.EmulateViewport(width, 900),
					chromedp.Click(chromedp.CSS(`[data-theme-choice="`+theme+`"]`)),
					chromedp.Evaluate[chromedp.Void](`window.dispatchEvent(new Event('resize'))`),
					chromedp.Sleep(400*time.Millisecond), // the chart redraws 150 ms after a resize
				)
				if err != nil {
					t.Fatalf("%s: %v", view, err)
				}
				// The chart: lines drawn, and no wider than the page.
				got, err := chromedp.Run(ctx, chromedp.Evaluate[[]int](`(() => { const svg = document.querySelector('#lab-chart svg.lab-svg');
					return svg ? [svg.querySelectorAll('path.series').length, Math.round(svg.getBoundingClientRect().right), document.documentElement.clientWidth, document.documentElement.scrollWidth] : [0, 0, 0, 0]; })()`))
				if err != nil || len(got) != 4 {
					t.Fatalf("%s: read the chart: %v", view, err)
				}
				if got[0] == 0 {
					t.Errorf("%s: no line drawn in the chart", view)
				}
				if got[1] > got[2] || got[3] > got[2] {
					t.Errorf("%s: the chart ends at %d px / the page scrolls to %d px, wider than the %d px window", view, got[1], got[3], got[2])
				}
				png, err := chromedp.Run(ctx, chromedp.FullScreenshot(90))
				if err != nil {
					t.Fatal(err)
				}
				out := filepath.Join(dir, fmt.Sprintf("lab-%s-%s-%d.png", name, theme, width))
				os.WriteFile(out, png, 0o644)
				if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](axeJS)); err != nil {
					t.Fatal(err)
				}
				vs, err := chromedp.Run(ctx, chromedp.Evaluate[[]violation](runAxe, chromedp.EvalAwaitPromise))
				if err != nil {
					t.Fatalf("axe on %s: %v", view, err)
				}
				for _, v := range vs {
					t.Errorf("%s: %s %s: %s\n    %s", view, v.Impact, v.ID, v.Help, strings.Join(v.Nodes, "\n    "))
				}
			}
		}
	}
	t.Logf("screenshots in %s", dir)
}

// TestLabRefusalsAndSaves: a knob the lab cannot use is refused in one line
// with the field marked; a save checked while a lab runs stops the lab, and
// the page says why.
func TestLabRefusalsAndSaves(t *testing.T) {
	c := course(t)
	l, _ := c.Lesson("02")
	s := startTutor(t)
	ctx, _ := tab(t)
	err := chromedp.Do(ctx,
		chromedp.Navigate(s.url+"lab/queue"),
		setKnobs(map[string]string{"pool": "zero"}),
		chromedp.Click(chromedp.ID("lab-run")),
	)
	if err != nil {
		t.Fatal(err)
	}
	text := waitLabStatus(t, ctx, "error", 10*time.Second)
	if !strings.Contains(text, `pool: "zero" is not a whole number`) {
		t.Errorf("status after a bad knob = %q, want the knob's one-line error", text)
	}
	if inv, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById('knob-pool').getAttribute('aria-invalid') || ''`)); inv != "true" {
		t.Errorf("the bad field is not marked aria-invalid (%q)", inv)
	}

	// A long run (about 20 s), then a save.
	err = chromedp.Do(ctx,
		setKnobs(map[string]string{"pool": "4", "loads": "50", "requests": "2000", "service": "20ms"}),
		chromedp.Click(chromedp.ID("lab-run")),
	)
	if err != nil {
		t.Fatal(err)
	}
	waitLabStatus(t, ctx, "busy", 10*time.Second)
	time.Sleep(300 * time.Millisecond)
	// The solution: a change (the workspace holds the starter), so it is checked.
	if err := os.WriteFile(filepath.Join(s.ws, l.ID, l.Files[0]), l.Solution().Files[l.Files[0]], 0o644); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	text = waitLabStatus(t, ctx, "stopped", 15*time.Second)
	t.Logf("stopped %v after the save: %q", time.Since(start).Round(time.Millisecond), text)
	if text != "stopped: your save is being checked" {
		t.Errorf("status = %q, want \"stopped: your save is being checked\"", text)
	}

	// Stop ends the request, which ends the run on the tutor: the next run
	// is not refused as "already running". (While the save's check runs,
	// a run is refused for that reason instead; wait for the verdict.)
	time.Sleep(time.Second)
	for range 60 {
		err = chromedp.Do(ctx, chromedp.Click(chromedp.ID("lab-run")))
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(300 * time.Millisecond)
		if kind, _ := labStatus(t, ctx); kind == "busy" {
			break
		}
		time.Sleep(time.Second) // refused: the check still runs
	}
	waitLabStatus(t, ctx, "busy", 5*time.Second)
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("lab-stop"))); err != nil {
		t.Fatal(err)
	}
	if text := waitLabStatus(t, ctx, "stopped", 5*time.Second); text != "stopped: you pressed Stop" {
		t.Errorf("status after Stop = %q", text)
	}
	err = chromedp.Do(ctx,
		setKnobs(map[string]string{"pool": "2", "service": "1ms", "loads": "50", "requests": "20"}),
		chromedp.Click(chromedp.ID("lab-run")),
	)
	if err != nil {
		t.Fatal(err)
	}
	if text := waitLabStatus(t, ctx, "done", 10*time.Second); !strings.Contains(text, "Little") {
		t.Errorf("a run after Stop: status %q, want done with Little's law", text)
	}
}
