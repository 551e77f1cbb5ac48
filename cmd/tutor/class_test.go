package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gotutor/tutor/internal/app"
	"github.com/gotutor/tutor/internal/class"
	"github.com/gotutor/tutor/lessons"
	"github.com/gotutor/tutor/workspace"
)

// classOn serves a class server on ln until the returned stop is called.
func classOn(t *testing.T, ln net.Listener, dir string, c *lessons.Course) (*class.Server, func()) {
	t.Helper()
	var ls []class.Lesson
	for _, l := range c.Lessons {
		ls = append(ls, class.Lesson{ID: l.ID, Title: l.Title})
	}
	cs, err := class.NewServer(class.Config{LogPath: filepath.Join(dir, "class.log"), Lessons: ls, InstructorToken: "instructor-token-for-tests", JoinCode: "code4tests"})
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: cs}
	done := make(chan struct{})
	go func() { srv.Serve(ln); close(done) }() // ends when stop closes the server
	return cs, func() { srv.Close(); <-done; cs.Close() }
}

func liveFor(t *testing.T, c *lessons.Course) (*app.App, *app.Live) {
	t.Helper()
	ws, err := workspace.Open(filepath.Join(t.TempDir(), "ws"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ws.Init(c); err != nil {
		t.Fatal(err)
	}
	a, err := app.New(c, ws, "")
	if err != nil {
		t.Skip(err)
	}
	return a, app.NewLive(a, "")
}

// TestClassServerDown: a learner in a class whose server is down gets every
// save checked as fast as a learner in no class (the same lesson, saves
// alternating between the two tutors), and the class server gets every
// result once it is back. By default it is a smoke test (one save, with the
// class server down); TUTOR_CLASS_BENCH=1 makes it the benchmark: 10 saves
// in each tutor, medians compared.
func TestClassServerDown(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: runs the checks of a lesson")
	}
	t.Parallel() // it waits (a timeout, a server); the others need not wait with it
	const saves = 10
	bench := os.Getenv("TUTOR_CLASS_BENCH") == "1"
	c, err := lessons.Load(lessons.Embedded(), "lessons")
	if err != nil {
		t.Fatal(err)
	}
	l, err := c.Lesson("02")
	if err != nil {
		t.Fatal(err)
	}
	classDir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_, stop := classOn(t, ln, classDir, c)

	plainApp, plain := liveFor(t, c)
	classApp, inClass := liveFor(t, c)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if _, err := joinClass(ctx, classApp, "http://"+addr+"/join?code=code4tests", "Ada"); err != nil {
		t.Fatal(err)
	}
	stop() // the class server goes away before the first save

	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	e := &env{stdout: io.Discard, stderr: io.Discard}
	cb, err := startClassSender(ctx, &wg, e, classApp, inClass, "", "")
	if err != nil || cb == nil {
		t.Fatalf("start the class sender: %v", err)
	}
	results := map[*app.Live]<-chan app.Update{plain: plain.Updates(ctx), inClass: inClass.Updates(ctx)}
	for _, lv := range []*app.Live{plain, inClass} {
		wg.Go(func() { lv.Run(ctx, app.LiveOptions{NoWarm: true}) })
	}
	time.Sleep(300 * time.Millisecond) // the watchers start

	// One save: write the starter with a new marker, wait for its result.
	save := func(a *app.App, lv *app.Live, n int) time.Duration {
		file := l.Files[0]
		b := append(bytes.Clone(l.Starter().Files[file]), []byte("\n// save "+strconv.Itoa(n)+"\n")...)
		start := time.Now()
		if err := os.WriteFile(filepath.Join(a.WS.LessonDir(l), file), b, 0o644); err != nil {
			t.Fatal(err)
		}
		deadline := time.After(90 * time.Second)
		for {
			select {
			case u := <-results[lv]:
				if u.Kind == app.KindResult && u.Lesson == l.ID {
					return time.Since(start)
				}
			case <-deadline:
				t.Fatalf("no result within 90 s")
			}
		}
	}
	saved := 0
	if !bench {
		// The smoke test: one save, checked with the class server down.
		save(classApp, inClass, 0)
		saved = 1
	} else {
		// A first save each warms the build cache for this lesson.
		save(plainApp, plain, 0)
		save(classApp, inClass, 0)
		var none, down []time.Duration
		for i := 1; i <= saves; i++ {
			none = append(none, save(plainApp, plain, i))
			down = append(down, save(classApp, inClass, i))
		}
		saved = 1 + saves
		slices.Sort(none)
		slices.Sort(down)
		mNone, mDown := none[len(none)/2], down[len(down)/2]
		t.Logf("save → verdict, lesson %s, %d saves each: no class: median %v %v; class server down: median %v %v",
			l.ID, saves, mNone.Round(time.Millisecond), rounded(none), mDown.Round(time.Millisecond), rounded(down))
		if mDown > mNone*13/10 {
			t.Errorf("with the class server down a save's verdict takes %v (median), more than 1.3× the %v without a class", mDown, mNone)
		}
	}
	// The reporter adds the result from its own goroutine; the sender's
	// first try fails at once.
	for wait := time.Now().Add(5 * time.Second); (cb.sender.Pending() == 0 || cb.sender.Status() == "") && time.Now().Before(wait); {
		time.Sleep(20 * time.Millisecond)
	}
	if cb.sender.Pending() == 0 || cb.sender.Status() == "" {
		t.Fatalf("with the class server down nothing waits in the outbox (%d) or the status says nothing (%q)", cb.sender.Pending(), cb.sender.Status())
	}

	// The class server comes back on the same address and log.
	ln, err = net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("the class server's port was taken meanwhile: %v", err)
	}
	cs, stop := classOn(t, ln, classDir, c)
	defer stop()
	deadline := time.Now().Add(45 * time.Second) // the backoff is at most 30 s
	for cb.sender.Pending() > 0 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	st := cs.Snapshot()
	if cb.sender.Pending() != 0 || len(st.Learners) != 1 || st.Learners[0].Seq < int64(saved) {
		t.Fatalf("after the class server came back: %d pending, state %+v", cb.sender.Pending(), st.Learners)
	}
	t.Logf("after the class server came back: %d updates arrived; the lesson line reads %q", st.Learners[0].Seq, st.Summaries[1].Text)
}

func rounded(ds []time.Duration) []time.Duration {
	out := make([]time.Duration, len(ds))
	for i, d := range ds {
		out[i] = d.Round(time.Millisecond)
	}
	return out
}

// TestJoinFromTheCommandLine: `tutor join` saves the membership in the
// workspace (owner-only), and its usage errors are one line, exit 2.
func TestJoinFromTheCommandLine(t *testing.T) {
	c, err := lessons.Load(lessons.Embedded(), "lessons")
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cs, stop := classOn(t, ln, t.TempDir(), c)
	defer stop()
	ws := filepath.Join(t.TempDir(), "ws")
	joinURL := "http://" + ln.Addr().String() + "/join?code=code4tests"
	for _, bad := range [][]string{{"join"}, {"join", joinURL}, {"join", "http://" + ln.Addr().String() + "/join?code=wrong", "--name", "Ada"}} {
		_, errOut, code := tutor(t, ws, bad...)
		if code != exitProblem || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
			t.Errorf("tutor %v: exit %d, stderr %q", bad, code, errOut)
		}
	}
	out, errOut, code := tutor(t, ws, "join", joinURL, "--name", "Ada Lovelace")
	if code != 0 || !strings.Contains(out, "Joined the class") {
		t.Fatalf("join: exit %d\n%s%s", code, out, errOut)
	}
	fi, err := os.Stat(filepath.Join(ws, workspace.StateDir, class.MembershipFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("the membership file: %v %v", fi, err)
	}
	if st := cs.Snapshot(); len(st.Learners) != 1 || st.Learners[0].Name != "Ada Lovelace" {
		t.Fatalf("the class has %+v", st.Learners)
	}
}
