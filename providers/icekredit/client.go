package icekredit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/authwire/authwire/breaker"
	"github.com/authwire/authwire/clock"
	"github.com/authwire/authwire/outcome"
	"github.com/authwire/authwire/ratelimit"
	"github.com/authwire/authwire/retry"
	"github.com/authwire/authwire/roundtripper"
	"github.com/authwire/authwire/tokensource"
)

// Defaults (see the package documentation for which are inferred).
const (
	DefaultLoginURL       = "https://sso-ng.icekredit.ai"
	DefaultBaseURL        = "https://api-ng.icekredit.ai"
	DefaultTokenTTL       = 20 * time.Minute
	DefaultTimeout        = 20 * time.Second
	DefaultLoginErrorHold = time.Minute
)

// LoginPath is the login endpoint, relative to Config.LoginURL.
const LoginPath = "/api/login.do"

// TokenHeader is the header that carries the token, spelled exactly so on the wire.
const TokenHeader = "token_id"

// Config configures a [Client]. Only Credentials is required.
type Config struct {
	// LoginURL is the LOGIN_DOMAIN base URL; default [DefaultLoginURL]. The login
	// is POSTed to LoginURL + [LoginPath] and never carries the token.
	LoginURL string
	// BaseURL is the SERVICE_DOMAIN base URL; default [DefaultBaseURL]. Product
	// paths are appended to it; the token goes only to its origin (and ExtraHosts).
	BaseURL string
	// ExtraHosts are further service base URLs the token may be sent to, for
	// products on another SERVICE_DOMAIN; [Client.Do] takes absolute URLs on them.
	ExtraHosts []string
	// Credentials is the merchant login. Required.
	Credentials Credentials

	// Transport is the base transport; nil means http.DefaultTransport.
	Transport http.RoundTripper
	// Limiter paces requests per host; nil means ratelimit.NewAdaptive with 10
	// requests per second, burst 10, on Clock.
	Limiter ratelimit.Limiter
	// Breakers guard each host; nil means breaker.NewSet with defaults.
	Breakers *breaker.Set
	// Retry is the retry policy; nil means retry.Policy{}.
	Retry *retry.Policy
	// Clock drives token expiry and the default limiter's waits; nil means real
	// time. Tests with a *clock.Fake that never advance it should pass their own
	// Limiter, or a throttled request would wait for fake time forever.
	Clock clock.Clock

	// LoginEncoding is how the login is encoded first; default [Form].
	LoginEncoding LoginEncoding
	// TokenTTL is the sliding lifetime of a token after its last successful use;
	// default [DefaultTokenTTL] (20 minutes).
	TokenTTL time.Duration
	// Timeout bounds each attempt (login or product call, body included); default
	// [DefaultTimeout], the 20 s the vendor asks for. Negative means none.
	Timeout time.Duration
	// LoginErrorHold is how long a permanent login error (wrong password, locked
	// account) is returned without asking IceKredit again; default 1 minute.
	LoginErrorHold time.Duration
	// TokenStore, if set, shares the token between Clients or processes
	// (tokensource.MemoryStore, redisstore) under a key naming the login URL and
	// the merchant.
	TokenStore tokensource.Store
	// Logger, if set, receives one line per login, re-auth, retry, rate-limit wait
	// and breaker state change (vendor, code, attempt, wait), and at debug level one
	// per attempt with headers redacted by allow-list. Never a secret, password
	// hash, token, signature or body. Silent when nil.
	Logger *slog.Logger
}

// Client calls IceKredit products. It is safe for concurrent use; create it with
// [New] and release it with [Client.Close].
type Client struct {
	base      *url.URL
	loginURL  string
	creds     Credentials
	tokens    *tokensource.Source
	http      *http.Client
	loginHTTP *http.Client
	encoding  atomic.Int32 // the LoginEncoding in use
	fellBack  atomic.Bool  // the one 10000415 fallback was taken
	logins    atomic.Int64
}

// New validates cfg and builds the client. Nothing is sent until the first call.
func New(cfg Config) (*Client, error) {
	if err := cfg.Credentials.valid(); err != nil {
		return nil, err
	}
	if cfg.LoginURL == "" {
		cfg.LoginURL = DefaultLoginURL
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultBaseURL
	}
	if _, err := roundtripper.HostsOf(cfg.LoginURL); err != nil {
		return nil, fmt.Errorf("icekredit: Config.LoginURL: %w", err)
	}
	hosts, err := roundtripper.HostsOf(append([]string{cfg.BaseURL}, cfg.ExtraHosts...)...)
	if err != nil {
		return nil, fmt.Errorf("icekredit: Config.BaseURL or ExtraHosts: %w", err)
	}
	base, _ := url.Parse(strings.TrimSuffix(cfg.BaseURL, "/"))
	if cfg.LoginEncoding != Form && cfg.LoginEncoding != JSON {
		return nil, fmt.Errorf("icekredit: Config.LoginEncoding %d is neither Form nor JSON", cfg.LoginEncoding)
	}
	if cfg.TokenTTL < 0 || cfg.LoginErrorHold < 0 {
		return nil, errors.New("icekredit: Config.TokenTTL and LoginErrorHold must not be negative")
	}
	if cfg.TokenTTL == 0 {
		cfg.TokenTTL = DefaultTokenTTL
	}
	if cfg.LoginErrorHold == 0 {
		cfg.LoginErrorHold = DefaultLoginErrorHold
	}
	switch {
	case cfg.Timeout == 0:
		cfg.Timeout = DefaultTimeout
	case cfg.Timeout < 0:
		cfg.Timeout = 0
	}
	cfg.Clock = clock.OrReal(cfg.Clock)
	if cfg.Limiter == nil {
		cfg.Limiter = ratelimit.NewAdaptive(ratelimit.Config{Logger: cfg.Logger, Rate: 10, Burst: 10, Clock: cfg.Clock})
	}
	if cfg.Breakers == nil {
		cfg.Breakers = breaker.NewSet(breaker.Config{Logger: cfg.Logger})
	}
	policy := retry.Policy{}
	if cfg.Retry != nil {
		policy = *cfg.Retry
	}

	c := &Client{
		base:     base,
		loginURL: strings.TrimSuffix(cfg.LoginURL, "/") + LoginPath,
		creds:    cfg.Credentials,
	}
	c.encoding.Store(int32(cfg.LoginEncoding))

	w := &wire{base: cfg.Transport, timeout: cfg.Timeout}

	// The login has its own small stack, without the token layer: retry (the login
	// is safe to repeat: a second token only replaces the first) → limiter →
	// breaker → wire. Its classifier makes 200002 permanent, which the retry
	// respects and the token source holds: a wrong password is asked once.
	loginPolicy := policy
	loginPolicy.DeferRetryAfter = true
	c.loginHTTP = &http.Client{Transport: &retry.Transport{
		Vendor:     "icekredit",
		Logger:     cfg.Logger,
		Policy:     loginPolicy,
		Classifier: classifyLogin,
		Base: &ratelimit.Transport{Limiter: cfg.Limiter, Classifier: classifyLogin,
			// The login has its own breaker key: under one host (a sandbox, a
			// gateway) it runs nested inside a product call's attempt, and a
			// half-open breaker's one probe must not need a second probe to log in.
			Base: &breaker.Transport{Set: cfg.Breakers, Classifier: classifyLogin, Base: w,
				Key: func(r *http.Request) string { return r.URL.Host + LoginPath }}},
	}}

	opts := []tokensource.Option{
		tokensource.WithClock(cfg.Clock),
		tokensource.WithName("icekredit"),
		tokensource.WithLogger(cfg.Logger),
		tokensource.WithSlidingExpiry(cfg.TokenTTL),
		// Using a sliding token keeps it alive; refreshing it early only costs logins.
		tokensource.WithEarlyRefresh(0, 0),
		tokensource.WithPermanentErrorHold(cfg.LoginErrorHold),
	}
	if cfg.TokenStore != nil {
		opts = append(opts, tokensource.WithStore(cfg.TokenStore, "icekredit|"+c.loginURL+"|"+cfg.Credentials.MerchantName))
	}
	c.tokens = tokensource.New(tokensource.FetcherFunc(c.login), opts...)

	rt, err := roundtripper.New(roundtripper.Config{
		Vendor:      "icekredit",
		Logger:      cfg.Logger,
		Hosts:       hosts,
		Classifier:  Classify,
		Token:       c.tokens,
		TokenHeader: TokenHeader,
		TokenFormat: roundtripper.RawToken,
		Limiter:     cfg.Limiter,
		Breakers:    cfg.Breakers,
		Retry:       &policy,
		Base:        w,
	})
	if err != nil {
		c.tokens.Close()
		return nil, fmt.Errorf("icekredit: %w", err)
	}
	c.http = &http.Client{Transport: rt}
	return c, nil
}

// String describes the client without its credentials.
func (c *Client) String() string {
	return fmt.Sprintf("icekredit.Client{BaseURL:%q, LoginURL:%q, Credentials:%v}", c.base, c.loginURL, c.creds)
}

// GoString is String, so that %#v cannot reach the fields.
func (c *Client) GoString() string { return c.String() }

// HTTPClient returns an http.Client that sends requests through the full stack:
// token_id, Language, limiter, breaker, retries, re-login. Requests to hosts other
// than BaseURL and ExtraHosts go out without the token.
func (c *Client) HTTPClient() *http.Client { return c.http }

// Logins reports how many login requests this client has made (each encoding
// tried counts once); the simulator's counters are the source of truth in tests.
func (c *Client) Logins() int64 { return c.logins.Load() }

// Close stops the token source. Calls after Close fail once the cached token is
// gone.
func (c *Client) Close() error { return c.tokens.Close() }

// Do POSTs params as JSON to the product at path (relative to BaseURL, or an
// absolute URL on one of the ExtraHosts) and decodes the reply's "result" object
// into result (skipped when result is nil). A vendor error is returned as *Error;
// a failed login as an error that unwraps to the login's *Error.
//
// Do does not mark the call idempotent: a product call that fails after it may
// have run (5xx, timeout) is not re-sent unless ctx says so (retry.Idempotent).
func (c *Client) Do(ctx context.Context, path string, params, result any) error {
	u, err := c.resolve(path)
	if err != nil {
		return err
	}
	body := []byte("{}")
	if params != nil {
		if body, err = json.Marshal(params); err != nil {
			return fmt.Errorf("icekredit: encode request for %s: %w", u.Path, err)
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("icekredit: %w", err)
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	resp, err := c.http.Do(req)
	if err != nil {
		return unwrapClient(req, err)
	}
	defer resp.Body.Close()
	if r := outcome.Read(resp, Classify); r.Kind != outcome.Success {
		return r.Err
	}
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("icekredit: read reply of %s: %w", u.Path, err)
	}
	env, _ := parseEnvelope(raw)
	if result == nil || len(env.Result) == 0 || string(env.Result) == "null" {
		return nil
	}
	if err := json.Unmarshal(env.Result, result); err != nil {
		return fmt.Errorf("icekredit: decode result of %s (trace_id %s): %w", u.Path, env.TraceID, err)
	}
	return nil
}

// unwrapClient removes http.Client's *url.Error: it repeats the URL, and the
// layers below already name what failed (an outcome.UnknownError for a call that
// may have been processed, a retry.Error when retries ran out).
func unwrapClient(_ *http.Request, err error) error {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err
	}
	return err
}

// resolve turns a product path into a URL on BaseURL; absolute URLs are accepted
// as they are (the token layer decides whether the token may go there).
func (c *Client) resolve(path string) (*url.URL, error) {
	if strings.HasPrefix(path, "http://") || strings.HasPrefix(path, "https://") {
		u, err := url.Parse(path)
		if err != nil {
			return nil, fmt.Errorf("icekredit: product URL: %w", err)
		}
		return u, nil
	}
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	u := *c.base
	u.Path = c.base.Path + path
	u.RawPath = ""
	return &u, nil
}

// wire is the innermost layer: the headers and the timeout every IceKredit
// exchange needs, login and products alike, on a copy of the request.
type wire struct {
	base    http.RoundTripper
	timeout time.Duration
}

func (w *wire) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, cancel := req.Context(), context.CancelFunc(func() {})
	if w.timeout > 0 {
		ctx, cancel = context.WithTimeout(ctx, w.timeout)
	}
	r := req.Clone(ctx) // shares the body, which the base transport consumes
	r.Header.Set("Language", "en")
	base := w.base
	if base == nil {
		base = http.DefaultTransport
	}
	resp, err := base.RoundTrip(r)
	if err != nil {
		cancel()
		return nil, err
	}
	// The timeout covers the body too; reading it ends with Close.
	resp.Body = &cancelBody{ReadCloser: resp.Body, cancel: cancel}
	return resp, nil
}

type cancelBody struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b *cancelBody) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}
