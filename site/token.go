package site

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
)

// NewToken returns a random token for a [TokenGate]: 32 bytes from
// crypto/rand, hex-encoded.
func NewToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

// TokenGate admits only requests that carry a secret token, as Jupyter does
// for a server other machines can reach. The token arrives once in the URL
// (?token=…, the address the tutor prints); the gate then sets it as a
// cookie (HttpOnly, SameSite=Strict), so every later request of that
// browser carries it: pages, the event stream, static files and the
// buttons' POSTs. Tools may send "Authorization: Bearer TOKEN" instead.
//
// It is a piece of its own so that other servers of the tutor (a class
// dashboard) can put the same gate in front of theirs.
type TokenGate struct {
	token  []byte
	cookie string // its name; derived from the token, so two tutors on one host do not overwrite each other's
}

// NewTokenGate returns a gate for token, which must not be empty.
func NewTokenGate(token string) (*TokenGate, error) {
	if token == "" {
		return nil, errors.New("site: empty token")
	}
	sum := sha256.Sum256([]byte(token))
	return &TokenGate{token: []byte(token), cookie: "tutor_token_" + hex.EncodeToString(sum[:4])}, nil
}

// CookieName is the name of the cookie the gate sets and reads.
func (g *TokenGate) CookieName() string { return g.cookie }

// Admit reports whether r carries the token. A request whose URL carries
// it gets the cookie set on w, so that the pages it leads to need no token
// in their URLs.
func (g *TokenGate) Admit(w http.ResponseWriter, r *http.Request) bool {
	if q := r.URL.Query().Get("token"); q != "" && g.match(q) {
		if c, err := r.Cookie(g.cookie); err != nil || !g.match(c.Value) {
			http.SetCookie(w, &http.Cookie{
				Name: g.cookie, Value: string(g.token), Path: "/",
				HttpOnly: true, SameSite: http.SameSiteStrictMode,
			})
		}
		return true
	}
	if c, err := r.Cookie(g.cookie); err == nil && g.match(c.Value) {
		return true
	}
	if a, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok && g.match(strings.TrimSpace(a)) {
		return true
	}
	return false
}

// tokenRefusal is the body of a 401.
const tokenRefusal = "tutor: this tutor needs its token: open the address it printed in its terminal (it ends in ?token=…)"

// match compares in constant time.
func (g *TokenGate) match(s string) bool {
	return subtle.ConstantTimeCompare([]byte(s), g.token) == 1
}

// Wrap returns h behind the gate: a request without the token gets 401 and
// a one-line reason, and h never sees it.
func (g *TokenGate) Wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !g.Admit(w, r) {
			refuse(w, http.StatusUnauthorized, tokenRefusal)
			return
		}
		h.ServeHTTP(w, r)
	})
}
