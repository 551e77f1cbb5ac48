package site

import (
	"fmt"
	"net/http"
)

// HelpAsker is a [Backend] of a learner who joined a class (`tutor join`).
// The lesson page then shows an "Ask for help" button; nothing else of the
// page changes, and a backend that is not in a class does not implement it.
type HelpAsker interface {
	// ClassServer is the address of the class server, "" when the learner
	// is in no class (then the button is not shown).
	ClassServer() string
	// AskForHelp queues the lesson's current files and last result for
	// the instructor. It must not wait on the network.
	AskForHelp(id string) error
}

// classOf returns the class server's address, "" if none.
func (s *Server) classOf() string {
	if h, ok := s.cfg.Backend.(HelpAsker); ok {
		return h.ClassServer()
	}
	return ""
}

// handleAskHelp sends the lesson's files and last result to the class's
// instructor: only when the learner presses the button.
func (s *Server) handleAskHelp(w http.ResponseWriter, r *http.Request) {
	p := s.apiLesson(w, r)
	if p == nil {
		return
	}
	h, ok := s.cfg.Backend.(HelpAsker)
	if !ok || h.ClassServer() == "" {
		s.fail(w, r, http.StatusConflict, fmt.Errorf("ask for help on %s: this tutor is not in a class (join one with `tutor join URL`)", p.L.ID))
		return
	}
	if err := h.AskForHelp(p.L.ID); err != nil {
		s.fail(w, r, http.StatusConflict, fmt.Errorf("ask for help on %s: %w", p.L.ID, err))
		return
	}
	s.done(w, r, p, "help", reply{Message: flashes["help"]})
}
