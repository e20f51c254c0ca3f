package benchmarks

import (
	"bytes"
	"net/http"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/authwire/authwire/provider"
	"github.com/authwire/authwire/roundtripper"
	"github.com/authwire/authwire/tokensource"
)

// payload1MB is the body of the large POST of the paired benchmark.
var payload1MB = bytes.Repeat([]byte("x"), 1<<20)

// nopSigner signs nothing and sends the body as it is: the signing layer's own
// cost (its copy of the request, its read of the body) without any vendor's
// cryptography.
var nopSigner = roundtripper.SignerFunc(func(_ *http.Request, b []byte) ([]byte, error) { return b, nil })

// frameworkStack is the framework's row: the full stack — retry → limiter →
// breaker → token/re-auth → signer (a no-op) → base — with a static token.
var frameworkStack = vendor{name: "full", stack: func(tb testing.TB) roundtripper.Config {
	ts := tokensource.New(newStaticTokens())
	tb.Cleanup(func() { ts.Close() })
	return roundtripper.Config{Token: ts, Signer: nopSigner}
}}

// attemptStack is the framework row with the per-attempt timeout every provider
// client sets (provider.DefaultAttemptTimeout): retry → limiter → breaker →
// token/re-auth → per-attempt → signer (a no-op) → base.
var attemptStack = vendor{name: "full+attempt", stack: func(tb testing.TB) roundtripper.Config {
	cfg := frameworkStack.stack(tb)
	cfg.AttemptTimeout = provider.DefaultAttemptTimeout
	return cfg
}}

// tokenOnlyStack is retry → limiter → breaker → token → base: no layer needs the
// body's bytes.
var tokenOnlyStack = vendor{name: "token", stack: func(tb testing.TB) roundtripper.Config {
	ts := tokensource.New(newStaticTokens())
	tb.Cleanup(func() { ts.Close() })
	return roundtripper.Config{Token: ts}
}}

// A pairedCase is one row of the paired benchmark: a request sent through the
// bare transport and through a stack built on the same transport settings.
type pairedCase struct {
	req    string
	method string
	body   []byte
	via    string // the row's name: "authwire-full", "oauth2", …
	stack  func(tb testing.TB, srvURL string, base http.RoundTripper) http.RoundTripper
	path   string
}

// authwireCase is the paired row of an authwire stack.
func authwireCase(req, method string, body []byte, v vendor, path string) pairedCase {
	return pairedCase{req, method, body, "authwire-" + v.name, func(tb testing.TB, srvURL string, base http.RoundTripper) http.RoundTripper {
		return authwireStack(tb, v, srvURL, base)
	}, path}
}

// median returns the median of d, sorting it.
func median(d []time.Duration) time.Duration { return quantile(d, 0.5) }

// quantile returns the q-quantile of d (0 ≤ q < 1), sorting it.
func quantile(d []time.Duration, q float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	slices.Sort(d)
	return d[int(q*float64(len(d)))]
}

func pairedCases() []pairedCase {
	cs := []pairedCase{
		authwireCase("GET", http.MethodGet, nil, frameworkStack, "/api/call"),
		authwireCase("POST1KB", http.MethodPost, payload, frameworkStack, "/api/call"),
		authwireCase("GET", http.MethodGet, nil, attemptStack, "/api/call"),
		authwireCase("POST1KB", http.MethodPost, payload, attemptStack, "/api/call"),
		authwireCase("GET", http.MethodGet, nil, tokenOnlyStack, "/api/call"),
		authwireCase("POST1KB", http.MethodPost, payload, tokenOnlyStack, "/api/call"),
		authwireCase("POST1MB", http.MethodPost, payload1MB, tokenOnlyStack, "/api/call"),
	}
	// The anchors, measured in the same run: what users stack by hand.
	for _, r := range []struct {
		req    string
		method string
		body   []byte
	}{{"GET", http.MethodGet, nil}, {"POST1KB", http.MethodPost, payload}} {
		cs = append(cs,
			pairedCase{r.req, r.method, r.body, "oauth2", func(_ testing.TB, _ string, base http.RoundTripper) http.RoundTripper {
				return oauth2Transport(base)
			}, "/api/call"},
			pairedCase{r.req, r.method, r.body, "retryablehttp", func(_ testing.TB, _ string, base http.RoundTripper) http.RoundTripper {
				return &retryablehttp.RoundTripper{Client: retryableClient(base)}
			}, "/api/call"})
	}
	for _, v := range vendors {
		cs = append(cs,
			authwireCase("GET", http.MethodGet, nil, v, v.path),
			authwireCase("POST1KB", http.MethodPost, payload, v, v.path))
	}
	return cs
}

// BenchmarkPaired compares each stack with the bare transport it is built on.
//
// measure=time alternates the two request by request in one loop, in ABBA order
// (bare, stack, stack, bare, …), timing each request with time.Now, so both sides
// see the same noise from the rest of the machine: ns/op-bare and ns/op-stack are
// the median time of one request on each side, ratio their quotient; ratio-mean
// is the quotient of the means, which a few requests descheduled for
// milliseconds on a loaded machine can swing either way; ratio-p25 is the
// quotient of the first quartiles. (ns/op is the pair.) The time of one request
// has more than one mode here, and the median sits near the edge of the fastest:
// ratio-p25, inside it, moves less from run to run (see the README's notes).
//
// measure=allocs counts exactly, sequentially: b.N requests on the bare side, then
// b.N on the stack, each between two runtime.ReadMemStats. allocs/op-bare,
// allocs/op-stack and B/op-* are per request; Δallocs and ΔB the stack's extra.
// The in-process server's allocations are counted on both sides alike.
func BenchmarkPaired(b *testing.B) {
	srv := newServer(b, trivialHandler())
	for _, c := range pairedCases() {
		name := "req=" + c.req + "/via=" + c.via
		setup := func(b *testing.B) (bare, stack *http.Client, url string) {
			bare = &http.Client{Transport: baseTransport(b)}
			stack = &http.Client{Transport: c.stack(b, srv.URL, baseTransport(b))}
			url = srv.URL + c.path
			for _, cl := range []*http.Client{bare, stack} { // warm the connections
				if err := do(cl, c.method, url, c.body); err != nil {
					b.Fatal(err)
				}
			}
			return bare, stack, url
		}
		b.Run(name+"/measure=time", func(b *testing.B) {
			bare, stack, url := setup(b)
			pairedTime(b, bare, stack, c.method, url, c.body)
		})
		b.Run(name+"/measure=allocs", func(b *testing.B) {
			bare, stack, url := setup(b)
			// Blocks of sequential requests on one side, then the other; the
			// counters are read around each block.
			const block = 100
			var mBare, mStack, bytesBare, bytesStack uint64
			var before, after runtime.MemStats
			measure := func(cl *http.Client, allocs, bytes *uint64) {
				runtime.ReadMemStats(&before)
				for range block {
					if err := do(cl, c.method, url, c.body); err != nil {
						b.Fatal(err)
					}
				}
				runtime.ReadMemStats(&after)
				*allocs += after.Mallocs - before.Mallocs
				*bytes += after.TotalAlloc - before.TotalAlloc
			}
			n := 0
			for b.Loop() {
				measure(bare, &mBare, &bytesBare)
				measure(stack, &mStack, &bytesStack)
				n += block
			}
			per := func(x uint64) float64 { return float64(x) / float64(n) }
			aBare, aStack, bBare, bStack := per(mBare), per(mStack), per(bytesBare), per(bytesStack)
			b.ReportMetric(aBare, "allocs/op-bare")
			b.ReportMetric(aStack, "allocs/op-stack")
			b.ReportMetric(aStack-aBare, "Δallocs")
			b.ReportMetric(bBare, "B/op-bare")
			b.ReportMetric(bStack, "B/op-stack")
			b.ReportMetric(bStack-bBare, "ΔB")
		})
	}
}

// pairedTime sends the same request through bare and stack alternately, in ABBA
// order (bare, stack, stack, bare, …), timing each one with time.Now, and reports
// the median time of one request on each side (ns/op-bare, ns/op-stack), their
// quotient (ratio), the quotient of the means (ratio-mean) and of the first
// quartiles (ratio-p25).
func pairedTime(b *testing.B, bare, stack *http.Client, method, url string, body []byte) {
	var tBare, tStack time.Duration
	var sBare, sStack []time.Duration
	send := func(cl *http.Client, acc *time.Duration, samples *[]time.Duration) {
		t := time.Now()
		err := do(cl, method, url, body)
		d := time.Since(t)
		*acc += d
		*samples = append(*samples, d)
		if err != nil {
			b.Fatal(err)
		}
	}
	i := 0
	for b.Loop() {
		if i%2 == 0 { // AB, then BA: ABBA over two iterations
			send(bare, &tBare, &sBare)
			send(stack, &tStack, &sStack)
		} else {
			send(stack, &tStack, &sStack)
			send(bare, &tBare, &sBare)
		}
		i++
	}
	mBare, mStack := median(sBare), median(sStack)
	b.ReportMetric(float64(mBare.Nanoseconds()), "ns/op-bare")
	b.ReportMetric(float64(mStack.Nanoseconds()), "ns/op-stack")
	b.ReportMetric(float64(mStack)/float64(mBare), "ratio")
	b.ReportMetric(float64(tStack)/float64(tBare), "ratio-mean")
	b.ReportMetric(float64(quantile(sStack, 0.25))/float64(quantile(sBare, 0.25)), "ratio-p25")
}

// TestPairedCases checks that every row of the paired benchmark gets the
// trivial handler's success through its stack.
func TestPairedCases(t *testing.T) {
	srv := newServer(t, trivialHandler())
	for _, c := range pairedCases() {
		t.Run(c.req+"/"+c.via, func(t *testing.T) {
			cl := &http.Client{Transport: c.stack(t, srv.URL, baseTransport(t))}
			if err := do(cl, c.method, srv.URL+c.path, c.body); err != nil {
				t.Fatal(err)
			}
		})
	}
}
