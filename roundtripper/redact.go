package roundtripper

import (
	"net/http"
	"strings"
)

// SafeHeaders is the default allow-list of headers [RedactHeaders] shows as they
// are: none of them can carry a credential.
var SafeHeaders = []string{
	"Accept", "Accept-Encoding", "Content-Type", "Content-Length", "Content-Encoding",
	"Date", "Language", "Retry-After", "User-Agent", "Server", "Connection",
	"X-Request-Id", "Traceparent", "BizType", "Action", "Algorithm", "Ts",
	"X-Agentid", "X-Timestamp", "Transfer-Encoding", "Location", "Vary", "Cache-Control",
}

// RedactedValue replaces the value of every header not on the allow-list.
const RedactedValue = "REDACTED"

// RedactHeaders returns a copy of h for logging in which every header not in
// allow (or [SafeHeaders] when allow is empty) reads REDACTED: an allow-list,
// because a deny-list forgets the next vendor's "token_id".
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
