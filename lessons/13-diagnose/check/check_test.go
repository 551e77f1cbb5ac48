//go:build tutorcheck

package diagnose

// The hidden checks of lesson 13-diagnose. Every check builds its own
// black-box services on loopback, in random order and with random
// parameters, asks Diagnose to name each one's bottleneck, and judges the
// answers by counting. Every top-level name here starts with "check"
// (lessons/README.md, Naming): this file is compiled into the learner's
// package.

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gotutor/tutor/lessons/harness"
	"github.com/gotutor/tutor/lessons/loop"
)

const (
	checkUnitMin = 100 * time.Millisecond // one /work alone sleeps checkUnitMin…checkUnitMax
	checkUnitMax = 160 * time.Millisecond
	// A cores service's /work burns checkCPUMin…checkCPUMax of CPU: less
	// than the others sleep, because on a busy machine its time alone
	// grows with the load (the service shares the cores with everyone).
	checkCPUMin  = 25 * time.Millisecond
	checkCPUMax  = 40 * time.Millisecond
	checkPoolMin = 3 // a pool serves checkPoolMin…checkPoolMax requests at once
	checkPoolMax = 8

	checkBudget = 8 * time.Second // the deadline of Diagnose's ctx, for one service
	checkGrace  = 2 * time.Second // how long after the deadline the check still waits for Diagnose
)

// checkBurst is how many /work requests at once Diagnose must send: four
// per core, so that CPU work cannot finish early, and more than any pool.
func checkBurst() int { return max(4*runtime.GOMAXPROCS(0), 12) }

// checkService is one black-box service: /work is slow for one reason,
// /health does nothing. Every kind answers the same bodies and headers;
// only its behaviour tells it apart. It counts what Diagnose sent it.
type checkService struct {
	kind  Bottleneck
	limit int           // a pool's slots; 0 otherwise
	unit  time.Duration // how long one /work takes alone
	srv   *httptest.Server

	work harness.Gauge // /work requests in the server, at once

	mu          sync.Mutex
	workCalls   int
	healthCalls int
	healthMax   time.Duration // the longest /health in the server
	busyHealth  time.Duration // the longest /health in the server while /work requests were in it
}

// checkCPU is a calibrated millisecond of CPU work, for the cores services.
type checkCPU struct {
	ms harness.CPUUnit
}

// checkNewService starts a service of the given kind on loopback.
func checkNewService(t *testing.T, kind Bottleneck, limit int, cpu *checkCPU) *checkService {
	t.Helper()
	s := &checkService{kind: kind, limit: limit, unit: checkUnitMin + rand.N(checkUnitMax-checkUnitMin+1)}
	if kind == Cores {
		s.unit = checkCPUMin + rand.N(checkCPUMax-checkCPUMin+1)
	}
	var work, health http.Handler
	switch kind {
	case Loop:
		// FastAPI's blocking async def: time.Sleep on the loop.
		app := loop.New(loop.Options{})
		app.Async("/work", func(c *loop.Ctx) string {
			time.Sleep(s.unit)
			return "done\n"
		})
		app.Async("/health", func(c *loop.Ctx) string { return "ok\n" })
		work, health = app, app
	case Lock:
		var mu sync.Mutex // held across the slow call, for the whole service
		work = checkPlain(func(r *http.Request) {
			mu.Lock()
			defer mu.Unlock()
			checkWait(r.Context(), s.unit)
		})
	case Cores:
		work = checkPlain(func(r *http.Request) {
			for range s.unit / time.Millisecond {
				if r.Context().Err() != nil {
					return
				}
				cpu.ms.Burn()
				runtime.Gosched() // let the accept loop and the other requests in: a burst arrives together
			}
		})
	case Pool:
		slots := make(chan struct{}, limit)
		work = checkPlain(func(r *http.Request) {
			select {
			case slots <- struct{}{}:
			case <-r.Context().Done():
				return
			}
			defer func() { <-slots }()
			checkWait(r.Context(), s.unit)
		})
	}
	if health == nil {
		health = checkPlain(func(*http.Request) {})
	}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/work":
			s.mu.Lock()
			s.workCalls++
			s.mu.Unlock()
			defer s.work.Enter()()
			work.ServeHTTP(w, r)
		case "/health":
			start := time.Now()
			busy := s.work.Now() > 0
			health.ServeHTTP(w, r)
			took := time.Since(start)
			s.mu.Lock()
			s.healthCalls++
			s.healthMax = max(s.healthMax, took)
			if busy || s.work.Now() > 0 {
				s.busyHealth = max(s.busyHealth, took)
			}
			s.mu.Unlock()
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(s.close)
	return s
}

// close stops the service, cutting the connections Diagnose left open so
// that nothing it started keeps a core or the loop busy for the next one.
func (s *checkService) close() {
	s.srv.CloseClientConnections()
	s.srv.Close()
}

// checkPlain is a net/http handler that runs slow and answers as the loop
// package does.
func checkPlain(slow func(r *http.Request)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body := "ok\n"
		if r.URL.Path == "/work" {
			body = "done\n"
		}
		slow(r)
		if r.Context().Err() != nil {
			return // the client has gone
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		fmt.Fprint(w, body)
	})
}

// checkWait sleeps for d, or less if the client goes away.
func checkWait(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// checkAnswer is what Diagnose said about one service.
type checkAnswer struct {
	svc      *checkService
	got      Diagnosis
	err      error
	took     time.Duration
	returned bool // within the deadline and the grace after it

	workCalls, peak, healthCalls int
	healthMax, busyHealth        time.Duration
}

// checkAsk runs Diagnose on s with a deadline of checkBudget, then stops
// the service.
func checkAsk(s *checkService) checkAnswer {
	ctx, cancel := context.WithTimeout(context.Background(), checkBudget)
	defer cancel()
	type result struct {
		d   Diagnosis
		err error
	}
	ch := make(chan result, 1)
	start := time.Now()
	go func() { // ends when Diagnose returns; a Diagnose that never does is reported below
		d, err := Diagnose(ctx, s.srv.URL)
		ch <- result{d, err}
	}()
	a := checkAnswer{svc: s}
	select {
	case r := <-ch:
		a.got, a.err, a.returned = r.d, r.err, true
	case <-time.After(checkBudget + checkGrace):
	}
	a.took = time.Since(start)
	s.close()
	s.mu.Lock()
	a.workCalls, a.healthCalls, a.healthMax, a.busyHealth = s.workCalls, s.healthCalls, s.healthMax, s.busyHealth
	s.mu.Unlock()
	a.peak = s.work.Peak()
	return a
}

// right reports whether the answer names the service's bottleneck, and its
// limit when judged.
func (a checkAnswer) right(limit bool) bool {
	if !a.returned || a.err != nil || a.got.Bottleneck != a.svc.kind {
		return false
	}
	return !limit || a.svc.kind != Pool || a.got.Limit == a.svc.limit
}

// checkMs prints a duration the way the harness prints times.
func checkMs(d time.Duration) string { return harness.Format(harness.Millis, harness.Ms(d)) }

// describe says, for the learner, what the service was and what the check
// saw it do, and what Diagnose answered.
func (a checkAnswer) describe(i int) string {
	s := a.svc
	var b strings.Builder
	fmt.Fprintf(&b, "Service %d (/work takes %s alone) ", i+1, checkMs(s.unit))
	switch s.kind {
	case Loop:
		b.WriteString("runs /work as an async handler that blocks the loop")
		if a.healthCalls == 0 {
			b.WriteString("; your Diagnose never asked /health")
		} else {
			fmt.Fprintf(&b, "; /health waited up to %s in the server while /work was busy: a loop stalls every route", checkMs(a.busyHealth))
		}
	case Lock:
		b.WriteString("holds one mutex across /work, so /work runs one at a time")
		if a.healthCalls == 0 {
			b.WriteString("; your Diagnose never asked /health")
		} else {
			fmt.Fprintf(&b, "; /health answered in %s at most while /work was busy: a lock stalls only the route that takes it", checkMs(max(a.busyHealth, a.healthMax)))
		}
	case Cores:
		fmt.Fprintf(&b, "burns CPU in /work with no limit: %d at once share %d cores, so none finishes until about %s, all together", checkBurst(), runtime.GOMAXPROCS(0), checkMs(time.Duration(checkBurst()/runtime.GOMAXPROCS(0))*s.unit))
	case Pool:
		fmt.Fprintf(&b, "serves /work in a pool of %d slots: %d finish after about %s, then the next %d", s.limit, s.limit, checkMs(s.unit), s.limit)
	}
	fmt.Fprintf(&b, "; it saw %d /work requests, %d at once at most. ", a.workCalls, a.peak)
	switch {
	case !a.returned:
		fmt.Fprintf(&b, "Diagnose did not return within %s of its deadline (%s).", checkMs(checkGrace), checkMs(checkBudget))
	case a.err != nil:
		fmt.Fprintf(&b, "Diagnose returned an error: %v.", a.err)
	default:
		fmt.Fprintf(&b, "You named %s", a.got.Bottleneck)
		if a.got.Bottleneck == Pool {
			fmt.Fprintf(&b, " with a limit of %d", a.got.Limit)
		}
		b.WriteString(".")
	}
	return b.String()
}

// checkDiagnose asks Diagnose about each service in turn and judges how
// many were named wrong (with the pool's limit when limit is set).
func checkDiagnose(t *testing.T, c *harness.Check, what string, limit bool, svcs []*checkService) []checkAnswer {
	t.Helper()
	answers := make([]checkAnswer, len(svcs))
	wrong := 0
	var msgs []string
	for i, s := range svcs {
		answers[i] = checkAsk(s)
		if !answers[i].right(limit) {
			wrong++
			msgs = append(msgs, answers[i].describe(i))
		}
	}
	c.Value(harness.Quantity{
		What:  fmt.Sprintf("%s named wrong, of %d", what, len(svcs)),
		Unit:  harness.Count,
		Want:  "Diagnose names each service's bottleneck from what it measures",
		Cause: strings.Join(msgs, " "),
	}, "max", 0, float64(wrong))
	for i, a := range answers {
		if a.right(limit) {
			c.Note(a.describe(i))
		}
	}
	return answers
}

// checkShuffled returns svcs in random order.
func checkShuffled(svcs ...*checkService) []*checkService {
	rand.Shuffle(len(svcs), func(i, j int) { svcs[i], svcs[j] = svcs[j], svcs[i] })
	return svcs
}

// checkSize returns a pool size, any of checkPoolMin…checkPoolMax.
func checkSize() int { return checkPoolMin + rand.N(checkPoolMax-checkPoolMin+1) }

// checkSizes returns two different pool sizes for PoolSize. Where it can,
// it picks sizes that a pool's size worked out from the burst's total time
// (n requests in ⌈n/k⌉ waves, so n divided by the waves) gets wrong for a
// burst of checkBurst(), rounded up or down: only counting the first wave
// names them. For a burst of 12 these are 5, 7 and 8 (12 in 3 waves looks
// like 4; 12 in 2 waves like 6).
func checkSizes() (int, int) {
	var proof []int
	n := checkBurst()
	for k := checkPoolMin; k <= checkPoolMax; k++ {
		waves := (n + k - 1) / k
		if n/waves != k && (n+waves-1)/waves != k {
			proof = append(proof, k)
		}
	}
	if len(proof) < 2 {
		proof = proof[:0]
		for k := checkPoolMin; k <= checkPoolMax; k++ {
			proof = append(proof, k)
		}
	}
	i := rand.N(len(proof))
	j := rand.N(len(proof) - 1)
	if j >= i {
		j++
	}
	return proof[i], proof[j]
}

func checkNewCPU() *checkCPU { return &checkCPU{ms: harness.CalibrateCPU(time.Millisecond)} }

func TestLoopOrLock(t *testing.T) {
	c := harness.Begin(t, "A service stalled by its event loop and one stalled by a lock, in random order, are each named right")
	checkDiagnose(t, c, "Services (one Loop, one Lock)", false, checkShuffled(
		checkNewService(t, Loop, 0, nil),
		checkNewService(t, Lock, 0, nil),
	))
}

func TestCoresOrPool(t *testing.T) {
	c := harness.Begin(t, "A service limited by the CPU cores and one limited by a pool, in random order, are each named right")
	k := checkSize()
	checkDiagnose(t, c, "Services (one Cores, one Pool)", false, checkShuffled(
		checkNewService(t, Cores, 0, checkNewCPU()),
		checkNewService(t, Pool, k, nil),
	))
}

func TestPoolSize(t *testing.T) {
	c := harness.Begin(t, fmt.Sprintf("Two pools of different sizes (%d to %d slots) are named Pool with their exact size", checkPoolMin, checkPoolMax))
	a, b := checkSizes()
	checkDiagnose(t, c, "Pools (named Pool with the exact limit)", true, []*checkService{
		checkNewService(t, Pool, a, nil),
		checkNewService(t, Pool, b, nil),
	})
}

func TestMixed(t *testing.T) {
	c := harness.Begin(t, "Four services, one of each kind, in random order, are each named right, a pool with its exact size")
	k := checkSize()
	checkDiagnose(t, c, "Services (one Loop, one Lock, one Cores, one Pool)", true, checkShuffled(
		checkNewService(t, Loop, 0, nil),
		checkNewService(t, Lock, 0, nil),
		checkNewService(t, Cores, 0, checkNewCPU()),
		checkNewService(t, Pool, k, nil),
	))
}

func TestMeasures(t *testing.T) {
	c := harness.Begin(t, fmt.Sprintf("Diagnose measures every service itself: at least %d /work requests at once, and an answer before its deadline", checkBurst()))
	// Services that keep every request of a burst inside them until the
	// client gives up, and leave the CPU free, so that the count is not
	// held back by a slow accept.
	kinds := []Bottleneck{Lock, Loop}
	rand.Shuffle(len(kinds), func(i, j int) { kinds[i], kinds[j] = kinds[j], kinds[i] })
	ask := func(kind Bottleneck) checkAnswer { return checkAsk(checkNewService(t, kind, 0, nil)) }
	var answers []checkAnswer
	for _, k := range kinds {
		answers = append(answers, ask(k))
	}
	fewest, slowest := answers[0], answers[0]
	var notes []string
	for i, a := range answers {
		if a.peak < fewest.peak {
			fewest = a
		}
		if a.took > slowest.took {
			slowest = a
		}
		notes = append(notes, fmt.Sprintf("service %d: %d /work requests, %d at once at most, %d to /health, answered in %s", i+1, a.workCalls, a.peak, a.healthCalls, checkMs(a.took)))
	}
	c.Value(harness.Quantity{
		What:  fmt.Sprintf("/work requests a service saw at once, at most (the fewer of %d services)", len(answers)),
		Unit:  harness.Count,
		Want:  fmt.Sprintf("Diagnose sends a burst of at least %d /work requests at once to every service it is asked about: 4 per core (GOMAXPROCS is %d) and more than any pool", checkBurst(), runtime.GOMAXPROCS(0)),
		Cause: "Diagnose sends too few requests at once, one at a time, or none, or answers without measuring this service (an answer remembered from another). " + strings.Join(notes, "; ") + ".",
	}, "min", float64(checkBurst()), float64(fewest.peak))
	var failed []string
	for i, a := range answers {
		if !a.returned || a.err != nil {
			failed = append(failed, a.describe(i))
		}
	}
	if len(failed) > 0 {
		c.Fail(strings.Join(failed, " "))
	}
	first := true
	c.AtMost(harness.Quantity{
		What:  "Diagnose's time for one service, the slower of two",
		Unit:  harness.Millis,
		Want:  fmt.Sprintf("Diagnose returns before its deadline (%s): a few times /work's own time is enough to see any shape", checkMs(checkBudget)),
		Cause: "Diagnose waits for every request of the burst, or waits too long for something. Stop watching once you have seen the shape (a context with a deadline of a few t1), and return before ctx's deadline.",
	}, harness.Ms(checkBudget), func() float64 {
		if first {
			first = false
			return harness.Ms(slowest.took)
		}
		return harness.Ms(ask(slowest.svc.kind).took)
	})
	c.Note(strings.Join(notes, "; ") + ".")
}
