package e2e

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestPresenter drives presenter mode at 1024×768 and 1920×1080, light and
// dark: a demo run of lesson 02's starter against its solution (two
// timelines side by side), then the Fire panel against the learner's code.
// The checks panel must sit beside the text with the verdict on screen, the
// presenter's own file must be untouched, and axe-core must find no serious
// or critical violation. Screenshots go to TUTOR_E2E_SCREENSHOTS if set.
func TestPresenter(t *testing.T) {
	dir := os.Getenv("TUTOR_E2E_SCREENSHOTS")
	if dir == "" {
		dir = t.TempDir()
	}
	os.MkdirAll(dir, 0o755)
	c := course(t)
	l, _ := c.Lesson("02")
	s := startTutor(t)
	file := filepath.Join(s.ws, l.ID, l.Files[0])
	mine, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	ctx, _ := tab(t)
	shot := func(name string) {
		png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(dir, name+".png")
		os.WriteFile(out, png, 0o644)
		t.Logf("wrote %s", out)
	}
	wait := func(js string, limit time.Duration) {
		t.Helper()
		for start := time.Now(); time.Since(start) < limit; time.Sleep(100 * time.Millisecond) {
			ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](js))
			if err == nil && ok {
				return
			}
		}
		flash, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById('flash').textContent`))
		t.Fatalf("waited %v for %s; flash: %q", limit, js, flash)
	}
	// The p key turns presenter mode on and off, and says so in the address.
	err = chromedp.Do(ctx,
		chromedp.EmulateViewport(1024, 768),
		chromedp.Navigate(s.url+"lesson/"+l.ID),
		chromedp.KeyEvent("p"),
		chromedp.Sleep(100*time.Millisecond),
	)
	if err != nil {
		t.Fatal(err)
	}
	state, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.hasAttribute('data-present') + ' ' + location.search + ' ' + document.querySelector('a[rel="next"]').getAttribute('href')`))
	if state != "true ?present=1 /lesson/03-await?present=1" {
		t.Errorf("after p: presenter mode, address, next link = %q", state)
	}
	chromedp.Do(ctx, chromedp.KeyEvent("p"), chromedp.Sleep(100*time.Millisecond))
	state, _ = chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.hasAttribute('data-present') + ' ' + location.search`))
	if state != "false " {
		t.Errorf("after p again: %q", state)
	}

	// A check of the presenter's own file first (the starter fails): in
	// presenter mode its verdict and timeline are on screen beside the text.
	err = chromedp.Do(ctx,
		chromedp.EmulateViewport(1024, 768),
		chromedp.Navigate(s.url+"lesson/"+l.ID+"?present=1"),
		chromedp.Click(chromedp.CSS(`form[action$="/check"] button`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	waitVerdict(t, ctx, "fail", 90*time.Second)
	chromedp.Do(ctx, chromedp.Sleep(300*time.Millisecond))
	onScreen, err := chromedp.Run(ctx, chromedp.Evaluate[string](`['#verdict .headline', '#verdict .timeline-figure svg'].map(q => {
		const e = document.querySelector(q); if (!e) return q + ' missing';
		const r = e.getBoundingClientRect(); return r.top >= 0 && r.top < innerHeight - 60 ? 'ok' : q + ' off screen at ' + Math.round(r.top);
	}).join(', ')`))
	if err != nil || onScreen != "ok, ok" {
		t.Errorf("presenter mode at 1024×768 after a check: %s %v", onScreen, err)
	}
	shot("presenter-1024x768-verdict")

	first := true
	for _, size := range []struct{ w, h int64 }{{1024, 768}, {1920, 1080}} {
		for _, theme := range []string{"light", "dark"} {
			name := fmt.Sprintf("presenter-%dx%d-%s", size.w, size.h, theme)
			err := chromedp.Do(ctx,
				chromedp.EmulateViewport(size.w, size.h),
				chromedp.Navigate(s.url+"lesson/"+l.ID+"?present=1"),
				chromedp.Evaluate[chromedp.Void](`localStorage.setItem('tutor-theme','`+theme+`'); document.documentElement.setAttribute('data-theme','`+theme+`')`),
				chromedp.Sleep(200*time.Millisecond),
			)
			if err != nil {
				t.Fatal(err)
			}
			// Beside the text, not under it, and the verdict on screen.
			layout, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => {
				const a = document.querySelector('article.lesson').getBoundingClientRect();
				const p = document.querySelector('.panel').getBoundingClientRect();
				const v = document.querySelector('#verdict').getBoundingClientRect();
				const fs = parseFloat(getComputedStyle(document.body).fontSize);
				return [p.left >= a.right - 1, v.top >= 0 && v.top < innerHeight - 40, fs].join(' ');
			})()`))
			if err != nil {
				t.Fatal(err)
			}
			var beside, visible bool
			var fontPx float64
			fmt.Sscan(strings.ReplaceAll(layout, " ", "\n"), &beside, &visible, &fontPx)
			if !beside || !visible {
				t.Errorf("%s: panel beside the text %v, verdict on screen %v", name, beside, visible)
			}
			if fontPx < 20 {
				t.Errorf("%s: body text %.1f px, want large type (≥ 20 px)", name, fontPx)
			}
			// A demo run: starter before, solution after (an explicit choice
			// before passing), then N requests fired at the learner's code.
			err = chromedp.Do(ctx,
				chromedp.Evaluate[chromedp.Void](`document.querySelector('select[name="before"]').value = 'starter';
					document.querySelector('select[name="after"]').value = 'solution';
					document.querySelector('.demo-force input').checked = true`),
				chromedp.Click(chromedp.CSS(`.demo-form button`)),
			)
			if err != nil {
				t.Fatal(err)
			}
			if first {
				chromedp.Do(ctx, chromedp.Sleep(300*time.Millisecond))
				shot(name + "-running")
			}
			wait(`document.querySelectorAll('#demo-out svg').length === 2`, 90*time.Second)
			err = chromedp.Do(ctx,
				chromedp.Evaluate[chromedp.Void](`document.querySelector('.fire-form input[name="n"]').value = '10'`),
				chromedp.Click(chromedp.CSS(`.fire-form button`)),
			)
			if err != nil {
				t.Fatal(err)
			}
			wait(`document.querySelectorAll('#fire-out svg').length === 1`, 90*time.Second)
			demo, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById('demo-out').innerText`))
			if !strings.Contains(demo, "not yet") || !strings.Contains(demo, "passed") {
				t.Errorf("%s: demo panel does not show a failing starter and a passing solution:\n%s", name, demo)
			}
			chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`document.getElementById('demo').scrollIntoView()`), chromedp.Sleep(200*time.Millisecond))
			shot(name)
			// One time scale: both charts end their axis on the same tick,
			// and the verdict pill is still on screen with the demo in view.
			scale, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`[...document.querySelectorAll('#demo-out svg')].map(s => {
				const ticks = [...s.querySelectorAll('text.tl-small[text-anchor="middle"]')];
				return ticks.length ? ticks[ticks.length-1].textContent : '';
			}).join(' vs ')`))
			if parts := strings.Split(scale, " vs "); len(parts) != 2 || parts[0] == "" || parts[0] != parts[1] {
				t.Errorf("%s: the two demo charts end on different ticks: %s", name, scale)
			}
			pill, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => { const r = document.querySelector('[data-verdict-pill]').getBoundingClientRect(); return r.top >= 0 && r.bottom <= innerHeight && r.width > 0; })()`))
			if !pill {
				t.Errorf("%s: the verdict pill is off screen while the demo is shown", name)
			}
			chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`document.getElementById('fire').scrollIntoView()`), chromedp.Sleep(200*time.Millisecond))
			shot(name + "-fire")
			if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](axeJS)); err != nil {
				t.Fatal(err)
			}
			vs, err := chromedp.Run(ctx, chromedp.Evaluate[[]violation](runAxe, chromedp.EvalAwaitPromise))
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range vs {
				t.Errorf("%s: %s %s: %s\n    %s", name, v.Impact, v.ID, v.Help, strings.Join(v.Nodes, "\n    "))
			}
			first = false
		}
	}
	if now, _ := os.ReadFile(file); !bytes.Equal(now, mine) {
		t.Errorf("a demo run changed the presenter's %s", l.Files[0])
	}
}
