package site

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gotutor/tutor/checker"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// request serves one request on s, for the first allowed host unless the
// caller sets another.
func request(s http.Handler, method, target string, header http.Header, form url.Values) *httptest.ResponseRecorder {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	// A deadline, so that a stream (/events) that should have been refused
	// ends and fails the test instead of hanging it.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	r := httptest.NewRequestWithContext(ctx, method, target, body)
	r.Host = testHosts[0]
	if form != nil {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, vs := range header {
		for _, v := range vs {
			r.Header.Add(k, v)
		}
	}
	if h := header.Get("Host"); h != "" {
		r.Host = h
	}
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	return w
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	file := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(file, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (run go test ./site -update to create it)", err)
	}
	if got != string(want) {
		gl, wl := strings.Split(got, "\n"), strings.Split(string(want), "\n")
		for i := range max(len(gl), len(wl)) {
			var g, w string
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			if g != w {
				t.Fatalf("%s differs at line %d:\n got: %q\nwant: %q\n(run go test ./site -update if the change is intended)", file, i+1, g, w)
			}
		}
	}
}

// goldenState is the course state the golden pages show.
func goldenState(f *fakeBackend) {
	f.snap.Notice = "saves not detected here; polling every 0.5 s"
	f.Set("01-measure", LessonState{Status: Passed, Attempts: 3, HintsShown: 1, Result: &checker.Result{
		Lesson: "01-measure", Verdict: checker.Pass, Summary: "all checks pass",
		Checks: []checker.Check{{Name: "Concurrent", Passed: true, Message: "10 in flight at once."}}}})
	f.Set("02-event-loop", LessonState{Status: InProgress, Attempts: 2, HintsShown: 1, Result: failingResult()})
}

func TestGoldenPages(t *testing.T) {
	ws := t.TempDir()
	f := newFake(ws)
	goldenState(f)
	s := newTestServer(t, f, nil)
	for _, tc := range []struct{ path, file string }{
		{"/", "map.golden"},
		{"/lesson/02-event-loop", "lesson.golden"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			w := request(s, "GET", tc.path, nil, nil)
			if w.Code != http.StatusOK {
				t.Fatalf("GET %s = %d, want 200; body:\n%s", tc.path, w.Code, w.Body)
			}
			golden(t, tc.file, strings.ReplaceAll(w.Body.String(), filepath.ToSlash(ws), "$WORKSPACE"))
		})
	}
}

func TestMapPage(t *testing.T) {
	f := newFake(t.TempDir())
	goldenState(f)
	s := newTestServer(t, f, nil)
	body := request(s, "GET", "/", nil, nil).Body.String()
	contains(t, "map", body,
		`<strong id="passed-count">1</strong> of 3 lessons passed`,
		`<progress id="progress" max="3" value="1"`,
		`id="continue" href="/lesson/02-event-loop">Continue: 02 · One loop, one thing at a time`,
		`data-lesson="01-measure" data-status="passed" data-verdict="pass"`,
		`data-lesson="02-event-loop" data-status="in-progress" data-verdict="fail"`,
		`data-lesson="03-cpu" data-status="not-started" data-verdict="idle"`,
		`<span class="module-n">Module 2</span> CPU-bound work`,
		`CPU work &amp; the cores`,
		`Lesson 1 in one sentence &lt;for the map&gt;.`,
		`saves not detected here; polling every 0.5 s`,
	)
	for _, l := range testLessons {
		f.Set(l.id, LessonState{Status: Passed})
	}
	body = request(s, "GET", "/", nil, nil).Body.String()
	contains(t, "map with every lesson passed", body, "Every lesson passed.", `value="3"`)
}

// verdictAttr extracts the data-verdict of the element with id "verdict".
var verdictAttr = regexp.MustCompile(`id="verdict" class="result" data-verdict="([^"]*)"`)

func TestVerdictAttribute(t *testing.T) {
	ws := t.TempDir()
	for _, tc := range []struct {
		name     string
		st       LessonState
		verdict  string
		headline string
	}{
		{"no result", LessonState{}, "idle", "Not checked yet"},
		{"passed in an earlier run", LessonState{Status: Passed}, "idle", "Passed earlier"},
		{"first check running", LessonState{Checking: true}, "checking", "Checking…"},
		{"checking wins over a result", LessonState{Checking: true, Status: InProgress, Result: failingResult()}, "checking", "Checking…"},
		{"pass", LessonState{Status: Passed, Result: &checker.Result{Verdict: checker.Pass}}, "pass", "Passed"},
		{"fail", LessonState{Status: InProgress, Result: failingResult()}, "fail", "Not yet"},
		{"build error", LessonState{Status: InProgress, Result: buildErrorResult()}, "build-error", "Does not compile"},
		{"timeout", LessonState{Status: InProgress, Result: &checker.Result{Verdict: checker.Timeout, Running: "TestConcurrent",
			Blocked: []string{"ping.go:14 (sync.Mutex.Lock)"}}}, "timeout", "Timed out"},
		{"error", LessonState{Result: &checker.Result{Verdict: checker.Error, Summary: "go: not found"}}, "error", "The checks could not run"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(ws)
			f.Set("02-event-loop", tc.st)
			s := newTestServer(t, f, nil)
			body := request(s, "GET", "/lesson/02-event-loop", nil, nil).Body.String()
			m := verdictAttr.FindStringSubmatch(body)
			if m == nil {
				t.Fatalf("GET /lesson/02-event-loop has no verdict element")
			}
			if m[1] != tc.verdict {
				t.Errorf("data-verdict = %q, want %q", m[1], tc.verdict)
			}
			contains(t, "page", body, `<p class="headline">`+tc.headline+`</p>`)
			if got := verdictOf(tc.st); got != tc.verdict {
				t.Errorf("verdictOf(%+v) = %q, want %q", tc.st, got, tc.verdict)
			}
		})
	}
}

func TestLessonPageContent(t *testing.T) {
	ws := t.TempDir()
	f := newFake(ws)
	f.Set("02-event-loop", LessonState{Status: InProgress, HintsShown: 2, Result: failingResult()})
	s := newTestServer(t, f, nil)
	body := request(s, "GET", "/lesson/02-event-loop", nil, nil).Body.String()
	contains(t, "lesson page", body,
		`<h1 id="lesson-title">One loop, one thing at a time</h1>`,
		`<code class="path" title="`+filepath.Join(ws, "02-event-loop", "ping.go")+`">02-event-loop/ping.go</code>`,
		`href="vscode://file`+filepath.ToSlash(ws)+`/02-event-loop/ping.go"`,
		`<a class="prev" rel="prev" href="/lesson/01-measure">`,
		`<a class="next" rel="next" href="/lesson/03-cpu">`,
		`Hint 1: Where does it wait?`, `Hint 2: Give the loop away`, `Show hint 3 of 3`,
		`10 requests at once finish in about one sleep`,
		`<td class="num">1021 ms</td><td class="num">at most 350 ms</td>`,
		`runs: 1021, 1020`,
		`<svg class="tl"`,
		`What your code printed (2 lines)`,
		`served 10 requests &lt;ok&gt;`,
		`Checked in 1.84 s (build 0.61 s, run 1.23 s).`,
		`Show the solution anyway`,
		`<aside class="panel" data-status="in-progress"`,
		`class="callout callout-note"`,
	)
	if strings.Contains(body, "Nearly the answer") {
		t.Errorf("lesson page shows hint 3 while HintsShown = 2")
	}
	// Every check with spans has a chart: the one the panel shows below
	// the list (Concurrent's), and the others folded under their check.
	contains(t, "lesson page", body, `<details class="check-timeline" data-check="Health">`, `Timeline: /health answers during the load`, `Timeline: 10 requests at once finish in about one sleep`)
	if strings.Contains(body, `data-check="Concurrent"`) {
		t.Errorf("Concurrent's timeline is folded under its check as well as shown below the list")
	}
	if strings.Contains(body, "<script>alert") {
		t.Errorf("lesson page carries raw <script> from the markdown")
	}
	if n := strings.Count(body, "<h1"); n != 1 {
		t.Errorf("lesson page has %d <h1> elements, want 1 (the markdown's own title is dropped)", n)
	}

	// With an editor command, "open" is a form posting to the backend.
	s = newTestServer(t, f, func(c *Config) { c.Editor = "code -g" })
	body = request(s, "GET", "/lesson/02-event-loop", nil, nil).Body.String()
	contains(t, "lesson page with --editor", body, `action="/api/lesson/02-event-loop/open"`, `name="file" value="ping.go"`)
	if strings.Contains(body, "vscode://") {
		t.Errorf("lesson page with --editor still links to vscode://")
	}
}

func TestBuildErrorSource(t *testing.T) {
	ws := t.TempDir()
	if err := os.MkdirAll(filepath.Join(ws, "02-event-loop"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(ws, "02-event-loop", "ping.go"), []byte(learnerPing), 0o644); err != nil {
		t.Fatal(err)
	}
	secret := filepath.Join(filepath.Dir(ws), filepath.Base(ws)+"-secret.go")
	if err := os.WriteFile(secret, []byte("package secret // TOPSECRET\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(secret) })
	if err := os.Symlink(secret, filepath.Join(ws, "02-event-loop", "link.go")); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name  string
		file  string
		wants []string
	}{
		{"the learner's file", "02-event-loop/ping.go", []string{"line 7: undefined: slep", `<span class="line hl"><span class="ln">7</span>`, "Ping answers after a while"}},
		{"dot-dot", "../" + filepath.Base(secret), []string{"cannot show", "not inside the workspace"}},
		{"absolute", secret, []string{"cannot show"}},
		{"symlink out", "02-event-loop/link.go", []string{"cannot show 02-event-loop/link.go"}},
		{"missing", "02-event-loop/gone.go", []string{"cannot show 02-event-loop/gone.go"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := buildErrorResult()
			r.BuildErrors[0].File = tc.file
			f := newFake(ws)
			f.Set("02-event-loop", LessonState{Status: InProgress, Result: r})
			s := newTestServer(t, f, nil)
			body := request(s, "GET", "/lesson/02-event-loop", nil, nil).Body.String()
			contains(t, "lesson page", body, tc.wants...)
			if strings.Contains(body, "TOPSECRET") {
				t.Errorf("the page shows a file outside the workspace (%s)", tc.file)
			}
		})
	}
}

func TestLessonAliases(t *testing.T) {
	s := newTestServer(t, newFake(t.TempDir()), nil)
	for _, tc := range []struct {
		path     string
		code     int
		location string
	}{
		{"/lesson/02-event-loop", http.StatusOK, ""},
		{"/lesson/02", http.StatusFound, "/lesson/02-event-loop"},
		{"/lesson/2", http.StatusFound, "/lesson/02-event-loop"},
		{"/lesson/3?done=check", http.StatusFound, "/lesson/03-cpu?done=check"},
		{"/lesson/99", http.StatusNotFound, ""},
		{"/lesson/nope", http.StatusNotFound, ""},
		{"/no/such/page", http.StatusNotFound, ""},
	} {
		w := request(s, "GET", tc.path, nil, nil)
		if w.Code != tc.code || w.Header().Get("Location") != tc.location {
			t.Errorf("GET %s = %d %q, want %d %q", tc.path, w.Code, w.Header().Get("Location"), tc.code, tc.location)
		}
	}
	body := request(s, "GET", "/lesson/99", nil, nil).Body.String()
	contains(t, "404 page", body, "unknown lesson", "01-measure, 02-event-loop, 03-cpu")
}

var jsonAccept = http.Header{"Accept": {"application/json"}}

func TestActions(t *testing.T) {
	for _, tc := range []struct {
		name     string
		path     string
		form     url.Values
		header   http.Header
		passed   bool
		fail     error
		code     int
		location string
		call     string
		body     []string
	}{
		{name: "check", path: "/api/lesson/02/check", header: jsonAccept, code: 200, call: "CheckNow 02-event-loop",
			body: []string{`{"ok":true}`}},
		{name: "check, no script", path: "/api/lesson/02-event-loop/check", code: 303, location: "/lesson/02-event-loop?done=check",
			call: "CheckNow 02-event-loop"},
		{name: "hint", path: "/api/lesson/02-event-loop/hint", header: jsonAccept, code: 200, call: "RevealHint 02-event-loop",
			body: []string{`"ok":true`, "Hint 1: Where does it wait?", "Show hint 2 of 3"}},
		{name: "hint, no script", path: "/api/lesson/02-event-loop/hint", code: 303, location: "/lesson/02-event-loop?done=hint#hints",
			call: "RevealHint 02-event-loop"},
		{name: "reset", path: "/api/lesson/02-event-loop/reset", header: jsonAccept, code: 200, call: "Reset 02-event-loop",
			body: []string{"/tmp/backup-1", "Undo"}},
		{name: "reset, no script", path: "/api/lesson/02-event-loop/reset", code: 303, location: "/lesson/02-event-loop?done=reset",
			call: "Reset 02-event-loop"},
		{name: "undo", path: "/api/lesson/02-event-loop/undo", header: jsonAccept, code: 200, call: "Undo 02-event-loop",
			body: []string{"restored from the last backup"}},
		{name: "solution after passing", path: "/api/lesson/02-event-loop/solution", form: url.Values{"force": {"0"}}, header: jsonAccept,
			passed: true, code: 200, call: "Solution 02-event-loop false", body: []string{"Solved is the answer"}},
		{name: "solution before passing", path: "/api/lesson/02-event-loop/solution", form: url.Values{"force": {"0"}}, header: jsonAccept,
			code: 409, call: "Solution 02-event-loop false", body: []string{`"ok":false`, "pass the lesson first"}},
		{name: "solution anyway", path: "/api/lesson/02-event-loop/solution", form: url.Values{"force": {"1"}}, header: jsonAccept,
			code: 200, call: "Solution 02-event-loop true", body: []string{"Solved is the answer"}},
		{name: "solution page, no script", path: "/api/lesson/02-event-loop/solution", form: url.Values{"force": {"1"}},
			code: 200, call: "Solution 02-event-loop true", body: []string{"<h1>Solution: One loop, one thing at a time</h1>", "Solved is the answer"}},
		{name: "open", path: "/api/lesson/02-event-loop/open", form: url.Values{"file": {"ping.go"}}, header: jsonAccept,
			code: 200, call: "OpenInEditor 02-event-loop ping.go", body: []string{"02-event-loop/ping.go"}},
		{name: "open another file", path: "/api/lesson/02-event-loop/open", form: url.Values{"file": {"../../etc/passwd"}}, header: jsonAccept,
			code: 400, body: []string{"is not a file of lesson 02-event-loop"}},
		{name: "unknown lesson", path: "/api/lesson/42/check", header: jsonAccept, code: 404, body: []string{"unknown lesson"}},
		{name: "backend fails", path: "/api/lesson/02-event-loop/check", header: jsonAccept, fail: errors.New("the checker is busy"),
			code: 409, call: "CheckNow 02-event-loop", body: []string{"check 02-event-loop: the checker is busy"}},
		{name: "backend fails, no script", path: "/api/lesson/02-event-loop/undo", fail: errors.New("no backup yet"),
			code: 409, call: "Undo 02-event-loop", body: []string{"undo 02-event-loop: no backup yet", "<h1>That did not work</h1>"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t.TempDir())
			f.err = tc.fail
			if tc.passed {
				f.Set("02-event-loop", LessonState{Status: Passed})
			}
			s := newTestServer(t, f, nil)
			form := tc.form
			if form == nil {
				form = url.Values{}
			}
			w := request(s, "POST", tc.path, tc.header, form)
			if w.Code != tc.code || w.Header().Get("Location") != tc.location {
				t.Errorf("POST %s = %d %q, want %d %q; body:\n%s", tc.path, w.Code, w.Header().Get("Location"), tc.code, tc.location, w.Body)
			}
			var want []string
			if tc.call != "" {
				want = []string{tc.call}
			}
			if got := f.Actions(); !slices.Equal(got, want) {
				t.Errorf("POST %s: backend calls = %q, want %q", tc.path, got, want)
			}
			body := w.Body.String()
			if tc.header != nil {
				var rep reply
				if err := json.Unmarshal(w.Body.Bytes(), &rep); err != nil {
					t.Fatalf("POST %s: reply is not JSON: %v\n%s", tc.path, err, body)
				}
				body = rep.Message + rep.Hints + rep.Solution + body
			}
			contains(t, "reply", body, tc.body...)
		})
	}
}

func TestRefusals(t *testing.T) {
	for _, tc := range []struct {
		name   string
		method string
		path   string
		header http.Header
		code   int
		reason string
	}{
		{"foreign host, page", "GET", "/", http.Header{"Host": {"attacker.example"}}, 421, "host \"attacker.example\" is not this tutor"},
		{"foreign host, rebinding with our port", "GET", "/lesson/02", http.Header{"Host": {"attacker.example:7070"}}, 421, "is not this tutor"},
		{"foreign host, events", "GET", "/events", http.Header{"Host": {"evil.test:7070"}}, 421, "is not this tutor"},
		{"foreign host, check", "POST", "/api/lesson/02/check", http.Header{"Host": {"attacker.example"}}, 421, "is not this tutor"},
		{"other port", "GET", "/", http.Header{"Host": {"127.0.0.1:8080"}}, 421, "is not this tutor"},
		{"cross-origin check by Origin", "POST", "/api/lesson/02/check", http.Header{"Origin": {"http://attacker.example"}}, 403, "refused a request from another site"},
		{"cross-site check", "POST", "/api/lesson/02/check", http.Header{"Sec-Fetch-Site": {"cross-site"}}, 403, "refused a request from another site"},
		{"same-site but other origin", "POST", "/api/lesson/02/reset", http.Header{"Sec-Fetch-Site": {"same-site"}}, 403, "refused"},
		{"cross-site hint", "POST", "/api/lesson/02/hint", http.Header{"Sec-Fetch-Site": {"cross-site"}}, 403, "refused"},
		{"cross-site reset", "POST", "/api/lesson/02/reset", http.Header{"Origin": {"http://attacker.example"}}, 403, "refused"},
		{"cross-site undo", "POST", "/api/lesson/02/undo", http.Header{"Sec-Fetch-Site": {"cross-site"}}, 403, "refused"},
		{"cross-site solution", "POST", "/api/lesson/02/solution", http.Header{"Sec-Fetch-Site": {"cross-site"}}, 403, "refused"},
		{"cross-site open", "POST", "/api/lesson/02/open", http.Header{"Origin": {"http://attacker.example"}}, 403, "refused"},
		{"put a page", "PUT", "/lesson/02-event-loop", nil, 405, ""},
		{"post a page", "POST", "/", nil, 405, ""},
		{"delete a check", "DELETE", "/api/lesson/02/check", nil, 405, ""},
		{"get an action", "GET", "/api/lesson/02/reset", nil, 404, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t.TempDir())
			s := newTestServer(t, f, nil)
			w := request(s, tc.method, tc.path, tc.header, url.Values{"file": {"ping.go"}, "force": {"1"}})
			if w.Code != tc.code {
				t.Errorf("%s %s = %d, want %d; body: %s", tc.method, tc.path, w.Code, tc.code, w.Body)
			}
			if tc.reason != "" {
				body := w.Body.String()
				if !strings.Contains(body, tc.reason) || strings.Count(strings.TrimSpace(body), "\n") != 0 {
					t.Errorf("%s %s: reason = %q, want one line containing %q", tc.method, tc.path, body, tc.reason)
				}
			}
			if got := f.Actions(); len(got) != 0 {
				t.Errorf("%s %s was refused, yet the backend was called: %q", tc.method, tc.path, got)
			}
			if tc.code == 421 || tc.code == 403 {
				if got := f.Calls(); len(got) != 0 {
					t.Errorf("%s %s was refused, yet the backend was asked: %q", tc.method, tc.path, got)
				}
			}
			if got := w.Header().Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("%s %s: X-Content-Type-Options = %q, want nosniff", tc.method, tc.path, got)
			}
		})
	}

	// The tutor's own page is allowed: same-origin fetch, or a form from the same origin.
	f := newFake(t.TempDir())
	s := newTestServer(t, f, nil)
	for _, h := range []http.Header{
		{"Sec-Fetch-Site": {"same-origin"}, "Accept": {"application/json"}},
		{"Origin": {"http://127.0.0.1:7070"}, "Accept": {"application/json"}},
		{"Origin": {"http://localhost:7070"}, "Host": {"localhost:7070"}, "Accept": {"application/json"}},
	} {
		if w := request(s, "POST", "/api/lesson/02/check", h, url.Values{}); w.Code != 200 {
			t.Errorf("POST /api/lesson/02/check with %v = %d, want 200; body: %s", h, w.Code, w.Body)
		}
	}
	if got := len(f.Actions()); got != 3 {
		t.Errorf("same-origin checks reached the backend %d times, want 3", got)
	}
}

func TestStatic(t *testing.T) {
	for _, dev := range []bool{false, true} {
		name := "embedded"
		if dev {
			name = "dev"
		}
		t.Run(name, func(t *testing.T) {
			s := newTestServer(t, newFake(t.TempDir()), func(c *Config) {
				if dev {
					c.Dev = "."
				}
			})
			for _, tc := range []struct {
				path  string
				code  int
				ctype string
			}{
				{"/static/site.css", 200, "text/css; charset=utf-8"},
				{"/static/site.js", 200, "text/javascript; charset=utf-8"},
				{"/static/theme.js", 200, "text/javascript; charset=utf-8"},
				{"/chroma.css", 200, "text/css; charset=utf-8"},
				{"/favicon.ico", 200, "image/svg+xml"},
				{"/static/", 404, ""},
				{"/static/nope.css", 404, ""},
				// A ".." segment, plain or escaped, is refused outright;
				// other unclean paths are redirected to their clean form.
				{"/static/../go.mod", 400, ""},
				{"/static/../site.go", 400, ""},
				{"/static/%2e%2e/x", 400, ""},
				{"/static/%2e%2e/site.go", 400, ""},
				{"/static/..%2fsite.go", 400, ""},
				{"/static/..%5csite.go", 404, ""},
				{"/static/%2e%2e%2fsite.go", 400, ""},
				{"/static//etc/passwd", 307, ""},
				{"/static/./../site.go", 400, ""},
			} {
				w := request(s, "GET", tc.path, nil, nil)
				if w.Code != tc.code {
					t.Errorf("GET %s = %d, want %d", tc.path, w.Code, tc.code)
				}
				if tc.ctype != "" && w.Header().Get("Content-Type") != tc.ctype {
					t.Errorf("GET %s: Content-Type = %q, want %q", tc.path, w.Header().Get("Content-Type"), tc.ctype)
				}
				body := w.Body.String()
				if strings.Contains(body, "package site") || strings.Contains(body, "module github.com") || strings.Contains(body, "root:") {
					t.Errorf("GET %s leaks a file outside static/", tc.path)
				}
				if loc := w.Header().Get("Location"); loc != "" {
					if w2 := request(s, "GET", loc, nil, nil); w2.Code != 404 {
						t.Errorf("GET %s redirects to %s, which answers %d, want 404", tc.path, loc, w2.Code)
					}
				}
			}
		})
	}
}

func TestHeaders(t *testing.T) {
	s := newTestServer(t, newFake(t.TempDir()), nil)
	for _, path := range []string{"/", "/lesson/02-event-loop", "/static/site.css", "/nope"} {
		w := request(s, "GET", path, nil, nil)
		h := w.Header()
		csp := h.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'self'", "script-src 'self';", "style-src 'self' 'sha256-", "frame-ancestors 'none'", "form-action 'self'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("GET %s: Content-Security-Policy = %q, want it to contain %q", path, csp, want)
			}
		}
		if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "http:") || strings.Contains(csp, "https:") {
			t.Errorf("GET %s: Content-Security-Policy = %q allows inline code or other origins", path, csp)
		}
		for k, want := range map[string]string{"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY"} {
			if got := h.Get(k); got != want {
				t.Errorf("GET %s: %s = %q, want %q", path, k, got, want)
			}
		}
	}
}

// TestNoExternalRequests makes sure no page or asset points outside the
// tutor: no CDN, no web font, no remote image.
func TestNoExternalRequests(t *testing.T) {
	f := newFake(t.TempDir())
	goldenState(f)
	s := newTestServer(t, f, nil)
	external := regexp.MustCompile(`(?i)(src|href)\s*=\s*"(https?:)?//|url\(\s*['"]?(https?:)?//|@import|fonts\.googleapis`)
	for _, path := range []string{"/", "/lesson/01-measure", "/lesson/02-event-loop", "/static/site.css", "/static/site.js", "/static/theme.js", "/chroma.css"} {
		body := request(s, "GET", path, nil, nil).Body.String()
		if m := external.FindString(body); m != "" {
			t.Errorf("GET %s refers to another origin: %q", path, m)
		}
	}
}

func TestNew(t *testing.T) {
	course := testCourse(t)
	f := newFake("/ws")
	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"no course", Config{Backend: f, Hosts: testHosts}, "no course"},
		{"no backend", Config{Course: course, Hosts: testHosts}, "no backend"},
		{"no hosts", Config{Course: course, Backend: f}, "no allowed hosts"},
		{"bad dev dir", Config{Course: course, Backend: f, Hosts: testHosts, Dev: t.TempDir()}, "dev directory"},
	} {
		_, err := New(tc.cfg)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New(%s) = %v, want an error containing %q", tc.name, err, tc.want)
		}
	}
}

func TestNumber(t *testing.T) {
	for _, tc := range []struct {
		x    float64
		unit string
		want string
	}{
		{1021.4, "ms", "1021 ms"},
		{350, "ms", "350 ms"},
		{3.2, "ms", "3.2 ms"},
		{0.351, "s", "0.35 s"},
		{12.26, "", "12.3"},
		{10, "requests", "10 requests"},
		{0.5, "", "0.5"},
	} {
		if got := number(tc.x, tc.unit); got != tc.want {
			t.Errorf("number(%v, %q) = %q, want %q", tc.x, tc.unit, got, tc.want)
		}
	}
}

func TestGroupLines(t *testing.T) {
	for _, tc := range []struct {
		lines []int
		want  [][2]int
	}{
		{[]int{7}, [][2]int{{4, 10}}},
		{[]int{1}, [][2]int{{1, 4}}},
		{[]int{7, 9}, [][2]int{{4, 12}}},
		{[]int{30, 7, 7}, [][2]int{{4, 10}, {27, 33}}},
		{[]int{7, 14}, [][2]int{{4, 17}}},
	} {
		if got := groupLines(tc.lines, 3); !slices.Equal(got, tc.want) {
			t.Errorf("groupLines(%v, 3) = %v, want %v", tc.lines, got, tc.want)
		}
	}
}

// TestChartCache: a lesson's charts are drawn once per result, and a new
// result (a new pointer, as every check run publishes) is drawn afresh.
func TestChartCache(t *testing.T) {
	var c chartCache
	r1 := failingResult()
	main1, per1 := c.of("02-event-loop", r1)
	if main1 == "" || len(per1) != len(r1.Checks) || per1[1] == "" || per1[0] != "" {
		t.Fatalf("charts of the failing result: main %d bytes, per check %d entries", len(main1), len(per1))
	}
	r1.Timeline = nil // a published result never changes; if it did, the cache would not see it
	if main, _ := c.of("02-event-loop", r1); main != main1 {
		t.Errorf("the same result was drawn again")
	}
	r2 := failingResult()
	r2.Timeline = r2.Timeline[:3]
	if main, _ := c.of("02-event-loop", r2); main == main1 || !strings.Contains(string(main), "3 requests") {
		t.Errorf("a new result got the old chart")
	}
}

// TestNextInVerdict: a pass shows the way on inside the verdict itself,
// where the learner is looking, not only at the bottom of the page; a
// failure does not.
func TestNextInVerdict(t *testing.T) {
	verdictBlock := func(body string) string {
		i := strings.Index(body, `id="verdict"`)
		j := strings.Index(body, `id="announce"`)
		if i < 0 || j < i {
			t.Fatalf("no #verdict block in the page")
		}
		return body[i:j]
	}
	ws := t.TempDir()
	const link = `<a class="button primary" href="/lesson/03-cpu">Next: 03 · `
	for _, tc := range []struct {
		name string
		st   LessonState
		want bool
	}{
		{"pass", LessonState{Status: Passed, Result: &checker.Result{Verdict: checker.Pass}}, true},
		{"fail", LessonState{Status: InProgress, Result: failingResult()}, false},
		{"checking again after a pass", LessonState{Status: Passed, Checking: true, Result: &checker.Result{Verdict: checker.Pass}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(ws)
			f.Set("02-event-loop", tc.st)
			s := newTestServer(t, f, nil)
			v := verdictBlock(request(s, "GET", "/lesson/02-event-loop", nil, nil).Body.String())
			if got := strings.Contains(v, link); got != tc.want {
				t.Errorf("#verdict contains the link to the next lesson = %t, want %t:\n%s", got, tc.want, v)
			}
		})
	}
}

// TestNotRunCheck: a check that never ran is shown as "not run" with its
// reason, not as failed, and counts as not passed.
func TestNotRunCheck(t *testing.T) {
	f := newFake(t.TempDir())
	f.Set("02-event-loop", LessonState{Status: InProgress, Result: &checker.Result{Verdict: checker.Fail, Checks: []checker.Check{
		{Name: "Concurrent", Title: "10 requests at once", Status: checker.Failed, Message: "the test process exited during Concurrent: os.Exit or syscall.Exit in your code?"},
		{Name: "Responsive", Title: "/health answers", Status: checker.NotRun, Message: "not run: the time limit ran out before it"},
	}}})
	s := newTestServer(t, f, nil)
	body := request(s, "GET", "/lesson/02-event-loop", nil, nil).Body.String()
	contains(t, "lesson page", body, `data-outcome="not-run"`, `<span class="outcome">not run</span>`, "2 of 2 checks failed.")
}

// A lesson passed in an earlier run of the tutor and not checked in this one
// says so in the header and the panel, with the next lesson in view, instead
// of "not checked yet" beside the course map's "passed".
func TestPassedEarlier(t *testing.T) {
	f := newFake(t.TempDir())
	f.Set("02-event-loop", LessonState{Status: Passed})
	s := newTestServer(t, f, nil)
	body := request(s, "GET", "/lesson/02-event-loop", nil, nil).Body.String()
	contains(t, "lesson page", body, "passed earlier", "Passed earlier", `class="next-step"`)
	if strings.Contains(body, "not checked yet") {
		t.Errorf("the page says \"not checked yet\" for a lesson passed earlier")
	}
}

// TestObjectivesTable: a lesson whose front matter says "report: objectives"
// shows one row per check above the list (objective, target, measured,
// met), with the failing measure shown for a failed check; a lesson without
// it shows no table.
func TestObjectivesTable(t *testing.T) {
	f := newFake(t.TempDir())
	r := failingResult()
	r.Lesson = "03-cpu"
	r.Checks = append(r.Checks,
		checker.Check{Name: "Cores", Title: "Cores: at most GOMAXPROCS at once", Message: "3 at once.",
			Measures: []checker.Measure{
				{What: "calls at once, at most", Unit: "count", Value: 2, Bound: 2, Rule: "max", Passed: true},
				{What: "calls in a pool slot", Unit: "count", Value: 3, Bound: 0, Rule: "max"},
			}},
		checker.Check{Name: "Answers", Title: "Answers are right", Message: "/quote answered 500."})
	f.Set("03-cpu", LessonState{Status: InProgress, Result: r})
	f.Set("02-event-loop", LessonState{Status: InProgress, Result: failingResult()})
	s := newTestServer(t, f, nil)
	body := request(s, "GET", "/lesson/03-cpu", nil, nil).Body.String()
	contains(t, "objectives table", body,
		`<table class="objectives">`,
		`<th scope="col">Objective</th><th scope="col" class="num">Target</th><th scope="col" class="num">Measured</th><th scope="col">Met</th>`,
		`<tr data-met="false"><td><code>Concurrent</code><span class="samples">total time</span></td><td class="num">at most 350 ms</td><td class="num measured">1021 ms</td><td class="met">✗ not met</td></tr>`,
		`<tr data-met="true"><td><code>Health</code><span class="samples">health latency</span></td><td class="num">at most 50 ms</td><td class="num measured">3.2 ms</td><td class="met">✓ met</td></tr>`,
		// the failing measure is the one shown, not the first
		`<tr data-met="false"><td><code>Cores</code><span class="samples">calls in a pool slot</span></td><td class="num">at most 0</td><td class="num measured">3</td>`,
		// a check that failed without a measure still has its row
		`<tr data-met="false"><td><code>Answers</code></td><td class="num">–</td><td class="num measured">–</td><td class="met">✗ not met</td></tr>`,
	)
	if strings.Index(body, `class="objectives"`) > strings.Index(body, `class="check-list`) {
		t.Error("the objectives table should come before the list of checks")
	}
	if other := request(s, "GET", "/lesson/02-event-loop", nil, nil).Body.String(); strings.Contains(other, `class="objectives"`) {
		t.Error("a lesson without report: objectives shows the objectives table")
	}
}
