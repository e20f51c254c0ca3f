package ratelimit_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/authwire/authwire/clock"
	"github.com/authwire/authwire/outcome"
	"github.com/authwire/authwire/ratelimit"
)

func TestAdaptiveAIMD(t *testing.T) {
	clk := clock.NewFake(time.Unix(0, 0))
	a := ratelimit.NewAdaptive(ratelimit.Config{Rate: 20, MinRate: 2, Increase: 1, Clock: clk})
	steps := []struct {
		kind outcome.Kind
		want float64
	}{
		{outcome.RateLimited, 10}, {outcome.RateLimited, 5}, {outcome.RateLimited, 2.5},
		{outcome.RateLimited, 2}, // the floor
		{outcome.Success, 3}, {outcome.Success, 4},
		{outcome.Transient, 4}, // not a rate signal
	}
	for i, s := range steps {
		a.Observe("k", outcome.Result{Kind: s.kind})
		if got := a.Rate("k"); got != s.want {
			t.Fatalf("step %d (%v): rate %v, want %v", i, s.kind, got, s.want)
		}
	}
	for range 100 {
		a.Observe("k", outcome.Result{Kind: outcome.Success})
	}
	if got := a.Rate("k"); got != 20 {
		t.Fatalf("recovered to %v, want the ceiling 20", got)
	}
	if a.Rate("other") != 20 {
		t.Fatal("keys are not independent")
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
	lim := ratelimit.NewAdaptive(ratelimit.Config{Rate: 10})
	// The vendor said "too frequent" (NXCloud 2206): halve the rate and pause.
	lim.Observe("nxcloud/acct-1", outcome.Result{Kind: outcome.RateLimited, After: time.Second})
	fmt.Println(lim.Rate("nxcloud/acct-1"))
	// Each success adds a little back.
	lim.Observe("nxcloud/acct-1", outcome.Result{Kind: outcome.Success})
	fmt.Println(lim.Rate("nxcloud/acct-1"))
	// Output:
	// 5
	// 5.5
}
