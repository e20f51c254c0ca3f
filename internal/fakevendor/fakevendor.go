// Package fakevendor gives tests canned vendor replies as http.RoundTrippers and a
// limiter that never waits, so a fuzz target can drive a provider's whole client
// without a network, a clock or a simulator, and checks the classifications it
// gets back.
package fakevendor

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"testing"

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

// CheckResult fails t unless r is what a vendor's classifier may return: a known
// kind, and for every kind but Success an *outcome.Error of that same kind, with a
// message, which outcome.KindOf reads back.
func CheckResult(t testing.TB, r outcome.Result) {
	t.Helper()
	if r.Kind > outcome.Unknown {
		t.Fatalf("invalid kind %d", r.Kind)
	}
	if r.Kind == outcome.Success {
		return
	}
	var e *outcome.Error
	if !errors.As(r.Err, &e) {
		t.Fatalf("%s result carries %T, want *outcome.Error", r.Kind, r.Err)
	}
	if e.Kind != r.Kind {
		t.Fatalf("error kind %s, result kind %s", e.Kind, r.Kind)
	}
	if k, ok := outcome.KindOf(r.Err); !ok || k != r.Kind {
		t.Fatalf("KindOf = %s, %v; want %s", k, ok, r.Kind)
	}
	if e.Error() == "" {
		t.Fatal("empty error string")
	}
}
