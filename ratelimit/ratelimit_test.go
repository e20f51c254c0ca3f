package ratelimit_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"testing"
	"time"

	"github.com/authwire/authwire/clock"
	"github.com/authwire/authwire/outcome"
	"github.com/authwire/authwire/ratelimit"
)

func TestAdaptiveAIMD(t *testing.T) {
	clk := clock.NewFake(time.Unix(0, 0))
	a := ratelimit.NewAdaptive(ratelimit.Config{Rate: 20, MinRate: 2, Increase: 1, Pause: time.Second, Clock: clk})
	steps := []struct {
		advance time.Duration
		kind    outcome.Kind
		want    float64
	}{
		{0, outcome.RateLimited, 10},
		{0, outcome.RateLimited, 10}, // same episode: already paused, not cut again
		{time.Second, outcome.RateLimited, 5},
		{time.Second, outcome.RateLimited, 2.5},
		{time.Second, outcome.RateLimited, 2},        // the floor
		{500 * time.Millisecond, outcome.Success, 2}, // still paused: no recovery
		{time.Second, outcome.Success, 3.5},          // 1.5 s since the cut, 1 req/s per s
		{2 * time.Second, outcome.Success, 5.5},
		{0, outcome.Success, 5.5}, // more successes in the same instant add nothing
		{time.Second, outcome.Transient, 5.5},
	}
	for i, s := range steps {
		clk.Advance(s.advance)
		a.Observe("k", outcome.Result{Kind: s.kind})
		if got := a.Rate("k"); got != s.want {
			t.Fatalf("step %d (%v): rate %v, want %v", i, s.kind, got, s.want)
		}
	}
	clk.Advance(time.Minute)
	a.Observe("k", outcome.Result{Kind: outcome.Success})
	if got := a.Rate("k"); got != 20 {
		t.Fatalf("recovered to %v, want the ceiling 20", got)
	}
	if a.Rate("other") != 20 {
		t.Fatal("keys are not independent")
	}
}

func TestPauseReleasesWaitersAtThePace(t *testing.T) {
	clk := clock.NewFake(time.Unix(0, 0))
	a := ratelimit.NewAdaptive(ratelimit.Config{Rate: 10, Clock: clk})
	a.Observe("k", outcome.Result{Kind: outcome.RateLimited, After: 2 * time.Second}) // now 5 req/s
	var waits []time.Duration
	for range 3 {
		start := clk.Now()
		done := make(chan error, 1)
		go func() { done <- a.Wait(context.Background(), "k") }()
		// Move the fake clock in 100 ms steps while the waiter sleeps on it.
		guard := time.Now().Add(10 * time.Second)
	wait:
		for time.Now().Before(guard) {
			select {
			case err := <-done:
				if err != nil {
					t.Fatal(err)
				}
				break wait
			default:
			}
			if clk.Sleepers() > 0 {
				clk.Advance(100 * time.Millisecond)
			}
			runtime.Gosched()
		}
		waits = append(waits, clk.Now().Sub(start))
	}
	// The first leaves when the pause ends; the next ones 200 ms apart (5 req/s),
	// not all together.
	if waits[0] < 2*time.Second || waits[1] < 200*time.Millisecond || waits[2] < 200*time.Millisecond {
		t.Fatalf("waits %v", waits)
	}
}

func TestWaitHonoursPauseOnTheClock(t *testing.T) {
	clk := clock.NewFake(time.Unix(0, 0))
	a := ratelimit.NewAdaptive(ratelimit.Config{Rate: 1000, Clock: clk})
	a.Observe("k", outcome.Result{Kind: outcome.RateLimited, After: 3 * time.Second})
	done := make(chan error, 1)
	go func() { done <- a.Wait(context.Background(), "k") }()
	if err := clk.WaitForSleepers(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	clk.Advance(2 * time.Second)
	select {
	case <-done:
		t.Fatal("woke before the pause ended")
	default:
	}
	clk.Advance(time.Second)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestWaitCancelled(t *testing.T) {
	clk := clock.NewFake(time.Unix(0, 0))
	a := ratelimit.NewAdaptive(ratelimit.Config{Rate: 1, Clock: clk})
	a.Observe("k", outcome.Result{Kind: outcome.RateLimited, After: time.Minute})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Wait(ctx, "k") }()
	clk.WaitForSleepers(context.Background(), 1)
	cancel()
	if err := <-done; err != context.Canceled {
		t.Fatalf("err = %v", err)
	}
}

func ExampleNewAdaptive() {
	clk := clock.NewFake(time.Unix(0, 0)) // production code leaves Clock nil
	lim := ratelimit.NewAdaptive(ratelimit.Config{Rate: 10, Clock: clk})
	// The vendor said "too frequent" (code 42900): halve the rate and pause.
	lim.Observe("acme/acct-1", outcome.Result{Kind: outcome.RateLimited, After: time.Second})
	fmt.Println(lim.Rate("acme/acct-1"))
	// Successes win the rate back slowly: 1 req/s per second by default here.
	clk.Advance(3 * time.Second)
	lim.Observe("acme/acct-1", outcome.Result{Kind: outcome.Success})
	fmt.Println(lim.Rate("acme/acct-1"))
	// Output:
	// 5
	// 8
}

// TestIdleEvictionKeepsAPause: dropping idle keys must not forget what the vendor
// said: a key paused for longer than the idle TTL is still paused afterwards.
func TestIdleEvictionKeepsAPause(t *testing.T) {
	clk := clock.NewFake(time.Unix(0, 0))
	a := ratelimit.NewAdaptive(ratelimit.Config{Rate: 10, Pause: 30 * time.Minute, MaxPause: time.Hour, IdleTTL: time.Minute, Clock: clk})
	a.Observe("paused", outcome.Result{Kind: outcome.RateLimited}) // 30 minutes
	a.Observe("idle", outcome.Result{Kind: outcome.Success})
	clk.Advance(20 * time.Minute)
	a.Observe("other", outcome.Result{Kind: outcome.Success}) // runs the sweep that is due

	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	short, cancelShort := context.WithDeadline(ctx, time.Now().Add(time.Minute))
	defer cancelShort()
	if err := a.Wait(short, "paused"); !errors.Is(err, ratelimit.ErrDeadline) {
		t.Fatalf("Wait on the paused key: %v; want ErrDeadline (10 more minutes of pause)", err)
	}
	if got := a.Rate("paused"); got != 5 {
		t.Fatalf("rate of the paused key %v, want the lowered 5", got)
	}
	if err := a.Wait(ctx, "idle"); err != nil {
		t.Fatalf("Wait on an idle key: %v", err)
	}
}

// TestTransportWait: Wait draws from the budget RoundTrip would, under the
// Transport's key, without sending.
func TestTransportWait(t *testing.T) {
	for _, tc := range []struct {
		name string
		key  func(*http.Request) string
		want string
	}{
		{"host", nil, "api.example.com"},
		{"Key", func(*http.Request) string { return "acme" }, "acme"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lim := ratelimit.NewAdaptive(ratelimit.Config{Rate: 1, Burst: 1, Clock: clock.NewFake(time.Unix(0, 0))})
			tr := &ratelimit.Transport{Limiter: lim, Key: tc.key} // Wait sends nothing: no Base
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "https://api.example.com/x", nil)
			if err := tr.Wait(req); err != nil {
				t.Fatalf("first wait: %v", err)
			}
			// The bucket is empty now: the next token is a second away, past the deadline.
			var we *ratelimit.WaitError
			if err := tr.Wait(req); !errors.As(err, &we) || we.Key != tc.want {
				t.Fatalf("second wait: %v, want a WaitError for key %q", err, tc.want)
			}
		})
	}
}
