package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/gotutor/tutor/lessons"
)

// sample is one measured save.
type sample struct {
	content string        // "solution" or "starter"
	total   time.Duration // from the write to the verdict
	verdict string
	detail  string // why, when the verdict is not the one the content should get

	// The tutor's phases (zero by hand).
	noticed  time.Duration // write → the watcher's first event
	debounce time.Duration // first event → the check starts
	build    time.Duration // compile and link
	run      time.Duration // the test binary
	other    time.Duration // the rest of the check: elapsed − build − run
	reported time.Duration // the check's end → the result event is printed
	checks   int           // checks started for this save (more than 1: it ran again)
	peakRSS  int64         // the tutor's peak resident size during the check
}

// lessonResult is everything measured for one lesson.
type lessonResult struct {
	lesson      *lessons.Lesson
	handCommand string
	tutor, hand []sample
	surprises   []string // saves whose verdict is not the content's expected one
}

// event is one line of `tutor watch --json`, the fields the bench uses.
type event struct {
	Event     string           `json:"event"`
	Lesson    string           `json:"lesson"`
	Seen      *time.Time       `json:"seen"`
	Time      time.Time        `json:"time"`
	Verdict   string           `json:"verdict"`
	Summary   string           `json:"summary"`
	ElapsedMS int64            `json:"elapsed_ms"`
	Phases    map[string]int64 `json:"phases"`
}

// latency measures every lesson's saves, alternating the tutor and the
// by-hand workflow save by save.
func latency(ctx context.Context, cfg config, course *lessons.Course, bin, tmp string, rep *report, logf func(string, ...any)) error {
	tws := filepath.Join(tmp, "tutor-ws")
	hws := filepath.Join(tmp, "hand-ws")
	logf("tutor init (creates the workspace and warms the build cache)")
	if err := command(ctx, "", nil, bin, "init", "--workspace", tws); err != nil {
		return err
	}
	if err := command(ctx, "", nil, bin, "init", "--no-warm", "--workspace", hws); err != nil {
		return err
	}
	if err := exposeChecks(course, hws); err != nil {
		return err
	}
	w, err := startWatch(ctx, bin, tws)
	if err != nil {
		return err
	}
	defer w.p.stop()
	if n, err := rss(w.p.cmd.Process.Pid); err == nil {
		rep.watchIdle = n
	}

	for _, l := range cfg.lessons {
		rep.load.add()
		res := &lessonResult{lesson: l, handCommand: strings.Join(handArgs(l), " ")}
		sol, start := l.Solution().Files, l.Starter().Files
		// Warm both sides with one unmeasured save each.
		logf("%s: warming both sides", l.ID)
		if _, err := w.save(ctx, l, tws, start, 1); err != nil {
			return err
		}
		if _, err := byHand(ctx, l, hws, start, 1); err != nil {
			return err
		}
		for i := range cfg.saves {
			files, content := sol, "solution"
			if i%2 == 1 {
				files, content = start, "starter"
			}
			seq := i + 2
			// Which side goes first alternates every two saves, so each
			// content is measured in both orders.
			order := []string{"tutor", "hand"}
			if (i/2)%2 == 1 {
				order = []string{"hand", "tutor"}
			}
			for _, side := range order {
				var s sample
				var err error
				if side == "tutor" {
					s, err = w.save(ctx, l, tws, files, seq)
				} else {
					s, err = byHand(ctx, l, hws, files, seq)
				}
				if err != nil {
					return err
				}
				s.content = content
				if want := wantVerdict(content); s.verdict != want {
					res.surprises = append(res.surprises, fmt.Sprintf("%s save %d (%s): %s, want %s: %s", side, i+1, content, s.verdict, want, s.detail))
				}
				if side == "tutor" {
					res.tutor = append(res.tutor, s)
				} else {
					res.hand = append(res.hand, s)
				}
				logf("%s save %d (%s) %-5s %6d ms  %s", l.ID, i+1, content, side, s.total.Milliseconds(), s.verdict)
			}
		}
		rep.lessons = append(rep.lessons, res)
	}
	rep.load.add()
	if n, err := rss(w.p.cmd.Process.Pid); err == nil {
		rep.watchAfter = n
	}
	return nil
}

// exposeChecks turns a workspace into what a learner would have if the
// checks were not hidden: each lesson's check files become ordinary test
// files of its package (without the build-constraint line) and the harness
// becomes the package harness/.
func exposeChecks(course *lessons.Course, ws string) error {
	for _, l := range course.Lessons {
		for name, b := range l.Checks {
			_, rest, ok := bytes.Cut(b, []byte("\n"))
			if !ok || !bytes.HasPrefix(b, []byte("//go:build tutorcheck")) {
				return fmt.Errorf("%s/check/%s does not start with //go:build tutorcheck", l.ID, name)
			}
			if err := os.WriteFile(filepath.Join(ws, l.ID, name), rest, 0o644); err != nil {
				return fmt.Errorf("copy the checks of %s: %w", l.ID, err)
			}
		}
	}
	dir := filepath.Join(ws, "harness")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create harness/: %w", err)
	}
	for name, b := range course.Harness {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return fmt.Errorf("copy the harness: %w", err)
		}
	}
	return nil
}

// marked returns content under a header of seq comment lines. The header
// moves every line of code, so the compiled package differs from every
// earlier save: neither side can reuse a build, and `go test` cannot
// report a cached pass (a comment that moved no code would let it, which is
// not what a learner who changed their code gets).
func marked(b []byte, seq int) []byte {
	var out bytes.Buffer
	for range seq {
		fmt.Fprintf(&out, "// tutor-bench save %d\n", seq)
	}
	out.WriteString("\n")
	out.Write(b)
	return out.Bytes()
}

// writeLesson saves the lesson's files in place, as most editors do.
func writeLesson(ws string, l *lessons.Lesson, files map[string][]byte, seq int) error {
	for _, name := range l.Files {
		if err := os.WriteFile(filepath.Join(ws, l.ID, name), marked(files[name], seq), 0o644); err != nil {
			return fmt.Errorf("save %s/%s: %w", l.ID, name, err)
		}
	}
	return nil
}

// handArgs is the command a learner types: go test with default flags, plus
// -race when the lesson requires it.
func handArgs(l *lessons.Lesson) []string {
	args := []string{"go", "test"}
	if l.Race {
		args = append(args, "-race")
	}
	return append(args, "./"+l.ID)
}

// byHand saves the files and runs go test, timing from the write to the
// command's exit.
func byHand(ctx context.Context, l *lessons.Lesson, ws string, files map[string][]byte, seq int) (sample, error) {
	ctx, cancel := context.WithTimeout(ctx, l.Timeout+5*time.Minute)
	defer cancel()
	args := handArgs(l)
	start := time.Now()
	if err := writeLesson(ws, l, files, seq); err != nil {
		return sample{}, err
	}
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Dir = ws
	out, err := cmd.CombinedOutput()
	s := sample{total: time.Since(start), verdict: "pass", detail: failureLine(out)}
	var ee *exec.ExitError
	switch {
	case ctx.Err() != nil:
		return s, fmt.Errorf("%s: %s did not finish: %w", l.ID, strings.Join(args, " "), ctx.Err())
	case bytes.Contains(out, []byte("(cached)")):
		return s, fmt.Errorf("%s: %s reported a cached result, so nothing was measured:\n%s", l.ID, strings.Join(args, " "), out)
	case bytes.Contains(out, []byte("[build failed]")) || bytes.Contains(out, []byte("[setup failed]")):
		s.verdict = "build-error" // vet findings also end this way
	case errors.As(err, &ee):
		s.verdict = "fail"
	case err != nil:
		return s, fmt.Errorf("%s: %s: %w", l.ID, strings.Join(args, " "), err)
	}
	return s, nil
}

// watcher is a running `tutor watch --json`.
type watcher struct {
	p      *proc
	cursor int // the next line to read
}

func startWatch(ctx context.Context, bin, ws string) (*watcher, error) {
	p, err := startProc(bin, nil, "watch", "--json", "--no-warm", "--workspace", ws)
	if err != nil {
		return nil, err
	}
	w := &watcher{p: p}
	line, ok := p.out.at(ctx, 0, time.Now().Add(30*time.Second))
	var ev event
	if !ok || json.Unmarshal([]byte(line), &ev) != nil || ev.Event != "ready" {
		p.stop()
		return nil, fmt.Errorf("tutor watch did not print a ready event within 30 s; it printed:\n%s%s", p.out.text(), p.errOut.text())
	}
	// With --no-warm the ready event is printed while the file watcher is
	// still starting (it tests that events arrive, up to 1 s); give it that
	// time so the first save is not taken for the initial state.
	time.Sleep(1500 * time.Millisecond)
	w.cursor = p.out.len()
	return w, nil
}

// save writes files into the watched workspace and reads events until the
// lesson's result for this save, then waits half a second more to count a
// second check of the same save.
func (w *watcher) save(ctx context.Context, l *lessons.Lesson, ws string, files map[string][]byte, seq int) (sample, error) {
	w.cursor = w.p.out.len() // nothing before this save counts
	peak := sampleRSS(w.p.cmd.Process.Pid)
	written := time.Now()
	if err := writeLesson(ws, l, files, seq); err != nil {
		peak.stop()
		return sample{}, err
	}
	limit := l.Timeout + 3*time.Minute
	deadline := written.Add(limit)
	var s sample
	var checking *event
	var result *event
	settled := time.Time{} // once the result is in: until when to watch for another check
	for {
		wait := deadline
		if result != nil && checking == nil {
			wait = settled
		}
		line, ok := w.p.out.at(ctx, w.cursor, wait)
		if !ok {
			if result != nil && checking == nil {
				break // quiet after the result
			}
			peak.stop()
			return s, fmt.Errorf("%s: no result within %v of the save; tutor watch printed:\n%s", l.ID, limit, w.p.errOut.text())
		}
		w.cursor++
		var ev event
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			continue
		}
		if ev.Lesson != l.ID || ev.Seen == nil || ev.Seen.Before(written) {
			continue // another lesson, "check now", or an earlier save
		}
		switch ev.Event {
		case "checking":
			c := ev
			checking = &c
			s.checks++
		case "result":
			if checking == nil {
				continue
			}
			if result == nil {
				r := ev
				result = &r
				s.noticed = ev.Seen.Sub(written)
				s.debounce = checking.Time.Sub(*ev.Seen)
				s.build = time.Duration(ev.Phases["build"]) * time.Millisecond
				s.run = time.Duration(ev.Phases["run"]) * time.Millisecond
				s.other = time.Duration(ev.ElapsedMS)*time.Millisecond - s.build - s.run
				s.reported = ev.Time.Sub(checking.Time.Add(time.Duration(ev.ElapsedMS) * time.Millisecond))
				s.total = ev.Time.Sub(written)
				s.verdict = ev.Verdict
				s.detail = ev.Summary
			}
			checking = nil
			settled = time.Now().Add(500 * time.Millisecond)
		}
	}
	s.peakRSS = peak.stop()
	return s, nil
}

// wantVerdict is the verdict a content should get.
func wantVerdict(content string) string {
	if content == "solution" {
		return "pass"
	}
	return "fail"
}

// failureLine picks the first line that explains a failure in go test's
// output: a failing check's message, a vet finding or a compile error.
func failureLine(out []byte) string {
	for line := range strings.SplitSeq(string(out), "\n") {
		t := strings.TrimSpace(line)
		if strings.HasPrefix(t, "--- FAIL") || strings.HasPrefix(t, "ok ") || strings.HasPrefix(t, "FAIL") || t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		if len(t) > 200 {
			t = t[:200] + "…"
		}
		return t
	}
	return ""
}
