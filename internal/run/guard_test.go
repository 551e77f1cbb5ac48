package run

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestGuard(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("served")) })
	h := Guard([]string{"127.0.0.1:8080", "localhost:8080"}, ok)
	for _, tc := range []struct {
		name, method, host, site string
		want                     int
	}{
		{"loopback", "GET", "127.0.0.1:8080", "", 200},
		{"localhost, any case", "POST", "LocalHost:8080", "", 200},
		{"same-origin post", "POST", "127.0.0.1:8080", "same-origin", 200},
		{"rebinding", "GET", "evil.example:8080", "", http.StatusMisdirectedRequest},
		{"other port", "GET", "127.0.0.1:9090", "", http.StatusMisdirectedRequest},
		{"cross-site post", "POST", "127.0.0.1:8080", "cross-site", http.StatusForbidden},
		{"cross-site get is a read", "GET", "127.0.0.1:8080", "cross-site", 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(tc.method, "http://"+tc.host+"/invoice", nil)
			r.Host = tc.host
			if tc.site != "" {
				r.Header.Set("Sec-Fetch-Site", tc.site)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tc.want {
				t.Errorf("%s %s from %q: %d %q, want %d", tc.method, tc.host, tc.site, w.Code, w.Body.String(), tc.want)
			}
		})
	}
}
