// Package eventloop is lesson 02: one loop, one thing at a time.
package eventloop

import (
	"time"

	"github.com/gotutor/tutor/lessons/loop"
)

// Ping is an async handler (FastAPI's async def): its code runs on the loop.
// The checks serve it at /ping.
//
// Its job: wait 100 ms, as if for a slow downstream service, then answer
// "pong".
func Ping(c *loop.Ctx) string {
	// Sleep in a goroutine so the handler does not block... but the
	// handler waits for it, still holding the loop.
	done := make(chan struct{})
	go func() { // exits after 100 ms
		time.Sleep(100 * time.Millisecond)
		close(done)
	}()
	<-done
	return "pong"
}
