package vertexplay

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/authwire/authwire/outcome"
	"github.com/authwire/authwire/retry"
)

// AuthPath is the token endpoint.
const AuthPath = "/v2/auth"

// defaultTokenLifetime is used when /v2/auth states no expiresIn and the token
// carries no readable exp (inferred: the vendor says "usually 3600").
const defaultTokenLifetime = time.Hour

type authRequest struct {
	AgentID string `json:"agentId"`
	Secret  string `json:"secret"`
}

type authData struct {
	AccessToken string `json:"accessToken"`
	ExpiresIn   int64  `json:"expiresIn"`
	TokenType   string `json:"tokenType"`
}

// fetchToken is the tokensource.Fetcher: one POST /v2/auth through the auth
// stack (signer, limiter, breaker, retry; no token).
func (c *Client) fetchToken(ctx context.Context) (*oauth2.Token, error) {
	plain, err := json.Marshal(authRequest{AgentID: c.creds.AgentID, Secret: c.creds.secretKey()})
	if err != nil {
		return nil, err
	}
	defer clear(plain)
	// Asking for a token twice is harmless: let the retry layer resend it after a
	// dropped connection or a 5xx.
	req, err := http.NewRequestWithContext(retry.Idempotent(ctx), http.MethodPost, c.baseURL+AuthPath, bytes.NewReader(plain))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.authHTTP.Do(req)
	if err != nil {
		return nil, unwrapURL(AuthPath, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, outcome.MaxBody))
	if err != nil {
		return nil, err
	}
	env, ok := parseEnvelope(body)
	if !ok || *env.Code != CodeSuccess {
		if r := outcome.Of(resp); r.Err != nil {
			return nil, r.Err
		}
		return nil, &Error{Code: -1, Message: "reply has no code", HTTPStatus: resp.StatusCode, Path: AuthPath, Kind: outcome.Transient}
	}
	var d authData
	if err := json.Unmarshal(env.Data, &d); err != nil || d.AccessToken == "" {
		return nil, &Error{Code: CodeSuccess, Message: "reply has no accessToken", HTTPStatus: resp.StatusCode, LogUUID: env.LogUUID, Path: AuthPath, Kind: outcome.Transient}
	}
	now := c.clock.Now()
	life := tokenLifetime(now, d.ExpiresIn, d.AccessToken)
	tok := &oauth2.Token{
		AccessToken: d.AccessToken,
		TokenType:   "Bearer", // the vendor says "Bearer"; Authorization always uses it
		Expiry:      now.Add(life),
		ExpiresIn:   int64(life / time.Second),
	}
	return tok.WithExtra(map[string]any{"expiresIn": d.ExpiresIn, "logUUID": env.LogUUID}), nil
}

// tokenLifetime is how long a token from /v2/auth may be used: expiresIn,
// cross-checked with the JWT's own exp, trusting the smaller. The JWT's lifetime
// is exp−iat, both on the vendor's clock, so a skew between our clock and the
// vendor's cannot make a fresh token look expired (which would turn every request
// into a login). Without iat, exp is compared with our clock; a result that is
// not positive is ignored.
func tokenLifetime(now time.Time, expiresIn int64, accessToken string) time.Duration {
	life := time.Duration(expiresIn) * time.Second
	if jwt, ok := jwtLifetime(accessToken, now); ok && (life <= 0 || jwt < life) {
		life = jwt
	}
	if life <= 0 {
		life = defaultTokenLifetime
	}
	return life
}

func jwtLifetime(token string, now time.Time) (time.Duration, bool) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return 0, false
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return 0, false
	}
	var claims struct {
		Exp *json.Number `json:"exp"`
		Iat *json.Number `json:"iat"`
	}
	if err := json.Unmarshal(raw, &claims); err != nil || claims.Exp == nil {
		return 0, false
	}
	exp, err := claims.Exp.Float64()
	if err != nil {
		return 0, false
	}
	var d time.Duration
	if claims.Iat != nil {
		iat, err := claims.Iat.Float64()
		if err != nil {
			return 0, false
		}
		d = time.Duration((exp - iat) * float64(time.Second))
	} else {
		d = time.Unix(int64(exp), 0).Sub(now)
	}
	if d <= 0 {
		return 0, false
	}
	return d, true
}

// unwrapURL drops http.Client's *url.Error wrapping (its message repeats the URL)
// and names the path instead; errors.Is/As still reach the cause. Only the
// outermost error is unwrapped: a *url.Error deeper in the chain belongs to a
// typed error that must be kept.
func unwrapURL(path string, err error) error {
	if ue, ok := err.(*url.Error); ok && ue.Err != nil {
		err = ue.Err
	}
	return fmt.Errorf("vertexplay: %s: %w", path, err)
}
