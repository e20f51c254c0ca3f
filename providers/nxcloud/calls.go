package nxcloud

import (
	"context"
	"net/netip"
	"strings"

	"github.com/authwire/authwire/outcome"
	"github.com/authwire/authwire/retry"
)

// Login calls the WhatsApp integrator embedded-register login and returns the
// embedded page's login token. It has no side effect, so it is retried like a read.
// Most callers want [Client.TokenSource], which reuses the token.
func (c *Client) Login(ctx context.Context) (string, error) {
	var data struct {
		Token string `json:"token"`
	}
	if err := c.Call(retry.Idempotent(ctx), PathLogin, nil, &data); err != nil {
		return "", err
	}
	if data.Token == "" {
		return "", &Error{Vendor: "nxcloud", Op: PathLogin, Message: "login reply has no token", HTTPStatus: 200, Kind: outcome.Transient}
	}
	return data.Token, nil
}

// Method is how getCode delivers the verification code.
type Method string

const (
	// MethodSMS sends the code by SMS.
	MethodSMS Method = "sms"
	// MethodVoice places a call that reads the code.
	MethodVoice Method = "voice"
)

type getCodeRequest struct {
	PhoneNumber string `json:"phone_number"`
	Method      Method `json:"method"`
}

// GetCode asks NXCloud to send the WhatsApp registration code to phone by SMS or
// voice call. It has a side effect, so it is never re-sent when its outcome is
// unknown: the error then matches outcome.ErrUnknown, and the caller decides
// whether to send another code. Rate-limited (2206) attempts were not processed and
// are retried. The parameters are checked before anything is sent.
func (c *Client) GetCode(ctx context.Context, phone string, method Method) error {
	if err := checkPhone("getCode", "phone_number", phone); err != nil {
		return err
	}
	if method != MethodSMS && method != MethodVoice {
		return &ParamError{Op: "getCode", Field: "method", Reason: `must be "sms" or "voice"`}
	}
	return c.Call(ctx, PathGetCode, getCodeRequest{PhoneNumber: phone, Method: method}, nil)
}

// OTAInitRequest is the body of the OTA one-click login init; all fields are
// required.
type OTAInitRequest struct {
	// AppKey is the OTA application's key from the NXCloud console.
	AppKey string `json:"appkey"`
	// Phone is the number to verify.
	Phone string `json:"phone"`
	// UserIP is the end user's IP address (IPv4 or IPv6).
	UserIP string `json:"userIp"`
}

// OTAInitResult is what init returns.
type OTAInitResult struct {
	// RequestID identifies the verification.
	RequestID string `json:"requestId"`
	// URL is the verification link to open on the user's device.
	URL string `json:"url"`
}

// OTAInit starts an OTA one-click login. The parameters are checked before anything
// is sent. A verification may be billed, so OTAInit is not re-sent when its outcome
// is unknown; pass retry.Idempotent(ctx) if a second verification is acceptable.
func (c *Client) OTAInit(ctx context.Context, req OTAInitRequest) (*OTAInitResult, error) {
	if req.AppKey == "" {
		return nil, &ParamError{Op: "init", Field: "appkey", Reason: "is empty"}
	}
	if err := checkPhone("init", "phone", req.Phone); err != nil {
		return nil, err
	}
	if _, err := netip.ParseAddr(req.UserIP); err != nil {
		return nil, &ParamError{Op: "init", Field: "userIp", Reason: "is not an IP address"}
	}
	var res OTAInitResult
	if err := c.Call(ctx, PathOTAInit, req, &res); err != nil {
		return nil, err
	}
	if res.RequestID == "" || res.URL == "" {
		return nil, &Error{Vendor: "nxcloud", Op: PathOTAInit, Message: "init reply has no requestId or url", HTTPStatus: 200, Kind: outcome.Unknown}
	}
	return &res, nil
}

// checkPhone accepts 5 to 20 digits with an optional leading "+" (international
// format; NXCloud documents no stricter rule).
func checkPhone(op, field, phone string) error {
	s := strings.TrimPrefix(phone, "+")
	if len(s) < 5 || len(s) > 20 || strings.Trim(s, "0123456789") != "" {
		return &ParamError{Op: op, Field: field, Reason: "must be 5 to 20 digits with an optional leading +"}
	}
	return nil
}
