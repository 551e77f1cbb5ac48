package main

import (
	"context"
	"flag"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/gotutor/tutor/internal/lab"
)

// labCmd runs a built-in experiment: a demo for instructors, not an exercise.
func labCmd(fs *flag.FlagSet) func(context.Context, *env, []string) error {
	pool := fs.Int("pool", 40, "pool slots for sync handlers (anyio's default is 40)")
	unit := fs.Duration("unit", lab.DefaultUnit, "how long each handler waits")
	conc := fs.String("n", "20,40,80,120", "comma-separated burst sizes")
	return func(ctx context.Context, e *env, args []string) error {
		if len(args) != 1 || args[0] != "async-vs-sync" {
			return usageErr("lab needs the name of an experiment: async-vs-sync")
		}
		var ns []int
		for _, f := range strings.Split(*conc, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n < 1 || n > 1000 {
				return usageErr("lab: --n must list burst sizes between 1 and 1000, got %q", f)
			}
			ns = append(ns, n)
		}
		fmt.Fprintf(e.stdout, "Measuring %v concurrent requests against an async handler (c.Sleep(%v)) and a sync one (time.Sleep(%v), pool of %d), 3 bursts each, on %d CPUs…\n\n",
			ns, *unit, *unit, *pool, runtime.NumCPU())
		start := time.Now()
		rows, err := lab.AsyncVsSync(ctx, lab.Options{Pool: *pool, Unit: *unit, Concurrency: ns})
		if err != nil {
			return err
		}
		fmt.Fprint(e.stdout, lab.Table(rows, *unit))
		fmt.Fprintf(e.stdout, "\n(measured in %.1f s)\n", time.Since(start).Seconds())
		return nil
	}
}
