package roundtripper

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"sync/atomic"

	"go.opentelemetry.io/otel/attribute"
	"golang.org/x/oauth2"

	"github.com/authwire/authwire/internal/reqbody"
	"github.com/authwire/authwire/internal/telemetry"
	"github.com/authwire/authwire/outcome"
)

// TokenSource is what [Token] needs from a token cache; *tokensource.Source
// implements it.
type TokenSource interface {
	TokenContext(ctx context.Context) (*oauth2.Token, error)
	// Invalidate discards the token if it is still the cached one.
	Invalidate(rejected *oauth2.Token)
}

// Toucher is implemented by token sources with sliding expiry: tokens that live
// "N minutes after their last successful use" (*tokensource.Source with
// tokensource.WithSlidingExpiry). [Token] calls Touch after every success, so a
// custom TokenSource that implements Toucher keeps sliding expiry; one that does
// not is simply never touched.
type Toucher interface {
	// Touch records a successful use of tok. It is on the hot path: keep it cheap.
	Touch(tok *oauth2.Token)
}

// Token is an http.RoundTripper that puts a token on every request to its Hosts
// and, when the vendor rejects it (the Classifier says TokenRejected: HTTP 401 or a
// vendor code in the body), invalidates that token, gets a new one and re-sends the
// request once. It never loops: a second rejection is returned to the caller.
// In a stack composed by [New] with a Limiter, the re-send waits for the
// limiter first, as an attempt does.
// After each success it calls Touch on sources that implement [Toucher] (sliding
// expiry).
type Token struct {
	// Source supplies tokens. Required.
	Source TokenSource
	// Header is the header to set; default "Authorization". It is written with
	// exactly this spelling (a vendor may want "x_token", which Header.Set would
	// canonicalise to "X_token").
	Header string
	// Format renders the header value; default "<type> <access token>", i.e.
	// "Bearer x" for a token without a type. It is called once per token, not
	// per request: the value is cached until the token changes.
	Format func(*oauth2.Token) string
	// Hosts are the origins the token is for. Required.
	Hosts Hosts
	// Classifier decides what a response means; nil classifies by status only.
	Classifier outcome.Classifier
	// Base sends the request; nil means http.DefaultTransport.
	Base http.RoundTripper
	// Vendor names the vendor in logs and metrics.
	Vendor string
	// Logger, if set, gets one line per re-authentication. Never a token.
	Logger *slog.Logger

	header atomic.Pointer[tokenHeader] // the last token's formatted value
	// pace, set by [New] when the stack has a limiter, waits for it before the
	// re-send: the re-send spends the vendor's budget as any attempt does, and
	// the limiter above sees only the exchange as a whole.
	pace func(*http.Request) error
}

// RoundTrip implements http.RoundTripper.
func (t *Token) RoundTrip(req *http.Request) (*http.Response, error) {
	if len(t.Hosts) == 0 {
		reqbody.Close(req)
		return nil, ErrNoHosts
	}
	if !t.Hosts.Allows(req.URL) {
		return base(t.Base).RoundTrip(req)
	}
	ctx := req.Context()
	tok, err := t.Source.TokenContext(ctx)
	if err != nil {
		reqbody.Close(req)
		return nil, &TokenError{Err: err}
	}
	// The body must be sendable twice (a re-send after a rejection). A request
	// that can rewind itself (GetBody: http.NewRequest's in-memory bodies, the
	// retry layer's attempts) is sent as it is and rewound only for the re-send;
	// any other body is read once here.
	var buf []byte
	buffered := !reqbody.Replayable(req)
	if buffered {
		if buf, err = reqbody.Read(req); err != nil {
			return nil, err
		}
	}
	resp, err := t.send(req, tok, buf, buffered, false)
	if err != nil {
		return nil, err
	}
	res := outcome.Read(resp, t.Classifier)
	switch res.Kind {
	case outcome.Success:
		t.touch(tok)
	case outcome.TokenRejected:
		discard(resp)
		t.reauthenticating(ctx, req, res)
		t.Source.Invalidate(tok)
		if tok, err = t.Source.TokenContext(ctx); err != nil {
			return nil, &TokenError{Err: err, Rejected: true}
		}
		if t.pace != nil {
			if err := t.pace(req); err != nil {
				// Not re-sent; the rejected send was not processed either.
				if _, typed := outcome.KindOf(err); !typed {
					err = outcome.NotSent(err)
				}
				return nil, err
			}
		}
		if resp, err = t.send(req, tok, buf, buffered, true); err != nil {
			return nil, err
		}
		if outcome.Read(resp, t.Classifier).Kind == outcome.Success {
			t.touch(tok)
		}
	}
	return resp, nil
}

// send sends a copy of req carrying tok: the one copy of this attempt, which the
// layers below (per-attempt hook, signer) modify in place instead of copying it
// again. Its body is buf when the body was buffered, else req's own on the first
// send and a rewound one on the re-send.
func (t *Token) send(req *http.Request, tok *oauth2.Token, buf []byte, buffered, again bool) (*http.Response, error) {
	c, attempt := newAttempt(req, 1, t.Base)
	switch {
	case buffered:
		reqbody.Set(c, buf)
	case again:
		body, err := reqbody.Rewind(req)
		if err != nil {
			if attempt != nil {
				attempt.Stop()
			}
			return nil, err
		}
		c.Body = body
	}
	name := t.Header
	if name == "" {
		name = "Authorization"
	}
	c.Header[name] = t.value(tok)
	return sendOwned(t.Base, c, attempt)
}

// value returns the header value for tok, formatted once per token: the cache
// holds the last token's, and a token source hands out the same *oauth2.Token
// until it changes.
func (t *Token) value(tok *oauth2.Token) []string {
	if h := t.header.Load(); h != nil && h.tok == tok {
		return h.v
	}
	var v string
	if t.Format != nil {
		v = t.Format(tok)
	} else {
		v = tok.Type() + " " + tok.AccessToken
	}
	// Capacity 1: a layer below that appends to the header gets its own slice.
	h := &tokenHeader{tok: tok, v: []string{v}}
	t.header.Store(h)
	return h.v
}

// tokenHeader is a token's formatted header value, shared read-only by every
// request that carries it.
type tokenHeader struct {
	tok *oauth2.Token
	v   []string
}

func (t *Token) reauthenticating(ctx context.Context, r *http.Request, res outcome.Result) {
	telemetry.Get().Reauths.Add(ctx, 1, telemetry.Attrs(attribute.String("vendor", t.Vendor)))
	if t.Logger != nil {
		_, code := outcome.CodeOf(res.Err)
		t.Logger.InfoContext(ctx, "authwire: token rejected, re-authenticating once",
			slog.String("vendor", t.Vendor), slog.String("code", code), slog.String("path", r.URL.Path))
	}
}

func (t *Token) touch(tok *oauth2.Token) {
	if s, ok := t.Source.(Toucher); ok {
		s.Touch(tok)
	}
}

// RawToken formats a token as its bare value, for vendor headers such as
// "X-Api-Token: <token>".
func RawToken(tok *oauth2.Token) string { return tok.AccessToken }

func base(rt http.RoundTripper) http.RoundTripper {
	if rt == nil {
		return http.DefaultTransport
	}
	return rt
}

// discard drains a little of a response we are not returning, so the connection
// can be reused, and closes it.
func discard(resp *http.Response) {
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
}

// TokenError reports that no token could be had; the request was not sent. It
// unwraps to the token source's error (a provider's typed login error).
type TokenError struct {
	Err error
	// Rejected is set when the vendor had just rejected the previous token.
	Rejected bool
}

// Error implements error.
func (e *TokenError) Error() string {
	if e.Rejected {
		return "roundtripper: token rejected, and getting a new one failed: " + e.Err.Error()
	}
	return "roundtripper: get token: " + e.Err.Error()
}

// Unwrap returns the token source's error.
func (e *TokenError) Unwrap() error { return e.Err }

// OutcomeKind implements outcome.Kinded: the login's own kind when it has one,
// transient otherwise. Either way nothing was sent, and the token source has its own
// backoff, so the retry layer does not retry it.
func (e *TokenError) OutcomeKind() outcome.Kind {
	if k, ok := outcome.KindOf(e.Err); ok {
		return k
	}
	return outcome.Transient
}
