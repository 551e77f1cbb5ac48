package loop

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
)

// slotFrame is how the pool's slot function appears in a stack trace.
const slotFrame = "/loop.(*App).inSlot("

// InPoolSlot reports whether the calling goroutine runs inside a pool slot
// of an [App]: in a sync handler, or in a function passed to
// [Ctx.RunInPool]. A goroutine started from inside a slot is not in the
// slot. Lesson checks call it from their fake backends to see where each
// call was made from; it looks for the slot function on the goroutine's own
// stack, which attributes every call exactly. [VerifyInPoolSlot] proves that
// it works with this version of the package.
func InPoolSlot() bool {
	buf := make([]byte, 32<<10)
	buf = buf[:runtime.Stack(buf, false)]
	return bytes.Contains(buf, []byte(slotFrame))
}

// VerifyInPoolSlot serves four requests on a small App (a sync handler, an
// async one, an async one inside [Ctx.Await] and one inside
// [Ctx.RunInPool]) and returns an error naming the first place where
// [InPoolSlot] does not tell a pool slot from the loop.
func VerifyInPoolSlot() error {
	app := New(Options{PoolSize: 2})
	report := func(*Ctx) string { return fmt.Sprint(InPoolSlot()) }
	app.Sync("/sync", report)
	app.Async("/async", report)
	app.Async("/await", func(c *Ctx) (s string) { c.Await(func() { s = report(c) }); return s })
	app.Async("/pool", func(c *Ctx) (s string) { c.RunInPool(func() { s = report(c) }); return s })
	for _, tc := range []struct{ path, want string }{{"/sync", "true"}, {"/async", "false"}, {"/await", "false"}, {"/pool", "true"}} {
		rec := httptest.NewRecorder()
		app.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, tc.path, nil))
		if got := rec.Body.String(); got != tc.want {
			return fmt.Errorf("loop: InPoolSlot in a handler at %s: got %q, want %q", tc.path, got, tc.want)
		}
	}
	return nil
}
