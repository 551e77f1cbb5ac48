package lab

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// QueueOptions are the knobs of [Queue]. Zero fields take the defaults.
type QueueOptions struct {
	Pool     int           // k: jobs served at once; default 4
	Service  time.Duration // d: mean service time of one job; default 20 ms
	Loads    []int         // utilisations to measure, in percent of k/d; default 50, 70, 80, 90, 95
	Requests int           // arrivals per utilisation; default 200
	Seed     uint64        // random arrivals and service times; 0 → a fixed seed
	// OnRow, if not nil, is called with each row as soon as it is
	// measured, from the goroutine that called [Queue].
	OnRow func(QueueRow)
}

// QueueRow is what one utilisation measured.
type QueueRow struct {
	Load      int           `json:"load"`       // utilisation asked for, percent of k/d
	Offered   float64       `json:"offered"`    // λ asked for, arrivals per second
	Arrivals  float64       `json:"arrivals"`   // λ measured: arrivals ÷ the time they took
	Mean      time.Duration `json:"mean_ns"`    // W: mean time in the system (queue + service)
	P90       time.Duration `json:"p90_ns"`     // 90th percentile of the time in the system
	Wait      time.Duration `json:"wait_ns"`    // mean time in the queue alone
	Predicted time.Duration `json:"predict_ns"` // W that M/M/k theory predicts (Erlang C); 0 at or above 100%: no steady state
	L         float64       `json:"l"`          // jobs in the system, time-averaged from a look every millisecond
	LambdaW   float64       `json:"lambda_w"`   // λ measured × W measured: Little's law says ≈ L
}

// withDefaults fills in zero fields and rejects impossible values.
func (o QueueOptions) withDefaults() (QueueOptions, error) {
	o.Pool = cmp.Or(o.Pool, 4)
	o.Service = cmp.Or(o.Service, 20*time.Millisecond)
	if len(o.Loads) == 0 {
		o.Loads = []int{50, 70, 80, 90, 95}
	}
	o.Loads = slices.Clone(o.Loads)
	o.Requests = cmp.Or(o.Requests, 200)
	o.Seed = cmp.Or(o.Seed, 2026)
	for _, u := range o.Loads {
		if u < 1 || u > 150 {
			return o, fmt.Errorf("load %d%%: must be between 1 and 150", u)
		}
	}
	switch {
	case o.Pool < 1 || o.Pool > 256:
		return o, fmt.Errorf("pool %d: must be between 1 and 256", o.Pool)
	case o.Service < time.Millisecond || o.Service > time.Second:
		return o, fmt.Errorf("service %v: must be between 1ms and 1s", o.Service)
	case o.Requests < 10 || o.Requests > 5000:
		return o, fmt.Errorf("requests %d: must be between 10 and 5000", o.Requests)
	}
	return o, nil
}

// Queue measures latency against utilisation for a pool of k servers with
// a FIFO queue in front: for each load it sends o.Requests jobs with random
// (Poisson) arrivals at λ = load × k/d, each job sleeping an exponentially
// distributed time of mean d in one of the k slots. It reports the time in
// the system, what M/M/k theory predicts for it, and Little's law checked
// on the live numbers: L (sampled every millisecond, independently of the
// jobs' own clocks) against λW.
//
// The jobs sleep: they stand for I/O-bound handlers waiting in a pool (a
// thread pool, a connection pool), so the machine's load barely moves them.
func Queue(ctx context.Context, o QueueOptions) ([]QueueRow, error) {
	o, err := o.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("queue: %w", err)
	}
	rng := rand.New(rand.NewPCG(o.Seed, 0x7a7a))
	var rows []QueueRow
	for _, u := range o.Loads {
		row, err := queueRun(ctx, o, u, rng)
		if err != nil {
			return nil, fmt.Errorf("queue: load %d%%: %w", u, err)
		}
		rows = append(rows, row)
		if o.OnRow != nil {
			o.OnRow(row)
		}
	}
	return rows, nil
}

// queueJob is one arrival.
type queueJob struct {
	service          time.Duration
	arrived, started time.Time
	done             time.Time
}

// queueRun measures one utilisation.
func queueRun(ctx context.Context, o QueueOptions, load int, rng *rand.Rand) (QueueRow, error) {
	k, d := o.Pool, o.Service
	lambda := float64(load) / 100 * float64(k) / d.Seconds() // arrivals per second
	jobs := make([]queueJob, o.Requests)
	var offsets []time.Duration // arrival times from the start
	at := time.Duration(0)
	for i := range jobs {
		at += time.Duration(rng.ExpFloat64() / lambda * float64(time.Second))
		offsets = append(offsets, at)
		jobs[i].service = time.Duration(rng.ExpFloat64() * float64(d))
	}

	var inSystem atomic.Int64
	queue := make(chan int, len(jobs)) // FIFO: the order of arrival
	var servers sync.WaitGroup
	for range k {
		servers.Go(func() { // ends when queue is closed and drained
			for i := range queue {
				j := &jobs[i]
				j.started = time.Now()
				if ctx.Err() == nil {
					sleepCtx(ctx, j.service)
				}
				j.done = time.Now()
				inSystem.Add(-1)
			}
		})
	}

	// The sampler: the count of jobs in the system, looked at every
	// millisecond and weighted by the time since the last look, so that a
	// tick the busy machine delays or drops does not bias L.
	stopSampling := make(chan struct{})
	var area float64 // ∫ jobs in system dt, in job-seconds
	var span time.Duration
	var sampler sync.WaitGroup
	sampler.Go(func() { // ends when stopSampling is closed
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		last := time.Now()
		look := func() {
			now := time.Now()
			area += float64(inSystem.Load()) * now.Sub(last).Seconds()
			span += now.Sub(last)
			last = now
		}
		for {
			select {
			case <-stopSampling:
				look()
				return
			case <-tick.C:
				look()
			}
		}
	})

	start := time.Now()
	for i, off := range offsets {
		if wait := time.Until(start.Add(off)); wait > 0 {
			sleepCtx(ctx, wait)
		}
		if ctx.Err() != nil {
			break
		}
		jobs[i].arrived = time.Now()
		inSystem.Add(1)
		queue <- i
	}
	lastArrival := time.Now()
	close(queue)
	servers.Wait()
	close(stopSampling)
	sampler.Wait()
	if err := ctx.Err(); err != nil {
		return QueueRow{}, err
	}

	// L: the sampled average over the window from the first arrival to the
	// last departure; λ: arrivals over the time they took to arrive.
	var inSys []time.Duration
	var sum, waitSum time.Duration
	for _, j := range jobs {
		t := j.done.Sub(j.arrived)
		inSys = append(inSys, t)
		sum += t
		waitSum += j.started.Sub(j.arrived)
	}
	n := len(jobs)
	slices.Sort(inSys)
	arrivalSpan := lastArrival.Sub(jobs[0].arrived)
	lambdaMeasured := float64(n) / max(arrivalSpan, time.Millisecond).Seconds()
	// The sampler's window starts and ends with the system empty: arrivals
	// ÷ that window is the λ that pairs with the sampled L.
	lambdaWindow := float64(n) / max(span, time.Millisecond).Seconds()
	W := sum / time.Duration(n)
	row := QueueRow{
		Load: load, Offered: lambda, Arrivals: lambdaMeasured,
		Mean: W, P90: inSys[n*9/10], Wait: waitSum / time.Duration(n),
		Predicted: mmkTime(k, lambda, d),
		L:         area / max(span, time.Millisecond).Seconds(),
		LambdaW:   lambdaWindow * W.Seconds(),
	}
	return row, nil
}

// sleepCtx sleeps for d or until ctx is done.
func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// mmkTime is the mean time in an M/M/k system with arrival rate lambda
// (per second) and mean service time d: d plus the mean wait, which is
// Erlang C's probability of waiting × d / (k − a), with a = λd. At or
// above saturation (a ≥ k) the queue has no steady state: it returns 0.
func mmkTime(k int, lambda float64, d time.Duration) time.Duration {
	a := lambda * d.Seconds()
	if a >= float64(k) {
		return 0
	}
	// Σ_{i<k} a^i/i! and a^k/k!, computed term by term.
	term, sum := 1.0, 0.0
	for i := range k {
		sum += term
		term *= a / float64(i+1)
	}
	top := term * float64(k) / (float64(k) - a)
	pWait := top / (sum + top)
	wait := pWait * d.Seconds() / (float64(k) - a)
	return d + time.Duration(wait*float64(time.Second))
}

// QueueTable renders the queue experiment as an aligned terminal table.
func QueueTable(rows []QueueRow) string {
	out := [][]string{{"load", "λ asked", "λ measured", "W mean", "W p90", "W M/M/k", "in queue", "L sampled", "λ×W", "Little"}}
	for _, r := range rows {
		pred := "grows"
		if r.Predicted > 0 {
			pred = formatDuration(r.Predicted)
		}
		out = append(out, []string{fmt.Sprintf("%d%%", r.Load),
			fmt.Sprintf("%.0f/s", r.Offered), fmt.Sprintf("%.0f/s", r.Arrivals),
			formatDuration(r.Mean), formatDuration(r.P90), pred, formatDuration(r.Wait),
			fmt.Sprintf("%.2f", r.L), fmt.Sprintf("%.2f", r.LambdaW), littleText(r)})
	}
	return aligned(out)
}

// LittleGap is |L − λW| ÷ L, the relative gap between the two sides of
// Little's law as measured.
func (r QueueRow) LittleGap() float64 {
	if r.L == 0 {
		return 0
	}
	return math.Abs(r.L-r.LambdaW) / r.L
}

func littleText(r QueueRow) string {
	return fmt.Sprintf("%.0f%% apart", 100*r.LittleGap())
}
