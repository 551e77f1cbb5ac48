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
//
// TODO: time.Sleep keeps the loop for the whole 100 ms, so every other
// request to this server waits its turn. Make Ping wait 100 ms without
// holding the loop. Keep the 100 ms and the "pong".
func Ping(c *loop.Ctx) string {
	time.Sleep(100 * time.Millisecond)
	return "pong"
}
