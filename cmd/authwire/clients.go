package main

// This file is the only place that knows the providers' Configs: the rest of
// the CLI decides a clientSpec and uses the vendorClient it gets back.

import (
	"context"
	"io"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/sony/gobreaker/v2"

	"github.com/authwire/authwire/breaker"
	"github.com/authwire/authwire/outcome"
	"github.com/authwire/authwire/provider"
	"github.com/authwire/authwire/providers/icekredit"
	"github.com/authwire/authwire/providers/nxcloud"
	"github.com/authwire/authwire/providers/vertexplay"
	"github.com/authwire/authwire/ratelimit"
	"github.com/authwire/authwire/retry"
)

// clientSpec is what the CLI decided about one vendor client: the options
// every vendor shares (built once from the flags, see app.build) and the
// vendor's own Config fields.
type clientSpec struct {
	vendor            string
	opts              provider.Options
	baseURL, loginURL string // checked; "" means the vendor's default
	getenv            func(string) string
	algorithm         string        // nxcloud
	clockOffset       time.Duration // nxcloud
	signature         string        // vertexplay
}

// vendorClient is one vendor's client as the CLI uses it: the provider kit's
// client that every vendor's Client embeds (Do, Outcome, URL, TokenSource,
// Logins), and the vendor's Client itself to close.
type vendorClient struct {
	*provider.Client
	vendor io.Closer
}

// newClient builds the vendor's client through its public Config: s.opts as
// they are, plus the vendor's own fields. Errors are usage errors: everything
// in a spec comes from flags and the environment.
func newClient(s clientSpec) (*vendorClient, error) {
	env := s.getenv
	switch s.vendor {
	case "nxcloud":
		c, err := nxcloud.New(nxcloud.Config{Options: s.opts, BaseURL: s.baseURL, Credentials: nxcloud.NewCredentials(env(envNXKey), env(envNXSecret)),
			Algorithm: nxcloud.Algorithm(s.algorithm), ClockOffset: s.clockOffset})
		if err != nil {
			return nil, &usageError{err}
		}
		return &vendorClient{c.Client, c}, nil
	case "icekredit":
		c, err := icekredit.New(icekredit.Config{Options: s.opts, BaseURL: s.baseURL, LoginURL: s.loginURL,
			Credentials: icekredit.NewCredentials(env(envIKMerchant), env(envIKPassword))})
		if err != nil {
			return nil, &usageError{err}
		}
		return &vendorClient{c.Client, c}, nil
	}
	ver, err := vertexplay.ParseSignatureVersion(s.signature)
	if err != nil {
		return nil, usagef("--signature %q is not v1 or v2", s.signature)
	}
	creds, err := vertexplay.NewCredentials(env(envVPAgent), env(envVPAPIKey), env(envVPSecret))
	if err != nil {
		return nil, usagef("%s/%s/%s: %v", envVPAgent, envVPAPIKey, envVPSecret, err)
	}
	c, err := vertexplay.New(vertexplay.Config{Options: s.opts, BaseURL: s.baseURL, Credentials: creds, SignatureVersion: ver})
	if err != nil {
		return nil, &usageError{err}
	}
	return &vendorClient{c.Client, c}, nil
}

// counters are what the CLI reports about the stack, counted through the
// framework's own hooks: retries by retry.Policy.OnRetry, breaker opens by
// breaker.Config.OnStateChange, rate-limit waits by wrapping the Limiter.
type counters struct {
	retries, waits, opens atomic.Int64
}

// waitThreshold is how long a Limiter.Wait must take to count as a wait: an
// uncontended Wait returns in microseconds (a Redis-backed one in about a
// millisecond).
const waitThreshold = 5 * time.Millisecond

// countingLimiter counts the Wait calls that actually waited, and tells -v.
type countingLimiter struct {
	ratelimit.Limiter
	waits  *atomic.Int64
	onWait func(d time.Duration)
}

func (l countingLimiter) Wait(ctx context.Context, key string) error {
	start := time.Now()
	err := l.Limiter.Wait(ctx, key)
	if d := time.Since(start); d >= waitThreshold {
		l.waits.Add(1)
		if l.onWait != nil {
			l.onWait(d)
		}
	}
	return err
}

// limiter wraps l so that its waits are counted (and reported to onWait).
func (c *counters) limiter(l ratelimit.Limiter, onWait func(time.Duration)) ratelimit.Limiter {
	return countingLimiter{Limiter: l, waits: &c.waits, onWait: onWait}
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
