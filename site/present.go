package site

// Presenter mode's demo runs and the Fire panel. Both are optional: a
// Backend that also implements [Presenter] gets them; the page shows them
// only then.

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gotutor/tutor/checker"
	"github.com/gotutor/tutor/site/render"
)

// Presenter is what demo runs and the Fire panel need from the backend.
type Presenter interface {
	// Demo runs the lesson's checks on one of its versions ("starter",
	// "solution", "alt-…", "wrong-…") without touching the learner's
	// files, after every save waiting to be checked. A solution needs the
	// lesson passed, or force (which marks it assisted).
	Demo(ctx context.Context, id, variant string, force bool) (*checker.Result, error)
	// Fire serves the learner's current code for the lesson on loopback
	// and sends n requests to route ("" → the lesson's own) at once.
	Fire(ctx context.Context, id, route string, n int) (FireResult, error)
	// FireRoute is the lesson's own route for the Fire panel, "" if the
	// lesson has no server.
	FireRoute(id string) string
}

// FireResult is what one press of Fire measured.
type FireResult struct {
	Addr  string         // the loopback address serving the learner's code
	Route string         // the path requested
	N     int            // requests sent at once
	Spans []checker.Span // one per request, ms from the first send
}

// MaxFire is the most requests the Fire panel sends at once.
const MaxFire = 200

// presenter returns the backend's Presenter, or nil.
func (s *Server) presenter() Presenter {
	p, _ := s.cfg.Backend.(Presenter)
	return p
}

// variantView is one version of a lesson a demo can run.
type variantView struct {
	Name, Label, Why string
	Passes           bool
}

// variantLabel names a version for the demo buttons.
func variantLabel(name string) string {
	switch {
	case name == "starter":
		return "Starter"
	case name == "solution":
		return "Solution"
	case strings.HasPrefix(name, "alt-"):
		return "Also right: " + strings.ReplaceAll(strings.TrimPrefix(name, "alt-"), "-", " ")
	case strings.HasPrefix(name, "wrong-"):
		return "Wrong: " + strings.ReplaceAll(strings.TrimPrefix(name, "wrong-"), "-", " ")
	}
	return name
}

func variantsOf(p *lessonPage) []variantView {
	var out []variantView
	for _, v := range p.L.Variants {
		out = append(out, variantView{Name: v.Name, Label: variantLabel(v.Name), Why: v.Why, Passes: v.Expect == "pass"})
	}
	return out
}

// demoSide is one half of a demo: a version, its verdict and its chart.
type demoSide struct {
	Label, Verdict, VerdictText, Summary string
	Chart                                template.HTML
}

// demoView is the before/after pair the demo panel shows.
type demoView struct {
	Check         string // the check both charts show
	Before, After demoSide
}

// handleDemo runs two versions of a lesson and answers the before/after
// panel: both charts show the same check on one time scale.
func (s *Server) handleDemo(w http.ResponseWriter, r *http.Request) {
	p := s.apiLesson(w, r)
	if p == nil {
		return
	}
	pr := s.presenter()
	if pr == nil {
		s.fail(w, r, http.StatusNotFound, errors.New("demo runs are not available here"))
		return
	}
	before, after := r.PostFormValue("before"), r.PostFormValue("after")
	force := r.PostFormValue("force") == "1"
	for _, v := range []string{before, after} {
		if p.L.Variant(v) == nil {
			s.fail(w, r, http.StatusBadRequest, fmt.Errorf("lesson %s has no version %s", p.L.ID, quote(v)))
			return
		}
	}
	ctx, cancel := context.WithTimeout(r.Context(), 25*time.Second)
	defer cancel()
	var res [2]*checker.Result
	for i, v := range []string{before, after} {
		rr, err := pr.Demo(ctx, p.L.ID, v, force)
		if err != nil {
			s.fail(w, r, http.StatusConflict, fmt.Errorf("demo of %s: %w", v, err))
			return
		}
		res[i] = rr
	}
	html, err := s.execute("fragments", "demo", demoOf(res[0], res[1], variantLabel(before), variantLabel(after)))
	if err != nil {
		s.fail(w, r, http.StatusInternalServerError, err)
		return
	}
	if !wantsJSON(r) {
		s.panelPage(w, p, "Demo: before and after", html)
		return
	}
	writeJSON(w, http.StatusOK, reply{OK: true, Demo: html})
}

// demoOf lays out two results side by side: the chart of the same check
// (the first that fails in either, else the first with a timeline), both
// drawn up to the later of the two ends.
func demoOf(a, b *checker.Result, la, lb string) *demoView {
	check := a.TimelineCheck
	if check == "" || (a.Verdict == checker.Pass && b.TimelineCheck != "" && b.Verdict != checker.Pass) {
		check = b.TimelineCheck
	}
	spansOf := func(r *checker.Result) []checker.Span {
		for _, c := range r.Checks {
			if c.Name == check && len(c.Timeline) > 0 {
				return c.Timeline
			}
		}
		if r.TimelineCheck == check {
			return r.Timeline
		}
		return nil
	}
	sa, sb := spansOf(a), spansOf(b)
	until := 0.0
	for _, ss := range [][]checker.Span{sa, sb} {
		for _, sp := range ss {
			until = max(until, sp.EndMS)
		}
	}
	title := check
	for _, c := range a.Checks {
		if c.Name == check && c.Title != "" {
			title = c.Title
		}
	}
	side := func(r *checker.Result, spans []checker.Span, label string) demoSide {
		// Narrow charts: two share a side panel, and a narrow viewBox is
		// shrunk less, so its labels stay legible on a projector.
		return demoSide{
			Label:       label,
			Verdict:     string(r.Verdict),
			VerdictText: verdictText(string(r.Verdict)),
			Summary:     r.Summary,
			Chart:       render.Timeline(spans, render.TimelineOptions{Title: label, Width: 400, UntilMS: until}),
		}
	}
	return &demoView{Check: title, Before: side(a, sa, la), After: side(b, sb, lb)}
}

// fireView is the Fire panel's answer.
type fireView struct {
	FireResult
	Chart            template.HTML
	Slowest, Fastest string
}

// handleFire sends the learner's chosen number of requests at once to the
// lesson's server and answers the timeline.
func (s *Server) handleFire(w http.ResponseWriter, r *http.Request) {
	p := s.apiLesson(w, r)
	if p == nil {
		return
	}
	pr := s.presenter()
	if pr == nil {
		s.fail(w, r, http.StatusNotFound, errors.New("the Fire panel is not available here"))
		return
	}
	n, err := strconv.Atoi(strings.TrimSpace(r.PostFormValue("n")))
	if err != nil || n < 1 || n > MaxFire {
		s.fail(w, r, http.StatusBadRequest, fmt.Errorf("fire: N must be a whole number from 1 to %d", MaxFire))
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 25*time.Second)
	defer cancel()
	fr, err := pr.Fire(ctx, p.L.ID, r.PostFormValue("route"), n)
	if err != nil {
		s.fail(w, r, http.StatusConflict, fmt.Errorf("fire at %s: %w", p.L.ID, err))
		return
	}
	v := fireView{FireResult: fr}
	fast, slow := 0.0, 0.0
	for i, sp := range fr.Spans {
		d := sp.EndMS - sp.StartMS
		if i == 0 || d < fast {
			fast = d
		}
		slow = max(slow, d)
	}
	v.Fastest, v.Slowest = number(fast, "ms"), number(slow, "ms")
	v.Chart = render.Timeline(fr.Spans, render.TimelineOptions{Title: fmt.Sprintf("%d requests to %s at once", n, fr.Route), Width: 560})
	html, err := s.execute("fragments", "fire", v)
	if err != nil {
		s.fail(w, r, http.StatusInternalServerError, err)
		return
	}
	if !wantsJSON(r) {
		s.panelPage(w, p, "Fire requests at your code", html)
		return
	}
	writeJSON(w, http.StatusOK, reply{OK: true, Fire: html})
}

// panelPage shows a panel's answer as a page, for a form posted without
// the page's script.
func (s *Server) panelPage(w http.ResponseWriter, p *lessonPage, heading, html string) {
	s.writePage(w, http.StatusOK, "panel", &page{Title: heading + " · " + p.L.Number + " · " + p.L.Title,
		Panel: &panelView{ID: p.L.ID, Number: p.L.Number, Heading: heading, HTML: template.HTML(html)}})
}
