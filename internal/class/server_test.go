package class

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	testInstructor = "instructor-secret-0123456789"
	testCode       = "join-code-9876543210"
)

var testLessons = []Lesson{{ID: "01-hello", Title: "Hello"}, {ID: "02-event-loop", Title: "Event loop"}}

type testClass struct {
	t   *testing.T
	s   *Server
	hs  *httptest.Server
	dir string
}

func startClass(t *testing.T, dir string, lim Limits) *testClass {
	t.Helper()
	s, err := NewServer(Config{LogPath: filepath.Join(dir, "class.log"), Lessons: testLessons, InstructorToken: testInstructor, JoinCode: testCode, Limits: lim})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s)
	tc := &testClass{t: t, s: s, hs: hs, dir: dir}
	t.Cleanup(tc.stop)
	return tc
}

func (tc *testClass) stop() {
	if tc.hs != nil {
		tc.hs.Close()
		tc.s.Close()
		tc.hs = nil
	}
}

func (tc *testClass) do(method, path, bearer string, body any) (int, string) {
	tc.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, tc.hs.URL+path, rd)
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tc.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (tc *testClass) join(name string) *Membership {
	tc.t.Helper()
	m, err := Join(context.Background(), http.DefaultClient, tc.hs.URL+"/join?code="+testCode, name)
	if err != nil {
		tc.t.Fatal(err)
	}
	return m
}

func (tc *testClass) send(m *Membership, us ...Update) (int, string) {
	return tc.do("POST", "/api/updates", m.Token, UpdatesRequest{Updates: us})
}

func failing(seq int64, lesson string, ms float64) Update {
	return Update{Seq: seq, Lesson: lesson, Status: "in-progress", Verdict: "fail", Attempts: int(seq),
		Failing: []FailingCheck{{Name: "Responsive", Title: "/health answers within 50 ms while pings wait", Measures: []Measure{{What: "slowest ping", Value: ms, Unit: "ms", Bound: 150, Rule: "max"}}}},
		At:      time.Now()}
}

func TestRequestsWithoutTheRightTokenAreRefusedAndChangeNothing(t *testing.T) {
	tc := startClass(t, t.TempDir(), Limits{})
	ada := tc.join("Ada")
	bob := tc.join("Bob")
	if c, _ := tc.send(ada, failing(1, "02-event-loop", 300)); c != 200 {
		t.Fatalf("ada's own update: %d", c)
	}
	before := tc.s.Snapshot()

	cases := []struct {
		name, method, path, bearer string
		body                       any
		want                       int
	}{
		{"dashboard, no token", "GET", "/", "", nil, 401},
		{"dashboard, learner token", "GET", "/", ada.Token, nil, 401},
		{"dashboard, join code", "GET", "/?token=" + testCode, "", nil, 401},
		{"events, learner token", "GET", "/events", ada.Token, nil, 401},
		{"state, learner token", "GET", "/api/state", ada.Token, nil, 401},
		{"csv, learner token", "GET", "/export.csv", bob.Token, nil, 401},
		{"help page, learner token", "GET", "/help/1", ada.Token, nil, 401},
		{"mark help done, learner token", "POST", "/help/1/done", ada.Token, nil, 401},
		{"updates, no token", "POST", "/api/updates", "", UpdatesRequest{Updates: []Update{failing(2, "01-hello", 1)}}, 401},
		{"updates, instructor token", "POST", "/api/updates", testInstructor, UpdatesRequest{Updates: []Update{failing(2, "01-hello", 1)}}, 401},
		{"updates, made-up token", "POST", "/api/updates", "0000", UpdatesRequest{Updates: []Update{failing(2, "01-hello", 1)}}, 401},
		{"join, wrong code", "POST", "/api/join", "", JoinRequest{Code: "nope", Name: "Eve"}, 401},
		{"join, instructor token as code", "POST", "/api/join", "", JoinRequest{Code: testInstructor, Name: "Eve"}, 401},
		{"me, no token", "GET", "/api/me", "", nil, 401},
	}
	for _, c := range cases {
		got, body := tc.do(c.method, c.path, c.bearer, c.body)
		if got != c.want {
			t.Errorf("%s: %d %q, want %d", c.name, got, body, c.want)
		}
		if strings.Count(strings.TrimSpace(body), "\n") != 0 {
			t.Errorf("%s: the refusal is not one line: %q", c.name, body)
		}
	}
	after := tc.s.Snapshot()
	if a, b := mustJSON(before), mustJSON(after); a != b {
		t.Fatalf("refused requests changed the state:\nbefore %s\nafter  %s", a, b)
	}
	// The instructor's token opens everything.
	for _, p := range []string{"/", "/api/state", "/export.csv"} {
		if c, body := tc.do("GET", p, testInstructor, nil); c != 200 {
			t.Errorf("instructor %s: %d %q", p, c, body)
		}
	}
}

func mustJSON(v any) string { b, _ := json.Marshal(v); return string(b) }

func TestALearnerSeesOnlyTheirOwnRecord(t *testing.T) {
	tc := startClass(t, t.TempDir(), Limits{})
	ada, bob := tc.join("Ada"), tc.join("Bob")
	tc.send(ada, failing(1, "02-event-loop", 300))
	tc.send(bob, Update{Seq: 1, Lesson: "01-hello", Status: "passed", Verdict: "pass", At: time.Now()})
	for _, who := range []*Membership{ada, bob} {
		// Query parameters naming the other learner change nothing.
		other := bob.Learner
		if who == bob {
			other = ada.Learner
		}
		c, body := tc.do("GET", "/api/me?learner="+other+"&id="+other, who.Token, nil)
		if c != 200 {
			t.Fatalf("%s /api/me: %d", who.Name, c)
		}
		var me MeResponse
		json.Unmarshal([]byte(body), &me)
		if me.Learner != who.Learner || me.Name != who.Name || len(me.Lessons) != 1 {
			t.Fatalf("%s got %+v", who.Name, me)
		}
		if strings.Contains(body, other) {
			t.Fatalf("%s's answer mentions the other learner: %s", who.Name, body)
		}
	}
}

func TestBoundsAreOneLineRefusals(t *testing.T) {
	tc := startClass(t, t.TempDir(), Limits{MaxBody: 2048, MaxHelpBody: 8192, LearnerRate: 1, LearnerBurst: 3, MaxBatch: 4})
	ada := tc.join("Ada")
	big := failing(1, "01-hello", 1)
	big.Failing[0].Measures[0].What = strings.Repeat("x", 3000)
	if c, body := tc.send(ada, big); c != 413 {
		t.Errorf("an update over MaxBody: %d %q", c, body)
	}
	help := failing(1, "01-hello", 1)
	help.Help = &Help{Files: map[string]string{"main.go": strings.Repeat("x", 9000)}}
	if c, body := tc.send(ada, help); c != 413 {
		t.Errorf("a help request over MaxHelpBody: %d %q", c, body)
	}
	if c, _ := tc.send(ada, failing(1, "99-nope", 1)); c != 400 {
		t.Errorf("an unknown lesson: %d", c)
	}
	if c, _ := tc.send(ada, failing(1, "01-hello", 1), failing(2, "01-hello", 1), failing(3, "01-hello", 1), failing(4, "01-hello", 1), failing(5, "01-hello", 1)); c != 400 && c != 429 {
		t.Errorf("a batch over MaxBatch: %d", c)
	}
	if c, _ := tc.do("POST", "/api/join", "", JoinRequest{Code: testCode, Name: "<script>"}); c != 400 {
		t.Errorf("a name with markup: %d", c)
	}
	if c, _ := tc.do("POST", "/api/join", "", JoinRequest{Code: testCode, Name: strings.Repeat("a", 41)}); c != 400 {
		t.Errorf("a long name: %d", c)
	}
	// Help requests: at most 3 waiting per learner.
	tc3 := startClass(t, t.TempDir(), Limits{})
	eve := tc3.join("Eve")
	if c, _ := tc3.send(eve, Update{Seq: 1, Lesson: "01-hello", Status: "in-progress", Verdict: strings.Repeat("v", 100)}); c != 400 {
		t.Errorf("an unknown verdict: %d", c)
	}
	for i := range 4 {
		h := failing(int64(i+1), "01-hello", 1)
		h.Help = &Help{Files: map[string]string{"a.go": "package a"}}
		c, _ := tc3.send(eve, h)
		if want := map[bool]int{true: 200, false: 409}[i < 3]; c != want {
			t.Errorf("help request %d: %d, want %d", i+1, c, want)
		}
	}
	if n := len(tc3.s.Snapshot().Help); n != 3 {
		t.Errorf("%d help requests kept, want 3", n)
	}
	// The rate: the burst is 3 requests, then one a second.
	tc2 := startClass(t, t.TempDir(), Limits{LearnerRate: 1, LearnerBurst: 3})
	bob := tc2.join("Bob")
	codes := []int{}
	for i := range 6 {
		c, _ := tc2.send(bob, failing(int64(i+1), "01-hello", 1))
		codes = append(codes, c)
	}
	if codes[0] != 200 || codes[2] != 200 || codes[5] != 429 {
		t.Errorf("six quick requests got %v; want 200s then 429", codes)
	}
	var me MeResponse
	_, body := tc2.do("GET", "/api/me", bob.Token, nil)
	json.Unmarshal([]byte(body), &me)
	if me.Acked >= 6 {
		t.Errorf("a refused update was kept: acked %d", me.Acked)
	}
}

func TestRetriesAreKeptOnceAndEverythingAcknowledgedSurvivesARestart(t *testing.T) {
	dir := t.TempDir()
	tc := startClass(t, dir, Limits{})
	ada := tc.join("Ada")
	for i := range 5 {
		if c, _ := tc.send(ada, failing(int64(i+1), "02-event-loop", float64(100*(i+1)))); c != 200 {
			t.Fatal(c)
		}
	}
	// A retry of seq 3..5 (the ack was lost) changes nothing.
	c, body := tc.send(ada, failing(3, "02-event-loop", 999), failing(4, "02-event-loop", 999), failing(5, "02-event-loop", 999))
	if c != 200 || !strings.Contains(body, `"acked":5`) {
		t.Fatalf("retry: %d %s", c, body)
	}
	help := failing(6, "02-event-loop", 500)
	help.Help = &Help{Files: map[string]string{"ping.go": "package ping\n\nfunc Ping() { time.Sleep(time.Second) }\n"}, Summary: "1 of 2 checks failed"}
	tc.send(ada, help)
	before := mustJSON(tc.s.Snapshot())
	tc.stop()

	tc2 := startClass(t, dir, Limits{})
	if after := mustJSON(tc2.s.Snapshot()); after != before {
		t.Fatalf("after a restart:\n%s\nwant\n%s", after, before)
	}
	if !strings.Contains(before, "500 ms") {
		t.Fatalf("the last kept measure is missing: %s", before)
	}
	// The learner's token still works after the restart.
	if c, _ := tc2.send(ada, failing(7, "01-hello", 1)); c != 200 {
		t.Fatalf("after restart: %d", c)
	}
	// The help page shows the code highlighted and the result.
	c, page := tc2.do("GET", "/help/1", testInstructor, nil)
	if c != 200 || !strings.Contains(page, `class="chroma"`) || !strings.Contains(page, "1 of 2 checks failed") || !strings.Contains(page, "Sleep") {
		t.Fatalf("help page: %d\n%s", c, page)
	}
}

func TestTheLessonLineNamesTheCheckThatFailsMostWithItsRange(t *testing.T) {
	tc := startClass(t, t.TempDir(), Limits{})
	for i, ms := range []float64{180, 900, 420} {
		m := tc.join("Fails " + string(rune('A'+i)))
		tc.send(m, failing(1, "02-event-loop", ms))
	}
	other := tc.join("Other")
	u := failing(1, "02-event-loop", 0)
	u.Failing = []FailingCheck{{Name: "Concurrent", Title: "10 pings at once"}}
	tc.send(other, u)
	for i := range 2 {
		m := tc.join("Passes " + string(rune('A'+i)))
		tc.send(m, Update{Seq: 1, Lesson: "02-event-loop", Status: "passed", Verdict: "pass", At: time.Now()})
	}
	tc.join("Idle")
	st := tc.s.Snapshot()
	want := map[string]string{"01-hello": "no results yet", "02-event-loop": "3 of 6 fail Responsive: 180–900 ms"}
	for _, s := range st.Summaries {
		if s.Text != want[s.Lesson] {
			t.Errorf("%s: %q, want %q", s.Lesson, s.Text, want[s.Lesson])
		}
	}
	// The CSV has a line per learner and lesson with a result, and no formula.
	evil := tc.join("Eve")
	u = failing(1, "01-hello", 5)
	u.Failing[0].Name = "=HYPERLINK(\"x\")"
	tc.send(evil, u)
	_, csv := tc.do("GET", "/export.csv", testInstructor, nil)
	lines := strings.Split(strings.TrimSpace(csv), "\n")
	if len(lines) != 1+7 || !strings.HasPrefix(lines[0], "learner,lesson,status,verdict,attempts,hints_used") {
		t.Fatalf("csv:\n%s", csv)
	}
	if strings.Contains(csv, ",=HYPER") || strings.Contains(csv, ",\"=HYPER") {
		t.Fatalf("a cell starts with a formula:\n%s", csv)
	}
}

func TestTheEventStreamCarriesEachUpdate(t *testing.T) {
	tc := startClass(t, t.TempDir(), Limits{})
	req, _ := http.NewRequest("GET", tc.hs.URL+"/events", nil)
	req.Header.Set("Authorization", "Bearer "+testInstructor)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	ada := tc.join("Ada")
	tc.send(ada, failing(1, "02-event-loop", 300))
	buf := make([]byte, 64<<10)
	var got strings.Builder
	for !strings.Contains(got.String(), "event: summary") {
		n, err := resp.Body.Read(buf)
		if err != nil {
			t.Fatalf("stream ended: %v after %q", err, got.String())
		}
		got.Write(buf[:n])
	}
	s := got.String()
	if !strings.Contains(s, "event: learner") || !strings.Contains(s, `"seq":1`) || !strings.Contains(s, "1 of 1 fail Responsive: 300 ms") {
		t.Fatalf("stream: %s", s)
	}
}

// TestConcurrentRequestsOfOneLearnerAreAppliedInLogOrder: a client that
// sends two requests at once (ours never does) cannot make the server
// acknowledge an update it then ignores.
func TestConcurrentRequestsOfOneLearnerAreAppliedInLogOrder(t *testing.T) {
	dir := t.TempDir()
	tc := startClass(t, dir, Limits{LearnerRate: 1000, LearnerBurst: 1000})
	ada := tc.join("Ada")
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Go(func() {
			lesson := testLessons[i%2].ID
			tc.send(ada, failing(int64(i+1), lesson, float64(i)))
		})
	}
	wg.Wait()
	before := mustJSON(tc.s.Snapshot())
	tc.stop()
	tc2 := startClass(t, dir, Limits{})
	if after := mustJSON(tc2.s.Snapshot()); after != before {
		t.Fatalf("the state after a restart differs from the one acknowledged:\n%s\n%s", before, after)
	}
}

func TestMarkingHelpAnsweredNeedsTheDashboardAndTheSameSite(t *testing.T) {
	tc := startClass(t, t.TempDir(), Limits{})
	ada := tc.join("Ada")
	h := failing(1, "01-hello", 1)
	h.Help = &Help{Files: map[string]string{"a.go": "package a"}}
	tc.send(ada, h)
	req, _ := http.NewRequest("POST", tc.hs.URL+"/help/1/done", nil)
	req.Header.Set("Authorization", "Bearer "+testInstructor)
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	req.Header.Set("Origin", "https://evil.example")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || tc.s.Snapshot().Help[0].Done {
		t.Fatalf("a cross-site POST: %d, done %v", resp.StatusCode, tc.s.Snapshot().Help[0].Done)
	}
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, _ = http.NewRequest("POST", tc.hs.URL+"/help/1/done", nil)
	req.Header.Set("Authorization", "Bearer "+testInstructor)
	resp, err = noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || !tc.s.Snapshot().Help[0].Done {
		t.Fatalf("the instructor's POST: %d, done %v", resp.StatusCode, tc.s.Snapshot().Help[0].Done)
	}
	for _, p := range []string{"/help/0", "/help/2", "/help/x", "/help/-1"} {
		if c, _ := tc.do("GET", p, testInstructor, nil); c != 404 {
			t.Errorf("%s: %d", p, c)
		}
	}
}
