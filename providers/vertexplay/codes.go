package vertexplay

import (
	"errors"
	"fmt"
	"net/http"
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
		"the client does not ask for a token again until the token cache's hold period passes"
)

var biz = outcome.Rule{Kind: outcome.Permanent, Meaning: "business or validation error"}

// envelope is VertexPlay's reply, {"code":0,"message":"No error.","data":{…},
// "logUUID":"…"}, and its code table: reviewing the vendor's behaviour means
// reading this. HTTP 401 is a rejected token whatever the body says (as code
// 12); otherwise the body's code decides, whatever the status.
var envelope = &outcome.Envelope{
	Vendor: "vertexplay", CodeField: "code", MessageFields: []string{"message"}, TraceField: "logUUID",
	Status: map[int]outcome.Kind{http.StatusUnauthorized: outcome.TokenRejected},
	Codes: outcome.StringCodes(outcome.Table[int]{
		Success:        CodeSuccess,
		Undocumented:   outcome.Transient,
		RateLimitAfter: time.Second, // inferred: the vendor gives no delay for 77
		Codes: map[int]outcome.Rule{
			2: {Kind: outcome.Permanent, Meaning: "balance not enough"},
			3: {Kind: outcome.Permanent, Meaning: "transaction already exists", Hint: "the transId was used before; see CheckTransaction"},
			4: biz, 5: biz, 6: biz, 8: biz, 14: biz, 19: biz, 37: biz, 38: biz, 81: biz, 82: biz,
			7:  {Kind: outcome.Transient, Meaning: "internal error"},
			10: {Kind: outcome.Permanent, Meaning: "agent not found or blocked", Hint: credHint},
			11: {Kind: outcome.Permanent, Meaning: "parameters error"},
			12: {Kind: outcome.TokenRejected, Meaning: "authorization error"},
			20: {Kind: outcome.Permanent, Meaning: "wallet locked"},
			// Not a failure: the vendor accepted the transaction and is still
			// processing it. The framework sees Success (no retry, no breaker
			// count); the caller sees an error matching ErrPending.
			35: {Kind: outcome.Success, Meaning: "transaction pending"},
			77: {Kind: outcome.RateLimited, Meaning: "too many requests"},
			83: {Kind: outcome.Permanent, Meaning: "signature verification failed", Hint: sigHint},
			84: {Kind: outcome.Permanent, Meaning: "encryption failed", Hint: encHint},
		},
	}),
}

// Classify is VertexPlay's outcome.Classifier (its envelope's): for raw
// requests through [Client.HTTPClient] and for tools.
func Classify(resp *http.Response, body []byte) outcome.Result { return envelope.Classify(resp, body) }

// classifyAuth is Classify for /v2/auth: there is no token to reject yet, so
// HTTP 401 or code 12 there means the credentials were refused: permanent, so
// the token cache holds the error instead of asking again in a loop.
var classifyAuth = outcome.Remap(func(resp *http.Response, body []byte) outcome.Result {
	r := Classify(resp, body)
	if e, ok := r.Err.(*Error); ok && r.Kind == outcome.TokenRejected {
		cp := *e
		cp.Hint = credHint
		r.Err = &cp
	}
	return r
}, outcome.TokenRejected, outcome.Permanent)

// Error is the one vendor error type of authwire, as VertexPlay fills it: Code
// is the vendor's code as text ("" when the reply had none), Op the request
// path ("/v2/auth" for the token call), TraceID the reply's logUUID. It is an
// alias, so errors.As(err, new(*vertexplay.Error)) finds every vendor error.
type Error = outcome.Error

// ErrPending is matched (errors.Is) by the error of code 35, which also holds
// the *Error: the transaction was accepted and is still being processed. It is
// not a failure: check it later with [Client.CheckTransaction]. The framework
// treats it as a success, so it is never retried.
var ErrPending = errors.New("vertexplay: transaction pending")

// pending is the caller's error for a code 35 reply.
func pending(path string, status int, f outcome.Fields) error {
	e := &Error{Vendor: "vertexplay", Op: path, Code: f.Code, Message: f.Message, HTTPStatus: status,
		Kind: outcome.Success, TraceID: f.TraceID, TraceLabel: "logUUID"}
	return fmt.Errorf("%w (%w)", e, ErrPending)
}
