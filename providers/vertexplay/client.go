package vertexplay

import (
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/authwire/authwire/outcome"
	"github.com/authwire/authwire/provider"
)

// AuthPath is the token endpoint.
const AuthPath = "/v2/auth"

// DefaultCheckTimeout bounds the check call of [Client.TransferOrCheck], which
// runs detached from the caller's context (see Config.CheckTimeout).
const DefaultCheckTimeout = 10 * time.Second

// Config configures a [Client]: the options every authwire provider takes, and
// VertexPlay's own fields.
type Config struct {
	provider.Options
	// BaseURL is the API origin given at onboarding, e.g. "https://api.example.com".
	// Required: the vendor publishes no production host.
	BaseURL string
	// Credentials are the agent's agentId, API KEY and Secret KEY. Required.
	Credentials Credentials
	// SignatureVersion selects x-signature; zero means SignatureV2.
	SignatureVersion SignatureVersion
	// DeriveKey turns the API KEY into the AES key; nil means HexKey.
	DeriveKey KeyDerivation
	// CheckTimeout bounds the check call of TransferOrCheck; zero or negative
	// means DefaultCheckTimeout.
	CheckTimeout time.Duration
}

// Client calls VertexPlay through the authwire stack: every request is encrypted
// and signed, carries a Bearer token from /v2/auth (fetched once for any number
// of concurrent callers, refreshed before it expires, fetched again once when the
// vendor rejects it), and is paced, guarded and retried by outcome. It has the
// methods of every provider's client (HTTPClient, TokenSource, Refresher,
// Close...); create it with [New] and call [Client.Close] when done.
type Client struct {
	*provider.Client
	signer       *Signer
	checkTimeout time.Duration
}

// New validates cfg and returns a Client. Nothing is sent until the first call.
func New(cfg Config) (*Client, error) {
	if cfg.BaseURL == "" {
		return nil, errors.New("vertexplay: Config.BaseURL is empty (the API host is given at onboarding)")
	}
	signer, err := NewSigner(SignerConfig{Credentials: cfg.Credentials, Version: cfg.SignatureVersion, DeriveKey: cfg.DeriveKey, Clock: cfg.Clock})
	if err != nil {
		return nil, err
	}
	if cfg.HTTPClient == nil {
		// The API does not redirect, and a redirected POST would be re-sent in
		// plaintext to the new host (only the base URL's requests are
		// encrypted): the 3xx is the answer, and an error. A caller's
		// HTTPClient keeps its own CheckRedirect.
		cfg.HTTPClient, cfg.Transport = &http.Client{Transport: cfg.Transport, CheckRedirect: noRedirect}, nil
	}
	pc, err := provider.New(provider.Spec{
		Name: "vertexplay", BaseURLs: []string{cfg.BaseURL}, LoginURL: AuthPath,
		Envelope: envelope, LoginClassifier: classifyAuth,
		// /v2/auth is itself encrypted and signed, without a token.
		Signer: signer, SignLogin: true, Login: provider.LoginFunc(cfg.Credentials.login),
		Token: provider.TokenOptions{StoreKey: "vertexplay|" + strings.TrimRight(cfg.BaseURL, "/") + "|" + cfg.Credentials.AgentID},
		// The agentId is a public identifier; x-nonce and x-signature are not shown.
		SafeHeaders: []string{HeaderAgentID, HeaderTimestamp},
	}, cfg.Options)
	if err != nil {
		return nil, err
	}
	return &Client{Client: pc, signer: signer, checkTimeout: cmp.Or(max(cfg.CheckTimeout, 0), DefaultCheckTimeout)}, nil
}

func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// Signer returns the client's request signer (for tools that sign by hand).
func (c *Client) Signer() *Signer { return c.signer }

// Call POSTs params (marshalled to JSON; nil sends {}) to path and decodes the
// reply's data into result (which may be nil). A code other than 0 is returned as
// an *Error; code 35 (pending) as an error matching [ErrPending] and holding the
// *Error, with any data still decoded into result. A request that may have been
// processed and was not re-sent returns an error matching outcome.ErrUnknown.
//
// Call resends only what is safe: pass retry.Idempotent(ctx) for calls that are
// harmless to repeat.
func (c *Client) Call(ctx context.Context, path string, params, result any) error {
	r, err := c.DoJSON(ctx, http.MethodPost, path, params, nil)
	if err != nil {
		return err
	}
	f, _ := envelope.Parse(r.Body) // the classifier found a success code in it
	if result != nil && f.Data != nil {
		if err := json.Unmarshal(f.Data, result); err != nil {
			return &Error{Vendor: "vertexplay", Op: path, Message: "decode data: " + err.Error(), HTTPStatus: r.Status,
				Kind: outcome.Unknown, TraceID: f.TraceID, TraceLabel: "logUUID", Err: err}
		}
	}
	if f.Code == "35" {
		return pending(path, r.Status, f)
	}
	return nil
}

// login is the provider.Login: one POST /v2/auth of {"agentId","secret"},
// encrypted and signed by the login stack.
func (c Credentials) login(ctx context.Context, lc *provider.LoginClient) (*oauth2.Token, error) {
	plain, err := json.Marshal(struct {
		AgentID string `json:"agentId"`
		Secret  string `json:"secret"`
	}{c.AgentID, c.secretKey.Reveal()})
	if err != nil {
		return nil, err
	}
	raw, err := lc.Post(ctx, "", "application/json", plain)
	clear(plain)
	if err != nil {
		return nil, err
	}
	f, _ := envelope.Parse(raw)
	var d struct {
		AccessToken string          `json:"accessToken"`
		ExpiresIn   json.RawMessage `json:"expiresIn"`
	}
	if json.Unmarshal(f.Data, &d) != nil || d.AccessToken == "" {
		return nil, &Error{Vendor: "vertexplay", Op: AuthPath, Code: f.Code, Message: "reply has no accessToken",
			HTTPStatus: http.StatusOK, Kind: outcome.Transient, TraceID: f.TraceID, TraceLabel: "logUUID"}
	}
	life, _ := provider.ParseLifetime(d.ExpiresIn) // a number or a numeric string, capped
	tok := lc.NewToken(d.AccessToken, "Bearer", tokenLifetime(lc.Now(), life, d.AccessToken))
	return tok.WithExtra(map[string]any{"logUUID": f.TraceID}), nil
}

// tokenLifetime is how long a token from /v2/auth may be used: expiresIn,
// cross-checked with the JWT's own exp, trusting the smaller. The JWT's lifetime
// is exp−iat, both on the vendor's clock, so a skew between our clock and the
// vendor's cannot make a fresh token look expired (which would turn every request
// into a login). Without iat, exp is compared with our clock; a result that is
// not positive is ignored, and zero means "not stated" (the kit's default).
func tokenLifetime(now time.Time, expiresIn time.Duration, accessToken string) time.Duration {
	if jwt, ok := jwtLifetime(accessToken, now); ok && (expiresIn <= 0 || jwt < expiresIn) {
		return jwt
	}
	return max(expiresIn, 0)
}

func jwtLifetime(token string, now time.Time) (time.Duration, bool) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return 0, false
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	var claims struct{ Exp, Iat *json.Number }
	if err != nil || json.Unmarshal(raw, &claims) != nil || claims.Exp == nil {
		return 0, false
	}
	exp, err := claims.Exp.Float64()
	since := float64(now.Unix())
	if claims.Iat != nil {
		since, err = claims.Iat.Float64() // both on the vendor's clock
	}
	if d := exp - since; err == nil && d > 0 {
		return time.Duration(min(d, provider.MaxTokenLifetime.Seconds()) * float64(time.Second)), true
	}
	return 0, false
}
