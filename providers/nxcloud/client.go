package nxcloud

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
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"

	"github.com/authwire/authwire/breaker"
	"github.com/authwire/authwire/clock"
	"github.com/authwire/authwire/outcome"
	"github.com/authwire/authwire/ratelimit"
	"github.com/authwire/authwire/retry"
	"github.com/authwire/authwire/roundtripper"
	"github.com/authwire/authwire/tokensource"
)

// DefaultBaseURL is NXCloud's production API host.
const DefaultBaseURL = "https://api2.nxcloud.com"

// DefaultLoginTokenTTL is how long an embedded-page login token is used
// (inferred: NXCloud documents no lifetime).
const DefaultLoginTokenTTL = 10 * time.Minute

// Config configures a [Client]. Only Credentials are required.
type Config struct {
	// BaseURL is the API origin; default [DefaultBaseURL]. Requests are signed only
	// for this origin.
	BaseURL string
	// Credentials are the account's key pair. Required.
	Credentials Credentials
	// Transport sends the requests; nil means http.DefaultTransport.
	Transport http.RoundTripper
	// Limiter paces requests per account; nil means a ratelimit.NewAdaptive of 10
	// requests per second with a burst of 10, which slows down on 2206.
	Limiter ratelimit.Limiter
	// Breakers guard the host; nil means breaker.NewSet's defaults.
	Breakers *breaker.Set
	// Retry is the retry policy; nil means retry.Policy's defaults.
	Retry *retry.Policy
	// Clock gives the ts header and the token lifetimes; nil means the wall clock.
	Clock clock.Clock

	// Algorithm is the signature hash; "" means [MD5].
	Algorithm Algorithm
	// ClockOffset is added to the clock for the ts header, to correct a host clock
	// known to be off (NXCloud accepts ±60 s).
	ClockOffset time.Duration
	// LoginTokenTTL is how long an embedded-page login token from
	// [Client.LoginTokenSource] is used; zero means [DefaultLoginTokenTTL].
	LoginTokenTTL time.Duration
	// Logger, if set, receives one line per login, re-auth, retry, rate-limit wait
	// and breaker state change (vendor, code, attempt, wait), and at debug level one
	// per attempt with headers redacted by allow-list. Never a secret, password
	// hash, token, signature or body. Silent when nil.
	Logger *slog.Logger
}

// Client calls NXCloud through the authwire stack: every attempt is paced, guarded
// by a breaker, classified by the vendor's codes and freshly signed. It is safe for
// concurrent use; call [Client.Close] when done.
type Client struct {
	base   string
	clock  clock.Clock
	ttl    time.Duration
	http   *http.Client
	logger *slog.Logger

	mu     sync.Mutex
	src    *tokensource.Source
	closed bool
}

// New returns a client configured by cfg, or an error naming what is missing or
// wrong.
func New(cfg Config) (*Client, error) {
	if err := cfg.Credentials.valid(); err != nil {
		return nil, err
	}
	if cfg.Algorithm == "" {
		cfg.Algorithm = MD5
	}
	if !cfg.Algorithm.valid() {
		return nil, fmt.Errorf("nxcloud: Config.Algorithm %q is not %q or %q", cfg.Algorithm, MD5, SHA256)
	}
	if cfg.LoginTokenTTL < 0 {
		return nil, errors.New("nxcloud: Config.LoginTokenTTL is negative")
	}
	if cfg.LoginTokenTTL == 0 {
		cfg.LoginTokenTTL = DefaultLoginTokenTTL
	}
	base := cfg.BaseURL
	if base == "" {
		base = DefaultBaseURL
	}
	base = strings.TrimRight(base, "/")
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("nxcloud: Config.BaseURL %q is not an http(s) URL", cfg.BaseURL)
	}
	hosts, err := roundtripper.HostsOf(base)
	if err != nil {
		return nil, fmt.Errorf("nxcloud: Config.BaseURL: %w", err)
	}
	cfg.Clock = clock.OrReal(cfg.Clock)
	if cfg.Limiter == nil {
		cfg.Limiter = ratelimit.NewAdaptive(ratelimit.Config{Logger: cfg.Logger, Rate: 10, Burst: 10, Clock: cfg.Clock})
	}
	if cfg.Breakers == nil {
		cfg.Breakers = breaker.NewSet(breaker.Config{Logger: cfg.Logger})
	}
	// One budget per account: NXCloud counts 2206 per account, not per path.
	limitKey := "nxcloud/" + cfg.Credentials.AccessKey + "@" + u.Host
	rt, err := roundtripper.New(roundtripper.Config{
		Vendor:     "nxcloud",
		Logger:     cfg.Logger,
		Hosts:      hosts,
		Classifier: Classify,
		Signer: &Signer{
			Credentials: cfg.Credentials,
			Algorithm:   cfg.Algorithm,
			Clock:       cfg.Clock,
			ClockOffset: cfg.ClockOffset,
		},
		Limiter:  cfg.Limiter,
		LimitKey: func(*http.Request) string { return limitKey },
		Breakers: cfg.Breakers,
		Retry:    cfg.Retry,
		Base:     cfg.Transport,
	})
	if err != nil {
		return nil, fmt.Errorf("nxcloud: %w", err)
	}
	return &Client{
		base:   base,
		clock:  cfg.Clock,
		ttl:    cfg.LoginTokenTTL,
		http:   &http.Client{Transport: rt},
		logger: cfg.Logger,
	}, nil
}

// HTTPClient returns the client's full stack as an *http.Client, for raw calls.
// Requests to BaseURL are signed; their bizType and action come from the request's
// headers, from [WithOperation], or from a known path.
func (c *Client) HTTPClient() *http.Client { return c.http }

// Do POSTs params as JSON to path and decodes the reply's data into result (when
// result is not nil). params nil sends an empty body; a []byte or json.RawMessage
// is sent as is. The bizType and action come from [WithOperation] or from the path
// of a known operation. A vendor failure is an *[Error]; a request that may have
// been processed and was not re-sent matches outcome.ErrUnknown.
//
// Do does not mark requests idempotent: pass retry.Idempotent(ctx) when sending the
// request twice is harmless, so that a lost reply can be retried.
func (c *Client) Do(ctx context.Context, path string, params any, result any) error {
	op, ok := operationFrom(ctx)
	if !ok {
		op, ok = operations[path]
	}
	if !ok {
		return &ParamError{Op: path, Field: "bizType/action", Reason: "unknown for this path: use nxcloud.WithOperation"}
	}
	var body []byte
	switch p := params.(type) {
	case nil:
	case []byte:
		body = p
	case json.RawMessage:
		body = p
	default:
		b, err := json.Marshal(params)
		if err != nil {
			return fmt.Errorf("nxcloud: %s: encode params: %w", op.Action, err)
		}
		body = b
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+path, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("nxcloud: %s: %w", op.Action, err)
	}
	if len(body) == 0 {
		req.Body, req.GetBody, req.ContentLength = http.NoBody, nil, 0
	}
	req.Header.Set("Content-Type", "application/json")
	setHeader(req.Header, HeaderBizType, []string{strconv.Itoa(int(op.BizType))})
	setHeader(req.Header, HeaderAction, []string{op.Action})
	resp, err := c.http.Do(req)
	if err != nil {
		if ue, ok := err.(*url.Error); ok {
			err = ue.Err // the layers' own messages name the request
		}
		return fmt.Errorf("nxcloud: %s: %w", op.Action, err)
	}
	defer resp.Body.Close()
	// The stack classified the reply on its way back; Read returns that verdict.
	if r := outcome.Read(resp, Classify); r.Kind != outcome.Success {
		return r.Err
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, outcome.MaxBody))
	if err != nil {
		return fmt.Errorf("nxcloud: %s: read reply: %w", op.Action, err)
	}
	if result == nil {
		return nil
	}
	env, _ := parseEnvelope(raw)
	if len(env.Data) == 0 || string(env.Data) == "null" {
		return nil
	}
	if err := json.Unmarshal(env.Data, result); err != nil {
		return &Error{Message: "cannot decode data: " + err.Error(), HTTPStatus: resp.StatusCode, Path: path, Kind: outcome.Unknown}
	}
	return nil
}

// LoginFetcher returns a tokensource.Fetcher that logs in ([Client.Login]) and
// returns the embedded-page login token, valid for Config.LoginTokenTTL, for a
// tokensource.Source of your own (say, one shared through a Store).
func (c *Client) LoginFetcher() tokensource.Fetcher {
	return tokensource.FetcherFunc(func(ctx context.Context) (*oauth2.Token, error) {
		tok, err := c.Login(ctx)
		if err != nil {
			return nil, err
		}
		return &oauth2.Token{AccessToken: tok, Expiry: c.clock.Now().Add(c.ttl)}, nil
	})
}

// LoginTokenSource returns the client's cache of embedded-page login tokens: one
// login for any number of concurrent callers, a new one shortly before
// Config.LoginTokenTTL ends. When the embedded page reports the token rejected,
// call Invalidate with it: the next TokenContext logs in again. [Client.Close]
// stops it.
func (c *Client) LoginTokenSource() *tokensource.Source {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.src == nil {
		c.src = tokensource.New(c.LoginFetcher(), tokensource.WithClock(c.clock), tokensource.WithName("nxcloud"), tokensource.WithLogger(c.logger))
		if c.closed {
			c.src.Close()
		}
	}
	return c.src
}

// Close stops the login token source. The HTTP client keeps working.
func (c *Client) Close() error {
	c.mu.Lock()
	c.closed = true
	src := c.src
	c.mu.Unlock()
	if src != nil {
		return src.Close()
	}
	return nil
}
