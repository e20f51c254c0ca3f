package icekredit

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/authwire/authwire/outcome"
)

// Vendor codes the client itself acts on.
const (
	CodeSuccess            = "00"
	CodeContentType        = "10000415" // login: the other encoding is tried once
	CodeRateLimited        = "10000429"
	CodeInvalidCredentials = "200002"
	CodeTokenInvalid       = "200005"
	CodeIPChanged          = "200006"
)

const credHint = "check the merchant name and password (Config.Credentials); the client does not log in again until the hold period (Config.LoginErrorHold) passes"

// codes is IceKredit's code table (response_code, a string). Reviewing the vendor's
// behaviour means reading this map.
var codes = outcome.Table[string]{
	Success:        CodeSuccess,
	Undocumented:   outcome.Transient,
	RateLimitAfter: time.Second,
	Codes: map[string]outcome.Rule{
		"02":       {Kind: outcome.TokenRejected, Meaning: "authentication service error"},
		"10000001": {Kind: outcome.Transient, Meaning: "service processing error"},
		"10000429": {Kind: outcome.RateLimited, Meaning: "too frequent requests"},
		"10000400": {Kind: outcome.Permanent, Meaning: "invalid request"},
		"10000401": {Kind: outcome.TokenRejected, Meaning: "unauthorized"},
		"10000404": {Kind: outcome.Permanent, Meaning: "not found", Hint: "check the product path and Config.BaseURL"},
		"10000405": {Kind: outcome.Permanent, Meaning: "method not allowed"},
		"10000415": {Kind: outcome.Permanent, Meaning: "content type not supported", Hint: "see Config.LoginEncoding"},
		"200002":   {Kind: outcome.Permanent, Meaning: "invalid username or password", Hint: credHint},
		"200005":   {Kind: outcome.TokenRejected, Meaning: "token_id invalid"},
		"200006":   {Kind: outcome.TokenRejected, Meaning: "client IP address has changed"},
		"200007":   {Kind: outcome.Permanent, Meaning: "not authorized for relevant data"},
		"200008":   {Kind: outcome.Permanent, Meaning: "account locked", Hint: "ask IceKredit to unlock the merchant account"},
		"200009":   {Kind: outcome.Permanent, Meaning: "account expired", Hint: "ask IceKredit to renew the merchant account"},
		"200010":   {Kind: outcome.Permanent, Meaning: "authorized service not available"},
		"200020":   {Kind: outcome.Permanent, Meaning: "invalid verification code"},
		"20100102": {Kind: outcome.Permanent, Meaning: "parameters missing"},
		"20100103": {Kind: outcome.Permanent, Meaning: "parameters error"},
		"20100200": {Kind: outcome.Permanent, Meaning: "service unavailable"},
		"20100201": {Kind: outcome.Permanent, Meaning: "service not configured"},
		"20100202": {Kind: outcome.Permanent, Meaning: "balance insufficient", Hint: "top up the IceKredit account"},
		"20100300": {Kind: outcome.Transient, Meaning: "retrieve data error"},
		"20100301": {Kind: outcome.Permanent, Meaning: "decryption failed"},
		"20100302": {Kind: outcome.Permanent, Meaning: "unsupported encoding"},
	},
}

// Error is a failure reported by IceKredit (a response_code other than "00") or a
// reply that carries no vendor envelope. It never contains a request body, a
// credential or a token. Inspect it with errors.As.
type Error struct {
	// Code is the vendor's response_code; empty when the reply had none.
	Code string
	// Message is the vendor's message (response_msg on login, message on
	// services), or the code's documented meaning when the reply has none.
	Message string
	// HTTPStatus is the reply's HTTP status (vendor codes come with any status).
	HTTPStatus int
	// TraceID is the vendor's trace_id, for support requests.
	TraceID string
	// Path is the request path ("/api/login.do" for the login).
	Path string
	// Kind is what the code means for retries, re-login and the breaker.
	Kind outcome.Kind
	// Hint is advice for the reader, never a secret.
	Hint string
}

// Error implements error; it names the vendor and the code.
func (e *Error) Error() string {
	return outcome.Description{
		Vendor: "icekredit", Path: e.Path, Code: e.Code, Message: e.Message, HTTPStatus: e.HTTPStatus,
		Kind: e.Kind, TraceLabel: "trace_id", TraceID: e.TraceID, Hint: e.Hint,
	}.String()
}

// OutcomeKind implements outcome.Kinded.
func (e *Error) OutcomeKind() outcome.Kind { return e.Kind }

// envelope is both of IceKredit's reply shapes: login (response_msg, token_id) and
// services (message, result, trace_id).
type envelope struct {
	ResponseCode string          `json:"response_code"`
	ResponseMsg  string          `json:"response_msg"`
	Message      string          `json:"message"`
	TokenID      string          `json:"token_id"`
	TraceID      string          `json:"trace_id"`
	Result       json.RawMessage `json:"result"`
}

func parseEnvelope(body []byte) (envelope, bool) {
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil || env.ResponseCode == "" {
		return envelope{}, false
	}
	return env, true
}

// Classify is IceKredit's outcome.Classifier. The body's response_code decides,
// whatever the HTTP status; a reply without one is classified by status, and a 2xx
// one without an envelope is Unknown (the product may have run).
func Classify(resp *http.Response, body []byte) outcome.Result {
	env, ok := parseEnvelope(body)
	if !ok {
		return classifyBare(resp)
	}
	rule := codes.Lookup(env.ResponseCode)
	if rule.Kind == outcome.Success {
		return outcome.Result{Kind: outcome.Success}
	}
	msg := env.Message
	if msg == "" {
		msg = env.ResponseMsg
	}
	if msg == "" {
		msg = rule.Meaning
	}
	e := &Error{
		Code:       env.ResponseCode,
		Message:    msg,
		HTTPStatus: resp.StatusCode,
		TraceID:    env.TraceID,
		Path:       pathOf(resp),
		Kind:       rule.Kind,
		Hint:       rule.Hint,
	}
	r := outcome.Result{Kind: rule.Kind, Err: e}
	if rule.Kind == outcome.RateLimited {
		r.After = outcome.RetryAfter(resp)
		if r.After == 0 {
			r.After = codes.RateLimitAfter
		}
	}
	return r
}

func classifyBare(resp *http.Response) outcome.Result {
	r := outcome.ByStatus(resp, nil)
	if r.Kind == outcome.Success {
		if resp.StatusCode >= 300 {
			return r // a redirect: the client follows it
		}
		r.Kind = outcome.Unknown
	}
	msg := http.StatusText(resp.StatusCode)
	if r.Kind == outcome.Unknown {
		msg = "reply has no response_code"
	}
	r.Err = &Error{Message: msg, HTTPStatus: resp.StatusCode, Path: pathOf(resp), Kind: r.Kind}
	return r
}

// classifyLogin is Classify for login.do: there is no token to reject yet, so a
// "token rejected" code (02, authentication service error) means the vendor's
// login service is failing: transient.
func classifyLogin(resp *http.Response, body []byte) outcome.Result {
	r := Classify(resp, body)
	if r.Kind == outcome.TokenRejected {
		r.Kind = outcome.Transient
		if e, ok := r.Err.(*Error); ok {
			e.Kind = outcome.Transient
		}
	}
	return r
}

func pathOf(resp *http.Response) string {
	if resp.Request != nil && resp.Request.URL != nil {
		return resp.Request.URL.Path
	}
	return ""
}

// Vendor implements outcome.Coded.
func (e *Error) Vendor() string { return "icekredit" }

// VendorCode implements outcome.Coded: the vendor's code as text.
func (e *Error) VendorCode() string { return e.Code }
