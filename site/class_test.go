package site

import (
	"net/http"
	"strings"
	"sync"
	"testing"
)

// classFake is a backend in a class: it records help requests.
type classFake struct {
	*fakeBackend
	mu    sync.Mutex
	asked []string
}

func (c *classFake) ClassServer() string { return "http://192.0.2.1:7171" }
func (c *classFake) AskForHelp(id string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.asked = append(c.asked, id)
	return nil
}

func TestAskForHelpIsShownOnlyInAClassAndSendsOnlyWhenPressed(t *testing.T) {
	plain := newTestServer(t, newFake(t.TempDir()), nil)
	w := request(plain, "GET", "/lesson/02-event-loop", nil, nil)
	if w.Code != 200 || strings.Contains(w.Body.String(), "Ask for help") {
		t.Fatalf("a tutor in no class shows the button (or the page failed: %d)", w.Code)
	}
	if w := request(plain, "POST", "/api/lesson/02-event-loop/help", nil, nil); w.Code != http.StatusConflict {
		t.Fatalf("help without a class: %d", w.Code)
	}

	cf := &classFake{fakeBackend: newFake(t.TempDir())}
	s := newTestServer(t, cf, nil)
	w = request(s, "GET", "/lesson/02-event-loop", nil, nil)
	body := w.Body.String()
	if !strings.Contains(body, `action="/api/lesson/02-event-loop/help"`) || !strings.Contains(body, "192.0.2.1:7171") {
		t.Fatalf("the lesson page of a learner in a class has no Ask for help button")
	}
	if len(cf.asked) != 0 {
		t.Fatalf("showing the page asked for help: %v", cf.asked)
	}
	w = request(s, "POST", "/api/lesson/02-event-loop/help", http.Header{"Accept": {"application/json"}}, nil)
	if w.Code != 200 || !strings.Contains(w.Body.String(), "help queue") {
		t.Fatalf("ask: %d %s", w.Code, w.Body.String())
	}
	// From another site: refused, nothing sent.
	w = request(s, "POST", "/api/lesson/02-event-loop/help", http.Header{"Sec-Fetch-Site": {"cross-site"}, "Origin": {"https://evil.example"}}, nil)
	if w.Code != http.StatusForbidden {
		t.Fatalf("cross-site ask: %d", w.Code)
	}
	if len(cf.asked) != 1 || cf.asked[0] != "02-event-loop" {
		t.Fatalf("asked %v, want exactly one for 02-event-loop", cf.asked)
	}
}
