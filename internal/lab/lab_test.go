package lab

import (
	"testing"
	"time"
)

func TestTable(t *testing.T) {
	head := "requests at once  async (c.Sleep)  sync (time.Sleep, pool)  sync in units of 100 ms  waiting at once: async / sync\n" +
		"────────────────  ───────────────  ───────────────────────  ───────────────────────  ─────────────────────────────\n"
	tests := []struct {
		name string
		rows []Row
		unit time.Duration
		want string
	}{
		{"empty", nil, 100 * time.Millisecond, head},
		{"staircase", []Row{
			{Concurrency: 40, Async: 107 * time.Millisecond, Sync: 106400 * time.Microsecond, AsyncPeak: 40, SyncPeak: 40},
			{Concurrency: 120, Async: 123 * time.Millisecond, Sync: 1519 * time.Millisecond, AsyncPeak: 120, SyncPeak: 40},
		}, 100 * time.Millisecond, head +
			"40                         107 ms                   106 ms                     1.1×                        40 / 40\n" +
			"120                        123 ms                   1.52 s                    15.2×                       120 / 40\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Table(tt.rows, tt.unit); got != tt.want {
				t.Errorf("Table(%s) =\n%s\nwant\n%s", tt.name, got, tt.want)
			}
		})
	}
}

// TestAligned: every line of a table has the same width in runes, so the
// columns line up in a terminal.
func TestAligned(t *testing.T) {
	got := aligned([][]string{{"way", "late"}, {"unbounded", "20"}, {"pool of 1", "3"}})
	want := "way        late\n─────────  ────\nunbounded    20\npool of 1     3\n"
	if got != want {
		t.Errorf("aligned =\n%s\nwant\n%s", got, want)
	}
}

func TestOptionsErrors(t *testing.T) {
	tests := []struct {
		name string
		o    Options
	}{
		{"negative pool", Options{Pool: -1}},
		{"unit too small", Options{Unit: time.Microsecond}},
		{"zero concurrency", Options{Concurrency: []int{20, 0}}},
		{"huge concurrency", Options{Concurrency: []int{5000}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if rows, err := AsyncVsSync(t.Context(), tt.o); err == nil {
				t.Errorf("AsyncVsSync(%+v) = %v, nil; want an error", tt.o, rows)
			}
		})
	}
}

// TestAsyncVsSync runs the real experiment with a 20 ms unit (about one
// second). Counts decide: the pool holds at most Pool sync handlers, and
// async handlers all wait together. Times are judged only where physics
// gives a floor (a pool of 40 needs ⌈n/40⌉ units for n sleeps) or with at
// least 3x room on both sides: 120 requests take about 2 (async) and 4
// (sync) units here, handlers that ran one at a time would need 120, and
// the bound is 30.
func TestAsyncVsSync(t *testing.T) {
	if testing.Short() {
		t.Skip("timing experiment; skipped with -short")
	}
	const pool, unit = 40, 20 * time.Millisecond
	rows, err := AsyncVsSync(t.Context(), Options{Pool: pool, Unit: unit, Concurrency: []int{20, 40, 80, 120}})
	if err != nil {
		t.Fatalf("AsyncVsSync: %v", err)
	}
	t.Logf("unit %v, pool %d:\n%s", unit, pool, Table(rows, unit))
	if len(rows) != 4 {
		t.Fatalf("AsyncVsSync returned %d rows, want 4", len(rows))
	}
	for _, r := range rows {
		if r.SyncPeak > pool {
			t.Errorf("n=%d: SyncPeak = %d, want at most the pool, %d", r.Concurrency, r.SyncPeak, pool)
		}
		if r.Concurrency >= 2*pool && r.SyncPeak != pool {
			t.Errorf("n=%d: SyncPeak = %d, want %d (a full pool)", r.Concurrency, r.SyncPeak, pool)
		}
		steps := time.Duration((r.Concurrency + pool - 1) / pool)
		if r.Sync < steps*unit {
			t.Errorf("n=%d: Sync = %v, want at least %d units (%v): the pool cannot run more than %d sleeps at once", r.Concurrency, r.Sync, steps, steps*unit, pool)
		}
		if r.Async < unit {
			t.Errorf("n=%d: Async = %v, want at least one unit (%v)", r.Concurrency, r.Async, unit)
		}
	}
	// At 120 requests, handlers that ran one at a time would need 120 units
	// (2.4 s); the pool needs 3 and async 1, plus connection overhead.
	last := rows[3]
	serial := time.Duration(last.Concurrency) * unit
	if last.Async > serial/4 || last.Sync > serial/4 {
		t.Errorf("n=%d: Async = %v, Sync = %v, want both under %v (a quarter of one-at-a-time)", last.Concurrency, last.Async, last.Sync, serial/4)
	}
	if last.AsyncPeak < 2*pool {
		t.Errorf("n=%d: AsyncPeak = %d, want at least %d: async waits must not be limited by the pool", last.Concurrency, last.AsyncPeak, 2*pool)
	}
}

// TestCores runs a small burst: the pools hold their limits (counted), every
// job is accounted for, and the table lists the three ways.
func TestCores(t *testing.T) {
	if testing.Short() {
		t.Skip("burns CPU")
	}
	o := CoresOptions{Jobs: 8, Unit: 2 * time.Millisecond, Rounds: 1}
	rows, err := Cores(t.Context(), o)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 {
		t.Fatalf("%d rows, want 3", len(rows))
	}
	for _, r := range rows {
		if r.OnTime+r.Late != o.Jobs {
			t.Errorf("%s: %d on time + %d late, want %d jobs", r.Way, r.OnTime, r.Late, o.Jobs)
		}
		if r.Limit > 0 && (r.Peak > r.Limit || r.Peak < 1) {
			t.Errorf("%s: %d jobs computing at once, want 1 to %d", r.Way, r.Peak, r.Limit)
		}
		if !(r.P50 <= r.P90 && r.P90 <= r.Last) {
			t.Errorf("%s: p50 %v, p90 %v, last %v out of order", r.Way, r.P50, r.P90, r.Last)
		}
	}
	if rows[2].Peak != 1 {
		t.Errorf("pool of 1 ran %d at once", rows[2].Peak)
	}
	t.Logf("\n%s", CoresTable(rows))
	if _, err := Cores(t.Context(), CoresOptions{Jobs: 5000}); err == nil {
		t.Error("5000 jobs accepted, want an error")
	}
}
