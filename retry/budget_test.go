package retry_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authwire/authwire/clock"
	"github.com/authwire/authwire/outcome"
	"github.com/authwire/authwire/ratelimit"
	"github.com/authwire/authwire/retry"
)

// autoClock is a fake clock whose Sleep records the duration and moves the time
// on at once: the test sees every wait the transport asked for, and none blocks.
type autoClock struct {
	*clock.Fake
	mu     sync.Mutex
	sleeps []time.Duration
}

func newAutoClock() *autoClock { return &autoClock{Fake: clock.NewFake(time.Unix(0, 0))} }

func (c *autoClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	c.sleeps = append(c.sleeps, d)
	c.mu.Unlock()
	c.Advance(d)
	return ctx.Err()
}

func (c *autoClock) waits() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.sleeps...)
}

// scripted answers with the statuses in order (the last one repeats), setting
// Retry-After when retryAfter is not empty.
func scripted(t *testing.T, retryAfter string, statuses ...int) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := int(n.Add(1)) - 1
		if retryAfter != "" {
			w.Header().Set("Retry-After", retryAfter)
		}
		w.WriteHeader(statuses[min(i, len(statuses)-1)])
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

// TestRetryAfterBeyondBudget: a Retry-After longer than what is left of the budget
// is not slept: the caller gets a typed error at once, carrying the vendor's delay.
func TestRetryAfterBeyondBudget(t *testing.T) {
	for _, tc := range []struct {
		name    string
		deferRA bool // a limiter inside honours Retry-After (roundtripper.New's shape)
	}{{"retry honours Retry-After", false}, {"limiter honours Retry-After", true}} {
		t.Run(tc.name, func(t *testing.T) {
			srv, hits := scripted(t, "300", http.StatusTooManyRequests, http.StatusOK)
			clk := newAutoClock()
			var base http.RoundTripper = srv.Client().Transport
			if tc.deferRA {
				base = &ratelimit.Transport{Limiter: ratelimit.NewAdaptive(ratelimit.Config{Clock: clk}), Base: base}
			}
			rt := &retry.Transport{Policy: retry.Policy{MaxElapsed: time.Minute, Clock: clk, DeferRetryAfter: tc.deferRA}, Base: base}
			req, _ := http.NewRequest(http.MethodPost, srv.URL+"/sms", strings.NewReader(`{}`))
			resp, err := rt.RoundTrip(req)
			if err == nil {
				resp.Body.Close()
				t.Fatalf("status %d after %v of waits; want an error at once", resp.StatusCode, clk.waits())
			}
			var re *retry.Error
			if !errors.As(err, &re) || !errors.Is(err, retry.ErrBudget) {
				t.Fatalf("err = %v (%T); want a *retry.Error matching ErrBudget", err, err)
			}
			if re.Wait != 5*time.Minute || re.Last.Kind != outcome.RateLimited || re.Attempts != 1 {
				t.Fatalf("Error = %+v; want Wait 5m, Last rate-limited, 1 attempt", re)
			}
			if k, _ := outcome.KindOf(err); k != outcome.RateLimited {
				t.Fatalf("KindOf = %v, want rate-limited", k)
			}
			if w := clk.waits(); len(w) != 0 {
				t.Fatalf("waited %v; want no wait at all", w)
			}
			if n := hits.Load(); n != 1 {
				t.Fatalf("vendor saw %d requests, want 1", n)
			}
		})
	}
}

// TestBudgetCountsTheWaits: backoff waits spend the budget; the retry whose wait
// would end after it is not made.
func TestBudgetCountsTheWaits(t *testing.T) {
	srv, hits := scripted(t, "", http.StatusServiceUnavailable)
	clk := newAutoClock()
	rt := &retry.Transport{Policy: retry.Policy{MaxAttempts: 100, WaitMin: time.Second, WaitMax: time.Second,
		Backoff:    func(lo, _ time.Duration, _ int, _ *http.Response) time.Duration { return lo },
		MaxElapsed: 3500 * time.Millisecond, Clock: clk}}
	req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
	resp, err := rt.RoundTrip(req)
	if err == nil {
		resp.Body.Close()
		t.Fatal("no error")
	}
	var re *retry.Error
	if !errors.As(err, &re) || re.Wait != time.Second || re.Attempts != 4 {
		t.Fatalf("err = %v; want a budget error after 4 attempts (3 s of waits), next wait 1 s", err)
	}
	if n := hits.Load(); n != 4 {
		t.Fatalf("vendor saw %d requests, want 4", n)
	}
}

// TestFirstWaitIsAround100ms: the default backoff is what the docs say:
// exponential with jitter, the first wait between 100 and 200 ms.
func TestFirstWaitIsAround100ms(t *testing.T) {
	srv, _ := scripted(t, "", http.StatusServiceUnavailable, http.StatusServiceUnavailable, http.StatusServiceUnavailable, http.StatusOK)
	clk := newAutoClock()
	rt := &retry.Transport{Policy: retry.Policy{Clock: clk}}
	req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
	resp, err := rt.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	w := clk.waits()
	if len(w) != 3 {
		t.Fatalf("waits %v, want 3", w)
	}
	for i, lo := range []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond} {
		if w[i] < lo || w[i] >= 2*lo {
			t.Fatalf("wait %d = %v, want in [%v, %v)", i+1, w[i], lo, 2*lo)
		}
	}
}

func TestDefaultBackoff(t *testing.T) {
	lo, hi := 100*time.Millisecond, 5*time.Second
	for n, want := range []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond, 1600 * time.Millisecond, 3200 * time.Millisecond} {
		var sum time.Duration
		const draws = 2000
		distinct := map[time.Duration]bool{}
		for range draws {
			d := retry.DefaultBackoff(lo, hi, n, nil)
			if d < want || d >= min(2*want, hi+1) {
				t.Fatalf("n=%d: %v, want in [%v, %v)", n, d, want, min(2*want, hi))
			}
			sum += d
			distinct[d] = true
		}
		if len(distinct) < draws/2 {
			t.Fatalf("n=%d: %d distinct waits in %d draws: no jitter", n, len(distinct), draws)
		}
		if mean := sum / draws; mean < want*5/4 || mean > want*7/4 {
			t.Fatalf("n=%d: mean %v, want about %v", n, mean, want*3/2)
		}
	}
	if d := retry.DefaultBackoff(lo, hi, 10, nil); d != hi {
		t.Fatalf("n=10: %v, want the cap %v", d, hi)
	}
}

// TestCancelDuringBackoffAfterUnprocessed: a rate-limited POST was refused
// unprocessed; a caller who gives up during the backoff gets the context's error
// alone. After an attempt that may have been processed, it gets ErrUnknown too.
func TestCancelDuringBackoff(t *testing.T) {
	for _, tc := range []struct {
		name    string
		status  int
		unknown bool
	}{{"after a refusal", http.StatusTooManyRequests, false}, {"after a 503", http.StatusServiceUnavailable, true}} {
		t.Run(tc.name, func(t *testing.T) {
			srv, _ := scripted(t, "", tc.status)
			clk := clock.NewFake(time.Unix(0, 0))
			rt := &retry.Transport{Policy: retry.Policy{Clock: clk}}
			ctx, cancel := context.WithCancel(retry.Idempotent(context.Background()))
			defer cancel()
			done := make(chan error, 1)
			go func() {
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL, strings.NewReader(`{}`))
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
			if !errors.Is(err, context.Canceled) || errors.Is(err, outcome.ErrUnknown) != tc.unknown {
				t.Fatalf("err = %v; want context.Canceled, ErrUnknown %v", err, tc.unknown)
			}
		})
	}
}
