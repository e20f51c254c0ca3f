package roundtripper

import (
	"errors"
	"log/slog"
	"net/http"
	"time"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
	"golang.org/x/oauth2"

	"github.com/authwire/authwire/breaker"
	"github.com/authwire/authwire/internal/deadline"
	"github.com/authwire/authwire/internal/telemetry"
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

	// Guard are the origins whose requests go through the limiter and the
	// breaker; nil means Hosts. Requests to other origins are retried but create
	// no per-key limiter or breaker state, so a client that is sent to thousands
	// of hosts keeps none for them.
	Guard Hosts

	// PerAttempt, if set, is called on every attempt's outgoing copy of a request
	// to Hosts or Guard, after the token is set and before it is signed (a vendor's
	// fixed headers, such as a language).
	PerAttempt func(*http.Request)
	// AttemptTimeout, if positive, bounds each attempt, reading the response body
	// included. The overall deadline is the caller's (its context, or the
	// *http.Client's Timeout).
	AttemptTimeout time.Duration

	// Base sends the request; nil means http.DefaultTransport.
	Base http.RoundTripper

	// Vendor names the vendor in logs and metrics ("acme").
	Vendor string
	// Logger, if set, gets one line per re-auth, retry and rate-limited answer,
	// and at debug level one per attempt with headers redacted by allow-list
	// ([RedactHeaders]). Never a secret, token, signature or body. Silent when nil.
	Logger *slog.Logger
	// SafeHeaders are the vendor's headers that carry no credential, shown in the
	// debug log as they are, in addition to the generic [SafeHeaders]. Every other
	// header is REDACTED.
	SafeHeaders []string
	// MeterProvider and TracerProvider, if set, receive this stack's metrics and
	// spans (logins included); nil means the global providers.
	MeterProvider  metric.MeterProvider
	TracerProvider trace.TracerProvider
}

// New composes the authwire stack. The order, outermost first, and why:
//
//  1. retry — outermost, so that every layer below runs again for each attempt:
//     the attempt is paced, counted, re-authenticated and freshly signed.
//  2. rate limiter — per attempt, because every attempt spends the vendor's
//     budget; a "too frequent" storm is absorbed here (the key slows down and
//     pauses for Retry-After, for all goroutines sharing it) instead of being
//     hammered by retries. Retry's own backoff defers the pause to it.
//  3. circuit breaker — per attempt, so each attempt is one health sample and an
//     open breaker refuses before anything is signed or sent.
//  4. token + re-auth — gets the token (single flight), and on a rejection
//     invalidates exactly that token and re-sends once; nested in the retry, not
//     around it, so one rejection costs one re-login, not one per retry. The
//     re-send waits for the rate limiter first, as an attempt does: it spends
//     the vendor's budget too.
//  5. per-attempt — the attempt timeout and the vendor's PerAttempt hook, on
//     every send, the re-auth re-send included.
//  6. signer — last before the wire: a new timestamp, nonce, IV and signature
//     on every send, including the re-auth re-send, over the final body.
//  7. base transport.
//
// On the way back the first layer that looks at the response classifies it with
// Classifier, reading the body once and restoring it; every other layer reads the
// same outcome. The body is buffered once, by the retry layer, and replayed without
// copying by the layers below.
//
// The request is sent through the credential layers only if its origin is in
// Hosts, and through the limiter and breaker only if it is in Guard (default
// Hosts); the retry applies to every request.
func New(cfg Config) (http.RoundTripper, error) {
	if len(cfg.Hosts) == 0 {
		return nil, ErrNoHosts
	}
	if cfg.Token == nil && cfg.Signer == nil {
		return nil, errors.New("roundtripper: New needs a Token, a Signer or both")
	}
	return compose(cfg), nil
}

// NewCredentialless composes New's stack without the token layer, and without a
// signer unless cfg.Signer is set: the stack a login request goes through (its
// credentials are in its body), or the stack of a vendor that authenticates the
// transport itself (a client certificate). cfg.Token must be nil.
//
// For a login, give it its own BreakerKey: it runs nested inside a call's attempt
// when a token is missing, and a half-open breaker's one probe must not need a
// second probe to log in. Mark login requests retry.Idempotent: a second login
// only replaces the first token.
func NewCredentialless(cfg Config) (http.RoundTripper, error) {
	if len(cfg.Hosts) == 0 {
		return nil, ErrNoHosts
	}
	if cfg.Token != nil {
		return nil, errors.New("roundtripper: NewCredentialless takes no Token")
	}
	return compose(cfg), nil
}

func compose(cfg Config) http.RoundTripper {
	rt := base(cfg.Base)
	if cfg.Logger != nil {
		allow := append(append([]string(nil), SafeHeaders...), cfg.SafeHeaders...)
		rt = &attemptLog{vendor: cfg.Vendor, log: cfg.Logger, allow: allow, base: rt}
	}
	if cfg.Signer != nil {
		rt = &Signing{Signer: cfg.Signer, Hosts: cfg.Hosts, Base: rt}
	}
	guard := cfg.Guard
	if guard == nil {
		guard = cfg.Hosts
	}
	if cfg.PerAttempt != nil || cfg.AttemptTimeout > 0 {
		p := &perAttempt{hook: cfg.PerAttempt, hosts: cfg.Hosts, guard: guard, base: rt}
		if cfg.AttemptTimeout > 0 {
			p.watch = deadline.New(cfg.AttemptTimeout)
		}
		rt = p
	}
	var limit *ratelimit.Transport // its Base is set below
	if cfg.Limiter != nil {
		limit = &ratelimit.Transport{Limiter: cfg.Limiter, Key: cfg.LimitKey, Classifier: cfg.Classifier, Vendor: cfg.Vendor}
	}
	if cfg.Token != nil {
		t := &Token{Source: cfg.Token, Header: cfg.TokenHeader, Format: cfg.TokenFormat, Hosts: cfg.Hosts, Classifier: cfg.Classifier, Base: rt, Vendor: cfg.Vendor, Logger: cfg.Logger}
		if limit != nil {
			t.pace = func(req *http.Request) error {
				if !guard.Allows(req.URL) {
					return nil // not paced on its first send either
				}
				return limit.Wait(req)
			}
		}
		rt = t
	}
	var guarded http.RoundTripper = rt
	if cfg.Breakers != nil {
		guarded = &breaker.Transport{Set: cfg.Breakers, Key: cfg.BreakerKey, Classifier: cfg.Classifier, Base: guarded}
	}
	if limit != nil {
		limit.Base = guarded
		guarded = limit
	}
	if guarded != rt {
		rt = &gate{hosts: guard, guarded: guarded, other: rt}
	}
	p := retry.Policy{}
	if cfg.Retry != nil {
		p = *cfg.Retry
	}
	if cfg.Limiter != nil {
		p.DeferRetryAfter = true
	}
	rt = &retry.Transport{Policy: p, Classifier: cfg.Classifier, Base: rt, Vendor: cfg.Vendor, Logger: cfg.Logger}
	if tp := telemetry.NewProviders(cfg.MeterProvider, cfg.TracerProvider); tp != nil {
		rt = &withTelemetry{p: tp, base: rt}
	}
	return rt
}

// gate sends requests to the guarded origins through the limiter and breaker,
// and the others straight on, so that no per-key state is created for them.
type gate struct {
	hosts          Hosts
	guarded, other http.RoundTripper
}

func (g *gate) RoundTrip(req *http.Request) (*http.Response, error) {
	if g.hosts.Allows(req.URL) {
		return g.guarded.RoundTrip(req)
	}
	return g.other.RoundTrip(req)
}

// perAttempt bounds each attempt and runs the vendor's hook on a copy of it.
type perAttempt struct {
	hook         func(*http.Request)
	hosts, guard Hosts
	watch        *deadline.Watcher // bounds each attempt; nil for no timeout
	base         http.RoundTripper
}

func (p *perAttempt) RoundTrip(req *http.Request) (*http.Response, error) {
	if p.hook != nil && p.allows(req) {
		// A shallow copy with its own headers: the body is shared, and the layer
		// below consumes it as it would have consumed the original.
		return p.roundTripOwned(newAttempt(req, 0, p))
	}
	return p.send(req, nil, false)
}

// roundTripOwned runs the hook on c itself: c is the attempt's own copy, made by
// the token layer, already carrying the attempt's bounded context when attempt
// is set.
func (p *perAttempt) roundTripOwned(c *http.Request, attempt *deadline.Context) (*http.Response, error) {
	if p.hook != nil && p.allows(c) {
		p.hook(c)
	}
	return p.send(c, attempt, true)
}

func (p *perAttempt) allows(req *http.Request) bool {
	return p.hosts.Allows(req.URL) || p.guard.Allows(req.URL)
}

// send sends r within the attempt timeout; owned says r is this attempt's own
// copy, and attempt, when set, is the bounded context r already carries.
func (p *perAttempt) send(r *http.Request, attempt *deadline.Context, owned bool) (*http.Response, error) {
	if p.watch != nil && attempt == nil {
		attempt = p.watch.Start(r.Context())
		r = r.WithContext(attempt)
	}
	var resp *http.Response
	var err error
	if owned {
		resp, err = sendOwned(p.base, r, nil)
	} else {
		resp, err = p.base.RoundTrip(r)
	}
	if attempt == nil {
		return resp, err
	}
	if err != nil {
		attempt.Stop()
		return nil, err
	}
	// The timeout covers the body too: reading it ends with Close.
	resp.Body = attempt.Body(resp.Body)
	return resp, nil
}

// withTelemetry sends the metrics and spans of every layer below to the stack's
// own OpenTelemetry providers.
type withTelemetry struct {
	p    *telemetry.Providers
	base http.RoundTripper
}

func (t *withTelemetry) RoundTrip(req *http.Request) (*http.Response, error) {
	return t.base.RoundTrip(req.WithContext(telemetry.With(req.Context(), t.p)))
}

// attemptLog writes one debug line per attempt, as it goes on the wire (signed),
// with every header not on the allow-list redacted.
type attemptLog struct {
	vendor string
	log    *slog.Logger
	allow  []string
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
		slog.String("path", req.URL.Path), slog.Duration("took", time.Since(start)), slog.Any("request_headers", RedactHeaders(req.Header, a.allow...))}
	if err != nil {
		a.log.DebugContext(ctx, "authwire: attempt failed", append(args, slog.String("error", err.Error()))...)
		return nil, err
	}
	a.log.DebugContext(ctx, "authwire: attempt", append(args, slog.Int("status", resp.StatusCode), slog.Any("response_headers", RedactHeaders(resp.Header, a.allow...)))...)
	return resp, nil
}
