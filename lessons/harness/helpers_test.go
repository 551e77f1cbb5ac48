package harness

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestRecorderSpansFrom(t *testing.T) {
	t0 := time.Now()
	r := NewRecorder(t0)
	r.s = []Span{{Label: "a", Start: 30 * time.Millisecond, End: 80 * time.Millisecond, Outcome: "ok"}}
	got := r.SpansFrom(t0.Add(10 * time.Millisecond))
	if len(got) != 1 || got[0].Start != 20*time.Millisecond || got[0].End != 70*time.Millisecond || got[0].Label != "a" || got[0].Outcome != "ok" {
		t.Errorf("SpansFrom(t0+10ms) = %+v, want a from 20ms to 70ms, ok", got)
	}
	if r.s[0].Start != 30*time.Millisecond {
		t.Errorf("SpansFrom changed the recorder's own spans: %+v", r.s)
	}
	if same := r.SpansFrom(t0); same[0] != r.s[0] {
		t.Errorf("SpansFrom(own t0) = %+v, want %+v", same[0], r.s[0])
	}
}

func TestQuit(t *testing.T) {
	q := NewQuit()
	if q.Closed() {
		t.Fatal("a new Quit is closed")
	}
	select {
	case <-q.Done():
		t.Fatal("Done is closed before Close")
	default:
	}
	q.Close()
	q.Close() // a second Close must not panic
	if !q.Closed() {
		t.Error("Closed after Close = false")
	}
	select {
	case <-q.Done():
	case <-time.After(time.Second):
		t.Error("Done is not closed after Close")
	}
}

func TestPrecondition(t *testing.T) {
	run := func(err error) (*Check, bool) {
		c := &Check{t: &testing.T{}}
		finished := make(chan bool)
		go func() { // ends when Precondition returns or stops the goroutine (FailNow)
			stopped := true
			defer func() { finished <- stopped }()
			c.Precondition("The check cannot tell A from B", err)
			stopped = false
		}()
		return c, <-finished
	}
	if c, stopped := run(nil); stopped || c.rec.Message != "" {
		t.Errorf("Precondition(nil): stopped %v, message %q; want it to carry on silently", stopped, c.rec.Message)
	}
	c, stopped := run(errors.New("detector broken"))
	want := "The check cannot tell A from B (detector broken). This is a bug in the lesson's checks, not in your code."
	if !stopped || !strings.Contains(c.rec.Message, want) || c.rec.Passed {
		t.Errorf("Precondition(err): stopped %v, message %q; want it to stop the check with %q", stopped, c.rec.Message, want)
	}
}
