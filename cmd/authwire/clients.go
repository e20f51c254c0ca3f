package main

// This file is the only place that knows the providers' Configs: the rest of
// the CLI decides a clientSpec and uses the vendorClient it gets back.

import (
	"context"
	"net/http"
	"strconv"
	"strings"
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
	"github.com/authwire/authwire/tokensource"
)

// clientSpec is what the CLI decided about one vendor client.
type clientSpec struct {
	vendor            string
	baseURL, loginURL string // checked; "" means the vendor's default
	path              string // the PATH of "call"; "" for "token"
	getenv            func(string) string
	wire              http.RoundTripper // innermost transport; nil means http.DefaultTransport
	limiter           ratelimit.Limiter
	breakers          *breaker.Set
	retry             *retry.Policy
	tokens            tokensource.Store // the disk cache or Redis; nil means none
	bizType, action   string            // nxcloud; "" means the known operation of path
	algorithm         string            // nxcloud
	clockOffset       time.Duration     // nxcloud
	signature         string            // vertexplay
}

// vendorClient is one vendor's full stack as the CLI uses it.
type vendorClient struct {
	http     *http.Client
	url      string // base URL + path
	classify outcome.Classifier
	prepare  func(*http.Request)                   // vendor headers on each request
	logins   func() int64                          // logins this process made
	token    func(context.Context) (string, error) // nil: the vendor has no token
	close    func()
}

// newClient builds the provider client spec asks for. Errors are usage errors:
// everything in a spec comes from flags and the environment.
func newClient(s clientSpec) (*vendorClient, error) {
	vc := &vendorClient{prepare: func(*http.Request) {}}
	env := s.getenv
	switch s.vendor {
	case "nxcloud":
		biz, action := s.bizType, s.action
		if op, ok := nxcloud.OperationOf(s.path); ok {
			biz, action = firstNonEmpty(biz, strconv.Itoa(int(op.BizType))), firstNonEmpty(action, op.Action)
		}
		if biz == "" || action == "" {
			return nil, usagef("%s is not a known operation: give --biz-type and --action", s.path)
		}
		if _, err := strconv.Atoi(biz); err != nil {
			return nil, usagef("--biz-type %q is not a number", biz)
		}
		c, err := nxcloud.New(nxcloud.Config{BaseURL: s.baseURL, Credentials: nxcloud.NewCredentials(env(envNXKey), env(envNXSecret)),
			Options:   provider.Options{Transport: s.wire, Limiter: s.limiter, Breakers: s.breakers, Retry: s.retry},
			Algorithm: nxcloud.Algorithm(s.algorithm), ClockOffset: s.clockOffset})
		if err != nil {
			return nil, &usageError{err}
		}
		vc.http, vc.classify, vc.close = c.HTTPClient(), nxcloud.Classify, func() { c.Close() }
		vc.url = strings.TrimRight(firstNonEmpty(s.baseURL, nxcloud.DefaultBaseURL), "/") + s.path
		vc.prepare = func(r *http.Request) {
			r.Header[nxcloud.HeaderBizType], r.Header[nxcloud.HeaderAction] = []string{biz}, []string{action}
		}
		vc.logins = func() int64 { return 0 } // signs every request: no session
	case "icekredit":
		c, err := icekredit.New(icekredit.Config{LoginURL: s.loginURL, BaseURL: s.baseURL,
			Credentials: icekredit.NewCredentials(env(envIKMerchant), env(envIKPassword)),
			Options:     provider.Options{Transport: s.wire, Limiter: s.limiter, Breakers: s.breakers, Retry: s.retry, TokenStore: s.tokens}})
		if err != nil {
			return nil, &usageError{err}
		}
		vc.http, vc.classify, vc.logins, vc.close = c.HTTPClient(), icekredit.Classify, c.Logins, func() { c.Close() }
		vc.url = strings.TrimRight(firstNonEmpty(s.baseURL, icekredit.DefaultBaseURL), "/") + s.path
		vc.prepare = func(r *http.Request) { r.Header.Set("Content-Type", "application/json; charset=utf-8") }
		vc.token = func(ctx context.Context) (string, error) {
			tok, err := c.TokenSource().TokenContext(ctx)
			if err != nil {
				return "", err
			}
			return tok.AccessToken, nil
		}
	case "vertexplay":
		ver, err := vertexplay.ParseSignatureVersion(s.signature)
		if err != nil {
			return nil, usagef("--signature %q is not v1 or v2", s.signature)
		}
		creds, err := vertexplay.NewCredentials(env(envVPAgent), env(envVPAPIKey), env(envVPSecret))
		if err != nil {
			return nil, usagef("%s/%s/%s: %v", envVPAgent, envVPAPIKey, envVPSecret, err)
		}
		c, err := vertexplay.New(vertexplay.Config{BaseURL: s.baseURL, Credentials: creds, SignatureVersion: ver, Options: provider.Options{
			Transport: s.wire, Limiter: s.limiter, Breakers: s.breakers, Retry: s.retry, TokenStore: s.tokens}})
		if err != nil {
			return nil, &usageError{err}
		}
		vc.http, vc.classify, vc.logins, vc.close = c.HTTPClient(), vertexplay.Classify, c.Logins, func() { c.Close() }
		vc.url = strings.TrimRight(s.baseURL, "/") + s.path
		vc.token = func(ctx context.Context) (string, error) {
			tok, err := c.TokenSource().TokenContext(ctx)
			if err != nil {
				return "", err
			}
			return tok.AccessToken, nil
		}
	}
	return vc, nil
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
