package roundtripper

import (
	"fmt"
	"net/http"

	"github.com/authwire/authwire/internal/reqbody"
)

// Signer signs one attempt of a request. It is called for every attempt, on a copy
// the transport owns, so it may set headers freely and must draw a fresh
// timestamp, nonce and IV each time: a retry is a new request to the vendor. The
// copy has its own Header map but shares the value slices with the caller's
// request: set headers with Set, Add and Del, never by writing into a value slice.
type Signer interface {
	// Sign sets the signature headers on req and returns the body to send: body
	// itself, or a replacement (VertexPlay encrypts it). body is shared: Sign must
	// not modify it.
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
// token layer.
func (s *Signing) roundTripOwned(c *http.Request) (*http.Response, error) {
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
	body, err := reqbody.Read(c)
	if err != nil {
		return nil, fmt.Errorf("roundtripper: read request body: %w", err)
	}
	out, err := s.Signer.Sign(c, body)
	if err != nil {
		return nil, fmt.Errorf("roundtripper: sign: %w", err)
	}
	reqbody.Set(c, out)
	return base(s.Base).RoundTrip(c)
}

// ownedRoundTripper is implemented by this package's layers that can take a
// request the layer above owns — a copy made for this one send, with its own
// Header map, seen by no one else — and change it in place instead of copying it
// again.
type ownedRoundTripper interface {
	roundTripOwned(c *http.Request) (*http.Response, error)
}

// sendOwned sends c, a request the caller owns, through rt.
func sendOwned(rt http.RoundTripper, c *http.Request) (*http.Response, error) {
	if o, ok := rt.(ownedRoundTripper); ok {
		return o.roundTripOwned(c)
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
	h := make(http.Header, len(req.Header)+extra)
	for k, v := range req.Header {
		h[k] = v[:len(v):len(v)]
	}
	c.Header = h
	return c
}
