package icekredit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sync/atomic"

	"golang.org/x/oauth2"

	"github.com/authwire/authwire/outcome"
	"github.com/authwire/authwire/provider"
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

// LoginEncoding returns the encoding the next login will use: the configured one,
// or the other after IceKredit answered 10000415 to it.
func (c *Client) LoginEncoding() LoginEncoding { return LoginEncoding(c.login.encoding.Load()) }

// loginBody renders the login request. The form is built by url.Values, whose
// Encode sorts keys, giving merchant_name=..&merchant_pwd=.. as in the vendor's
// example.
func loginBody(cr Credentials, enc LoginEncoding) (contentType string, body []byte) {
	if enc == JSON {
		b, _ := json.Marshal(struct {
			Name string `json:"merchant_name"`
			Pwd  string `json:"merchant_pwd"`
		}{cr.MerchantName, cr.pwd.Reveal()})
		return "application/json; charset=utf-8", b
	}
	v := url.Values{"merchant_name": {cr.MerchantName}, "merchant_pwd": {cr.pwd.Reveal()}}
	return "application/x-www-form-urlencoded", []byte(v.Encode())
}

// login is IceKredit's provider.Login: the MD5 login in the current encoding,
// with one remembered fallback to the other on 10000415. The kit runs it under
// single flight (one at a time), through the login stack, with "Language: en".
type login struct {
	creds    Credentials
	encoding atomic.Int32 // the LoginEncoding in use
	fellBack atomic.Bool  // the one 10000415 fallback was taken
}

// Login implements provider.Login.
func (l *login) Login(ctx context.Context, lc *provider.LoginClient) (*oauth2.Token, error) {
	enc := LoginEncoding(l.encoding.Load())
	tok, err := l.with(ctx, lc, enc)
	var e *Error
	if errors.As(err, &e) && e.Code == CodeContentType && l.fellBack.CompareAndSwap(false, true) {
		enc = 1 - enc // the other one; later logins go straight to what worked
		l.encoding.Store(int32(enc))
		tok, err = l.with(ctx, lc, enc)
	}
	return tok, err
}

func (l *login) with(ctx context.Context, lc *provider.LoginClient, enc LoginEncoding) (*oauth2.Token, error) {
	ct, body := loginBody(l.creds, enc)
	raw, err := lc.Post(ctx, "", ct, body)
	clear(body) // it carried the password hash
	if err != nil {
		return nil, err
	}
	var reply struct {
		Code  string `json:"response_code"`
		Token string `json:"token_id"`
	}
	if json.Unmarshal(raw, &reply) != nil || reply.Token == "" {
		return nil, &Error{Vendor: vendor, Op: LoginPath, Code: reply.Code, Message: "login reply has no token_id", Kind: outcome.Transient}
	}
	// No lifetime: the sliding expiry alone applies.
	return lc.NewToken(reply.Token, TokenHeader, 0), nil
}
