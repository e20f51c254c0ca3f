package roundtripper

import (
	"net/http"
	"strings"
)

// SafeHeaders is the default allow-list of headers [RedactHeaders] shows as they
// are: generic HTTP headers, none of which can carry a credential. It names no
// vendor header: each vendor declares its own harmless headers (Config.SafeHeaders,
// provider.Spec.SafeHeaders), which are added to this list.
var SafeHeaders = []string{
	"Accept", "Accept-Encoding", "Accept-Language", "Content-Type", "Content-Length", "Content-Encoding",
	"Date", "Retry-After", "User-Agent", "Server", "Connection",
	"X-Request-Id", "Traceparent", "Transfer-Encoding", "Location", "Vary", "Cache-Control",
}

// RedactedValue replaces the value of every header not on the allow-list.
const RedactedValue = "REDACTED"

// RedactHeaders returns a copy of h for logging in which every header not in
// allow (or [SafeHeaders] when allow is empty) reads REDACTED: an allow-list,
// because a deny-list forgets the next vendor's "x_session".
func RedactHeaders(h http.Header, allow ...string) http.Header {
	if len(allow) == 0 {
		allow = SafeHeaders
	}
	out := make(http.Header, len(h))
	for name, vals := range h {
		safe := false
		for _, a := range allow {
			if strings.EqualFold(a, name) {
				safe = true
				break
			}
		}
		if safe {
			out[name] = append([]string(nil), vals...)
			continue
		}
		red := make([]string, len(vals))
		for i := range red {
			red[i] = RedactedValue
		}
		out[name] = red
	}
	return out
}
