package nxcloud_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authwire/authwire/clock"
	"github.com/authwire/authwire/outcome"
	"github.com/authwire/authwire/provider"
	"github.com/authwire/authwire/providers/nxcloud"
	"github.com/authwire/authwire/providers/nxcloud/nxcloudtest"
	"github.com/authwire/authwire/ratelimit"
	"github.com/authwire/authwire/retry"
)

// TestTypoIsPermanent (issue 14): a caller's wrong path answers a bare 404. It is
// the caller's mistake: permanent, not "outcome unknown", never retried, and a
// run of them does not open the host's breaker (the kit's default breakers).
func TestTypoIsPermanent(t *testing.T) {
	f := setup(t, nxcloudtest.Config{}, nil)
	ctx := nxcloud.WithOperation(context.Background(), nxcloud.Operation{BizType: nxcloud.BizWhatsApp, Action: "getCode"})
	const typo, n = "/api/wa/integrator/embedded/register/getCod", 8
	for range n {
		err := f.c.Call(ctx, typo, map[string]string{"phone_number": phone, "method": "sms"}, nil)
		var e *nxcloud.Error
		if !errors.As(err, &e) || e.HTTPStatus != http.StatusNotFound || !outcome.IsPermanent(err) || errors.Is(err, outcome.ErrUnknown) {
			t.Fatalf("typo: err = %v, want a permanent 404 *nxcloud.Error, not unknown", err)
		}
	}
	if got := f.sim.Requests(typo); got != n {
		t.Errorf("typo requests = %d, want %d: a 404 is not retried", got, n)
	}
	if err := f.c.GetCode(context.Background(), phone, nxcloud.MethodSMS); err != nil {
		t.Fatalf("GetCode after %d typos: %v (the breaker must not count them)", n, err)
	}
}

// TestRateLimitedIn429 (issue 14): 2206 inside an HTTP 429 is rate-limited, so a
// getCode (never re-sent when its outcome is unknown) is retried and succeeds,
// with exactly one code sent.
func TestRateLimitedIn429(t *testing.T) {
	fc := clock.NewFake(time.Now())
	f := setup(t, nxcloudtest.Config{Clock: fc}, func(c *nxcloud.Config) {
		c.Limiter = &recLimiter{Adaptive: ratelimit.NewAdaptive(ratelimit.Config{Rate: 100, Burst: 10, Clock: fc})}
	})
	f.sim.Inject(nxcloudtest.Fault{Path: nxcloudtest.PathGetCode, Status: http.StatusTooManyRequests, Code: nxcloudtest.CodeRateLimited})
	stop := autoAdvance(fc, time.Second)
	err := f.c.GetCode(context.Background(), phone, nxcloud.MethodSMS)
	stop()
	if err != nil {
		t.Fatalf("GetCode after 2206 in a 429: %v", err)
	}
	if got, sent := f.sim.Requests(nxcloudtest.PathGetCode), f.sim.CodesSent(phone); got != 2 || sent != 1 {
		t.Errorf("getCode requests = %d, codes sent = %d; want 2 and 1", got, sent)
	}
	if len(f.lim.seen) == 0 || f.lim.seen[0] != outcome.RateLimited {
		t.Errorf("limiter saw %v, want RateLimited first", f.lim.seen)
	}
}

// TestAuthIn401NotRetried (issue 14): 1003 inside an HTTP 401 is a permanent
// authentication error, sent once, even for the idempotent login.
func TestAuthIn401NotRetried(t *testing.T) {
	f := setup(t, nxcloudtest.Config{}, nil)
	f.sim.Inject(nxcloudtest.Fault{Path: nxcloudtest.PathLogin, Status: http.StatusUnauthorized, Code: nxcloudtest.CodeBadSign})
	_, err := f.c.Login(context.Background())
	var e *nxcloud.Error
	if !errors.As(err, &e) || e.Code != "1003" || e.HTTPStatus != http.StatusUnauthorized || !nxcloud.IsAuth(err) || !outcome.IsPermanent(err) {
		t.Fatalf("err = %v, want a permanent 1003 in a 401", err)
	}
	if n := f.sim.Requests(nxcloudtest.PathLogin); n != 1 {
		t.Errorf("login requests = %d, want 1", n)
	}
}

// hang accepts requests and never answers until the client gives up.
func hang(t *testing.T) *httptest.Server {
	done := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body) // so that the server notices the client leaving
		select {
		case <-r.Context().Done():
		case <-done:
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(done) }) // runs first: no handler outlives the test
	return srv
}

// TestNeverAnswers (issue 14): against a vendor that accepts and never answers,
// GetCode(context.Background()) ends with the overall deadline, as "outcome
// unknown" (it was sent), and is not re-sent. Without configuration the
// deadline is the kit's default.
func TestNeverAnswers(t *testing.T) {
	srv := hang(t)
	var sent atomic.Int32
	c, err := nxcloud.New(nxcloud.Config{BaseURL: srv.URL, Credentials: nxcloud.NewCredentials(nxcloudtest.AccessKey, nxcloudtest.AccessSecret),
		Options: provider.Options{Timeout: 100 * time.Millisecond, Retry: &retry.Policy{OnRetry: func(*http.Request, int, outcome.Result) { sent.Add(1) }}}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	err = c.GetCode(context.Background(), phone, nxcloud.MethodSMS)
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, outcome.ErrUnknown) {
		t.Fatalf("err = %v, want the overall deadline, matching outcome.ErrUnknown (it was sent)", err)
	}
	if n := sent.Load(); n != 0 {
		t.Errorf("retries = %d, want 0: getCode may have been processed", n)
	}

	def, err := nxcloud.New(nxcloud.Config{Credentials: nxcloud.NewCredentials("k", "s")})
	if err != nil {
		t.Fatal(err)
	}
	defer def.Close()
	if got := def.Timeout(); got != provider.DefaultTimeout {
		t.Errorf("default overall timeout = %v, want the kit's %v", got, provider.DefaultTimeout)
	}
	if got := def.HTTPClient().Timeout; got != 0 {
		t.Errorf("HTTPClient().Timeout = %v: the client's transport applies the overall timeout", got)
	}
}

// TestExistingHTTPClient: an *http.Client handed in through Config keeps its
// 1 s Timeout, its cookie Jar and its CheckRedirect, in the typed calls.
func TestExistingHTTPClient(t *testing.T) {
	var cookieSeen atomic.Bool
	done := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case nxcloud.PathLogin:
			http.SetCookie(w, &http.Cookie{Name: "route", Value: "node-7", Path: "/"})
			w.Write([]byte(`{"code":0,"data":{"token":"t-1"}}`))
		case nxcloud.PathGetCode:
			if strings.Contains(r.Header.Get("Cookie"), "route=node-7") {
				cookieSeen.Store(true)
			}
			if strings.Contains(r.Header.Get("Cookie"), "hang") {
				io.Copy(io.Discard, r.Body)
				select { // longer than the client's Timeout
				case <-r.Context().Done():
				case <-done:
				}
				return
			}
			w.Write([]byte(`{"code":0,"data":{}}`))
		case nxcloud.PathOTAInit:
			http.Redirect(w, r, "/elsewhere", http.StatusTemporaryRedirect)
		}
	}))
	defer srv.Close()
	defer close(done) // runs first: no handler outlives the test
	jar, _ := cookiejar.New(nil)
	var redirects atomic.Int32
	errNoRedirect := errors.New("redirect refused by CheckRedirect")
	hc := &http.Client{Timeout: time.Second, Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		redirects.Add(1)
		return errNoRedirect
	}}
	c, err := nxcloud.New(nxcloud.Config{BaseURL: srv.URL, Credentials: nxcloud.NewCredentials(nxcloudtest.AccessKey, nxcloudtest.AccessSecret),
		Options: provider.Options{HTTPClient: hc}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()

	if _, err := c.Login(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.GetCode(ctx, phone, nxcloud.MethodSMS); err != nil || !cookieSeen.Load() {
		t.Errorf("GetCode = %v, cookie from the login seen = %v; want the Jar's cookie sent", err, cookieSeen.Load())
	}

	_, err = c.OTAInit(ctx, nxcloud.OTAInitRequest{AppKey: "app", Phone: phone, UserIP: "203.0.113.7"})
	if !errors.Is(err, errNoRedirect) || redirects.Load() != 1 {
		t.Errorf("OTAInit = %v after %d CheckRedirect calls; want CheckRedirect's error", err, redirects.Load())
	}

	u, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
	jar.SetCookies(u.URL, []*http.Cookie{{Name: "hang", Value: "1", Path: "/"}})
	err = c.GetCode(ctx, phone, nxcloud.MethodSMS)
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, outcome.ErrUnknown) {
		t.Errorf("GetCode against a slow vendor = %v, want the client's 1 s Timeout as outcome unknown", err)
	}
}
