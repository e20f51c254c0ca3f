package reqbody_test

import (
	"bytes"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/authwire/authwire/internal/reqbody"
)

func TestBufferOnceReplayWithoutCopy(t *testing.T) {
	req, _ := http.NewRequest(http.MethodPost, "http://x/", io.NopCloser(strings.NewReader("hello")))
	if err := reqbody.Buffer(req); err != nil {
		t.Fatal(err)
	}
	rc, _ := req.GetBody()
	again, _ := io.ReadAll(rc)
	first, _ := reqbody.Read(req)
	if string(first) != "hello" || string(again) != "hello" || req.ContentLength != 5 {
		t.Fatalf("first %q again %q len %d", first, again, req.ContentLength)
	}
	// A replayed body hands out the same bytes, not a copy.
	r2, _ := http.NewRequest(http.MethodPost, "http://x/", nil)
	r2.Body, _ = req.GetBody()
	b, _ := reqbody.Read(r2)
	if &b[0] != &first[0] {
		t.Fatal("Read copied a replayed body")
	}
}

// TestReadInMemoryWithoutCopy: the bodies http.NewRequest makes for in-memory
// readers are read without copying, and consumed; any other is read once.
func TestReadInMemoryWithoutCopy(t *testing.T) {
	data := []byte("0123456789")
	for _, tc := range []struct {
		name   string
		body   io.Reader
		shared bool
	}{
		{"bytes.Reader", bytes.NewReader(data), true},
		{"bytes.Buffer", bytes.NewBuffer(data), true},
		{"NopCloser(bytes.Reader)", io.NopCloser(bytes.NewReader(data)), true},
		{"strings.Reader", strings.NewReader(string(data)), false},
		{"other", io.MultiReader(bytes.NewReader(data)), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, "http://x/", tc.body)
			req.ContentLength = int64(len(data))
			got, err := reqbody.Read(req)
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("Read = %q, %v", got, err)
			}
			if shared := &got[0] == &data[0]; shared != tc.shared {
				t.Errorf("shares the caller's bytes: %v, want %v", shared, tc.shared)
			}
			if rest, _ := io.ReadAll(req.Body); len(rest) != 0 {
				t.Errorf("%d bytes left unread", len(rest))
			}
		})
	}
}

// TestSetSendsWithHeaders: the body Set makes is one net/http writes with the
// headers: an io.NopCloser over a *bytes.Reader.
func TestSetSendsWithHeaders(t *testing.T) {
	req, _ := http.NewRequest(http.MethodPost, "http://x/", nil)
	reqbody.Set(req, []byte("abc"))
	if _, ok := req.Body.(io.WriterTo); !ok || req.ContentLength != 3 {
		t.Fatalf("body %T, length %d", req.Body, req.ContentLength)
	}
	want, _ := http.NewRequest(http.MethodPost, "http://x/", bytes.NewReader([]byte("abc")))
	if got, w := typeName(req.Body), typeName(want.Body); got != w {
		t.Errorf("body type %s, want %s (what http.NewRequest makes)", got, w)
	}
}

func typeName(v any) string { return reflect.TypeOf(v).String() }

func TestEmptyBodies(t *testing.T) {
	req, _ := http.NewRequest(http.MethodGet, "http://x/", nil)
	if err := reqbody.Buffer(req); err != nil || req.Body != nil {
		t.Fatalf("err %v body %v", err, req.Body)
	}
	b, err := reqbody.Read(req)
	if err != nil || b != nil {
		t.Fatalf("%q %v", b, err)
	}
}

func TestPeekLeavesInMemoryBodiesUnread(t *testing.T) {
	partly := bytes.NewReader([]byte("xxhello"))
	partly.Read(make([]byte, 2))
	for _, tc := range []struct {
		name     string
		body     io.Reader
		wantKept bool
	}{
		{"bytes.Reader", bytes.NewReader([]byte("hello")), true},
		{"bytes.Reader partly read", partly, true},
		{"bytes.Buffer", bytes.NewBufferString("hello"), true},
		{"NopCloser(bytes.Reader)", io.NopCloser(bytes.NewReader([]byte("hello"))), true},
		{"strings.Reader", strings.NewReader("hello"), false},
		{"a stream", io.NopCloser(io.MultiReader(strings.NewReader("hel"), strings.NewReader("lo"))), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, "http://x/", tc.body)
			buf, kept, err := reqbody.Peek(req)
			if err != nil || string(buf) != "hello" || kept != tc.wantKept {
				t.Fatalf("Peek = %q, %v, %v; want hello, %v, nil", buf, kept, err, tc.wantKept)
			}
			if !kept {
				return
			}
			rest, _ := io.ReadAll(req.Body)
			if string(rest) != "hello" {
				t.Fatalf("the body after Peek reads %q, want it unread", rest)
			}
		})
	}
}
