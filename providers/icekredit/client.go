package icekredit

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/authwire/authwire/provider"
	"github.com/authwire/authwire/roundtripper"
)

const vendor = "icekredit"

// The vendor's hosts and timings (see the package documentation).
const (
	DefaultLoginURL = "https://sso-ng.icekredit.ai"
	DefaultBaseURL  = "https://api-ng.icekredit.ai"
	// DefaultAttemptTimeout is the 20 s per request the vendor asks for: the
	// default of Options.AttemptTimeout.
	DefaultAttemptTimeout = 20 * time.Second
	// DefaultTimeout bounds a whole call (attempts, waits and a login): the
	// default of Options.Timeout.
	DefaultTimeout = time.Minute
	// TokenTTL is the token's sliding lifetime after its last successful use.
	TokenTTL = 20 * time.Minute
	// LoginErrorHold is how long a permanent login error (wrong password, locked
	// account) is returned without asking IceKredit again.
	LoginErrorHold = time.Minute
)

// LoginPath is the login endpoint, relative to Config.LoginURL.
const LoginPath = "/api/login.do"

// TokenHeader is the header that carries the token, spelled exactly so on the wire.
const TokenHeader = "token_id"

// Constant header values, shared by every request (never modified) so that
// setting them allocates nothing.
var (
	language = []string{"en"}
	jsonUTF8 = []string{"application/json; charset=utf-8"}
)

// Config configures a [Client]: the kit's Options (transport or *http.Client,
// limiter, breakers, retry, clock, logger, token store, timeouts, telemetry) and
// IceKredit's own fields. Only Credentials is required.
type Config struct {
	provider.Options
	// LoginURL is the LOGIN_DOMAIN base URL; default [DefaultLoginURL]. The login
	// is POSTed to LoginURL + [LoginPath] and never carries the token.
	LoginURL string
	// BaseURL is the SERVICE_DOMAIN base URL; default [DefaultBaseURL]. Product
	// paths are appended to it; the token goes only to its origin (and ExtraHosts).
	BaseURL string
	// ExtraHosts are further service base URLs the token may be sent to, for
	// products on another SERVICE_DOMAIN; [Client.Do] takes absolute URLs on them.
	ExtraHosts []string
	// Credentials is the merchant login. Required. A TokenStore shares the token
	// under a key naming the login host and the merchant.
	Credentials Credentials
	// LoginEncoding is how the login is encoded first; default [Form].
	LoginEncoding LoginEncoding
}

// Client calls IceKredit products. It is safe for concurrent use; create it with
// [New] and release it with Close. The embedded *provider.Client gives the
// methods every provider has: HTTPClient, TokenSource, Refresher, Logins, Close.
type Client struct {
	*provider.Client
	baseURL, loginURL string
	login             *login
}

// New validates cfg and builds the client. Nothing is sent until the first call.
func New(cfg Config) (*Client, error) {
	if m := cfg.Credentials.redacted().Missing(); m != "" {
		return nil, fmt.Errorf("icekredit: Config.Credentials.%s is not set: build the Credentials with NewCredentials or NewCredentialsFromMD5", m)
	}
	if cfg.LoginEncoding != Form && cfg.LoginEncoding != JSON {
		return nil, fmt.Errorf("icekredit: Config.LoginEncoding %d is neither Form nor JSON", cfg.LoginEncoding)
	}
	c := &Client{baseURL: strings.TrimSuffix(cmp.Or(cfg.BaseURL, DefaultBaseURL), "/"),
		loginURL: strings.TrimSuffix(cmp.Or(cfg.LoginURL, DefaultLoginURL), "/") + LoginPath}
	lu, err := url.Parse(c.loginURL)
	if err != nil || lu.Host == "" {
		return nil, fmt.Errorf("icekredit: Config.LoginURL %q is not an absolute URL", cfg.LoginURL)
	}
	if _, err := roundtripper.HostsOf(append([]string{c.baseURL}, cfg.ExtraHosts...)...); err != nil {
		return nil, fmt.Errorf("icekredit: Config.BaseURL or ExtraHosts: %w", err)
	}
	c.login = &login{creds: cfg.Credentials}
	c.login.encoding.Store(int32(cfg.LoginEncoding))
	c.Client, err = provider.New(provider.Spec{
		Name: vendor, BaseURLs: append([]string{c.baseURL}, cfg.ExtraHosts...), LoginURL: c.loginURL,
		Envelope: envelope, LoginClassifier: classifyLogin, Login: c.login,
		TokenHeader: TokenHeader, TokenFormat: roundtripper.RawToken,
		Token: provider.TokenOptions{Sliding: TokenTTL, PermanentErrorHold: LoginErrorHold,
			StoreKey: vendor + "|" + lu.Host + "|" + cfg.Credentials.MerchantName},
		SafeHeaders: []string{"Language", "Content-Type"},
		PerAttempt:  func(r *http.Request) { r.Header["Language"] = language },
		Timeout:     DefaultTimeout, AttemptTimeout: DefaultAttemptTimeout,
	}, cfg.Options)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// String describes the client without its credentials.
func (c *Client) String() string {
	return fmt.Sprintf("icekredit.Client{BaseURL:%q, LoginURL:%q, Credentials:%v}", c.baseURL, c.loginURL, c.login.creds)
}

// GoString is String, so that %#v cannot reach the fields.
func (c *Client) GoString() string { return c.String() }

// Do POSTs params as JSON to the product at path (relative to BaseURL, or an
// absolute URL on one of the ExtraHosts) and decodes the reply's "result" object
// into result (skipped when result is nil). A vendor error, the login's included,
// is an [*Error].
//
// Do does not mark the call idempotent: a product call that fails after it may
// have run (5xx, timeout, the caller's deadline) returns an error matching
// outcome.ErrUnknown and is not re-sent unless ctx says so (retry.Idempotent).
func (c *Client) Do(ctx context.Context, path string, params, result any) error {
	if params == nil {
		params = json.RawMessage("{}")
	}
	r, err := c.DoJSON(ctx, http.MethodPost, path, params, func(h http.Header) { h["Content-Type"] = jsonUTF8 })
	if err != nil {
		return err
	}
	return envelope.Decode(r.Body, result)
}
