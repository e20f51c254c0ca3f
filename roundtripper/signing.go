package roundtripper

import (
	"fmt"
	"net/http"

	"github.com/authwire/authwire/internal/deadline"
	"github.com/authwire/authwire/internal/reqbody"
)

// Signer signs one attempt of a request. It is called for every attempt, on a copy
// the transport owns, so it may set headers freely and must draw a fresh
// timestamp, nonce and IV each time: a retry is a new request to the vendor. The
// copy has its own Header map but shares the value slices with the caller's
// request: set headers with Set, Add and Del, never by writing into a value slice.
type Signer interface {
	// Sign sets the signature headers on req and returns the body to send: body
	// itself, or a replacement (a vendor that encrypts bodies). body is shared: Sign must
	// not modify it, nor read req.Body (body is its content).
	Sign(req *http.Request, body []byte) ([]byte, error)
}

// SignerFunc adapts a function to [Signer].
type SignerFunc func(req *http.Request, body []byte) ([]byte, error)

// Sign calls f(req, body).
func (f SignerFunc) Sign(req *http.Request, body []byte) ([]byte, error) { return f(req, body) }

// Signing is an http.RoundTripper that signs every request to its Hosts with
// Signer. The body is read into memory once (or not at all when an outer layer
// already holds it) and handed to the Signer.
type Signing struct {
	// Signer signs each attempt. Required.
	Signer Signer
	// Hosts are the origins the signing credential is for. Required.
	Hosts Hosts
	// Base sends the request; nil means http.DefaultTransport.
	Base http.RoundTripper
}

// RoundTrip implements http.RoundTripper.
func (s *Signing) RoundTrip(req *http.Request) (*http.Response, error) {
	if len(s.Hosts) == 0 {
		reqbody.Close(req)
		return nil, ErrNoHosts
	}
	if !s.Hosts.Allows(req.URL) {
		return base(s.Base).RoundTrip(req)
	}
	// A shallow copy with its own headers is all the Signer may change; a full
	// Clone would also copy the URL, trailers and form on every attempt.
	return s.sign(ownedCopy(req, 0))
}

// roundTripOwned signs c in place: c is the attempt's own copy, made by the
// token layer. attempt is nil: the per-attempt layer sits above.
func (s *Signing) roundTripOwned(c *http.Request, _ *deadline.Context) (*http.Response, error) {
	if len(s.Hosts) == 0 {
		reqbody.Close(c)
		return nil, ErrNoHosts
	}
	if !s.Hosts.Allows(c.URL) {
		return base(s.Base).RoundTrip(c)
	}
	return s.sign(c)
}

func (s *Signing) sign(c *http.Request) (*http.Response, error) {
	body, kept, err := reqbody.Peek(c)
	if err != nil {
		return nil, fmt.Errorf("roundtripper: read request body: %w", err)
	}
	out, err := s.Signer.Sign(c, body)
	if err != nil {
		reqbody.Close(c)
		return nil, fmt.Errorf("roundtripper: sign: %w", err)
	}
	// A signer that signs headers only returns the body it was given: an
	// in-memory body is then sent as it came, with no new reader.
	switch {
	case len(out) == 0 && (c.Body == nil || c.Body == http.NoBody):
		// No body before or after: nothing to set.
	case !kept || !same(out, body) || c.ContentLength != int64(len(out)):
		reqbody.Close(c)
		reqbody.Set(c, out)
	}
	return base(s.Base).RoundTrip(c)
}

// same reports whether a and b are the same bytes in memory (not merely equal).
func same(a, b []byte) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

// ownedRoundTripper is implemented by this package's layers that can take a
// request the layer above owns — a copy made for this one send, with its own
// Header map, seen by no one else — and change it in place instead of copying it
// again.
//
// attempt, when set, is the attempt's bounded context, which c already carries:
// the copy was made with it ([newAttempt]), so the per-attempt layer need not
// copy again; stopping it ends the attempt.
type ownedRoundTripper interface {
	roundTripOwned(c *http.Request, attempt *deadline.Context) (*http.Response, error)
}

// newAttempt returns the one copy of req for an attempt sent through rt, with
// room for extra more header keys. When rt is the per-attempt layer with a
// timeout, the copy is made with the attempt's bounded context, which stops
// when the attempt ends.
func newAttempt(req *http.Request, extra int, rt http.RoundTripper) (c *http.Request, attempt *deadline.Context) {
	p, ok := rt.(*perAttempt)
	if !ok || p.watch == nil {
		return ownedCopy(req, extra), nil
	}
	attempt = p.watch.Start(req.Context())
	c = req.WithContext(attempt)
	c.Header = ownHeader(req.Header, extra)
	return c, attempt
}

// sendOwned sends c, a request the caller owns, through rt.
func sendOwned(rt http.RoundTripper, c *http.Request, attempt *deadline.Context) (*http.Response, error) {
	if o, ok := rt.(ownedRoundTripper); ok {
		return o.roundTripOwned(c, attempt)
	}
	if attempt != nil { // not reached: newAttempt starts one for the per-attempt layer only
		defer attempt.Stop()
	}
	return base(rt).RoundTrip(c)
}

// ownedCopy returns a shallow copy of req with its own Header map (room for
// extra more keys). The header values are shared, capped at their length so that
// an Add on the copy never writes into the caller's slice; Set and Del replace
// and remove. A layer must not write into a value slice in place.
func ownedCopy(req *http.Request, extra int) *http.Request {
	c := new(http.Request)
	*c = *req
	c.Header = ownHeader(req.Header, extra)
	return c
}

// ownHeader is ownedCopy's header map.
func ownHeader(h http.Header, extra int) http.Header {
	c := make(http.Header, len(h)+extra)
	for k, v := range h {
		c[k] = v[:len(v):len(v)]
	}
	return c
}
