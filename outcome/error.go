package outcome

import "net/http"

// Error is the one typed error of every vendor: a reply whose code (or, without an
// envelope, whose HTTP status) says the request failed, or a login reply that
// carried no token. Inspect it with errors.As, the same way for every vendor:
//
//	var e *outcome.Error
//	if errors.As(err, &e) && e.Code == "42900" { ... }
//
// It never contains a request or response body, a credential or a token: only the
// fields below, which come from the vendor's envelope and the code table.
type Error struct {
	// Vendor names the vendor ("acme").
	Vendor string
	// Op is the operation or the request path ("/v1/send").
	Op string
	// Code is the vendor's code as text; empty when the reply carried none (the
	// HTTPStatus then says why).
	Code string
	// Message is the vendor's message, or the code's documented meaning when the
	// reply has none.
	Message string
	// HTTPStatus is the reply's HTTP status; vendor codes come with any status.
	HTTPStatus int
	// Kind is what the failure means for retries, re-auth, the limiter and the
	// breaker.
	Kind Kind
	// TraceID is the vendor's trace id, for support requests; TraceLabel is the
	// vendor's name for it ("trace_id", "requestId").
	TraceID, TraceLabel string
	// Hint is advice for the human reading the error; never a secret.
	Hint string
	// Err is the underlying cause, if any (the status-only verdict of a reply
	// without an envelope); never a body.
	Err error
}

// Error renders the one text form of vendor errors (see [Description]).
func (e *Error) Error() string {
	return Description{
		Vendor: e.Vendor, Path: e.Op, Code: e.Code, Message: e.Message, HTTPStatus: e.HTTPStatus,
		Kind: e.Kind, TraceLabel: e.TraceLabel, TraceID: e.TraceID, Hint: e.Hint,
	}.String()
}

// Unwrap returns the cause, if any.
func (e *Error) Unwrap() error { return e.Err }

// OutcomeKind implements [Kinded].
func (e *Error) OutcomeKind() Kind { return e.Kind }

// OutcomeCode implements [Coded].
func (e *Error) OutcomeCode() (vendor, code string) { return e.Vendor, e.Code }

// Remap returns a Classifier that reports the kind to wherever c reports from,
// in the Result and in its *Error (copied, never modified in place). A login uses
// it: there is no token to reject yet, so a "token rejected" answer to the login
// means the credentials were refused (Permanent) or the vendor's login service is
// failing (Transient), depending on the vendor.
func Remap(c Classifier, from, to Kind) Classifier {
	if c == nil {
		c = ByStatus
	}
	return func(resp *http.Response, body []byte) Result {
		r := c(resp, body)
		if r.Kind != from {
			return r
		}
		r.Kind = to
		switch e := r.Err.(type) {
		case *Error:
			cp := *e
			cp.Kind = to
			r.Err = &cp
		case *ResponseError:
			cp := *e
			cp.Kind = to
			r.Err = &cp
		}
		return r
	}
}
