package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/authwire/authwire/outcome"
	"github.com/authwire/authwire/provider"
	"github.com/authwire/authwire/ratelimit"
	"github.com/authwire/authwire/retry"
)

// setup starts Acme and a client for it with a generous limiter, so that only
// the vendor's answers slow it down.
func setup(t *testing.T, password string) (*server, *provider.Client, *ratelimit.Adaptive) {
	t.Helper()
	srv := newServer("alice", "wonderland")
	t.Cleanup(srv.Close)
	lim := ratelimit.NewAdaptive(ratelimit.Config{Rate: 10000, Burst: 1000})
	// Short retry waits: the backoff schedule is not what these tests are about.
	c, err := NewAcme(srv.URL, "alice", password, provider.Options{Limiter: lim, Retry: &retry.Policy{WaitMin: time.Millisecond, WaitMax: 10 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return srv, c, lim
}

// echoAll makes n concurrent calls and fails on any error.
func echoAll(t *testing.T, c *provider.Client, n int) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			msg := fmt.Sprint("m", i)
			got, err := Echo(context.Background(), c, msg)
			if err == nil && got != msg {
				err = fmt.Errorf("echo %q, want %q", got, msg)
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

func TestConcurrentCallsLogInOnce(t *testing.T) {
	srv, c, _ := setup(t, "wonderland")
	echoAll(t, c, 100)
	if n := srv.logins.Load(); n != 1 {
		t.Fatalf("100 concurrent calls: %d logins, want 1", n)
	}
}

func TestExpiredTokenOneRelogin(t *testing.T) {
	srv, c, _ := setup(t, "wonderland")
	echoAll(t, c, 1)
	srv.Expire()
	echoAll(t, c, 50)
	if n := srv.logins.Load(); n != 2 {
		t.Fatalf("after the expiry code: %d logins in all, want 2 (exactly one re-login)", n)
	}
}

func TestTooFrequentIsSlowedAndRetried(t *testing.T) {
	srv, c, lim := setup(t, "wonderland")
	echoAll(t, c, 1)
	before := srv.calls.Load()
	srv.tooFrequent.Store(1)
	// A POST: the retry is safe because "too frequent" means "not processed".
	if _, err := Echo(context.Background(), c, "x"); err != nil {
		t.Fatal(err)
	}
	if n := srv.calls.Load() - before; n != 2 {
		t.Errorf("server saw %d calls, want 2 (the refused one and the retry)", n)
	}
	u, _ := url.Parse(srv.URL)
	if r := lim.Rate(u.Host); r >= 10000 {
		t.Errorf("limiter rate %v: not slowed down", r)
	}
}

func TestSystemErrorIsTransient(t *testing.T) {
	srv, c, _ := setup(t, "wonderland")
	echoAll(t, c, 1)

	// Not idempotent: the vendor may have processed it, so it is not re-sent.
	srv.systemErrors.Store(1)
	_, err := Echo(context.Background(), c, "x")
	var e *outcome.Error
	if !errors.Is(err, outcome.ErrUnknown) || !errors.As(err, &e) || e.Code != "50000" || e.Kind != outcome.Transient {
		t.Fatalf("err = %v, want outcome.ErrUnknown wrapping acme's code 50000", err)
	}
	// Marked idempotent, it is retried and succeeds.
	srv.systemErrors.Store(1)
	if _, err := Echo(retry.Idempotent(context.Background()), c, "x"); err != nil {
		t.Fatal(err)
	}
}

func TestWrongPasswordIsHeld(t *testing.T) {
	_, c, _ := setup(t, "wrong")
	for range 3 {
		_, err := Echo(context.Background(), c, "x")
		var e *outcome.Error
		if !errors.As(err, &e) || e.Code != "40001" || e.Kind != outcome.Permanent || e.Vendor != "acme" {
			t.Fatalf("err = %v, want acme's permanent code 40001", err)
		}
	}
	if n := c.Logins(); n != 1 {
		t.Errorf("%d logins for a wrong password, want 1 (held)", n)
	}
}

func TestProgramRuns(t *testing.T) {
	main() // the program runs against its own server
}
