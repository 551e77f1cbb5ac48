// Package report serves account reports: for an account and a number of
// days, it reconciles each day's ledger (CPU work), adds the days up and
// asks a currency service downstream to convert the total. Lesson 08 asks
// you to stop that work when nobody waits for the answer any more.
package report

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// Services are what /report uses. The checks pass in their own.
type Services struct {
	// Day reconciles one day of an account's ledger and returns the day's
	// balance in cents. It is pure computation (about 2.5 ms of one CPU
	// core): it never waits and takes no context, so only the code that
	// calls it can decide to stop calling it.
	Day func(account string, day int) int64

	// Convert asks the currency service to convert a total in cents, and
	// answers the text to send back, e.g. "1234.56 EUR". It waits for the
	// service until it answers or ctx is done; then it returns ctx's error
	// (errors.Is(err, context.DeadlineExceeded) when the deadline passed).
	Convert func(ctx context.Context, cents int64) (string, error)
}

// New returns the handler for GET /report?account=A&days=N, which answers
// 200 with the converted sum of days 0…N-1 of account A.
//
// Every request has a budget: the answer is worth nothing after budget.
func New(svc Services, budget time.Duration) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /report", func(w http.ResponseWriter, r *http.Request) {
		account := r.FormValue("account")
		days, err := strconv.Atoi(r.FormValue("days"))
		if account == "" || err != nil || days < 1 {
			http.Error(w, "want /report?account=NAME&days=N (N ≥ 1)", http.StatusBadRequest)
			return
		}

		ctx, cancel := context.WithTimeout(r.Context(), budget)
		defer cancel()
		// Look once, before the work starts.
		if err := ctx.Err(); err != nil {
			giveUp(w, err)
			return
		}

		var total int64
		for day := range days {
			total += svc.Day(account, day)
		}

		text, err := svc.Convert(ctx, total)
		if err != nil {
			if ctx.Err() != nil {
				giveUp(w, ctx.Err())
				return
			}
			http.Error(w, fmt.Sprintf("convert: %v", err), http.StatusBadGateway)
			return
		}
		fmt.Fprintln(w, text)
	})
	return mux
}

// giveUp answers a request whose context ended: 503 when the budget ran
// out. When the client left, nobody reads the answer; the server closes
// the connection whatever we write.
func giveUp(w http.ResponseWriter, err error) {
	if errors.Is(err, context.DeadlineExceeded) {
		http.Error(w, "report: the time budget ran out", http.StatusServiceUnavailable)
		return
	}
	// The client has gone (context.Canceled): nothing to answer.
}
