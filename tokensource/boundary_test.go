package tokensource_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/authwire/authwire/clock"
	"github.com/authwire/authwire/tokensource"
)

// TestPanickingFetcherIsAnError: a Fetcher that panics must not crash the process;
// every caller waiting for that login gets an error.
func TestPanickingFetcherIsAnError(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{}, 1)
	var calls atomic.Int32
	f := tokensource.FetcherFunc(func(context.Context) (*oauth2.Token, error) {
		if calls.Add(1) == 1 {
			// The first login holds the waiters that arrive meanwhile; a waiter
			// that comes after it ended starts its own, which panics too.
			started <- struct{}{}
			<-release
		}
		var m map[string]string
		//lint:ignore SA5000 the fetcher bug under test: a runtime panic
		m["boom"] = "x" // a fetcher bug: assignment to a nil map
		return &oauth2.Token{AccessToken: "ok"}, nil
	})
	s := tokensource.New(f, tokensource.WithClock(clock.NewFake(t0)))
	defer s.Close()

	const waiters = 20
	errs := make(chan error, waiters)
	var wg sync.WaitGroup
	for range waiters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tok, err := s.TokenContext(context.Background())
			if err == nil {
				err = fmt.Errorf("got token %v and no error", tok != nil)
			}
			errs <- err
		}()
	}
	<-started
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		var pe *tokensource.PanicError
		if !errors.As(err, &pe) || !strings.Contains(err.Error(), "panicked") {
			t.Fatalf("err = %v; want a *tokensource.PanicError", err)
		}
	}

	// A background refresh that panics (no caller to hand the error to) must not
	// crash either; the cached token keeps being served.
	clk := clock.NewFake(t0)
	var n atomic.Int32
	g := tokensource.FetcherFunc(func(context.Context) (*oauth2.Token, error) {
		if n.Add(1) > 1 {
			panic("login failed for password=hunter2") // a panic value may carry a secret
		}
		return &oauth2.Token{AccessToken: "first", Expiry: clk.Now().Add(time.Hour)}, nil
	})
	events := make(chan tokensource.Event, 4)
	bg := tokensource.New(g, tokensource.WithClock(clk), tokensource.WithObserver(func(e tokensource.Event) { events <- e }))
	defer bg.Close()
	if tok, err := bg.TokenContext(context.Background()); err != nil || tok.AccessToken != "first" {
		t.Fatalf("first token: %v, %v", tok, err)
	}
	<-events
	clk.Advance(59 * time.Minute) // inside the early-refresh window
	if tok, err := bg.TokenContext(context.Background()); err != nil || tok.AccessToken != "first" {
		t.Fatalf("token during refresh: %v, %v", tok, err)
	}
	if ev := <-events; !ev.Background || ev.Err == nil {
		t.Fatalf("background event %+v; want a failed background refresh", ev)
	} else if strings.Contains(ev.Err.Error(), "hunter2") {
		t.Fatalf("error %q repeats the panic value", ev.Err)
	}
}

// TestInvalidateRacingBackgroundRefresh: under a storm of Invalidate calls racing
// background refreshes, no caller gets a nil token with a nil error (nor panics).
func TestInvalidateRacingBackgroundRefresh(t *testing.T) {
	clk := clock.NewFake(t0)
	var n atomic.Int64
	f := tokensource.FetcherFunc(func(context.Context) (*oauth2.Token, error) {
		return &oauth2.Token{AccessToken: fmt.Sprint("tok-", n.Add(1)), Expiry: clk.Now().Add(2 * time.Minute)}, nil
	})
	s := tokensource.New(f, tokensource.WithClock(clk), tokensource.WithEarlyRefresh(time.Minute, 0))
	defer s.Close()

	var bad atomic.Int32
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 5000 {
				if i%16 == g {
					// Move every token into its early-refresh window (or past its
					// expiry), so hits start background refreshes while others
					// invalidate.
					clk.Advance(61 * time.Second)
				}
				tok, err := s.TokenContext(context.Background())
				if err == nil && tok == nil {
					bad.Add(1)
					continue
				}
				if err != nil {
					t.Errorf("TokenContext: %v", err)
					return
				}
				if (g+i)%3 == 0 {
					s.Invalidate(tok)
				}
			}
		}()
	}
	wg.Wait()
	if b := bad.Load(); b != 0 {
		t.Fatalf("%d calls returned a nil token with a nil error", b)
	}
}

// TestShortLivedTokensAreUsedAndBackOff: tokens that live less than the expiry
// skew are used, not refetched on every call, the condition is logged once, and a
// vendor that keeps issuing them does not get a login storm.
func TestShortLivedTokensAreUsedAndBackOff(t *testing.T) {
	clk := clock.NewFake(t0)
	var logins atomic.Int32
	f := tokensource.FetcherFunc(func(context.Context) (*oauth2.Token, error) {
		n := logins.Add(1)
		// 2 s of life against the default 10 s skew.
		return &oauth2.Token{AccessToken: fmt.Sprint("short-", n), Expiry: clk.Now().Add(2 * time.Second)}, nil
	})
	var logs bytes.Buffer
	var mu sync.Mutex
	logger := slog.New(slog.NewTextHandler(&lockedWriter{w: &logs, mu: &mu}, nil))
	s := tokensource.New(f, tokensource.WithClock(clk), tokensource.WithLogger(logger))
	defer s.Close()

	// 100 calls over 10 s.
	for i := range 100 {
		tok, err := s.TokenContext(context.Background())
		if err != nil || tok == nil {
			t.Fatalf("call %d: %v, %v", i, tok, err)
		}
		clk.Advance(100 * time.Millisecond)
	}
	if n := logins.Load(); n > 6 {
		t.Fatalf("%d logins for 100 calls over 10 s; want a bounded few (backing off)", n)
	}
	mu.Lock()
	defer mu.Unlock()
	if c := strings.Count(logs.String(), "shorter than"); c != 1 {
		t.Fatalf("logged the short lifetime %d times, want once:\n%s", c, logs.String())
	}
}

// TestHugeExpiresInDoesNotOverflow: an absurd expires_in is capped, not wrapped
// around into a lifetime of a fraction of a second.
func TestHugeExpiresInDoesNotOverflow(t *testing.T) {
	clk := clock.NewFake(t0)
	var logins atomic.Int32
	f := tokensource.FetcherFunc(func(context.Context) (*oauth2.Token, error) {
		logins.Add(1)
		return &oauth2.Token{AccessToken: "t", ExpiresIn: 18446744074}, nil
	})
	s := tokensource.New(f, tokensource.WithClock(clk))
	defer s.Close()
	for range 10 {
		if _, err := s.TokenContext(context.Background()); err != nil {
			t.Fatal(err)
		}
		clk.Advance(time.Second)
	}
	if n := logins.Load(); n != 1 {
		t.Fatalf("%d logins, want 1", n)
	}
}

type lockedWriter struct {
	w  *bytes.Buffer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
