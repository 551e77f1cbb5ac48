package app

import (
	"context"
	"sync"
)

// hub fans live updates out to every subscriber (the page's event streams,
// the terminal). A subscriber that is not keeping up misses updates rather
// than slowing the tutor down: each lesson update carries the lesson's full
// state, so the next one it gets makes it whole again.
type hub struct {
	mu   sync.Mutex
	subs map[chan Update]struct{}
}

func newHub() *hub { return &hub{subs: map[chan Update]struct{}{}} }

// publish sends u to every subscriber that has room, without waiting.
func (h *hub) publish(u Update) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.subs {
		select {
		case ch <- u:
		default:
		}
	}
}

// subscribe returns updates until ctx is done, then closes the channel.
func (h *hub) subscribe(ctx context.Context) <-chan Update {
	ch := make(chan Update, 64)
	h.mu.Lock()
	h.subs[ch] = struct{}{}
	h.mu.Unlock()
	// This goroutine ends when ctx is done, after unsubscribing.
	go func() {
		<-ctx.Done()
		h.mu.Lock()
		delete(h.subs, ch)
		close(ch)
		h.mu.Unlock()
	}()
	return ch
}

// count returns the number of subscribers.
func (h *hub) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs)
}
