package class

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

func TestBackoffDoublesWithinItsBounds(t *testing.T) {
	lo, hi := 100*time.Millisecond, 2*time.Second
	var w time.Duration
	var seen []time.Duration
	for range 12 {
		w = nextBackoff(w, lo, hi)
		if w < lo*8/10 || w > hi {
			t.Fatalf("wait %v outside [%v, %v]", w, lo*8/10, hi)
		}
		seen = append(seen, w)
	}
	if seen[3] < 4*lo { // 100, 200, 400, 800 ms with ±20 %
		t.Fatalf("waits do not grow: %v", seen)
	}
	if seen[11] < hi*8/10 {
		t.Fatalf("waits do not reach the cap: %v", seen)
	}
}

// flaky serves a class server's handler, or refuses every connection while down.
type flaky struct {
	mu   sync.Mutex
	down bool
	h    http.Handler
}

func (f *flaky) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	down := f.down
	f.mu.Unlock()
	if down {
		// Like a server that is gone: the connection is cut.
		hj, _ := w.(http.Hijacker)
		c, _, _ := hj.Hijack()
		c.Close()
		return
	}
	f.h.ServeHTTP(w, r)
}

func TestTheSenderNeverWaitsAndSendsWhatItMissedWhenTheServerIsBack(t *testing.T) {
	dir := t.TempDir()
	s, err := NewServer(Config{LogPath: filepath.Join(dir, "class.log"), Lessons: testLessons, InstructorToken: testInstructor, JoinCode: testCode})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	f := &flaky{h: s}
	hs := httptest.NewServer(f)
	defer hs.Close()
	m, err := Join(context.Background(), http.DefaultClient, hs.URL+"/join?code="+testCode, "Ada")
	if err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	f.down = true
	f.mu.Unlock()

	ws := t.TempDir()
	snd, err := NewSender(*m, ws, SenderOptions{MinBackoff: 20 * time.Millisecond, MaxBackoff: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { snd.Run(ctx); close(done) }()
	for i := range 10 {
		start := time.Now()
		snd.Add(failing(0, "02-event-loop", float64(100+i)))
		if d := time.Since(start); d > 50*time.Millisecond {
			t.Errorf("Add took %v with the server down", d)
		}
	}
	time.Sleep(300 * time.Millisecond) // several failed tries
	if snd.Pending() != 10 || snd.Status() == "" {
		t.Fatalf("server down: %d pending, status %q", snd.Pending(), snd.Status())
	}
	// The tutor stops and starts again, still offline: the outbox is kept.
	cancel()
	<-done
	snd2, err := NewSender(*m, ws, SenderOptions{MinBackoff: 20 * time.Millisecond, MaxBackoff: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if snd2.Pending() != 10 {
		t.Fatalf("after a restart %d pending, want 10", snd2.Pending())
	}
	snd2.Add(failing(0, "01-hello", 7))
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	done = make(chan struct{})
	go func() { snd2.Run(ctx); close(done) }()
	f.mu.Lock()
	f.down = false
	f.mu.Unlock()
	deadline := time.Now().Add(5 * time.Second)
	for snd2.Pending() > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if snd2.Pending() != 0 || snd2.Status() != "" {
		t.Fatalf("server back: %d pending, status %q", snd2.Pending(), snd2.Status())
	}
	req, _ := http.NewRequest("GET", hs.URL+"/api/me", nil)
	req.Header.Set("Authorization", "Bearer "+m.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var me MeResponse
	json.NewDecoder(resp.Body).Decode(&me)
	resp.Body.Close()
	snd2.mu.Lock()
	last := snd2.out.NextSeq - 1
	snd2.mu.Unlock()
	if me.Acked != last || me.Lessons["02-event-loop"].Failing[0].Measures[0].Value != 109 || me.Lessons["01-hello"] == nil {
		t.Fatalf("the server has %+v", me)
	}
	cancel()
	<-done
}

func TestTheOutboxIsBoundedAndKeepsHelpRequests(t *testing.T) {
	m := Membership{Server: "http://127.0.0.1:1", Token: "t"}
	snd, _ := NewSender(m, t.TempDir(), SenderOptions{Capacity: 5})
	h := failing(0, "01-hello", 1)
	h.Help = &Help{Files: map[string]string{"a.go": "package a"}}
	snd.Add(h)
	for i := range 20 {
		snd.Add(failing(0, "02-event-loop", float64(i)))
	}
	if snd.Pending() != 5 {
		t.Fatalf("%d pending, want 5", snd.Pending())
	}
	snd.mu.Lock()
	defer snd.mu.Unlock()
	if snd.out.Items[0].Help == nil || snd.out.Items[4].Failing[0].Measures[0].Value != 19 {
		t.Fatalf("kept %+v", snd.out.Items)
	}
}

func TestAStrangerAddressIsRefusedBeforeAnythingIsSent(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	defer ln.Close()
	for _, u := range []string{"ftp://x/join?code=1", "http://" + ln.Addr().String() + "/join", "not a url"} {
		if _, err := Join(context.Background(), http.DefaultClient, u, "Ada"); err == nil {
			t.Errorf("%q: joined", u)
		}
	}
}

func TestALostOutboxDoesNotMakeTheServerIgnoreNewUpdates(t *testing.T) {
	tc := startClass(t, t.TempDir(), Limits{})
	m := tc.join("Ada")
	for range 2 { // two tutors with no outbox between them (deleted, damaged)
		snd, _ := NewSender(*m, t.TempDir(), SenderOptions{})
		snd.Add(failing(0, "01-hello", 1))
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { snd.Run(ctx); close(done) }()
		for deadline := time.Now().Add(5 * time.Second); snd.Pending() > 0 && time.Now().Before(deadline); {
			time.Sleep(10 * time.Millisecond)
		}
		cancel()
		<-done
	}
	_, body := tc.do("GET", "/api/me", m.Token, nil)
	var me MeResponse
	json.Unmarshal([]byte(body), &me)
	if got := me.Lessons["01-hello"]; got == nil {
		t.Fatalf("nothing kept: %s", body)
	}
	st := tc.s.Snapshot()
	if st.Learners[0].Seq != me.Acked || me.Acked < time.Now().Add(-time.Minute).UnixMicro() {
		t.Fatalf("the second tutor's update was ignored: %s", body)
	}
}
