package icekredit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"golang.org/x/oauth2"

	"github.com/authwire/authwire/outcome"
	"github.com/authwire/authwire/retry"
)

// LoginEncoding is how the login request body is encoded.
type LoginEncoding int

const (
	// Form is application/x-www-form-urlencoded: the default (inferred).
	Form LoginEncoding = iota
	// JSON is application/json: {"merchant_name":..,"merchant_pwd":..}.
	JSON
)

// String returns "form" or "json".
func (e LoginEncoding) String() string {
	switch e {
	case Form:
		return "form"
	case JSON:
		return "json"
	}
	return fmt.Sprintf("LoginEncoding(%d)", int(e))
}

func (e LoginEncoding) other() LoginEncoding {
	if e == Form {
		return JSON
	}
	return Form
}

// LoginEncoding returns the encoding the next login will use: the configured one,
// or the other after IceKredit answered 10000415 to it.
func (c *Client) LoginEncoding() LoginEncoding { return LoginEncoding(c.encoding.Load()) }

// loginBody renders the login request. The form is built by url.Values, whose
// Encode sorts keys, giving merchant_name=..&merchant_pwd=.. as in the vendor's
// example.
func loginBody(cr Credentials, enc LoginEncoding) (contentType string, body []byte) {
	if enc == JSON {
		b, _ := json.Marshal(struct {
			Name string `json:"merchant_name"`
			Pwd  string `json:"merchant_pwd"`
		}{cr.MerchantName, cr.pwd.md5hex()})
		return "application/json; charset=utf-8", b
	}
	v := url.Values{"merchant_name": {cr.MerchantName}, "merchant_pwd": {cr.pwd.md5hex()}}
	return "application/x-www-form-urlencoded", []byte(v.Encode())
}

// login is the token source's fetcher. It runs under single flight: one at a time.
func (c *Client) login(ctx context.Context) (*oauth2.Token, error) {
	enc := c.LoginEncoding()
	tok, err := c.loginWith(ctx, enc)
	var e *Error
	if err != nil && errors.As(err, &e) && e.Code == CodeContentType && c.fellBack.CompareAndSwap(false, true) {
		// One fallback, remembered: later logins go straight to what worked.
		enc = enc.other()
		c.encoding.Store(int32(enc))
		tok, err = c.loginWith(ctx, enc)
	}
	return tok, err
}

func (c *Client) loginWith(ctx context.Context, enc LoginEncoding) (*oauth2.Token, error) {
	ct, body := loginBody(c.creds, enc)
	// The login is safe to repeat after an unknown outcome: the worst case is a
	// token we never use.
	req, err := http.NewRequestWithContext(retry.Idempotent(ctx), http.MethodPost, c.loginURL, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("icekredit: login: %w", err)
	}
	req.Header.Set("Content-Type", ct)
	c.logins.Add(1)
	resp, err := c.loginHTTP.Do(req)
	if err != nil {
		if ue, ok := err.(*url.Error); ok {
			err = ue.Err
		}
		return nil, fmt.Errorf("icekredit: login: %w", err)
	}
	defer resp.Body.Close()
	if r := outcome.Read(resp, classifyLogin); r.Kind != outcome.Success {
		return nil, r.Err
	}
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("icekredit: login: read reply: %w", err)
	}
	env, _ := parseEnvelope(raw)
	if env.TokenID == "" {
		return nil, &Error{Code: env.ResponseCode, Message: "login reply has no token_id", HTTPStatus: resp.StatusCode, Path: LoginPath, Kind: outcome.Transient}
	}
	return &oauth2.Token{AccessToken: env.TokenID, TokenType: TokenHeader}, nil
}
