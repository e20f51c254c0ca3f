package benchmarks

import (
	"math/rand/v2"
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

// A layers says which layers of the stack a row of BenchmarkLayers has.
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

// A layerRow is one row of BenchmarkLayers: a name that lists every layer it
// has, and the transport built on base.
type layerRow struct {
	name  string
	stack func(tb testing.TB, srvURL string, base http.RoundTripper) http.RoundTripper
}

// layerRows are BenchmarkLayers' rows after the bare transport: the floor of any
// token transport (headerOnly), the floor with 200 ns of busy CPU to read the
// others against, oauth2.Transport as the anchor, then the stack built up layer
// by layer to the framework row of BenchmarkPaired (authwire-full). All use the
// same limiter, breaker and static token as BenchmarkPaired.
func layerRows() []layerRow {
	rows := []layerRow{
		{"header", func(_ testing.TB, _ string, base http.RoundTripper) http.RoundTripper { return headerOnly{base} }},
		{"header+busy200ns", func(_ testing.TB, _ string, base http.RoundTripper) http.RoundTripper {
			return busy{200 * time.Nanosecond, headerOnly{base}}
		}},
		{"oauth2", func(_ testing.TB, _ string, base http.RoundTripper) http.RoundTripper { return oauth2Transport(base) }},
	}
	for _, l := range []layers{
		{name: "token"},
		{name: "retry+token", retry: true},
		{name: "retry+limiter+token", retry: true, limit: true},
		{name: "retry+breaker+token", retry: true, breaker: true},
		{name: "retry+limiter+breaker+token", retry: true, limit: true, breaker: true},
		{name: "retry+limiter+breaker+token+signer", retry: true, limit: true, breaker: true, signer: true},
	} {
		rows = append(rows, layerRow{l.name, l.stack})
	}
	return rows
}

// BenchmarkLayers shows what each layer adds to a GET. Every row is measured in
// the same loop, against the bare transport: each iteration sends one request
// through the bare transport and one through every row, in an order shuffled
// anew each iteration, so that every row sees the same machine at the same time
// and follows every other row (the bare one included) as often. For each
// row, x-<row> is the median time of its requests over the bare transport's, and
// x25-<row> the same quotient of the first quartiles, which moves less from run
// to run (see ratio-p25 in BenchmarkPaired); ns/op-bare is the bare median, and
// ns/op is one iteration (all rows).
func BenchmarkLayers(b *testing.B) {
	srv := newServer(b, trivialHandler())
	url := srv.URL + "/api/call"
	rows := layerRows()
	clients := []*http.Client{{Transport: baseTransport(b)}}
	for _, r := range rows {
		clients = append(clients, &http.Client{Transport: r.stack(b, srv.URL, baseTransport(b))})
	}
	// Warm the connections, and each call site's type-assertion cache, which the
	// runtime fills on about one call in a thousand.
	for range 2000 {
		for _, cl := range clients {
			if err := do(cl, http.MethodGet, url, nil); err != nil {
				b.Fatal(err)
			}
		}
	}
	n := len(clients)
	samples := make([][]time.Duration, n)
	// A new order every iteration, drawn from a fixed seed: a request is slower
	// right after a bare one (by about 0.4 % at the first quartile here), so a
	// fixed or rotating order, in which the same rows always follow the bare
	// request, would charge that to them alone.
	rng := rand.New(rand.NewPCG(1, 2))
	order := make([]int, n)
	for k := range order {
		order[k] = k
	}
	for b.Loop() {
		rng.Shuffle(n, func(x, y int) { order[x], order[y] = order[y], order[x] })
		for _, k := range order {
			t := time.Now()
			err := do(clients[k], http.MethodGet, url, nil)
			samples[k] = append(samples[k], time.Since(t))
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	bare, bare25 := median(samples[0]), quantile(samples[0], 0.25)
	b.ReportMetric(float64(bare.Nanoseconds()), "ns/op-bare")
	for k, r := range rows {
		b.ReportMetric(float64(median(samples[k+1]))/float64(bare), "x-"+r.name)
		b.ReportMetric(float64(quantile(samples[k+1], 0.25))/float64(bare25), "x25-"+r.name)
	}
}

// TestLayers checks that every row of BenchmarkLayers gets the trivial handler's
// success, and that every row sends the token.
func TestLayers(t *testing.T) {
	var auth []string
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth = append(auth, r.Header.Get("Authorization"))
		trivialHandler().ServeHTTP(w, r)
	}))
	for _, r := range layerRows() {
		auth = auth[:0]
		cl := &http.Client{Transport: r.stack(t, srv.URL, baseTransport(t))}
		if err := do(cl, http.MethodGet, srv.URL+"/api/call", nil); err != nil {
			t.Fatalf("%s: %v", r.name, err)
		}
		if len(auth) != 1 || auth[0] != "Bearer tok-static" {
			t.Fatalf("%s sent Authorization %q", r.name, auth)
		}
	}
}
