package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"time"

	"github.com/gotutor/tutor/lessons"
)

var urlRE = regexp.MustCompile(`The course is at (http://\S+/)`)

// resultRE matches the line `tutor serve` prints for a result.
var resultRE = regexp.MustCompile(`^(\d\d-[a-z0-9-]+)  `)

// pageLesson is the lesson whose page is timed.
const pageLesson = "02-event-loop"

// serving starts `tutor serve` on a fresh workspace (with an empty Go build
// cache when cfg.cold) and measures the start, the tutor's memory when idle
// and during a check, and the time to serve a rendered lesson page.
func serving(ctx context.Context, cfg config, bin, tmp string, rep *report, logf func(string, ...any)) error {
	ws := filepath.Join(tmp, "serve-ws")
	var env []string
	if cfg.cold {
		cache := filepath.Join(tmp, "gocache")
		if err := os.MkdirAll(cache, 0o755); err != nil {
			return fmt.Errorf("create an empty build cache: %w", err)
		}
		env = append(env, "GOCACHE="+cache)
		logf("cold start: tutor serve with an empty GOCACHE (a minute or more)")
	} else {
		logf("warm start: tutor serve with the usual GOCACHE")
	}
	rep.coldCache = cfg.cold
	rep.load.add()
	start := time.Now()
	p, err := startProc(bin, env, "serve", "--addr", "127.0.0.1:0", "--workspace", ws)
	if err != nil {
		return err
	}
	defer p.stop()
	cursor := 0
	// next returns the next line of the tutor's output matching re.
	next := func(re *regexp.Regexp, limit time.Duration) ([]string, error) {
		deadline := time.Now().Add(limit)
		for {
			line, ok := p.out.at(ctx, cursor, deadline)
			if !ok {
				return nil, fmt.Errorf("tutor serve did not print a line matching %q within %v; it printed:\n%s%s", re, limit, p.out.text(), p.errOut.text())
			}
			cursor++
			if m := re.FindStringSubmatch(line); m != nil {
				return m, nil
			}
		}
	}
	m, err := next(urlRE, time.Minute)
	if err != nil {
		return err
	}
	url := m[1]
	if _, err := next(regexp.MustCompile(`^Ready`), 20*time.Minute); err != nil {
		return err
	}
	rep.start = time.Since(start)
	rep.load.add()
	logf("ready after %v", rep.start.Round(time.Millisecond))
	pid := p.cmd.Process.Pid
	if n, err := rss(pid); err == nil {
		rep.serveReady = n
	}
	// The tutor checks nothing by itself once ready (saves first), so idle
	// is a moment after Ready.
	time.Sleep(2 * time.Second)
	if rep.serveIdle, err = rss(pid); err != nil {
		return err
	}

	// The page: one GET renders it, then 50 are timed over one keep-alive
	// connection.
	client := &http.Client{Timeout: 10 * time.Second}
	get := func() (time.Duration, error) {
		t := time.Now()
		resp, err := client.Get(url + "lesson/" + pageLesson)
		if err != nil {
			return 0, fmt.Errorf("get the lesson page: %w", err)
		}
		n, err := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		d := time.Since(t)
		if err != nil || resp.StatusCode != http.StatusOK || n == 0 {
			return 0, fmt.Errorf("get the lesson page: status %d, %d bytes, %v", resp.StatusCode, n, err)
		}
		return d, nil
	}
	if _, err := get(); err != nil {
		return err
	}
	for range 50 {
		d, err := get()
		if err != nil {
			return err
		}
		rep.page = append(rep.page, d)
	}
	client.CloseIdleConnections()

	// One save checked, sampled every 20 ms.
	course, err := lessons.Load(lessons.Embedded(), "lessons")
	if err != nil {
		return fmt.Errorf("load the course: %w", err)
	}
	l, err := course.Lesson(pageLesson)
	if err != nil {
		return err
	}
	cursor = p.out.len()
	peak := sampleRSS(pid)
	if err := writeLesson(ws, l, l.Solution().Files, 1); err != nil {
		peak.stop()
		return err
	}
	for {
		m, err := next(resultRE, l.Timeout+3*time.Minute)
		if err != nil {
			peak.stop()
			return err
		}
		if m[1] == l.ID {
			break
		}
	}
	rep.servePeak = peak.stop()
	time.Sleep(2 * time.Second)
	if rep.serveAfter, err = rss(pid); err != nil {
		return err
	}
	rep.load.add()
	return nil
}
