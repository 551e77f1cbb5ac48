package site

// The lab pages: /lab/NAME shows a lab's knobs, a Run button and a chart
// that fills in as the measurements stream back from POST
// /api/lab/NAME/run, one JSON object a line.

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/gotutor/tutor/internal/lab"
)

// LabRunner runs the built-in experiments for the lab pages. The
// orchestrator implements it; it decides when a lab may run (one at a
// time, never during a check).
type LabRunner interface {
	// RunLab runs the lab called name with knobs (name → text), calling
	// emit with each event from the calling goroutine. An error before the
	// first emit means the run did not start: a [*lab.KnobError] for knobs
	// it cannot use, any other error for a refusal ("a lab is already
	// running"). An error after it says why the run stopped.
	RunLab(ctx context.Context, name string, knobs map[string]string, emit func(lab.Event)) error
}

// labView is what the lab page shows.
type labView struct {
	Spec  lab.Spec
	Other []lab.Spec // the other labs, for the links under the page
	Ready bool       // a runner is configured
	// Seed is the blog's own table as JSON (async-vs-sync only), drawn
	// before any run.
	Seed string
}

// labWriteWindow bounds a lab's response: the longest run a lab accepts,
// with room for a busy machine.
const labWriteWindow = 3*lab.MaxRunTime + 30*time.Second

// labStopped is the last line of a run that ended early.
type labStopped struct {
	Kind    string `json:"kind"` // "stopped"
	Message string `json:"message"`
}

func (s *Server) handleLab(w http.ResponseWriter, r *http.Request) {
	spec, ok := lab.Find(r.PathValue("name"))
	if !ok {
		s.writeError(w, http.StatusNotFound, "No such lab", "There is no lab called "+quote(r.PathValue("name"))+". The course map lists the labs.")
		return
	}
	v := &labView{Spec: spec, Ready: s.cfg.Labs != nil}
	if spec.Name == "async-vs-sync" {
		rows, unit := lab.SeedTable()
		b, err := json.Marshal(lab.Start{Lab: spec.Name, Seed: rows, SeedUnit: unit})
		if err == nil {
			v.Seed = string(b)
		}
	}
	for _, o := range lab.Specs() {
		if o.Name != spec.Name {
			v.Other = append(v.Other, o)
		}
	}
	snap := s.cfg.Backend.Snapshot()
	s.writePage(w, http.StatusOK, "lab", &page{Title: "Lab: " + spec.Title, Notice: snap.Notice, Lab: v})
}

// handleLabRun runs a lab and streams its events as JSON lines
// (application/x-ndjson). Refusals come before any line, as a status and a
// one-line reason: 400 for a knob the lab cannot use, 409 while another
// run or a check is in progress, 503 if this tutor runs no labs. A run
// that stops early ends with {"kind":"stopped","message":"…"}.
func (s *Server) handleLabRun(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	spec, ok := lab.Find(name)
	if !ok {
		refuse(w, http.StatusNotFound, "tutor: no lab called "+quote(name))
		return
	}
	if s.cfg.Labs == nil {
		refuse(w, http.StatusServiceUnavailable, "tutor: this tutor runs no labs")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
	if err := r.ParseForm(); err != nil {
		refuse(w, http.StatusBadRequest, "tutor: the lab's settings could not be read: "+err.Error())
		return
	}
	knobs := map[string]string{}
	for k, vs := range r.PostForm {
		if len(vs) > 0 {
			knobs[k] = vs[0]
		}
	}

	rc := http.NewResponseController(w)
	enc := json.NewEncoder(w)
	started := false
	emit := func(e lab.Event) {
		if !started {
			started = true
			_ = rc.SetWriteDeadline(time.Now().Add(labWriteWindow))
			h := w.Header()
			h.Set("Content-Type", "application/x-ndjson; charset=utf-8")
			h.Set("Cache-Control", "no-store")
			h.Set("X-Accel-Buffering", "no")
			w.WriteHeader(http.StatusOK)
		}
		if err := enc.Encode(e); err != nil {
			return // the page went away; the request's context stops the run
		}
		_ = rc.Flush()
	}
	err := s.cfg.Labs.RunLab(r.Context(), spec.Name, knobs, emit)
	switch {
	case !started && lab.IsKnobError(err):
		refuse(w, http.StatusBadRequest, "tutor: "+err.Error())
	case !started && err != nil:
		refuse(w, http.StatusConflict, "tutor: "+err.Error())
	case !started:
		refuse(w, http.StatusInternalServerError, "tutor: the lab ended without a result")
	case err != nil:
		_ = enc.Encode(labStopped{Kind: "stopped", Message: err.Error()})
		_ = rc.Flush()
	}
}
