package site

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/gotutor/tutor/checker"
	"github.com/gotutor/tutor/site/render"
)

// contentSecurityPolicy allows only the tutor's own scripts, styles, images
// and connections: no inline script, no request to any other origin. The
// only inline styles allowed are the <style> elements that render puts in
// its timeline SVGs, by hash.
func contentSecurityPolicy() string {
	var hashes strings.Builder
	probe := render.Timeline([]checker.Span{{Label: "probe", StartMS: 0, EndMS: 1, Outcome: "ok"}}, render.TimelineOptions{})
	for _, m := range styleElement.FindAllStringSubmatch(string(probe), -1) {
		sum := sha256.Sum256([]byte(m[1]))
		hashes.WriteString(" 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'")
	}
	return "default-src 'self'; script-src 'self'; style-src 'self'" + hashes.String() + "; " +
		"img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; " +
		"base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
}

var styleElement = regexp.MustCompile(`(?s)<style>(.*?)</style>`)

// secure wraps h with the local-server defences, in this order:
//
//  1. headers on every response, refusals included;
//  2. the Host header must be one the server listens on, which defeats DNS
//     rebinding (a hostile page whose name resolves to 127.0.0.1);
//  3. if the server has a token (it listens beyond loopback), the request
//     must carry it (see [TokenGate]); nothing else runs without it;
//  4. unsafe methods must come from the tutor's own pages, which defeats
//     cross-site request forgery: http.CrossOriginProtection reads
//     Sec-Fetch-Site and Origin.
//
// Pages are GET/HEAD only; the mux's method patterns refuse the rest.
func (s *Server) secure(h http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", s.csp)
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Cross-Origin-Opener-Policy", "same-origin")
		hd.Set("Cross-Origin-Resource-Policy", "same-origin")
		if !s.hosts[strings.ToLower(r.Host)] {
			refuse(w, http.StatusMisdirectedRequest, "tutor: refused: host "+quote(r.Host)+" is not this tutor (open http://"+s.cfg.Hosts[0]+"/)")
			return
		}
		if s.gate != nil && !s.gate.Admit(w, r) {
			refuse(w, http.StatusUnauthorized, tokenRefusal)
			return
		}
		if err := cop.Check(r); err != nil {
			refuse(w, http.StatusForbidden, "tutor: refused a request from another site: "+err.Error())
			return
		}
		if hasDotDot(r.URL.Path) || hasDotDot(r.URL.RawPath) {
			refuse(w, http.StatusBadRequest, "tutor: refused: the path "+quote(r.URL.EscapedPath())+" climbs out of its directory (\"..\")")
			return
		}
		h.ServeHTTP(w, r)
	})
}

// hasDotDot reports a ".." path segment, decoded or not. The mux would
// clean such a path and redirect; the tutor refuses it outright instead.
func hasDotDot(p string) bool {
	for _, seg := range strings.Split(p, "/") {
		if seg == ".." || strings.EqualFold(seg, "%2e%2e") || strings.EqualFold(seg, ".%2e") || strings.EqualFold(seg, "%2e.") {
			return true
		}
	}
	return false
}

// refuse writes a one-line plain-text reason.
func refuse(w http.ResponseWriter, code int, reason string) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	w.Write([]byte(reason + "\n"))
}

// quote quotes a client-supplied value for a one-line message.
func quote(s string) string {
	if len(s) > 80 {
		s = s[:80]
	}
	return strconv.Quote(s)
}
