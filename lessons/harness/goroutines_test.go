package harness

import (
	"strings"
	"testing"
	"time"
)

func parkedForGoroutinesTest(ch chan struct{}) { <-ch }

func TestLiveGoroutines(t *testing.T) {
	mine := func(fn string) bool { return strings.HasSuffix(fn, ".parkedForGoroutinesTest") }
	count := func() int {
		n := 0
		for _, g := range LiveGoroutines() {
			if g.Has(mine) {
				n++
			}
		}
		return n
	}
	if n := count(); n != 0 {
		t.Fatalf("before: %d goroutines in parkedForGoroutinesTest, want 0", n)
	}
	ch := make(chan struct{})
	for range 3 {
		go parkedForGoroutinesTest(ch) // ends when ch is closed
	}
	if !WaitUntil(time.Second, func() bool { return count() == 3 }) {
		t.Fatalf("while parked: %d goroutines in parkedForGoroutinesTest, want 3", count())
	}
	for _, g := range LiveGoroutines() {
		if g.Has(mine) {
			if g.State != "chan receive" || g.CreatedBy != "github.com/gotutor/tutor/lessons/harness.TestLiveGoroutines" || g.ID <= 0 {
				t.Errorf("goroutine = %+v, want state %q, created by TestLiveGoroutines", g, "chan receive")
			}
		}
	}
	close(ch)
	if !WaitUntil(time.Second, func() bool { return count() == 0 }) {
		t.Fatalf("after close: %d goroutines in parkedForGoroutinesTest, want 0", count())
	}
}

func TestParseGoroutine(t *testing.T) {
	block := "goroutine 7 [chan send, 2 minutes]:\nmain.main.func1(0xc000012345)\n\t/tmp/main.go:3 +0x1e\ncreated by main.main in goroutine 1\n\t/tmp/main.go:3 +0x66"
	g, ok := parseGoroutine(block)
	if !ok || g.ID != 7 || g.State != "chan send" || len(g.Funcs) != 1 || g.Funcs[0] != "main.main.func1" || g.CreatedBy != "main.main" {
		t.Errorf("parseGoroutine = %+v, %v; want goroutine 7 in chan send, main.main.func1, created by main.main", g, ok)
	}
	if _, ok := parseGoroutine("not a goroutine"); ok {
		t.Errorf("parseGoroutine(garbage) ok = true, want false")
	}
}
