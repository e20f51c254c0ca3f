package icekredit_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authwire/authwire/clock"
	"github.com/authwire/authwire/outcome"
	"github.com/authwire/authwire/provider"
	"github.com/authwire/authwire/providers/icekredit"
	"github.com/authwire/authwire/providers/icekredit/icekredittest"
	"github.com/authwire/authwire/ratelimit"
	"github.com/authwire/authwire/retry"
)

// TestExistingHTTPClient hands the provider an *http.Client with a 1 s Timeout
// (long enough for every call but the slow one on a loaded machine), a cookie
// Jar and a CheckRedirect, and shows each honoured by the typed calls: the
// server sets a cookie that later calls send back, a moved product is followed
// or refused as CheckRedirect says, and a product that never answers is cut by
// the client's Timeout.
func TestExistingHTTPClient(t *testing.T) {
	sim := icekredittest.New(icekredittest.Config{})
	var (
		mu      sync.Mutex
		cookies []string // the ik_lb cookie each product call carried ("" for none)
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasPrefix(r.URL.Path, "/moved/"), strings.HasPrefix(r.URL.Path, "/refused/"):
			http.Redirect(w, r, icekredit.PathNigeriaAutoDecision, http.StatusTemporaryRedirect)
			return
		case r.URL.Path == "/slow":
			io.Copy(io.Discard, r.Body) // so that the server notices the client leaving
			select {                    // no answer until the client gives up (or a bound that fails the test)
			case <-r.Context().Done():
			case <-time.After(10 * time.Second):
			}
		case r.URL.Path == icekredit.PathNigeriaAutoDecision:
			c, err := r.Cookie("ik_lb")
			mu.Lock()
			if err != nil {
				cookies = append(cookies, "")
				http.SetCookie(w, &http.Cookie{Name: "ik_lb", Value: "node-7", Path: "/"})
			} else {
				cookies = append(cookies, c.Value)
			}
			mu.Unlock()
		}
		sim.ServeHTTP(w, r)
	}))
	defer srv.Close()

	errRefused := errors.New("redirect refused by CheckRedirect")
	var redirects atomic.Int32
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Timeout: time.Second, Jar: jar, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		redirects.Add(1)
		if strings.HasPrefix(via[0].URL.Path, "/refused/") {
			return errRefused
		}
		return nil
	}}
	c, err := icekredit.New(icekredit.Config{LoginURL: srv.URL, BaseURL: srv.URL,
		Credentials: icekredit.NewCredentials(icekredittest.MerchantName, icekredittest.Password),
		Options:     provider.Options{HTTPClient: hc, Retry: &retry.Policy{WaitMin: time.Millisecond, WaitMax: time.Millisecond}}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	decide := func() error { _, err := c.NigeriaAutoDecision(context.Background(), sample); return err }

	// The Jar: the first product reply sets a cookie, the next call sends it.
	if err := decide(); err != nil {
		t.Fatal(err)
	}
	if err := decide(); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	got := cookies[len(cookies)-1]
	mu.Unlock()
	if got != "node-7" {
		t.Errorf("cookies seen by the vendor = %q: the Jar was not used", cookies)
	}
	if u, _ := url.Parse(srv.URL); len(jar.Cookies(u)) != 1 {
		t.Errorf("jar holds %v", jar.Cookies(u))
	}

	// CheckRedirect: a moved product is followed, a refused one is the caller's error.
	var out map[string]any
	if err := c.Do(context.Background(), "/moved"+icekredit.PathNigeriaAutoDecision, sample, &out); err != nil {
		t.Fatalf("moved: %v", err)
	}
	if out["nigeria_auto_decision"] == nil {
		t.Errorf("moved: result %v", out)
	}
	err = c.Do(context.Background(), "/refused"+icekredit.PathNigeriaAutoDecision, sample, nil)
	if !errors.Is(err, errRefused) {
		t.Errorf("refused: err = %v, want CheckRedirect's error", err)
	}
	if n := redirects.Load(); n != 2 {
		t.Errorf("CheckRedirect called %d times, want 2", n)
	}

	// The Timeout: a product that does not answer ends the call.
	err = c.Do(context.Background(), "/slow", sample, nil)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("slow: err = %v, want the client's Timeout (context.DeadlineExceeded)", err)
	}
}

// TestCallerDeadline is issue 14's boundary through IceKredit's calls: a
// caller's deadline that ends after the vendor processed the request returns an
// error matching both outcome.ErrUnknown and context.DeadlineExceeded (and the
// request is not sent again); a context that ends before anything was sent (in
// the limiter's wait) returns the context's error alone.
func TestCallerDeadline(t *testing.T) {
	sim := icekredittest.New(icekredittest.Config{})
	var slow atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !slow.Load() || r.URL.Path == icekredit.LoginPath {
			sim.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		sim.ServeHTTP(rec, r) // processed now; the answer is held back
		select {
		case <-r.Context().Done():
			return
		case <-time.After(10 * time.Second):
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		w.Write(rec.Body.Bytes())
	}))
	defer srv.Close()
	// The limiter runs on its own fake clock, so that a test can hold a call in
	// its wait, before anything is sent.
	lclk := clock.NewFake(time.Unix(0, 0))
	lim := ratelimit.NewAdaptive(ratelimit.Config{Rate: 1000, Burst: 1000, Clock: lclk})
	c, err := icekredit.New(icekredit.Config{LoginURL: srv.URL, BaseURL: srv.URL,
		Credentials: icekredit.NewCredentials(icekredittest.MerchantName, icekredittest.Password),
		Options:     provider.Options{Limiter: lim}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.NigeriaAutoDecision(context.Background(), sample); err != nil { // logs in
		t.Fatal(err)
	}
	slow.Store(true)
	processed := func() int { return sim.Stats().Processed[icekredit.PathNigeriaAutoDecision] }

	for _, tc := range []struct {
		name string
		call func(context.Context) error
	}{
		{"Do", func(ctx context.Context) error { return c.Do(ctx, icekredit.PathNigeriaAutoDecision, sample, nil) }},
		{"NigeriaAutoDecision (idempotent)", func(ctx context.Context) error {
			_, err := c.NigeriaAutoDecision(ctx, sample)
			return err
		}},
	} {
		t.Run(tc.name+" after send", func(t *testing.T) {
			before := processed()
			// Long enough to send on a loaded test machine; the vendor holds its answer past it.
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			err := tc.call(ctx)
			if !errors.Is(err, outcome.ErrUnknown) || !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("err = %v; want one matching outcome.ErrUnknown and context.DeadlineExceeded", err)
			}
			if n := processed() - before; n != 1 {
				t.Errorf("processed %d times, want 1", n)
			}
		})
		t.Run(tc.name+" before send", func(t *testing.T) {
			before := processed()
			lim.Observe(strings.TrimPrefix(srv.URL, "http://"), outcome.Result{Kind: outcome.RateLimited, After: 10 * time.Second}) // paused (within the 1-minute call deadline)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- tc.call(ctx) }()
			wctx, wcancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer wcancel()
			if err := lclk.WaitForSleepers(wctx, 1); err != nil {
				cancel()
				t.Fatalf("the call did not wait for the paused limiter: %v", <-done)
			}
			cancel() // while the call waits for the limiter
			err := <-done
			lclk.Advance(time.Minute) // unpause for the next case
			if !errors.Is(err, context.Canceled) || errors.Is(err, outcome.ErrUnknown) {
				t.Errorf("err = %v; want context.Canceled alone", err)
			}
			if n := processed() - before; n != 0 {
				t.Errorf("processed %d times, want 0", n)
			}
		})
	}
}
