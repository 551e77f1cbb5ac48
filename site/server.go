package site

import (
	"net/http"
	"time"
)

// Timeouts bound how long a connection may hold the server: a client that
// sends its request slowly, or keeps a connection open doing nothing, is
// cut off. The event stream is the one exception: handleEvents lifts its
// own read and write deadlines, since it lives as long as the page.
type Timeouts struct {
	ReadHeader time.Duration // to read a request's headers
	Read       time.Duration // to read a whole request, body included
	Write      time.Duration // from the end of the headers to the end of the response
	Idle       time.Duration // a keep-alive connection waiting for its next request
}

// DefaultTimeouts are generous for a page on the same machine or the same
// room's network, and close a stuck connection well within 30 s.
func DefaultTimeouts() Timeouts {
	return Timeouts{ReadHeader: 5 * time.Second, Read: 10 * time.Second, Write: 30 * time.Second, Idle: 10 * time.Second}
}

// NewHTTPServer returns an http.Server for h with the timeouts set.
func NewHTTPServer(h http.Handler, t Timeouts) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: t.ReadHeader,
		ReadTimeout:       t.Read,
		WriteTimeout:      t.Write,
		IdleTimeout:       t.Idle,
	}
}
