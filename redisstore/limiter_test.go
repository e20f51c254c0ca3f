package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authwire/authwire/clock"
	"github.com/authwire/authwire/outcome"
	"github.com/authwire/authwire/ratelimit"
	"github.com/authwire/authwire/redisstore"
)

// TestLimiterSharedBudget: two replicas draw from one budget, so together they
// take as long as one replica would alone for the same number of requests.
func TestLimiterSharedBudget(t *testing.T) {
	rdb, prefix := testRedis(t)
	cfg := ratelimit.Config{Rate: 50, Burst: 1}
	replicas := []*redisstore.Limiter{
		redisstore.New(rdb, redisstore.WithPrefix(prefix)).Limiter(cfg),
		redisstore.New(rdb, redisstore.WithPrefix(prefix)).Limiter(cfg),
	}
	const each = 10
	start := time.Now()
	var wg sync.WaitGroup
	for _, l := range replicas {
		wg.Go(func() {
			for range each {
				if err := l.Wait(context.Background(), "vendor"); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	// 20 requests at 50/s with a burst of 1: at least 19 intervals of 20 ms.
	// Two local limiters would have needed 9 intervals (180 ms).
	if d := time.Since(start); d < 340*time.Millisecond {
		t.Fatalf("20 requests took %v: the budget is not shared (want >= 380 ms)", d)
	}
}

// TestLimiterSharedSlowDown: one replica sees a rate-limited answer; the other
// pauses and slows down too, and successes anywhere bring the rate back.
func TestLimiterSharedSlowDown(t *testing.T) {
	rdb, prefix := testRedis(t)
	cfg := ratelimit.Config{Rate: 100, Burst: 10, Decrease: 0.5, Increase: 10}
	var pausedAt time.Time
	a := redisstore.New(rdb, redisstore.WithPrefix(prefix)).Limiter(cfg)
	b := redisstore.New(rdb, redisstore.WithPrefix(prefix)).Limiter(cfg)
	ctx := context.Background()

	if err := b.Wait(ctx, "nx"); err != nil {
		t.Fatal(err)
	}
	pausedAt = time.Now()
	a.Observe("nx", outcome.Result{Kind: outcome.RateLimited, After: 400 * time.Millisecond})
	if r := b.Rate(ctx, "nx"); r != 50 {
		t.Fatalf("B's rate after A saw 42900 = %v, want 50", r)
	}
	// Answers to requests already in flight, arriving during the pause, extend
	// the pause without cutting the rate again.
	b.Observe("nx", outcome.Result{Kind: outcome.RateLimited})
	if r := a.Rate(ctx, "nx"); r != 50 {
		t.Fatalf("rate after a second 42900 within the pause = %v, want 50", r)
	}
	// B is paused: a deadline shorter than the pause fails fast with
	// ErrDeadline. (400 ms: the Redis call must answer within it, on a machine
	// that may be running twenty other processes.)
	short, cancel := context.WithTimeout(ctx, 400*time.Millisecond)
	err := b.Wait(short, "nx")
	cancel()
	var we *ratelimit.WaitError
	if !errors.Is(err, ratelimit.ErrDeadline) || !errors.As(err, &we) || we.Wait < 500*time.Millisecond {
		t.Fatalf("B.Wait during A's pause = %v, want a WaitError of ~1s (the extended pause)", err)
	}
	// Another key is not affected: it would wait out the pause too (about a
	// second) and fail as fast.
	short, cancel = context.WithTimeout(ctx, 400*time.Millisecond)
	defer cancel()
	if err := b.Wait(short, "other"); err != nil {
		t.Fatalf("other key: %v", err)
	}
	// Recovery is over time, by Redis's clock, not per success: a burst of
	// successes right after the pause gains next to nothing...
	time.Sleep(time.Until(pausedAt.Add(time.Second))) // Redis's clock cannot be faked: let the pause pass
	for range 20 {
		b.Observe("nx", outcome.Result{Kind: outcome.Success})
	}
	if r := a.Rate(ctx, "nx"); r < 50 || r > 75 {
		t.Fatalf("rate after 20 quick successes = %v, want barely above 50 (Increase is 10/s)", r)
	}
	// ...and time does the rest, seen by both.
	time.Sleep(time.Second)
	a.Observe("nx", outcome.Result{Kind: outcome.Success})
	if r := b.Rate(ctx, "nx"); r < 60 {
		t.Fatalf("rate a second later = %v, want >= 60", r)
	}
}

// TestLimiterFallback: with Redis unreachable the limiter is a local Adaptive:
// requests go through, it still adapts, and the outage is logged once.
func TestLimiterFallback(t *testing.T) {
	var logs logBuffer
	f := redisstore.New(deadRedis(t), redisstore.WithLogger(logs.logger()), redisstore.WithRetryInterval(time.Millisecond))
	l := f.Limiter(ratelimit.Config{Rate: 1000, Burst: 10})
	ctx := context.Background()
	for range 20 {
		if err := l.Wait(ctx, "k"); err != nil {
			t.Fatalf("Wait without Redis: %v", err)
		}
		l.Observe("k", outcome.Result{Kind: outcome.Success})
	}
	l.Observe("k", outcome.Result{Kind: outcome.RateLimited, After: time.Second})
	if r := l.Rate(ctx, "k"); r != 500 {
		t.Fatalf("local fallback rate = %v, want 500", r)
	}
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if err := l.Wait(short, "k"); !errors.Is(err, ratelimit.ErrDeadline) {
		t.Fatalf("local fallback during pause: %v, want ErrDeadline", err)
	}
	if f.Available() {
		t.Fatal("Available() = true with Redis down")
	}
	if n := strings.Count(logs.String(), "redis unreachable"); n != 1 {
		t.Fatalf("outage logged %d times, want once:\n%s", n, logs.String())
	}
}

func TestSilentByDefault(t *testing.T) {
	// No logger: nothing may be written anywhere; a panic or a nil logger would
	// show here.
	l := redisstore.New(deadRedis(t)).Limiter(ratelimit.Config{})
	if err := l.Wait(context.Background(), "k"); err != nil {
		t.Fatal(err)
	}
}

// TestLimiterForgetsIdleKeys: the rates a replica remembers, to skip needless
// writes, go with the key's idleness, as the local limiter's buckets do.
func TestLimiterForgetsIdleKeys(t *testing.T) {
	rdb, prefix := testRedis(t)
	clk := clock.NewFake(time.Now())
	l := redisstore.New(rdb, redisstore.WithPrefix(prefix)).Limiter(ratelimit.Config{Rate: 1000, Burst: 1000, IdleTTL: time.Minute, Clock: clk})
	ctx := context.Background()
	for i := range 200 {
		key := fmt.Sprint("host-", i)
		if err := l.Wait(ctx, key); err != nil {
			t.Fatal(err)
		}
		l.Observe(key, outcome.Result{Kind: outcome.Success})
	}
	if n := l.SeenKeys(); n != 200 {
		t.Fatalf("%d keys remembered after 200, want 200", n)
	}
	// Uses of the key looked up last are dated by the next sweep, so the keys go
	// at the sweep after that: a new key runs the sweep that is due.
	for _, key := range []string{"next", "last"} {
		clk.Advance(2 * time.Minute)
		l.Observe(key, outcome.Result{Kind: outcome.Success})
	}
	if n := l.SeenKeys(); n > 2 {
		t.Fatalf("%d keys remembered once the 200 went idle, want at most the 2 used since", n)
	}
}

// TestWarningsBounded: a fleet remembers at most 64 one-time warnings, so
// tokens sealed in ever new ways cannot grow its memory.
func TestWarningsBounded(t *testing.T) {
	f := redisstore.New(deadRedis(t))
	first := 0
	for i := range 1000 {
		if f.FirstTime(fmt.Sprint("unknown key ", i)) {
			first++
		}
	}
	if first != 64 {
		t.Fatalf("%d warnings logged of 1,000 distinct ones, want the first 64", first)
	}
	if f.FirstTime("unknown key 0") {
		t.Fatal("a warning was logged twice")
	}
}
