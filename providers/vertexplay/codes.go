package vertexplay

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/authwire/authwire/outcome"
)

// Vendor codes the client itself acts on or callers commonly test.
const (
	CodeSuccess           = 0
	CodeBalanceNotEnough  = 2
	CodeTransactionExists = 3
	CodeInternal          = 7
	CodeAgentNotFound     = 10
	CodeParameters        = 11
	CodeAuthorization     = 12
	CodeWalletLocked      = 20
	CodePending           = 35
	CodeTooManyRequests   = 77
	CodeSignatureFailed   = 83
	CodeEncryptionFailed  = 84
)

const (
	sigHint = "check the host clock (x-timestamp must be within the vendor's window; skew is the one cause a later retry can fix), " +
		"the agentId, and Config.SignatureVersion"
	encHint  = "check the API KEY (64 hex characters) and the key derivation (Config.DeriveKey, default hex-decode)"
	credHint = "check the agentId and Secret KEY, or ask VertexPlay whether the agent is blocked; " +
		"the client does not ask for a token again until tokensource's hold period passes"
)

// codes is VertexPlay's code table. Reviewing the vendor's behaviour means
// reading this map.
var codes = outcome.Table[int]{
	Success:        CodeSuccess,
	Undocumented:   outcome.Transient,
	RateLimitAfter: time.Second, // inferred: the vendor gives no delay for 77
	Codes: map[int]outcome.Rule{
		2:  {Kind: outcome.Permanent, Meaning: "balance not enough"},
		3:  {Kind: outcome.Permanent, Meaning: "transaction already exists", Hint: "the transId was used before; see CheckTransaction"},
		4:  {Kind: outcome.Permanent, Meaning: "business or validation error"},
		5:  {Kind: outcome.Permanent, Meaning: "business or validation error"},
		6:  {Kind: outcome.Permanent, Meaning: "business or validation error"},
		7:  {Kind: outcome.Transient, Meaning: "internal error"},
		8:  {Kind: outcome.Permanent, Meaning: "business or validation error"},
		10: {Kind: outcome.Permanent, Meaning: "agent not found or blocked", Hint: credHint},
		11: {Kind: outcome.Permanent, Meaning: "parameters error"},
		12: {Kind: outcome.TokenRejected, Meaning: "authorization error"},
		14: {Kind: outcome.Permanent, Meaning: "business or validation error"},
		19: {Kind: outcome.Permanent, Meaning: "business or validation error"},
		20: {Kind: outcome.Permanent, Meaning: "wallet locked"},
		// Not a failure: the vendor accepted the transaction and is still
		// processing it. The framework sees Success (no retry, no breaker count);
		// the caller sees an error matching ErrPending.
		35: {Kind: outcome.Success, Meaning: "transaction pending"},
		37: {Kind: outcome.Permanent, Meaning: "business or validation error"},
		38: {Kind: outcome.Permanent, Meaning: "business or validation error"},
		77: {Kind: outcome.RateLimited, Meaning: "too many requests"},
		81: {Kind: outcome.Permanent, Meaning: "business or validation error"},
		82: {Kind: outcome.Permanent, Meaning: "business or validation error"},
		83: {Kind: outcome.Permanent, Meaning: "signature verification failed", Hint: sigHint},
		84: {Kind: outcome.Permanent, Meaning: "encryption failed", Hint: encHint},
	},
}

// ErrPending is matched (errors.Is) by the *Error of code 35: the transaction
// was accepted and is still being processed. It is not a failure: check it later
// with [Client.CheckTransaction]. The framework treats it as a success, so it is
// never retried.
var ErrPending = errors.New("vertexplay: transaction pending")

// Error is a reply from VertexPlay with a code other than 0, or a reply that
// carries no envelope. It never contains a request body, a credential or a token.
// Inspect it with errors.As; code 35 also matches [ErrPending].
type Error struct {
	// Code is the vendor's code; -1 when the reply had none.
	Code int
	// Message is the vendor's message, or the code's documented meaning.
	Message string
	// HTTPStatus is the reply's HTTP status.
	HTTPStatus int
	// LogUUID is the vendor's logUUID, for support requests.
	LogUUID string
	// Path is the request path ("/v2/auth" for the token call).
	Path string
	// Kind is what the code means for retries, re-auth and the breaker.
	Kind outcome.Kind
	// Hint is advice for the reader, never a secret.
	Hint string
}

// Error implements error; it names the vendor and the code.
func (e *Error) Error() string {
	return outcome.Description{
		Vendor: "vertexplay", Path: e.Path, Code: vpCode(e.Code), Message: e.Message, HTTPStatus: e.HTTPStatus,
		Kind: e.Kind, TraceLabel: "logUUID", TraceID: e.LogUUID, Hint: e.Hint,
	}.String()
}

// OutcomeKind implements outcome.Kinded.
func (e *Error) OutcomeKind() outcome.Kind { return e.Kind }

// Is matches [ErrPending] for code 35.
func (e *Error) Is(target error) bool { return target == ErrPending && e.Code == CodePending }

// envelope is VertexPlay's reply: {"code":0,"message":"No error.","data":{…},"logUUID":"…"}.
type envelope struct {
	Code    *int            `json:"code"`
	Message string          `json:"message"`
	Data    json.RawMessage `json:"data"`
	LogUUID string          `json:"logUUID"`
}

func parseEnvelope(body []byte) (envelope, bool) {
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil || env.Code == nil {
		return envelope{}, false
	}
	return env, true
}

// Classify is VertexPlay's outcome.Classifier for business calls. HTTP 401 is
// a rejected token whatever the body says (as code 12); otherwise the body's code
// decides. A reply without a code is classified by status, and a 2xx one without
// a code is Unknown (the call may have run).
func Classify(resp *http.Response, body []byte) outcome.Result {
	env, ok := parseEnvelope(body)
	if resp.StatusCode == http.StatusUnauthorized {
		e := &Error{Code: -1, Message: "unauthorized", HTTPStatus: resp.StatusCode, Path: pathOf(resp), Kind: outcome.TokenRejected}
		if ok {
			e.Code, e.LogUUID = *env.Code, env.LogUUID
			if env.Message != "" {
				e.Message = env.Message
			}
		}
		return outcome.Result{Kind: outcome.TokenRejected, Err: e}
	}
	if !ok {
		return classifyBare(resp)
	}
	code := *env.Code
	rule := codes.Lookup(code)
	if rule.Kind == outcome.Success {
		return outcome.Result{Kind: outcome.Success}
	}
	r := outcome.Result{Kind: rule.Kind, Err: newError(resp, env, rule)}
	if rule.Kind == outcome.RateLimited {
		r.After = outcome.RetryAfter(resp)
		if r.After == 0 {
			r.After = codes.RateLimitAfter
		}
	}
	return r
}

func newError(resp *http.Response, env envelope, rule outcome.Rule) *Error {
	msg := env.Message
	if msg == "" {
		msg = rule.Meaning
	}
	return &Error{
		Code:       *env.Code,
		Message:    msg,
		HTTPStatus: resp.StatusCode,
		LogUUID:    env.LogUUID,
		Path:       pathOf(resp),
		Kind:       rule.Kind,
		Hint:       rule.Hint,
	}
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
		msg = "reply has no code"
	}
	r.Err = &Error{Code: -1, Message: msg, HTTPStatus: resp.StatusCode, Path: pathOf(resp), Kind: r.Kind}
	return r
}

// classifyAuth is Classify for /v2/auth: there is no token to reject yet, so
// HTTP 401 or code 12 there means the credentials were refused: permanent, so the
// token source holds the error instead of asking again in a loop.
func classifyAuth(resp *http.Response, body []byte) outcome.Result {
	r := Classify(resp, body)
	if r.Kind == outcome.TokenRejected {
		r.Kind = outcome.Permanent
		if e, ok := r.Err.(*Error); ok {
			e.Kind = outcome.Permanent
			e.Hint = credHint
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
func (e *Error) Vendor() string { return "vertexplay" }

// VendorCode implements outcome.Coded: the vendor's code as text.
func (e *Error) VendorCode() string { return strconv.Itoa(e.Code) }

// vpCode renders a code for messages; -1 means the reply had none.
func vpCode(c int) string {
	if c < 0 {
		return ""
	}
	return strconv.Itoa(c)
}
