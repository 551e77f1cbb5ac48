package watch

import (
	"os"
	"strings"
	"testing"
	"time"
)

// TestEarlyLook checks that a finished save is reported by the early look,
// before its burst's debounce ends, and only once.
func TestEarlyLook(t *testing.T) {
	t.Parallel()
	h := one(t, Options{Debounce: time.Second}) // a debounce long enough to tell the two apart
	h.settle()
	before := time.Now()
	writeFile(t, h.path("exercise.go"), source(1))
	h.expect(h.dirs[0], h.want(1))
	if got := time.Since(before); got >= time.Second {
		t.Errorf("the save arrived %v after the write: it waited out the 1s debounce", got)
	}
	h.expectNone(time.Second + quietFor) // the end of the burst finds the same content
	if log := strings.Join(h.log.snapshot(), "\n"); !strings.Contains(log, ": early look\n") {
		t.Errorf("the change was not queued by the early look:\n%s", log)
	}
}

// TestEarlyLookSkipsHalfSave checks that a save caught half-way, with the
// file empty (between an in-place save's truncate and its write) or missing
// (between a rename-saving editor's two renames), is not reported early: the
// finished content is reported once, at the end of the burst.
func TestEarlyLookSkipsHalfSave(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		firstHalf func(h *harness)
	}{
		{"empty file", func(h *harness) { writeFile(h.t, h.path("exercise.go"), "") }},
		{"missing file", func(h *harness) {
			if err := os.Rename(h.path("exercise.go"), h.path("exercise.go~")); err != nil {
				h.t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := one(t, Options{})
			h.settle()
			tc.firstHalf(h)
			time.Sleep(DefaultSettle + 40*time.Millisecond) // the early look happens meanwhile
			writeFile(t, h.path("exercise.go"), source(1))
			h.expect(h.dirs[0], h.want(1))
			h.expectNone(quietFor)
		})
	}
}

// TestEarlyLookThenMore checks the contract a consumer relies on: when
// more of a save arrives after the early look, the final content comes as a
// Change of its own, after the early one.
func TestEarlyLookThenMore(t *testing.T) {
	t.Parallel()
	h := one(t, Options{})
	h.settle()
	writeFile(t, h.path("exercise.go"), source(1))
	time.Sleep(DefaultSettle + 40*time.Millisecond)
	writeFile(t, h.path("exercise.go"), source(2))
	c := h.next()
	if c.Files["exercise.go"] == sum(source(1)) {
		c = h.next() // the early look saw the first save; the second follows
	}
	if c.Files["exercise.go"] != sum(source(2)) {
		t.Fatalf("last Change = %v, want the second save %v", names(c.Files), names(h.want(2)))
	}
	h.expectNone(quietFor)
}
