package nxcloud

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/authwire/authwire/clock"
	"github.com/authwire/authwire/provider"
	"github.com/authwire/authwire/tokensource"
)

// DefaultBaseURL is NXCloud's production API host.
const DefaultBaseURL = "https://api2.nxcloud.com"

// DefaultLoginTokenTTL is how long an embedded-page login token is used
// (inferred: NXCloud documents no lifetime).
const DefaultLoginTokenTTL = 10 * time.Minute

// Config configures a [Client]: the settings every vendor has ([provider.Options]:
// transport or *http.Client, limiter, breakers, retry, clock, logger, token store,
// timeouts) and NXCloud's own. Only Credentials are required.
type Config struct {
	provider.Options

	// BaseURL is the API origin; default [DefaultBaseURL]. Requests are signed only
	// for this origin.
	BaseURL string
	// Credentials are the account's key pair. Required.
	Credentials Credentials
	// Algorithm is the signature hash; "" means [MD5].
	Algorithm Algorithm
	// ClockOffset is added to the clock for the ts header, to correct a host clock
	// known to be off (NXCloud accepts ±60 s).
	ClockOffset time.Duration
	// LoginTokenTTL is how long an embedded-page login token from
	// [Client.TokenSource] is used; zero means [DefaultLoginTokenTTL].
	LoginTokenTTL time.Duration
}

// Client calls NXCloud through the provider kit's stack: every attempt is paced
// per account, guarded by a breaker, freshly signed and classified by the
// vendor's codes. It is safe for concurrent use; call [Client.Close] when done.
type Client struct {
	*provider.Client
	tokens *tokensource.Source
	clock  clock.Clock
	ttl    time.Duration
}

// New returns a client configured by cfg, or an error naming what is missing or
// wrong.
func New(cfg Config) (*Client, error) {
	if err := cfg.Credentials.valid(); err != nil {
		return nil, err
	}
	if cfg.Algorithm = cmp.Or(cfg.Algorithm, MD5); !cfg.Algorithm.valid() {
		return nil, fmt.Errorf("nxcloud: Config.Algorithm %q is not %q or %q", cfg.Algorithm, MD5, SHA256)
	}
	if cfg.LoginTokenTTL < 0 {
		return nil, errors.New("nxcloud: Config.LoginTokenTTL is negative")
	}
	base := strings.TrimRight(cmp.Or(cfg.BaseURL, DefaultBaseURL), "/")
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("nxcloud: Config.BaseURL %q is not an http(s) URL", cfg.BaseURL)
	}
	clk := clock.OrReal(cfg.Clock)
	// One rate budget, and one login token, per account: NXCloud counts 2206 per
	// account, not per path.
	account := "nxcloud/" + cfg.Credentials.AccessKey + "@" + u.Host
	pc, err := provider.New(provider.Spec{
		Name: "nxcloud", BaseURLs: []string{base}, Envelope: envelope,
		Signer:      &Signer{Credentials: cfg.Credentials, Algorithm: cfg.Algorithm, Clock: clk, ClockOffset: cfg.ClockOffset},
		SafeHeaders: []string{HeaderAccessKey, HeaderBizType, HeaderAction, HeaderAlgorithm, HeaderTS},
		LimitKey:    func(*http.Request) string { return account },
	}, cfg.Options)
	if err != nil {
		return nil, err
	}
	c := &Client{Client: pc, clock: clk, ttl: cmp.Or(cfg.LoginTokenTTL, DefaultLoginTokenTTL)}
	opts := []tokensource.Option{tokensource.WithClock(clk), tokensource.WithName("nxcloud"), tokensource.WithLogger(cfg.Logger)}
	if cfg.TokenStore != nil {
		opts = append(opts, tokensource.WithStore(cfg.TokenStore, account))
	}
	c.tokens = tokensource.New(c.Fetcher(), opts...)
	return c, nil
}

// Call POSTs params as JSON to path and decodes the reply's data into result
// (when result is not nil). params nil sends an empty body; a []byte or
// json.RawMessage is sent as is. The bizType and action come from
// [WithOperation] or from the path of a known operation. A vendor failure is an
// *[Error]; a request that may have been processed and was not re-sent matches
// outcome.ErrUnknown.
//
// Call does not mark requests idempotent: pass retry.Idempotent(ctx) when sending
// the request twice is harmless, so that a lost reply can be retried.
func (c *Client) Call(ctx context.Context, path string, params, result any) error {
	if _, ok := operationOf(ctx, path); !ok {
		return &ParamError{Op: path, Field: "bizType/action", Reason: "unknown for this path: use nxcloud.WithOperation"}
	}
	r, err := c.DoJSON(ctx, http.MethodPost, path, params, func(h http.Header) { h.Set("Content-Type", "application/json") })
	if err != nil {
		return err
	}
	return envelope.Decode(r.Body, result)
}

// Fetcher returns the bare integrator login ([Client.Login]) as a
// tokensource.Fetcher: every Fetch logs in and returns the embedded-page login
// token, valid for Config.LoginTokenTTL.
func (c *Client) Fetcher() tokensource.Fetcher {
	return tokensource.FetcherFunc(func(ctx context.Context) (*oauth2.Token, error) {
		tok, err := c.Login(ctx)
		if err != nil {
			return nil, err
		}
		return &oauth2.Token{AccessToken: tok, Expiry: c.clock.Now().Add(c.ttl)}, nil
	})
}

// Refresher returns the bare integrator login as an oauth2.TokenSource: every
// Token call logs in, so wrap it in a reuse layer (see the example).
func (c *Client) Refresher() oauth2.TokenSource { return tokensource.ToOAuth2(c.Fetcher()) }

// TokenSource returns the client's cache of embedded-page login tokens (NXCloud's
// API itself is signed, not token-based): one login for any number of
// concurrent callers, a new one shortly before Config.LoginTokenTTL ends, shared
// through Config.TokenStore when set. When the embedded page reports the token
// rejected, call Invalidate with it. [Client.Close] stops it.
func (c *Client) TokenSource() *tokensource.Source { return c.tokens }

// Close stops the login token cache. The HTTP client keeps working.
func (c *Client) Close() error { return errors.Join(c.tokens.Close(), c.Client.Close()) }
