// Package reqbody buffers a request body once and replays it without copying, so
// that retry, re-auth and signing layers can each send it again.
package reqbody

import (
	"bytes"
	"io"
	"net/http"
)

// Body is a replayable in-memory request body. Layers recognise it with a type
// assertion and read its bytes without copying them.
type Body struct {
	*bytes.Reader
	buf []byte
}

// New returns a fresh reader over buf.
func New(buf []byte) *Body { return &Body{Reader: bytes.NewReader(buf), buf: buf} }

// Close implements io.Closer.
func (*Body) Close() error { return nil }

// Bytes returns the whole body.
func (b *Body) Bytes() []byte { return b.buf }

// Read returns the body of req, consuming and closing req.Body. It copies at most
// once: a *Body is returned as is, and a body never read is read once.
func Read(req *http.Request) ([]byte, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return nil, nil
	}
	if b, ok := req.Body.(*Body); ok {
		return b.buf, nil
	}
	defer req.Body.Close()
	if req.GetBody != nil {
		// GetBody may hand back a *Body (set by an outer layer) even when Body was
		// wrapped on the way; use it to avoid a copy.
		if rc, err := req.GetBody(); err == nil {
			if b, ok := rc.(*Body); ok {
				return b.buf, nil
			}
			rc.Close()
		}
	}
	if n := req.ContentLength; n > 0 && n < 64<<20 {
		// One allocation of the right size instead of ReadAll's doubling.
		buf := make([]byte, n)
		if _, err := io.ReadFull(req.Body, buf); err != nil {
			return nil, err
		}
		return buf, nil
	}
	return io.ReadAll(req.Body)
}

// Set makes buf the body of req, replayable through GetBody.
func Set(req *http.Request, buf []byte) {
	req.ContentLength = int64(len(buf))
	if len(buf) == 0 {
		req.Body, req.GetBody = http.NoBody, func() (io.ReadCloser, error) { return http.NoBody, nil }
		return
	}
	req.Body = New(buf)
	req.GetBody = func() (io.ReadCloser, error) { return New(buf), nil }
}

// Buffer reads req's body once and makes it replayable. req must be a request the
// caller owns (a clone), never the one handed to RoundTrip.
func Buffer(req *http.Request) error {
	if _, ok := req.Body.(*Body); ok && req.GetBody != nil {
		return nil
	}
	buf, err := Read(req)
	if err != nil {
		return err
	}
	if req.Body == nil && buf == nil {
		return nil
	}
	Set(req, buf)
	return nil
}

// Close closes req.Body if there is one: a RoundTripper must close the body even
// when it fails before sending.
func Close(req *http.Request) {
	if req != nil && req.Body != nil {
		req.Body.Close()
	}
}
