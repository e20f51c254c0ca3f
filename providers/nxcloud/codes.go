package nxcloud

import (
	"bytes"
	"encoding/json"
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
	// CodeAuthFirst..CodeAuthLast are the "1000~100X" authentication codes: bad
	// accessKey, bad sign, ts outside the ±60 s window, ...
	CodeAuthFirst = 1000
	CodeAuthLast  = 1009
	CodeParam     = 9000 // WhatsApp: parameter exception
	CodeOTAParam  = 9901 // OTA: parameter error or missing
)

// authHint is the advice on every authentication code. Clock skew is the one cause
// that is not a configuration mistake, so it is spelled out.
const authHint = "check Config.Credentials (access key and secret) and Config.Algorithm; " +
	"the ts header must be within ±60 s of NXCloud's clock: if this host's clock is off, " +
	"fix it (NTP) or set Config.ClockOffset, and the request can then be sent again"

var authRule = outcome.Rule{Kind: outcome.Permanent, Meaning: "authentication failed (accessKey, sign or ts)", Hint: authHint}

// codes is NXCloud's code table (the envelope's integer code). WhatsApp and OTA
// share one numbering; reviewing the vendor's behaviour means reading this map.
var codes = outcome.Table[int]{
	Success:        CodeSuccess,
	Undocumented:   outcome.Transient,
	RateLimitAfter: time.Second,
	Codes: map[int]outcome.Rule{
		-1:   {Kind: outcome.Transient, Meaning: "request failed"},
		1000: authRule,
		1001: authRule,
		1002: authRule,
		1003: authRule,
		1004: authRule,
		1005: authRule,
		1006: authRule,
		1007: authRule,
		1008: authRule,
		1009: authRule,
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
}

// Error is a failure reported by NXCloud (an envelope code other than 0) or a
// reply that carries no envelope. It never contains a request body or a
// credential. Inspect it with errors.As.
type Error struct {
	// Code is the vendor's code; 0 when the reply had none (HTTPStatus says why).
	Code int
	// Message is the vendor's message ("message" for WhatsApp, "msg" for OTA), or
	// the code's documented meaning when the reply has none.
	Message string
	// HTTPStatus is the reply's HTTP status.
	HTTPStatus int
	// TraceID is a trace id if the reply carries one (traceId; NXCloud documents
	// none, so it is usually empty).
	TraceID string
	// Path is the request path.
	Path string
	// Kind is what the code means for retries and the breaker.
	Kind outcome.Kind
	// Hint is advice for the reader, never a secret.
	Hint string
}

// Error implements error; it names the vendor and the code.
func (e *Error) Error() string {
	return outcome.Description{
		Vendor: "nxcloud", Path: e.Path, Code: nxCode(e.Code), Message: e.Message, HTTPStatus: e.HTTPStatus,
		Kind: e.Kind, TraceLabel: "traceId", TraceID: e.TraceID, Hint: e.Hint,
	}.String()
}

// OutcomeKind implements outcome.Kinded.
func (e *Error) OutcomeKind() outcome.Kind { return e.Kind }

// IsAuth reports whether the code is one of the 1000~100X authentication codes.
func (e *Error) IsAuth() bool { return e.Code >= CodeAuthFirst && e.Code <= CodeAuthLast }

// envelope is both of NXCloud's reply shapes: WhatsApp {"code","message","data"}
// and OTA {"code","msg","data"}.
type envelope struct {
	Code    *jsonCode       `json:"code"`
	Message string          `json:"message"`
	Msg     string          `json:"msg"`
	Data    json.RawMessage `json:"data"`
	TraceID string          `json:"traceId"`
}

// jsonCode accepts the code as a JSON number or a numeric string: the vendor's
// examples use numbers, and a string costs nothing to accept.
type jsonCode int

func (c *jsonCode) UnmarshalJSON(b []byte) error {
	b = bytes.Trim(b, `"`)
	n, err := strconv.Atoi(string(b))
	if err != nil {
		return err
	}
	*c = jsonCode(n)
	return nil
}

func parseEnvelope(body []byte) (envelope, bool) {
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil || env.Code == nil {
		return envelope{}, false
	}
	return env, true
}

func (env envelope) message() string {
	if env.Message != "" {
		return env.Message
	}
	return env.Msg
}

// Classify is NXCloud's outcome.Classifier. A 200 reply is decided by its
// envelope's code; a 200 reply without one is Unknown (the operation may have run);
// any other HTTP status is Transient, as the vendor says, whatever the body.
func Classify(resp *http.Response, body []byte) outcome.Result {
	env, ok := parseEnvelope(body)
	if resp.StatusCode != http.StatusOK {
		e := &Error{HTTPStatus: resp.StatusCode, Path: pathOf(resp), Kind: outcome.Transient, Message: http.StatusText(resp.StatusCode)}
		if ok {
			e.Code, e.TraceID = int(*env.Code), env.TraceID
			if m := env.message(); m != "" {
				e.Message = m
			}
		}
		return outcome.Result{Kind: outcome.Transient, After: outcome.RetryAfter(resp), Err: e}
	}
	if !ok {
		return outcome.Result{Kind: outcome.Unknown, Err: &Error{
			Message: "reply has no code", HTTPStatus: resp.StatusCode, Path: pathOf(resp), Kind: outcome.Unknown,
		}}
	}
	code := int(*env.Code)
	rule := codes.Lookup(code)
	if rule.Kind == outcome.Success {
		return outcome.Result{Kind: outcome.Success}
	}
	msg := env.message()
	if msg == "" {
		msg = rule.Meaning
	}
	e := &Error{
		Code:       code,
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

func pathOf(resp *http.Response) string {
	if resp.Request != nil && resp.Request.URL != nil {
		return resp.Request.URL.Path
	}
	return ""
}

// Vendor implements outcome.Coded.
func (e *Error) Vendor() string { return "nxcloud" }

// VendorCode implements outcome.Coded: the vendor's code as text.
func (e *Error) VendorCode() string { return strconv.Itoa(e.Code) }

// nxCode renders a code for messages; 0 means the reply had none.
func nxCode(c int) string {
	if c == 0 {
		return ""
	}
	return strconv.Itoa(c)
}
