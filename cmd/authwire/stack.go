package main

import (
	"context"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/sony/gobreaker/v2"

	"github.com/authwire/authwire/breaker"
	"github.com/authwire/authwire/outcome"
	"github.com/authwire/authwire/ratelimit"
	"github.com/authwire/authwire/retry"
)

// counters are what the CLI reports about the stack, counted through the
// framework's own hooks: retries by retry.Policy.OnRetry, breaker opens by
// breaker.Config.OnStateChange, rate-limit waits by wrapping the Limiter, logins
// as each vendor allows (see loginCounter in call.go and the simulators in the
// demo).
type counters struct {
	retries, waits, opens, logins atomic.Int64
}

// waitThreshold is how long a Limiter.Wait must take to count as a wait: an
// uncontended Wait returns in microseconds (a Redis-backed one in about a
// millisecond).
const waitThreshold = 5 * time.Millisecond

// countingLimiter counts the Wait calls that actually waited.
type countingLimiter struct {
	ratelimit.Limiter
	waits *atomic.Int64
}

func (l countingLimiter) Wait(ctx context.Context, key string) error {
	start := time.Now()
	err := l.Limiter.Wait(ctx, key)
	if time.Since(start) >= waitThreshold {
		l.waits.Add(1)
	}
	return err
}

// limiter wraps l so that its waits are counted.
func (c *counters) limiter(l ratelimit.Limiter) ratelimit.Limiter {
	return countingLimiter{Limiter: l, waits: &c.waits}
}

// breakers returns a breaker set whose openings are counted.
func (c *counters) breakers(cfg breaker.Config) *breaker.Set {
	prev := cfg.OnStateChange
	cfg.OnStateChange = func(name string, from, to gobreaker.State) {
		if to == gobreaker.StateOpen {
			c.opens.Add(1)
		}
		if prev != nil {
			prev(name, from, to)
		}
	}
	return breaker.NewSet(cfg)
}

// retry returns p with its re-sends counted.
func (c *counters) retry(p retry.Policy) *retry.Policy {
	prev := p.OnRetry
	p.OnRetry = func(req *http.Request, attempt int, r outcome.Result) {
		c.retries.Add(1)
		if prev != nil {
			prev(req, attempt, r)
		}
	}
	return &p
}
