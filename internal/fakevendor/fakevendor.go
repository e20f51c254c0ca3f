// Package fakevendor gives tests canned vendor replies as http.RoundTrippers and a
// limiter that never waits, so a fuzz target can drive a provider's whole client
// without a network, a clock or a simulator.
package fakevendor

import (
	"bytes"
	"context"
	"io"
	"net/http"

	"github.com/authwire/authwire/outcome"
)

// Reply answers every request with the same status, headers and body.
type Reply struct {
	Status int
	Header http.Header
	Body   []byte
}

// RoundTrip implements http.RoundTripper; it consumes and closes the request body.
func (f Reply) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		io.Copy(io.Discard, r.Body)
		r.Body.Close()
	}
	h := f.Header.Clone()
	if h == nil {
		h = http.Header{}
	}
	return &http.Response{
		StatusCode: f.Status, Status: http.StatusText(f.Status), Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: h, Body: io.NopCloser(bytes.NewReader(f.Body)), ContentLength: int64(len(f.Body)), Request: r,
	}, nil
}

// ByPath answers by request path; the "" entry answers every other path.
type ByPath map[string]Reply

// RoundTrip implements http.RoundTripper.
func (m ByPath) RoundTrip(r *http.Request) (*http.Response, error) {
	f, ok := m[r.URL.Path]
	if !ok {
		f = m[""]
	}
	return f.RoundTrip(r)
}

// NoLimit is a ratelimit.Limiter that never waits: a fuzzed "too frequent" reply
// must not pause the next input.
type NoLimit struct{}

// Wait implements ratelimit.Limiter.
func (NoLimit) Wait(context.Context, string) error { return nil }

// Observe implements ratelimit.Limiter.
func (NoLimit) Observe(string, outcome.Result) {}
