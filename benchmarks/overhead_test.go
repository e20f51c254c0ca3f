package benchmarks

import (
	"net/http"
	"testing"
)

// A contender is one client stack of the overhead benchmark.
type contender struct {
	name   string
	path   string // the URL path; the NXCloud signer needs a known one
	client func(tb testing.TB, srvURL string, base *http.Transport) *http.Client
}

// contenders returns the stacks to compare: the bare transport, the two
// libraries users stack by hand, and the full authwire stack per vendor
// (limiter + breaker + retry + re-auth + the vendor's signer and/or token).
// "authwire-full" is the same stack with a static token and a signer that does
// nothing: the framework's own cost, token layer included, without any vendor's
// cryptography.
func contenders() []contender {
	cs := []contender{
		{"bare", "/api/call", func(_ testing.TB, _ string, base *http.Transport) *http.Client {
			return &http.Client{Transport: base}
		}},
		{"oauth2", "/api/call", func(_ testing.TB, _ string, base *http.Transport) *http.Client {
			return &http.Client{Transport: oauth2Transport(base)}
		}},
		{"retryablehttp", "/api/call", func(_ testing.TB, _ string, base *http.Transport) *http.Client {
			return retryableClient(base).StandardClient()
		}},
		{"authwire-full", "/api/call", func(tb testing.TB, srvURL string, base *http.Transport) *http.Client {
			return &http.Client{Transport: authwireStack(tb, frameworkStack, srvURL, base)}
		}},
	}
	for _, v := range vendors {
		cs = append(cs, contender{"authwire-" + v.name, v.path, func(tb testing.TB, srvURL string, base *http.Transport) *http.Client {
			return &http.Client{Transport: authwireStack(tb, v, srvURL, base)}
		}})
	}
	return cs
}

// BenchmarkOverhead measures the client-side cost per request of each stack over
// keep-alive loopback against the same trivial handler: a GET and a 1 KB JSON
// POST. Every contender gets its own transport with the same settings.
func BenchmarkOverhead(b *testing.B) {
	srv := newServer(b, trivialHandler())
	reqs := []struct {
		name   string
		method string
		body   []byte
	}{
		{"GET", http.MethodGet, nil},
		{"POST1KB", http.MethodPost, payload},
	}
	for _, r := range reqs {
		for _, c := range contenders() {
			b.Run("req="+r.name+"/via="+c.name, func(b *testing.B) {
				client := c.client(b, srv.URL, baseTransport(b))
				url := srv.URL + c.path
				if err := do(client, r.method, url, r.body); err != nil { // warm the connection
					b.Fatal(err)
				}
				b.ReportAllocs()
				for b.Loop() {
					if err := do(client, r.method, url, r.body); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// TestContenders checks that every stack of the overhead benchmark gets the
// trivial handler's success through, for both requests.
func TestContenders(t *testing.T) {
	srv := newServer(t, trivialHandler())
	for _, c := range contenders() {
		t.Run(c.name, func(t *testing.T) {
			client := c.client(t, srv.URL, baseTransport(t))
			for _, body := range [][]byte{nil, payload} {
				method := http.MethodGet
				if body != nil {
					method = http.MethodPost
				}
				if err := do(client, method, srv.URL+c.path, body); err != nil {
					t.Errorf("%s: %v", method, err)
				}
			}
		})
	}
}
