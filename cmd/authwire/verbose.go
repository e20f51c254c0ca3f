package main

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
)

// harmless are the headers -v prints as they are (compared case-insensitively).
// Everything else — accessKey, sign, token_id, Authorization, x-agentid,
// x-signature, cookies, whatever a vendor adds tomorrow — is printed REDACTED:
// an allow-list cannot leak a header nobody thought of.
var harmless = []string{
	"accept", "accept-encoding", "action", "algorithm", "biztype", "cache-control", "connection",
	"content-length", "content-type", "date", "language", "retry-after", "server",
	"transfer-encoding", "ts", "user-agent", "vary", "x-nonce", "x-request-id", "x-timestamp",
}

func isHarmless(name string) bool { return slices.Contains(harmless, strings.ToLower(name)) }

// verboseTransport is the base transport for -v: it prints every attempt on the
// wire (logins and token calls included) with its headers redacted.
type verboseTransport struct {
	base http.RoundTripper
	mu   sync.Mutex
	out  io.Writer
}

func (t *verboseTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "> %s %s %s\n", req.Method, req.URL.Path, req.Proto)
	fmt.Fprintf(&b, "> host: %s\n", req.URL.Host)
	writeHeaders(&b, "> ", req.Header)
	base := t.base
	if base == nil {
		base = http.DefaultTransport
	}
	resp, err := base.RoundTrip(req)
	// The exchange is printed as one block, so that parallel calls do not
	// interleave their lines.
	if err != nil {
		fmt.Fprintf(&b, "* %s\n", oneLine(err.Error()))
		t.print(b.String())
		return nil, err
	}
	fmt.Fprintf(&b, "< %s %s\n", resp.Proto, resp.Status)
	writeHeaders(&b, "< ", resp.Header)
	t.print(b.String())
	return resp, nil
}

func (t *verboseTransport) print(s string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	io.WriteString(t.out, s)
}

func writeHeaders(b *strings.Builder, prefix string, h http.Header) {
	names := make([]string, 0, len(h))
	for k := range h {
		names = append(names, k)
	}
	slices.SortFunc(names, func(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) })
	for _, k := range names {
		for _, v := range h[k] {
			if !isHarmless(k) {
				v = "REDACTED"
			}
			fmt.Fprintf(b, "%s%s: %s\n", prefix, k, v)
		}
	}
}
