// Package loop is a small web framework shaped like FastAPI, built to show
// what an event loop does to a server. Every handler is a plain function:
//
//	func Ping(c *loop.Ctx) string {
//		c.Sleep(100 * time.Millisecond) // await asyncio.sleep(0.1)
//		return "pong"
//	}
//
//	app := loop.New(loop.Options{})   // a pool of 40, like anyio's default
//	app.Async("/ping", Ping)          // async def ping(): ...
//	app.Sync("/report", Report)       // def report(): ...
//	http.ListenAndServe(":8000", app) // an App is an http.Handler
//
// # The loop is a baton
//
// Python runs every async def handler on one thread, the event loop, and a
// handler keeps that thread until it reaches an await. Here the loop is a
// [Baton]: each request still gets its own goroutine from net/http, but an
// async handler's code runs only while that goroutine holds the baton, so at
// most one async handler body runs at any instant.
//
//	  requests, one goroutine each (net/http)
//	        │
//	        ▼
//	┌───────────────────────────────────┐
//	│ the loop: one baton               │  every request starts and ends
//	│ one handler body runs at a time   │  here; time.Sleep or CPU work
//	└───────────────────────────────────┘  here holds up all the others
//	     │ c.Sleep, c.Await,       ▲
//	     │ c.RunInPool, Sync:      │ take the baton
//	     ▼ give the baton back     │ back to continue
//	┌───────────────────────────────────┐
//	│ off the loop: any number wait     │
//	│  ┌─────────────────────────────┐  │
//	│  │ the pool: 40 slots          │  │  sync handlers and RunInPool
//	│  │ (anyio's CapacityLimiter)   │  │  calls; when all 40 are busy,
//	│  └─────────────────────────────┘  │  the rest queue for a slot
//	└───────────────────────────────────┘
//
// What each call means in FastAPI terms:
//
//   - [Ctx.Sleep] is await asyncio.sleep(d): the loop is free meanwhile.
//   - [Ctx.Await] is awaiting I/O: fn runs with the loop free, then the
//     handler takes the loop back.
//   - time.Sleep, a busy loop or heavy computation inside an async handler is
//     time.sleep or CPU work inside async def: the handler keeps the baton
//     and every other async request waits.
//   - [App.Sync] is a def route: FastAPI awaits run_in_threadpool, and anyio
//     lets at most 40 such calls run at once (its default CapacityLimiter).
//     As in FastAPI, the request passes through the loop on the way in and
//     on the way out, so a blocked loop delays sync routes too.
//   - [Ctx.RunInPool] is await run_in_threadpool(fn) from an async handler:
//     it gives up the loop, waits for one of the same 40 slots, and runs fn.
//
// [App.Stats] reports what the loop knows (who holds the loop, who waits for
// it, how full the pool is) with a few atomic loads, so checks can count
// instead of guess.
//
// Unlike FastAPI, the loop drops a request whose client has already gone
// when its turn on the loop comes, so a stalled loop drains quickly once the
// clients give up.
package loop
