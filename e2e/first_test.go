package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestFirstSavesAfterStart is issue 13's acceptance path: on a warm cache,
// start the tutor, open lesson 02 and save at once — a wrong version, then,
// 0.3 s after its failure is shown, the solution — in each of the five
// editor styles, every save a real change. Every pass, the first one after
// the start included, must be shown within 1.5 s of its save: nothing the
// tutor does by itself (start-up, warming) may hold a save back.
//
// From the second style on, a pass later than 1.5 s is saved once more (a
// new change) and judged on that second save: a tutor that holds saves back
// is late both times, a machine that stalled once is not. The first pass
// after the start gets no second try: it is the one start-up work would
// delay.
func TestFirstSavesAfterStart(t *testing.T) {
	const bound = 1500 * time.Millisecond
	c := course(t)
	l, _ := c.Lesson("02")
	s := startTutor(t)
	ctx, _ := tab(t)
	file := filepath.Join(s.ws, l.ID, l.Files[0])
	wrong := l.Variant("wrong-tiny-sleeps").Files[l.Files[0]]
	solution := l.Solution().Files[l.Files[0]]
	if err := chromedp.Do(ctx, chromedp.Navigate(s.url+"lesson/02")); err != nil {
		t.Fatal(err)
	}
	n := 0
	change := func(b []byte) []byte { // every save a real change
		n++
		return fmt.Appendf(append([]byte{}, b...), "\n// save %d\n", n)
	}
	var passes []time.Duration
	for i, st := range editorStyles(t, file) {
		if err := st.save(change(wrong)); err != nil {
			t.Fatalf("%s: save the wrong version: %v", st.name, err)
		}
		waitVerdict(t, ctx, "fail", 15*time.Second)
		time.Sleep(300 * time.Millisecond) // the learner reads the failure
		d := time.Duration(0)
		tries := 2
		if i == 0 {
			tries = 1
		}
		for try := 1; try <= tries; try++ {
			if err := st.save(change(solution)); err != nil {
				t.Fatalf("%s: save the solution: %v", st.name, err)
			}
			d = waitVerdict(t, ctx, "pass", 10*time.Second)
			t.Logf("%s: pass shown %v after the save (try %d)", st.name, d.Round(time.Millisecond), try)
			if d <= bound {
				break
			}
			if try < tries { // back to a failure before the second try
				st.save(change(wrong))
				waitVerdict(t, ctx, "fail", 15*time.Second)
				time.Sleep(300 * time.Millisecond)
			}
		}
		passes = append(passes, d)
		if d > bound {
			load := loadAverage()
			if load > overloaded {
				// The promise is for a machine the checks are designed for
				// (up to two busy processes per core); beyond that no
				// latency holds, and the figure is only reported.
				t.Logf("%s: pass shown %v after the save, over %v, not judged: 1-minute load average %.1f > %.0f (more than two busy processes per CPU)", st.name, d.Round(time.Millisecond), bound, load, overloaded)
				continue
			}
			t.Errorf("%s: pass shown %v after the save, over %v (1-minute load average %.1f)", st.name, d.Round(time.Millisecond), bound, load)
		}
	}
	t.Logf("passes shown after: %v", passes)
}

// overloaded is the 1-minute load average above which a late pass is
// reported rather than judged: two busy processes per CPU.
var overloaded = float64(2 * runtime.NumCPU())

// loadAverage returns the 1-minute load average, or 0 where it cannot be read.
func loadAverage() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0
	}
	v, _ := strconv.ParseFloat(f[0], 64)
	return v
}
