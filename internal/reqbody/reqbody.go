// Package reqbody reads a request body at most once and replays it without
// copying, so that retry, re-auth and signing layers can each send it again.
//
// The bodies it makes are io.NopCloser(bytes.NewReader(buf)): a type net/http
// recognises as in memory, so it writes the headers and the body in one write
// instead of flushing the headers on their own first (one packet fewer per POST).
// And it reads such bodies — its own, and those http.NewRequest makes for a
// *bytes.Reader or *bytes.Buffer — without copying them.
package reqbody

import (
	"bytes"
	"io"
	"net/http"
	"reflect"
)

// Read returns the body of req, consuming and closing req.Body. An in-memory body
// (a *bytes.Reader or *bytes.Buffer, bare or in io.NopCloser: what http.NewRequest
// and [Set] make) is not copied: the slice shares its bytes, which the caller must
// not modify. Any other body is read once, in one allocation when its length is
// known.
func Read(req *http.Request) ([]byte, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return nil, nil
	}
	defer req.Body.Close()
	if buf, ok := inMemory(req.Body); ok {
		return buf, nil
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

// Peek returns the bytes of req's body. An in-memory body (a *bytes.Reader or
// *bytes.Buffer, bare or in io.NopCloser, as http.NewRequest leaves it) is read
// without copying and left unread, and kept is true: req can be sent as it is.
// Any other body is read and closed as by [Read], and kept is false.
func Peek(req *http.Request) (buf []byte, kept bool, err error) {
	if req.Body == nil || req.Body == http.NoBody {
		return nil, false, nil
	}
	r := io.Reader(req.Body)
	switch t := reflect.TypeOf(r); t {
	case nopCloser, nopCloserWriterTo:
		r = reflect.ValueOf(r).Field(0).Interface().(io.Reader)
	}
	switch r := r.(type) {
	case *bytes.Buffer:
		return r.Bytes(), true, nil
	case *bytes.Reader:
		n := r.Len()
		var s slice
		r.WriteTo(&s)
		r.Seek(-int64(n), io.SeekCurrent) // cannot fail: back to where it was
		return s.b, true, nil
	}
	buf, err = Read(req)
	return buf, false, err
}

// The types io.NopCloser returns, to see through them as net/http does.
var (
	nopCloser         = reflect.TypeOf(io.NopCloser(struct{ io.Reader }{}))
	nopCloserWriterTo = reflect.TypeOf(io.NopCloser(bytes.NewReader(nil)))
)

// inMemory returns the unread bytes of an in-memory reader and consumes them,
// without copying.
func inMemory(r io.Reader) ([]byte, bool) {
	switch t := reflect.TypeOf(r); t {
	case nopCloser, nopCloserWriterTo:
		// The one field of io.NopCloser's types is the exported Reader.
		r = reflect.ValueOf(r).Field(0).Interface().(io.Reader)
	}
	switch r := r.(type) {
	case *bytes.Buffer:
		return r.Next(r.Len()), true
	case *bytes.Reader:
		// WriteTo hands its unread bytes to one Write, which keeps them.
		var s slice
		r.WriteTo(&s)
		return s.b, true
	}
	return nil, false
}

// slice is an io.Writer that keeps what it is given, for *bytes.Reader.WriteTo,
// whose one Write passes the reader's own bytes.
type slice struct{ b []byte }

func (s *slice) Write(p []byte) (int, error) {
	if s.b == nil {
		s.b = p
	} else {
		s.b = append(s.b[:len(s.b):len(s.b)], p...)
	}
	return len(p), nil
}

// Set makes buf the body of req, replayable through GetBody, in the form net/http
// sends with the headers.
func Set(req *http.Request, buf []byte) {
	req.ContentLength = int64(len(buf))
	if len(buf) == 0 {
		req.Body, req.GetBody = http.NoBody, noBody
		return
	}
	req.Body = io.NopCloser(bytes.NewReader(buf))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(buf)), nil }
}

func noBody() (io.ReadCloser, error) { return http.NoBody, nil }

// Replayable reports whether req's body can be sent again: it has none, or
// GetBody makes another.
func Replayable(req *http.Request) bool {
	return req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
}

// Buffer reads req's body once, unless it is [Replayable], and makes it
// replayable. req must be a request the caller owns (a copy), never the one handed
// to RoundTrip.
func Buffer(req *http.Request) error {
	if Replayable(req) {
		return nil
	}
	buf, err := Read(req)
	if err != nil {
		return err
	}
	Set(req, buf)
	return nil
}

// Rewind returns a fresh body for a request being sent again: from GetBody, or
// req.Body itself when there is none to send.
func Rewind(req *http.Request) (io.ReadCloser, error) {
	if req.Body == nil || req.Body == http.NoBody || req.GetBody == nil {
		return req.Body, nil
	}
	return req.GetBody()
}

// Close closes req.Body if there is one: a RoundTripper must close the body even
// when it fails before sending.
func Close(req *http.Request) {
	if req != nil && req.Body != nil {
		req.Body.Close()
	}
}
