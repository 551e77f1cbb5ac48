package site

import (
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"time"
)

// lessonEvent is the data of an SSE "lesson" event: enough for the map to
// update a status and for a lesson page to swap its result panel in place.
type lessonEvent struct {
	Lesson      string `json:"lesson"`
	Verdict     string `json:"verdict"`      // idle, checking, pass, fail, build-error, timeout, error
	VerdictText string `json:"verdict_text"` // the verdict's words, as the page shows them
	Status      string `json:"status"`       // not-started, failing, passed
	StatusText  string `json:"status_text"`
	HTML        string `json:"html,omitempty"` // the result panel's inner HTML
	// The hints panel's inner HTML and key, with HTML: a hint revealed in
	// another tab shows without a reload.
	HintsHTML  string `json:"hints_html,omitempty"`
	HintsKey   string `json:"hints_key,omitempty"`
	HintsShown int    `json:"hints_shown"`
	Attempts   int    `json:"attempts"`
	Assisted   bool   `json:"assisted"`
}

// noticeEvent is the data of an SSE "notice" event.
type noticeEvent struct {
	Notice string `json:"notice"`
}

// handleEvents streams Server-Sent Events: first the state of every lesson
// and the notice, at once (so a page that reconnects is up to date without
// replay), then each change as the Backend publishes it, and a comment
// every heartbeat so dead connections are noticed.
//
// Query parameters choose which lessons carry the rendered result panel:
// ?lesson=ID for that lesson only (a lesson page), ?html=0 for none (the
// map); by default every lesson event carries it.
//
// The stream ends when the client goes away (the request's context), or
// when the Backend closes the subscription.
func (s *Server) handleEvents(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	withHTML := func(string) bool { return q.Get("html") != "0" }
	if id := q.Get("lesson"); id != "" {
		p, err := s.lesson(id)
		if err != nil {
			refuse(w, http.StatusNotFound, "tutor: "+err.Error())
			return
		}
		withHTML = func(l string) bool { return l == p.L.ID }
	}

	ctx := r.Context()
	// Subscribe before taking the snapshot, so that no change can fall
	// between the two.
	events := s.cfg.Backend.Subscribe(ctx)
	snap := s.cfg.Backend.Snapshot()

	rc := http.NewResponseController(w)
	// The stream lives as long as the page; opt it out of the server's
	// write timeout.
	_ = rc.SetWriteDeadline(time.Time{})
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)

	fmt.Fprint(w, "retry: 1000\n\n")
	for _, p := range s.pages {
		s.writeLesson(w, p, snap.Lessons[p.L.ID], snap.Workspace, withHTML(p.L.ID))
	}
	writeEvent(w, "notice", noticeEvent{Notice: snap.Notice})
	if err := rc.Flush(); err != nil {
		return
	}

	tick := time.NewTicker(s.heartbeat)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-events:
			if !ok {
				return
			}
			if ev.Lesson == "" {
				writeEvent(w, "notice", noticeEvent{Notice: ev.Notice})
				break
			}
			p, ok := s.byID[ev.Lesson]
			if !ok {
				log.Printf("site: event for unknown lesson %q", ev.Lesson)
				continue
			}
			s.writeLesson(w, p, ev.State, snap.Workspace, withHTML(p.L.ID))
		case <-tick.C:
			fmt.Fprint(w, ": ping\n\n")
		}
		if err := rc.Flush(); err != nil {
			return
		}
	}
}

// writeLesson writes one "lesson" event.
func (s *Server) writeLesson(w io.Writer, p *lessonPage, st LessonState, workspace string, withHTML bool) {
	ev := lessonEvent{
		Lesson: p.L.ID, Verdict: verdictOf(st), VerdictText: stateText(st), Status: statusOf(st), StatusText: statusText(st),
		HintsShown: st.HintsShown, Attempts: st.Attempts, Assisted: st.Assisted,
	}
	if withHTML {
		html, err := s.execute("fragments", "result", s.resultView(p, st, workspace))
		if err != nil {
			log.Print(err)
			html = `<p class="result-error">The result could not be drawn; reload the page.</p>`
		}
		ev.HTML = html
		hv := hintsOf(p, st)
		if hints, err := s.execute("fragments", "hints", hv); err == nil {
			ev.HintsHTML, ev.HintsKey = hints, hv.Key()
		} else {
			log.Print(err)
		}
	}
	writeEvent(w, "lesson", ev)
}

// writeEvent writes one event. JSON has no raw newlines, so one data line
// carries it.
func writeEvent(w io.Writer, name string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		log.Printf("site: encode %s event: %v", name, err)
		return
	}
	fmt.Fprintf(w, "event: %s\ndata: %s\n\n", name, b)
}
