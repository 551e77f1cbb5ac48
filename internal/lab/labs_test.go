package lab

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// TestWorkersCounts runs the workers lab with small knobs. Counts decide
// (each worker counts only the requests dealt to it; slots are N × pool);
// times are judged only where physics gives a floor that a wrong
// simulation would miss (a loop that really blocks runs its share of the
// blocking burst one after another) or with a wide margin.
func TestWorkersCounts(t *testing.T) {
	if testing.Short() {
		t.Skip("timing experiment; skipped with -short")
	}
	const unit = 20 * time.Millisecond
	o := WorkersOptions{Workers: []int{1, 2}, Pool: 10, Requests: 40, Blocking: 4, Unit: unit}
	var streamed int
	o.OnRow = func(WorkersRow) { streamed++ }
	rows, err := Workers(t.Context(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%s", WorkersTable(rows, o))
	if len(rows) != 2 || streamed != 2 {
		t.Fatalf("%d rows, %d streamed; want 2 and 2", len(rows), streamed)
	}
	for _, r := range rows {
		n := r.Workers
		if r.Slots != n*10 {
			t.Errorf("%d workers: %d slots, want %d", n, r.Slots, n*10)
		}
		if want := 40 / n; r.Counter != want {
			t.Errorf("%d workers: one worker's counter = %d, want %d (its share of 40)", n, r.Counter, want)
		}
		// The blocking handlers of one worker run one after another.
		if floor := time.Duration((4+n-1)/n) * unit; r.Blocking < floor {
			t.Errorf("%d workers: blocking burst took %v, under the %v its loop needs to run its share one at a time", n, r.Blocking, floor)
		}
		// The def burst: ⌈40 / (n × 10)⌉ units at least.
		if floor := time.Duration((40+n*10-1)/(n*10)) * unit; r.Sync < floor {
			t.Errorf("%d workers: def burst took %v, under the %v its slots allow", n, r.Sync, floor)
		}
		// The async burst waits together: far below 40 units one at a time.
		if r.Async > 40*unit/3 {
			t.Errorf("%d workers: async burst took %v; its handlers did not wait together", n, r.Async)
		}
	}
}

func TestMMK(t *testing.T) {
	d := 20 * time.Millisecond
	tests := []struct {
		k      int
		lambda float64
		want   time.Duration
	}{
		{1, 25, 40 * time.Millisecond},     // M/M/1: d / (1 − ρ), ρ = 0.5
		{2, 50, 80 * time.Millisecond / 3}, // M/M/2, a = 1: C = 1/3, W = d + d/3
		{4, 200, 0},                        // saturated: no steady state
		{1, 1e-9, 20 * time.Millisecond},   // empty: just the service
	}
	for _, tt := range tests {
		got := mmkTime(tt.k, tt.lambda, d)
		if diff := got - tt.want; diff < -time.Microsecond || diff > time.Microsecond {
			t.Errorf("mmkTime(%d, %v, %v) = %v, want %v", tt.k, tt.lambda, d, got, tt.want)
		}
	}
	// k = 3, a = 1.5: Erlang C = 0.2368, Wq = C·d/(k − a) = 3.16 ms.
	if got := mmkTime(3, 75, d); got < 23*time.Millisecond || got > 23300*time.Microsecond {
		t.Errorf("mmkTime(3, 75, 20ms) = %v, want about 23.16 ms", got)
	}
}

const ms = time.Millisecond

// TestQueueLittle: the live numbers obey Little's law (L sampled on its own
// clock against λW from the jobs' own times) and latency grows with load.
func TestQueueLittle(t *testing.T) {
	if testing.Short() {
		t.Skip("timing experiment; skipped with -short")
	}
	rows, err := Queue(t.Context(), QueueOptions{Pool: 2, Service: 10 * ms, Loads: []int{30, 90}, Requests: 100})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%s", QueueTable(rows))
	for _, r := range rows {
		if want := float64(r.Load) / 100 * 2 / 0.010; r.Offered != want {
			t.Errorf("load %d%%: offered λ = %v, want %v", r.Load, r.Offered, want)
		}
		if r.L <= 0 || r.LambdaW <= 0 {
			t.Errorf("load %d%%: L = %v, λW = %v; want both positive", r.Load, r.L, r.LambdaW)
		}
		if g := r.LittleGap(); g > 0.3 {
			t.Errorf("load %d%%: L = %.2f and λW = %.2f are %.0f%% apart", r.Load, r.L, r.LambdaW, 100*g)
		}
		if r.Mean < 10*ms/2 {
			t.Errorf("load %d%%: mean time in the system %v, under half the service time", r.Load, r.Mean)
		}
	}
	if rows[1].Wait <= rows[0].Wait {
		t.Errorf("time in the queue at 90%% (%v) not above 30%% (%v)", rows[1].Wait, rows[0].Wait)
	}
}

func TestRunKnobErrors(t *testing.T) {
	tests := []struct {
		lab   string
		knobs map[string]string
		want  string
	}{
		{"nope", nil, `no lab called "nope"`},
		{"queue", map[string]string{"pool": "x"}, `pool: "x" is not a whole number`},
		{"queue", map[string]string{"pool": "0"}, "pool: must be at least 1"},
		{"queue", map[string]string{"service": "fast"}, `service: "fast" is not a duration`},
		{"queue", map[string]string{"service": "-1s"}, "service: must be more than 0"},
		{"queue", map[string]string{"loads": "50,,x"}, `loads: "x" is not a whole number`},
		{"queue", map[string]string{"loads": "200"}, "load 200%: must be between 1 and 150"},
		{"queue", map[string]string{"color": "red"}, "color: not a knob of queue"},
		{"queue", map[string]string{"requests": "5000", "loads": "10"}, "this run would take about"},
		{"workers", map[string]string{"workers": "1,32"}, "workers 32: must be between 1 and 16"},
		{"cores", map[string]string{"jobs": "5000"}, "jobs: must be between 1 and 1000"},
		{"async-vs-sync", map[string]string{"unit": "5s"}, "this run would take about"},
		{"async-vs-sync", map[string]string{"n": strings.Repeat("1,", 13) + "1"}, "n: 14 values; at most 12"},
	}
	for _, tt := range tests {
		t.Run(tt.lab+" "+tt.want, func(t *testing.T) {
			emitted := 0
			err := Run(t.Context(), tt.lab, tt.knobs, func(Event) { emitted++ })
			if !IsKnobError(err) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Run(%s, %v) = %v, want a knob error containing %q", tt.lab, tt.knobs, err, tt.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q is not one line", err)
			}
			if emitted != 0 {
				t.Errorf("%d events emitted before the refusal", emitted)
			}
		})
	}
}

// TestRunStreams: a run emits start, each row as it is measured, then done
// with the terminal table.
func TestRunStreams(t *testing.T) {
	var kinds []EventKind
	var start Start
	err := Run(t.Context(), "queue", map[string]string{"pool": "2", "service": "1ms", "loads": "40,60", "requests": "20"}, func(e Event) {
		kinds = append(kinds, e.Kind)
		if s, ok := e.Data.(Start); ok {
			start = s
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []EventKind{EventStart, EventRow, EventRow, EventDone}
	if strings.Join(kindStrings(kinds), " ") != strings.Join(kindStrings(want), " ") {
		t.Errorf("events %v, want %v", kinds, want)
	}
	if start.Rows != 2 || start.Knobs["pool"] != "2" || start.Knobs["requests"] != "20" {
		t.Errorf("start = %+v, want 2 rows and the knobs in force", start)
	}
}

func kindStrings(ks []EventKind) []string {
	out := make([]string, len(ks))
	for i, k := range ks {
		out[i] = string(k)
	}
	return out
}

// TestRunStopsWithCause: every lab stops soon after its context ends, and
// Run returns the cause.
func TestRunStopsWithCause(t *testing.T) {
	if testing.Short() {
		t.Skip("runs each lab for a moment")
	}
	stop := errors.New("stopped: your save is being checked")
	for _, tt := range []struct {
		lab   string
		knobs map[string]string
	}{
		{"async-vs-sync", map[string]string{"unit": "500ms", "n": "40,80,120"}},
		{"cores", map[string]string{"jobs": "200", "unit": "50ms", "rounds": "1"}},
		{"workers", map[string]string{"unit": "500ms"}},
		{"queue", map[string]string{"requests": "2000", "loads": "50"}},
	} {
		t.Run(tt.lab, func(t *testing.T) {
			ctx, cancel := context.WithCancelCause(t.Context())
			started := make(chan struct{})
			done := make(chan error, 1)
			go func() { // ends when Run returns
				done <- Run(ctx, tt.lab, tt.knobs, func(e Event) {
					if e.Kind == EventStart {
						close(started)
					}
				})
			}()
			<-started
			time.Sleep(200 * ms)
			at := time.Now()
			cancel(stop)
			select {
			case err := <-done:
				took := time.Since(at)
				t.Logf("returned %v after the cancel", took.Round(ms))
				if !errors.Is(err, stop) {
					t.Errorf("Run = %v, want the cause %q", err, stop)
				}
				if took > 1500*ms {
					t.Errorf("returned %v after the cancel, want within 1.5 s", took.Round(ms))
				}
			case <-time.After(10 * time.Second):
				t.Fatal("Run did not return within 10 s of the cancel")
			}
		})
	}
}
