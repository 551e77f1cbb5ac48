// Package recommend is a shop's recommendation endpoint: for a user, it
// scores every candidate product with a ranking model and answers the best
// three. Scoring is pure CPU work. Lesson 06 asks you to keep that work off
// the loop.
package recommend

import (
	"slices"
	"strings"
	"sync"

	"github.com/gotutor/tutor/lessons/loop"
)

// Services are what /recommend uses. The checks pass in their own: a user
// has 10 candidate products, and scoring all 10 costs one unit of CPU work
// (calibrated to about 50 ms on your machine).
type Services struct {
	// Candidates returns the products a user might buy next. It is a
	// lookup in memory and returns at once.
	Candidates func(user string) []string

	// Score runs the ranking model on one product for one user and returns
	// how likely the user is to buy it. It is pure computation: it never
	// waits for anything, so there is nothing to await, and it keeps a CPU
	// core busy for the whole call (about 5 ms).
	Score func(user, product string) float64
}

// top3 returns the three products with the highest scores, best first,
// joined with commas. Ties go to the product listed first.
func top3(products []string, scores map[string]float64) string {
	ranked := slices.Clone(products)
	slices.SortStableFunc(ranked, func(a, b string) int {
		switch {
		case scores[a] > scores[b]:
			return -1
		case scores[a] < scores[b]:
			return 1
		}
		return 0
	})
	return strings.Join(ranked[:min(3, len(ranked))], ",")
}

// Register declares GET /recommend?user=ann, which answers the user's three
// best products, e.g. "p7,p2,p9". The checks call it with an app whose
// pool has 40 slots, add an async /health, and send several requests to
// /recommend at once while they ask /health how fast the loop answers.
//
// Wrong: scores in the pool, but each app remembers every user's answer in
// a map made by Register, and answers a user it has seen before without
// scoring.
func Register(app *loop.App, svc Services) {
	// A memo of this app's answers: a user's scores do not change, so why
	// score twice? It lives as long as the app, not in a package-level
	// variable.
	var mu sync.Mutex
	answers := map[string]string{}

	// Async, with the CPU work handed to the pool: await
	// run_in_threadpool(rank). The loop is free while the scores are
	// computed, and the pool's goroutines run on every core at once.
	app.Async("/recommend", func(c *loop.Ctx) string {
		user := c.Request().FormValue("user")
		mu.Lock()
		best, ok := answers[user]
		mu.Unlock()
		if ok {
			return best
		}
		c.RunInPool(func() {
			products := svc.Candidates(user)
			scores := make(map[string]float64, len(products))
			for _, p := range products {
				scores[p] = svc.Score(user, p)
			}
			best = top3(products, scores)
		})
		mu.Lock()
		answers[user] = best
		mu.Unlock()
		return best
	})
}
