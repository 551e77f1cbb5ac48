package harness

import (
	"runtime/debug"
	"strings"
	"testing"
	"time"
)

func TestNearBound(t *testing.T) {
	tests := []struct {
		rule                   string
		v, bound, band, beyond float64
		want                   bool
	}{
		{"max", 362, 300, 0.5, 0.5, true},   // a correct solution slowed by load: measure again
		{"max", 240, 300, 0.5, 0.5, true},   // just under the bound: measure again
		{"max", 105, 300, 0.5, 0.5, false},  // clearly fine
		{"max", 1000, 300, 0.5, 0.5, false}, // clearly wrong: judged at once
		{"max", 0, 300, 0.5, 0.5, false},
		{"max", 10, 0, 0.5, 0.5, false},
		// Lesson 02: correct 105 ms is not re-measured, a stall to 745 ms is.
		{"max", 105, 300, 1, 2, false},
		{"max", 160, 300, 1, 2, true},
		{"max", 745, 300, 1, 2, true},
		{"max", 1000, 300, 1, 2, false},
		// A minimum: the failing side is below the bound.
		{"min", 30, 40, 0.2, 1, true},
		{"min", 47, 40, 0.2, 1, true},
		{"min", 60, 40, 0.2, 1, false},
		{"min", 15, 40, 0.2, 1, false},
	}
	for _, tt := range tests {
		if got := nearBound([]float64{tt.v}, tt.rule, tt.bound, tt.band, tt.beyond); got != tt.want {
			t.Errorf("nearBound(%v, %s %v, band %v, beyond %v) = %v, want %v", tt.v, tt.rule, tt.bound, tt.band, tt.beyond, got, tt.want)
		}
	}
}

// TestRemeasure checks that a sample near the bound is measured again and
// judged by the median, and that a clear sample is not.
func TestRemeasure(t *testing.T) {
	q := Quantity{What: "total time", Unit: Millis, Want: "about 100 ms"}
	tests := []struct {
		name    string
		samples []float64
		want    bool
		taken   int
	}{
		{"clear pass", []float64{105}, true, 1},
		{"clear fail", []float64{1000}, false, 1},
		{"noisy pass", []float64{362, 110, 120}, true, 3},
		{"consistent near miss", []float64{340, 350, 330}, false, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ft := &testing.T{}
			c := &Check{t: ft}
			i := 0
			got := c.judge(q, "max", 300, func() float64 { v := tt.samples[i]; i++; return v })
			if got != tt.want || i != tt.taken {
				t.Errorf("judge = %v after %d samples, want %v after %d", got, i, tt.want, tt.taken)
			}
			if tt.taken > 1 && !strings.Contains(c.rec.Message, "measured 3 times") {
				t.Errorf("message %q does not say it measured again", c.rec.Message)
			}
		})
	}
}

func TestMessage(t *testing.T) {
	q := Quantity{What: "10 requests × 100 ms, total time", Unit: Millis, Want: "concurrent handling takes about 100 ms", Cause: "Likely cause: time.Sleep keeps the loop."}
	got := Message(q, "max", 350, 1020, false)
	want := "10 requests × 100 ms, total time: 1.02 s. Concurrent handling takes about 100 ms; the check allows up to 350 ms. Likely cause: time.Sleep keeps the loop."
	if got != want {
		t.Errorf("Message = %q\nwant      %q", got, want)
	}
}

func TestRestoreGC(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	for _, tc := range []struct {
		v    string
		set  bool
		want int
	}{
		{"", true, 100},
		{"50", true, 50},
		{"off", true, -1},
		{"nonsense", true, 100},
		{"50", false, 77}, // not run by the tutor: left alone
	} {
		debug.SetGCPercent(77)
		restoreGC(tc.v, tc.set)
		if got := debug.SetGCPercent(77); got != tc.want {
			t.Errorf("restoreGC(%q, %v): GC percent %d, want %d", tc.v, tc.set, got, tc.want)
		}
	}
}

func TestRecorderDrawnShowsUnfinished(t *testing.T) {
	r := NewRecorder(time.Now())
	endA := r.Start("a")
	r.Start("b") // never ends
	endA("ok")
	if got := r.Spans(); len(got) != 1 || got[0].Label != "a" {
		t.Fatalf("Spans() = %+v, want only the ended span a", got)
	}
	d := r.Drawn()
	if len(d) != 2 || d[0].Label != "a" || d[1].Label != "b" || d[1].Outcome != "unfinished" {
		t.Fatalf("Drawn() = %+v, want a (ok) then b (unfinished)", d)
	}
	if d[1].End < d[1].Start {
		t.Errorf("unfinished span ends before it starts: %+v", d[1])
	}
	var zero Recorder // the zero value works too
	zero.Start("c")
	if d := zero.Drawn(); len(d) != 1 || d[0].Outcome != "unfinished" {
		t.Errorf("zero Recorder Drawn() = %+v", d)
	}
}
