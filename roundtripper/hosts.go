package roundtripper

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
)

// Hosts is the set of origins (scheme://host[:port]) a credential belongs to. A
// credential is attached only to requests whose scheme and host match one of them
// exactly (default ports ignored, host case-insensitive).
type Hosts []string

// ErrNoHosts is returned by a credential transport configured without Hosts: it
// refuses to guess where its credential may go.
var ErrNoHosts = errors.New("roundtripper: no hosts configured for the credential")

// HostsOf returns the origins of the given base URLs.
func HostsOf(baseURLs ...string) (Hosts, error) {
	h := make(Hosts, 0, len(baseURLs))
	for _, s := range baseURLs {
		u, err := url.Parse(s)
		if err != nil || u.Scheme == "" || u.Host == "" {
			return nil, fmt.Errorf("roundtripper: %q is not an absolute URL", s)
		}
		h = append(h, origin(u))
	}
	return h, nil
}

// Allows reports whether u's origin is one of h. It does not allocate: it runs on
// every request.
func (h Hosts) Allows(u *url.URL) bool {
	if u == nil {
		return false
	}
	// The common case first: the URL spells its origin exactly as stored
	// (lower case, no default port), a comparison of bytes.
	for _, x := range h {
		if exactOrigin(x, u) {
			return true
		}
	}
	host, port := splitHostPort(u.Host)
	port = dropDefaultPort(u.Scheme, port)
	for _, x := range h {
		scheme, rest, ok := strings.Cut(x, "://")
		if !ok || !strings.EqualFold(scheme, u.Scheme) {
			continue
		}
		if i := strings.IndexAny(rest, "/?#"); i >= 0 {
			rest = rest[:i]
		}
		xh, xp := splitHostPort(rest)
		if strings.EqualFold(xh, host) && dropDefaultPort(scheme, xp) == port {
			return true
		}
	}
	return false
}

// exactOrigin reports whether x is "scheme://host" for u's scheme and host
// exactly as spelled.
func exactOrigin(x string, u *url.URL) bool {
	n := len(u.Scheme)
	return len(x) == n+3+len(u.Host) && x[:n] == u.Scheme && x[n:n+3] == "://" && x[n+3:] == u.Host
}

// splitHostPort splits "host:port", "[v6]:port", "host" or "[v6]" without
// allocating; the host comes back without brackets.
func splitHostPort(hp string) (host, port string) {
	if strings.HasPrefix(hp, "[") {
		if i := strings.IndexByte(hp, ']'); i > 0 {
			host, rest := hp[1:i], hp[i+1:]
			return host, strings.TrimPrefix(rest, ":")
		}
		return hp, ""
	}
	if i := strings.LastIndexByte(hp, ':'); i >= 0 && strings.IndexByte(hp[:i], ':') < 0 {
		return hp[:i], hp[i+1:]
	}
	return hp, ""
}

func dropDefaultPort(scheme, port string) string {
	if (strings.EqualFold(scheme, "https") && port == "443") || (strings.EqualFold(scheme, "http") && port == "80") {
		return ""
	}
	return port
}

func origin(u *url.URL) string {
	scheme := strings.ToLower(u.Scheme)
	host, port := u.Hostname(), u.Port()
	port = dropDefaultPort(scheme, port)
	host = strings.ToLower(host)
	if port != "" {
		host = net.JoinHostPort(host, port)
	} else if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	return scheme + "://" + host
}
