// Package outcome is the vocabulary every authwire layer reads: a [Classifier] turns
// one HTTP exchange (the response and its body, or the transport error) into a
// [Result], and the rate limiter, circuit breaker, retry policy and re-auth layer all
// act on that same Result instead of each guessing from the status code.
//
// Vendors in scope say "too frequent" and "token invalid" inside HTTP 200 JSON bodies,
// so the classifier reads the body. It reads it once: [Read] buffers it, restores it
// for the caller and memoises the Result on the response, so every layer on the way
// back shares one classification.
package outcome

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Kind says what one exchange means for the layers above it.
type Kind uint8

const (
	// Success: the vendor processed the request (including business outcomes such as
	// "pending" that are not failures).
	Success Kind = iota
	// RateLimited: the vendor refused the request unprocessed because it came too
	// fast. Safe to retry after [Result.After]; the limiter slows down.
	RateLimited
	// TokenRejected: the vendor refused the credential (HTTP 401, "token invalid").
	// Unprocessed: re-authenticate once and re-send.
	TokenRejected
	// Transient: the vendor is unhealthy (5xx, "system error"). Counts for the
	// breaker; retried only when the request is idempotent, because the vendor may
	// have processed it before failing.
	Transient
	// Permanent: the request or the configuration is wrong (validation, bad
	// signature, wrong password). Retrying cannot help; the vendor is healthy.
	Permanent
	// Unknown: the request may or may not have been processed (a timeout or a
	// dropped connection after the body was sent). Retried only when idempotent.
	Unknown
)

var kindNames = [...]string{"success", "rate-limited", "token-rejected", "transient", "permanent", "unknown"}

// String returns the kind's lower-case name.
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", k)
}

// Result is the classification of one exchange.
type Result struct {
	Kind Kind
	// After is a delay hint for RateLimited (Retry-After, or the vendor's default);
	// zero means "no hint".
	After time.Duration
	// Sent reports whether the request may have reached the vendor. It is false only
	// when the transport failed before writing the request (a refused connection), so
	// even a non-idempotent request is safe to send again.
	Sent bool
	// Err is the typed error describing a non-success result (a provider's *Error or a
	// [*ResponseError]); nil for Success.
	Err error
}

// Safe reports whether the request is known not to have been processed, so that
// sending it again cannot duplicate a side effect (an SMS, a transfer).
func (r Result) Safe() bool {
	switch r.Kind {
	case RateLimited, TokenRejected:
		return true
	case Transient, Unknown:
		return !r.Sent
	}
	return false
}

// ErrUnknown is matched (errors.Is) by every error that reports a request whose
// outcome is unknown: it may have been processed, so it was not re-sent. Resolve it
// with the vendor's status call (for example a payment vendor's check-transaction call).
var ErrUnknown = errors.New("outcome unknown: the request may have been processed and was not re-sent")

// UnknownError wraps the failure of a non-idempotent request that may have been
// processed. It matches [ErrUnknown] and unwraps to the cause.
type UnknownError struct {
	Method, Host, Path string // never the query: it may carry credentials
	Err                error
}

// Error implements error.
func (e *UnknownError) Error() string {
	return fmt.Sprintf("%s %s%s: %v (not re-sent: %v)", e.Method, e.Host, e.Path, ErrUnknown, e.Err)
}

// Unwrap returns both the sentinel and the cause.
func (e *UnknownError) Unwrap() []error { return []error{ErrUnknown, e.Err} }

// ResponseError is the typed error for an exchange no vendor envelope explained:
// the HTTP status alone. Providers return their own typed errors when the body
// carries a vendor code.
type ResponseError struct {
	Vendor     string
	StatusCode int
	Kind       Kind
}

// Error implements error.
func (e *ResponseError) Error() string {
	v := e.Vendor
	if v == "" {
		v = "http"
	}
	return fmt.Sprintf("%s: HTTP %d (%s)", v, e.StatusCode, e.Kind)
}

// Kinded is implemented by typed errors that carry their own classification; layers
// use [KindOf] to read it.
type Kinded interface {
	OutcomeKind() Kind
}

// OutcomeKind implements [Kinded].
func (e *ResponseError) OutcomeKind() Kind { return e.Kind }

// KindOf returns the Kind carried by err or by anything it wraps, and false when
// nothing in the chain carries one.
func KindOf(err error) (Kind, bool) {
	var k Kinded
	if errors.As(err, &k) {
		return k.OutcomeKind(), true
	}
	return 0, false
}

// IsPermanent reports whether err carries the Permanent kind: retrying cannot help.
// The token cache uses it to stop a wrong password from causing a login loop.
func IsPermanent(err error) bool {
	k, ok := KindOf(err)
	return ok && k == Permanent
}

// Coded is implemented by typed vendor errors ([*Error]), so that logs and metrics
// can name the vendor and its code without knowing the type.
type Coded interface {
	// OutcomeCode returns the vendor's name ("acme") and its code as text
	// ("42900"); code is empty when the reply carried none.
	OutcomeCode() (vendor, code string)
}

// legacyCoded is the shape typed errors had before [*Error]: kept so that errors
// written against it still name their code in logs and metrics.
type legacyCoded interface {
	Vendor() string
	VendorCode() string
}

// CodeOf returns the vendor and code carried by err or anything it wraps.
func CodeOf(err error) (vendor, code string) {
	var c Coded
	if errors.As(err, &c) {
		return c.OutcomeCode()
	}
	var l legacyCoded
	if errors.As(err, &l) {
		return l.Vendor(), l.VendorCode()
	}
	return "", ""
}

// Description is the one text form of every provider's typed error, so that an
// operator reads the same shape whatever the vendor:
//
//	vendor: /path: code C message (HTTP 200, rate-limited, trace_id T): hint
type Description struct {
	Vendor, Path, Code, Message string
	HTTPStatus                  int
	Kind                        Kind
	// TraceLabel names the vendor's trace field ("trace_id", "requestId").
	TraceLabel, TraceID string
	Hint                string
}

// String renders the description.
func (d Description) String() string {
	var b strings.Builder
	b.WriteString(d.Vendor + ": ")
	if d.Path != "" {
		b.WriteString(d.Path + ": ")
	}
	if d.Code != "" {
		b.WriteString("code " + d.Code + " ")
	}
	b.WriteString(d.Message)
	fmt.Fprintf(&b, " (HTTP %d, %s", d.HTTPStatus, d.Kind)
	if d.TraceID != "" {
		b.WriteString(", " + d.TraceLabel + " " + d.TraceID)
	}
	b.WriteString(")")
	if d.Hint != "" {
		b.WriteString(": " + d.Hint)
	}
	return b.String()
}
