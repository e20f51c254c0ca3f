package benchmarks

import (
	"context"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/go-retryablehttp"
	"golang.org/x/time/rate"

	"github.com/authwire/authwire/breaker"
	"github.com/authwire/authwire/outcome"
	"github.com/authwire/authwire/providers/nxcloud"
	"github.com/authwire/authwire/ratelimit"
	"github.com/authwire/authwire/roundtripper"
)

// The 2206 storm: more callers than the vendor's budget allows.
const (
	vendorRate  = 200 // requests per second the scripted vendor accepts
	vendorBurst = 20
	stormReqs   = 300 // logical requests per storm (one op)
	stormConc   = 50  // goroutines sending them
	// clientRate is the budget the authwire limiter is configured with: five
	// times what the vendor really allows, as when the documented limit is wrong
	// or shared with other clients. The adaptive limiter has to find the real one.
	clientRate = 5 * vendorRate
)

// tooFrequent is NXCloud's "too frequent" answer: code 2206 in an HTTP 200 body.
const tooFrequent = `{"code":2206,"message":"request is too frequent"}`

// throttledServer answers okBody while requests stay within a token bucket of
// vendorRate per second (burst vendorBurst), and tooFrequent beyond it.
type throttledServer struct {
	lim     atomic.Pointer[rate.Limiter]
	calls   atomic.Int64
	limited atomic.Int64
}

func (s *throttledServer) reset() {
	s.lim.Store(rate.NewLimiter(vendorRate, vendorBurst))
	s.calls.Store(0)
	s.limited.Store(0)
}

func (s *throttledServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body)
	s.calls.Add(1)
	w.Header().Set("Content-Type", "application/json")
	if !s.lim.Load().Allow() {
		s.limited.Add(1)
		io.WriteString(w, tooFrequent)
		return
	}
	io.WriteString(w, okBody)
}

// A throttleContender is one client of the 2206 storm.
type throttleContender struct {
	name   string
	client func(tb testing.TB, srvURL string, base http.RoundTripper) *http.Client
}

func nxSigning(tb testing.TB, srvURL string, base http.RoundTripper) http.RoundTripper {
	hosts, err := roundtripper.HostsOf(srvURL)
	if err != nil {
		tb.Fatal(err)
	}
	return &roundtripper.Signing{Signer: &nxcloud.Signer{Credentials: nxcloud.NewCredentials(nxAccessKey, nxAccessSecret)}, Hosts: hosts, Base: base}
}

// nxStack is the full authwire stack for NXCloud with the given limiter budget
// and the default retry policy.
func nxStack(tb testing.TB, srvURL string, base http.RoundTripper, lim ratelimit.Config) *http.Client {
	hosts, err := roundtripper.HostsOf(srvURL)
	if err != nil {
		tb.Fatal(err)
	}
	rt, err := roundtripper.New(roundtripper.Config{
		Hosts:      hosts,
		Classifier: nxcloud.Classify,
		Signer:     &nxcloud.Signer{Credentials: nxcloud.NewCredentials(nxAccessKey, nxAccessSecret)},
		Limiter:    ratelimit.NewAdaptive(lim),
		Breakers:   breaker.NewSet(breaker.Config{}),
		Base:       base,
	})
	if err != nil {
		tb.Fatal(err)
	}
	return &http.Client{Transport: rt}
}

var throttleContenders = []throttleContender{
	// authwire: the full stack, with the adaptive limiter configured 5× too high
	// (it must find the vendor's limit by itself) and the default retry policy.
	{"authwire-adaptive", func(tb testing.TB, srvURL string, base http.RoundTripper) *http.Client {
		return nxStack(tb, srvURL, base, ratelimit.Config{Rate: clientRate})
	}},
	// authwire with the vendor's real limit known (and a 5 % margin): the
	// ceiling any client can reach.
	{"authwire-known-rate", func(tb testing.TB, srvURL string, base http.RoundTripper) *http.Client {
		return nxStack(tb, srvURL, base, ratelimit.Config{Rate: vendorRate * 0.95})
	}},
	// retryablehttp with its default policy (4 retries, 1–30 s exponential
	// backoff) over the NXCloud signer, and the one hook a user must add for it to
	// see 2206 at all: a CheckRetry that reads the body.
	{"retryablehttp-2206aware", func(tb testing.TB, srvURL string, base http.RoundTripper) *http.Client {
		c := retryableClient(nxSigning(tb, srvURL, base))
		c.CheckRetry = func(ctx context.Context, resp *http.Response, err error) (bool, error) {
			if err == nil && outcome.Read(resp, nxcloud.Classify).Kind == outcome.RateLimited {
				return true, nil
			}
			return retryablehttp.DefaultRetryPolicy(ctx, resp, err)
		}
		return c.StandardClient()
	}},
	// retryablehttp exactly as it comes: a 2206 is an HTTP 200 to it, so it is
	// handed to the caller as is (counted as failed).
	{"retryablehttp-default", func(tb testing.TB, srvURL string, base http.RoundTripper) *http.Client {
		return retryableClient(nxSigning(tb, srvURL, base)).StandardClient()
	}},
}

type stormResult struct {
	ok, failed      int64
	calls, rejected int64
	elapsed         time.Duration
}

// throttleStorm sends stormReqs requests from stormConc goroutines against a
// freshly reset vendor and reports what happened.
func throttleStorm(tb testing.TB, c *http.Client, srv *throttledServer, url string, n, conc int) stormResult {
	srv.reset()
	var next, ok, failed atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(n) {
				if stormCall(c, url) {
					ok.Add(1)
				} else {
					failed.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	return stormResult{ok: ok.Load(), failed: failed.Load(), calls: srv.calls.Load(), rejected: srv.limited.Load(), elapsed: time.Since(start)}
}

// stormCall sends one logical request and reports whether the caller got a
// success in the end.
func stormCall(c *http.Client, url string) bool {
	req, err := http.NewRequest(http.MethodPost, url, nil)
	if err != nil {
		return false
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	return outcome.Read(resp, nxcloud.Classify).Kind == outcome.Success
}

// BenchmarkThrottleStorm is the 2206 storm. One op is one storm of stormReqs
// requests; ok-req/s is how many of them per second got a success,
// vendor-calls/op how many requests reached the vendor, wasted-calls/op how many
// of those it answered 2206, failed-reqs/op how many callers got a failure.
func BenchmarkThrottleStorm(b *testing.B) {
	srv := &throttledServer{}
	srv.reset()
	ts := newServer(b, srv)
	url := ts.URL + nxcloud.PathOTAInit
	for _, tc := range throttleContenders {
		b.Run("via="+tc.name, func(b *testing.B) {
			c := tc.client(b, ts.URL, baseTransport(b))
			var sum stormResult
			for b.Loop() {
				r := throttleStorm(b, c, srv, url, stormReqs, stormConc)
				sum.ok += r.ok
				sum.failed += r.failed
				sum.calls += r.calls
				sum.rejected += r.rejected
				sum.elapsed += r.elapsed
			}
			n := float64(b.N)
			b.ReportMetric(float64(sum.ok)/sum.elapsed.Seconds(), "ok-req/s")
			b.ReportMetric(float64(sum.calls)/n, "vendor-calls/op")
			b.ReportMetric(float64(sum.rejected)/n, "wasted-calls/op")
			b.ReportMetric(float64(sum.failed)/n, "failed-reqs/op")
		})
	}
}
