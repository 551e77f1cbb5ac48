package loop

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"time"
)

// DefaultPoolSize is the number of sync handlers that may run at once when
// [Options.PoolSize] is 0: anyio's default CapacityLimiter has 40 tokens,
// whatever the number of CPU cores.
const DefaultPoolSize = 40

// Options configures an [App].
type Options struct {
	// PoolSize limits how many sync handlers and RunInPool calls run at
	// once; the rest wait in a queue. 0 means DefaultPoolSize.
	PoolSize int
}

// Handler is a route's code. It returns the response body; the status is
// 200 unless the handler calls [Ctx.SetStatus].
type Handler func(c *Ctx) string

// App is a server with one event loop and one pool. It is an
// [http.Handler]: serve it with http.ListenAndServe or httptest.NewServer.
// Register all routes before serving.
type App struct {
	mux     *http.ServeMux
	loop    *Baton
	pool    chan struct{} // one element per slot in use
	inPool  counter       // pool slots in use
	queue   counter       // callers waiting for a pool slot
	handled atomic.Int64
}

// New returns an App with no routes.
func New(o Options) *App {
	size := o.PoolSize
	if size <= 0 {
		size = DefaultPoolSize
	}
	return &App{mux: http.NewServeMux(), loop: NewBaton(), pool: make(chan struct{}, size)}
}

// Async registers h as an async handler (FastAPI's async def) for pattern,
// an [http.ServeMux] pattern such as "/ping" or "GET /items/{id}". Its code
// runs on the loop, one async handler at a time, except while it waits in
// [Ctx.Sleep], [Ctx.Await] or [Ctx.RunInPool].
func (a *App) Async(pattern string, h Handler) {
	a.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) { a.serve(w, r, h) })
}

// Sync registers h as a sync handler (FastAPI's plain def) for pattern. It
// runs in the pool, off the loop, so time.Sleep or CPU work in it blocks
// only its own slot; when all slots are busy, the request waits for one.
func (a *App) Sync(pattern string, h Handler) {
	a.Async(pattern, func(c *Ctx) (body string) {
		c.RunInPool(func() { body = h(c) })
		return body
	})
}

// ServeHTTP routes the request to its handler.
func (a *App) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.mux.ServeHTTP(w, r) }

// serve runs one request: take the loop, run h, give the loop back, reply.
// A panic in h becomes a 500 response after the loop and any pool slot are
// free again.
func (a *App) serve(w http.ResponseWriter, r *http.Request, h Handler) {
	a.loop.Acquire()
	if r.Context().Err() != nil { // the client left while we queued for the loop
		a.loop.Release()
		return
	}
	c := &Ctx{app: a, w: w, r: r, status: http.StatusOK, onLoop: true}
	body, p := run(c, h)
	a.loop.Release()
	if p != nil {
		if p == http.ErrAbortHandler {
			panic(p)
		}
		c.status, body = http.StatusInternalServerError, fmt.Sprintf("handler panicked: %v\n", p)
	}
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	}
	w.WriteHeader(c.status)
	io.WriteString(w, body)
	a.handled.Add(1)
}

// run calls h and recovers its panic. Await and RunInPool clean up on the
// way out, so when run returns the goroutine holds the loop again.
func run(c *Ctx, h Handler) (body string, panicked any) {
	defer func() { panicked = recover() }()
	return h(c), nil
}

// inSlot runs fn in one pool slot, waiting for a free slot first.
func (a *App) inSlot(fn func()) {
	a.queue.add(1)
	a.pool <- struct{}{}
	a.queue.add(-1)
	a.inPool.add(1)
	defer func() {
		a.inPool.add(-1) // before the slot frees, so the count never exceeds the size
		<-a.pool
	}()
	fn()
}

// Stats is a snapshot of what the loop knows. Each field is read atomically;
// fields read a moment apart may disagree while requests are moving.
type Stats struct {
	LoopHolders  int   // handlers holding the loop now: 0 or 1
	LoopPeak     int   // most handlers ever holding the loop at once
	LoopWaiting  int   // handlers waiting for their turn on the loop
	Awaiting     int   // handlers off the loop: in Sleep, Await, RunInPool or a sync handler
	AwaitingPeak int   // most handlers ever off the loop at once
	PoolSize     int   // pool slots
	PoolInUse    int   // pool slots in use now
	PoolPeak     int   // most pool slots ever in use at once
	PoolWaiting  int   // calls waiting for a pool slot
	Handled      int64 // requests answered, including 500s from panics
}

// Stats returns what the loop knows now.
func (a *App) Stats() Stats {
	var s Stats
	s.LoopHolders, s.LoopPeak = a.loop.holders.get()
	s.LoopWaiting, _ = a.loop.waiting.get()
	s.Awaiting, s.AwaitingPeak = a.loop.away.get()
	s.PoolSize = cap(a.pool)
	s.PoolInUse, s.PoolPeak = a.inPool.get()
	s.PoolWaiting, _ = a.queue.get()
	s.Handled = a.handled.Load()
	return s
}

// Ctx is one request as its handler sees it. It belongs to the handler's
// goroutine: do not use it from goroutines the handler starts.
type Ctx struct {
	app    *App
	w      http.ResponseWriter
	r      *http.Request
	status int
	onLoop bool // this request holds the loop now
	inPool bool // this request runs in a pool slot now
}

// Request returns the HTTP request.
func (c *Ctx) Request() *http.Request { return c.r }

// Context returns the request's context, which is done when the client
// goes away.
func (c *Ctx) Context() context.Context { return c.r.Context() }

// Header returns the response header, to set before the handler returns.
func (c *Ctx) Header() http.Header { return c.w.Header() }

// SetStatus sets the response status, e.g. http.StatusServiceUnavailable.
func (c *Ctx) SetStatus(code int) { c.status = code }

// Await runs fn with the loop free and takes the loop back before it
// returns: the Go spelling of await. Put blocking waits (I/O, a channel, a
// timer) inside fn. Called where the request does not hold the loop (in a
// sync handler, or inside another Await), it simply runs fn.
func (c *Ctx) Await(fn func()) {
	if !c.onLoop {
		fn()
		return
	}
	c.onLoop = false
	defer func() { c.onLoop = true }()
	c.app.loop.Await(fn)
}

// Sleep waits for d with the loop free: await asyncio.sleep(d).
func (c *Ctx) Sleep(d time.Duration) {
	c.Await(func() { time.Sleep(d) })
}

// RunInPool runs fn in a pool slot, off the loop, and returns when fn has
// returned: await run_in_threadpool(fn). While it waits for a slot and while
// fn runs, other async handlers have the loop. It shares the pool's slots
// with sync handlers. Called from a sync handler, it runs fn in the slot the
// handler already holds.
func (c *Ctx) RunInPool(fn func()) {
	if c.inPool {
		fn()
		return
	}
	c.Await(func() {
		c.app.inSlot(func() {
			c.inPool = true
			defer func() { c.inPool = false }()
			fn()
		})
	})
}
