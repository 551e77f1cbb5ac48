package run

import (
	"net/http"
	"strings"
)

// Guard wraps h with the defences of a local server that runs the learner's
// code: the Host header must be one of hosts (which defeats DNS rebinding, a
// hostile page whose name resolves to 127.0.0.1), and a state-changing
// request from another site's page is refused (http.CrossOriginProtection
// reads Sec-Fetch-Site and Origin; curl and the tutor's own Fire send
// neither, so they pass). Each refusal is one line.
func Guard(hosts []string, h http.Handler) http.Handler {
	allowed := make(map[string]bool, len(hosts))
	for _, hp := range hosts {
		allowed[strings.ToLower(hp)] = true
	}
	cop := http.NewCrossOriginProtection()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !allowed[strings.ToLower(r.Host)] {
			http.Error(w, "tutor run: refused: host "+r.Host+" is not this server", http.StatusMisdirectedRequest)
			return
		}
		if err := cop.Check(r); err != nil {
			http.Error(w, "tutor run: refused a request from another site: "+err.Error(), http.StatusForbidden)
			return
		}
		h.ServeHTTP(w, r)
	})
}
