package icekredit

import (
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

// Error is IceKredit's error: the framework's one vendor error type, so that
// errors.As(err, new(*icekredit.Error)) and errors.As(err, new(*outcome.Error))
// are the same test. Code is the response_code ("" when the reply had none), Op
// the request path, TraceID the vendor's trace_id.
type Error = outcome.Error

const credHint = "check the merchant name and password (Config.Credentials); the client does not log in again until the hold period (LoginErrorHold) passes"

// envelope is IceKredit's reply envelope and code table (response_code, a
// string). Reviewing the vendor's behaviour means reading this table.
var envelope = &outcome.Envelope{
	Vendor: vendor, CodeField: "response_code", MessageFields: []string{"message", "response_msg"},
	TraceField: "trace_id", DataField: "result",
	Codes: outcome.Table[string]{Success: CodeSuccess, Undocumented: outcome.Transient, RateLimitAfter: time.Second, Codes: map[string]outcome.Rule{
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
	}},
}

// classifyLogin reads login.do's replies: there is no token to reject yet, so a
// "token rejected" code (02, authentication service error) means the vendor's
// login service is failing: transient.
var classifyLogin = outcome.Remap(envelope.Classify, outcome.TokenRejected, outcome.Transient)

// Classify is IceKredit's outcome.Classifier: the body's response_code decides,
// whatever the HTTP status; a reply without one is classified by status, and a
// 2xx one without an envelope is Unknown (the product may have run).
func Classify(resp *http.Response, body []byte) outcome.Result { return envelope.Classify(resp, body) }
