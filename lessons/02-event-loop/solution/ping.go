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
	// c.Sleep gives the loop away for the 100 ms and takes it back after:
	// await asyncio.sleep(0.1). Other requests run meanwhile.
	c.Sleep(100 * time.Millisecond)
	return "pong"
}
