package retry_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authwire/authwire/breaker"
	"github.com/authwire/authwire/clock"
	"github.com/authwire/authwire/outcome"
	"github.com/authwire/authwire/ratelimit"
	"github.com/authwire/authwire/retry"
)

// slowVendor processes every request at once (counts it) and answers only when the
// client goes away: the reply is always later than the caller's deadline.
func slowVendor(t *testing.T) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var processed atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		processed.Add(1) // the transfer is booked
		<-r.Context().Done()
	}))
	t.Cleanup(srv.Close)
	return srv, &processed
}

// TestDeadlineAfterSendIsUnknown: a caller's deadline that passes while the vendor
// is working on the request must not hide that it may have been processed.
func TestDeadlineAfterSendIsUnknown(t *testing.T) {
	for _, tc := range []struct {
		name   string
		method string
		ctx    func(context.Context) context.Context
	}{
		{"POST", http.MethodPost, func(c context.Context) context.Context { return c }},
		{"idempotent POST", http.MethodPost, retry.Idempotent},
		{"GET", http.MethodGet, func(c context.Context) context.Context { return c }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, processed := slowVendor(t)
			lim := ratelimit.NewAdaptive(ratelimit.Config{Rate: 1000, Burst: 1000})
			rt := &retry.Transport{Base: &ratelimit.Transport{Limiter: lim, Base: srv.Client().Transport}}
			// Long enough to send on a loaded test machine; the vendor holds its answer past it.
			ctx, cancel := context.WithTimeout(tc.ctx(context.Background()), time.Second)
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, tc.method, srv.URL+"/transfer", strings.NewReader(`{"amount":100}`))
			resp, err := rt.RoundTrip(req)
			if err == nil {
				resp.Body.Close()
				t.Fatal("no error")
			}
			if !errors.Is(err, outcome.ErrUnknown) || !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("err = %v; want one matching both outcome.ErrUnknown and context.DeadlineExceeded", err)
			}
			if n := processed.Load(); n != 1 {
				t.Fatalf("vendor processed %d requests, want 1 (never re-sent)", n)
			}
		})
	}
}

// TestCancelInLimiterIsContextErrorAlone: a caller who gives up while the request
// waits for the rate limiter gets the context's error and nothing that says the
// request may have been processed: it never left.
func TestCancelInLimiterIsContextErrorAlone(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer srv.Close()
	clk := clock.NewFake(time.Unix(0, 0))
	lim := ratelimit.NewAdaptive(ratelimit.Config{Rate: 1, Burst: 1, Clock: clk})
	lim.Observe(srv.Listener.Addr().String(), outcome.Result{Kind: outcome.RateLimited, After: time.Hour}) // paused
	rt := &retry.Transport{Base: &ratelimit.Transport{Limiter: lim, Base: srv.Client().Transport}}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/transfer", strings.NewReader(`{}`))
		resp, err := rt.RoundTrip(req)
		if resp != nil {
			resp.Body.Close()
		}
		done <- err
	}()
	if err := clk.WaitForSleepers(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	cancel()
	err := <-done
	if !errors.Is(err, context.Canceled) || errors.Is(err, outcome.ErrUnknown) {
		t.Fatalf("err = %v; want context.Canceled alone", err)
	}
	if hits.Load() != 0 {
		t.Fatal("the request reached the vendor")
	}
}

// TestDoneBeforeSendIsContextErrorAlone: a context that is already cancelled
// when the call starts sends nothing and reports the context's error alone.
func TestDoneBeforeSendIsContextErrorAlone(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer srv.Close()
	rt := &retry.Transport{Base: srv.Client().Transport}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/transfer", strings.NewReader(`{}`))
	resp, err := rt.RoundTrip(req)
	if resp != nil {
		resp.Body.Close()
	}
	if !errors.Is(err, context.Canceled) || errors.Is(err, outcome.ErrUnknown) {
		t.Fatalf("err = %v; want context.Canceled alone", err)
	}
	if hits.Load() != 0 {
		t.Fatal("the request reached the vendor")
	}
}

// truncatingVendor answers every request with Content-Length: 1000 and 19 bytes,
// then closes the connection.
func truncatingVendor(t *testing.T) (addr string, hits *atomic.Int32) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	hits = new(atomic.Int32)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				if _, err := http.ReadRequest(bufio.NewReader(c)); err != nil {
					return
				}
				hits.Add(1)
				io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"code\":0,\"data\":{\"")
			}()
		}
	}()
	return "http://" + ln.Addr().String(), hits
}

// TestTruncatedBodyIsNeverASuccess: a body shorter than its Content-Length is
// Unknown to the stack and io.ErrUnexpectedEOF to the reader, never 19 bytes and
// a nil error.
func TestTruncatedBodyIsNeverASuccess(t *testing.T) {
	url, hits := truncatingVendor(t)

	t.Run("reader", func(t *testing.T) {
		rt := &retry.Transport{Policy: retry.Policy{MaxAttempts: 1}}
		req, _ := http.NewRequest(http.MethodGet, url+"/balance", nil)
		resp, err := rt.RoundTrip(req)
		if err != nil {
			t.Fatalf("RoundTrip: %v", err)
		}
		defer resp.Body.Close()
		if k := outcome.Of(resp).Kind; k != outcome.Unknown {
			t.Fatalf("outcome %v, want unknown", k)
		}
		b, err := io.ReadAll(resp.Body)
		if len(b) != 19 || !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("read %d bytes, err %v; want the 19 that arrived, then io.ErrUnexpectedEOF", len(b), err)
		}
	})
	t.Run("POST not re-sent", func(t *testing.T) {
		hits.Store(0)
		rt := &retry.Transport{}
		req, _ := http.NewRequest(http.MethodPost, url+"/transfer", strings.NewReader(`{}`))
		resp, err := rt.RoundTrip(req)
		if err == nil {
			resp.Body.Close()
			t.Fatal("a truncated reply to a POST came back as a response")
		}
		if !errors.Is(err, outcome.ErrUnknown) || !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("err = %v; want outcome.ErrUnknown wrapping io.ErrUnexpectedEOF", err)
		}
		if n := hits.Load(); n != 1 {
			t.Fatalf("sent %d times, want 1", n)
		}
	})
}

// TestRedirectNotFollowedIsAnError: a 3xx that reaches the caller is not the
// vendor's answer. It is a permanent error naming where it pointed (never the
// query, which may carry a credential), and it is not retried.
func TestRedirectNotFollowedIsAnError(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Location", "https://login.example/sso/start?sig=SECRET-SIGNATURE#frag")
		w.WriteHeader(http.StatusFound)
	}))
	defer srv.Close()
	rt := &retry.Transport{}
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/v2/balance", nil)
	resp, err := rt.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	res := outcome.Of(resp)
	if res.Kind != outcome.Permanent || res.Err == nil {
		t.Fatalf("outcome %v (%v), want a permanent error", res.Kind, res.Err)
	}
	msg := res.Err.Error()
	if !strings.Contains(msg, "https://login.example/sso/start") || strings.Contains(msg, "SECRET") {
		t.Fatalf("error %q: want the Location's scheme, host and path, never its query", msg)
	}
	if n := hits.Load(); n != 1 {
		t.Fatalf("sent %d times, want 1: a redirect is not retried", n)
	}
}

// TestUnexplained4xxIsPermanent: a vendor classifier that cannot read a 404's
// body and calls it unknown must not make a caller's typo "may have been
// processed", be retried, or open the host's breaker.
func TestUnexplained4xxIsPermanent(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.NotFound(w, r)
	}))
	defer srv.Close()
	// A classifier in the style that got it wrong: no envelope means unknown.
	naive := func(*http.Response, []byte) outcome.Result { return outcome.Result{Kind: outcome.Unknown} }
	set := breaker.NewSet(breaker.Config{ConsecutiveFailures: 3})
	rt := &retry.Transport{Classifier: naive, Base: &breaker.Transport{Set: set, Classifier: naive, Base: srv.Client().Transport}}
	for i := range 6 {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/typo", strings.NewReader(`{}`))
		resp, err := rt.RoundTrip(req)
		if err != nil {
			t.Fatalf("request %d: %v; want the 404 back", i+1, err)
		}
		resp.Body.Close()
		if res := outcome.Of(resp); res.Kind != outcome.Permanent || errors.Is(res.Err, outcome.ErrUnknown) {
			t.Fatalf("request %d: outcome %v, want permanent", i+1, res.Kind)
		}
	}
	if n := hits.Load(); n != 6 {
		t.Fatalf("vendor saw %d requests, want 6 (none retried)", n)
	}
	if st := set.State(srv.Listener.Addr().String()); st != 0 { // gobreaker.StateClosed
		t.Fatalf("breaker %v, want closed: a caller's mistake says nothing about the vendor", st)
	}
}
