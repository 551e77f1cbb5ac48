package site

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/gotutor/tutor/checker"
)

// fakePresenter is a backend with demo runs and the Fire panel.
type fakePresenter struct {
	*fakeBackend
	mu    sync.Mutex
	demos []string
	fires []string
}

func (f *fakePresenter) Demo(ctx context.Context, id, variant string, force bool) (*checker.Result, error) {
	f.mu.Lock()
	f.demos = append(f.demos, fmt.Sprintf("%s %s force=%t", id, variant, force))
	f.mu.Unlock()
	if variant == "solution" {
		var fast []checker.Span
		for i := range 10 {
			fast = append(fast, checker.Span{Label: fmt.Sprint(i), StartMS: 1, EndMS: 101, Outcome: "ok"})
		}
		return &checker.Result{Verdict: checker.Pass, Checks: []checker.Check{{Name: "Concurrent", Title: "Ten at once", Passed: true, Timeline: fast}}, Timeline: fast, TimelineCheck: "Concurrent"}, nil
	}
	r := failingResult()
	return r, nil
}

func (f *fakePresenter) Fire(ctx context.Context, id, route string, n int) (FireResult, error) {
	f.mu.Lock()
	f.fires = append(f.fires, fmt.Sprintf("%s %s %d", id, route, n))
	f.mu.Unlock()
	return FireResult{Addr: "127.0.0.1:45678", Route: route, N: n, Spans: serialSpans()[:n]}, nil
}

func (f *fakePresenter) FireRoute(id string) string { return "/ping" }

func jsonReply(t *testing.T, w *httptest.ResponseRecorder) reply {
	t.Helper()
	var rep reply
	if err := json.Unmarshal(w.Body.Bytes(), &rep); err != nil {
		t.Fatalf("reply %q: %v", w.Body.String(), err)
	}
	return rep
}

func TestDemoAndFire(t *testing.T) {
	f := &fakePresenter{fakeBackend: newFake("/ws")}
	s := newTestServer(t, f, nil)
	id := testCourse(t).Lessons[1].ID
	js := http.Header{"Accept": {"application/json"}}

	page := request(s, "GET", "/lesson/"+id+"?present=1", nil, nil).Body.String()
	for _, want := range []string{"data-present", `id="demo"`, `value="wrong-spin"`, `action="/api/lesson/` + id + `/fire"`, `value="/ping"`, "the lesson is marked <em>assisted</em>"} {
		if !strings.Contains(page, want) {
			t.Errorf("presenter page lacks %q", want)
		}
	}

	w := request(s, "POST", "/api/lesson/"+id+"/demo", js, url.Values{"before": {"starter"}, "after": {"solution"}})
	rep := jsonReply(t, w)
	if w.Code != 200 || !rep.OK {
		t.Fatalf("demo: %d %+v", w.Code, rep)
	}
	if n := strings.Count(rep.Demo, "<svg"); n != 2 {
		t.Errorf("demo drew %d charts, want 2 side by side", n)
	}
	for _, want := range []string{"Starter", "Solution", "not yet", "passed"} {
		if !strings.Contains(rep.Demo, want) {
			t.Errorf("demo answer lacks %q", want)
		}
	}
	if got := strings.Join(f.demos, "; "); got != id+" starter force=false; "+id+" solution force=false" {
		t.Errorf("demos run: %s", got)
	}

	// Unknown versions and bad N are refused before anything runs.
	if w := request(s, "POST", "/api/lesson/"+id+"/demo", js, url.Values{"before": {"../etc"}, "after": {"solution"}}); w.Code != http.StatusBadRequest {
		t.Errorf("demo of an unknown version: %d", w.Code)
	}
	for _, n := range []string{"0", "-3", "201", "ten", ""} {
		if w := request(s, "POST", "/api/lesson/"+id+"/fire", js, url.Values{"n": {n}, "route": {"/ping"}}); w.Code != http.StatusBadRequest {
			t.Errorf("fire with n=%q: %d, want 400", n, w.Code)
		}
	}
	w = request(s, "POST", "/api/lesson/"+id+"/fire", js, url.Values{"n": {"5"}, "route": {"/ping"}})
	rep = jsonReply(t, w)
	if w.Code != 200 || !strings.Contains(rep.Fire, "<svg") || !strings.Contains(rep.Fire, "127.0.0.1:45678") {
		t.Errorf("fire: %d %+v", w.Code, rep)
	}
	if got := strings.Join(f.fires, "; "); got != id+" /ping 5" {
		t.Errorf("fires: %s", got)
	}

	// Without the page's script, the answer is a page.
	w = request(s, "POST", "/api/lesson/"+id+"/fire", nil, url.Values{"n": {"3"}, "route": {"/ping"}})
	if body := w.Body.String(); w.Code != 200 || !strings.Contains(body, "<svg") || !strings.Contains(body, "Back to the lesson") {
		t.Errorf("fire without script: %d\n%s", w.Code, body)
	}

	// Cross-origin posts change nothing.
	before := len(f.fires)
	w = request(s, "POST", "/api/lesson/"+id+"/fire", http.Header{"Accept": {"application/json"}, "Origin": {"http://evil.example"}, "Sec-Fetch-Site": {"cross-site"}}, url.Values{"n": {"5"}})
	if w.Code != http.StatusForbidden || len(f.fires) != before {
		t.Errorf("cross-origin fire: %d, fires %d → %d", w.Code, before, len(f.fires))
	}
}

// Without a Presenter the panels are not offered, and their endpoints say so.
func TestNoPresenter(t *testing.T) {
	s := newTestServer(t, newFake("/ws"), nil)
	id := testCourse(t).Lessons[1].ID
	page := request(s, "GET", "/lesson/"+id, nil, nil).Body.String()
	if strings.Contains(page, `id="demo"`) || strings.Contains(page, "data-present") {
		t.Error("demo panel or presenter mode shown without a Presenter / without ?present=1")
	}
	if w := request(s, "POST", "/api/lesson/"+id+"/demo", http.Header{"Accept": {"application/json"}}, url.Values{"before": {"starter"}, "after": {"solution"}}); w.Code != http.StatusNotFound {
		t.Errorf("demo without a Presenter: %d", w.Code)
	}
}

func TestDemoOneScale(t *testing.T) {
	slow := failingResult()
	fast := &checker.Result{Verdict: checker.Pass, Checks: []checker.Check{{Name: slow.TimelineCheck, Timeline: []checker.Span{{StartMS: 0, EndMS: 100}}}}}
	v := demoOf(slow, fast, "Starter", "Solution")
	// The fast chart's axis runs to the slow one's end (1,020 ms): both
	// show the same ticks, up to 1000.
	if !strings.Contains(string(v.Before.Chart), ">1000</text>") || !strings.Contains(string(v.After.Chart), ">1000</text>") {
		t.Errorf("after chart is not drawn on the before chart's scale:\n%s", v.After.Chart)
	}
}
