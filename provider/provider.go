package provider

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/oauth2"

	"github.com/authwire/authwire/breaker"
	"github.com/authwire/authwire/clock"
	"github.com/authwire/authwire/internal/deadline"
	"github.com/authwire/authwire/outcome"
	"github.com/authwire/authwire/ratelimit"
	"github.com/authwire/authwire/retry"
	"github.com/authwire/authwire/roundtripper"
	"github.com/authwire/authwire/tokensource"
)

// Client is one vendor credential's client: the credentialed stack, the login
// stack and the token cache it owns. It is safe for concurrent use; create it with
// [New] and release it with [Client.Close].
type Client struct {
	name       string
	base       *url.URL
	rt         http.RoundTripper
	jar        http.CookieJar
	redirect   func(*http.Request, []*http.Request) error
	timeout    time.Duration
	call       *deadline.Watcher // bounds each Do by timeout; nil for none
	bounded    http.RoundTripper // rt within the timeout, for HTTPClient
	classifier outcome.Classifier
	envelope   *outcome.Envelope
	tokens     *tokensource.Source
	fetcher    tokensource.Fetcher
	login      *LoginClient
	logins     atomic.Int64
}

// New validates spec and opts, applies the defaults (once, here, for every
// vendor) and builds the client. Nothing is sent until the first call.
//
// Every credentialed origin (the BaseURLs and the LoginURL) must be https, or
// http on a loopback address (127.0.0.0/8, ::1, localhost); anything else is
// refused unless opts.AllowInsecureHTTP is set.
func New(spec Spec, opts Options) (*Client, error) {
	if spec.Name == "" {
		return nil, errors.New("provider: Spec.Name is empty")
	}
	if len(spec.BaseURLs) == 0 {
		return nil, fmt.Errorf("%s: no base URL", spec.Name)
	}
	if opts.HTTPClient != nil && opts.Transport != nil {
		return nil, fmt.Errorf("%s: set Options.HTTPClient or Options.Transport, not both", spec.Name)
	}
	hosts, err := roundtripper.HostsOf(spec.BaseURLs...)
	if err != nil {
		return nil, fmt.Errorf("%s: base URL: %w", spec.Name, err)
	}
	base, _ := url.Parse(strings.TrimSuffix(spec.BaseURLs[0], "/"))
	credentialed := append([]string(nil), spec.BaseURLs...)
	var loginURL *url.URL
	if spec.Login != nil {
		if loginURL, err = resolve(base, spec.LoginURL); err != nil {
			return nil, fmt.Errorf("%s: login URL: %w", spec.Name, err)
		}
		credentialed = append(credentialed, loginURL.String())
	}
	for _, s := range credentialed {
		if err := checkOrigin(s, opts.AllowInsecureHTTP); err != nil {
			return nil, fmt.Errorf("%s: %w", spec.Name, err)
		}
	}

	// The defaults, in one place.
	clk := clock.OrReal(opts.Clock)
	transport := opts.Transport
	c := &Client{name: spec.Name, base: base, envelope: spec.Envelope}
	if hc := opts.HTTPClient; hc != nil {
		transport, c.jar, c.redirect = hc.Transport, hc.Jar, hc.CheckRedirect
		if opts.Timeout == 0 && hc.Timeout > 0 {
			opts.Timeout = hc.Timeout
		}
	}
	c.timeout = pick(opts.Timeout, spec.Timeout, DefaultTimeout)
	if c.timeout > 0 {
		c.call = deadline.New(c.timeout)
	}
	attempt := pick(opts.AttemptTimeout, spec.AttemptTimeout, DefaultAttemptTimeout)
	limiter := opts.Limiter
	if limiter == nil {
		limiter = ratelimit.NewAdaptive(ratelimit.Config{Rate: DefaultRate, Burst: DefaultBurst, Logger: opts.Logger})
	}
	breakers := opts.Breakers
	if breakers == nil {
		breakers = breaker.NewSet(breaker.Config{Logger: opts.Logger})
	}
	policy := retry.Policy{}
	if opts.Retry != nil {
		policy = *opts.Retry
	}
	c.classifier = spec.Classifier
	if c.classifier == nil && spec.Envelope != nil {
		c.classifier = spec.Envelope.Classify
	}
	common := roundtripper.Config{
		Vendor: spec.Name, Logger: opts.Logger, SafeHeaders: spec.SafeHeaders,
		Limiter: limiter, LimitKey: spec.LimitKey, Breakers: breakers, Retry: &policy,
		PerAttempt: spec.PerAttempt, AttemptTimeout: attempt, Base: transport,
		MeterProvider: opts.MeterProvider, TracerProvider: opts.TracerProvider,
	}

	cfg := common
	cfg.Hosts, cfg.Classifier, cfg.Signer = hosts, c.classifier, spec.Signer
	if spec.Login != nil {
		if err := c.buildLogin(spec, opts, common, hosts, loginURL, clk); err != nil {
			return nil, err
		}
		cfg.Token, cfg.TokenHeader, cfg.TokenFormat = c.tokens, spec.TokenHeader, spec.TokenFormat
	}
	if spec.Signer == nil && spec.Login == nil {
		// The credential is the transport's (a client certificate).
		c.rt, err = roundtripper.NewCredentialless(cfg)
	} else {
		c.rt, err = roundtripper.New(cfg)
	}
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("%s: %w", spec.Name, err)
	}
	c.bounded = c.rt
	if c.call != nil {
		c.bounded = callBound{c}
	}
	return c, nil
}

// buildLogin builds the credential-less stack, the LoginClient and the token
// cache.
func (c *Client) buildLogin(spec Spec, opts Options, cfg roundtripper.Config, hosts roundtripper.Hosts, loginURL *url.URL, clk clock.Clock) error {
	loginHosts, _ := roundtripper.HostsOf(loginURL.String())
	loginHosts = append(loginHosts, hosts...)
	lc := spec.LoginClassifier
	if lc == nil {
		lc = outcome.Remap(c.classifier, outcome.TokenRejected, outcome.Permanent)
	}
	cfg.Hosts, cfg.Classifier = loginHosts, lc
	if spec.SignLogin {
		cfg.Signer = spec.Signer
	}
	// Its own breaker key: the login runs nested inside a call's attempt when
	// the token is missing, and a half-open breaker's one probe must not need a
	// second probe to log in.
	cfg.BreakerKey = func(r *http.Request) string { return r.URL.Host + r.URL.Path }
	rt, err := roundtripper.NewCredentialless(cfg)
	if err != nil {
		return fmt.Errorf("%s: %w", spec.Name, err)
	}
	lifetime := spec.Token.Lifetime
	if lifetime <= 0 {
		lifetime = DefaultTokenLifetime
	}
	c.login = &LoginClient{
		name: spec.Name, url: loginURL.String(), hosts: loginHosts, base: c.base,
		client:     &http.Client{Transport: rt, CheckRedirect: noRedirect},
		classifier: lc, envelope: spec.Envelope, clock: clk,
		lifetime: lifetime, sliding: spec.Token.Sliding > 0,
	}
	login := spec.Login
	c.fetcher = tokensource.FetcherFunc(func(ctx context.Context) (*oauth2.Token, error) {
		if c.timeout > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, c.timeout)
			defer cancel()
		}
		c.logins.Add(1)
		tok, err := login.Login(ctx, c.login)
		if err == nil && (tok == nil || tok.AccessToken == "") {
			err = &outcome.Error{Vendor: c.name, Op: "login", Message: "login returned no token", Kind: outcome.Transient}
		}
		if err != nil {
			return nil, err
		}
		return tok, nil
	})
	t := spec.Token
	topts := []tokensource.Option{tokensource.WithClock(clk), tokensource.WithName(spec.Name), tokensource.WithLogger(opts.Logger)}
	switch {
	case t.Sliding > 0:
		// Using a sliding token keeps it alive; refreshing it early only costs logins.
		topts = append(topts, tokensource.WithSlidingExpiry(t.Sliding), tokensource.WithEarlyRefresh(0, 0))
	case t.EarlyRefresh > 0:
		topts = append(topts, tokensource.WithEarlyRefresh(t.EarlyRefresh, t.Jitter))
	}
	if t.PermanentErrorHold > 0 {
		topts = append(topts, tokensource.WithPermanentErrorHold(t.PermanentErrorHold))
	}
	if c.timeout > 0 {
		topts = append(topts, tokensource.WithFetchTimeout(c.timeout))
	}
	if opts.TokenStore != nil {
		if t.StoreKey == "" {
			return fmt.Errorf("%s: Options.TokenStore is set but the Spec has no Token.StoreKey", spec.Name)
		}
		topts = append(topts, tokensource.WithStore(opts.TokenStore, t.StoreKey))
	}
	c.tokens = tokensource.New(c.fetcher, append(topts, t.Options...)...)
	return nil
}

// pick returns the first non-zero of the user's, the vendor's and the package's
// value; a negative value means "none" and becomes 0.
func pick(user, vendor, def time.Duration) time.Duration {
	for _, d := range []time.Duration{user, vendor, def} {
		if d < 0 {
			return 0
		}
		if d > 0 {
			return d
		}
	}
	return 0
}

// noRedirect: a login is not followed anywhere; its 3xx is the answer.
func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// Name returns the vendor's name.
func (c *Client) Name() string { return c.name }

// URL resolves path (relative to the first base URL) or returns an absolute URL
// as it is.
func (c *Client) URL(path string) (string, error) {
	u, err := resolve(c.base, path)
	if err != nil {
		return "", err
	}
	return u.String(), nil
}

// HTTPClient returns a new *http.Client on the full stack each time, with the
// wrapped client's Jar and CheckRedirect: the caller may change it without
// affecting the provider. Requests to hosts other than the BaseURLs go out
// without credentials, limiter or breaker.
//
// The overall Timeout bounds each call as http.Client.Timeout would, from the
// first request to the closing of the last response body, redirects included;
// but it is applied by the client's Transport, and the client's own Timeout is
// left zero. For any transport but its own, net/http implements
// http.Client.Timeout with a timer, a goroutine and about a dozen allocations
// per request; the Transport shares one timer between all calls. A Timeout the
// caller sets on the client applies as well.
func (c *Client) HTTPClient() *http.Client {
	return &http.Client{Transport: c.bounded, Jar: c.jar, CheckRedirect: c.redirect}
}

// callBound is the stack with the overall timeout inside it, for
// [Client.HTTPClient].
type callBound struct{ c *Client }

func (b callBound) RoundTrip(req *http.Request) (*http.Response, error) {
	call := b.c.startCall(req)
	resp, err := b.c.rt.RoundTrip(req.WithContext(call))
	if err != nil {
		call.Stop()
		return nil, err
	}
	resp.Body = call.Body(resp.Body) // the timeout covers reading it
	return resp, nil
}

// startCall bounds req by the overall timeout from now or, when req is the next
// hop of a redirect (http.Client sets its Response), by what is left of the time
// of the hop before it, found from that hop's request.
func (c *Client) startCall(req *http.Request) *deadline.Context {
	if prev := req.Response; prev != nil && prev.Request != nil {
		if first := c.call.Find(prev.Request.Context()); first != nil {
			by, _ := first.Deadline()
			return c.call.StartBy(req.Context(), by)
		}
	}
	return c.call.Start(req.Context())
}

// Timeout returns the overall timeout of a call through [Client.Do] or
// [Client.HTTPClient] (zero for none).
func (c *Client) Timeout() time.Duration { return max(c.timeout, 0) }

// Transport returns the full stack as an http.RoundTripper (no overall timeout:
// that is the http.Client's or the caller's context's).
func (c *Client) Transport() http.RoundTripper { return c.rt }

// Do sends req through the full stack, with the overall Timeout (the earlier of
// it and req's context deadline) and the wrapped client's Jar and CheckRedirect.
// Unlike http.Client.Do, its error is the stack's own, not wrapped in *url.Error:
// a typed verdict ([*outcome.Error], an error matching outcome.ErrUnknown, a
// breaker or limiter refusal). The response's classification is read with
// [Client.Outcome]. The timeout runs until the response body is closed.
func (c *Client) Do(req *http.Request) (*http.Response, error) {
	hc := http.Client{Transport: c.rt, Jar: c.jar, CheckRedirect: c.redirect}
	if c.timeout <= 0 {
		resp, err := hc.Do(req)
		return resp, unwrapURL(err)
	}
	ctx := c.call.Start(req.Context())
	resp, err := hc.Do(req.WithContext(ctx))
	if err != nil {
		ctx.Stop()
		return nil, unwrapURL(err)
	}
	// Read first: it replaces resp.Body with the classified body, which is the
	// one to wrap (the order of evaluation within one composite literal is not
	// specified).
	res := outcome.Read(resp, c.classifier)
	resp.Body = &timedBody{ReadCloser: resp.Body, call: ctx, result: res}
	return resp, nil
}

// Outcome returns the classification of a response from [Client.Do].
func (c *Client) Outcome(resp *http.Response) outcome.Result {
	if b, ok := resp.Body.(*timedBody); ok {
		return b.result
	}
	return outcome.Read(resp, c.classifier)
}

// timedBody ends the call's bounded context when the body is closed, and keeps
// the response's classification for [Client.Outcome].
type timedBody struct {
	io.ReadCloser
	call   *deadline.Context
	result outcome.Result
}

func (b *timedBody) Close() error {
	err := b.ReadCloser.Close()
	b.call.Stop()
	return err
}

// Reply is the answer to a successful [Client.DoJSON].
type Reply struct {
	// Status is the HTTP status.
	Status int
	// Header is the reply's header.
	Header http.Header
	// Body is the whole reply body (at most outcome.MaxBody bytes).
	Body []byte
}

// DoJSON sends in as a JSON body to target (absolute, or relative to the first
// base URL) and returns the reply once the classifier says it succeeded. in nil
// sends no body; a []byte or json.RawMessage is sent as is; anything else is
// marshalled. header, if set, may add or change headers (Content-Type defaults to
// application/json).
//
// A failure is the classifier's typed error ([*outcome.Error] for an Envelope),
// an error matching outcome.ErrUnknown for a request that may have been processed
// and was not re-sent, or another typed error of the stack; never a *url.Error.
// DoJSON does not mark the request idempotent: pass retry.Idempotent(ctx) when
// sending it twice is harmless.
func (c *Client) DoJSON(ctx context.Context, method, target string, in any, header func(http.Header)) (Reply, error) {
	u, err := resolve(c.base, target)
	if err != nil {
		return Reply{}, fmt.Errorf("%s: %w", c.name, err)
	}
	var body []byte
	switch v := in.(type) {
	case nil:
	case []byte:
		body = v
	case json.RawMessage:
		body = v
	default:
		if body, err = json.Marshal(in); err != nil {
			return Reply{}, fmt.Errorf("%s: %s: encode request: %w", c.name, u.Path, err)
		}
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), bytes.NewReader(body))
	if err != nil {
		return Reply{}, fmt.Errorf("%s: %w", c.name, err)
	}
	if len(body) == 0 {
		req.Body, req.GetBody, req.ContentLength = http.NoBody, nil, 0
	} else {
		req.Header.Set("Content-Type", "application/json")
	}
	if header != nil {
		header(req.Header)
	}
	resp, err := c.Do(req)
	if err != nil {
		return Reply{}, err
	}
	defer resp.Body.Close()
	if r := c.Outcome(resp); r.Kind != outcome.Success {
		return Reply{}, resultError(c.name, u.Path, resp, r)
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, outcome.MaxBody))
	if err != nil {
		return Reply{}, fmt.Errorf("%s: %s: read reply: %w", c.name, u.Path, err)
	}
	return Reply{Status: resp.StatusCode, Header: resp.Header, Body: raw}, nil
}

// Call POSTs in as JSON to path and decodes the Envelope's payload field into out
// (skipped when out is nil). Errors as for [Client.DoJSON]. It needs a Spec with
// an Envelope.
func (c *Client) Call(ctx context.Context, path string, in, out any) error {
	if c.envelope == nil {
		return fmt.Errorf("%s: Call needs a Spec.Envelope; use DoJSON", c.name)
	}
	if in == nil {
		in = json.RawMessage("{}")
	}
	r, err := c.DoJSON(ctx, http.MethodPost, path, in, nil)
	if err != nil {
		return err
	}
	return c.envelope.Decode(r.Body, out)
}

// TokenSource returns the client's token cache (nil for a Spec without Login):
// an oauth2.TokenSource whose Invalidate drops a rejected token.
func (c *Client) TokenSource() *tokensource.Source { return c.tokens }

// Fetcher returns the bare login, without cache, as a tokensource.Fetcher (nil
// for a Spec without Login): every Fetch logs in.
func (c *Client) Fetcher() tokensource.Fetcher { return c.fetcher }

// Refresher returns the bare login as an oauth2.TokenSource (nil for a Spec
// without Login): every Token call logs in, so wrap it in a reuse layer such as
// oauth2.ReuseTokenSource.
func (c *Client) Refresher() oauth2.TokenSource {
	if c.fetcher == nil {
		return nil
	}
	return tokensource.ToOAuth2(c.fetcher)
}

// LoginClient returns the login's client (nil for a Spec without Login), for a
// vendor call that must go through the credential-less stack.
func (c *Client) LoginClient() *LoginClient { return c.login }

// Logins reports how many logins this client has started.
func (c *Client) Logins() int64 { return c.logins.Load() }

// Close stops the token cache's background work. Calls after Close fail once the
// cached token is gone.
func (c *Client) Close() error {
	if c.tokens != nil {
		return c.tokens.Close()
	}
	return nil
}

// resultError is the error for a non-success verdict: the classifier's typed
// error, or one built from the status when the classifier gave none.
func resultError(vendor, path string, resp *http.Response, r outcome.Result) error {
	if r.Err != nil {
		return r.Err
	}
	return &outcome.Error{Vendor: vendor, Op: path, Message: http.StatusText(resp.StatusCode), HTTPStatus: resp.StatusCode, Kind: r.Kind}
}

// unwrapURL removes http.Client's *url.Error, once, at the top: it repeats the
// URL, and the layers below name what failed. A *url.Error deeper down is part of
// a typed error and stays.
func unwrapURL(err error) error {
	if err == nil {
		return nil
	}
	if ue, ok := err.(*url.Error); ok && ue.Err != nil {
		return ue.Err
	}
	return err
}

// resolve returns target as a URL: absolute as it is, else appended to base's
// path ("" is base itself).
func resolve(base *url.URL, target string) (*url.URL, error) {
	if strings.HasPrefix(target, "http://") || strings.HasPrefix(target, "https://") {
		u, err := url.Parse(target)
		if err != nil || u.Host == "" {
			return nil, fmt.Errorf("%q is not an absolute URL", target)
		}
		return u, nil
	}
	p, q, _ := strings.Cut(target, "?")
	if p != "" && !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	u := *base
	u.Path = base.Path + p
	u.RawPath = ""
	u.RawQuery = q
	return &u, nil
}

// checkOrigin enforces https for credentials, loopback http excepted.
func checkOrigin(s string, allowInsecure bool) error {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return fmt.Errorf("%q is not an absolute URL", s)
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
		return nil
	case "http":
		if allowInsecure || isLoopback(u.Hostname()) {
			return nil
		}
		return fmt.Errorf("credentials would travel in clear text to %s: use https, or set Options.AllowInsecureHTTP for a test rig", origin(u))
	}
	return fmt.Errorf("%s: scheme %q is neither https nor http", origin(u), u.Scheme)
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func origin(u *url.URL) string { return u.Scheme + "://" + u.Host }
