package nxcloud

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/authwire/authwire/outcome"
)

// Vendor codes the client itself acts on or tests look for.
const (
	CodeSuccess       = 0
	CodeRequestFailed = -1   // WhatsApp: request failed
	CodeRateLimited   = 2206 // request is too frequent
	// CodeAuthFirst..CodeAuthLast are the "1000~100X" authentication codes; the
	// vendor's error table names 1001 (missing header), 1002 (bizType, action or
	// body parameter), 1003 (sign), 1004 (ts outside ±60 s), 1005 (permission).
	CodeAuthFirst = 1000
	CodeAuthLast  = 1009
	CodeParam     = 9000 // WhatsApp: parameter exception
	CodeOTAParam  = 9901 // OTA: parameter error or missing
)

// Error is the one vendor error type of authwire, [outcome.Error]: a reply whose
// code is not 0, or a reply without an envelope. Its Code is the vendor's code as
// text ("2206"; "" when the reply had none) and its Op the request path. The alias
// keeps errors.As(err, new(*nxcloud.Error)) working.
type Error = outcome.Error

// authRule is an authentication code: permanent (the configuration is wrong), with
// the hint of what the vendor says the code means. Only 1004 is the clock.
func authRule(meaning, hint string) outcome.Rule {
	return outcome.Rule{Kind: outcome.Permanent, Meaning: meaning, Hint: hint}
}

const credsHint = "check Config.Credentials (access key and secret) and Config.Algorithm"

var authFailed = authRule("authentication failed", credsHint)

// codes is NXCloud's code table. WhatsApp and OTA share one numbering; reviewing
// the vendor's behaviour means reading this map.
var codes = outcome.StringCodes(outcome.Table[int]{
	Success:        CodeSuccess,
	Undocumented:   outcome.Transient,
	RateLimitAfter: time.Second,
	Codes: map[int]outcome.Rule{
		-1:   {Kind: outcome.Transient, Meaning: "request failed"},
		1000: authFailed, 1006: authFailed, 1007: authFailed, 1008: authFailed, 1009: authFailed,
		1001: authRule("missing public parameters", "a signed header (accessKey, ts, bizType, action, sign) did not reach NXCloud: a proxy on the way may have stripped it"),
		1002: authRule("parameter error", "check the bizType and action of the operation (WithOperation) and the body's parameters"),
		1003: authRule("invalid signature", credsHint+"; the body signed must be the body sent, as application/json"),
		1004: authRule("timestamp expired", "the ts header must be within ±60 s of NXCloud's clock: if this host's clock is off, "+
			"fix it (NTP) or set Config.ClockOffset, and the request can then be sent again"),
		1005: authRule("insufficient permissions", "check the access key in Config.Credentials and that the account may use this business line"),
		2205: {Kind: outcome.Permanent, Meaning: "message record does not exist"},
		2206: {Kind: outcome.RateLimited, Meaning: "request is too frequent"},
		88:   {Kind: outcome.Transient, Meaning: "request failed"},
		99:   {Kind: outcome.Transient, Meaning: "system error"},
		9000: {Kind: outcome.Permanent, Meaning: "parameter exception"},
		9001: {Kind: outcome.Transient, Meaning: "system business error"},
		9007: {Kind: outcome.Permanent, Meaning: "not an integrator account", Hint: "the WhatsApp integrator APIs need an integrator account: check Config.Credentials or ask NXCloud"},
		9901: {Kind: outcome.Permanent, Meaning: "parameter error or missing"},
		9906: {Kind: outcome.Permanent, Meaning: "application does not exist or is disabled", Hint: "check the appkey in the NXCloud console"},
		9907: {Kind: outcome.Permanent, Meaning: "application has no quotation", Hint: "ask NXCloud to quote the application"},
		9908: {Kind: outcome.Permanent, Meaning: "insufficient account balance", Hint: "top up the NXCloud account"},
	},
})

// envelope is both of NXCloud's reply shapes: WhatsApp {"code","message","data"}
// and OTA {"code","msg","data"}. The code decides whatever the HTTP status (1003
// in a 401 is permanent, 2206 in a 429 rate-limited); a reply without one is
// judged by its status (a 404 is the caller's mistake, permanent).
var envelope = &outcome.Envelope{
	Vendor: "nxcloud", CodeField: "code", MessageFields: []string{"message", "msg"}, TraceField: "traceId", Codes: codes,
}

// Classify is NXCloud's outcome.Classifier (see [Error] for its errors).
func Classify(resp *http.Response, body []byte) outcome.Result { return envelope.Classify(resp, body) }

// IsAuth reports whether err is NXCloud's answer with one of the 1000~100X
// authentication codes.
func IsAuth(err error) bool {
	var e *Error
	if !errors.As(err, &e) || e.Vendor != "nxcloud" {
		return false
	}
	n, convErr := strconv.Atoi(e.Code)
	return convErr == nil && n >= CodeAuthFirst && n <= CodeAuthLast
}
