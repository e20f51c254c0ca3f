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

// Allows reports whether u's origin is one of h.
func (h Hosts) Allows(u *url.URL) bool {
	if u == nil {
		return false
	}
	o := origin(u)
	for _, x := range h {
		if x == o {
			return true
		}
		if pu, err := url.Parse(x); err == nil && origin(pu) == o {
			return true
		}
	}
	return false
}

func origin(u *url.URL) string {
	scheme := strings.ToLower(u.Scheme)
	host, port := u.Hostname(), u.Port()
	if (scheme == "https" && port == "443") || (scheme == "http" && port == "80") {
		port = ""
	}
	host = strings.ToLower(host)
	if port != "" {
		host = net.JoinHostPort(host, port)
	} else if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	return scheme + "://" + host
}
