package app

import (
	"context"
	"fmt"
	"io"
	"math"
	"os/exec"
	"slices"
	"sort"
	"sync"
)

// Stats aggregates verification outcomes per lesson, variant and check, for
// the soak report of `tutor verify --runs N --load K`.
type Stats struct {
	mu    sync.Mutex
	cells map[string]*variantStats // "lesson\x00variant"
	order []string
}

type variantStats struct {
	lesson, variant string
	expect          string
	runs, wrong     int
	measures        map[string]*measureStats // "check: what"
	mOrder          []string
	elapsedMS       []float64
}

type measureStats struct {
	check, what, unit, rule string
	bounds                  []float64 // one per run: some bounds depend on what the run sent
	values                  []float64
	headroom                []float64 // one per run
	remeasured              int
}

// Add records one outcome.
func (s *Stats) Add(o Outcome) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cells == nil {
		s.cells = map[string]*variantStats{}
	}
	key := o.Lesson + "\x00" + o.Variant.Name
	v := s.cells[key]
	if v == nil {
		v = &variantStats{lesson: o.Lesson, variant: o.Variant.Name, expect: string(o.Variant.Expect), measures: map[string]*measureStats{}}
		s.cells[key] = v
		s.order = append(s.order, key)
	}
	v.runs++
	if !o.OK {
		v.wrong++
	}
	v.elapsedMS = append(v.elapsedMS, float64(o.Result.ElapsedMS))
	for _, c := range o.Result.Checks {
		for _, m := range c.Measures {
			mk := c.Name + ": " + m.What
			ms := v.measures[mk]
			if ms == nil {
				ms = &measureStats{check: c.Name, what: m.What, unit: m.Unit, rule: m.Rule}
				v.measures[mk] = ms
				v.mOrder = append(v.mOrder, mk)
			}
			ms.values = append(ms.values, m.Value)
			ms.bounds = append(ms.bounds, m.Bound)
			ms.headroom = append(ms.headroom, Headroom(m.Rule, m.Bound, m.Value))
			if len(m.Samples) > 1 {
				ms.remeasured++
			}
		}
	}
}

// Headroom is how far a median is from its bound, as a ratio ≥ 1 on the
// passing side: bound/median for a maximum, median/bound for a minimum.
// Below 1 the median misses the bound.
func Headroom(rule string, bound, median float64) float64 {
	if rule == "min" {
		if bound == 0 {
			return math.Inf(1)
		}
		return median / bound
	}
	if median == 0 {
		return math.Inf(1)
	}
	return bound / median
}

// Print writes the report: per lesson and variant, runs and wrong verdicts,
// and each measurement's min/median/max against its bound with the headroom.
func (s *Stats) Print(w io.Writer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, key := range s.order {
		v := s.cells[key]
		fmt.Fprintf(w, "\n%s / %s (must %s): %d runs, %d wrong verdicts, check time median %.0f ms\n",
			v.lesson, v.variant, v.expect, v.runs, v.wrong, median(v.elapsedMS))
		for _, mk := range v.mOrder {
			m := v.measures[mk]
			lo, med, hi := minMedMax(m.values)
			cmp := "≤"
			if m.rule == "min" {
				cmp = "≥"
			}
			h := median(m.headroom)
			bound := unit(m.unit, m.bounds[0])
			if blo, _, bhi := minMedMax(m.bounds); blo != bhi {
				bound = unit(m.unit, blo) + "–" + unit(m.unit, bhi)
			}
			side := "passes"
			if h < 1 {
				side = "fails"
			}
			extra := ""
			if m.remeasured > 0 {
				extra = fmt.Sprintf(", re-measured near the bound in %d runs", m.remeasured)
			}
			fmt.Fprintf(w, "  %-52s min %s  median %s  max %s  (bound %s %s; headroom %s, %s%s)\n",
				truncate(mk, 52), unit(m.unit, lo), unit(m.unit, med), unit(m.unit, hi), cmp, bound, ratio(h), side, extra)
		}
	}
}

func ratio(h float64) string {
	if math.IsInf(h, 1) {
		return "∞"
	}
	return fmt.Sprintf("%.1f×", h)
}

func unit(u string, v float64) string {
	switch u {
	case "ms":
		return fmt.Sprintf("%.0f ms", v)
	case "x":
		return fmt.Sprintf("%.2f×", v)
	}
	if v == math.Trunc(v) {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.1f", v)
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

func minMedMax(v []float64) (float64, float64, float64) {
	if len(v) == 0 {
		return 0, 0, 0
	}
	c := slices.Clone(v)
	sort.Float64s(c)
	return c[0], median(c), c[len(c)-1]
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	c := slices.Clone(v)
	sort.Float64s(c)
	n := len(c)
	if n%2 == 1 {
		return c[n/2]
	}
	return (c[n/2-1] + c[n/2]) / 2
}

// StartLoad starts k processes made by newBurner, each of which keeps one
// CPU busy, and returns the function that stops them all. They also stop
// when ctx is done.
func StartLoad(ctx context.Context, k int, newBurner func(context.Context) *exec.Cmd) (stop func(), err error) {
	ctx, cancel := context.WithCancel(ctx)
	var cmds []*exec.Cmd
	for range k {
		cmd := newBurner(ctx)
		if err := cmd.Start(); err != nil {
			cancel()
			for _, c := range cmds {
				c.Wait()
			}
			return nil, fmt.Errorf("start load process: %w", err)
		}
		cmds = append(cmds, cmd)
	}
	return func() {
		cancel() // CommandContext kills each burner
		for _, c := range cmds {
			c.Wait()
		}
	}, nil
}

// Burn keeps one CPU busy until ctx is done: the body of a load process.
// It returns a value so the compiler cannot drop the loop.
func Burn(ctx context.Context) uint64 {
	x := uint64(1)
	for i := 0; ; i++ {
		x ^= x<<13 ^ x>>7
		if i&0xFFFFF == 0 && ctx.Err() != nil {
			return x
		}
	}
}
