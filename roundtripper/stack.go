package roundtripper

import (
	"errors"
	"log/slog"
	"net/http"
	"time"

	"golang.org/x/oauth2"

	"github.com/authwire/authwire/breaker"
	"github.com/authwire/authwire/outcome"
	"github.com/authwire/authwire/ratelimit"
	"github.com/authwire/authwire/retry"
)

// Config describes one vendor credential and the protection around it, for [New].
type Config struct {
	// Hosts are the origins the credential is for. Required.
	Hosts Hosts
	// Classifier is the vendor's code table; nil classifies by HTTP status only.
	Classifier outcome.Classifier

	// Token, if set, puts a token on every request and re-authenticates once when
	// the vendor rejects it. TokenHeader and TokenFormat as in [Token].
	Token       TokenSource
	TokenHeader string
	TokenFormat func(*oauth2.Token) string
	// Signer, if set, signs every attempt.
	Signer Signer

	// Limiter, if set, paces attempts per key (LimitKey, default the host).
	Limiter  ratelimit.Limiter
	LimitKey func(*http.Request) string
	// Breakers, if set, guard attempts per key (BreakerKey, default the host).
	Breakers   *breaker.Set
	BreakerKey func(*http.Request) string
	// Retry is the retry policy; nil means retry.Policy{} (4 attempts). Set
	// MaxAttempts to 1 to turn retries off.
	Retry *retry.Policy

	// Base sends the request; nil means http.DefaultTransport.
	Base http.RoundTripper

	// Vendor names the vendor in logs and metrics ("nxcloud").
	Vendor string
	// Logger, if set, gets one line per re-auth, retry and rate-limited answer,
	// and at debug level one per attempt with headers redacted by allow-list
	// ([RedactHeaders]). Never a secret, token, signature or body. Silent when nil.
	Logger *slog.Logger
}

// New composes the authwire stack. The order, outermost first, and why:
//
//  1. retry — outermost, so that every layer below runs again for each attempt:
//     the attempt is paced, counted, re-authenticated and freshly signed.
//  2. rate limiter — per attempt, because every attempt spends the vendor's
//     budget; a 2206 storm is absorbed here (the key slows down and pauses for
//     Retry-After, for all goroutines sharing it) instead of being hammered by
//     retries. Retry's own backoff defers the pause to it.
//  3. circuit breaker — per attempt, so each attempt is one health sample and an
//     open breaker refuses before anything is signed or sent.
//  4. token + re-auth — gets the token (single flight), and on a rejection
//     invalidates exactly that token and re-sends once; nested in the retry, not
//     around it, so one rejection costs one re-login, not one per retry.
//  5. signer — last before the wire: a new timestamp, nonce, IV and signature
//     on every send, including the re-auth re-send, over the final body.
//  6. base transport.
//
// On the way back the first layer that looks at the response classifies it with
// Classifier, reading the body once and restoring it; every other layer reads the
// same outcome. The body is buffered once, by the retry layer, and replayed without
// copying by the layers below.
//
// The request is sent through the credential layers only if its origin is in
// Hosts; the limiter, breaker and retry apply to every request.
func New(cfg Config) (http.RoundTripper, error) {
	if len(cfg.Hosts) == 0 {
		return nil, ErrNoHosts
	}
	if cfg.Token == nil && cfg.Signer == nil {
		return nil, errors.New("roundtripper: New needs a Token, a Signer or both")
	}
	rt := base(cfg.Base)
	if cfg.Logger != nil {
		rt = &attemptLog{vendor: cfg.Vendor, log: cfg.Logger, base: rt}
	}
	if cfg.Signer != nil {
		rt = &Signing{Signer: cfg.Signer, Hosts: cfg.Hosts, Base: rt}
	}
	if cfg.Token != nil {
		rt = &Token{Source: cfg.Token, Header: cfg.TokenHeader, Format: cfg.TokenFormat, Hosts: cfg.Hosts, Classifier: cfg.Classifier, Base: rt, Vendor: cfg.Vendor, Logger: cfg.Logger}
	}
	if cfg.Breakers != nil {
		rt = &breaker.Transport{Set: cfg.Breakers, Key: cfg.BreakerKey, Classifier: cfg.Classifier, Base: rt}
	}
	if cfg.Limiter != nil {
		rt = &ratelimit.Transport{Limiter: cfg.Limiter, Key: cfg.LimitKey, Classifier: cfg.Classifier, Base: rt, Vendor: cfg.Vendor}
	}
	p := retry.Policy{}
	if cfg.Retry != nil {
		p = *cfg.Retry
	}
	if cfg.Limiter != nil {
		p.DeferRetryAfter = true
	}
	return &retry.Transport{Policy: p, Classifier: cfg.Classifier, Base: rt, Vendor: cfg.Vendor, Logger: cfg.Logger}, nil
}

// attemptLog writes one debug line per attempt, as it goes on the wire (signed),
// with every header not on the allow-list redacted.
type attemptLog struct {
	vendor string
	log    *slog.Logger
	base   http.RoundTripper
}

func (a *attemptLog) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	if !a.log.Enabled(ctx, slog.LevelDebug) {
		return a.base.RoundTrip(req)
	}
	start := time.Now()
	resp, err := a.base.RoundTrip(req)
	args := []any{slog.String("vendor", a.vendor), slog.String("method", req.Method), slog.String("host", req.URL.Host),
		slog.String("path", req.URL.Path), slog.Duration("took", time.Since(start)), slog.Any("request_headers", RedactHeaders(req.Header))}
	if err != nil {
		a.log.DebugContext(ctx, "authwire: attempt failed", append(args, slog.String("error", err.Error()))...)
		return nil, err
	}
	a.log.DebugContext(ctx, "authwire: attempt", append(args, slog.Int("status", resp.StatusCode), slog.Any("response_headers", RedactHeaders(resp.Header)))...)
	return resp, nil
}
