package roundtripper_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sony/gobreaker/v2"

	"github.com/authwire/authwire/breaker"
	"github.com/authwire/authwire/clock"
	"github.com/authwire/authwire/outcome"
	"github.com/authwire/authwire/ratelimit"
	"github.com/authwire/authwire/retry"
	"github.com/authwire/authwire/roundtripper"
)

// script answers request i with replies[i] (the last one repeats) and records
// each request's signature header.
type script struct {
	replies []func(w http.ResponseWriter)
	hits    atomic.Int32
	mu      sync.Mutex
	sigs    []string
}

func (s *script) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body)
	i := int(s.hits.Add(1)) - 1
	s.mu.Lock()
	s.sigs = append(s.sigs, r.Header.Get("X-Sig"))
	s.mu.Unlock()
	s.replies[min(i, len(s.replies)-1)](w)
}

func body(s string) func(w http.ResponseWriter) {
	return func(w http.ResponseWriter) { fmt.Fprint(w, s) }
}

func status(code int, hdr ...string) func(w http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		for i := 0; i+1 < len(hdr); i += 2 {
			w.Header().Set(hdr[i], hdr[i+1])
		}
		w.WriteHeader(code)
	}
}

// countingSigner signs with a fresh counter each attempt, like a nonce.
func countingSigner() roundtripper.Signer {
	var n atomic.Int32
	return roundtripper.SignerFunc(func(r *http.Request, body []byte) ([]byte, error) {
		r.Header.Set("X-Sig", fmt.Sprintf("nonce-%d", n.Add(1)))
		return body, nil
	})
}

func stack(t *testing.T, url string, cfg roundtripper.Config) *http.Client {
	t.Helper()
	cfg.Hosts = hostsOf(t, url)
	if cfg.Signer == nil && cfg.Token == nil {
		cfg.Signer = countingSigner()
	}
	if cfg.Classifier == nil {
		cfg.Classifier = classify
	}
	rt, err := roundtripper.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Transport: rt}
}

// drive runs fn in the background and advances the fake clock whenever the stack
// sleeps on it, until fn returns.
func drive(t *testing.T, clk *clock.Fake, step time.Duration, fn func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); fn() }()
	for {
		ctx, cancel := context.WithCancel(context.Background())
		go func() {
			select {
			case <-done:
				cancel()
			case <-ctx.Done():
			}
		}()
		err := clk.WaitForSleepers(ctx, 1)
		cancel()
		if err != nil {
			return // fn finished
		}
		clk.Advance(step)
	}
}

func TestRateLimitedInBodyIsSlowedAndRetried(t *testing.T) {
	sc := &script{replies: []func(http.ResponseWriter){
		body(`{"code":42900,"message":"too frequent"}`),
		body(`{"code":42900,"message":"too frequent"}`),
		body(`{"code":42900,"message":"too frequent"}`),
		body(`{"code":0}`),
	}}
	srv := httptest.NewServer(sc)
	defer srv.Close()
	clk := clock.NewFake(time.Unix(1e9, 0))
	lim := ratelimit.NewAdaptive(ratelimit.Config{Rate: 10, Clock: clk})
	client := stack(t, srv.URL, roundtripper.Config{
		Limiter:  lim,
		LimitKey: func(*http.Request) string { return "acme" },
		Retry:    &retry.Policy{MaxAttempts: 5, WaitMin: time.Millisecond, WaitMax: time.Millisecond},
	})
	var resp *http.Response
	var err error
	drive(t, clk, 100*time.Millisecond, func() {
		// A POST: rate-limited means unprocessed, so it is safe to send again.
		resp, err = client.Post(srv.URL, "application/json", strings.NewReader(`{"phone":"1"}`))
	})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != `{"code":0}` || sc.hits.Load() != 4 {
		t.Fatalf("body %s after %d sends, want success after 4", b, sc.hits.Load())
	}
	if r := lim.Rate("acme"); r >= 10 {
		t.Fatalf("rate = %v, want it cut below 10 after three 42900s", r)
	}
	// Every attempt was signed afresh.
	seen := map[string]bool{}
	for _, s := range sc.sigs {
		if s == "" || seen[s] {
			t.Fatalf("signatures %v: each attempt needs a new one", sc.sigs)
		}
		seen[s] = true
	}
}

func TestRetryAfterIsWaitedOnTheClock(t *testing.T) {
	sc := &script{replies: []func(http.ResponseWriter){status(429, "Retry-After", "2"), body(`{"code":0}`)}}
	srv := httptest.NewServer(sc)
	defer srv.Close()
	clk := clock.NewFake(time.Unix(1e9, 0))
	client := stack(t, srv.URL, roundtripper.Config{
		Limiter: ratelimit.NewAdaptive(ratelimit.Config{Rate: 100, Clock: clk}),
		Retry:   &retry.Policy{WaitMin: time.Millisecond, WaitMax: time.Millisecond},
	})
	done := make(chan error, 1)
	go func() {
		resp, err := client.Get(srv.URL)
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := clk.WaitForSleepers(ctx, 1); err != nil {
		t.Fatal("the retry never waited on the limiter")
	}
	if sc.hits.Load() != 1 {
		t.Fatalf("hits = %d before the wait ended", sc.hits.Load())
	}
	clk.Advance(1999 * time.Millisecond)
	if clk.Sleepers() != 1 || sc.hits.Load() != 1 {
		t.Fatal("retried before Retry-After elapsed")
	}
	clk.Advance(time.Millisecond)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if sc.hits.Load() != 2 {
		t.Fatalf("hits = %d, want 2", sc.hits.Load())
	}
}

func TestLimiterFailsFastPastTheDeadline(t *testing.T) {
	clk := clock.NewFake(time.Unix(1e9, 0))
	lim := ratelimit.NewAdaptive(ratelimit.Config{Rate: 10, Clock: clk})
	lim.Observe("k", outcome.Result{Kind: outcome.RateLimited, After: 10 * time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	var err error
	drive(t, clk, 10*time.Second, func() { err = lim.Wait(ctx, "k") }) // an hour is long enough
	if err != nil {
		t.Fatal(err)
	}
	if r := lim.Rate("k"); r != 5 {
		t.Fatalf("rate = %v after one rate-limited answer, want 5 (halved)", r)
	}
	lim.Observe("k", outcome.Result{Kind: outcome.RateLimited, After: 10 * time.Hour}) // capped by MaxPause (1 min)
	short, cancelShort := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancelShort()
	err = lim.Wait(short, "k")
	var we *ratelimit.WaitError
	if !errors.Is(err, ratelimit.ErrDeadline) || !errors.As(err, &we) || we.Key != "k" {
		t.Fatalf("err = %v, want a WaitError matching ErrDeadline", err)
	}
	if clk.Sleepers() != 0 {
		t.Fatal("slept although the wait could not fit")
	}
}

func TestNonIdempotentTimeoutIsNotResent(t *testing.T) {
	release := make(chan struct{})
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body) // the body arrived: the vendor may act on it
		hits.Add(1)
		<-release
	}))
	defer srv.Close()
	defer close(release)
	base := &http.Transport{ResponseHeaderTimeout: 100 * time.Millisecond}
	for _, tc := range []struct {
		name       string
		ctx        context.Context
		wantHits   int32
		wantUnknwn bool
	}{
		{"post sends an SMS", context.Background(), 1, true},
		{"post marked idempotent", retry.Idempotent(context.Background()), 3, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hits.Store(0)
			client := stack(t, srv.URL, roundtripper.Config{Base: base, Retry: &retry.Policy{MaxAttempts: 3, WaitMin: time.Millisecond, WaitMax: time.Millisecond}})
			req, _ := http.NewRequestWithContext(tc.ctx, http.MethodPost, srv.URL+"/sms", strings.NewReader(`{"phone":"1"}`))
			_, err := client.Do(req)
			if err == nil {
				t.Fatal("want an error")
			}
			if got := errors.Is(err, outcome.ErrUnknown); got != tc.wantUnknwn {
				t.Fatalf("errors.Is(err, ErrUnknown) = %v for %v", got, err)
			}
			if tc.wantUnknwn && !strings.Contains(err.Error(), "may have been processed") {
				t.Fatalf("error does not say the outcome is unknown: %v", err)
			}
			if h := hits.Load(); h != tc.wantHits {
				t.Fatalf("vendor received %d, want %d", h, tc.wantHits)
			}
		})
	}
}

func TestRefusedConnectionIsRetriedEvenForPost(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens: the request never leaves
	var retries atomic.Int32
	client := stack(t, url, roundtripper.Config{Retry: &retry.Policy{
		MaxAttempts: 3, WaitMin: time.Millisecond, WaitMax: time.Millisecond,
		OnRetry: func(*http.Request, int, outcome.Result) { retries.Add(1) },
	}})
	_, err := client.Post(url, "application/json", strings.NewReader("{}"))
	if err == nil || errors.Is(err, outcome.ErrUnknown) {
		t.Fatalf("err = %v, want a connection error that is not 'outcome unknown'", err)
	}
	if retries.Load() != 2 {
		t.Fatalf("retries = %d, want 2", retries.Load())
	}
}

// TestBreakerOpensHalfOpensAndCloses: three failures open the breaker, which
// then refuses without sending; after its timeout one probe goes, and its
// success closes it.
//
// gobreaker times the open state on the wall clock. The refusal is checked on a
// breaker whose timeout is an hour, so that no stall of the test can have
// half-opened it first; the way back to closed on one whose timeout is 20 ms,
// by the state changes as gobreaker makes them.
func TestBreakerOpensHalfOpensAndCloses(t *testing.T) {
	type acme struct {
		url     string
		sc      *script
		set     *breaker.Set
		client  *http.Client
		changes func() string
	}
	newAcme := func(timeout time.Duration) acme {
		sc := &script{replies: []func(http.ResponseWriter){status(500), status(502), status(503), body(`{"code":0}`)}}
		srv := httptest.NewServer(sc)
		t.Cleanup(srv.Close)
		var mu sync.Mutex
		var changes []string
		set := breaker.NewSet(breaker.Config{
			ConsecutiveFailures: 3,
			Timeout:             timeout,
			OnStateChange: func(_ string, from, to gobreaker.State) {
				mu.Lock()
				changes = append(changes, from.String()+"->"+to.String())
				mu.Unlock()
			},
		})
		client := stack(t, srv.URL, roundtripper.Config{
			Breakers:   set,
			BreakerKey: func(*http.Request) string { return "acme" },
			Retry:      &retry.Policy{MaxAttempts: 1},
		})
		for range 3 {
			resp, err := client.Get(srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
		}
		return acme{srv.URL, sc, set, client, func() string {
			mu.Lock()
			defer mu.Unlock()
			return strings.Join(changes, " ")
		}}
	}

	open := newAcme(time.Hour)
	if _, err := open.client.Get(open.url); !errors.Is(err, breaker.ErrOpen) || open.sc.hits.Load() != 3 {
		t.Fatalf("err = %v after %d sends, want ErrOpen without sending", err, open.sc.hits.Load())
	}

	a := newAcme(20 * time.Millisecond)
	if got := a.changes(); got != "closed->open" {
		t.Fatalf("state changes after three failures: %q, want closed->open", got)
	}
	deadline := time.Now().Add(5 * time.Second)
	for a.set.State("acme") != gobreaker.StateHalfOpen && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	resp, err := a.client.Get(a.url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	// A closed breaker with no Interval has no timer: this read is not racy.
	if s := a.set.State("acme"); s != gobreaker.StateClosed {
		t.Fatalf("state = %v after a successful probe", s)
	}
	if got := a.changes(); got != "closed->open open->half-open half-open->closed" {
		t.Fatalf("state changes: %s", got)
	}
	if n := a.sc.hits.Load(); n != 4 {
		t.Fatalf("%d sends, want 3 failures and 1 probe", n)
	}
}

func TestRateLimitedNeverOpensTheBreaker(t *testing.T) {
	sc := &script{replies: []func(http.ResponseWriter){body(`{"code":42900}`), status(429)}}
	srv := httptest.NewServer(sc)
	defer srv.Close()
	set := breaker.NewSet(breaker.Config{ConsecutiveFailures: 2})
	client := stack(t, srv.URL, roundtripper.Config{Breakers: set, Retry: &retry.Policy{MaxAttempts: 1}})
	for range 20 {
		resp, err := client.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	if s := set.State(strings.TrimPrefix(srv.URL, "http://")); s != gobreaker.StateClosed {
		t.Fatalf("state = %v after rate-limited answers", s)
	}
}

func TestTransientVendorCodeOnPostIsUnknown(t *testing.T) {
	sc := &script{replies: []func(http.ResponseWriter){body(`{"code":7,"message":"internal error"}`)}}
	srv := httptest.NewServer(sc)
	defer srv.Close()
	client := stack(t, srv.URL, roundtripper.Config{Retry: &retry.Policy{MaxAttempts: 3, WaitMin: time.Millisecond, WaitMax: time.Millisecond}})
	_, err := client.Post(srv.URL, "application/json", strings.NewReader(`{"amount":1}`))
	if !errors.Is(err, outcome.ErrUnknown) || sc.hits.Load() != 1 {
		t.Fatalf("err = %v after %d sends, want ErrUnknown after 1", err, sc.hits.Load())
	}
	// The same answer to a read is retried.
	sc.hits.Store(0)
	resp, err := client.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if sc.hits.Load() != 3 {
		t.Fatalf("GET sent %d times, want 3", sc.hits.Load())
	}
}

func TestPermanentIsNotRetried(t *testing.T) {
	sc := &script{replies: []func(http.ResponseWriter){body(`{"code":11,"message":"parameters error"}`)}}
	srv := httptest.NewServer(sc)
	defer srv.Close()
	client := stack(t, srv.URL, roundtripper.Config{})
	resp, err := client.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body) // the body is still there for the caller
	resp.Body.Close()
	if sc.hits.Load() != 1 || !strings.Contains(string(b), "parameters error") {
		t.Fatalf("hits %d, body %s", sc.hits.Load(), b)
	}
}
