package run

import (
	"fmt"
	"strings"
)

// Recipe is how one lesson's code is served: the body of a function that
// builds an http.Handler from the learner's package (imported as lesson),
// with fake downstream services shaped like the ones the hidden checks use.
type Recipe struct {
	Imports []string // extra standard-library imports the body uses
	Body    string   // Go statements ending in `return handler`
	Route   string   // the route the Fire panel sends to by default
	Routes  []string // every route served, for the page and the start line
}

// recipes are the lessons that serve HTTP. A lesson without one has no
// server: [For] says so in one line.
var recipes = map[string]Recipe{
	"02-event-loop": {
		Body: `app := loop.New(loop.Options{})
	app.Async("/ping", lesson.Ping)
	return app`,
		Route:  "/ping",
		Routes: []string{"/ping"},
	},
	"04-def-vs-async": {
		Imports: []string{"time"},
		Body: `app := loop.New(loop.Options{})
	lesson.Register(app, lesson.Services{
		// A blocking library call of 100 ms, like the checks' invoice renderer.
		RenderInvoice: func(order string) string {
			time.Sleep(100 * time.Millisecond)
			return "invoice-" + order + ".pdf"
		},
		// A warehouse answer that arrives after 100 ms.
		Stock: func(item string) <-chan int {
			reply := make(chan int, 1)
			go func() {
				time.Sleep(100 * time.Millisecond)
				reply <- 7
			}()
			return reply
		},
	})
	return app`,
		Route:  "/checkout?item=pen&order=1",
		Routes: []string{"/invoice?order=1", "/stock?item=pen", "/checkout?item=pen&order=1"},
	},
	"05-goroutine-per-request": {
		Imports: []string{"context", "time"},
		Body: `// A downstream call that takes 100 ms, or gives up when the request ends.
	return lesson.New(context.Background(), func(ctx context.Context, page string, n int) error {
		select {
		case <-time.After(100 * time.Millisecond):
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})`,
		Route:  "/?page=home",
		Routes: []string{"/?page=home"},
	},
	"06-cpu-on-the-loop": {
		Imports: []string{"fmt", "time"},
		Body: `app := loop.New(loop.Options{})
	lesson.Register(app, lesson.Services{
		Candidates: func(user string) []string {
			ps := make([]string, 10)
			for i := range ps {
				ps[i] = fmt.Sprintf("p%d", i+1)
			}
			return ps
		},
		// About 5 ms of CPU per product, 50 ms a request.
		Score: func(user, product string) float64 {
			end := time.Now().Add(5 * time.Millisecond)
			x := 0.0
			for time.Now().Before(end) {
				x += 1
			}
			return float64(len(user)*31+len(product)*17) + x*0
		},
	})
	return app`,
		Route:  "/recommend?user=ada",
		Routes: []string{"/recommend?user=ada"},
	},
	"08-cancel": {
		Imports: []string{"context", "fmt", "time"},
		Body: `return lesson.New(lesson.Services{
		// 20 ms of work per day of the report.
		Day: func(account string, day int) int64 {
			time.Sleep(20 * time.Millisecond)
			return int64(100 + day)
		},
		// A currency service that answers after 50 ms, or gives up.
		Convert: func(ctx context.Context, cents int64) (string, error) {
			select {
			case <-time.After(50 * time.Millisecond):
				return fmt.Sprintf("%d.%02d EUR", cents/100, cents%100), nil
			case <-ctx.Done():
				return "", ctx.Err()
			}
		},
	}, 2*time.Second)`,
		Route:  "/report?account=ada&days=5",
		Routes: []string{"/report?account=ada&days=5"},
	},
	"09-subprocess": {
		Imports: []string{"time"},
		Body: `// A report program that takes 100 ms.
	return lesson.Handler(lesson.Job{Path: "/bin/sh", Args: []string{"-c", "sleep 0.1; echo report"}, Limit: 2 * time.Second})`,
		Route:  "/",
		Routes: []string{"/"},
	},
	"14-capstone": {
		Imports: []string{"context", "fmt", "sync/atomic", "time"},
		Body: `// The checks' dependencies in small: a blocking quote of 100 ms, a
	// report of about 50 ms of CPU, and a catalogue of 80 ms a call that
	// answers 429 to more than 4 calls at once.
	var catalogue atomic.Int64
	return lesson.New(lesson.Deps{
		Quote: func(symbol string) string {
			time.Sleep(100 * time.Millisecond)
			return symbol + " 101.25"
		},
		Analyze: func(account string) string {
			end := time.Now().Add(50 * time.Millisecond)
			n := 0
			for time.Now().Before(end) {
				n++
			}
			return fmt.Sprintf("%s risk %d", account, len(account)*37+n*0)
		},
		Fetch: func(ctx context.Context, id string) (string, error) {
			defer catalogue.Add(-1)
			if n := catalogue.Add(1); n > 4 {
				return "", fmt.Errorf("catalogue: 429 Too Many Requests for %s (%d calls at once, the limit is 4)", id, n)
			}
			select {
			case <-time.After(80 * time.Millisecond):
				return "title-" + id, nil
			case <-ctx.Done():
				return "", ctx.Err()
			}
		},
		Limit: 4,
	})`,
		Route:  "/search?ids=a,b,c,d,e,f",
		Routes: []string{"/health", "/quote?symbol=ACME", "/report?account=acct-1", "/search?ids=a,b,c,d,e,f"},
	},
}

// For returns the recipe of a lesson, or an error of one line saying the
// lesson has no server.
func For(lessonID string) (Recipe, error) {
	r, ok := recipes[lessonID]
	if !ok {
		return Recipe{}, fmt.Errorf("lesson %s has no server to run: its code is a library the checks call directly", lessonID)
	}
	return r, nil
}

// mainSource is the generated main package: it serves the recipe's handler
// on a loopback port chosen by the system and prints that address as its
// first line of output.
func mainSource(module, lessonID string, r Recipe) string {
	imports := []string{`"fmt"`, `"net"`, `"net/http"`, `"os"`}
	for _, im := range r.Imports {
		q := `"` + im + `"`
		if !strings.Contains(strings.Join(imports, " "), q) {
			imports = append(imports, q)
		}
	}
	imports = append(imports,
		fmt.Sprintf("lesson %q", module+"/"+lessonID),
		fmt.Sprintf("%q", module+"/loop"))
	return fmt.Sprintf(`// Code generated by tutor run for lesson %s. DO NOT EDIT.
package main

import (
	%s
)

var _ = loop.New

func handler() http.Handler {
	%s
}

func main() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println("listening", ln.Addr())
	fmt.Fprintln(os.Stderr, http.Serve(ln, handler()))
	os.Exit(1)
}
`, lessonID, strings.Join(imports, "\n\t"), r.Body)
}
