package site

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gotutor/tutor/internal/lab"
)

// fakeLabs runs the real labs (lab.Run), counting calls; refuse, if set,
// is returned before anything runs, and stopAfterStart ends a run right
// after its start event with that error.
type fakeLabs struct {
	mu             sync.Mutex
	calls          int
	refuse         error
	stopAfterStart error
}

func (f *fakeLabs) RunLab(ctx context.Context, name string, knobs map[string]string, emit func(lab.Event)) error {
	f.mu.Lock()
	f.calls++
	refuse, stop := f.refuse, f.stopAfterStart
	f.mu.Unlock()
	if refuse != nil {
		return refuse
	}
	if stop != nil {
		ctx, cancel := context.WithCancelCause(ctx)
		defer cancel(nil)
		return lab.Run(ctx, name, knobs, func(e lab.Event) {
			emit(e)
			if e.Kind == lab.EventStart {
				cancel(stop)
			}
		})
	}
	return lab.Run(ctx, name, knobs, emit)
}

func (f *fakeLabs) Calls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

// tinyQueue are knobs for a queue run of a few milliseconds.
var tinyQueue = url.Values{"pool": {"2"}, "service": {"1ms"}, "loads": {"40,60"}, "requests": {"20"}}

var sameOrigin = http.Header{"Sec-Fetch-Site": {"same-origin"}}

// lines decodes a JSON-lines body.
func lines(t *testing.T, body string) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		out = append(out, m)
	}
	return out
}

func TestLabPage(t *testing.T) {
	s := newTestServer(t, newFake("/ws"), func(c *Config) { c.Labs = &fakeLabs{} })
	for _, spec := range lab.Specs() {
		w := request(s, "GET", "/lab/"+spec.Name, nil, nil)
		if w.Code != 200 {
			t.Fatalf("GET /lab/%s: %d", spec.Name, w.Code)
		}
		body := w.Body.String()
		for _, k := range spec.Knobs {
			if !strings.Contains(body, `name="`+k.Name+`" value="`) {
				t.Errorf("/lab/%s has no field for knob %s", spec.Name, k.Name)
			}
		}
		for _, want := range []string{`action="/api/lab/` + spec.Name + `/run"`, `id="lab-chart"`, `id="lab-table"`, `/static/lab.js`, "tutor lab " + spec.Name} {
			if !strings.Contains(body, want) {
				t.Errorf("/lab/%s lacks %s", spec.Name, want)
			}
		}
		if spec.Simulated != "" && !strings.Contains(body, "What is simulated.") {
			t.Errorf("/lab/%s does not say what it simulates", spec.Name)
		}
	}
	if w := request(s, "GET", "/lab/nope", nil, nil); w.Code != 404 {
		t.Errorf("GET /lab/nope: %d, want 404", w.Code)
	}
	// The course map links to every lab.
	m := request(s, "GET", "/", nil, nil).Body.String()
	for _, spec := range lab.Specs() {
		if !strings.Contains(m, `href="/lab/`+spec.Name+`"`) {
			t.Errorf("the course map does not link to /lab/%s", spec.Name)
		}
	}
}

// TestLabRun: a run streams its start, one line per row and done.
func TestLabRun(t *testing.T) {
	labs := &fakeLabs{}
	s := newTestServer(t, newFake("/ws"), func(c *Config) { c.Labs = labs })
	w := request(s, "POST", "/api/lab/queue/run", sameOrigin, tinyQueue)
	if w.Code != 200 {
		t.Fatalf("POST run: %d %s", w.Code, w.Body)
	}
	if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/x-ndjson") {
		t.Errorf("Content-Type %q", ct)
	}
	var kinds []string
	for _, l := range lines(t, w.Body.String()) {
		kinds = append(kinds, l["kind"].(string))
	}
	if got := strings.Join(kinds, " "); got != "start row row done" {
		t.Errorf("events %q, want start row row done", got)
	}
}

// TestLabRunRefusals: bad knobs, other origins, a busy runner, a run that
// a check stops, no runner: each in one line, and nothing runs where it
// must not.
func TestLabRunRefusals(t *testing.T) {
	tests := []struct {
		name   string
		labs   *fakeLabs
		path   string
		header http.Header
		form   url.Values
		code   int
		want   string
		runs   int // calls the runner must have seen
	}{
		{"bad knob", &fakeLabs{}, "/api/lab/queue/run", sameOrigin, url.Values{"pool": {"many"}}, 400, `tutor: pool: "many" is not a whole number`, 1},
		{"too long", &fakeLabs{}, "/api/lab/async-vs-sync/run", sameOrigin, url.Values{"unit": {"9s"}}, 400, "this run would take about", 1},
		{"unknown lab", &fakeLabs{}, "/api/lab/nope/run", sameOrigin, tinyQueue, 404, "no lab called", 0},
		{"cross-origin by Origin", &fakeLabs{}, "/api/lab/queue/run", http.Header{"Origin": {"http://attacker.example"}}, tinyQueue, 403, "refused a request from another site", 0},
		{"cross-site", &fakeLabs{}, "/api/lab/queue/run", http.Header{"Sec-Fetch-Site": {"cross-site"}}, tinyQueue, 403, "refused a request from another site", 0},
		{"other host", &fakeLabs{}, "/api/lab/queue/run", http.Header{"Host": {"evil.example:7070"}}, tinyQueue, 421, "is not this tutor", 0},
		{"busy", &fakeLabs{refuse: errors.New("a lab is already running (cores); wait for it to end")}, "/api/lab/queue/run", sameOrigin, tinyQueue, 409, "tutor: a lab is already running (cores)", 1},
		{"checking", &fakeLabs{refuse: errors.New("a save is being checked; run the lab again when its verdict is in")}, "/api/lab/queue/run", sameOrigin, tinyQueue, 409, "a save is being checked", 1},
		{"no runner", nil, "/api/lab/queue/run", sameOrigin, tinyQueue, 503, "runs no labs", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestServer(t, newFake("/ws"), func(c *Config) {
				if tt.labs != nil {
					c.Labs = tt.labs
				}
			})
			w := request(s, "POST", tt.path, tt.header, tt.form)
			body := w.Body.String()
			if w.Code != tt.code || !strings.Contains(body, tt.want) {
				t.Errorf("%d %q, want %d containing %q", w.Code, body, tt.code, tt.want)
			}
			if strings.Count(strings.TrimSpace(body), "\n") > 0 {
				t.Errorf("refusal is not one line: %q", body)
			}
			if tt.labs != nil && tt.labs.Calls() != tt.runs {
				t.Errorf("the runner was called %d times, want %d", tt.labs.Calls(), tt.runs)
			}
		})
	}
	t.Run("GET does not run", func(t *testing.T) {
		labs := &fakeLabs{}
		s := newTestServer(t, newFake("/ws"), func(c *Config) { c.Labs = labs })
		if w := request(s, "GET", "/api/lab/queue/run?pool=2", nil, nil); w.Code == 200 || labs.Calls() != 0 {
			t.Errorf("GET run: %d, %d runs; want a refusal and none", w.Code, labs.Calls())
		}
	})
}

// TestLabRunStopped: a run stopped after it started ends its stream with
// one "stopped" line saying why.
func TestLabRunStopped(t *testing.T) {
	labs := &fakeLabs{stopAfterStart: errors.New("stopped: your save is being checked")}
	s := newTestServer(t, newFake("/ws"), func(c *Config) { c.Labs = labs })
	w := request(s, "POST", "/api/lab/queue/run", sameOrigin, url.Values{"requests": {"2000"}, "loads": {"50"}})
	if w.Code != 200 {
		t.Fatalf("POST run: %d %s", w.Code, w.Body)
	}
	ls := lines(t, w.Body.String())
	if len(ls) != 2 || ls[0]["kind"] != "start" || ls[1]["kind"] != "stopped" || ls[1]["message"] != "stopped: your save is being checked" {
		t.Errorf("stream %v, want start then stopped with the reason", ls)
	}
}

// slowLabs emits start, waits, then done: a run longer than the server's
// read timeout.
type slowLabs struct{ wait time.Duration }

func (f slowLabs) RunLab(ctx context.Context, name string, knobs map[string]string, emit func(lab.Event)) error {
	emit(lab.Event{Kind: lab.EventStart})
	select {
	case <-time.After(f.wait):
	case <-ctx.Done():
		return context.Cause(ctx)
	}
	emit(lab.Event{Kind: lab.EventDone, Data: "table"})
	return nil
}

// TestLabRunOutlivesReadTimeout: over a real connection with the server's
// timeouts, a run longer than the read timeout is not cut off.
func TestLabRunOutlivesReadTimeout(t *testing.T) {
	s := newTestServer(t, newFake("/ws"), func(c *Config) { c.Labs = slowLabs{wait: 1500 * time.Millisecond} })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := NewHTTPServer(s, Timeouts{ReadHeader: 300 * time.Millisecond, Read: 500 * time.Millisecond, Write: 700 * time.Millisecond, Idle: time.Second})
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }() // ends when srv.Close runs
	defer func() { srv.Close(); <-served }()

	req, _ := http.NewRequest("POST", "http://"+ln.Addr().String()+"/api/lab/queue/run", strings.NewReader(""))
	req.Host = testHosts[0]
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read the stream: %v (got %q)", err, body)
	}
	ls := lines(t, string(body))
	if len(ls) != 2 || ls[1]["kind"] != "done" {
		t.Errorf("stream %q, want start and done", body)
	}
}
