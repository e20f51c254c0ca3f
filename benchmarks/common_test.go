package benchmarks

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/go-retryablehttp"
	"golang.org/x/oauth2"

	"github.com/authwire/authwire/breaker"
	"github.com/authwire/authwire/outcome"
	"github.com/authwire/authwire/providers/icekredit"
	"github.com/authwire/authwire/providers/nxcloud"
	"github.com/authwire/authwire/providers/vertexplay"
	"github.com/authwire/authwire/ratelimit"
	"github.com/authwire/authwire/roundtripper"
	"github.com/authwire/authwire/tokensource"
)

// okBody is the one reply of the trivial handler. It is a success envelope for
// all three vendors' classifiers at once (NXCloud and VertexPlay read "code",
// IceKredit "response_code"), so every contender gets the same bytes back.
const okBody = `{"code":0,"response_code":"00","message":"ok","data":{}}`

// payload is the 1 KB JSON body of the POST benchmarks.
var payload = func() []byte {
	const head, tail = `{"data":"`, `"}`
	return []byte(head + strings.Repeat("x", 1024-len(head)-len(tail)) + tail)
}()

// trivialHandler drains the request and answers okBody: the server's cost is the
// same whatever the client stack.
func trivialHandler() http.Handler {
	body := []byte(okBody)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	})
}

// newServer starts a loopback server closed at the end of tb.
func newServer(tb testing.TB, h http.Handler) *httptest.Server {
	tb.Helper()
	srv := httptest.NewServer(h)
	tb.Cleanup(srv.Close)
	return srv
}

// baseTransport is the one set of transport settings every contender is built on:
// keep-alive, HTTP/1.1, enough idle connections for the concurrent benchmarks.
func baseTransport(tb testing.TB) *http.Transport {
	t := &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        2048,
		MaxIdleConnsPerHost: 2048,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
	tb.Cleanup(t.CloseIdleConnections)
	return t
}

// staticTokens is an upstream that hands out one long-lived token: cache-hit
// benchmarks must never fetch again.
type staticTokens struct{ tok *oauth2.Token }

func newStaticTokens() staticTokens {
	return staticTokens{tok: &oauth2.Token{AccessToken: "tok-static", TokenType: "Bearer", Expiry: time.Now().Add(24 * time.Hour)}}
}

func (s staticTokens) Token() (*oauth2.Token, error) { return s.tok, nil }

func (s staticTokens) Fetch(context.Context) (*oauth2.Token, error) { return s.tok, nil }

// Credentials for the signers: the values do not matter to the trivial handler,
// but they have the vendors' shapes.
const (
	nxAccessKey    = "fme2na3kdi3ki"
	nxAccessSecret = "abc123"
	vpAgentID      = "agent-bench"
	vpAPIKey       = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
	vpSecretKey    = "vp-secret"
)

// A vendor is one authwire configuration of the overhead benchmark.
type vendor struct {
	name string
	path string
	// stack returns roundtripper.Config fields for the vendor: classifier,
	// signer and/or token; Hosts, Base and the protection layers are filled in by
	// authwireStack.
	stack func(tb testing.TB) roundtripper.Config
}

var vendors = []vendor{
	{name: "nxcloud", path: nxcloud.PathOTAInit, stack: func(tb testing.TB) roundtripper.Config {
		return roundtripper.Config{
			Classifier: nxcloud.Classify,
			Signer:     &nxcloud.Signer{Credentials: nxcloud.NewCredentials(nxAccessKey, nxAccessSecret)},
		}
	}},
	{name: "vertexplay", path: "/v2/player/balance", stack: func(tb testing.TB) roundtripper.Config {
		creds, err := vertexplay.NewCredentials(vpAgentID, vpAPIKey, vpSecretKey)
		if err != nil {
			tb.Fatal(err)
		}
		signer, err := vertexplay.NewSigner(vertexplay.SignerConfig{Credentials: creds})
		if err != nil {
			tb.Fatal(err)
		}
		ts := tokensource.New(newStaticTokens())
		tb.Cleanup(func() { ts.Close() })
		return roundtripper.Config{Classifier: vertexplay.Classify, Signer: signer, Token: ts}
	}},
	{name: "icekredit", path: "/person-ds/credit/NigeriaAutoDecision", stack: func(tb testing.TB) roundtripper.Config {
		// IceKredit's token is sliding (20 min after its last use): the token
		// layer Touches it after every success, as the provider configures it.
		ts := tokensource.New(newStaticTokens(), tokensource.WithSlidingExpiry(20*time.Minute), tokensource.WithEarlyRefresh(0, 0))
		tb.Cleanup(func() { ts.Close() })
		return roundtripper.Config{Classifier: icekredit.Classify, Token: ts, TokenHeader: icekredit.TokenHeader, TokenFormat: roundtripper.RawToken}
	}},
}

// authwireStack builds the full authwire stack for v: retry → limiter → breaker
// → token/re-auth → signer → base. The limiter's budget is far above what a
// loopback benchmark reaches, so it paces nothing but still runs on every
// request.
func authwireStack(tb testing.TB, v vendor, srvURL string, base http.RoundTripper) http.RoundTripper {
	tb.Helper()
	cfg := v.stack(tb)
	hosts, err := roundtripper.HostsOf(srvURL)
	if err != nil {
		tb.Fatal(err)
	}
	cfg.Hosts = hosts
	cfg.Limiter = ratelimit.NewAdaptive(ratelimit.Config{Rate: 1e9, Burst: 1 << 20})
	cfg.Breakers = breaker.NewSet(breaker.Config{})
	cfg.Base = base
	rt, err := roundtripper.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return rt
}

// retryableClient is go-retryablehttp as users stack it: its default policy
// (4 retries, 1–30 s exponential backoff), no logger (the default one writes a
// line per request).
func retryableClient(base http.RoundTripper) *retryablehttp.Client {
	c := retryablehttp.NewClient()
	c.HTTPClient = &http.Client{Transport: base}
	c.Logger = nil
	return c
}

// oauth2Transport is the hand-stacked token transport: oauth2.Transport over a
// ReuseTokenSource.
func oauth2Transport(base http.RoundTripper) http.RoundTripper {
	return &oauth2.Transport{Source: oauth2.ReuseTokenSource(nil, newStaticTokens()), Base: base}
}

// do sends one request and reads the whole reply, as every caller must for the
// connection to be reused.
func do(c *http.Client, method, url string, body []byte) error {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err == nil && resp.StatusCode != http.StatusOK {
		err = &outcome.ResponseError{StatusCode: resp.StatusCode}
	}
	return err
}

// atomicClock is a clock.Clock whose Now is one atomic load: the storm benchmarks
// set the time to "at expiry" without a mutex that ten thousand goroutines would
// queue on (clock.Fake has one), which would measure the fake, not the cache.
type atomicClock struct{ ns atomic.Int64 }

func newAtomicClock(t time.Time) *atomicClock {
	c := &atomicClock{}
	c.ns.Store(t.UnixNano())
	return c
}

func (c *atomicClock) Now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *atomicClock) Set(t time.Time)         { c.ns.Store(t.UnixNano()) }
func (c *atomicClock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

// Sleep sleeps in real time: nothing in these benchmarks sleeps on this clock.
func (c *atomicClock) Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
