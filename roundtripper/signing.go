package roundtripper

import (
	"fmt"
	"net/http"

	"github.com/authwire/authwire/internal/reqbody"
)

// Signer signs one attempt of a request. It is called for every attempt, on a copy
// the transport owns, so it may set headers freely and must draw a fresh
// timestamp, nonce and IV each time: a retry is a new request to the vendor.
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
	body, err := reqbody.Read(req)
	if err != nil {
		return nil, fmt.Errorf("roundtripper: read request body: %w", err)
	}
	// A shallow copy with its own headers is all the Signer may change; a full
	// Clone would also copy the URL, trailers and form on every attempt.
	c := new(http.Request)
	*c = *req
	c.Header = req.Header.Clone()
	if c.Header == nil {
		c.Header = make(http.Header)
	}
	out, err := s.Signer.Sign(c, body)
	if err != nil {
		return nil, fmt.Errorf("roundtripper: sign: %w", err)
	}
	reqbody.Set(c, out)
	return base(s.Base).RoundTrip(c)
}
