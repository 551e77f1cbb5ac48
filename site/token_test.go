package site

import (
	"bufio"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestTokenRequired: with a token, every path (pages, static files, the
// event stream, the buttons) is refused without it, the backend sees
// nothing; the URL's token sets an HttpOnly, SameSite=Strict cookie, and
// the cookie (or a Bearer header) lets requests through.
func TestTokenRequired(t *testing.T) {
	const tok = "0123456789abcdef0123456789abcdef"
	f := newFake(t.TempDir())
	s := newTestServer(t, f, func(c *Config) { c.Token = tok })
	post := http.Header{"Sec-Fetch-Site": {"same-origin"}, "Accept": {"application/json"}}
	refused := []struct {
		method, path string
		header       http.Header
	}{
		{"GET", "/", nil},
		{"GET", "/lesson/02-event-loop", nil},
		{"GET", "/static/site.js", nil},
		{"GET", "/chroma.css", nil},
		{"GET", "/favicon.ico", nil},
		{"GET", "/events", nil},
		{"GET", "/?token=wrong", nil},
		{"GET", "/?token=" + tok[:len(tok)-1], nil},
		{"GET", "/", http.Header{"Cookie": {"tutor_token=" + tok}}}, // not its cookie name
		{"GET", "/", http.Header{"Authorization": {"Bearer nope"}}},
		{"POST", "/api/lesson/02/hint", post},
		{"POST", "/api/lesson/02/reset", post},
		{"POST", "/api/lesson/02/solution?force=1", post},
		{"POST", "/api/lesson/02/check", post},
		{"POST", "/api/lesson/02/open", post},
	}
	for _, tc := range refused {
		w := request(s, tc.method, tc.path, tc.header, url.Values{})
		if w.Code != http.StatusUnauthorized || !strings.Contains(w.Body.String(), "needs its token") {
			t.Errorf("%s %s without the token = %d %q, want 401", tc.method, tc.path, w.Code, w.Body)
		}
		if c := w.Header().Get("Set-Cookie"); c != "" {
			t.Errorf("%s %s without the token set a cookie: %s", tc.method, tc.path, c)
		}
	}
	if got := f.Calls(); len(got) != 0 {
		t.Fatalf("refused requests reached the backend: %q", got)
	}

	// The printed URL: 200, and the cookie.
	w := request(s, "GET", "/?token="+tok, nil, nil)
	if w.Code != http.StatusOK {
		t.Fatalf("GET /?token=… = %d, want 200: %s", w.Code, w.Body)
	}
	cookies := w.Result().Cookies()
	if len(cookies) != 1 || cookies[0].Value != tok || !cookies[0].HttpOnly || cookies[0].SameSite != http.SameSiteStrictMode || cookies[0].Path != "/" {
		t.Fatalf("cookies = %+v; want one HttpOnly, SameSite=Strict, Path=/ cookie holding the token", cookies)
	}
	withCookie := func(h http.Header) http.Header {
		out := http.Header{"Cookie": {cookies[0].Name + "=" + cookies[0].Value}}
		for k, v := range h {
			out[k] = v
		}
		return out
	}
	for _, p := range []string{"/", "/lesson/02-event-loop", "/static/site.js"} {
		if w := request(s, "GET", p, withCookie(nil), nil); w.Code != http.StatusOK {
			t.Errorf("GET %s with the cookie = %d, want 200", p, w.Code)
		}
	}
	if w := request(s, "POST", "/api/lesson/02/hint", withCookie(post), url.Values{}); w.Code != http.StatusOK {
		t.Errorf("POST hint with the cookie = %d, want 200: %s", w.Code, w.Body)
	}
	if w := request(s, "GET", "/", http.Header{"Authorization": {"Bearer " + tok}}, nil); w.Code != http.StatusOK {
		t.Errorf("GET / with a Bearer token = %d, want 200", w.Code)
	}
	// The other defences still apply to a request with the token.
	if w := request(s, "POST", "/api/lesson/02/reset", withCookie(http.Header{"Sec-Fetch-Site": {"cross-site"}}), url.Values{}); w.Code != http.StatusForbidden {
		t.Errorf("cross-site POST with the cookie = %d, want 403", w.Code)
	}
	if w := request(s, "GET", "/?token="+tok, http.Header{"Host": {"attacker.example"}}, nil); w.Code != http.StatusMisdirectedRequest {
		t.Errorf("foreign host with the token = %d, want 421", w.Code)
	}
}

// TestTokenEventStream: the event stream over a real connection needs the
// token too, and streams with the cookie.
func TestTokenEventStream(t *testing.T) {
	const tok = "feedfacefeedfacefeedfacefeedface"
	f := newFake(t.TempDir())
	ts := httptest.NewUnstartedServer(nil)
	s := newTestServer(t, f, func(c *Config) { c.Hosts = []string{ts.Listener.Addr().String()}; c.Token = tok })
	ts.Config.Handler = s
	ts.Start()
	t.Cleanup(ts.Close)
	resp, err := http.Get(ts.URL + "/events")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("GET /events without the token = %d, want 401", resp.StatusCode)
	}
	if n := f.Subscribers(); n != 0 {
		t.Errorf("%d subscribers after a refused stream", n)
	}
	g, _ := NewTokenGate(tok)
	req, _ := http.NewRequest("GET", ts.URL+"/events?html=0", nil)
	req.AddCookie(&http.Cookie{Name: g.CookieName(), Value: tok})
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	line, _ := bufio.NewReader(resp.Body).ReadString('\n')
	if resp.StatusCode != 200 || !strings.HasPrefix(line, "retry:") {
		t.Errorf("GET /events with the cookie = %d, first line %q; want 200 and the stream", resp.StatusCode, line)
	}
}

// TestEventsOutliveTimeouts: the event stream lives past every timeout of
// the server (read, write, idle), here shortened to 200 ms.
func TestEventsOutliveTimeouts(t *testing.T) {
	f := newFake(t.TempDir())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	host := ln.Addr().String()
	d := 200 * time.Millisecond
	srv := NewHTTPServer(newTestServer(t, f, func(c *Config) { c.Hosts = []string{host} }), Timeouts{ReadHeader: d, Read: d, Write: d, Idle: d})
	go srv.Serve(ln) // ends when srv is closed below
	t.Cleanup(func() { srv.Close() })

	st := openStream(t, "http://"+host, "?html=0")
	st.snapshot(t)
	time.Sleep(5 * d)
	f.Publish(Event{Lesson: "01-measure", State: LessonState{Status: Passed}})
	if le := st.lesson(t); le.Lesson != "01-measure" || le.Status != Passed {
		t.Errorf("event after the timeouts = %+v, want 01-measure passed", le)
	}
}
