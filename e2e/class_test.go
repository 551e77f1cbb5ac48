package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/gotutor/tutor/internal/class"
)

var (
	joinRE      = regexp.MustCompile(`tutor join '(http://[^']+)'`)
	dashboardRE = regexp.MustCompile(`dashboard .*: (http://\S+\?token=\S+)`)
)

// startClass runs `tutor class` on a free loopback port and returns the
// join address and the dashboard address it printed.
func startClass(t *testing.T) (join, dashboard string) {
	t.Helper()
	cmd := exec.Command(tutorBin, "class", "--addr", "127.0.0.1:0", "--dir", filepath.Join(t.TempDir(), "class"))
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { interrupt(t, cmd, "tutor class") })
	sc := bufio.NewScanner(stdout)
	for sc.Scan() && (join == "" || dashboard == "") {
		if m := joinRE.FindStringSubmatch(sc.Text()); m != nil {
			join = m[1]
		}
		if m := dashboardRE.FindStringSubmatch(sc.Text()); m != nil {
			dashboard = m[1]
		}
	}
	go func() {
		for sc.Scan() {
		}
	}() // drains stdout; ends when the class server exits
	if join == "" || dashboard == "" {
		t.Fatal("tutor class printed no join or dashboard address")
	}
	return join, dashboard
}

func sendUpdate(t *testing.T, m *class.Membership, u class.Update) {
	t.Helper()
	s, err := class.NewSender(*m, t.TempDir(), class.SenderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s.Add(u)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	for deadline := time.Now().Add(5 * time.Second); s.Pending() > 0 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
	if s.Pending() > 0 {
		t.Fatalf("%s's update was not acknowledged: %s", m.Name, s.Status())
	}
}

// TestClassDashboard: 20 learners report to a real `tutor class`; the
// dashboard shows them in its grid, updates a square live when a learner's
// result arrives, names the check that fails most with its numbers, lists a
// help request whose page shows the learner's code highlighted, and has no
// serious or critical axe-core violation. With TUTOR_E2E_SCREENSHOTS=DIR
// it saves screenshots there.
func TestClassDashboard(t *testing.T) {
	joinURL, dash := startClass(t)
	c := course(t)
	names := []string{"Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Margaret", "Ken", "Dennis", "Frances",
		"Radia", "John", "Katherine", "Niklaus", "Leslie", "Sophie", "Tony", "Hedy", "Rob", "Annie"}
	var ms []*class.Membership
	for _, n := range names {
		m, err := class.Join(context.Background(), http.DefaultClient, joinURL, n)
		if err != nil {
			t.Fatal(err)
		}
		ms = append(ms, m)
	}
	lesson := func(i int) string { return c.Lessons[i].ID }
	for i, m := range ms {
		// Everybody passed lesson 01; most are on 02, some further.
		sendUpdate(t, m, class.Update{Lesson: lesson(0), Status: "passed", Verdict: "pass", Attempts: 1 + i%3})
		switch {
		case i < 9: // stuck on 02: the loop blocks
			sendUpdate(t, m, class.Update{Lesson: lesson(1), Status: "in-progress", Verdict: "fail", Attempts: 2 + i, HintsUsed: i % 3,
				Failing: []class.FailingCheck{{Name: "Responsive", Title: "/health answers within 50 ms while 10 pings are waiting",
					Measures: []class.Measure{{What: "/health response time", Value: float64(180 + 90*i), Unit: "ms", Bound: 50, Rule: "max"}}}}})
		case i < 12:
			sendUpdate(t, m, class.Update{Lesson: lesson(1), Status: "in-progress", Verdict: "build-error", Attempts: 1})
		default:
			sendUpdate(t, m, class.Update{Lesson: lesson(1), Status: "passed", Verdict: "pass", Attempts: 3})
			sendUpdate(t, m, class.Update{Lesson: lesson(2), Status: "in-progress", Verdict: "fail", Attempts: 1,
				Failing: []class.FailingCheck{{Name: "Overlap", Measures: []class.Measure{{What: "total", Value: 2010, Unit: "ms", Bound: 1200, Rule: "max"}}}}})
		}
	}
	l2, _ := c.Lesson("02")
	help := class.Update{Lesson: l2.ID, Status: "in-progress", Verdict: "fail", Attempts: 6,
		Failing: []class.FailingCheck{{Name: "Responsive", Measures: []class.Measure{{What: "/health response time", Value: 900, Unit: "ms", Bound: 50, Rule: "max"}}}},
		Help:    &class.Help{Files: map[string]string{}, Summary: "fail: Responsive: /health took 900 ms while pings waited"}}
	for name, b := range l2.Starter().Files {
		help.Help.Files[name] = string(b)
	}
	sendUpdate(t, ms[8], help)

	ctx, _ := tab(t)
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900), chromedp.Navigate(dash),
		chromedp.WaitVisible(chromedp.CSS(`#grid`))); err != nil {
		t.Fatal(err)
	}
	waitText := func(js, want string) {
		t.Helper()
		var got string
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			got, _ = chromedp.Run(ctx, chromedp.Evaluate[string](js))
			if strings.Contains(got, want) {
				return
			}
		}
		t.Fatalf("%s: %q, want it to contain %q", js, got, want)
	}
	waitText(`document.getElementById('live').textContent`, "live")
	rows, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('#grid tbody tr').length`))
	if err != nil || rows != 20 {
		t.Fatalf("the grid has %d rows (%v), want 20", rows, err)
	}
	waitText(`document.getElementById('sum-`+l2.ID+`').textContent`, "9 of 20 fail Responsive: 180–900 ms")
	// Live: Ada passes 02 while the page is open; her square changes
	// without a reload.
	sendUpdate(t, ms[0], class.Update{Lesson: l2.ID, Status: "passed", Verdict: "pass", Attempts: 5})
	waitText(`document.querySelector('#row-`+ms[0].Learner+` td:nth-of-type(2)').textContent`, "passed")
	waitText(`document.getElementById('sum-`+l2.ID+`').textContent`, "8 of 20 fail Responsive: 270–900 ms")
	waitText(`document.getElementById('helpq').textContent`, "Dennis on "+l2.ID)

	shots := os.Getenv("TUTOR_E2E_SCREENSHOTS")
	if shots != "" {
		os.MkdirAll(shots, 0o755)
	}
	check := func(name string) {
		t.Helper()
		if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](axeJS)); err != nil {
			t.Fatal(err)
		}
		vs, err := chromedp.Run(ctx, chromedp.Evaluate[[]violation](runAxe, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatalf("axe on %s: %v", name, err)
		}
		for _, v := range vs {
			t.Errorf("%s: %s %s: %s\n    %s", name, v.Impact, v.ID, v.Help, strings.Join(v.Nodes, "\n    "))
		}
		if shots != "" {
			png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
			if err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(shots, name+".png")
			os.WriteFile(out, png, 0o644)
			t.Logf("wrote %s", out)
		}
	}
	check("class-dashboard-1280")
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 844), chromedp.Sleep(200*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	check("class-dashboard-390")
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900), chromedp.Click(chromedp.CSS(`#helpq a`)),
		chromedp.WaitVisible(chromedp.CSS(`.chroma`))); err != nil {
		t.Fatal(err)
	}
	waitText(`document.querySelector('main').textContent`, "900 ms")
	kw, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('.chroma .kd, .chroma .kn, .chroma .k').length`))
	if err != nil || kw == 0 {
		t.Fatalf("the help page's code is not highlighted (%d keyword spans, %v)", kw, err)
	}
	check("class-help")
}

// TestAskForHelpFromTheLessonPage: a learner's tutor started with --class
// reports a check's result to the class, and the lesson page's "Ask for
// help" button (and only it) puts their code in the help queue.
func TestAskForHelpFromTheLessonPage(t *testing.T) {
	joinURL, dash := startClass(t)
	s := startTutor(t, "--class", joinURL, "--name", "Ada")
	base, _, _ := strings.Cut(dash, "/?token=")
	token := dash[strings.Index(dash, "token=")+len("token="):]
	state := func() class.State {
		t.Helper()
		req, _ := http.NewRequest("GET", base+"/api/state", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var st class.State
		json.NewDecoder(resp.Body).Decode(&st)
		return st
	}
	c := course(t)
	l, _ := c.Lesson("02")
	ctx, _ := tab(t)
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900), chromedp.Navigate(s.url+"lesson/"+l.ID),
		chromedp.Click(chromedp.CSS(`form[action$="/check"] button`))); err != nil {
		t.Fatal(err)
	}
	waitVerdict(t, ctx, "fail", 60*time.Second)
	var st class.State
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		st = state()
		if len(st.Learners) == 1 && st.Learners[0].Cells[1].Class == "failing" {
			break
		}
	}
	if len(st.Learners) != 1 || st.Learners[0].Name != "Ada" || st.Learners[0].Cells[1].Class != "failing" || !strings.Contains(st.Learners[0].Cells[1].Detail, "ms") {
		t.Fatalf("the class does not show Ada's failing result on %s: %+v", l.ID, st.Learners)
	}
	if len(st.Help) != 0 {
		t.Fatalf("a help request before the button was pressed: %+v", st.Help)
	}
	// The page with the class card passes axe too.
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](axeJS)); err != nil {
		t.Fatal(err)
	}
	vs, err := chromedp.Run(ctx, chromedp.Evaluate[[]violation](runAxe, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range vs {
		t.Errorf("lesson page in a class: %s %s: %s\n    %s", v.Impact, v.ID, v.Help, strings.Join(v.Nodes, "\n    "))
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`form[action$="/help"] button`))); err != nil {
		t.Fatal(err)
	}
	if dir := os.Getenv("TUTOR_E2E_SCREENSHOTS"); dir != "" {
		os.MkdirAll(dir, 0o755)
		chromedp.Do(ctx, chromedp.Sleep(300*time.Millisecond))
		if png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)); err == nil {
			os.WriteFile(filepath.Join(dir, "class-lesson-asked.png"), png, 0o644)
		}
	}
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline) && len(st.Help) == 0; time.Sleep(100 * time.Millisecond) {
		st = state()
	}
	if len(st.Help) != 1 || st.Help[0].Name != "Ada" || st.Help[0].Lesson != l.ID {
		t.Fatalf("after Ask for help the queue is %+v", st.Help)
	}
	req, _ := http.NewRequest("GET", base+"/help/1", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(page), "Ping") || !strings.Contains(string(page), `class="chroma"`) || !strings.Contains(string(page), "Concurrent") {
		t.Fatalf("the help page lacks the code or the result:\n%s", page)
	}
}
