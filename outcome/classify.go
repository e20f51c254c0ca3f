package outcome

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
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
	io.Reader
	closer io.Closer
	result Result
}

func (c *classified) Close() error { return c.closer.Close() }

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
	var body []byte
	if resp.Body != nil && resp.Body != http.NoBody {
		buf, err := io.ReadAll(io.LimitReader(resp.Body, MaxBody+1))
		if err != nil {
			// The connection dropped while the body was arriving: the vendor did
			// process the request, but we do not know its answer.
			resp.Body.Close()
			r := Result{Kind: Unknown, Sent: true, Err: err}
			resp.Body = &classified{Reader: bytes.NewReader(buf), closer: io.NopCloser(nil), result: r}
			return r
		}
		if len(buf) > MaxBody {
			r := ByStatus(resp, nil)
			resp.Body = &classified{Reader: io.MultiReader(bytes.NewReader(buf), resp.Body), closer: resp.Body, result: r}
			return r
		}
		body = buf
		resp.Body.Close()
	}
	r := c(resp, body)
	r.Sent = true
	resp.Body = &classified{Reader: bytes.NewReader(body), closer: io.NopCloser(nil), result: r}
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

// ByStatus classifies by HTTP status alone: 2xx and 3xx success, 401 token-rejected,
// 429 rate-limited (honouring Retry-After), 408 and 5xx transient, other 4xx permanent.
// Providers call it for replies that carry no vendor envelope.
func ByStatus(resp *http.Response, _ []byte) Result {
	code := resp.StatusCode
	var k Kind
	switch {
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

// RetryAfter parses the Retry-After header (delta-seconds or HTTP-date); zero when
// absent or unparsable.
func RetryAfter(resp *http.Response) time.Duration {
	v := resp.Header.Get("Retry-After")
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseInt(v, 10, 64); err == nil {
		if s < 0 {
			return 0
		}
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := time.Until(t); d > 0 {
			return d
		}
	}
	return 0
}

// FromError classifies a transport error. A connection that was never established
// (DNS failure, refused, unreachable) is Transient with Sent false: safe to send
// again. Anything else — a timeout, a reset, EOF — may have happened after the
// vendor received the request, so it is Unknown. A cancelled or expired context of
// the caller is Permanent: the caller gave up, nothing should retry it.
func FromError(ctx context.Context, err error) Result {
	if ctx.Err() != nil {
		return Result{Kind: Permanent, Sent: true, Err: err}
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return Result{Kind: Transient, Sent: false, Err: err}
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return Result{Kind: Transient, Sent: false, Err: err}
	}
	return Result{Kind: Unknown, Sent: true, Err: err}
}
