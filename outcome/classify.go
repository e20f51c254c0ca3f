package outcome

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Classifier turns a response and its (possibly truncated, see [MaxBody]) body into
// a Result. Providers supply one built from their code table; it must not keep body.
type Classifier func(resp *http.Response, body []byte) Result

// MaxBody is how much of a response body [Read] buffers for classification. Vendor
// envelopes are small; a larger body (a download) is classified by status only and
// streamed to the caller untouched.
const MaxBody = 1 << 20

// classified is the response body after [Read]: the buffered bytes followed by
// whatever was not buffered, plus the memoised Result. Outer layers find it with a
// type assertion, so the classification travels with the response and needs no
// side table or context value.
type classified struct {
	buf    bytes.Reader
	rest   io.ReadCloser // the unread remainder of a body larger than MaxBody; nil otherwise
	err    error         // what ended a body that broke off (io.ErrUnexpectedEOF); nil otherwise
	result Result
}

func (c *classified) Read(p []byte) (int, error) {
	n, err := c.buf.Read(p)
	if err == io.EOF {
		switch {
		case n > 0:
			return n, nil
		case c.rest != nil:
			return c.rest.Read(p)
		case c.err != nil:
			// The body broke off: the caller gets the bytes that arrived, then the
			// error, never a clean EOF that would pass a partial reply for a whole one.
			return 0, c.err
		}
	}
	return n, err
}

// WriteTo hands the buffered bytes to w in one Write (io.Copy uses it), then
// the rest of the body, or the error that broke it off.
func (c *classified) WriteTo(w io.Writer) (int64, error) {
	n, err := c.buf.WriteTo(w)
	switch {
	case err != nil:
		return n, err
	case c.rest != nil:
		m, err := io.Copy(w, c.rest)
		return n + m, err
	case c.err != nil:
		return n, c.err
	}
	return n, nil
}

func (c *classified) Close() error {
	if c.rest != nil {
		return c.rest.Close()
	}
	return nil
}

// Read classifies resp with c (or [ByStatus] when c is nil), at most once per
// response: the first call buffers the body, restores it for the caller and
// remembers the Result; later calls, from outer layers, return the remembered one.
func Read(resp *http.Response, c Classifier) Result {
	if cb, ok := resp.Body.(*classified); ok {
		return cb.result
	}
	if c == nil {
		c = ByStatus
	}
	cb := &classified{}
	var body []byte
	if resp.Body != nil && resp.Body != http.NoBody {
		buf, err := readUpTo(resp.Body, resp.ContentLength, MaxBody+1)
		switch {
		case err != nil:
			// The connection dropped while the body was arriving (or it brought
			// fewer bytes than its Content-Length): the vendor did process the
			// request, but we do not know its answer.
			resp.Body.Close()
			cb.result = Result{Kind: Unknown, Sent: true, Err: &BodyError{StatusCode: resp.StatusCode, Got: len(buf), Length: resp.ContentLength, Err: err}}
			cb.err = err
			cb.buf.Reset(buf)
			resp.Body = cb
			return cb.result
		case len(buf) > MaxBody:
			cb.result = ByStatus(resp, nil)
			cb.buf.Reset(buf)
			cb.rest = resp.Body
			resp.Body = cb
			return cb.result
		}
		body = buf
		resp.Body.Close()
	}
	cb.result = enforce(resp, c(resp, body))
	cb.result.Sent = true
	cb.buf.Reset(body)
	resp.Body = cb
	return cb.result
}

// readUpTo reads at most limit bytes, in one allocation when the length is known.
func readUpTo(r io.Reader, length, limit int64) ([]byte, error) {
	if length > 0 && length < limit {
		buf := make([]byte, length)
		n, err := io.ReadFull(r, buf)
		if err == io.ErrUnexpectedEOF || err == io.EOF {
			return buf[:n], io.ErrUnexpectedEOF
		}
		if err != nil {
			return buf[:n], err
		}
		return buf, nil
	}
	return io.ReadAll(io.LimitReader(r, limit))
}

// enforce applies the rules every vendor gets, whatever its classifier says: a
// redirect the client did not follow is not the vendor's answer, and a 4xx the
// vendor did not explain with a code of its own (other than 401, 408 and 429, which
// mean something) is the caller's mistake — permanent, so it is neither retried
// nor counted against the vendor's health.
func enforce(resp *http.Response, r Result) Result {
	code := resp.StatusCode
	switch {
	case code >= 300 && code < 400 && code != http.StatusNotModified && r.Kind == Success:
		return redirect(resp)
	case code >= 400 && code < 500 && code != http.StatusUnauthorized && code != http.StatusRequestTimeout &&
		code != http.StatusTooManyRequests && (r.Kind == Transient || r.Kind == Unknown):
		if _, vc := CodeOf(r.Err); vc == "" {
			return Result{Kind: Permanent, Err: &ResponseError{StatusCode: code, Kind: Permanent}}
		}
	}
	return r
}

// Of returns the Result that [Read] attached to resp, classifying by status when no
// layer has read it.
func Of(resp *http.Response) Result {
	if cb, ok := resp.Body.(*classified); ok {
		return cb.result
	}
	return Read(resp, nil)
}

// ByStatus classifies by HTTP status alone: 2xx (and 304) success; any other 3xx a
// redirect that was not followed, permanent, with a [*RedirectError] naming where
// it pointed; 401 token-rejected; 429 rate-limited (honouring Retry-After); 408 and
// 5xx transient; other 4xx permanent. Providers call it for replies that carry no
// vendor envelope.
func ByStatus(resp *http.Response, _ []byte) Result {
	code := resp.StatusCode
	var k Kind
	switch {
	case code >= 300 && code < 400 && code != http.StatusNotModified:
		return redirect(resp)
	case code < 400:
		return Result{Kind: Success}
	case code == http.StatusUnauthorized:
		k = TokenRejected
	case code == http.StatusTooManyRequests:
		return Result{Kind: RateLimited, After: RetryAfter(resp), Err: &ResponseError{StatusCode: code, Kind: RateLimited}}
	case code == http.StatusRequestTimeout || code >= 500:
		k = Transient
	default:
		k = Permanent
	}
	return Result{Kind: k, After: RetryAfter(resp), Err: &ResponseError{StatusCode: code, Kind: k}}
}

func redirect(resp *http.Response) Result {
	return Result{Kind: Permanent, Err: &RedirectError{StatusCode: resp.StatusCode, Location: location(resp)}}
}

// location returns the scheme, host and path of resp's Location header, resolved
// against the request's URL: never its user info, query or fragment, which may
// carry credentials (a pre-signed URL, a token in the query).
func location(resp *http.Response) string {
	loc := resp.Header.Get("Location")
	if loc == "" {
		return ""
	}
	u, err := url.Parse(loc)
	if err != nil {
		return "(unparsable)"
	}
	if resp.Request != nil && resp.Request.URL != nil {
		u = resp.Request.URL.ResolveReference(u)
	}
	clean := url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path, RawPath: u.RawPath}
	return clean.String()
}

// RedirectError reports a 3xx reply that reached the caller: the client did not
// follow it (its CheckRedirect refused, or a RoundTripper was called directly), so
// the reply is not the vendor's answer. It is permanent: sending the same request
// again gets the same redirect.
type RedirectError struct {
	StatusCode int
	// Location is where the redirect pointed: scheme, host and path only, never
	// the query (it may carry credentials); empty when the reply had none.
	Location string
}

// Error implements error.
func (e *RedirectError) Error() string {
	loc := e.Location
	if loc == "" {
		loc = "(no Location)"
	}
	return fmt.Sprintf("http: HTTP %d redirect to %s not followed", e.StatusCode, loc)
}

// OutcomeKind implements [Kinded]: permanent.
func (e *RedirectError) OutcomeKind() Kind { return Permanent }

// BodyError reports a reply whose body broke off: the connection dropped, or it
// ended before its Content-Length. The vendor processed the request, but its
// answer is incomplete, so the outcome is [Unknown]. It unwraps to the read error
// (io.ErrUnexpectedEOF when the body was short).
type BodyError struct {
	StatusCode int
	// Got is how many bytes arrived; Length the Content-Length (-1 when unknown).
	Got    int
	Length int64
	Err    error
}

// Error implements error.
func (e *BodyError) Error() string {
	if e.Length >= 0 {
		return fmt.Sprintf("http: HTTP %d body broke off after %d of %d bytes: %v", e.StatusCode, e.Got, e.Length, e.Err)
	}
	return fmt.Sprintf("http: HTTP %d body broke off after %d bytes: %v", e.StatusCode, e.Got, e.Err)
}

// Unwrap returns the read error.
func (e *BodyError) Unwrap() error { return e.Err }

// MaxRetryAfter caps what [RetryAfter] returns: a vendor's (or a proxy's) absurd
// or overflowing Retry-After must not freeze a rate-limit key for years.
const MaxRetryAfter = 5 * time.Minute

// RetryAfter parses the Retry-After header (delta-seconds or HTTP-date), capped at
// [MaxRetryAfter]; zero when absent or unparsable.
func RetryAfter(resp *http.Response) time.Duration {
	v := resp.Header.Get("Retry-After")
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseInt(v, 10, 64); err == nil {
		if s <= 0 {
			return 0
		}
		if s >= int64(MaxRetryAfter/time.Second) {
			return MaxRetryAfter
		}
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := time.Until(t); d > 0 {
			return min(d, MaxRetryAfter)
		}
	}
	return 0
}

// FromError classifies a transport error. A connection that was never established
// (DNS failure, refused, unreachable) or a layer that gave up before sending
// ([NotSent]) is Transient with Sent false: safe to send again. Anything else — a
// timeout, a reset, EOF — may have happened after the vendor received the request,
// so it is Unknown.
//
// The caller's context does not change what may have happened: a cancel or a
// deadline that ends an exchange after the request may have reached the vendor is
// Unknown with Sent true, exactly like a dropped connection. Only when nothing was
// sent is the caller's ended context Permanent: nothing should retry it.
func FromError(ctx context.Context, err error) Result {
	sent := true
	var ns *notSent
	var op *net.OpError
	var dns *net.DNSError
	switch {
	case errors.As(err, &ns):
		sent = false
	case errors.As(err, &op) && op.Op == "dial":
		sent = false
	case errors.As(err, &dns):
		sent = false
	}
	switch {
	case sent:
		return Result{Kind: Unknown, Sent: true, Err: err}
	case ctx.Err() != nil:
		return Result{Kind: Permanent, Sent: false, Err: err}
	}
	return Result{Kind: Transient, Sent: false, Err: err}
}

// NotSent marks err as the failure of a layer that gave up before the request
// could reach the vendor — a rate-limit wait or a token fetch ended by the caller's
// context — so that [FromError] reports Sent false. The result matches err with
// errors.Is and errors.As and prints as err. NotSent(nil) is nil.
func NotSent(err error) error {
	if err == nil {
		return nil
	}
	return &notSent{err}
}

type notSent struct{ err error }

func (e *notSent) Error() string { return e.err.Error() }
func (e *notSent) Unwrap() error { return e.err }
