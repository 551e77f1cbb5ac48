package site

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gotutor/tutor/checker"
)

// sseEvent is one parsed Server-Sent Event; comments have Name "comment".
type sseEvent struct {
	Name string
	Data string
}

// stream is a connection to /events that a goroutine reads; the goroutine
// exits when the response body is closed (by cancel) or ends.
type stream struct {
	events chan sseEvent
	cancel context.CancelFunc
}

func openStream(t *testing.T, base, query string) *stream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, "GET", base+"/events"+query, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatalf("GET /events: %v", err)
	}
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		cancel()
		t.Fatalf("GET /events = %d %q, want 200 text/event-stream", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	st := &stream{events: make(chan sseEvent, 64), cancel: cancel}
	t.Cleanup(cancel)
	go func() {
		defer close(st.events)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.Name != "" {
					st.events <- ev
				}
				ev = sseEvent{}
			case strings.HasPrefix(line, ":"):
				st.events <- sseEvent{Name: "comment", Data: strings.TrimSpace(line[1:])}
			case strings.HasPrefix(line, "event: "):
				ev.Name = line[len("event: "):]
			case strings.HasPrefix(line, "data: "):
				ev.Data += line[len("data: "):]
			}
		}
	}()
	return st
}

// next returns the next event that is not a comment, failing after 5 s.
func (st *stream) next(t *testing.T) sseEvent {
	t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case ev, ok := <-st.events:
			if !ok {
				t.Fatal("the event stream ended")
			}
			if ev.Name != "comment" {
				return ev
			}
		case <-timeout:
			t.Fatal("no event within 5 s")
		}
	}
}

func (st *stream) lesson(t *testing.T) lessonEvent {
	t.Helper()
	ev := st.next(t)
	if ev.Name != "lesson" {
		t.Fatalf("event %q, want lesson (data %s)", ev.Name, ev.Data)
	}
	var le lessonEvent
	if err := json.Unmarshal([]byte(ev.Data), &le); err != nil {
		t.Fatalf("lesson event data %q: %v", ev.Data, err)
	}
	return le
}

// snapshot reads the events sent on connect: one per lesson, then the notice.
func (st *stream) snapshot(t *testing.T) (map[string]lessonEvent, string) {
	t.Helper()
	got := map[string]lessonEvent{}
	for range testLessons {
		le := st.lesson(t)
		got[le.Lesson] = le
	}
	ev := st.next(t)
	var n noticeEvent
	if ev.Name != "notice" || json.Unmarshal([]byte(ev.Data), &n) != nil {
		t.Fatalf("after the lessons: event %q %s, want notice", ev.Name, ev.Data)
	}
	return got, n.Notice
}

// startServer runs s behind a real listener, with Hosts set to it.
func startServer(t *testing.T, f *fakeBackend, heartbeat time.Duration) (*Server, string) {
	t.Helper()
	ts := httptest.NewUnstartedServer(nil)
	host := ts.Listener.Addr().String()
	s := newTestServer(t, f, func(c *Config) { c.Hosts = []string{host} })
	if heartbeat > 0 {
		s.heartbeat = heartbeat
	}
	ts.Config.Handler = s
	ts.Start()
	t.Cleanup(ts.Close)
	return s, ts.URL
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestEventsSnapshotOnConnect(t *testing.T) {
	f := newFake(t.TempDir())
	goldenState(f)
	f.Set("03-cpu", LessonState{Checking: true})
	_, base := startServer(t, f, 0)

	start := time.Now()
	st := openStream(t, base, "?lesson=02")
	got, notice := st.snapshot(t)
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("the snapshot took %v to arrive, want it at once", d)
	}
	if notice != "saves not detected here; polling every 0.5 s" {
		t.Errorf("notice = %q, want the snapshot's", notice)
	}
	for _, tc := range []struct {
		id, verdict, status string
		html                bool
	}{
		{"01-measure", "pass", "passed", false},
		{"02-event-loop", "fail", "in-progress", true},
		{"03-cpu", "checking", "not-started", false},
	} {
		le := got[tc.id]
		if le.Verdict != tc.verdict || le.Status != tc.status || (le.HTML != "") != tc.html {
			t.Errorf("snapshot event for %s = verdict %q status %q html %v, want %q %q %v",
				tc.id, le.Verdict, le.Status, le.HTML != "", tc.verdict, tc.status, tc.html)
		}
	}
	contains(t, "html of 02", got["02-event-loop"].HTML, `<p class="headline">Not yet</p>`, "10 requests at once finish in about one sleep", `<svg class="tl"`)

	// The map asks for no HTML at all; a bare connection gets it for every lesson.
	st2 := openStream(t, base, "?html=0")
	got, _ = st2.snapshot(t)
	for id, le := range got {
		if le.HTML != "" {
			t.Errorf("?html=0: event for %s carries html", id)
		}
	}
	st3 := openStream(t, base, "")
	got, _ = st3.snapshot(t)
	for id, le := range got {
		if le.HTML == "" {
			t.Errorf("no query: event for %s carries no html", id)
		}
	}
}

func TestEventsPushReconnectTwoClients(t *testing.T) {
	f := newFake(t.TempDir())
	f.Set("02-event-loop", LessonState{Status: InProgress, Result: failingResult()})
	_, base := startServer(t, f, 0)

	a := openStream(t, base, "?lesson=02-event-loop")
	b := openStream(t, base, "?html=0")
	a.snapshot(t)
	b.snapshot(t)
	waitFor(t, "two subscribers", func() bool { return f.Subscribers() == 2 })

	for _, tc := range []struct {
		name    string
		st      LessonState
		verdict string
		status  string
		head    string
	}{
		{"check starts", LessonState{Status: InProgress, Checking: true, Result: failingResult()}, "checking", "in-progress", "Checking…"},
		{"a hint is revealed elsewhere", LessonState{Status: InProgress, HintsShown: 2, Result: failingResult()}, "fail", "in-progress", "Not yet"},
		{"it passes", LessonState{Status: Passed, Attempts: 3, Result: &checker.Result{Verdict: checker.Pass,
			Checks: []checker.Check{{Name: "Concurrent", Passed: true}}}}, "pass", "passed", "Passed"},
	} {
		f.Publish(Event{Lesson: "02-event-loop", State: tc.st})
		for name, st := range map[string]*stream{"lesson page": a, "map": b} {
			le := st.lesson(t)
			if le.Lesson != "02-event-loop" || le.Verdict != tc.verdict || le.Status != tc.status {
				t.Errorf("%s, %s: event = %s %s %s, want 02-event-loop %s %s", tc.name, name, le.Lesson, le.Verdict, le.Status, tc.verdict, tc.status)
			}
			// The page takes the verdict's words from the event: one table.
			if le.VerdictText != verdictText(tc.verdict) || le.VerdictText == "" {
				t.Errorf("%s, %s: verdict_text = %q, want %q", tc.name, name, le.VerdictText, verdictText(tc.verdict))
			}
			if st == a && !strings.Contains(le.HTML, `<p class="headline">`+tc.head+`</p>`) {
				t.Errorf("%s, %s: html lacks headline %q:\n%s", tc.name, name, tc.head, le.HTML)
			}
			if st == b && (le.HTML != "" || le.HintsHTML != "") {
				t.Errorf("%s, %s: html sent to the map", tc.name, name)
			}
			// The hints panel travels with the result panel, so another
			// tab shows a revealed hint without a reload.
			wantKey := fmt.Sprintf("%d/%t", tc.st.HintsShown, tc.status == "passed")
			if st == a && (le.HintsKey != wantKey || !strings.Contains(le.HintsHTML, "Hints")) {
				t.Errorf("%s, %s: hints key %q (want %q), html %q", tc.name, name, le.HintsKey, wantKey, le.HintsHTML)
			}
			if st == a && tc.st.HintsShown == 2 && !strings.Contains(le.HintsHTML, "Give the loop away") {
				t.Errorf("%s, %s: the second hint is not in the hints html:\n%s", tc.name, name, le.HintsHTML)
			}
		}
	}

	f.Publish(Event{Notice: "warming the Go build cache (3/5)"})
	for name, st := range map[string]*stream{"lesson page": a, "map": b} {
		ev := st.next(t)
		if ev.Name != "notice" || !strings.Contains(ev.Data, "warming the Go build cache (3/5)") {
			t.Errorf("%s: event %q %s, want the notice", name, ev.Name, ev.Data)
		}
	}

	// Leaving ends the subscription; coming back gets the current state.
	a.cancel()
	waitFor(t, "the closed stream to unsubscribe", func() bool { return f.Subscribers() == 1 })
	c := openStream(t, base, "?lesson=02-event-loop")
	got, notice := c.snapshot(t)
	if le := got["02-event-loop"]; le.Verdict != "pass" || le.Attempts != 3 || !strings.Contains(le.HTML, "Passed") {
		t.Errorf("after reconnecting: 02-event-loop = %s, %d attempts, want pass, 3", le.Verdict, le.Attempts)
	}
	if notice != "warming the Go build cache (3/5)" {
		t.Errorf("after reconnecting: notice = %q", notice)
	}
}

func TestEventsHeartbeatAndEnd(t *testing.T) {
	f := newFake(t.TempDir())
	_, base := startServer(t, f, 50*time.Millisecond)
	st := openStream(t, base, "?html=0")
	st.snapshot(t)
	select {
	case ev := <-st.events:
		if ev.Name != "comment" || ev.Data != "ping" {
			t.Errorf("first event after the snapshot = %+v, want the ping comment", ev)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no heartbeat within 5 s")
	}
	st.cancel()
	waitFor(t, "the subscription to end", func() bool { return f.Subscribers() == 0 })

	// An unknown lesson is refused before subscribing.
	resp, err := http.Get(base + "/events?lesson=99")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /events?lesson=99 = %d, want 404", resp.StatusCode)
	}
}

// TestEventsWriteTimeout checks that the stream outlives the server's
// WriteTimeout, which would otherwise cut it.
func TestEventsWriteTimeout(t *testing.T) {
	f := newFake(t.TempDir())
	ts := httptest.NewUnstartedServer(nil)
	s := newTestServer(t, f, func(c *Config) { c.Hosts = []string{ts.Listener.Addr().String()} })
	ts.Config.Handler = s
	ts.Config.WriteTimeout = 200 * time.Millisecond
	ts.Start()
	t.Cleanup(ts.Close)

	st := openStream(t, ts.URL, "?html=0")
	st.snapshot(t)
	time.Sleep(400 * time.Millisecond)
	f.Publish(Event{Lesson: "01-measure", State: LessonState{Status: Passed, Result: &checker.Result{Verdict: checker.Pass}}})
	if le := st.lesson(t); le.Verdict != "pass" {
		t.Errorf("event after the write timeout = %+v, want 01-measure pass", le)
	}
}

// TestEventsProgress checks that a running check shows the checks that have
// ended so far, with their messages and numbers, before its result.
func TestEventsProgress(t *testing.T) {
	f := newFake(t.TempDir())
	f.Set("02-event-loop", LessonState{Status: InProgress, Result: failingResult()})
	_, base := startServer(t, f, 0)
	a := openStream(t, base, "?lesson=02-event-loop")
	a.snapshot(t)
	waitFor(t, "a subscriber", func() bool { return f.Subscribers() == 1 })

	done := checker.Check{Name: "Concurrent", Title: "10 requests at once", Passed: false,
		Message:  "10 requests took 1.01 s; the check allows up to 300 ms.",
		Measures: []checker.Measure{{What: "total time", Unit: "ms", Value: 1010, Bound: 300, Rule: "max"}},
		Timeline: []checker.Span{{Label: "Ping #1", StartMS: 0, EndMS: 100, Outcome: "ok"}}}
	f.Publish(Event{Lesson: "02-event-loop", State: LessonState{Status: InProgress, Checking: true, Result: failingResult(),
		Progress: &checker.Progress{Done: []checker.Check{done}, Running: "Responsive"}}})
	le := a.lesson(t)
	if le.Verdict != "checking" {
		t.Errorf("verdict = %q, want checking", le.Verdict)
	}
	contains(t, "progress html", le.HTML, `<p class="headline">Checking…</p>`, "1 check done, 1 failed; running Responsive…",
		"10 requests at once", "the check allows up to 300 ms", `<svg class="tl"`)
	if strings.Contains(le.HTML, "Checked in") {
		t.Errorf("the progress panel shows the last result's time:\n%s", le.HTML)
	}
}
