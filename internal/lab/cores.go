package lab

import (
	"cmp"
	"context"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// CoresOptions are the knobs of the cores experiment.
type CoresOptions struct {
	Jobs     int           // CPU jobs sent at once; 0 → 10 × GOMAXPROCS
	Unit     time.Duration // CPU time of one job alone on a core; 0 → 20 ms
	Deadline time.Duration // a job answered later than this is late; 0 → 4 units
	Rounds   int           // bursts per way, the median is reported; 0 → 3
	// OnRow, if not nil, is called with each way's row as soon as it is
	// measured, from the goroutine that called [Cores].
	OnRow func(CoresRow)
}

// CoresRow is what one way of running the burst measured (medians over the
// rounds).
type CoresRow struct {
	Way    string        `json:"way"`     // "unbounded", "pool of GOMAXPROCS (2)", "pool of 1"
	Limit  int           `json:"limit"`   // jobs allowed to compute at once; 0: no limit
	OnTime int           `json:"on_time"` // jobs finished within the deadline
	Late   int           `json:"late"`    // jobs finished after it
	P50    time.Duration `json:"p50_ns"`  // completion times, from the burst's start
	P90    time.Duration `json:"p90_ns"`
	Last   time.Duration `json:"last_ns"`
	Peak   int           `json:"peak"` // jobs computing at once, at most
	// Times are every job's completion time in one burst, sorted: the
	// round whose p50 is the median one.
	Times []time.Duration `json:"times_ns"`
}

// Cores runs the experiment behind lesson 07: a burst of CPU jobs, run three
// ways on this machine — a goroutine each with no limit, a pool of
// runtime.GOMAXPROCS(0) and a pool of 1 — and says for each how many jobs
// finished within the deadline. Unbounded, every job shares the cores with
// every other and they all finish late together; a pool of the cores'
// size finishes the first ones early; a pool of 1 leaves cores idle.
func Cores(ctx context.Context, o CoresOptions) ([]CoresRow, error) {
	procs := runtime.GOMAXPROCS(0)
	o.Jobs = cmp.Or(o.Jobs, 10*procs)
	o.Unit = cmp.Or(o.Unit, 20*time.Millisecond)
	o.Deadline = cmp.Or(o.Deadline, 4*o.Unit)
	o.Rounds = cmp.Or(o.Rounds, 3)
	switch {
	case o.Deadline < 0:
		return nil, fmt.Errorf("deadline must be positive, got %v", o.Deadline)
	case o.Jobs < 1 || o.Jobs > 1000:
		return nil, fmt.Errorf("jobs must be 1 to 1000, got %d", o.Jobs)
	case o.Unit < time.Millisecond || o.Unit > time.Second:
		return nil, fmt.Errorf("unit must be 1 ms to 1 s, got %v", o.Unit)
	case o.Rounds < 1 || o.Rounds > 20:
		return nil, fmt.Errorf("rounds must be 1 to 20, got %d", o.Rounds)
	}
	spins := calibrate(o.Unit)
	ways := []struct {
		name  string
		limit int
	}{
		{"unbounded", 0},
		{fmt.Sprintf("pool of GOMAXPROCS (%d)", procs), procs},
		{"pool of 1", 1},
	}
	var rows []CoresRow
	for _, w := range ways {
		var rounds []CoresRow
		for range o.Rounds {
			r, err := coresBurst(ctx, o, spins, w.limit)
			if err != nil {
				return nil, err
			}
			rounds = append(rounds, r)
		}
		byP50 := slices.Clone(rounds)
		slices.SortFunc(byP50, func(a, b CoresRow) int { return cmp.Compare(a.P50, b.P50) })
		r := CoresRow{Way: w.name, Limit: w.limit, Times: byP50[len(byP50)/2].Times,
			OnTime: median(pick(rounds, func(r CoresRow) int { return r.OnTime })),
			Late:   median(pick(rounds, func(r CoresRow) int { return r.Late })),
			P50:    median(pick(rounds, func(r CoresRow) time.Duration { return r.P50 })),
			P90:    median(pick(rounds, func(r CoresRow) time.Duration { return r.P90 })),
			Last:   median(pick(rounds, func(r CoresRow) time.Duration { return r.Last })),
			Peak:   median(pick(rounds, func(r CoresRow) int { return r.Peak })),
		}
		rows = append(rows, r)
		if o.OnRow != nil {
			o.OnRow(r)
		}
	}
	return rows, nil
}

// coresBurst sends o.Jobs jobs at once, limit at a time (0: no limit), and
// measures each job's completion time from the start of the burst. Jobs
// stop computing soon after ctx ends, and then it returns ctx's error.
func coresBurst(ctx context.Context, o CoresOptions, spins int, limit int) (CoresRow, error) {
	var slots chan struct{}
	if limit > 0 {
		slots = make(chan struct{}, limit)
	}
	var g gauge
	done := make([]time.Duration, o.Jobs)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range o.Jobs {
		wg.Go(func() {
			if slots != nil {
				slots <- struct{}{}
				defer func() { <-slots }()
			}
			exit := g.enter()
			spinCtx(ctx, spins)
			exit()
			done[i] = time.Since(start)
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return CoresRow{}, err
	}
	slices.Sort(done)
	r := CoresRow{Peak: g.peakNow(), Last: done[len(done)-1],
		P50: done[len(done)/2], P90: done[len(done)*9/10], Times: done}
	for _, d := range done {
		if d <= o.Deadline {
			r.OnTime++
		} else {
			r.Late++
		}
	}
	return r, nil
}

// spinCtx burns CPU for n steps in slices of about 50,000 steps (well under
// a millisecond), and stops early once ctx is done.
func spinCtx(ctx context.Context, n int) {
	const slice = 50_000
	for n > 0 && ctx.Err() == nil {
		step := min(n, slice)
		spin(step)
		n -= step
	}
}

// calibrate finds how many spin steps take unit on one core of this machine
// (the fastest of five tries, so a busy moment does not inflate it).
func calibrate(unit time.Duration) int {
	const probe = 200_000
	best := time.Duration(1<<63 - 1)
	for range 5 {
		t := time.Now()
		spin(probe)
		best = min(best, time.Since(t))
	}
	return max(1, int(float64(probe)*float64(unit)/float64(max(best, time.Microsecond))))
}

// spin burns CPU for n steps.
func spin(n int) {
	x := uint64(n)
	for i := 0; i < n; i++ {
		x = x*6364136223846793005 + 1442695040888963407
	}
	runtime.KeepAlive(x) // the loop's result is used: it cannot be removed
}

func pick[T any](rows []CoresRow, f func(CoresRow) T) []T {
	out := make([]T, len(rows))
	for i, r := range rows {
		out[i] = f(r)
	}
	return out
}

// CoresTable renders the cores experiment as an aligned terminal table.
func CoresTable(rows []CoresRow) string {
	out := [][]string{{"way", "on time", "late", "p50", "p90", "last", "computing at once"}}
	for _, r := range rows {
		out = append(out, []string{r.Way, fmt.Sprint(r.OnTime), fmt.Sprint(r.Late),
			formatDuration(r.P50), formatDuration(r.P90), formatDuration(r.Last), fmt.Sprint(r.Peak)})
	}
	return aligned(out)
}

// aligned lays rows out in columns for a terminal: the first column
// left-aligned, the others (numbers) right-aligned, a rule under the header.
func aligned(rows [][]string) string {
	width := make([]int, len(rows[0]))
	for _, r := range rows {
		for i, c := range r {
			width[i] = max(width[i], utf8.RuneCountInString(c))
		}
	}
	var b strings.Builder
	line := func(r []string) {
		for i, c := range r {
			pad := strings.Repeat(" ", width[i]-utf8.RuneCountInString(c))
			if i == 0 {
				b.WriteString(c + pad)
			} else {
				b.WriteString("  " + pad + c)
			}
		}
		b.WriteString("\n")
	}
	line(rows[0])
	rule := make([]string, len(width))
	for i, w := range width {
		rule[i] = strings.Repeat("─", w)
	}
	line(rule)
	for _, r := range rows[1:] {
		line(r)
	}
	return b.String()
}
