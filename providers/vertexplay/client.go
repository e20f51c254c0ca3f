package vertexplay

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
	"time"

	"github.com/authwire/authwire/breaker"
	"github.com/authwire/authwire/clock"
	"github.com/authwire/authwire/outcome"
	"github.com/authwire/authwire/ratelimit"
	"github.com/authwire/authwire/retry"
	"github.com/authwire/authwire/roundtripper"
	"github.com/authwire/authwire/tokensource"
)

// Config configures a [Client].
type Config struct {
	// BaseURL is the API origin given at onboarding, e.g. "https://api.example.com".
	// Required: the vendor publishes no production host.
	BaseURL string
	// Credentials are the agent's agentId, API KEY and Secret KEY. Required.
	Credentials Credentials
	// Transport sends requests; nil means http.DefaultTransport.
	Transport http.RoundTripper
	// Limiter paces requests per host, /v2/auth included; nil means a
	// ratelimit.NewAdaptive of 10 requests/s with a burst of 10 on the wall
	// clock (it paces real requests, so a fake Clock does not freeze it).
	Limiter ratelimit.Limiter
	// Breakers guard requests per host (/v2/auth has its own breaker); nil means
	// breaker.NewSet defaults.
	Breakers *breaker.Set
	// Retry is the retry policy; nil means retry defaults.
	Retry *retry.Policy
	// Clock drives x-timestamp and token expiry; nil means the wall clock.
	Clock clock.Clock
	// SignatureVersion selects x-signature; zero means SignatureV2.
	SignatureVersion SignatureVersion
	// DeriveKey turns the API KEY into the AES key; nil means HexKey.
	DeriveKey KeyDerivation
	// Timeout bounds one call made with Do or a typed call, retries included,
	// when its context has no deadline; zero means 60 s, negative means none.
	Timeout time.Duration
	// TokenOptions are extra options for the token cache (a shared Store, early
	// refresh window...). The clock is set from Clock.
	TokenOptions []tokensource.Option
	// Logger, if set, receives one line per login, re-auth, retry, rate-limit wait
	// and breaker state change (vendor, code, attempt, wait), and at debug level one
	// per attempt with headers redacted by allow-list. Never a secret, password
	// hash, token, signature or body. Silent when nil.
	Logger *slog.Logger
}

// Client calls VertexPlay through the authwire stack: every request is encrypted
// and signed, carries a Bearer token from /v2/auth (fetched once for any number
// of concurrent callers, refreshed before it expires, fetched again once when the
// vendor rejects it), and is paced, guarded and retried by outcome. Create it with
// [New]; call [Client.Close] when done.
type Client struct {
	baseURL  string
	creds    Credentials
	clock    clock.Clock
	timeout  time.Duration
	signer   *Signer
	tokens   *tokensource.Source
	http     *http.Client
	authHTTP *http.Client
}

// New validates cfg and returns a Client.
func New(cfg Config) (*Client, error) {
	if cfg.BaseURL == "" {
		return nil, errors.New("vertexplay: Config.BaseURL is empty (the API host is given at onboarding)")
	}
	u, err := url.Parse(cfg.BaseURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("vertexplay: Config.BaseURL %q is not an http(s) URL", cfg.BaseURL)
	}
	if err := cfg.Credentials.valid(); err != nil {
		return nil, err
	}
	clk := clock.OrReal(cfg.Clock)
	signer, err := NewSigner(SignerConfig{Credentials: cfg.Credentials, Version: cfg.SignatureVersion, DeriveKey: cfg.DeriveKey, Clock: clk})
	if err != nil {
		return nil, err
	}
	hosts, err := roundtripper.HostsOf(cfg.BaseURL)
	if err != nil {
		return nil, err
	}
	lim := cfg.Limiter
	if lim == nil {
		lim = ratelimit.NewAdaptive(ratelimit.Config{Logger: cfg.Logger, Rate: 10, Burst: 10})
	}
	brk := cfg.Breakers
	if brk == nil {
		brk = breaker.NewSet(breaker.Config{Logger: cfg.Logger})
	}
	timeout := cfg.Timeout
	if timeout == 0 {
		timeout = time.Minute
	}
	c := &Client{
		baseURL: strings.TrimRight(cfg.BaseURL, "/"),
		creds:   cfg.Credentials,
		clock:   clk,
		timeout: timeout,
		signer:  signer,
	}
	// /v2/auth has its own small stack: signed and encrypted, no token. It has its
	// own breaker key because it runs inside a business request's breaker: with a
	// shared key a half-open breaker's one probe would need a token and the token
	// fetch would be refused as a second probe, so an expired token could keep the
	// breaker open for ever.
	authRT, err := roundtripper.New(roundtripper.Config{
		Vendor:     "vertexplay",
		Logger:     cfg.Logger,
		Hosts:      hosts,
		Classifier: classifyAuth,
		Signer:     signer,
		Limiter:    lim,
		Breakers:   brk,
		BreakerKey: func(r *http.Request) string { return r.URL.Host + AuthPath },
		Retry:      cfg.Retry,
		Base:       cfg.Transport,
	})
	if err != nil {
		return nil, err
	}
	c.authHTTP = &http.Client{Transport: authRT, CheckRedirect: noRedirect}
	opts := append([]tokensource.Option{tokensource.WithClock(clk), tokensource.WithName("vertexplay"), tokensource.WithLogger(cfg.Logger)}, cfg.TokenOptions...)
	c.tokens = tokensource.New(tokensource.FetcherFunc(c.fetchToken), opts...)
	rt, err := roundtripper.New(roundtripper.Config{
		Vendor:     "vertexplay",
		Logger:     cfg.Logger,
		Hosts:      hosts,
		Classifier: Classify,
		Token:      c.tokens,
		Signer:     signer,
		Limiter:    lim,
		Breakers:   brk,
		Retry:      cfg.Retry,
		Base:       cfg.Transport,
	})
	if err != nil {
		c.tokens.Close()
		return nil, err
	}
	c.http = &http.Client{Transport: rt, CheckRedirect: noRedirect}
	return c, nil
}

// noRedirect: the vendor's API does not redirect, and a redirected POST would
// lose its encrypted body; the caller sees the 3xx instead.
func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// HTTPClient returns an *http.Client with the full stack, for raw calls: POST a
// plaintext JSON body to BaseURL+path and it goes out encrypted, signed and with
// a Bearer token; the reply is VertexPlay's plaintext envelope.
func (c *Client) HTTPClient() *http.Client { return c.http }

// Signer returns the client's request signer (for tools that sign by hand).
func (c *Client) Signer() *Signer { return c.signer }

// TokenSource returns the client's token cache; it is an oauth2.TokenSource.
func (c *Client) TokenSource() *tokensource.Source { return c.tokens }

// Close stops the token cache's background work.
func (c *Client) Close() error { return c.tokens.Close() }

// Do calls path with params (marshalled to JSON; nil sends {}) and decodes the
// reply's data into result (which may be nil). A code other than 0 is returned as
// a *Error; code 35 (pending) is returned as a *Error matching [ErrPending], with
// any data still decoded into result. A request that may have been processed and
// was not re-sent returns an error matching outcome.ErrUnknown.
//
// Do resends only what is safe: pass retry.Idempotent(ctx) for calls that are
// harmless to repeat.
func (c *Client) Do(ctx context.Context, path string, params any, result any) error {
	plain := []byte("{}")
	if params != nil {
		b, err := json.Marshal(params)
		if err != nil {
			return fmt.Errorf("vertexplay: %s: encode params: %w", path, err)
		}
		plain = b
	}
	if _, ok := ctx.Deadline(); !ok && c.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.baseURL+path, bytes.NewReader(plain))
	if err != nil {
		return fmt.Errorf("vertexplay: %s: %w", path, err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return unwrapURL(path, err)
	}
	defer resp.Body.Close()
	// The classifier's verdict, which every layer acted on, is authoritative: an
	// HTTP 401 is a rejected token whatever code its body carries.
	if r := outcome.Read(resp, Classify); r.Kind != outcome.Success {
		return r.Err
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, outcome.MaxBody))
	if err != nil {
		return fmt.Errorf("vertexplay: %s: read reply: %w", path, err)
	}
	env, ok := parseEnvelope(body)
	if !ok || (*env.Code != CodeSuccess && *env.Code != CodePending) {
		if ok {
			return newError(resp, env, codes.Lookup(*env.Code))
		}
		return &Error{Code: -1, Message: "reply has no code", HTTPStatus: resp.StatusCode, Path: path, Kind: outcome.Unknown}
	}
	if result != nil && len(env.Data) > 0 && string(env.Data) != "null" {
		if err := json.Unmarshal(env.Data, result); err != nil {
			return fmt.Errorf("vertexplay: %s: decode data (logUUID %s): %w", path, env.LogUUID, err)
		}
	}
	if *env.Code == CodePending {
		return newError(resp, env, codes.Lookup(CodePending))
	}
	return nil
}
