package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/gotutor/tutor/internal/app"
	lessonrun "github.com/gotutor/tutor/internal/run"
	"github.com/gotutor/tutor/lessons"
	"github.com/gotutor/tutor/watch"
)

// runCmd serves the learner's current code for one lesson on loopback and
// rebuilds it on every save. A save that does not compile is one line, and
// the previous build keeps serving.
func runCmd(fs *flag.FlagSet) func(context.Context, *env, []string) error {
	addr := fs.String("addr", "127.0.0.1:8080", "loopback address to serve on (the next free port if taken)")
	poll := fs.Bool("poll", false, "notice saves by polling instead of file events")
	return func(ctx context.Context, e *env, args []string) error {
		a, l, err := e.openOne("run", args)
		if err != nil {
			return err
		}
		s, err := lessonrun.New(lessonrun.Config{GoBin: a.Runner.Go(), Root: a.WS.Root, Module: lessons.WorkspaceModule, LessonID: l.ID, Scratch: app.ScratchDir()})
		if err != nil {
			return usageErr("%v", err)
		}
		defer s.Close()
		if err := lessonrun.Loopback(*addr); err != nil {
			return usageErr("%v", err)
		}
		ln, err := listen(*addr, true)
		if err != nil {
			return usageErr("run: %v", err)
		}
		w, err := watch.New([]string{a.WS.LessonDir(l)}, watch.Options{Poll: *poll})
		if err != nil {
			return fmt.Errorf("watch %s: %w", l.ID, err)
		}
		fmt.Fprintf(e.stdout, "Building %s…\n", l.ID)
		rebuild := func() {
			t0 := time.Now()
			err := s.Rebuild(ctx)
			var be *lessonrun.BuildError
			_, gen := s.Running()
			switch {
			case errors.As(err, &be) && gen > 0:
				fmt.Fprintf(e.stdout, "%s does not compile: %s (the previous build keeps serving)\n", l.ID, be.Line)
			case errors.As(err, &be):
				fmt.Fprintf(e.stdout, "%s does not compile: %s (nothing is served until a save compiles)\n", l.ID, be.Line)
			case err != nil && ctx.Err() == nil:
				fmt.Fprintf(e.stdout, "%s: %v\n", l.ID, err)
			case err == nil:
				fmt.Fprintf(e.stdout, "Serving your %s on http://%s (build %d, %.1f s); try: curl http://%s%s\n",
					l.ID, ln.Addr(), gen, time.Since(t0).Seconds(), ln.Addr(), s.Recipe().Route)
			}
		}
		rebuild()
		srv := &http.Server{
			Handler:           lessonrun.Guard(allowedHosts(ln.Addr().(*net.TCPAddr), *addr), s),
			ReadHeaderTimeout: 10 * time.Second,
			IdleTimeout:       60 * time.Second,
		}
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		var wg sync.WaitGroup
		// The watcher ends when ctx is done.
		wg.Go(func() { w.Run(ctx) })
		// The server ends when Shutdown is called below.
		wg.Go(func() { srv.Serve(ln) })
		fmt.Fprintf(e.stdout, "Routes: %v. Every save rebuilds; Ctrl-C stops.\n", s.Recipe().Routes)
	loop:
		for {
			select {
			case <-ctx.Done():
				break loop
			case _, ok := <-w.Changes():
				if !ok {
					break loop
				}
				fmt.Fprintf(e.stdout, "Saved: rebuilding %s…\n", l.ID)
				rebuild()
			}
		}
		cancel()
		sctx, done := context.WithTimeout(context.Background(), 2*time.Second)
		defer done()
		srv.Shutdown(sctx)
		wg.Wait()
		return nil
	}
}
