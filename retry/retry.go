// Package retry re-sends requests whose outcome says it is safe and useful, on
// github.com/hashicorp/go-retryablehttp: its retry loop, body rewinding, backoff
// with jitter and Retry-After parsing, with a CheckRetry that reads the shared
// outcome vocabulary and knows about idempotency.
//
// The rule: a request the vendor refused unprocessed (rate limited, token
// rejected) or that never left this machine (connection refused) is retried even
// when it is a POST. A request that may have been processed — a timeout after the
// body went out, a dropped connection, a 5xx or a vendor "system error" — is
// retried only when it is idempotent: a GET, PUT, DELETE, HEAD or OPTIONS, or a
// request marked with [Idempotent] or an Idempotency-Key header. Otherwise the
// caller gets an error matching outcome.ErrUnknown and the request is not re-sent:
// an SMS may have gone out, money may have moved.
package retry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/hashicorp/go-retryablehttp"
	"go.opentelemetry.io/otel/attribute"

	"github.com/authwire/authwire/internal/reqbody"
	"github.com/authwire/authwire/internal/telemetry"
	"github.com/authwire/authwire/outcome"
)

// Policy bounds and paces retries. The zero value is usable: 4 attempts, 50 ms to
// 5 s exponential backoff with jitter, 1 minute in total.
type Policy struct {
	// MaxAttempts counts the first attempt; 1 disables retries. Zero means 4.
	MaxAttempts int
	// WaitMin and WaitMax bound the backoff; zero means 50 ms and 5 s.
	WaitMin, WaitMax time.Duration
	// MaxElapsed stops retrying once this much time has passed since the first
	// attempt (an attempt in flight is not cut short); zero means 1 minute.
	MaxElapsed time.Duration
	// Backoff computes the wait before attempt n+1; nil means
	// retryablehttp.LinearJitterBackoff (jittered, growing with n), with the
	// outcome's Retry-After honoured on top.
	Backoff retryablehttp.Backoff
	// DeferRetryAfter leaves Retry-After and vendor pauses to a rate limiter inside
	// this transport (roundtripper.New composes it that way): the retry then backs
	// off by its own schedule only, and the limiter holds every request for the key,
	// not just this one.
	DeferRetryAfter bool
	// OnRetry, if set, is called before each re-send with the attempt number that
	// failed (1-based) and its outcome.
	OnRetry func(req *http.Request, attempt int, r outcome.Result)
}

type ctxKey struct{}

// Idempotent marks requests made with ctx as safe to send twice, so that a POST
// whose outcome is unknown may be retried (read-only vendor calls, or calls the
// vendor deduplicates by an id such as a transaction id).
func Idempotent(ctx context.Context) context.Context {
	return context.WithValue(ctx, ctxKey{}, true)
}

// IsIdempotent reports whether req may be sent twice without a second effect.
func IsIdempotent(req *http.Request) bool {
	switch req.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace, http.MethodPut, http.MethodDelete:
		return true
	}
	if req.Header.Get("Idempotency-Key") != "" || req.Header.Get("X-Idempotency-Key") != "" {
		return true
	}
	v, _ := req.Context().Value(ctxKey{}).(bool)
	return v
}

// Transport is an http.RoundTripper that retries according to Policy. Layers
// inside it (limiter, breaker, re-auth, signer) run again for every attempt, so
// every attempt is paced, counted and freshly signed.
type Transport struct {
	Policy Policy
	// Classifier decides what a response means; nil classifies by status only.
	Classifier outcome.Classifier
	// Base sends each attempt; nil means http.DefaultTransport.
	Base http.RoundTripper
	// Vendor names the vendor in logs and metrics.
	Vendor string
	// Logger, if set, gets one line per retry (attempt, outcome, vendor code).
	Logger *slog.Logger

	once   sync.Once
	policy Policy
	rc     *retryablehttp.Client
}

// Error is returned when the last allowed attempt failed in transport (a dropped
// connection, a timeout) on a request that was safe to retry. It unwraps to that
// failure and carries its outcome kind.
type Error struct {
	Attempts int
	Last     outcome.Result
	Err      error
}

// Error implements error.
func (e *Error) Error() string {
	return fmt.Sprintf("retry: gave up after %d attempt(s), last %s: %v", e.Attempts, e.Last.Kind, e.Err)
}

// Unwrap returns the last attempt's failure.
func (e *Error) Unwrap() error { return e.Err }

// OutcomeKind implements outcome.Kinded: the kind of the last attempt.
func (e *Error) OutcomeKind() outcome.Kind { return e.Last.Kind }

// attempt is the per-request state CheckRetry needs; it travels in the request's
// context because retryablehttp's hooks receive only that.
type attempt struct {
	idempotent bool
	start      time.Time
	n          int
	last       outcome.Result
	req        *http.Request
}

type attemptKey struct{}

// client builds, once, the retryablehttp client that runs the attempts: the
// policy is fixed at first use, and per-request state travels in the context.
func (t *Transport) client() *retryablehttp.Client {
	t.once.Do(func() {
		p := t.Policy
		if p.MaxAttempts <= 0 {
			p.MaxAttempts = 4
		}
		if p.WaitMin <= 0 {
			p.WaitMin = 50 * time.Millisecond
		}
		if p.WaitMax <= 0 {
			p.WaitMax = 5 * time.Second
		}
		if p.MaxElapsed <= 0 {
			p.MaxElapsed = time.Minute
		}
		if p.Backoff == nil {
			p.Backoff = retryablehttp.LinearJitterBackoff
		}
		rt := t.Base
		if rt == nil {
			rt = http.DefaultTransport
		}
		t.policy = p
		t.rc = &retryablehttp.Client{
			// The inner client must not follow redirects or keep cookies: that is
			// the outer client's business, and a redirect must reach the host check.
			HTTPClient: &http.Client{
				Transport:     rt,
				CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
			},
			RetryWaitMin: p.WaitMin,
			RetryWaitMax: p.WaitMax,
			RetryMax:     p.MaxAttempts - 1,
			CheckRetry:   t.checkRetry(&t.policy),
			Backoff:      backoff(&t.policy),
			ErrorHandler: func(resp *http.Response, err error, _ int) (*http.Response, error) {
				if err == nil && resp != nil {
					return resp, nil // out of attempts: the caller reads the vendor's answer
				}
				if resp != nil {
					resp.Body.Close()
				}
				return nil, err
			},
		}
	})
	return t.rc
}

// RoundTrip implements http.RoundTripper. The Transport's fields must not change
// after its first use.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	c := t.client()
	// Buffer the body once; every attempt replays the same bytes, and the layers
	// inside recognise them and do not copy again.
	buf, err := reqbody.Read(req)
	if err != nil {
		return nil, fmt.Errorf("retry: read request body: %w", err)
	}
	st := &attempt{idempotent: IsIdempotent(req), start: time.Now()}
	r := req.WithContext(context.WithValue(req.Context(), attemptKey{}, st))
	rr := &retryablehttp.Request{Request: r}
	if buf != nil {
		err = rr.SetBody(retryablehttp.ReaderFunc(func() (io.Reader, error) { return reqbody.New(buf), nil }))
	} else {
		err = rr.SetBody(nil)
		r.Body, r.GetBody = nil, nil
	}
	if err != nil {
		return nil, err
	}
	st.req = r

	resp, err := c.Do(rr)
	if err == nil {
		return resp, nil
	}
	// Undo http.Client's wrapping (we are a transport, not a client) — only at the
	// top: a *url.Error deeper down is part of our own typed error.
	if ue, ok := err.(*url.Error); ok && ue.Err != nil {
		err = ue.Err
	}
	if _, typed := outcome.KindOf(err); !typed && !errors.Is(err, outcome.ErrUnknown) && req.Context().Err() == nil {
		// A bare transport error after the last attempt: say how many were made
		// and what the last one means, like every other final answer.
		return nil, &Error{Attempts: st.n, Last: st.last, Err: err}
	}
	return nil, err
}

func (t *Transport) checkRetry(p *Policy) retryablehttp.CheckRetry {
	return func(ctx context.Context, resp *http.Response, err error) (bool, error) {
		st, _ := ctx.Value(attemptKey{}).(*attempt)
		if ctx.Err() != nil {
			return false, ctx.Err()
		}
		var res outcome.Result
		if err != nil {
			if _, ok := outcome.KindOf(err); ok {
				// A typed verdict from an inner layer — an open breaker, a
				// limiter that cannot wait, a failed login — is final for this
				// request; the layer that produced it already decided.
				return false, err
			}
			res = outcome.FromError(ctx, err)
		} else {
			res = outcome.Read(resp, t.Classifier)
		}
		st.n++
		st.last = res
		retry := false
		switch res.Kind {
		case outcome.Success, outcome.Permanent:
			return false, err
		case outcome.TokenRejected:
			// The re-auth layer already re-sent once with a fresh token; a second
			// rejection will not change by trying again.
			return false, err
		case outcome.RateLimited:
			retry = true
		case outcome.Transient, outcome.Unknown:
			retry = st.idempotent || !res.Sent
			if !retry {
				return false, &outcome.UnknownError{Method: st.req.Method, Host: st.req.URL.Host, Path: st.req.URL.Path, Err: cause(res, err)}
			}
		}
		if retry && time.Since(st.start) > p.MaxElapsed {
			retry = false
		}
		if retry && st.n >= p.MaxAttempts {
			retry = false // out of attempts: the caller gets this answer
		}
		if retry {
			t.retrying(ctx, st, res)
			if p.OnRetry != nil {
				p.OnRetry(st.req, st.n, res)
			}
		}
		return retry, nil
	}
}

func (t *Transport) retrying(ctx context.Context, st *attempt, res outcome.Result) {
	telemetry.Get().Retries.Add(ctx, 1, telemetry.Attrs(attribute.String("vendor", t.Vendor), attribute.String("outcome", res.Kind.String())))
	if t.Logger != nil {
		_, code := outcome.CodeOf(res.Err)
		t.Logger.InfoContext(ctx, "authwire: retrying",
			slog.String("vendor", t.Vendor), slog.Int("attempt", st.n), slog.String("outcome", res.Kind.String()),
			slog.String("code", code), slog.String("method", st.req.Method), slog.String("path", st.req.URL.Path))
	}
}

func cause(res outcome.Result, err error) error {
	if res.Err != nil {
		return res.Err
	}
	if err != nil {
		return err
	}
	return fmt.Errorf("%s outcome", res.Kind)
}

func backoff(p *Policy) retryablehttp.Backoff {
	return func(lo, hi time.Duration, n int, resp *http.Response) time.Duration {
		d := min(p.Backoff(lo, hi, n, resp), hi)
		if resp != nil && !p.DeferRetryAfter {
			if r := outcome.Of(resp); r.Kind == outcome.RateLimited && r.After > d {
				d = r.After // the vendor's word beats our schedule
			}
		}
		return d
	}
}
