package provider

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/authwire/authwire/clock"
	"github.com/authwire/authwire/outcome"
	"github.com/authwire/authwire/retry"
	"github.com/authwire/authwire/roundtripper"
)

// Login obtains a new token from the vendor, through the credential-less stack
// that lc gives access to. It runs under the token cache's single flight: one at
// a time per client. A failure should be an [*outcome.Error] (what lc's helpers
// return): a Permanent kind is held by the token cache, anything else is retried
// with backoff.
type Login interface {
	Login(ctx context.Context, lc *LoginClient) (*oauth2.Token, error)
}

// LoginFunc adapts a function to [Login], for a vendor whose login is more than
// [JSONLogin] (a fallback encoding, an encrypted body).
type LoginFunc func(ctx context.Context, lc *LoginClient) (*oauth2.Token, error)

// Login calls f(ctx, lc).
func (f LoginFunc) Login(ctx context.Context, lc *LoginClient) (*oauth2.Token, error) {
	return f(ctx, lc)
}

// LoginClient is the login's way to the vendor: retry → limiter → breaker (its
// own key) → per-attempt → [signer] → base, with no token layer. It sends only to
// the login origin and the BaseURLs, and marks every request idempotent: a second
// login only replaces the first token.
type LoginClient struct {
	name       string
	url        string
	hosts      roundtripper.Hosts
	base       *url.URL
	client     *http.Client
	classifier outcome.Classifier
	envelope   *outcome.Envelope
	clock      clock.Clock
	lifetime   time.Duration
	sliding    bool
}

// URL returns the Spec's LoginURL, resolved against the first base URL.
func (lc *LoginClient) URL() string { return lc.url }

// Envelope returns the Spec's Envelope (nil if it has none).
func (lc *LoginClient) Envelope() *outcome.Envelope { return lc.envelope }

// Now returns the client's clock's time.
func (lc *LoginClient) Now() time.Time { return lc.clock.Now() }

// Do sends req through the login stack, marked idempotent. The error is the
// stack's own (not wrapped in *url.Error); the response's classification is
// read with [LoginClient.Outcome].
func (lc *LoginClient) Do(req *http.Request) (*http.Response, error) {
	if !lc.hosts.Allows(req.URL) {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, fmt.Errorf("%s: login: %s is not the login origin nor a base URL: not sent", lc.name, origin(req.URL))
	}
	resp, err := lc.client.Do(req.WithContext(retry.Idempotent(req.Context())))
	if err != nil {
		return nil, fmt.Errorf("%s: login: %w", lc.name, unwrapURL(err))
	}
	return resp, nil
}

// Outcome returns the login classifier's verdict on resp.
func (lc *LoginClient) Outcome(resp *http.Response) outcome.Result {
	return outcome.Read(resp, lc.classifier)
}

// Post POSTs body to target (absolute, relative to the first base URL, or "" for
// the LoginURL) and returns the reply's body when the login classifier says it
// succeeded, or its typed error ([*outcome.Error] for an Envelope) when not.
func (lc *LoginClient) Post(ctx context.Context, target, contentType string, body []byte) ([]byte, error) {
	if target == "" {
		target = lc.url
	}
	u, err := resolve(lc.base, target)
	if err != nil {
		return nil, fmt.Errorf("%s: login: %w", lc.name, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("%s: login: %w", lc.name, err)
	}
	req.Header.Set("Content-Type", contentType)
	resp, err := lc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if r := lc.Outcome(resp); r.Kind != outcome.Success {
		return nil, resultError(lc.name, u.Path, resp, r)
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, outcome.MaxBody))
	if err != nil {
		return nil, &outcome.Error{Vendor: lc.name, Op: u.Path, Message: "read login reply: " + err.Error(),
			HTTPStatus: resp.StatusCode, Kind: outcome.Transient, Err: err}
	}
	return raw, nil
}

// NewToken returns a token for access valid for lifetime. A lifetime that is not
// positive means "not stated": the Spec's Token.Lifetime (or
// [DefaultTokenLifetime]) applies, or only the sliding expiry when the Spec has one.
func (lc *LoginClient) NewToken(access, tokenType string, lifetime time.Duration) *oauth2.Token {
	tok := &oauth2.Token{AccessToken: access, TokenType: tokenType}
	if lifetime <= 0 {
		if lc.sliding {
			return tok
		}
		lifetime = lc.lifetime
	}
	lifetime = min(lifetime, MaxTokenLifetime)
	tok.Expiry = lc.clock.Now().Add(lifetime)
	tok.ExpiresIn = int64(lifetime / time.Second)
	return tok
}

// JSONLogin is the common login: POST a body to the LoginURL and read a token and
// its lifetime from the JSON reply. Failures are classified by the Spec's login
// classifier, so a wrong password (a Permanent code) is held by the token cache
// and a system error is retried.
type JSONLogin struct {
	// URL is where to POST; empty means the Spec's LoginURL.
	URL string
	// Body renders the request: its content type and bytes. Called once per
	// login, so it may draw a fresh timestamp or nonce. Required.
	Body func() (contentType string, body []byte, err error)
	// TokenField is the path of the token in the reply, dot-separated
	// ("data.access_token"). Required.
	TokenField string
	// LifetimeField is the path of the lifetime in seconds ("data.expires_in"),
	// read as a JSON number or a numeric string, capped at [MaxTokenLifetime];
	// empty, absent or not positive means the Spec's default lifetime.
	LifetimeField string
	// TokenType is the token's type ("Bearer"); empty means Bearer when the
	// TokenFormat is the default.
	TokenType string
}

// Login implements [Login].
func (j JSONLogin) Login(ctx context.Context, lc *LoginClient) (*oauth2.Token, error) {
	if j.Body == nil || j.TokenField == "" {
		return nil, &outcome.Error{Vendor: lc.name, Op: "login", Message: "JSONLogin needs Body and TokenField", Kind: outcome.Permanent}
	}
	ct, body, err := j.Body()
	if err != nil {
		return nil, &outcome.Error{Vendor: lc.name, Op: "login", Message: "render login body: " + err.Error(), Kind: outcome.Permanent, Err: err}
	}
	raw, err := lc.Post(ctx, j.URL, ct, body)
	clear(body) // it carried the credentials
	if err != nil {
		return nil, err
	}
	var reply any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&reply); err != nil {
		return nil, &outcome.Error{Vendor: lc.name, Op: "login", Message: "login reply is not JSON", Kind: outcome.Transient}
	}
	access, _ := lookup(reply, j.TokenField).(string)
	if access == "" {
		return nil, &outcome.Error{Vendor: lc.name, Op: "login", Message: "login reply has no " + j.TokenField, Kind: outcome.Transient}
	}
	var life time.Duration
	if j.LifetimeField != "" {
		life, _ = ParseLifetime(lookup(reply, j.LifetimeField))
	}
	return lc.NewToken(access, j.TokenType, life), nil
}

// lookup follows a dot-separated path through decoded JSON objects.
func lookup(v any, path string) any {
	for name := range strings.SplitSeq(path, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[name]
	}
	return v
}

// ParseLifetime reads a lifetime in seconds as vendors send it: a JSON number
// (integer or not), a numeric string, or their decoded forms (json.Number,
// float64, an integer type, json.RawMessage). The result is capped at
// [MaxTokenLifetime] and never overflows; it reports false for anything absent,
// unreadable or not positive.
func ParseLifetime(v any) (time.Duration, bool) {
	var f float64
	switch x := v.(type) {
	case json.RawMessage:
		var s any
		d := json.NewDecoder(bytes.NewReader(x))
		d.UseNumber()
		if d.Decode(&s) != nil {
			return 0, false
		}
		return ParseLifetime(s)
	case json.Number:
		return ParseLifetime(string(x))
	case string:
		n, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		if err != nil {
			return 0, false
		}
		f = n
	case float64:
		f = x
	case float32:
		f = float64(x)
	case int:
		f = float64(x)
	case int64:
		f = float64(x)
	case uint64:
		f = float64(x)
	default:
		return 0, false
	}
	if math.IsNaN(f) || f <= 0 {
		return 0, false
	}
	if f >= MaxTokenLifetime.Seconds() {
		return MaxTokenLifetime, true
	}
	return time.Duration(f * float64(time.Second)), true
}

// JSONBody returns a JSONLogin.Body that marshals v as application/json.
func JSONBody(v any) func() (string, []byte, error) {
	return func() (string, []byte, error) {
		b, err := json.Marshal(v)
		return "application/json", b, err
	}
}

// FormBody returns a JSONLogin.Body that sends v form-encoded.
func FormBody(v url.Values) func() (string, []byte, error) {
	return func() (string, []byte, error) {
		return "application/x-www-form-urlencoded", []byte(v.Encode()), nil
	}
}
