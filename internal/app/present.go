package app

// Demo runs and the Fire panel ([site.Presenter]): a presenter runs any
// version of a lesson through its checks without touching the workspace,
// and fires requests at a server running the learner's code.

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gotutor/tutor/checker"
	"github.com/gotutor/tutor/internal/queue"
	"github.com/gotutor/tutor/internal/run"
	"github.com/gotutor/tutor/lessons"
	"github.com/gotutor/tutor/site"
	"github.com/gotutor/tutor/workspace"
)

// ErrSuperseded is returned by a demo run or a fire that a newer one of the
// same lesson replaced before it ran.
var ErrSuperseded = errors.New("replaced by a newer request")

// Demo implements [site.Presenter]: it runs the checks on a variant's
// files (starter, solution, alt-…, wrong-…) as a snapshot, in the queue
// behind every save (before the tutor's own warm-up), and returns the result. Nothing is written to the
// workspace and no progress is recorded. A solution (or an alternative
// solution) runs only once the lesson has passed, or with force, which
// records the lesson as assisted, as showing the solution does.
func (lv *Live) Demo(ctx context.Context, id, variant string, force bool) (*checker.Result, error) {
	l, err := lv.lesson(id)
	if err != nil {
		return nil, err
	}
	v := l.Variant(variant)
	if v == nil {
		return nil, fmt.Errorf("lesson %s has no version %q", l.ID, variant)
	}
	if v.Expect == lessons.MustPass {
		if _, err := lv.app.Solution(l, force); err != nil && !errors.Is(err, workspace.ErrNotSaved) {
			return nil, err
		}
		if force {
			lv.publishLesson(KindState, l.ID, time.Time{})
		}
	}
	var res *checker.Result
	err = lv.background(ctx, "demo "+l.ID+" "+variant, func(rctx context.Context) error {
		r, err := lv.app.Runner.Run(rctx, lv.app.Job(lv.app.WS.Root, l, v.Files))
		res = r
		return err
	})
	return res, err
}

// background runs fn as an asked task of the queue: before the warm-up the
// tutor chose by itself, but after every save (a save cancels it, and it
// runs again after). It waits for fn to end or ctx to be done.
func (lv *Live) background(ctx context.Context, key string, fn func(context.Context) error) error {
	done := make(chan error, 1)
	lv.q.Submit(queue.Task{Key: key, Priority: queue.Asked, Run: func(rctx context.Context) func() {
		if ctx.Err() != nil {
			select {
			case done <- ctx.Err():
			default:
			}
			return nil // nobody waits any more
		}
		err := fn(rctx)
		if rctx.Err() != nil && ctx.Err() == nil {
			return nil // a save came first: the queue runs this again
		}
		select {
		case done <- err:
		default:
		}
		return nil
	}})
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("still waiting behind the checks of your saves: %w", ctx.Err())
	}
}

// FireRoute implements [site.Presenter].
func (lv *Live) FireRoute(id string) string {
	rec, err := run.For(id)
	if err != nil {
		return ""
	}
	return rec.Route
}

// runServer is one lesson's code served on loopback for the Fire panel.
type runServer struct {
	s    *run.Server
	http *http.Server
	addr string
	hash string // fingerprint of the files it was built from
}

// runs are the lessons' run servers; Live.Run closes them when it ends.
type runs struct {
	mu sync.Mutex
	by map[string]*runServer
}

// closeAll stops every run server.
func (r *runs) closeAll() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for id, rs := range r.by {
		rs.http.Close()
		rs.s.Close()
		delete(r.by, id)
	}
}

// Fire implements [site.Presenter]: it serves the learner's current code
// for the lesson on a loopback port (built again if the files changed
// since), sends n requests to route at once and returns their spans and
// the server's address. It runs in the queue behind every save.
func (lv *Live) Fire(ctx context.Context, id, route string, n int) (site.FireResult, error) {
	l, err := lv.lesson(id)
	if err != nil {
		return site.FireResult{}, err
	}
	rec, err := run.For(l.ID)
	if err != nil {
		return site.FireResult{}, err
	}
	if route == "" {
		route = rec.Route
	}
	if route, err = run.CleanRoute(route); err != nil {
		return site.FireResult{}, err
	}
	if n < 1 || n > run.MaxFire {
		return site.FireResult{}, fmt.Errorf("N must be between 1 and %d", run.MaxFire)
	}
	var out site.FireResult
	err = lv.background(ctx, "fire "+l.ID, func(rctx context.Context) error {
		rs, err := lv.runServer(rctx, l)
		if err != nil {
			return err
		}
		out.Addr, out.Route, out.N = rs.addr, route, n
		out.Spans, err = run.Fire(rctx, "http://"+rs.addr+route, n, 20*time.Second)
		return err
	})
	return out, err
}

// runServer returns the lesson's run server, built from the current files.
func (lv *Live) runServer(ctx context.Context, l *lessons.Lesson) (*runServer, error) {
	lv.runs.mu.Lock()
	defer lv.runs.mu.Unlock()
	if lv.runs.by == nil {
		lv.runs.by = map[string]*runServer{}
	}
	hash := lv.app.WS.Fingerprint(l)
	rs := lv.runs.by[l.ID]
	if rs != nil && rs.hash == hash {
		return rs, nil
	}
	if rs == nil {
		s, err := run.New(run.Config{GoBin: lv.app.Runner.Go(), Root: lv.app.WS.Root, Module: lessons.WorkspaceModule, LessonID: l.ID, Scratch: ScratchDir()})
		if err != nil {
			return nil, err
		}
		ln, err := run.Listen("127.0.0.1:0")
		if err != nil {
			s.Close()
			return nil, err
		}
		hs := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 30 * time.Second}
		// This goroutine ends when closeAll closes the server.
		go hs.Serve(ln)
		rs = &runServer{s: s, http: hs, addr: ln.Addr().(*net.TCPAddr).String()}
		lv.runs.by[l.ID] = rs
	}
	if err := rs.s.Rebuild(ctx); err != nil {
		var be *run.BuildError
		if errors.As(err, &be) {
			return nil, fmt.Errorf("your %s does not compile: %s", l.ID, strings.TrimSpace(be.Line))
		}
		return nil, err
	}
	rs.hash = hash
	return rs, nil
}
