package app

import (
	"context"
	"testing"
	"testing/synctest"
)

// TestHub: every subscriber gets every update it has room for; a full one
// misses updates without blocking the publisher; a subscription ends with
// its context.
func TestHub(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHub()
		ctxA, cancelA := context.WithCancel(t.Context())
		a := h.subscribe(ctxA)
		b := h.subscribe(t.Context())
		if n := h.count(); n != 2 {
			t.Fatalf("count = %d, want 2", n)
		}
		for i := range 100 { // more than a subscriber's buffer: never blocks
			h.publish(Update{Kind: KindState, Lesson: string(rune('a' + i%26))})
		}
		if len(a) != cap(a) || len(b) != cap(b) {
			t.Errorf("buffers hold %d and %d updates, want both full (%d)", len(a), len(b), cap(a))
		}
		if u := <-a; u.Lesson != "a" {
			t.Errorf("first update = %q, want the first published", u.Lesson)
		}
		cancelA()
		synctest.Wait()
		if n := h.count(); n != 1 {
			t.Errorf("count after one subscription ended = %d, want 1", n)
		}
		for range a { // drained, then closed
		}
	})
}
