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
	buf    bytes.Reader
	rest   io.ReadCloser // the unread remainder of a body larger than MaxBody; nil otherwise
	result Result
}

func (c *classified) Read(p []byte) (int, error) {
	n, err := c.buf.Read(p)
	if err == io.EOF && c.rest != nil {
		if n > 0 {
			return n, nil
		}
		return c.rest.Read(p)
	}
	return n, err
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
			// The connection dropped while the body was arriving: the vendor did
			// process the request, but we do not know its answer.
			resp.Body.Close()
			cb.result = Result{Kind: Unknown, Sent: true, Err: err}
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
	cb.result = c(resp, body)
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
