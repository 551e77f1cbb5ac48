package loop

import "sync/atomic"

// Baton is the event loop: a token that only one goroutine can hold at a
// time. An async handler runs its code only while it holds the baton, which
// makes the loop single-threaded no matter how many goroutines wait.
//
// The token lives in a channel with room for one: Acquire puts it in (and
// blocks while it is already there), Release takes it out. Blocked Acquire
// calls are served in arrival order. The zero Baton is not ready; use
// [NewBaton].
type Baton struct {
	token chan struct{}

	holders counter // goroutines holding the baton: 0 or 1
	waiting counter // goroutines blocked in Acquire
	away    counter // goroutines inside Await, off the loop
}

// NewBaton returns a free baton.
func NewBaton() *Baton {
	return &Baton{token: make(chan struct{}, 1)}
}

// Acquire blocks until the baton is free and takes it.
func (b *Baton) Acquire() {
	b.waiting.add(1)
	b.token <- struct{}{}
	b.waiting.add(-1)
	b.holders.add(1)
}

// Release gives the baton back. It panics if nobody holds it, which always
// means a bug: two releases for one acquire.
func (b *Baton) Release() {
	b.holders.add(-1) // before the token goes, so the count never shows two holders
	select {
	case <-b.token:
	default:
		b.holders.add(1)
		panic("loop: Release of a baton that nobody holds")
	}
}

// Await is what Python's await does for a handler that is waiting: it gives
// the baton back, runs fn (which may block as long as it likes, since other
// handlers now have the loop), and takes the baton again before returning,
// even if fn panics. The caller must hold the baton.
func (b *Baton) Await(fn func()) {
	b.Release()
	b.away.add(1)
	defer func() {
		b.away.add(-1)
		b.Acquire()
	}()
	fn()
}

// counter is a race-free gauge that remembers its peak.
type counter struct{ now, peak atomic.Int64 }

func (c *counter) add(d int64) {
	n := c.now.Add(d)
	for p := c.peak.Load(); n > p && !c.peak.CompareAndSwap(p, n); p = c.peak.Load() {
	}
}

func (c *counter) get() (now, peak int) {
	return int(c.now.Load()), int(c.peak.Load())
}
