package benchmarks

import (
	"net/http"
	"testing"
	"time"

	"github.com/authwire/authwire/breaker"
	"github.com/authwire/authwire/ratelimit"
	"github.com/authwire/authwire/roundtripper"
	"github.com/authwire/authwire/tokensource"
)

// headerOnly is the least a token transport can do: copy the request, give the
// copy its own headers and set Authorization. Every token stack pays this,
// oauth2.Transport included, and so does the server, which parses one more
// header.
type headerOnly struct{ base http.RoundTripper }

func (h headerOnly) RoundTrip(req *http.Request) (*http.Response, error) {
	c := new(http.Request)
	*c = *req
	c.Header = req.Header.Clone()
	c.Header["Authorization"] = []string{"Bearer tok-static"}
	return h.base.RoundTrip(c)
}

// busy is headerOnly after a busy wait of d on the calling goroutine: what a
// known amount of the client's CPU time costs in this benchmark.
type busy struct {
	d    time.Duration
	base http.RoundTripper
}

func (b busy) RoundTrip(req *http.Request) (*http.Response, error) {
	for t := time.Now(); time.Since(t) < b.d; {
	}
	return b.base.RoundTrip(req)
}

// A layers is one row of BenchmarkLayers: which layers of the stack it has.
type layers struct {
	name                          string
	retry, limit, breaker, signer bool
}

// stack builds the row's stack on base with a static token. With retry off the
// token layer is used alone (roundtripper.Token), as New always adds retry.
func (l layers) stack(tb testing.TB, srvURL string, base http.RoundTripper) http.RoundTripper {
	tb.Helper()
	hosts, err := roundtripper.HostsOf(srvURL)
	if err != nil {
		tb.Fatal(err)
	}
	ts := tokensource.New(newStaticTokens())
	tb.Cleanup(func() { ts.Close() })
	if !l.retry {
		return &roundtripper.Token{Source: ts, Hosts: hosts, Base: base}
	}
	cfg := roundtripper.Config{Hosts: hosts, Token: ts, Base: base}
	if l.limit {
		cfg.Limiter = ratelimit.NewAdaptive(ratelimit.Config{Rate: 1e9, Burst: 1 << 20})
	}
	if l.breaker {
		cfg.Breakers = breaker.NewSet(breaker.Config{})
	}
	if l.signer {
		cfg.Signer = nopSigner
	}
	rt, err := roundtripper.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return rt
}

// BenchmarkLayers shows what each layer adds to a GET: every row is a stack
// measured against the bare transport as BenchmarkPaired measures it
// (alternated request by request, ABBA; ratio is the quotient of the medians),
// and each row names every layer it has. "header" is the floor of any token
// transport (headerOnly); "header+busy200ns" adds 200 ns of busy CPU before the
// request, to read the other rows against; the last row is the framework row of
// BenchmarkPaired (authwire-full). All use the same limiter, breaker and static
// token as BenchmarkPaired.
func BenchmarkLayers(b *testing.B) {
	srv := newServer(b, trivialHandler())
	url := srv.URL + "/api/call"
	type row struct {
		name  string
		stack func(tb testing.TB, base http.RoundTripper) http.RoundTripper
	}
	rows := []row{
		{"header", func(_ testing.TB, base http.RoundTripper) http.RoundTripper { return headerOnly{base} }},
		{"header+busy200ns", func(_ testing.TB, base http.RoundTripper) http.RoundTripper {
			return busy{200 * time.Nanosecond, headerOnly{base}}
		}},
	}
	for _, l := range []layers{
		{name: "token"},
		{name: "retry+token", retry: true},
		{name: "retry+limiter+token", retry: true, limit: true},
		{name: "retry+breaker+token", retry: true, breaker: true},
		{name: "retry+limiter+breaker+token", retry: true, limit: true, breaker: true},
		{name: "retry+limiter+breaker+token+signer", retry: true, limit: true, breaker: true, signer: true},
	} {
		rows = append(rows, row{l.name, func(tb testing.TB, base http.RoundTripper) http.RoundTripper { return l.stack(tb, srv.URL, base) }})
	}
	for _, r := range rows {
		b.Run("layers="+r.name, func(b *testing.B) {
			bare := &http.Client{Transport: baseTransport(b)}
			stack := &http.Client{Transport: r.stack(b, baseTransport(b))}
			for _, cl := range []*http.Client{bare, stack} { // warm the connections
				if err := do(cl, http.MethodGet, url, nil); err != nil {
					b.Fatal(err)
				}
			}
			pairedTime(b, bare, stack, http.MethodGet, url, nil)
		})
	}
}

// TestLayers checks that every row of BenchmarkLayers gets the trivial handler's
// success, and that the rows with a token send it.
func TestLayers(t *testing.T) {
	var auth []string
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth = append(auth, r.Header.Get("Authorization"))
		trivialHandler().ServeHTTP(w, r)
	}))
	for _, l := range []layers{{name: "token"}, {name: "full", retry: true, limit: true, breaker: true, signer: true}} {
		cl := &http.Client{Transport: l.stack(t, srv.URL, baseTransport(t))}
		if err := do(cl, http.MethodGet, srv.URL+"/api/call", nil); err != nil {
			t.Fatalf("%s: %v", l.name, err)
		}
	}
	cl := &http.Client{Transport: busy{time.Microsecond, headerOnly{baseTransport(t)}}}
	if err := do(cl, http.MethodGet, srv.URL+"/api/call", nil); err != nil {
		t.Fatal(err)
	}
	for i, a := range auth {
		if a != "Bearer tok-static" {
			t.Fatalf("request %d carried Authorization %q", i, a)
		}
	}
}
