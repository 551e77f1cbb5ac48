package lab

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// KnobKind says how a knob's text is read.
type KnobKind string

// The kinds of knob.
const (
	KnobInt      KnobKind = "int"      // a whole number
	KnobDuration KnobKind = "duration" // a Go duration: 100ms, 1.5s
	KnobInts     KnobKind = "ints"     // a comma-separated list of whole numbers
)

// Knob is one setting of a lab, as a form shows it.
type Knob struct {
	Name    string   // the form field and flag name: "pool"
	Label   string   // what the form says: "Pool slots"
	Kind    KnobKind // how the text is read
	Default string   // the value used when the field is empty
	Help    string   // one line under the field
}

// Spec describes one lab for the page and the command line.
type Spec struct {
	Name    string // "async-vs-sync", "cores", "workers", "queue"
	Title   string
	Summary string // one sentence for the course map
	Knobs   []Knob
	// Simulated says, in one sentence, what the lab simulates rather than
	// runs for real ("" if nothing).
	Simulated string
	// Look says what to look for in the result.
	Look string
}

// Specs returns every lab in the order the course map lists them. It is a
// function so that no caller can change the list for others.
func Specs() []Spec {
	return []Spec{
		{
			Name: "async-vs-sync", Title: "Async vs sync: the 20/40/80/120 table",
			Summary: "Bursts of requests against an async handler that awaits and a sync one that sleeps in a pool of 40, next to the blog's own numbers.",
			Knobs: []Knob{
				{"pool", "Pool slots", KnobInt, "40", "sync handlers that may sleep at once (anyio's default is 40)"},
				{"unit", "Handler wait", KnobDuration, "100ms", "how long each handler sleeps (the blog used 2s)"},
				{"n", "Requests at once", KnobInts, "20,40,80,120", "comma-separated burst sizes, one row each"},
			},
			Look: "Both sides are drawn in units of the handler's wait, so the blog's 2 s runs and this machine's short ones share one scale. Async stays at about one unit; sync climbs a unit for every 40 requests past the first 40: 1, 1, 2, 3.",
		},
		{
			Name: "cores", Title: "Cores: CPU jobs unbounded, in a pool of GOMAXPROCS, in a pool of 1",
			Summary: "A burst of CPU jobs three ways on this machine: completion times and deadline misses.",
			Knobs: []Knob{
				{"jobs", "CPU jobs", KnobInt, strconv.Itoa(10 * runtime.GOMAXPROCS(0)), "jobs sent at once (default 10 × GOMAXPROCS)"},
				{"unit", "CPU per job", KnobDuration, "20ms", "CPU time of one job alone on a core"},
				{"deadline", "Deadline", KnobDuration, "80ms", "a job finished later than this is late"},
				{"rounds", "Rounds", KnobInt, "3", "bursts per way; the median is shown"},
			},
			Look: "Each line counts jobs finished over time. Unbounded, every job shares the cores with every other, so they finish late together; a pool of GOMAXPROCS finishes the first ones early and misses fewer deadlines; a pool of 1 leaves cores idle.",
		},
		{
			Name: "workers", Title: "Workers: N processes × 40 slots",
			Summary: "What more worker processes buy sleeping handlers, what they cost, and why a blocking async handler still stalls each one.",
			Knobs: []Knob{
				{"workers", "Workers", KnobInts, "1,2,4", "comma-separated worker counts, one row each (at most 16)"},
				{"pool", "Slots per worker", KnobInt, "40", "sync slots in each worker's pool"},
				{"requests", "Sleeping requests", KnobInt, "120", "requests in the def and async bursts"},
				{"blocking", "Blocking requests", KnobInt, "8", "requests to the async handler that calls time.Sleep"},
				{"unit", "Handler wait", KnobDuration, "100ms", "how long each handler sleeps"},
			},
			Look:      "More workers lower the def burst's time (N × 40 slots) and leave the async burst flat, since it was never short of slots. The blocking handler still runs one request at a time in each worker, so its burst and a /ping caught behind it only shrink by N. And each worker counts only its own share of the requests.",
			Simulated: "Workers are simulated in one process: each is its own event loop with its own pool on its own port, and requests are dealt to them in turn, as a kernel roughly deals connections to forked workers. Memory is not shared between them, as with processes; what a simulation cannot show is the memory each real process costs (a whole Python interpreter and your app, each).",
		},
		{
			Name: "queue", Title: "Queue: latency against utilisation for a pool of k",
			Summary: "Random arrivals into a pool of k: the knee as arrivals approach k/d, and Little's law L = λW checked on the live numbers.",
			Knobs: []Knob{
				{"pool", "Pool size k", KnobInt, "4", "jobs served at once"},
				{"service", "Mean service d", KnobDuration, "20ms", "mean time one job holds a slot (exponential)"},
				{"loads", "Loads (%)", KnobInts, "50,70,80,90,95", "utilisations in percent of k/d, one row each"},
				{"requests", "Arrivals per load", KnobInt, "200", "jobs sent at each load"},
			},
			Look:      "The time in the system stays near d until the load nears k/d, then climbs steeply: the knee. Little's law L = λW holds at every load: the sampled number of jobs in the system matches arrivals × time in the system.",
			Simulated: "Jobs sleep in their slot, standing for I/O-bound handlers waiting in a pool; arrivals and service times are random (Poisson arrivals, exponential service), so theory (M/M/k) has an answer to compare with.",
		},
	}
}

// Find returns the lab called name.
func Find(name string) (Spec, bool) {
	for _, s := range Specs() {
		if s.Name == name {
			return s, true
		}
	}
	return Spec{}, false
}

// MaxRunTime is the longest run a lab accepts: knobs whose estimate is
// longer are refused, so a run on a page ends in reasonable time.
const MaxRunTime = time.Minute

// KnobError is a knob the lab cannot use, in one line for a form.
type KnobError struct {
	Knob    string // the knob's name, "" for a problem of the whole run
	Message string
}

func (e *KnobError) Error() string {
	if e.Knob == "" {
		return e.Message
	}
	return e.Knob + ": " + e.Message
}

// EventKind says what an [Event] is.
type EventKind string

// The kinds of event a run emits.
const (
	EventStart EventKind = "start" // the run began; Data is a [Start]
	EventRow   EventKind = "row"   // one measurement; Data is the lab's row type
	EventDone  EventKind = "done"  // the run ended; Data is the lab's terminal table (a string)
)

// Event is one step of a run, as a page receives it.
type Event struct {
	Kind EventKind `json:"kind"`
	Data any       `json:"data,omitempty"`
}

// Start is the data of the first event: the settings in force and what a
// chart needs to know before the first row.
type Start struct {
	Lab        string            `json:"lab"`
	Knobs      map[string]string `json:"knobs"` // every knob's value in force
	GOMAXPROCS int               `json:"gomaxprocs"`
	CPUs       int               `json:"cpus"`
	Load       string            `json:"load,omitempty"`    // the 1-minute load average when the run started, "" if unknown
	Rows       int               `json:"rows"`              // rows to expect
	Seed       []SeedRow         `json:"seed,omitempty"`    // async-vs-sync: the blog's own numbers
	SeedUnit   time.Duration     `json:"seed_unit_ns"`      // the blog's handler wait, 2 s
	Unit       time.Duration     `json:"unit_ns,omitempty"` // the handlers' wait or a job's CPU time
	Deadline   time.Duration     `json:"deadline_ns,omitempty"`
}

// SeedRow is one line of the blog's table (source 003): n concurrent
// requests against handlers that sleep 2 s, pool of 40.
type SeedRow struct {
	Concurrency int           `json:"concurrency"`
	Async       time.Duration `json:"async_ns"`
	Sync        time.Duration `json:"sync_ns"`
}

// SeedTable returns the blog's 20/40/80/120 measurements, handler wait 2 s
// (source 003; FACTS C1: they match a cap of 40).
func SeedTable() (rows []SeedRow, unit time.Duration) {
	ms := time.Millisecond
	return []SeedRow{
		{20, 2063 * ms, 2083 * ms},
		{40, 2086 * ms, 2091 * ms},
		{80, 2134 * ms, 4132 * ms},
		{120, 2173 * ms, 6136 * ms},
	}, 2 * time.Second
}

// Run parses knobs (name → text; a missing or empty one takes its default),
// refuses values the lab cannot use or a run estimated to last longer than
// [MaxRunTime] with a [*KnobError] before anything runs, then runs the lab
// called name, calling emit with a start event, each row as it is measured
// and a done event. emit is called from the goroutine that called Run.
// Run returns ctx's cause if ctx ends first.
func Run(ctx context.Context, name string, knobs map[string]string, emit func(Event)) error {
	spec, ok := Find(name)
	if !ok {
		return &KnobError{Message: fmt.Sprintf("no lab called %q", name)}
	}
	v, err := readKnobs(spec, knobs)
	if err != nil {
		return err
	}
	start := Start{Lab: name, Knobs: v.text, GOMAXPROCS: runtime.GOMAXPROCS(0), CPUs: runtime.NumCPU(), Load: loadAverage()}
	var run func() (string, error)
	var estimate time.Duration
	switch name {
	case "async-vs-sync":
		o := Options{Pool: v.int("pool"), Unit: v.dur("unit"), Concurrency: v.ints("n"),
			OnRow: func(r Row) { emit(Event{EventRow, r}) }}
		if o, err = o.withDefaults(); err != nil {
			return &KnobError{Message: err.Error()}
		}
		start.Rows, start.Unit = len(o.Concurrency), o.Unit
		start.Seed, start.SeedUnit = SeedTable()
		for _, n := range o.Concurrency {
			estimate += time.Duration(repeats*(1+(n+o.Pool-1)/o.Pool)) * o.Unit
		}
		run = func() (string, error) {
			rows, err := AsyncVsSync(ctx, o)
			return Table(rows, o.Unit), err
		}
	case "cores":
		o := CoresOptions{Jobs: v.int("jobs"), Unit: v.dur("unit"), Deadline: v.dur("deadline"), Rounds: v.int("rounds"),
			OnRow: func(r CoresRow) { emit(Event{EventRow, r}) }}
		if o.Deadline <= 0 || o.Jobs < 1 || o.Jobs > 1000 || o.Unit < time.Millisecond || o.Unit > time.Second || o.Rounds < 1 || o.Rounds > 20 {
			return &KnobError{Message: coresRange(o)}
		}
		start.Rows, start.Unit, start.Deadline = 3, o.Unit, o.Deadline
		// Unbounded and a pool of GOMAXPROCS take jobs × unit ÷ cores each;
		// a pool of 1 takes jobs × unit.
		procs := float64(runtime.GOMAXPROCS(0))
		estimate = time.Duration(float64(o.Rounds*o.Jobs) * float64(o.Unit) * (2/procs + 1))
		run = func() (string, error) {
			rows, err := Cores(ctx, o)
			return CoresTable(rows), err
		}
	case "workers":
		o := WorkersOptions{Workers: v.ints("workers"), Pool: v.int("pool"), Requests: v.int("requests"),
			Blocking: v.int("blocking"), Unit: v.dur("unit"),
			OnRow: func(r WorkersRow) { emit(Event{EventRow, r}) }}
		if _, err := o.withDefaults(); err != nil {
			return &KnobError{Message: err.Error()}
		}
		start.Rows, start.Unit = len(o.Workers), o.Unit
		for _, n := range o.Workers {
			estimate += time.Duration(1+(o.Requests+n*o.Pool-1)/(n*o.Pool)+1+(o.Blocking+n-1)/n) * o.Unit
		}
		run = func() (string, error) {
			rows, err := Workers(ctx, o)
			return WorkersTable(rows, o), err
		}
	case "queue":
		o := QueueOptions{Pool: v.int("pool"), Service: v.dur("service"), Loads: v.ints("loads"), Requests: v.int("requests"),
			OnRow: func(r QueueRow) { emit(Event{EventRow, r}) }}
		if _, err := o.withDefaults(); err != nil {
			return &KnobError{Message: err.Error()}
		}
		start.Rows, start.Unit = len(o.Loads), o.Service
		for _, u := range o.Loads {
			// requests ÷ λ, with λ = u% × k/d.
			estimate += time.Duration(float64(o.Requests) * float64(o.Service) * 100 / float64(u*o.Pool))
		}
		run = func() (string, error) {
			rows, err := Queue(ctx, o)
			return QueueTable(rows), err
		}
	default:
		return &KnobError{Message: fmt.Sprintf("lab %q has no runner", name)}
	}
	if estimate > MaxRunTime {
		return &KnobError{Message: fmt.Sprintf("this run would take about %v; keep it under %v (fewer or smaller rows, a shorter wait)",
			estimate.Round(time.Second), MaxRunTime)}
	}
	emit(Event{EventStart, start})
	table, err := run()
	if err != nil {
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		return err
	}
	emit(Event{EventDone, table})
	return nil
}

func coresRange(o CoresOptions) string {
	switch {
	case o.Jobs < 1 || o.Jobs > 1000:
		return fmt.Sprintf("jobs: must be between 1 and 1000, got %d", o.Jobs)
	case o.Unit < time.Millisecond || o.Unit > time.Second:
		return fmt.Sprintf("unit: must be between 1ms and 1s, got %v", o.Unit)
	case o.Rounds < 1 || o.Rounds > 20:
		return fmt.Sprintf("rounds: must be between 1 and 20, got %d", o.Rounds)
	default:
		return fmt.Sprintf("deadline: must be more than 0, got %v", o.Deadline)
	}
}

// knobValues are a run's parsed knobs.
type knobValues struct {
	text  map[string]string
	parse map[string]any
}

func (v knobValues) int(name string) int           { n, _ := v.parse[name].(int); return n }
func (v knobValues) dur(name string) time.Duration { d, _ := v.parse[name].(time.Duration); return d }
func (v knobValues) ints(name string) []int        { l, _ := v.parse[name].([]int); return l }

// readKnobs parses every knob of spec from knobs, with defaults for the
// missing ones, and refuses names the lab does not have.
func readKnobs(spec Spec, knobs map[string]string) (knobValues, error) {
	v := knobValues{text: map[string]string{}, parse: map[string]any{}}
	for name := range knobs {
		if !hasKnob(spec, name) {
			return v, &KnobError{Knob: name, Message: "not a knob of " + spec.Name}
		}
	}
	for _, k := range spec.Knobs {
		text := strings.TrimSpace(knobs[k.Name])
		if text == "" {
			text = k.Default
		}
		if len(text) > 200 {
			return v, &KnobError{k.Name, "too long"}
		}
		switch k.Kind {
		case KnobInt:
			n, err := strconv.Atoi(text)
			if err != nil {
				return v, &KnobError{k.Name, fmt.Sprintf("%q is not a whole number", text)}
			}
			if n < 1 {
				return v, &KnobError{k.Name, fmt.Sprintf("must be at least 1, got %d", n)}
			}
			v.parse[k.Name] = n
		case KnobDuration:
			d, err := time.ParseDuration(text)
			if err != nil {
				return v, &KnobError{k.Name, fmt.Sprintf("%q is not a duration such as 100ms or 1.5s", text)}
			}
			if d <= 0 {
				return v, &KnobError{k.Name, fmt.Sprintf("must be more than 0, got %v", d)}
			}
			v.parse[k.Name] = d
		case KnobInts:
			l, err := parseInts(text)
			if err != nil {
				return v, &KnobError{k.Name, err.Error() + " (write numbers separated by commas)"}
			}
			if slices.Min(l) < 1 {
				return v, &KnobError{k.Name, fmt.Sprintf("%d: every value must be at least 1", slices.Min(l))}
			}
			if len(l) > 12 {
				return v, &KnobError{k.Name, fmt.Sprintf("%d values; at most 12", len(l))}
			}
			v.parse[k.Name] = l
		}
		v.text[k.Name] = text
	}
	return v, nil
}

func hasKnob(spec Spec, name string) bool {
	for _, k := range spec.Knobs {
		if k.Name == name {
			return true
		}
	}
	return false
}

// IsKnobError reports whether err is a [*KnobError].
func IsKnobError(err error) bool {
	var ke *KnobError
	return errors.As(err, &ke)
}

// loadAverage returns the 1-minute load average ("" where /proc/loadavg
// cannot be read): a busy machine explains noisy numbers.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return ""
	}
	return f[0]
}
